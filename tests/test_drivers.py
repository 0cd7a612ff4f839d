"""Drivers that can act (MODEL.md §10.5): warnings for configured drivers that cannot act."""

from __future__ import annotations

from pathlib import Path

import simval

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------
# inert-parameter warnings (simval.config.inert, via Config.warnings)

BASE = """
[company]
name = "Inert"
currency = "USD"
as_of = 2026-01-01
valuation = 1e9

[simulation]
horizon_years = 3
steps_per_year = 4
discount_rate = 0.1

[commercial]
revenue = 1e8
growth = 0.2
growth_long_run = 0.2
mean_reversion = 0.5

[costs]
variable_cost_ratio = 0.5
fixed_costs = 0.0
cash = 1e8

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 10
"""

TWO_CONTRACTS = """
[renewals]
correlation = 0.5

[contracts.a]
revenue = 1e7
term_years = 2
first_renewal = 2026-06-30
renewal_probability = 0.8

[contracts.b]
revenue = 1e7
term_years = 2
first_renewal = {second}
renewal_probability = 0.8
"""


def warnings_of(extra: str = "", scenarios: str = "") -> list[str]:
    return simval.parse_config(BASE + extra + scenarios).warnings()


def test_no_warning_on_the_base():
    assert warnings_of() == []


def test_growth_long_run_without_mean_reversion():
    text = BASE.replace("growth_long_run = 0.2", "growth_long_run = 0.1")
    assert simval.parse_config(text).warnings() == []  # it acts, at speed 0.5
    inert = simval.parse_config(text.replace("mean_reversion = 0.5", "mean_reversion = 0.0"))
    (message,) = [w for w in inert.warnings() if "growth_long_run" in w]
    assert "commercial.growth_long_run (0.1) does nothing" in message
    # growth = growth_long_run: nothing to revert to, nothing said
    assert warnings_of().count("growth_long_run") == 0
    assert simval.parse_config(BASE.replace("mean_reversion = 0.5",
                                            "mean_reversion = 0.0")).warnings() == []


def test_renewal_correlation_that_cannot_act():
    apart = TWO_CONTRACTS.format(second="2026-12-31")  # half a year apart, 2-year terms
    (message,) = warnings_of(apart)
    assert "renewals.correlation (0.5) does nothing" in message
    assert warnings_of(TWO_CONTRACTS.format(second="2026-07-15")) == []  # the same step
    # a budget factor correlates renewals across dates
    assert warnings_of(apart.replace("correlation = 0.5",
                                     "correlation = 0.5\nbudget_weight = 0.3")) == []
    # b replaced after half a year can come up at 1 + 3 x 2.5 = 8.5 years, as a does
    replaced = apart + "replacement_probability = 0.5\nreplacement_delay_years = 0.5\n"
    assert warnings_of(replaced) == []
    # one scenario only
    scenarios = "\n[scenarios.base]\n[scenarios.together]\ncontracts.b.first_renewal = " \
                "2026-07-15\n"
    (message,) = warnings_of(apart, scenarios)
    assert "scenario 'base': renewals.correlation" in message


def test_slowdown_overrides_with_the_regime_off():
    extra = "\n[slowdown.commercial]\ngrowth_long_run = 0.0\n"
    (message,) = warnings_of(extra)
    assert "slowdown.commercial.growth_long_run do nothing" in message
    on = "\n[regime]\nenabled = true\nhazard_normal_to_slowdown = 0.2\n"
    assert warnings_of(extra + on) == []
    assert warnings_of(extra + '\n[regime]\ninitial = "slowdown"\n') == []
    never = "\n[regime]\nenabled = true\nhazard_normal_to_slowdown = 0.0\n"
    assert len(warnings_of(extra + never)) == 1


def test_first_scenario_not_base():
    (message,) = warnings_of(scenarios="\n[scenarios.low]\ncommercial.growth = 0.1\n")
    assert "there is no [scenarios.base]" in message


def test_no_shipped_config_warns():
    for path in sorted((ROOT / "configs").glob("*.toml")):
        assert simval.load_config(path).warnings() == [], path.name
