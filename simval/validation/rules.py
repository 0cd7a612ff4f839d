"""The rules by which a simulated statistic is compared with its closed form.

- **z checks**: ``deviation = (estimate − truth)/SE``; passed iff ``|deviation| ≤ k``. SEs:
  sample standard error of a mean; ``√((m₄ − s⁴(n−3)/(n−1))/n)`` for a sample variance
  (``m₄`` the sample fourth central moment); ``√(p̃(1 − p̃)/n)`` with ``p̃ = (x + ½)/(n + 1)``
  for a probability estimated from ``x`` of ``n`` paths (the binomial SE, kept away from 0 at
  ``x ∈ {0, n}``); the order-statistic interval of a streamed quantile divided by 2·1.96.
- **vector checks** compare m points (every time step, mean and variance, ...) and use the
  largest ``|deviation|`` with ``k = 5``: the family-wise false-alarm rate under normality is
  at most ``m·5.7·10⁻⁷``. Scalar and two-point checks use ``k = 4`` (``6.3·10⁻⁵`` per point).
- **distribution tests** (Kolmogorov–Smirnov, χ²) pass iff the p-value is at least
  ``α = 2Φ(−k)`` (``k = 4``: ``α = 6.3·10⁻⁵``), Bonferroni-split over several tests; the reported
  deviation is the normal equivalent ``Φ⁻¹(1 − p/2)``, so every row reads on one scale.
- A wrong target is rejected iff the same rule fails for it.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats

__all__ = ["K_SCALAR", "K_VECTOR", "Outcome", "chi2_pvalue", "column_moments", "count_hist",
           "distribution_tests", "mean_and_se", "p_to_z", "prob_se", "variance_and_se",
           "z_test"]

K_SCALAR = 4.0
"""Tolerance in standard errors of scalar and two-point checks, and of distribution tests."""

K_VECTOR = 5.0
"""Tolerance in standard errors of vector checks (the largest |deviation| of m points)."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a check's body returns: the comparison by one rule; the check adds its metadata
    (:class:`simval.validation.checks.CheckResult` documents the fields)."""

    method: str
    points: int
    estimate: float
    truth: float
    se: float
    k: float
    deviation: float
    wrong_target: float
    wrong_deviation: float
    p_value: float = math.nan
    wrong_p_value: float = math.nan
    note: str = ""


def z_test(estimate, truth, se, wrong, k: float | None = None, note: str = "") -> Outcome:
    """Compare one or more points; the largest |deviation| decides."""
    est = np.atleast_1d(np.asarray(estimate, dtype=float))
    tru = np.atleast_1d(np.asarray(truth, dtype=float))
    err = np.atleast_1d(np.asarray(se, dtype=float))
    wro = np.atleast_1d(np.asarray(wrong, dtype=float))
    est, tru, err, wro = np.broadcast_arrays(est, tru, err, wro)

    def dev(target: np.ndarray) -> np.ndarray:
        diff = est - target
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(err > 0, diff / err, np.where(diff == 0, 0.0, np.inf * np.sign(diff)))
        return d

    d_true, d_wrong = dev(tru), dev(wro)
    i = int(np.argmax(np.abs(d_true)))
    j = int(np.argmax(np.abs(d_wrong)))
    m = est.size
    if k is None:
        k = K_SCALAR if m <= 2 else K_VECTOR
    return Outcome("z" if m == 1 else "max|z|", m, est[i], tru[i], err[i], k, d_true[i],
                    wro[j], d_wrong[j], note=note)


def p_to_z(p: float) -> float:
    """Two-sided normal equivalent of a p-value."""
    return float(stats.norm.isf(max(p, 0.0) / 2.0)) if p > 0 else math.inf


def distribution_tests(p_values: list[float], statistics: list[float], wrong_p_values: list[float],
           method: str, note: str = "") -> Outcome:
    """Distribution tests, Bonferroni-combined: min p times the number of tests."""
    m = len(p_values)
    p = min(1.0, m * min(p_values))
    pw = min(1.0, m * min(wrong_p_values))
    i = int(np.argmin(p_values))
    return Outcome(method, m, statistics[i], math.nan, math.nan, K_SCALAR, p_to_z(p),
                    math.nan, p_to_z(pw), p_value=p, wrong_p_value=pw, note=note)


def mean_and_se(x: np.ndarray) -> tuple[float, float]:
    """Sample mean and its standard error."""
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def variance_and_se(x: np.ndarray) -> tuple[float, float]:
    """Sample variance and its standard error ``√((m₄ − s⁴(n−3)/(n−1))/n)``."""
    x = np.asarray(x, dtype=float)
    n = x.size
    c = x - x.mean()
    s2 = float(c @ c / (n - 1))
    m4 = float(np.mean(c**4))
    return s2, math.sqrt(max(m4 - s2 * s2 * (n - 3) / (n - 1), 0.0) / n)


def column_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean, its SE, variance and its SE of a (paths, points) array."""
    n = x.shape[0]
    mean = x.mean(axis=0)
    c = x - mean
    s2 = (c * c).sum(axis=0) / (n - 1)
    m4 = (c**4).mean(axis=0)
    return (mean, np.sqrt(s2 / n), s2,
            np.sqrt(np.maximum(m4 - s2 * s2 * (n - 3) / (n - 1), 0.0) / n))


def prob_se(p_hat, n: int) -> np.ndarray:
    """Binomial SE at ``p̃ = (x + ½)/(n + 1)``."""
    x = np.asarray(p_hat, dtype=float) * n
    pt = (x + 0.5) / (n + 1)
    return np.sqrt(pt * (1 - pt) / n)


def chi2_pvalue(counts: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    """Pearson χ² of observed ``counts`` against ``probs`` (same bins, summing to 1).

    Adjacent bins are pooled until every pooled bin expects at least 5 paths; a bin of
    probability 0 with any observation gives p = 0.
    """
    counts = np.asarray(counts, dtype=float)
    probs = np.asarray(probs, dtype=float)
    n = counts.sum()
    if np.any((probs <= 0) & (counts > 0)):
        return math.inf, 0.0
    exp_ = n * probs
    groups_o, groups_e = [], []
    acc_o = acc_e = 0.0
    for o, e in zip(counts, exp_, strict=True):
        acc_o += o
        acc_e += e
        if acc_e >= 5.0:
            groups_o.append(acc_o)
            groups_e.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0 or acc_o > 0:
        groups_o[-1] += acc_o
        groups_e[-1] += acc_e
    go, ge = np.array(groups_o), np.array(groups_e)
    stat = float(np.sum((go - ge) ** 2 / ge))
    dof = go.size - 1
    return stat, float(stats.chi2.sf(stat, dof)) if dof > 0 else 1.0


def count_hist(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Counts of the integers 0 … n_bins−2 and of ``≥ n_bins−1`` in the last bin."""
    x = np.asarray(x).astype(np.int64)
    return np.bincount(np.minimum(x, n_bins - 1), minlength=n_bins)[:n_bins]
