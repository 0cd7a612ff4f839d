"""Precision you can ask for: --precision rounds, antithetic pairs, and their standard errors."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import simval
from simval.engine.runner import BLOCK
from simval.stats.probabilities import paired_binomial_estimate

GBM = """
[company]
name = "Pairs"
currency = "USD"
as_of = 2026-01-01
valuation = 1.6e9

[simulation]
horizon_years = 2
valuation_horizon_years = 2
steps_per_year = 4
seed = 5
measure = "real_world"
discount_rate = 0.1

[commercial]
revenue = 1e8
growth = 0.2
growth_long_run = 0.2
volatility = 0.3
volatility_long_run = 0.3

[costs]
variable_cost_ratio = 0.0
fixed_costs = 0.0
cash = 0.0

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 10
exit_multiple_dispersion = 0.2

[market]
enabled = true
long_run_multiple = 16
volatility = 0.4
"""


def _without_precision_attrs(ds: xr.Dataset) -> xr.Dataset:
    ds = ds.copy()
    for key in ("precision_target", "precision_reached", "max_paths"):
        ds.attrs.pop(key)
    return ds


def test_precision_run_equals_fixed_run(full_config):
    adaptive = simval.simulate(full_config, n_paths=BLOCK, precision=0.012, keep_paths=10,
                               scenarios=["base", "harsh_chips"])
    n = adaptive.attrs["n_paths"]
    assert n > BLOCK and adaptive.attrs["precision_reached"] == 1
    for name in ("p_justified", "p_collapse"):
        half = np.maximum(adaptive[f"{name}_high"] - adaptive[name],
                          adaptive[name] - adaptive[f"{name}_low"])
        assert (half <= 0.012).all()
    fixed = simval.simulate(full_config, n_paths=n, keep_paths=10,
                            scenarios=["base", "harsh_chips"])
    xr.testing.assert_identical(_without_precision_attrs(adaptive), fixed)


def test_precision_cap_is_reported(full_config):
    capped = simval.simulate(full_config, n_paths=BLOCK, precision=1e-4, max_paths=3 * BLOCK,
                             keep_paths=0, scenarios=["base"])
    assert capped.attrs["n_paths"] == 3 * BLOCK
    assert capped.attrs["precision_reached"] == 0
    assert "NOT met" in simval.headline_table(capped)


def test_antithetic_pairs_mirror_their_shocks():
    config = simval.parse_config(GBM)
    ds = simval.simulate(config, n_paths=2 * BLOCK, keep_paths=2 * BLOCK,
                         antithetic=True).sel(scenario="base")
    log_r = np.log(ds.path_terminal_revenue.values / 1e8).reshape(-1, 2)
    # with constant growth and volatility, ln R_T is affine in the normals: pairs average
    # to the drift exactly
    np.testing.assert_allclose(log_r.mean(axis=1), (0.2 - 0.3**2 / 2) * 2, atol=1e-12)
    assert np.corrcoef(log_r[:, 0], log_r[:, 1])[0, 1] == pytest.approx(-1.0)


def test_antithetic_standard_errors_use_pair_averages():
    config = simval.parse_config(GBM)
    n = 2 * BLOCK
    ds = simval.simulate(config, n_paths=n, keep_paths=n, antithetic=True).sel(scenario="base")
    pv = ds.path_pv.values
    pair_mean = pv.reshape(-1, 2).mean(axis=1)
    np.testing.assert_allclose(float(ds.pv_mean_se), pair_mean.std(ddof=1) / math.sqrt(n / 2),
                               rtol=1e-9)
    justified = (pv >= 1.6e9).reshape(-1, 2).mean(axis=1)
    np.testing.assert_allclose(float(ds.p_justified_se),
                               justified.std(ddof=1) / math.sqrt(n / 2), rtol=1e-9)
    collapsed = np.isfinite(ds.path_collapse_time.values).reshape(-1, 2).mean(axis=1)
    np.testing.assert_allclose(float(ds.p_collapse_se),
                               collapsed.std(ddof=1) / math.sqrt(n / 2), rtol=1e-9)


def test_antithetic_reduces_the_variance_of_a_monotone_estimate():
    config = simval.parse_config(GBM)
    plain = simval.simulate(config, n_paths=4 * BLOCK, keep_paths=0).sel(scenario="base")
    pairs = simval.simulate(config, n_paths=4 * BLOCK, keep_paths=0,
                            antithetic=True).sel(scenario="base")
    assert float(pairs.pv_mean_se) < 0.8 * float(plain.pv_mean_se)
    # both estimate the same thing
    diff = float(pairs.pv_mean - plain.pv_mean)
    assert abs(diff) <= 5 * math.hypot(float(pairs.pv_mean_se), float(plain.pv_mean_se))


def test_paired_estimate_reduces_to_iid_for_independent_pairs(rng):
    n = 200_000
    x = rng.random(n) < 0.3
    k = int(x.sum())
    k_both = int(x.reshape(-1, 2).all(axis=1).sum())
    est = paired_binomial_estimate(k, k_both, n)
    assert float(est.se) == pytest.approx(math.sqrt(0.3 * 0.7 / n), rel=0.02)
    assert float(est.low) < k / n < float(est.high)


@pytest.mark.slow
def test_identical_across_processes(tmp_path):
    code = ("import simval, sys; ds = simval.simulate('configs/schwartz_moon_amazon.toml', "
            "n_paths=5000, keep_paths=50, threads=int(sys.argv[2])); "
            "simval.save(ds, sys.argv[1])")
    for name, threads in (("a.nc", "1"), ("b.nc", "2")):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / name), threads], check=True,
                       cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    xr.testing.assert_identical(simval.open_results(tmp_path / "a.nc"),
                                simval.open_results(tmp_path / "b.nc"))
