"""The shipped Schwartz-Moon (2000) config is the published model.

With every volatility at zero the simulation must equal a quarter-by-quarter loop written in
the paper's own units ($ millions, rates per quarter), which also checks the conversion of
every parameter to simval's annual units.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import simval

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "schwartz_moon_amazon.toml"


def paper_loop() -> dict[str, float]:
    """Schwartz & Moon (2000), Amazon, zero volatilities, in the paper's quarterly units."""
    revenue, mu, cash, losses = 356.0, 0.11, 906.0, 559.0  # $M per quarter, per quarter, $M
    mu_bar, kappa = 0.015, 0.07
    cost_ratio, fixed, tax_rate, rf_quarter = 0.75 + 0.19, 75.0, 0.35, 0.05 / 4
    bankrupt_quarter = None
    for quarter in range(100):  # 25 years
        ebitda = revenue - (cost_ratio * revenue + fixed)  # revenue at the quarter's start
        income = ebitda + rf_quarter * cash  # interest on cash, taxable
        if income <= losses:
            losses -= income
            tax = 0.0
        else:
            tax = tax_rate * (income - losses)
            losses = 0.0
        cash += income - tax
        if cash < 0 and bankrupt_quarter is None:
            bankrupt_quarter = quarter + 1
        revenue *= math.exp(mu)  # sigma = 0: no lambda*sigma, no sigma^2/2
        mu = mu_bar + (mu - mu_bar) * math.exp(-kappa)
    value = math.exp(-0.05 * 25) * (cash + 10 * ebitda)  # 10 x last quarter's EBITDA
    return {"value": value * 1e6, "cash": cash * 1e6, "ebitda": ebitda * 1e6,
            "bankrupt_quarter": bankrupt_quarter}


@pytest.fixture(scope="module")
def deterministic():
    text = CONFIG.read_text()
    for key in ("volatility", "volatility_long_run", "growth_volatility"):
        text = text.replace(f"\n{key} = ", f"\n{key} = 0.0 #", 1)
    config = simval.parse_config(text)
    assert config.base["commercial"]["volatility"] == 0.0
    assert config.base["commercial"]["growth_volatility"] == 0.0
    return simval.simulate(config, n_paths=8, keep_paths=8).sel(scenario="base")


def test_zero_volatility_equals_the_papers_quarterly_loop(deterministic):
    expected = paper_loop()
    assert expected["bankrupt_quarter"] is None
    assert np.unique(deterministic.path_pv.values).size == 1
    np.testing.assert_allclose(deterministic.path_pv[0], expected["value"], rtol=1e-12)
    np.testing.assert_allclose(deterministic.path_cash[0, -1], expected["cash"], rtol=1e-12)
    assert float(deterministic.p_bankrupt) == 0.0


def test_reduction_switches_every_extra_off():
    values = simval.load_config(CONFIG).base
    for section in ("regime", "expansion", "chips", "market_size", "financing", "market"):
        assert values[section]["enabled"] is False, section
    assert values["contracts"] == {}
    assert values["simulation"]["measure"] == "risk_neutral"
    assert values["valuation"]["terminal_method"] == "ev_ebitda"
    assert values["valuation"]["terminal_earnings"] == "per_step"
    assert values["simulation"]["revenue_timing"] == "start"


def _quarterly_units(text: str) -> str:
    """The same model written in the paper's units: one simval 'year' is one quarter."""
    import re

    paper = {  # the paper's values, per quarter (MODEL.md section 9)
        "horizon_years": "100", "steps_per_year": "1", "revenue": "356e6", "growth": "0.11",
        "growth_long_run": "0.015", "mean_reversion": "0.07", "volatility": "0.10",
        "volatility_long_run": "0.05", "volatility_decay": "0.07",
        "growth_volatility": "0.03", "growth_volatility_decay": "0.07",
        "price_of_revenue_risk": "0.01", "fixed_costs": "75e6", "risk_free_rate": "0.0125",
    }
    for key, value in paper.items():
        text, n = re.subn(rf"(?m)^{key} = [^#\n]*", f"{key} = {value} ", text, count=1)
        assert n == 1, key
    return text


def test_annual_units_equal_the_papers_quarterly_units_path_by_path():
    """Every conversion (volatilities x2, eta x8, rates x4 ...) is exact: the simulation in
    annual units and the one in the paper's quarterly units give the same paths."""
    annual = simval.simulate(CONFIG, n_paths=2000, keep_paths=2000).sel(scenario="base")
    quarterly = simval.simulate(simval.parse_config(_quarterly_units(CONFIG.read_text())),
                                n_paths=2000, keep_paths=2000).sel(scenario="base")
    np.testing.assert_allclose(annual.path_pv, quarterly.path_pv, rtol=1e-9, atol=1e-3)
    np.testing.assert_array_equal(np.isnan(annual.path_bankruptcy_time),
                                  np.isnan(quarterly.path_bankruptcy_time))
    # annual run-rates are 4 x the quarterly ones
    np.testing.assert_allclose(annual.path_total_revenue, 4 * quarterly.path_total_revenue,
                               rtol=1e-9)
