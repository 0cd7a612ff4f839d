"""The counter-based generator: uniforms and ziggurat normals against their distributions."""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import stats

from simval import layout
from simval.engine import kernels
from simval.engine.runner import seed_keys

SEED = int(os.environ.get("SIMVAL_TEST_SEED", "20261122"))
N = 2_000_000


@pytest.fixture(scope="module")
def normals():
    k0, k1 = seed_keys(SEED)
    out = np.empty(N)
    kernels.fill_normals(k0, k1, 0, layout.STREAM_REVENUE, 7, 3, out)
    return out


@pytest.fixture(scope="module")
def uniforms():
    k0, k1 = seed_keys(SEED)
    out = np.empty(N)
    kernels.fill_uniforms(k0, k1, 0, layout.STREAM_REGIME, 7, 3, out)
    return out


def test_normal_ks(normals):
    assert stats.kstest(normals, "norm").pvalue > 1e-4
    assert stats.kstest(normals, "norm", args=(0.0, 1.01)).pvalue < 1e-4  # wrong scale


@pytest.mark.parametrize("level", [1.0, 2.0, 3.0, 3.442619855899, 4.0])
def test_normal_tails(normals, level):
    """Two-sided tail mass, including the ziggurat's base strip and tail (beyond 3.44)."""
    p = 2 * stats.norm.sf(level)
    se = np.sqrt(p * (1 - p) / N)
    est = np.mean(np.abs(normals) > level)
    assert abs(est - p) <= 5 * se
    assert abs(est - (p + 10 * se)) > 5 * se  # a target 10 s.e. off is rejected


def test_normal_moments(normals):
    assert abs(normals.mean()) <= 5 / np.sqrt(N)
    assert abs(normals.var() - 1) <= 5 * np.sqrt(2 / N)
    assert abs(stats.skew(normals)) <= 5 * np.sqrt(6 / N)
    assert abs(stats.kurtosis(normals)) <= 5 * np.sqrt(24 / N)


def test_uniform(uniforms):
    assert uniforms.min() >= 0 and uniforms.max() < 1
    assert stats.kstest(uniforms, "uniform").pvalue > 1e-4
    assert stats.kstest(uniforms, "uniform", args=(0.0, 1.01)).pvalue < 1e-4


def test_streams_and_neighbours_are_uncorrelated(normals):
    k0, k1 = seed_keys(SEED)
    other = np.empty(N)
    for stream, step, slot in ((layout.STREAM_GROWTH, 7, 3), (layout.STREAM_REVENUE, 8, 3),
                               (layout.STREAM_REVENUE, 7, 4)):
        kernels.fill_normals(k0, k1, 0, stream, step, slot, other)
        assert abs(np.corrcoef(normals, other)[0, 1]) <= 5 / np.sqrt(N)
    # consecutive paths of one stream
    assert abs(np.corrcoef(normals[:-1], normals[1:])[0, 1]) <= 5 / np.sqrt(N)


def test_seeds_give_unrelated_streams(normals):
    k0, k1 = seed_keys(SEED + 1)
    other = np.empty(N)
    kernels.fill_normals(k0, k1, 0, layout.STREAM_REVENUE, 7, 3, other)
    assert abs(np.corrcoef(normals, other)[0, 1]) <= 5 / np.sqrt(N)


def test_poisson_inversion():
    k0, k1 = seed_keys(SEED)
    u = np.empty(N)
    kernels.fill_uniforms(k0, k1, 0, layout.STREAM_CHIPS, 0, 0, u)
    mean = 1.3
    counts = np.array([kernels.poisson(x, mean, 16) for x in u[:200_000]])
    observed = np.bincount(counts, minlength=9)[:9]
    expected = stats.poisson.pmf(np.arange(9), mean) * counts.size
    keep = expected > 20
    assert stats.chisquare(observed[keep], expected[keep] * observed[keep].sum()
                           / expected[keep].sum()).pvalue > 1e-4
