"""Probabilities estimated from counts, with standard errors and exact intervals."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats

__all__ = ["BinomialEstimate", "binomial_estimate"]


class BinomialEstimate(NamedTuple):
    """A proportion with its standard error and a two-sided confidence interval."""

    p: np.ndarray
    se: np.ndarray
    low: np.ndarray
    high: np.ndarray


def binomial_estimate(k: np.ndarray | int, n: int, confidence: float = 0.95) -> BinomialEstimate:
    """Estimate P from ``k`` successes in ``n`` independent paths.

    Parameters
    ----------
    k : int or ndarray of int
        Successes (vectorised).
    n : int
        Trials.
    confidence : float, default: 0.95

    Returns
    -------
    BinomialEstimate
        ``p = k / n``, ``se = sqrt(p (1 - p) / n)`` and the Clopper-Pearson interval, exact
        (conservative) also at or near 0 and 1, from the beta quantiles in :mod:`scipy.stats`.

    Examples
    --------
    >>> est = binomial_estimate(0, 1000)
    >>> float(est.p), float(est.low), round(float(est.high), 5)
    (0.0, 0.0, 0.00368)
    """
    k = np.asarray(k, dtype=np.float64)
    if n <= 0:
        nan = np.full_like(k, np.nan)
        return BinomialEstimate(nan, nan, nan, nan)
    alpha = 1.0 - confidence
    p = k / n
    se = np.sqrt(p * (1.0 - p) / n)
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        high = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    return BinomialEstimate(p, se, low, high)
