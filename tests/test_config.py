"""Config validation: :mod:`simval.config.load` checked against :mod:`simval.config.schema`.

Every rule of the loader gets at least one failing example, and every example checks that the
message names the source, the offending key and (where the rule has them) the expected and the
given value. No simulation is run.
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from simval.config.load import Config, ConfigError, load_config, parse_config
from simval.config.schema import CONTRACT_FIELDS, REQUIRED, SCHEMA, Field
from simval.config.toml import to_toml

SOURCE = "fixture.toml"
CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.toml"))

MINIMAL = """\
[company]
name = "Test Co"
currency = "USD"
as_of = 2025-06-30
valuation = 1e9

[simulation]
horizon_years = 2.0
measure = "real_world"
discount_rate = 0.12

[commercial]
revenue = 1e8
growth = 0.3
growth_long_run = 0.05

[costs]
variable_cost_ratio = 0.5
fixed_costs = 5e7
cash = 2e8

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 8.0   # required by terminal_method = "ev_sales"
"""

CONTRACT = {
    "revenue": 1e7,
    "term_years": 1.0,
    "first_renewal": dt.date(2026, 1, 1),
    "renewal_probability": 0.8,
}
ACME = {"contracts.acme": CONTRACT}
EXPANSION_ON = {"expansion.enabled": True, "expansion.pool_size": 10,
                "expansion.revenue_median": 1e6}
POINTS = [[2024, 1e9], [2027, 2e9]]
DELETE = object()  # a value in `changes` that removes the key


@pytest.fixture
def minimal_text() -> str:
    return MINIMAL


# --------------------------------------------------------------------------------------------
# helpers: apply changes to the minimal config and collect the ConfigError


def modified(changes: dict[str | tuple[str, ...], Any] | None = None) -> str:
    """The minimal config with ``changes`` ({"section.key": value or DELETE}) applied."""
    data = tomllib.loads(MINIMAL)
    for key, value in (changes or {}).items():
        path = key if isinstance(key, tuple) else tuple(key.split("."))
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = copy.deepcopy(value)
    return to_toml(data)


def load(changes: dict[str | tuple[str, ...], Any] | None = None) -> Config:
    return parse_config(modified(changes), source=SOURCE)


def config_error(changes: dict[str | tuple[str, ...], Any]) -> ConfigError:
    """The ConfigError raised by the minimal config with ``changes`` applied."""
    with pytest.raises(ConfigError) as info:
        load(changes)
    return info.value


def problem(err: ConfigError, *fragments: str, source: str = SOURCE) -> str:
    """The one problem of ``err`` containing every fragment; it must name ``source``."""
    matches = [p for p in err.problems if all(f in p for f in fragments)]
    assert len(matches) == 1, f"expected one problem with {fragments!r}, got:\n{err}"
    assert matches[0].startswith(f"{source}: "), matches[0]
    assert "\n" not in matches[0]
    return matches[0]


def acme(**contract: Any) -> dict[str, Any]:
    """Changes adding contract ``acme`` with ``contract`` overriding CONTRACT."""
    return {"contracts.acme": {**CONTRACT, **contract}}


def _all_fields() -> list[tuple[tuple[str, ...], str, Field]]:
    out = [((section,), key, f) for section, fields in SCHEMA.items() for key, f in fields.items()]
    out += [(("contracts", "acme"), key, f) for key, f in CONTRACT_FIELDS.items()]
    return out


def _label(path: tuple[str, ...], key: str) -> str:
    return "[" + ".".join(path) + "]." + key


def _changes_setting(path: tuple[str, ...], key: str, value: Any) -> dict[str, Any]:
    changes: dict[str, Any] = dict(ACME) if path[0] == "contracts" else {}
    changes[".".join((*path, key))] = value
    return changes


def _flatten(d: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if not isinstance(d, dict):
        return {prefix: d}
    out: dict[tuple[str, ...], Any] = {}
    for k, v in d.items():
        out.update(_flatten(v, (*prefix, k)))
    return out


# --------------------------------------------------------------------------------------------
# the helpers themselves


def test_minimal_fixture_round_trips_and_loads(minimal_text: str) -> None:
    assert tomllib.loads(modified()) == tomllib.loads(minimal_text)
    config = parse_config(minimal_text, source=SOURCE)
    assert list(config.scenarios) == ["base"]
    assert config.source == SOURCE
    assert config.text == minimal_text


# --------------------------------------------------------------------------------------------
# unknown names


@pytest.mark.parametrize(("changes", "fragments"), [
    pytest.param({"bogus.x": 1}, ("[bogus] is not a known section.", "Known sections: ",
                                  "company", "scenarios"), id="section"),
    pytest.param({"bogus": 1}, ("[bogus] is not a known section.",), id="top-level-key"),
    pytest.param({"company.nme": "x"}, ("[company].nme is not a known key.",
                                        "Known keys: name, currency, as_of, valuation, net_debt, "
                                        "shares_outstanding, option_overhang, "
                                        "reporting_currency, reporting_fx_rate."),
                 id="key-in-section"),
    pytest.param({**ACME, "contracts.acme.revnue": 1.0},
                 ("[contracts.acme].revnue is not a known key.", "Known keys: revenue, "),
                 id="key-in-contract"),
    pytest.param({"scenarios.base": {}, "scenarios.alt.commercial.grwth": 0.1},
                 ("[scenarios.alt.commercial].grwth is not a known key.", "growth_long_run"),
                 id="key-in-scenario"),
    pytest.param({"scenarios.alt.bogus.x": 1}, ("[scenarios.alt.bogus] is not a known section.",),
                 id="section-in-scenario"),
    pytest.param({**ACME, "scenarios.alt.contracts.acme.revnue": 1.0},
                 ("[scenarios.alt.contracts.acme].revnue is not a known key.",),
                 id="key-in-scenario-contract"),
    pytest.param({("contracts", "bad-name"): CONTRACT},
                 ("contract name 'bad-name' must be a letter or _ followed by letters, "
                  "digits or _.",),
                 id="contract-name"),
])
def test_unknown_names_are_rejected(changes: dict[str, Any], fragments: tuple[str, ...]) -> None:
    problem(config_error(changes), *fragments)


# --------------------------------------------------------------------------------------------
# wrong types


@pytest.mark.parametrize(("key", "value", "expected"), [
    pytest.param("simulation.discount_rate", "0.1", "a number in the range [0, 1]",
                 id="float-given-string"),
    pytest.param("commercial.growth", True, "a number in the range [-5, 5]", id="float-given-bool"),
    pytest.param("commercial.volatility", float("nan"), "a number in the range [0, 5]",
                 id="float-given-nan"),
    pytest.param("company.net_debt", float("inf"), "a number", id="float-given-inf"),
    pytest.param("simulation.steps_per_year", 4.0, "an integer in the range [1, 365]",
                 id="int-given-float"),
    pytest.param("simulation.n_paths", True, "an integer in the range [1, ", id="int-given-bool"),
    pytest.param("expansion.pool_size", "10", "an integer in the range [0, 2000]",
                 id="int-given-string"),
    pytest.param("regime.enabled", 1, "a boolean (true or false)", id="bool-given-int"),
    pytest.param("valuation.limited_liability", "true", "a boolean (true or false)",
                 id="bool-given-string"),
    pytest.param("simulation.measure", "risk-neutral", "one of 'real_world', 'risk_neutral'",
                 id="choice-given-bad-string"),
    pytest.param("valuation.terminal_method", "EV_SALES",
                 "one of 'ev_sales', 'ev_ebitda', 'gordon'", id="choice-is-case-sensitive"),
    pytest.param("regime.initial", [1], "one of 'normal', 'slowdown'", id="choice-given-list"),
    pytest.param("simulation.revenue_timing", 1, "one of 'start', 'end'", id="choice-given-int"),
    pytest.param("company.as_of", "2025-13-01", "a date (YYYY-MM-DD)", id="date-given-bad-string"),
    pytest.param("company.as_of", 2025, "a date (YYYY-MM-DD)", id="date-given-int"),
    pytest.param("company.name", "  ", "a string", id="str-given-blank"),
    pytest.param("company.currency", 840, "a string", id="str-given-int"),
])
def test_wrong_type_is_rejected(key: str, value: Any, expected: str) -> None:
    section, name = key.split(".")
    problem(config_error({key: value}), f"[{section}].{name} must be {expected}",
            f"Got {value!r} instead.")


def test_wrong_type_in_contract_is_rejected() -> None:
    problem(config_error(acme(first_renewal="soon")),
            "[contracts.acme].first_renewal must be a date (YYYY-MM-DD).", "Got 'soon' instead.")


@pytest.mark.parametrize("value", [
    pytest.param("2024:1e9", id="string"),
    pytest.param([2024, 2027], id="flat-list"),
    pytest.param([[2024, 1e9]], id="one-pair"),
    pytest.param([], id="empty"),
    pytest.param([[2027, 1e9], [2024, 2e9]], id="decreasing-years"),
    pytest.param([[2024, 1e9], [2024, 2e9]], id="repeated-year"),
    pytest.param([[2024, 0.0], [2027, 2e9]], id="zero-value"),
    pytest.param([[2024, -1e9], [2027, 2e9]], id="negative-value"),
    pytest.param([[2024, 1e9, 3], [2027, 2e9]], id="triple"),
    pytest.param([[2024, "1e9"], [2027, 2e9]], id="string-value"),
    pytest.param([[2024, True], [2027, 2e9]], id="bool-value"),
    pytest.param([[2024, float("inf")], [2027, 2e9]], id="infinite-value"),
])
def test_malformed_points_are_rejected(value: Any) -> None:
    problem(config_error({"market_size.points": value}),
            "[market_size].points must be a list of at least two [year, value] pairs with "
            "increasing years and values > 0.", f"Got {value!r} instead.")


@pytest.mark.parametrize(("path", "key", "field"), [
    pytest.param(path, key, f, id=_label(path, key)) for path, key, f in _all_fields()
])
def test_every_key_rejects_a_value_of_the_wrong_type(path: tuple[str, ...], key: str,
                                                     field: Field) -> None:
    # a list of booleans is valid for no kind of key
    err = config_error(_changes_setting(path, key, [True]))
    problem(err, f"{_label(path, key)} must be {field.expectation()}.", "Got [True] instead.")


@pytest.mark.parametrize(("changes", "fragments"), [
    pytest.param({"company": 3}, ("[company] must be a table.", "Got 3 instead."), id="section"),
    pytest.param({"contracts.acme": 3}, ("[contracts.acme] must be a table.", "Got 3 instead."),
                 id="contract"),
    pytest.param({"contracts": 3}, ("[contracts] must be a table of named contract tables.",),
                 id="contracts"),
])
def test_scalar_where_a_table_belongs_is_rejected(changes: dict[str, Any],
                                                  fragments: tuple[str, ...]) -> None:
    problem(config_error(changes), *fragments)


# --------------------------------------------------------------------------------------------
# out of range


@pytest.mark.parametrize(("key", "value", "expected"), [
    pytest.param("contracts.acme.renewal_probability", 1.3, "a number in the range [0, 1]",
                 id="renewal_probability-1.3"),
    pytest.param("contracts.acme.revenue", 0.0, "a number in the range (0, inf)",
                 id="contract-revenue-0"),
    pytest.param("simulation.horizon_years", -1.0, "a number in the range (0, 100]",
                 id="negative-horizon"),
    pytest.param("simulation.horizon_years", 0, "a number in the range (0, 100]",
                 id="zero-horizon"),
    pytest.param("simulation.horizon_years", 100.5, "a number in the range (0, 100]",
                 id="long-horizon"),
    pytest.param("simulation.steps_per_year", 0, "an integer in the range [1, 365]",
                 id="steps_per_year-0"),
    pytest.param("simulation.steps_per_year", 366, "an integer in the range [1, 365]",
                 id="steps_per_year-366"),
    pytest.param("simulation.n_paths", 0, "an integer in the range [1, ", id="n_paths-0"),
    pytest.param("simulation.seed", -1, "an integer in the range [0, ", id="seed-negative"),
    pytest.param("simulation.discount_rate", 1.5, "a number in the range [0, 1]",
                 id="discount_rate-1.5"),
    pytest.param("company.valuation", 0.0, "a number in the range (0, inf)", id="valuation-0"),
    pytest.param("renewals.correlation", 1.0, "a number in the range [0, 1)",
                 id="copula-correlation-1"),
    pytest.param("commercial.correlation", -1.5, "a number in the range [-1, 1]",
                 id="correlation--1.5"),
    pytest.param("market.collapse_drawdown", 1.0, "a number in the range (0, 1)",
                 id="collapse_drawdown-1"),
    pytest.param("chips.haircut_low", -0.1, "a number in the range [0, 1)", id="haircut-negative"),
    pytest.param("costs.risk_free_rate", -0.2, "a number in the range [-0.1, 1]",
                 id="risk_free_rate--0.2"),
    pytest.param("expansion.pool_size", 2001, "an integer in the range [0, 2000]",
                 id="pool_size-4001"),
    pytest.param("regime.hazard_normal_to_slowdown", -0.5, "a number in the range [0, inf)",
                 id="negative-hazard"),
])
def test_out_of_range_is_rejected(key: str, value: Any, expected: str) -> None:
    changes = dict(ACME) if key.startswith("contracts.") else {}
    changes[key] = value
    *path, name = key.split(".")
    problem(config_error(changes), f"{_label(tuple(path), name)} must be {expected}",
            f"Got {value!r} instead.")


def test_renewal_probability_message_in_full() -> None:
    err = config_error(acme(renewal_probability=1.3))
    assert err.problems == [f"{SOURCE}: [contracts.acme].renewal_probability must be a number "
                            "in the range [0, 1]. Got 1.3 instead."]


def _outside(field: Field) -> list[tuple[str, Any]]:
    cast = int if field.kind == "int" else float
    out = []
    if field.low is not None:
        out.append(("low", cast(field.low if field.low_open else field.low - 1)))
    if field.high is not None:
        out.append(("high", cast(field.high if field.high_open else field.high + 1)))
    return out


@pytest.mark.parametrize(("path", "key", "field", "value"), [
    pytest.param(path, key, f, value, id=f"{_label(path, key)}-{side}")
    for path, key, f in _all_fields() for side, value in _outside(f)
])
def test_every_bound_is_enforced(path: tuple[str, ...], key: str, field: Field,
                                 value: Any) -> None:
    err = config_error(_changes_setting(path, key, value))
    problem(err, f"{_label(path, key)} must be {field.expectation()}.", f"Got {value!r} instead.")


def test_range_message_shows_the_exact_integer_bound() -> None:
    # "[1, 2.14748e+09]. Got 2147483648" reads as if the value were inside the range.
    problem(config_error({"simulation.n_paths": 2**31}), "[simulation].n_paths",
            "[1, 2147483647]", "Got 2147483648 instead.")


# --------------------------------------------------------------------------------------------
# required keys


REQUIRED_KEYS = [
    ((section,), key, f) for section, fields in SCHEMA.items() for key, f in fields.items()
    if f.default is REQUIRED
] + [(("contracts", "acme"), key, f) for key, f in CONTRACT_FIELDS.items() if f.default is REQUIRED]


@pytest.mark.parametrize(("path", "key", "field"), [
    pytest.param(path, key, f, id=_label(path, key)) for path, key, f in REQUIRED_KEYS
])
def test_every_required_key_is_required(path: tuple[str, ...], key: str, field: Field) -> None:
    changes = _changes_setting(path, key, DELETE)
    assert key in (CONTRACT if path[0] == "contracts" else tomllib.loads(MINIMAL)[path[0]])
    err = config_error(changes)
    assert err.problems == [f"{SOURCE}: {_label(path, key)} is required: {field.expectation()}."]


def test_required_keys_are_the_documented_ones() -> None:
    assert {_label(path, key) for path, key, _ in REQUIRED_KEYS} == {
        "[company].name", "[company].currency", "[company].as_of", "[company].valuation",
        "[simulation].horizon_years",
        "[commercial].revenue", "[commercial].growth", "[commercial].growth_long_run",
        "[costs].variable_cost_ratio", "[costs].fixed_costs", "[costs].cash",
        "[contracts.acme].revenue", "[contracts.acme].term_years",
        "[contracts.acme].first_renewal", "[contracts.acme].renewal_probability",
    }


def test_missing_section_reports_each_required_key() -> None:
    err = config_error({"costs": DELETE})
    assert len(err.problems) == 3
    for key in ("variable_cost_ratio", "fixed_costs", "cash"):
        problem(err, f"[costs].{key} is required: a number")


# --------------------------------------------------------------------------------------------
# cross-checks (_cross_checks)


@pytest.mark.parametrize(("changes", "fragments"), [
    pytest.param({"simulation.horizon_years": 2.1},
                 ("[simulation].horizon_years must be a whole number of steps (multiples of 0.25 "
                  "years).", "Got 2.1 instead."), id="horizon-not-whole-steps"),
    pytest.param({"simulation.steps_per_year": 12, "simulation.horizon_years": 1.05},
                 ("[simulation].horizon_years must be a whole number of steps (multiples of "
                  "0.0833333 years).", "Got 1.05 instead."), id="horizon-not-whole-months"),
    pytest.param({"simulation.steps_per_year": 365, "simulation.horizon_years": 100.0},
                 ("[simulation].horizon_years must be at most 16383 steps long.",
                  "Got 100.0 instead."), id="horizon-too-many-steps"),
    pytest.param({"simulation.n_paths": 10},
                 ("[simulation].keep_paths must be at most n_paths (10).", "Got 200 instead."),
                 id="default-keep_paths-above-n_paths"),
    pytest.param({"simulation.n_paths": 10, "simulation.keep_paths": 11},
                 ("[simulation].keep_paths must be at most n_paths (10).", "Got 11 instead."),
                 id="keep_paths-above-n_paths"),
    pytest.param({"simulation.discount_rate": DELETE},
                 ("[simulation].discount_rate is required when measure = 'real_world'",),
                 id="real_world-without-discount_rate"),
    pytest.param({"simulation.measure": DELETE, "simulation.discount_rate": DELETE},
                 ("[simulation].discount_rate is required when measure = 'real_world'",),
                 id="default-measure-without-discount_rate"),
    pytest.param({"commercial.price_of_revenue_risk": 0.2},
                 ("[commercial].price_of_revenue_risk must be 0 when measure = 'real_world'",
                  "Got 0.2 instead."), id="real_world-with-price_of_revenue_risk"),
    pytest.param({"commercial.price_of_growth_risk": -0.1},
                 ("[commercial].price_of_growth_risk must be 0 when measure = 'real_world'",
                  "Got -0.1 instead."), id="real_world-with-price_of_growth_risk"),
    pytest.param({"simulation.measure": "risk_neutral"},
                 ("[simulation].discount_rate must not be set when measure = 'risk_neutral'",
                  "Got 0.12."), id="risk_neutral-with-discount_rate"),
    pytest.param(acme(term_years=1.1),
                 ("[contracts.acme].term_years must be a whole number of steps (multiples of "
                  "0.25 years).", "Got 1.1 instead."), id="term_years-not-whole-steps"),
    pytest.param(acme(replacement_delay_years=0.3),
                 ("[contracts.acme].replacement_delay_years must be a whole number of steps",
                  "Got 0.3 instead."), id="replacement_delay-not-whole-steps"),
    pytest.param(acme(first_renewal=dt.date(2025, 6, 30)),
                 ("[contracts.acme].first_renewal must be a date after company.as_of "
                  "(2025-06-30).", "Got 2025-06-30 instead."), id="first_renewal-on-as_of"),
    pytest.param(acme(first_renewal=dt.date(2024, 12, 31)),
                 ("[contracts.acme].first_renewal must be a date after company.as_of "
                  "(2025-06-30).", "Got 2024-12-31 instead."), id="first_renewal-before-as_of"),
    pytest.param({**EXPANSION_ON, "expansion.pool_size": 0},
                 ("[expansion].pool_size must be at least 1 when enabled.", "Got 0 instead."),
                 id="expansion-pool_size-0"),
    pytest.param({**EXPANSION_ON, "expansion.revenue_median": 0.0},
                 ("[expansion].revenue_median must be > 0 when enabled.", "Got 0.0 instead."),
                 id="expansion-revenue_median-0"),
    pytest.param({**EXPANSION_ON, "expansion.term_years": 1.1},
                 ("[expansion].term_years must be a whole number of steps", "Got 1.1 instead."),
                 id="expansion-term_years-not-whole-steps"),
    pytest.param({**EXPANSION_ON, "expansion.replacement_delay_years": 0.6},
                 ("[expansion].replacement_delay_years must be a whole number of steps",
                  "Got 0.6 instead."), id="expansion-replacement_delay-not-whole-steps"),
    pytest.param({f"contracts.c{i}": CONTRACT for i in range(2049)},
                 ("[contracts] must hold at most 2048 contracts.", "Got 2049 instead."),
                 id="too-many-named-contracts"),
    pytest.param({"chips.enabled": True, "chips.haircut_low": 0.3, "chips.haircut_high": 0.2},
                 ("[chips].haircut_high must be >= haircut_low (0.3).", "Got 0.2 instead."),
                 id="uniform-haircut_high-below-low"),
    pytest.param({"chips.enabled": True, "chips.shock_rate": 9.0},
                 ("[chips].shock_rate must be at most 8 per year (2 expected events per step).",
                  "Got 9.0 instead."), id="shock_rate-too-high"),
    pytest.param({"chips.enabled": True, "simulation.steps_per_year": 12, "chips.shock_rate": 25.0},
                 ("[chips].shock_rate must be at most 24 per year", "Got 25.0 instead."),
                 id="shock_rate-too-high-monthly"),
    pytest.param({"chips.enabled": True, "slowdown.chips.shock_rate": 9.0},
                 ("[slowdown.chips].shock_rate must be at most 8 per year (2 expected events per "
                  "step).", "Got 9.0 instead."), id="shock_rate-too-high-in-slowdown-only"),
    pytest.param({"expansion.enabled": True, "expansion.pool_size": 3,
                  "expansion.revenue_median": 1e6, "expansion.win_rate": 9.0},
                 ("[expansion].win_rate must be at most 8 per year", "Got 9.0 instead."),
                 id="win_rate-too-high"),
    pytest.param({"expansion.enabled": True, "expansion.pool_size": 3,
                  "expansion.revenue_median": 1e6, "slowdown.expansion.win_rate": 9.0},
                 ("[slowdown.expansion].win_rate must be at most 8 per year", "Got 9.0 instead."),
                 id="win_rate-too-high-in-slowdown-only"),
    pytest.param({"market_size.enabled": True},
                 ("[market_size].points is required when market_size.enabled = true.",),
                 id="market_size-without-points"),
    pytest.param({"market_size.enabled": True, "market_size.points": POINTS,
                  "market_size.currency": "EUR"},
                 ("[market_size].fx_rate is required: the points are in EUR, the config in USD.",),
                 id="market_size-currency-without-fx_rate"),
    pytest.param({"valuation.exit_multiple_median": DELETE},
                 ("[valuation].exit_multiple_median (or exit_multiple_mean) is required with "
                  "terminal_method = 'ev_sales'.",), id="ev_sales-without-exit_multiple"),
    pytest.param({"valuation.exit_multiple_median": DELETE,
                  "valuation.terminal_method": "ev_ebitda"},
                 ("[valuation].exit_multiple_median (or exit_multiple_mean) is required with "
                  "terminal_method = 'ev_ebitda'.",), id="ev_ebitda-without-exit_multiple"),
    pytest.param({"valuation.terminal_method": "gordon"},
                 ("[valuation].terminal_growth is required with terminal_method = 'gordon'.",),
                 id="gordon-without-terminal_growth"),
    pytest.param({"valuation.terminal_method": "gordon", "valuation.terminal_growth": 0.2},
                 ("[valuation].terminal_growth must be below the discount rate (e^r - 1 = "
                  "0.1275 in annual terms)", "Got 0.2 instead."),
                 id="gordon-growth-above-discount"),
    pytest.param({"valuation.terminal_method": "gordon", "valuation.terminal_growth": 0.13},
                 ("[valuation].terminal_growth must be below the discount rate",
                  "Got 0.13 instead."), id="gordon-growth-just-above-e^r-1"),
    pytest.param({"simulation.measure": "risk_neutral", "simulation.discount_rate": DELETE,
                  "costs.risk_free_rate": 0.03, "valuation.terminal_method": "gordon",
                  "valuation.terminal_growth": 0.04},
                 ("[valuation].terminal_growth must be below the discount rate (e^r - 1 = "
                  "0.03045 in annual terms)", "Got 0.04 instead."),
                 id="gordon-risk_neutral-growth-above-rf"),
    # ---- valuation v2 (issue 10): each a clear error naming the key, expected and given
    pytest.param({"valuation.terminal_method": "value_driver", "valuation.terminal_growth": 0.13,
                  "valuation.return_on_capital": 0.2},
                 ("[valuation].terminal_growth must be below the discount rate (e^r - 1 = "
                  "0.1275 in annual terms)", "Got 0.13 instead."),
                 id="value_driver-growth-at-or-above-discount"),
    pytest.param({"valuation.terminal_method": "value_driver"},
                 ("[valuation].terminal_growth is required with terminal_method = "
                  "'value_driver' (the default).",
                  ), id="value_driver-without-growth"),
    pytest.param({"valuation.terminal_method": "value_driver", "valuation.terminal_growth": 0.03,
                  "valuation.return_on_capital": 0.02},
                 ("[valuation].return_on_capital must be above terminal_growth (0.03)",
                  "Got 0.02 instead."), id="value_driver-roic-below-growth"),
    pytest.param({"costs.target_operating_margin": 1.2, "costs.margin_convergence": 0.3},
                 ("[costs].target_operating_margin must be a number in the range (-inf, 1).",
                  "Got 1.2 instead."), id="target-margin-above-100%"),
    pytest.param({"costs.target_operating_margin": 0.6, "costs.margin_convergence": 0.3},
                 ("[costs].target_operating_margin must be at most 1 - variable_cost_ratio",
                  "(= 0.5)", "Got 0.6 instead."), id="target-margin-unreachable"),
    pytest.param({"costs.target_operating_margin": 0.3},
                 ("[costs].margin_convergence is required with target_operating_margin",),
                 id="target-margin-without-speed"),
    pytest.param({"costs.sales_to_capital": -2.0},
                 ("[costs].sales_to_capital must be a number in the range (0, inf).",
                  "Got -2.0 instead."), id="negative-sales-to-capital"),
    pytest.param({"costs.sbc_ratio": 0.1, "costs.sbc_treatment": ["expense", "dilution"]},
                 ("[costs].sbc_treatment must be one of 'expense', 'dilution' (exactly one of "
                  "them, never several).", "Got ['expense', 'dilution'] instead."),
                 id="sbc-both-ways"),
    pytest.param({"costs.sbc_ratio": 0.1},
                 ("[costs].sbc_treatment is required when sbc_ratio > 0",
                  "never both, never neither"), id="sbc-neither-way"),
    pytest.param({"simulation.valuation_horizon_years": 1.0},
                 ("[simulation].valuation_horizon_years must be at least horizon_years (2)",
                  "Got 1.0 instead."), id="valuation-horizon-before-question"),
    pytest.param({"valuation.exit_multiple_mean": 9.0},
                 ("[valuation].exit_multiple_mean and exit_multiple_median both set",),
                 id="exit-mean-and-median"),
    pytest.param({"valuation.terminal_method": "ev_ebitda",
                  "valuation.contract_exit_multiple": 3.0},
                 ("[valuation].contract_exit_multiple applies to terminal_method = 'ev_sales' "
                  "only",), id="contract-exit-multiple-with-ev_ebitda"),
    pytest.param({"company.reporting_currency": "USD"},
                 ("[company].reporting_fx_rate is required with reporting_currency",),
                 id="reporting-currency-without-rate"),
    pytest.param({"market.enabled": True},
                 ("[market].long_run_multiple is required when market.enabled = true (model = "
                  "multiple).",),
                 id="market-without-long_run_multiple"),
    pytest.param({"market.enabled": True, "market.model": "value"},
                 ("[market].gap_half_life_years is required when market.enabled = true (model "
                  "= value).",),
                 id="value-market-without-gap-half-life"),
    pytest.param({"financing.enabled": True},
                 ("[financing].amount must be > 0 when financing.enabled = true.",
                  "Got 0.0 instead."), id="financing-amount-0"),
])
def test_cross_check_is_enforced(changes: dict[str, Any], fragments: tuple[str, ...]) -> None:
    problem(config_error(changes), *fragments)


@pytest.mark.parametrize(("section", "key"), [("chips", "shock_rate"), ("expansion", "win_rate")])
def test_rate_too_high_in_the_normal_regime_is_reported_once(section: str, key: str) -> None:
    # The file has no [slowdown.<section>]; the slowdown value merely inherits the normal one,
    # so the problem must not be reported a second time under a table the file does not have.
    enable = ({"chips.enabled": True} if section == "chips" else
              {"expansion.enabled": True, "expansion.pool_size": 3,
               "expansion.revenue_median": 1e6})
    err = config_error({**enable, f"{section}.{key}": 9.0})
    assert err.problems == [f"{SOURCE}: [{section}].{key} must be at most 8 per year "
                            "(2 expected events per step). Got 9.0 instead."]


# --------------------------------------------------------------------------------------------
# [slowdown]


@pytest.mark.parametrize(("changes", "fragments"), [
    pytest.param({"slowdown.commercial.growth": 0.1},
                 ("[slowdown.commercial].growth is not a known key.",
                  "Known keys: growth_long_run."), id="non-per-regime-key"),
    pytest.param({"slowdown.costs.fixed_costs": 1.0},
                 ("[slowdown.costs] cannot differ in the slowdown regime.",
                  "Sections that can: commercial, renewals, expansion, chips, financing, market, "
                  "contracts."), id="non-per-regime-section"),
    pytest.param({**ACME, "slowdown.contracts.acme.revenue": 1.0},
                 ("[slowdown.contracts.acme].revenue is not a known key.",
                  "Known keys: renewal_probability, price_change_median."),
                 id="non-per-regime-contract-key"),
    pytest.param({"slowdown.contracts.ghost.renewal_probability": 0.5},
                 ("[slowdown.contracts.ghost] names no contract in [contracts].",),
                 id="unknown-contract"),
    pytest.param({**ACME, "slowdown.contracts.acme.renewal_probability": 1.3},
                 ("[slowdown.contracts.acme].renewal_probability must be a number in the range "
                  "[0, 1].", "Got 1.3 instead."), id="contract-out-of-range"),
    pytest.param({"slowdown.market.volatility": "high"},
                 ("[slowdown.market].volatility must be a number in the range [0, 5].",
                  "Got 'high' instead."), id="wrong-type"),
    pytest.param({"slowdown": 3}, ("[slowdown] must be a table.", "Got 3 instead."),
                 id="not-a-table"),
    pytest.param({"slowdown.contracts": 3},
                 ("[slowdown.contracts] must be a table of contract tables.",),
                 id="contracts-not-a-table"),
])
def test_slowdown_overrides_are_checked(changes: dict[str, Any],
                                        fragments: tuple[str, ...]) -> None:
    problem(config_error(changes), *fragments)


# --------------------------------------------------------------------------------------------
# [scenarios] structure, TOML syntax, unreadable files


@pytest.mark.parametrize(("changes", "fragments"), [
    pytest.param({("scenarios", "bad-name"): {}},
                 ("scenario name 'bad-name' must be a letter or _ followed by letters, digits "
                  "or _.",), id="bad-name-dash"),
    pytest.param({("scenarios", "1st"): {"commercial": {"growth": 0.5}}},
                 ("scenario name '1st' must be",), id="bad-name-digit"),
    pytest.param({"scenarios.base": 3}, ("[scenarios.base] must be a table.", "Got 3 instead."),
                 id="scenario-not-a-table"),
    pytest.param({"scenarios": {}},
                 ("[scenarios] must be a table of at least one scenario table.",
                  "Got {} instead."), id="no-scenarios"),
    pytest.param({"scenarios": 3},
                 ("[scenarios] must be a table of at least one scenario table.",
                  "Got 3 instead."), id="scenarios-not-a-table"),
])
def test_bad_scenario_tables_are_rejected(changes: dict[str, Any],
                                          fragments: tuple[str, ...]) -> None:
    problem(config_error(changes), *fragments)


@pytest.mark.parametrize("text", [
    pytest.param("[company\nname = 1\n", id="unclosed-header"),
    pytest.param(MINIMAL + "[company]\n", id="table-twice"),
    pytest.param(MINIMAL.replace('name = "Test Co"', "name = Test Co"), id="bare-string"),
])
def test_invalid_toml_is_rejected(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source=SOURCE)
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(f"{SOURCE}: not valid TOML: ")


def test_default_source_is_named() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(modified({"company.valuation": -1.0}))
    problem(info.value, "[company].valuation", source="<string>")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [f"{path}: cannot read the config: No such file or directory"]


def test_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    problem(info.value, "cannot read the config", source=str(tmp_path))


def test_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(MINIMAL.replace("Test Co", "Soci\u00e9t\u00e9").encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problem(info.value, "", source=str(path))


def test_errors_in_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(modified({"simulation.steps_per_year": 0}), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problem(info.value, "[simulation].steps_per_year must be an integer in the range [1, 365].",
            "Got 0 instead.", source=str(path))
    path.write_text("[company\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problem(info.value, "not valid TOML", source=str(path))


# --------------------------------------------------------------------------------------------
# several problems at once


def test_all_problems_are_reported_at_once() -> None:
    err = config_error({"company.valuation": -1.0, "simulation.steps_per_year": 0,
                        "costs.cash": DELETE, "company.nme": "x", "bogus.x": 1})
    assert len(err.problems) == 5
    problem(err, "[company].valuation must be", "Got -1.0 instead.")
    problem(err, "[simulation].steps_per_year must be", "Got 0 instead.")
    problem(err, "[costs].cash is required")
    problem(err, "[company].nme is not a known key")
    problem(err, "[bogus] is not a known section")
    assert str(err) == "\n".join(err.problems)


def test_all_cross_check_problems_are_reported_at_once() -> None:
    err = config_error({"simulation.horizon_years": 2.1, "simulation.n_paths": 10,
                        "financing.enabled": True, "market.enabled": True})
    assert len(err.problems) == 4
    for fragment in ("[simulation].horizon_years", "[simulation].keep_paths",
                     "[financing].amount", "[market].long_run_multiple"):
        problem(err, fragment)


def test_problems_in_several_scenarios_are_all_reported() -> None:
    err = config_error({"scenarios.base": {}, "scenarios.a.commercial.growth": 9.0,
                        "scenarios.b.costs.tax_rate": 2.0})
    assert len(err.problems) == 2
    problem(err, "[scenarios.a.commercial].growth must be", "Got 9.0 instead.")
    problem(err, "[scenarios.b.costs].tax_rate must be", "Got 2.0 instead.")


# --------------------------------------------------------------------------------------------
# labels of errors in scenarios


def test_error_in_a_scenario_override_is_labelled_with_the_scenario() -> None:
    err = config_error({**ACME, "scenarios.base": {},
                        "scenarios.stress.contracts.acme.renewal_probability": 1.3})
    assert err.problems == [f"{SOURCE}: [scenarios.stress.contracts.acme].renewal_probability "
                            "must be a number in the range [0, 1]. Got 1.3 instead."]


@pytest.mark.parametrize(("changes", "fragments"), [
    pytest.param({"scenarios.stress.simulation.horizon_years": 2.1},
                 ("[scenarios.stress.simulation].horizon_years must be a whole number of steps",
                  "Got 2.1 instead."), id="cross-check"),
    pytest.param({"chips.enabled": True, "scenarios.stress.slowdown.chips.shock_rate": 9.0},
                 ("[scenarios.stress.slowdown.chips].shock_rate must be at most 8 per year",
                  "Got 9.0 instead."), id="slowdown"),
    pytest.param({"scenarios.stress.simulation": 3},
                 ("[scenarios.stress.simulation] must be a table.", "Got 3 instead."),
                 id="section-not-a-table"),
    pytest.param({"scenarios.stress.simulation.measure": "risk_neutral"},
                 ("[simulation].discount_rate must not be set when measure = 'risk_neutral'",),
                 id="inherited-key-not-labelled"),
])
def test_scenario_labels(changes: dict[str, Any], fragments: tuple[str, ...]) -> None:
    problem(config_error({"scenarios.base": {}, **changes}), *fragments)


def test_error_in_the_inherited_base_is_labelled_without_scenarios_prefix() -> None:
    err = config_error({"company.valuation": -1.0, "scenarios.base": {},
                        "scenarios.a.commercial.growth": 0.5, "scenarios.b.costs.cash": 1.0})
    assert err.problems == [f"{SOURCE}: [company].valuation must be a number in the range "
                            "(0, inf). Got -1.0 instead."]


def test_error_caused_by_a_scenario_names_the_scenario() -> None:
    # keep_paths = 200 comes from the base, n_paths = 10 from scenario "tiny": the base is valid,
    # only "tiny" is not, so the message must say which scenario fails.
    err = config_error({"scenarios.base": {}, "scenarios.tiny.simulation.n_paths": 10})
    problem(err, "keep_paths", "tiny")


# --------------------------------------------------------------------------------------------
# valid configs


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_config_loads(path: Path) -> None:
    config = load_config(path)
    text = path.read_text(encoding="utf-8")
    assert config.source == str(path)
    assert config.text == text
    assert list(config.scenarios) == list(tomllib.loads(text).get("scenarios", {"base": {}}))


def test_there_are_shipped_configs() -> None:
    assert len(CONFIGS) >= 1


def test_scenarios_keep_file_order() -> None:
    config = load({"scenarios.zeta.commercial.growth": 0.1, "scenarios.alpha": {},
                   "scenarios.mid.commercial.growth": 0.2})
    assert list(config.scenarios) == ["zeta", "alpha", "mid"]
    assert config.base is config.scenarios["zeta"]
    assert config.base["commercial"]["growth"] == 0.1


def test_config_without_scenarios_has_one_base_scenario() -> None:
    config = load()
    assert list(config.scenarios) == ["base"]


def test_empty_base_scenario_equals_the_base_values() -> None:
    plain = load()
    config = load({"scenarios.base": {}, "scenarios.alt.commercial.growth": 0.5})
    assert list(config.scenarios) == ["base", "alt"]
    assert config.scenarios["base"] == plain.base


@pytest.mark.parametrize(("changes", "changed"), [
    pytest.param({"commercial.growth": 0.5}, {("commercial", "growth"): 0.5}, id="key"),
    pytest.param({"chips.shock_rate": 1.0},
                 {("chips", "shock_rate"): 1.0, ("slowdown", "chips", "shock_rate"): 1.0},
                 id="per-regime-key-also-sets-slowdown-default"),
    pytest.param({"slowdown.chips.shock_rate": 1.0},
                 {("slowdown", "chips", "shock_rate"): 1.0}, id="slowdown-key"),
    pytest.param({"contracts.acme.escalation": 0.02},
                 {("contracts", "acme", "escalation"): 0.02}, id="contract-key"),
])
def test_scenario_override_changes_only_its_key(changes: dict[str, Any],
                                                changed: dict[tuple[str, ...], Any]) -> None:
    scenario = {"scenarios.base": {}, **{f"scenarios.alt.{k}": v for k, v in changes.items()}}
    config = load({**ACME, **scenario})
    base, alt = _flatten(config.scenarios["base"]), _flatten(config.scenarios["alt"])
    assert base.keys() == alt.keys()
    assert {k: v for k, v in alt.items() if base[k] != v} == changed


def test_defaults_are_filled() -> None:
    config = load(ACME)
    values = config.base
    raw = tomllib.loads(MINIMAL)
    for section, fields in SCHEMA.items():
        assert values[section].keys() == fields.keys()
        for key, field in fields.items():
            if key not in raw.get(section, {}) and (section, key) != ("simulation",
                                                                      "valuation_horizon_years"):
                assert values[section][key] == field.default, (section, key)
    acme_values = values["contracts"]["acme"]
    assert acme_values.keys() == CONTRACT_FIELDS.keys()
    for key, field in CONTRACT_FIELDS.items():
        if key not in CONTRACT:
            assert acme_values[key] == field.default, key
    # slowdown values default to the normal ones
    assert values["slowdown"]["commercial"] == {"growth_long_run": 0.05}
    assert values["slowdown"]["contracts"]["acme"] == {"renewal_probability": 0.8,
                                                       "price_change_median": 1.0}
    # spot checks, written out
    assert values["simulation"]["steps_per_year"] == 4
    assert values["simulation"]["n_paths"] == 100_000
    assert values["simulation"]["keep_paths"] == 200
    assert values["simulation"]["revenue_timing"] == "end"
    assert values["valuation"]["terminal_method"] == "ev_sales"  # as MINIMAL says
    assert SCHEMA["valuation"]["terminal_method"].default == "value_driver"
    # the valuation horizon: at least ten years, or the question horizon if longer
    assert values["simulation"]["valuation_horizon_years"] == 10.0
    assert values["chips"]["haircut_distribution"] == "uniform"
    assert values["expansion"]["term_years"] == 1.0
    assert values["expansion"]["renewal_probability"] == 1.0
    assert values["market"]["collapse_drawdown"] == 0.8
    assert values["market"]["threshold"] is None
    assert values["valuation"]["limited_liability"] is True
    assert values["regime"]["initial"] == "normal"
    assert acme_values["price_change_median"] == 1.0


def test_values_are_converted_to_their_types() -> None:
    config = load({"simulation.horizon_years": 2, "company.as_of": "2025-06-30",
                   **acme(first_renewal=dt.datetime(2026, 1, 1, 12, 0))})
    values = config.base
    assert values["simulation"]["horizon_years"] == 2.0
    assert type(values["simulation"]["horizon_years"]) is float
    assert values["company"]["as_of"] == dt.date(2025, 6, 30)
    assert values["contracts"]["acme"]["first_renewal"] == dt.date(2026, 1, 1)
    assert type(values["simulation"]["measure"]) is str


@pytest.mark.parametrize("changes", [
    pytest.param({"expansion.pool_size": 0, "expansion.term_years": 1.1}, id="expansion-off"),
    pytest.param({"market.enabled": False, "market.volatility": 0.3}, id="market-off"),
    pytest.param({"financing.amount": 0.0}, id="financing-off"),
    pytest.param({"chips.haircut_low": 0.3, "chips.haircut_high": 0.2}, id="chips-off"),
    pytest.param({"market_size.currency": "EUR"}, id="market_size-off"),
    pytest.param({"chips.enabled": True, "chips.haircut_distribution": "fixed",
                  "chips.haircut_low": 0.3, "chips.haircut_high": 0.0}, id="fixed-haircut"),
    pytest.param({"simulation.measure": "risk_neutral", "simulation.discount_rate": DELETE,
                  "commercial.price_of_revenue_risk": 0.2}, id="risk_neutral"),
    pytest.param({"valuation.terminal_method": "gordon", "valuation.terminal_growth": 0.125},
                 id="gordon-growth-between-r-and-e^r-1"),
    pytest.param({"market_size.enabled": True, "market_size.points": POINTS,
                  "market_size.currency": "EUR", "market_size.fx_rate": 1.1},
                 id="market_size-with-fx"),
    pytest.param({"slowdown.commercial.growth_long_run": -0.02}, id="slowdown-override"),
    pytest.param({"company.net_debt": -5e8}, id="negative-net-debt"),
    pytest.param({"simulation.n_paths": 10, "simulation.keep_paths": 10}, id="keep-all-paths"),
])
def test_valid_variants_load(changes: dict[str, Any]) -> None:
    load(changes)


# --------------------------------------------------------------------------------------------
# Config.select


def test_select_unknown_scenario_raises() -> None:
    config = load({"scenarios.base": {}, "scenarios.alt.commercial.growth": 0.5})
    with pytest.raises(ConfigError) as info:
        config.select(["base", "nope"])
    assert info.value.problems == [f"{SOURCE}: no scenario named 'nope'; the config has "
                                   "'base', 'alt'"]
    with pytest.raises(ConfigError) as info:
        config.select(["x", "y"])
    assert len(info.value.problems) == 2


def test_select_keeps_the_requested_order() -> None:
    config = load({"scenarios.base": {}, "scenarios.alt.commercial.growth": 0.5})
    chosen = config.select(["alt", "base"])
    assert list(chosen.scenarios) == ["alt", "base"]
    assert chosen.base["commercial"]["growth"] == 0.5
    assert list(config.scenarios) == ["base", "alt"]


# --------------------------------------------------------------------------------------------
# rules added after review


@pytest.mark.parametrize(("changes", "fragments"), [
    pytest.param({**ACME, "contracts.acme.replacement_probability": 0.5,
                  "contracts.acme.replacement_delay_years": 0.0},
                 ("[contracts.acme].replacement_delay_years must be at least one step",
                  "Got 0.0 instead."), id="replacement-delay-zero"),
    pytest.param({"valuation.terminal_method": "gordon", "valuation.terminal_growth": 0.02,
                  "valuation.terminal_earnings": "per_step"},
                 ("[valuation].terminal_earnings must be 'annualised' with terminal_method = "
                  "'gordon'", "Got 'per_step' instead."), id="gordon-per-step"),
    pytest.param({"market_size.enabled": True, "market_size.points": [[2025, 1e9], [2030, 2e9]],
                  "market_size.fx_rate": 7.0},
                 ("[market_size].fx_rate must be absent or 1 when the points are in the "
                  "config's currency", "Got 7.0 instead."), id="fx-rate-without-currency"),
    pytest.param({"company.as_of": "20260101"},
                 ("[company].as_of must be a date (YYYY-MM-DD).", "Got '20260101' instead."),
                 id="date-without-dashes"),
])
def test_rules_added_after_review(changes: dict[str, Any], fragments: tuple[str, ...]) -> None:
    problem(config_error(changes), *fragments)


def test_replacement_delay_zero_is_fine_without_replacement() -> None:
    load({**ACME, "contracts.acme.replacement_delay_years": 0.0})


def test_empty_scenarios_do_not_share_values() -> None:
    config = load({"scenarios.a": {}, "scenarios.b": {}})
    config.scenarios["a"]["costs"]["cash"] = -1.0
    assert config.scenarios["b"]["costs"]["cash"] != -1.0


def test_scenarios_must_share_the_measure() -> None:
    import simval

    config = load({"simulation.measure": "risk_neutral", "simulation.discount_rate": DELETE,
                   "scenarios.base": {}, "scenarios.rw.simulation.measure": "real_world",
                   "scenarios.rw.simulation.discount_rate": 0.1})
    with pytest.raises(ConfigError, match=r"\[scenarios.rw\] changes simulation.measure"):
        simval.simulate(config, n_paths=10)
