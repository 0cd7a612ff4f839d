"""Same config + seed => identical Dataset, whatever threads, chunks or companion scenarios."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import simval
from simval import layout
from simval.engine import kernels, runner
from simval.engine.runner import BLOCK
from simval.model.params import build_kernel_params, make_time_grid

N = 2 * BLOCK + 1000  # two full blocks and a partial one
SCHWARTZ_MOON = Path(__file__).resolve().parent.parent / "configs" / "schwartz_moon_amazon.toml"


@pytest.fixture(scope="module")
def reference(full_config):
    return simval.simulate(full_config, n_paths=N, keep_paths=N, threads=2)


def test_same_seed_identical(full_config, reference):
    again = simval.simulate(full_config, n_paths=N, keep_paths=N, threads=2)
    xr.testing.assert_identical(reference, again)


def test_thread_count_invariance(full_config, reference):
    one = simval.simulate(full_config, n_paths=N, keep_paths=N, threads=1)
    xr.testing.assert_identical(reference, one)


@pytest.mark.parametrize("chunk_size", [BLOCK, 2 * BLOCK])
def test_chunk_size_invariance(full_config, reference, chunk_size):
    chunked = simval.simulate(full_config, n_paths=N, keep_paths=N, chunk_size=chunk_size)
    xr.testing.assert_identical(reference, chunked)


def test_different_seed_differs(full_config, reference):
    other = simval.simulate(full_config, n_paths=N, keep_paths=N, seed=8)
    assert not np.array_equal(other.path_pv.values, reference.path_pv.values)


def test_scenario_alone_equals_scenario_in_company(full_config, reference):
    alone = simval.simulate(full_config, n_paths=N, keep_paths=N, scenarios=["harsh_chips"])
    both = reference.sel(scenario=["harsh_chips"])
    for name in alone.data_vars:
        if "contract" in alone[name].dims:
            continue
        xr.testing.assert_identical(alone[name], both[name])


def test_common_random_numbers(full_config, reference):
    """calm_market changes only the multiple's volatility: revenue paths are identical,
    market values differ."""
    base = reference.sel(scenario="base")
    calm = reference.sel(scenario="calm_market")
    np.testing.assert_array_equal(base.path_total_revenue, calm.path_total_revenue)
    np.testing.assert_array_equal(base.path_chip_shocks, calm.path_chip_shocks)
    assert not np.array_equal(base.path_market_value, calm.path_market_value)
    # harsher chips: on paths that survive both, the same uniforms give at least as many
    # shocks (Poisson inversion is monotone in the mean)
    harsh = reference.sel(scenario="harsh_chips")
    alive = np.isnan(harsh.path_bankruptcy_time) & np.isnan(base.path_bankruptcy_time)
    assert alive.mean() > 0.5
    assert (harsh.path_chip_shocks >= base.path_chip_shocks)[alive].all()
    assert (harsh.path_chip_shocks > base.path_chip_shocks)[alive].any()


def test_streams_do_not_depend_on_other_drivers():
    """A draw is a function of (seed, path, stream, step, slot) only."""
    from simval.engine.runner import seed_keys

    k0, k1 = seed_keys(3)
    a = np.empty(100)
    b = np.empty(100)
    kernels.fill_normals(k0, k1, 50, layout.STREAM_REVENUE, 4, 0, a)
    kernels.fill_normals(k0, k1, 0, layout.STREAM_REVENUE, 4, 0, np.empty(50))
    kernels.fill_normals(k0, k1, 50, layout.STREAM_REVENUE, 4, 0, b)
    np.testing.assert_array_equal(a, b)
    c = np.empty(100)
    kernels.fill_normals(k0, k1, 50, layout.STREAM_GROWTH, 4, 0, c)
    assert abs(np.corrcoef(a, c)[0, 1]) < 5 / np.sqrt(100)


def test_switching_a_driver_on_moves_no_other_draw(full_config):
    """Chips on with no effect on revenue: every revenue path is unchanged."""
    text = full_config.text + """
[scenarios.no_chips]
chips.enabled = false
[scenarios.inert_chips]
chips.enabled = true
commercial.capacity_elasticity = 0.0
contracts.ministry.capacity_elasticity = 0.0
chips.cost_sensitivity = 0.0
chips.multiple_jump_median = 1.0
chips.multiple_jump_dispersion = 0.0
[scenarios.no_chips_inert]
chips.enabled = false
commercial.capacity_elasticity = 0.0
contracts.ministry.capacity_elasticity = 0.0
"""
    config = simval.parse_config(text)
    ds = simval.simulate(config, n_paths=BLOCK, keep_paths=BLOCK,
                         scenarios=["inert_chips", "no_chips_inert"])
    on, off = ds.sel(scenario="inert_chips"), ds.sel(scenario="no_chips_inert")
    assert (on.path_chip_shocks > 0).any()
    for name in ("path_total_revenue", "path_cash", "path_market_value", "path_pv"):
        np.testing.assert_array_equal(on[name], off[name])


def test_pool_streams_do_not_depend_on_named_contracts(full_config):
    from simval.model.params import build_kernel_params, make_time_grid

    values = full_config.scenarios["base"]
    grid = make_time_grid(values)
    with_named = build_kernel_params(values, grid)
    without = dict(values, contracts={})
    without["slowdown"] = dict(values["slowdown"], contracts={})
    no_named = build_kernel_params(without, grid)
    np.testing.assert_array_equal(with_named.path.c_stream[with_named.n_named:],
                                  no_named.path.c_stream)
    assert len(set(with_named.path.c_stream.tolist())) == with_named.n_slots


TWO_LEVEL_PRIORS = """
[uncertainty]
draws = 3
method = "lhs"

[uncertainty.priors]
"chips.shock_rate" = { dist = "lognormal", median = 0.5, sigma = 0.4 }
"contracts.city.renewal_probability" = { dist = "beta", a = 8, b = 2 }
"""


@pytest.fixture(scope="module")
def two_level():
    from tests.conftest import FULL_CONFIG

    config = simval.parse_config(FULL_CONFIG + TWO_LEVEL_PRIORS, source="full.toml")
    return config, simval.simulate_draws(config, n_paths=N, keep_paths=N, threads=2)


def test_two_level_run_same_whatever_threads_and_chunks(two_level):
    """The draws, their common paths and the pooled statistics do not depend on threads or
    chunks."""
    config, reference = two_level
    xr.testing.assert_identical(
        reference, simval.simulate_draws(config, n_paths=N, keep_paths=N, threads=1))
    xr.testing.assert_identical(
        reference, simval.simulate_draws(config, n_paths=N, keep_paths=N, chunk_size=BLOCK))


def test_two_level_draws_run_on_common_random_numbers(two_level):
    """Draw 0 equals a one-level run of its drawn values: the same paths as every draw."""
    from simval.config.uncertainty import config_for_draw, read_uncertainty

    config, reference = two_level
    values = dict(zip(reference.parameter.values, reference.parameter_value.isel(draw=0).values,
                      strict=True))
    single = simval.simulate(config_for_draw(config, values, read_uncertainty(config)),
                             n_paths=N, keep_paths=N)
    xr.testing.assert_identical(reference.path_pv, single.path_pv)
    for name in ("p_collapse", "p_justified", "value_ratio"):
        np.testing.assert_array_equal(reference[f"{name}_by_draw"].isel(draw=0).values,
                                      single[name].values)


def _schwartz_moon_params(**path_changes):
    values = simval.load_config(SCHWARTZ_MOON).scenarios["base"]
    params = build_kernel_params(values, make_time_grid(values))
    return params._replace(path=params.path._replace(**path_changes))


@pytest.mark.parametrize("changes", [{}, {"antithetic": True}, {"timing_start": False}],
                         ids=["plain", "antithetic", "revenue_at_end"])
def test_plain_kernel_gives_the_general_kernels_numbers(changes):
    """The kernel compiled for plain paths (no driver beyond revenue and cash) is an
    optimisation only: every output equals the general kernel's, bit for bit."""
    params = _schwartz_moon_params(**changes)
    assert params.plain
    keys = runner.run_keys(11)
    plain = runner.simulate_chunk(params, keys, 4096 + 18, 300)  # runner picks the plain one
    general = runner.ChunkBuffers(params, 300)
    kernels.simulate_chunk(params.path, params.value, *keys, 4096 + 18, *general.outputs,
                           general.design, general.basis, *general.scratch)
    assert np.any(plain.counts[layout.COUNT_BANKRUPT_STEP] >= 0)  # the bankruptcy path too
    for got, expected in zip(plain[1:-1], general.outputs, strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("change", [
    {"path": {"tam_enabled": True}}, {"path": {"budget_enabled": True}},
    {"path": {"chips_enabled": True}}, {"path": {"expansion_enabled": True}},
    {"path": {"regime_enabled": True}}, {"path": {"market_enabled": True}},
    {"path": {"financing_enabled": True}}, {"path": {"n_slots": 1}},
    {"value": {"value_model": True}}, {"value": {"record_state": True}},
    {"value": {"sbc_dilution": 0.05}},
], ids=lambda change: next(iter(next(iter(change.values())))))
def test_any_driver_takes_the_general_kernel(change):
    params = _schwartz_moon_params()
    params = params._replace(path=params.path._replace(**change.get("path", {})),
                             value=params.value._replace(**change.get("value", {})))
    assert not params.plain
