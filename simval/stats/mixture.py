"""The ratio estimator over independent batches of paths, for statistics that combine
scenarios simulated on common random numbers (the scenario-weighted mixture)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special

__all__ = ["BatchEstimate", "batch_ratio_estimate"]


class BatchEstimate(NamedTuple):
    """An estimate with its standard error and 95% interval."""

    value: float
    se: float
    low: float
    high: float


def batch_ratio_estimate(y: np.ndarray, m: np.ndarray, confidence: float = 0.95,
                         bounds: tuple[float, float] = (-np.inf, np.inf)) -> BatchEstimate:
    """``theta = sum(y) / sum(m)`` from per-batch sums ``y_b`` over ``m_b`` paths, batches
    independent.

    The paths of one batch are dependent across scenarios (common random numbers), so ``y_b``
    (a weighted sum over scenarios of the batch's counts or sums) is what is independent: the
    variance is the ratio estimator's,
    ``B / (B - 1) * sum((y_b - theta m_b)^2) / (sum m_b)^2``, and the interval
    ``theta +- t_{B-1} se`` (:func:`scipy.special.stdtrit`: a run imports no scipy.stats),
    clipped to ``bounds``. NaN standard error and interval from fewer than two batches.

    Examples
    --------
    >>> est = batch_ratio_estimate(np.array([1.0, 3.0]), np.array([4, 4]))
    >>> float(est.value), float(est.se)
    (0.5, 0.25)
    """
    y = np.asarray(y, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    total = float(m.sum())
    theta = float(y.sum()) / total
    b = y.size
    if b < 2:
        return BatchEstimate(theta, np.nan, np.nan, np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        se = float(np.sqrt(b / (b - 1) * np.sum((y - theta * m) ** 2)) / total)
    half = float(special.stdtrit(b - 1, 0.5 + confidence / 2)) * se
    return BatchEstimate(theta, se, max(theta - half, bounds[0]), min(theta + half, bounds[1]))
