"""The interval functions equal scipy.stats' own, and a plain run does not import scipy.stats.

simval computes its Clopper-Pearson bounds and order-statistic ranks from scipy.special, so
that ``import simval`` and a run do not pay for importing scipy.stats (over a second); these
tests hold them to the scipy.stats definitions they replace.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from simval.stats.distribution import binomial_quantile
from simval.stats.probabilities import binomial_estimate

ROOT = Path(__file__).resolve().parents[1]
SIZES = [1, 2, 3, 7, 10, 99, 100, 1000, 4096, 12_345, 10**6, 10**8, 2**31 - 1]


@pytest.mark.parametrize("n", SIZES)
def test_binomial_quantile_is_scipy_binom_ppf(n):
    probs = np.array([0.0, 1e-6, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0])
    for q in (1e-9, 0.005, 0.025, 0.975, 0.995, 1 - 1e-9):
        np.testing.assert_array_equal(binomial_quantile(q, n, probs),
                                      stats.binom.ppf(q, n, probs), err_msg=f"q={q}")


def test_binomial_quantile_broadcasts_like_scipy():
    n = np.array([[1000], [5000], [77]])
    probs = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    np.testing.assert_array_equal(binomial_quantile(0.025, n, probs),
                                  stats.binom.ppf(0.025, n, probs))


@pytest.mark.parametrize("n", [1, 10, 1000, 100_000])
def test_clopper_pearson_is_scipy_beta_ppf(n):
    k = np.unique(np.linspace(0, n, 201).round())
    est = binomial_estimate(k, n)
    low = np.where(k > 0, stats.beta.ppf(0.025, k, n - k + 1), 0.0)
    high = np.where(k < n, stats.beta.ppf(0.975, k + 1, n - k), 1.0)
    np.testing.assert_allclose(est.low, low, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(est.high, high, rtol=1e-12, atol=1e-15)


@pytest.mark.slow
def test_a_run_does_not_import_scipy_stats_or_plotting():
    code = ("import json, sys, simval\n"
            "simval.simulate('configs/schwartz_moon_amazon.toml', n_paths=64, keep_paths=0)\n"
            "heavy = ('scipy.stats', 'scipy.optimize', 'matplotlib', 'SALib')\n"
            "print(json.dumps([m for m in heavy if m in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=ROOT)
    assert json.loads(out.stdout.splitlines()[-1]) == []
