"""Company panels: shared macro draws, own idiosyncratic draws, joint probabilities."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import simval
from simval.panel import load_panel, simulate_panel

ROOT = Path(__file__).resolve().parents[1]

COMPANY = """
[company]
name = "{name}"
currency = "CNY"
as_of = 2026-01-01
valuation = 10e9

[simulation]
horizon_years = 2
steps_per_year = 4
n_paths = 8192
seed = 3
keep_paths = 0
measure = "real_world"
discount_rate = 0.1

[commercial]
revenue = 1e9
growth = 0.2
growth_long_run = 0.2
volatility = {vol}
volatility_long_run = {vol}

[costs]
variable_cost_ratio = 0.5
fixed_costs = 0.0
cash = 1e9

[valuation]
exit_multiple_median = 10

[market]
enabled = true
long_run_multiple = 10
mean_reversion = 0.5
volatility = 0.0

[regime]
enabled = {regime}
hazard_normal_to_slowdown = 0.8
hazard_slowdown_to_normal = 0.5

[slowdown.market]
long_run_multiple = 3
"""

PANEL = """
[panel]
name = "test panel"
companies = ["a.toml", "b.toml"]
threshold = 8e9
"""


def _write(tmp_path, vol_a, vol_b, regime, extra=""):
    (tmp_path / "a.toml").write_text(COMPANY.format(name="A", vol=vol_a, regime=regime))
    (tmp_path / "b.toml").write_text(COMPANY.format(name="B", vol=vol_b, regime=regime))
    (tmp_path / "panel.toml").write_text(PANEL + extra)
    return tmp_path / "panel.toml"


def test_shipped_panel_loads_and_runs():
    ds = simulate_panel(ROOT / "configs" / "panels" / "china_ai_2025.toml", n_paths=4096)
    assert list(ds.company.values) == ["zhipu_2025", "minimax_2025", "01ai_2025"]
    last = ds.isel(time=-1)
    assert float(last.p_all_stay_above) <= float(last.p_stays_above.min())
    # the macro regime is common: every company sees the same slowdown probabilities
    np.testing.assert_array_equal(ds.p_slowdown.values[0], ds.p_slowdown.values[1])


def test_macro_only_randomness_makes_companies_move_together(tmp_path):
    """No own volatility: the regime (shared) is the only risk, so both companies breach on
    the same paths and P(all stay above) = P(each stays above)."""
    ds = simulate_panel(_write(tmp_path, 0.0, 0.0, "true"))
    stays = ds.p_stays_above.isel(time=-1).values
    assert 0.05 < stays[0] < 0.95
    assert stays[0] == stays[1] == float(ds.p_all_stay_above.isel(time=-1))


def test_own_randomness_is_independent_between_companies(tmp_path):
    """No shared driver: the joint probability is the product of the marginals (within SE)."""
    ds = simulate_panel(_write(tmp_path, 0.5, 0.5, "false"), n_paths=40_000)
    last = ds.isel(time=-1)
    a, b = last.p_stays_above.values
    joint = float(last.p_all_stay_above)
    n = ds.attrs["n_paths"]
    assert 0.2 < a < 0.95
    se = math.sqrt(a * b * (1 - a * b) / n) * 1.5  # the delta-method margin of the product
    assert abs(joint - a * b) <= 5 * se
    assert abs(joint - min(a, b)) > 5 * se  # not comonotone


def test_first_company_equals_its_single_run(tmp_path):
    panel = _write(tmp_path, 0.4, 0.3, "true")
    ds = simulate_panel(panel)
    alone = simval.simulate(tmp_path / "a.toml").sel(scenario="base")
    for name in ("p_justified", "p_collapse", "pv_mean", "p_slowdown"):
        np.testing.assert_array_equal(ds[name].sel(company="a").values, alone[name].values)


def test_panel_rejects_companies_with_different_macro(tmp_path):
    _write(tmp_path, 0.4, 0.3, "true")
    (tmp_path / "b.toml").write_text(COMPANY.format(name="B", vol=0.3, regime="false"))
    with pytest.raises(simval.ConfigError, match="regime.enabled"):
        load_panel(tmp_path / "panel.toml")
    # ... unless the panel sets it for everyone
    (tmp_path / "panel.toml").write_text(PANEL + "[shared]\nregime.enabled = true\n")
    assert load_panel(tmp_path / "panel.toml").companies["b"].base["regime"]["enabled"]


def test_panel_errors_name_the_files(tmp_path):
    (tmp_path / "panel.toml").write_text(PANEL.replace("b.toml", "missing.toml"))
    (tmp_path / "a.toml").write_text(COMPANY.format(name="A", vol=0.1, regime="true"))
    with pytest.raises(simval.ConfigError, match="missing.toml"):
        load_panel(tmp_path / "panel.toml")
