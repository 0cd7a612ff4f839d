"""The value model (MODEL.md §10.4): W_t by least squares, the price-to-value gap B_t and the
collapse split into the company's own and the re-rating.

- tower property: with no dilution at the market value, E[D(t) W_t] = E[PV] at every time,
  within the pilot's and the main run's Monte Carlo error (the undiscounted W is rejected);
- the one-lognormal reduction (revenue only, ev_sales, no operating cash flow): the fitted
  W_t equals its closed form D(T - t) M E[S_T | S_t] within the fit's standard error;
- B_t is a log-OU: with W known, ln B at the question horizon has the closed-form mean and
  variance;
- kernel and the independent reference agree path by path (tests/test_reference.py covers
  the shipped configs; here the small config);
- results identical across threads and chunks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import simval
from simval import layout
from simval.config.override import override
from simval.engine import kernels, runner
from simval.engine.fundamental import fit_value_function, pilot_keys
from simval.engine.reference import simulate_reference
from simval.model.params import build_kernel_params, make_time_grid
from tests.conftest import FULL_CONFIG

LOGNORMAL = """
[company]
name = "Lognormal"
currency = "USD"
as_of = 2026-01-01
valuation = 2e9

[simulation]
horizon_years = 4
valuation_horizon_years = 4
steps_per_year = 4
seed = 5
keep_paths = {n}
n_paths = {n}
discount_rate = 0.1

[commercial]
revenue = 1e8
growth = 0.15
growth_long_run = 0.15
volatility = 0.35
volatility_long_run = 0.35

[costs]
variable_cost_ratio = 1.0
fixed_costs = 0.0
cash = 0.0

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 10

[market]
model = "value"
enabled = true
gap_half_life_years = 1.5
gap_volatility = {gap_vol}
pilot_paths = 16384
"""

TOWER = """
[company]
name = "Tower"
currency = "USD"
as_of = 2026-01-01
valuation = 5e9

[simulation]
horizon_years = 3
valuation_horizon_years = 6
steps_per_year = 4
seed = 9
keep_paths = 20000
n_paths = 20000
discount_rate = 0.12

[commercial]
revenue = 5e8
growth = 0.4
growth_long_run = 0.1
mean_reversion = 0.5
volatility = 0.4
volatility_long_run = 0.25
growth_volatility = 0.1
correlation = 0.3

[contracts.anchor]
revenue = 2e8
term_years = 2
first_renewal = 2027-06-30
renewal_probability = 0.8

[costs]
variable_cost_ratio = 0.4
fixed_costs = 2e8
operating_expense_ratio = 0.2
cash = 1e9

[valuation]
terminal_method = "value_driver"
terminal_growth = 0.03
return_on_capital = 0.15

[market]
model = "value"
enabled = true
gap_half_life_years = 2.0
gap_volatility = 0.3
pilot_paths = 16384
"""


def test_tower_property():
    """E[D(t) W_t] = E[PV] at every time t_1 .. T_v (no dilution at the market value, so W
    does not depend on B): the paired difference within 5 standard errors of the pilot's
    and the run's error; the undiscounted W_t is rejected at the valuation horizon."""
    config = simval.parse_config(TOWER, source="tower.toml")
    ds = simval.simulate(config).sel(scenario="base")
    pv = ds.path_pv.values
    w = ds.path_fundamental_value.values
    discount = np.exp(-0.12 * ds.years.values)
    n = pv.size
    pilot = config.base["market"]["pilot_paths"]
    worst = 0.0
    for k in range(1, ds.sizes["time"]):
        d = discount[k] * w[:, k] - pv
        se = math.sqrt(pv.var() / pilot + d.var(ddof=1) / n)
        worst = max(worst, abs(d.mean()) / se)
    assert worst <= 5.0, worst
    last = ds.sizes["time"] - 1
    d = w[:, last] - pv
    assert abs(d.mean()) > 5 * math.sqrt(pv.var() / pilot + d.var(ddof=1) / n)


def test_lognormal_reduction_matches_its_closed_form():
    """Revenue only, ev_sales at M = 10, no operating cash flow: W_t = D(T - t) M S_t
    e^{g (t_K - t)}; at every time after t_0 the fitted W on the main run's paths is within
    5 of the fit's own standard errors of it (root mean square of the standardised error,
    and its worst path within a Bonferroni-sized bound), and a wrong growth is rejected."""
    n = 4000
    config = simval.parse_config(LOGNORMAL.format(n=n, gap_vol=0.3), source="lognormal.toml")
    values = config.base
    grid = make_time_grid(values)
    params, fit = fit_value_function(build_kernel_params(values, grid), values, 5)
    ds = simval.simulate(config).sel(scenario="base")
    years = ds.years.values
    horizon = years[-1] - (grid.dt if values["simulation"]["revenue_timing"] == "start" else 0)
    s = ds.path_total_revenue.values
    for k in (2, 6, 10, 14):
        truth = math.exp(-0.1 * (years[-1] - years[k])) * 10 * s[:, k] \
            * np.exp(0.15 * (horizon - years[k]))
        x = s[:, k] / params.value.revenue_ref
        basis = np.stack([np.ones_like(x), x, x * x, np.sqrt(x), x * 0.15, x * 0.15 ** 2,
                          np.full_like(x, 0.15), 0 * x, 0 * x, 0 * x, 0 * x, 0 * x,
                          np.ones_like(x), x], axis=1)
        se = fit.standard_error(k, basis)
        z = (ds.path_fundamental_value.values[:, k] - truth) / se
        assert np.sqrt(np.mean(z * z)) < 5.0, (k, np.sqrt(np.mean(z * z)))
        wrong = truth * np.exp(0.05 * (horizon - years[k]))  # growth 0.2 instead of 0.15
        z_wrong = (ds.path_fundamental_value.values[:, k] - wrong) / se
        if k <= 6:
            assert np.sqrt(np.mean(z_wrong * z_wrong)) > 5.0


def test_gap_is_a_log_ou():
    """ln B at t_k: exact OU from ln B_0 toward 0 with the configured half-life and
    volatility (no jumps here): mean and variance within 5 standard errors; the mean without
    reversion is rejected."""
    n = 4000
    config = simval.parse_config(LOGNORMAL.format(n=n, gap_vol=0.3), source="lognormal.toml")
    ds = simval.simulate(config).sel(scenario="base")
    b = np.log(ds.path_price_to_value.values)
    kappa = math.log(2) / 1.5
    for k in (4, 16):
        t = float(ds.years[k])
        mean = b[:, 0] * math.exp(-kappa * t)
        var = 0.3 ** 2 * -math.expm1(-2 * kappa * t) / (2 * kappa)
        x = b[:, k] - mean
        assert abs(x.mean()) <= 5 * math.sqrt(var / n)
        assert abs(x.var() - var) <= 5 * var * math.sqrt(2 / n)
        assert abs((b[:, k] - b[:, 0]).mean()) > 5 * math.sqrt(var / n)


def test_without_a_gap_the_collapse_is_the_company_s():
    """B's drift is what separates P(collapse) from P(fundamental collapse): with V_0 = W_0
    (B_0 = 1, its long-run level) and no gap volatility B stays 1, and the two collapse
    indicators agree path by path (up to B_0's distance from 1, the pilot's mean)."""
    config = simval.parse_config(LOGNORMAL.format(n=2000, gap_vol=0.0), source="lognormal.toml")
    values = config.base
    grid = make_time_grid(values)
    _, fit = fit_value_function(build_kernel_params(values, grid), values, 5)
    moved = override(config, {"company.valuation": fit.start_value})
    ds = simval.simulate(moved).sel(scenario="base")
    b = ds.path_price_to_value.values
    assert np.allclose(b[:, 0], 1.0, rtol=1e-3)
    both = ds.path_collapse_time.values, ds.path_fundamental_collapse_time.values
    # B_0 is 1 up to the fit's mean over the pilot, so the two lines differ by that much
    assert np.mean(np.isnan(both[0]) == np.isnan(both[1])) > 0.97


def _value_full() -> simval.Config:
    config = simval.parse_config(FULL_CONFIG, source="full.toml")
    return override(config, {"market.model": "value", "market.gap_half_life_years": 2.0,
                             "market.gap_volatility": 0.3, "market.pilot_paths": 2048,
                             "slowdown.market.gap_long_run": 0.7})


def test_kernel_matches_the_reference_with_the_value_model():
    config = _value_full()
    values = config.base
    grid = make_time_grid(values)
    params, _ = fit_value_function(build_kernel_params(values, grid), values, 3)
    chunk = runner.simulate_chunk(params, runner.run_keys(3), 4096 + 17, 128)
    ref = simulate_reference(values, grid, 3, 4096 + 17, 128,
                             value_coefficients=params.value.value_coefficients)
    for row in (layout.SERIES_FUNDAMENTAL_VALUE, layout.SERIES_PRICE_TO_VALUE,
                layout.SERIES_MARKET_VALUE, layout.SERIES_CASH):
        np.testing.assert_allclose(chunk.series[row], ref.series[row], rtol=1e-8, atol=1e-3)
    np.testing.assert_array_equal(chunk.counts, ref.counts)
    np.testing.assert_allclose(chunk.scalars, ref.scalars, rtol=1e-8, atol=1e-3)


def test_pilot_draws_its_own_numbers():
    assert pilot_keys(3)[:2] != runner.run_keys(3)[:2]
    assert pilot_keys(3)[2:] != runner.run_keys(3)[2:]
    assert pilot_keys(3, 1)[2:] == pilot_keys(3, 2)[2:]  # macro shared within a panel


def test_solvent_rows_are_numpy_s_boolean_indexing():
    """The pilot regression's gather gives, bit for bit and in the same layout, what numpy's
    boolean indexing gives (the fit's sums depend on both); some paths bankrupt."""
    rng = np.random.default_rng(11)
    n_times, n = 5, 300
    design = rng.lognormal(size=(layout.N_DESIGN, n_times, n))
    design[layout.DESIGN_ALIVE] = rng.random((n_times, n)) < 0.7
    pv = rng.normal(size=n)
    discount = np.exp(-0.03 * np.arange(n_times))
    x = np.full((n, layout.N_BASIS), np.nan)
    y = np.full(n, np.nan)
    for k in range(n_times):
        m = kernels.solvent_rows(design, pv, k, discount[k], x, y)
        solvent = design[layout.DESIGN_ALIVE, k] > 0.5
        expected_x = design[:layout.N_BASIS, k, solvent].T
        expected_y = pv[solvent] / (discount[k] * design[layout.DESIGN_HOLDERS, k, solvent])
        assert m == solvent.sum() and 0 < m < n
        assert x[:m].strides == expected_x.strides
        np.testing.assert_array_equal(x[:m], expected_x)
        np.testing.assert_array_equal(y[:m], expected_y)
        np.testing.assert_array_equal(x[:m].T @ x[:m], expected_x.T @ expected_x)


@pytest.mark.parametrize("threads, chunk", [(1, None), (2, 4096)])
def test_value_model_identical_across_threads_and_chunks(threads, chunk):
    config = _value_full()
    reference = simval.simulate(config, n_paths=9000, keep_paths=20, threads=2)
    other = simval.simulate(config, n_paths=9000, keep_paths=20, threads=threads,
                            chunk_size=chunk)
    for name in ("p_collapse", "p_collapse_fundamental", "pv_mean", "fundamental_value_r2",
                 "path_fundamental_value", "path_price_to_value", "market_value_quantile"):
        np.testing.assert_array_equal(reference[name].values, other[name].values)


def test_value_model_fields_in_the_dataset():
    ds = simval.simulate(_value_full(), n_paths=2000, keep_paths=5)
    for name in ("p_collapse_fundamental", "p_collapse_fundamental_se",
                 "p_collapse_fundamental_low", "p_collapse_fundamental_high",
                 "fundamental_value_r2", "fundamental_value_0", "price_to_value_0",
                 "path_fundamental_value", "path_price_to_value",
                 "fundamental_value_quantile", "price_to_value_quantile"):
        assert name in ds, name
    assert (ds.p_collapse_fundamental <= 1).all()
    r2 = ds.fundamental_value_r2.isel(time=slice(1, None)).values
    assert np.nanmin(r2) >= 0 and np.nanmax(r2) <= 1
    text = simval.headline_table(ds)
    assert "of which the company alone" in text and "price-to-value" in text
