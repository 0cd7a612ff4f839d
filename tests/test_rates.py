"""Rates as people write them: ``"40%/yr"`` converted exactly to the model's rates."""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

import simval
from simval.config.address import coerce_value, value_of
from simval.config.load import ConfigError, config_from_dict, parse_config
from simval.config.override import override
from simval.config.rates import ANNUAL, CONTINUOUS, annual_percent, parse_rate
from simval.config.research import parse_research_config
from simval.config.schema import CONTRACT_FIELDS, SCHEMA
from simval.report.assumptions import assumptions

ROOT = Path(__file__).resolve().parents[1]
MINIMAX = (ROOT / "configs" / "minimax_2025.toml").read_text(encoding="utf-8")
ZHIPU = (ROOT / "configs" / "zhipu_2026.toml").read_text(encoding="utf-8")


def _set(text: str, section: str, key: str, value: str) -> str:
    """``text`` with ``key = ...`` of ``[section]`` replaced by ``key = value``."""
    start = text.index(f"[{section}]\n")
    end = text.find("\n[", start + 1)
    end = len(text) if end < 0 else end
    block = re.sub(rf"^{key} = .*$", f"{key} = {value}", text[start:end], count=1,
                   flags=re.MULTILINE)
    assert block != text[start:end], (section, key)
    return text[:start] + block + text[end:]


@pytest.mark.parametrize(("text", "compounding", "expected"), [
    ("40%/yr", CONTINUOUS, math.log(1.4)),
    ("40 % / year", CONTINUOUS, math.log(1.4)),
    ("-10%/yr", CONTINUOUS, math.log(0.9)),
    ("+5.5%/yr", CONTINUOUS, math.log(1.055)),
    ("0%/yr", CONTINUOUS, 0.0),
    ("3%/yr", ANNUAL, 0.03),
    ("-2.5%/yr", ANNUAL, -0.025),
])
def test_parse_rate_is_exact(text, compounding, expected):
    assert parse_rate(text, compounding) == expected  # bit for bit


@pytest.mark.parametrize("text", ["40%", "40", "0.4", "40%/month", "%/yr", "-100%/yr",
                                  "-150%/yr", "forty%/yr", "nan%/yr"])
def test_parse_rate_refuses_other_forms(text):
    assert parse_rate(text, CONTINUOUS) is None


@pytest.mark.parametrize("text", ["1e400%/yr", "1e9999999%/yr", "1e99999999999999999999%/yr"])
def test_parse_rate_refuses_rates_beyond_a_float(text):
    assert parse_rate(text, CONTINUOUS) is None
    assert parse_rate(text, ANNUAL) is None


def test_annual_percent_inverts_the_conversion():
    assert annual_percent(parse_rate("40%/yr", CONTINUOUS), CONTINUOUS) == pytest.approx(40.0)
    assert annual_percent(0.03, ANNUAL) == 3.0


def test_rate_keys_are_the_rates_per_year():
    """Every compounding key is a 1/year rate; no hazard, intensity or speed is one."""
    keys = {f"{s}.{k}": f for s, fields in SCHEMA.items() for k, f in fields.items()}
    keys |= {f"contracts.{k}": f for k, f in CONTRACT_FIELDS.items()}
    rates = {k for k, f in keys.items() if f.compounding}
    assert rates == {
        "simulation.discount_rate", "commercial.growth", "commercial.growth_long_run",
        "expansion.escalation", "costs.fixed_cost_growth", "costs.risk_free_rate",
        "debt.interest_rate", "valuation.exit_reference_growth",
        "valuation.return_on_capital", "valuation.terminal_growth", "contracts.escalation"}
    assert all(keys[k].unit == "1/year" for k in rates)
    assert {k for k in rates if keys[k].compounding == ANNUAL} == {
        "debt.interest_rate", "valuation.return_on_capital", "valuation.terminal_growth"}


def test_percent_form_and_continuous_float_give_identical_results():
    as_percent = parse_config(_set(MINIMAX, "commercial", "growth", '"40%/yr"'))
    as_float = parse_config(_set(MINIMAX, "commercial", "growth", repr(math.log(1.4))))
    assert as_percent.base["commercial"]["growth"] == math.log(1.4)
    assert as_percent.scenarios == as_float.scenarios
    a = simval.simulate(as_percent, n_paths=512, keep_paths=8, scenarios=["base"])
    b = simval.simulate(as_float, n_paths=512, keep_paths=8, scenarios=["base"])
    assert list(a.data_vars) == list(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    differ = {k for k in a.attrs if k not in b.attrs or str(a.attrs[k]) != str(b.attrs[k])}
    assert differ <= {"config", "config_sha256"}  # only the text the numbers came from


def test_percent_form_everywhere_a_key_can_be_written():
    text = _set(ZHIPU, "simulation", "discount_rate", '"12.75%/yr"')
    text = _set(text, "contracts.beijing", "escalation", '"3%/yr"')
    text = _set(text, "slowdown.commercial", "growth_long_run", '"5%/yr"')
    text = _set(text, "valuation", "terminal_growth", '"3%/yr"')
    text = text.replace('commercial.growth = 0.405       #', 'commercial.growth = "50%/yr" #')
    config = parse_config(text)
    base = config.scenarios["base"]
    assert base["simulation"]["discount_rate"] == math.log(1.1275)
    assert base["contracts"]["beijing"]["escalation"] == math.log(1.03)
    assert base["slowdown"]["commercial"]["growth_long_run"] == math.log(1.05)
    assert base["valuation"]["terminal_growth"] == 0.03  # an effective annual rate already
    assert config.scenarios["commercial_50"]["commercial"]["growth"] == math.log(1.5)
    # the Python API: override() and coerce_value (the sweep's and the command line's values)
    moved = override(config, {"commercial.growth_long_run": "20%/yr"})
    assert value_of(moved, "commercial.growth_long_run") == math.log(1.2)
    assert coerce_value(SCHEMA["commercial"]["growth"], "-10%/yr") == math.log(0.9)
    # a config given as tables
    raw = {"commercial": {"growth": "40%/yr"}}
    merged = config_from_dict(tomllib.loads(MINIMAX), overrides=[raw])
    assert merged.base["commercial"]["growth"] == math.log(1.4)


def test_research_tables_take_the_percent_form():
    text = ZHIPU.replace('"commercial.growth_long_run" = [0.05, 0.30]',
                         '"commercial.growth_long_run" = ["5%/yr", "35%/yr"]')
    text = text.replace('market_share = 0.25 ', '"commercial.growth" = "50%/yr"\n'
                                                'market_share = 0.25 ')
    text += '\n[sweep]\n"commercial.growth" = ["30%/yr", "50%/yr"]\n'
    research = parse_research_config(text)
    assert research.ranges["commercial.growth_long_run"] == (math.log(1.05), math.log(1.35))
    assert research.reference["commercial.growth"] == math.log(1.5)
    from simval.research.sensitivity import resolve_ranges

    (spec,) = resolve_ranges(research.config, {"commercial.growth": ["10%/yr", "60%/yr"]})
    assert spec[1:] == (math.log(1.1), math.log(1.6))
    from simval.research.sweep import _grid

    _, values = _grid(research.config, research.sweep)
    assert values == [[math.log(1.3), math.log(1.5)]]


@pytest.mark.parametrize(("value", "words"), [
    ('"40%"', 'A percentage needs its unit: write "40%/yr"'),
    ('"forty"', "Got 'forty' instead."),
    ('"40%/month"', "Got '40%/month' instead."),
    ('"-100%/yr"', "has no continuous equivalent"),
    ('"900000%/yr"', "out of range"),
])
def test_a_malformed_rate_names_file_key_and_form(value, words):
    with pytest.raises(ConfigError) as err:
        parse_config(_set(MINIMAX, "commercial", "growth", value), source="acme.toml")
    (message,) = err.value.problems
    assert message.startswith("acme.toml: [commercial].growth must be a number in the range "
                              "[-5, 5] (a continuously compounded rate per year) or an annual "
                              'percentage with its unit, e.g. "40%/yr" (= ln 1.4).')
    assert words in message


def test_a_scenario_rate_error_names_the_scenario():
    text = ZHIPU.replace('commercial.growth = 0.405       #', 'commercial.growth = "50%" #')
    with pytest.raises(ConfigError) as err:
        parse_config(text, source="z.toml")
    assert any(p.startswith("z.toml: [scenarios.commercial_50.commercial].growth must be")
               and '"50%/yr"' in p for p in err.value.problems)


def test_assumption_tables_show_both_forms():
    config = parse_config(_set(MINIMAX, "commercial", "growth", '"50%/yr"'))
    rows = {r.key: r for r in assumptions(config)}
    assert rows["commercial.growth"].value == "0.4055/yr continuous (50%/yr annual)"
    assert rows["valuation.terminal_growth"].value == "0.03/yr annual (3%/yr)"
