"""Drivers that can act (MODEL.md §10.5): on the shipped Zhipu config the market-size cap and
the renewals' budget factor move the results; warnings for configured drivers that cannot act."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import simval
from simval.config.override import override

ROOT = Path(__file__).resolve().parents[1]
ZHIPU = ROOT / "configs" / "zhipu_2026.toml"
N = 4000


def _base(config: simval.Config, max_share: float):
    moved = override(config, {"market_size.max_share": max_share})
    return simval.simulate(moved, n_paths=N, keep_paths=N, scenarios=["base"]).sel(
        scenario="base")


def test_max_share_moves_the_zhipu_results():
    """max_share 0.05 and 0.30 (common random numbers): the paired differences of the
    market value's minimum and of the company's own collapse are beyond 5 standard errors, and
    E[PV]/V0 differs by more than 5 of its (unpaired) standard errors."""
    config = simval.load_config(ZHIPU)
    assert config.base["market_size"]["cap_contracts"]
    low, high = _base(config, 0.05), _base(config, 0.30)
    d = low.path_min_value.values - high.path_min_value.values
    assert abs(d.mean()) > 5 * d.std(ddof=1) / np.sqrt(N)
    # the company's own collapse (the market's is all but certain either way)
    c = (low.path_fundamental_collapse_time.notnull().values.astype(float)
         - high.path_fundamental_collapse_time.notnull().values)
    assert abs(c.mean()) > 5 * c.std(ddof=1) / np.sqrt(N)
    se = np.hypot(float(low.value_ratio_se), float(high.value_ratio_se))
    assert abs(float(low.value_ratio) - float(high.value_ratio)) > 5 * se
    # the cap binds on total revenue, contracts included: the share never exceeds it
    assert np.nanmax(low.path_market_share.values) <= 0.05 * (1 + 1e-12)


def test_budget_factor_moves_the_zhipu_renewals():
    """The shipped Zhipu config's named contracts renew on different dates; its budget factor
    correlates them, so losses cluster: with budget_weight 0.3 instead of 0 (common random
    numbers) the number of contracts lost spreads out (its variance grows by more than half)
    and P(at least two lost) moves by more than 5 paired standard errors."""
    config = simval.load_config(ZHIPU)
    assert config.base["renewals"]["budget_weight"] > 0.0
    lost = {}
    for w in (0.0, 0.3):
        moved = override(config, {"renewals.budget_weight": w})
        ds = simval.simulate(moved, n_paths=N, keep_paths=N, scenarios=["base"])
        lost[w] = ds.sel(scenario="base").path_contracts_lost.values
    assert lost[0.3].var() > 1.5 * lost[0.0].var()
    d = (lost[0.3] >= 2).astype(float) - (lost[0.0] >= 2)
    assert abs(d.mean()) > 5 * d.std(ddof=1) / np.sqrt(N)


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


def test_a_cap_that_binds_on_no_path_is_warned_about_by_the_run():
    """The run counts the paths on which the market-size cap binds (cap_binding_share); a
    cap no path reaches is a run warning, the shipped Zhipu cap is not."""
    config = simval.load_config(ZHIPU).select(["base"])
    shipped = simval.simulate(config, n_paths=2000, keep_paths=0)
    assert float(shipped.cap_binding_share.sel(scenario="base")) > 0.0
    assert "run_warnings" not in shipped.attrs
    loose = simval.simulate(override(config, {"market_size.max_share": 0.99}), n_paths=2000,
                            keep_paths=0)
    assert float(loose.cap_binding_share.sel(scenario="base")) == 0.0
    assert "binds on none of the 2,000 paths of scenario 'base'" in loose.attrs["run_warnings"]


def test_recovery_with_the_value_model_is_warned_about():
    """W values a bankrupt path at 0; with a recovery its PV does not: the config warns."""
    text = BASE + '''
[market]
model = "value"
enabled = true
gap_half_life_years = 2.0

[bankruptcy]
recovery = 0.5
'''
    warnings = simval.parse_config(text).warnings()
    assert any("bankruptcy.recovery (0.5) is not in the value model's W" in w for w in warnings)
