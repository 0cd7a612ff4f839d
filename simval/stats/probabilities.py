"""Probabilities estimated from counts, with standard errors and exact intervals."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special

__all__ = ["BinomialEstimate", "binomial_estimate", "paired_binomial_estimate"]


class BinomialEstimate(NamedTuple):
    """A proportion with its standard error and a two-sided confidence interval."""

    p: np.ndarray
    se: np.ndarray
    low: np.ndarray
    high: np.ndarray


def binomial_estimate(k: np.ndarray | int, n: np.ndarray | int,
                      confidence: float = 0.95) -> BinomialEstimate:
    """Estimate P from ``k`` successes in ``n`` independent paths.

    Parameters
    ----------
    k : int or ndarray of int
        Successes (vectorised).
    n : int or ndarray of int
        Trials (broadcast against ``k``).
    confidence : float, default: 0.95

    Returns
    -------
    BinomialEstimate
        ``p = k / n``, ``se = sqrt(p (1 - p) / n)`` (NaN for a single path: a standard
        error needs at least two) and the Clopper-Pearson interval, exact
        (conservative) also at or near 0 and 1, from the beta quantiles
        (:func:`scipy.special.betaincinv`, which ``scipy.stats.beta.ppf`` evaluates).

    Examples
    --------
    >>> est = binomial_estimate(0, 1000)
    >>> float(est.p), float(est.low), round(float(est.high), 5)
    (0.0, 0.0, 0.00368)
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if np.any(n <= 0):
        raise ValueError("binomial_estimate needs n > 0 trials")
    alpha = 1.0 - confidence
    p = k / n
    se = np.where(n >= 2, np.sqrt(p * (1.0 - p) / n), np.nan)  # no spread from one path
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, special.betaincinv(k, n - k + 1, alpha / 2), 0.0)
        high = np.where(k < n, special.betaincinv(k + 1, n - k, 1 - alpha / 2), 1.0)
    return BinomialEstimate(p, se, low, high)


def paired_binomial_estimate(k: np.ndarray | int, k_both: np.ndarray | int, n: int,
                             confidence: float = 0.95) -> BinomialEstimate:
    """Estimate P from ``n`` paths simulated as ``n / 2`` antithetic pairs.

    The paths of a pair are dependent, so the standard error is that of the mean of the
    ``n / 2`` independent pair averages ``(I_a + I_b) / 2``, computed from ``k`` (paths with the
    event) and ``k_both`` (pairs whose two paths both have it). The interval is the
    Clopper-Pearson interval at the effective sample size ``p (1 - p) / se**2`` (the i.i.d.
    interval when ``se`` is 0).

    Parameters
    ----------
    k, k_both : int or ndarray of int
    n : int
        Paths, even.
    confidence : float, default: 0.95

    Returns
    -------
    BinomialEstimate
        ``se`` is NaN for a single pair (a standard error needs at least two).

    Examples
    --------
    >>> est = paired_binomial_estimate(500, 0, 1000)  # every pair splits: no variance left
    >>> float(est.p), float(est.se)
    (0.5, 0.0)
    """
    k = np.asarray(k, dtype=np.float64)
    k_both = np.asarray(k_both, dtype=np.float64)
    pairs = n / 2
    p = k / n
    sum_sq = k_both + (k - 2 * k_both) / 4  # sum over pairs of the squared pair average
    var = np.maximum(sum_sq - (k / 2) ** 2 / pairs, 0.0) / max(pairs - 1, 1)
    se = np.sqrt(var / pairs)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(se > 0, p * (1 - p) / se**2, n)
    se = np.where(pairs >= 2, se, np.nan)  # one pair: no spread to measure
    k_eff = p * n_eff
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore"):
        low = np.where(k_eff > 0, special.betaincinv(k_eff, n_eff - k_eff + 1, alpha / 2), 0.0)
        high = np.where(k_eff < n_eff,
                        special.betaincinv(k_eff + 1, n_eff - k_eff, 1 - alpha / 2), 1.0)
    return BinomialEstimate(p, se, low, high)
