"""The log-linear histogram grids: binning from a float's bits, accuracy of the quantiles read
back, and the fan plans that skip the rows whose values the parameters fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import simval
from simval.engine import runner
from simval.engine.histogram import FAN_GRID, VALUE_GRID, LogGrid
from simval.model.params import build_kernel_params, make_time_grid

ROOT = Path(__file__).resolve().parents[1]
GRIDS = [VALUE_GRID, FAN_GRID, LogGrid(low_exponent=-3, octaves=6, sub_bits=2)]


def _awkward(grid: LogGrid, rng: np.random.Generator) -> np.ndarray:
    """Values of both signs over the whole grid and beyond, edges, zeros and non-finites."""
    low, high = grid.low_exponent, grid.low_exponent + grid.octaves
    x = np.ldexp(rng.uniform(1.0, 2.0, 20_000), rng.integers(low - 3, high + 3, 20_000))
    x *= rng.choice([-1.0, 1.0], x.size)
    edges = np.ldexp(1.0, np.arange(low - 1, high + 2))
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, np.nextafter(grid.edge, 0.0)]
    return np.concatenate([x, edges, -edges, np.nextafter(edges, 0.0), special])


@pytest.mark.parametrize("grid", GRIDS)
def test_kernel_bins_like_the_grid(grid, rng):
    values = _awkward(grid, rng)
    hist = np.zeros(grid.n_bins, dtype=np.int64)
    runner._hist(values, hist, grid)
    np.testing.assert_array_equal(hist, np.bincount(grid.bins(values), minlength=grid.n_bins))


@pytest.mark.parametrize("grid", GRIDS)
def test_each_value_lies_in_its_bin_and_bins_are_narrow(grid, rng):
    values = _awkward(grid, rng)
    values = values[np.isfinite(values) & (np.abs(values) >= 2.0 ** grid.low_exponent)
                    & (np.abs(values) < grid.inner_edge)]
    b = grid.bins(values)
    along = np.where(values > 0, b - grid.n_side - 1, grid.n_side - 1 - b)  # bin on its side
    low, high = grid._magnitude(along.astype(float)), grid._magnitude(along + 1.0)
    assert (low <= np.abs(values)).all() and (np.abs(values) < high).all()
    assert ((high - low) / low).max() <= grid.relative_width
    np.testing.assert_array_equal(grid.value(b + 0.5), np.sign(values) * (low + high) / 2)
    # zero bin, the outermost bins and NaN
    assert grid.bins(np.array([0.0, -0.0, np.nan, 2.0 ** (grid.low_exponent - 1)])).tolist() \
        == [grid.n_side] * 4
    assert grid.bins(np.array([np.inf, -np.inf, 4 * grid.edge])).tolist() == \
        [grid.n_bins - 1, 0, grid.n_bins - 1]


@pytest.mark.parametrize("grid", GRIDS)
def test_positions_map_to_increasing_values(grid):
    position = np.linspace(0.0, grid.n_bins, 100_003)
    value = grid.value(position)
    assert (np.diff(value) >= 0).all()
    assert grid.value(np.array([grid.n_side + 0.5]))[0] == 0.0
    assert grid.value(np.array([grid.n_bins - 1.0]))[0] == grid.inner_edge


@pytest.mark.parametrize("grid", [VALUE_GRID, FAN_GRID])
def test_quantiles_are_within_a_bin_of_the_sample_quantiles(grid, rng):
    """The documented accuracy: a quantile read from the histogram is within one bin's
    relative width (at most grid.relative_width) of the exact sample quantile."""
    for x in (rng.lognormal(20.0, 2.0, 100_000), -rng.lognormal(3.0, 0.5, 100_000),
              rng.normal(0.0, 1e6, 100_000)):
        counts = np.zeros(grid.n_bins, dtype=np.int64)
        runner._hist(x, counts, grid)
        probs = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
        est = grid.quantile(counts, probs)
        exact = np.quantile(x, probs, method="inverted_cdf")
        np.testing.assert_allclose(est, exact, rtol=grid.relative_width)


def _scenario_params():
    for path in sorted((ROOT / "configs").glob("*.toml")):
        config = simval.load_config(path)
        for name, values in config.scenarios.items():
            yield f"{path.stem}:{name}", values


@pytest.mark.parametrize("label,values", list(_scenario_params()),
                         ids=[label for label, _ in _scenario_params()])
def test_fan_plans_count_what_binning_every_row_counts(label, values):
    grid = make_time_grid(values)
    params = build_kernel_params(values, grid)
    chunk = runner.simulate_chunk(params, runner.run_keys(7), 0, 512)
    planned = runner.ScenarioAccumulator(grid.n_steps, params.n_named, 0, 1.0, None)
    every = runner.ScenarioAccumulator(grid.n_steps, params.n_named, 0, 1.0, None)
    planned.add_chunk(*chunk)
    every.add_chunk(*chunk[:-1])  # no plans: every row binned
    np.testing.assert_array_equal(planned.fan_hist, every.fan_hist)
    np.testing.assert_array_equal(planned.source_hist, every.source_hist)


def test_the_schwartz_moon_plan_reads_three_series():
    values = simval.load_config(ROOT / "configs" / "schwartz_moon_amazon.toml").scenarios["base"]
    params = build_kernel_params(values, make_time_grid(values))
    series, sources = runner.fan_plans(params.path, params.value.value_model)
    assert len(series.rows) == 3 and (series.copies >= 0).sum() == 1
    assert len(sources.rows) == 0
