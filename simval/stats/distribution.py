"""Quantiles (with order-statistic intervals) and means from streamed accumulators."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special

from simval.engine.histogram import LogGrid

__all__ = ["QuantileEstimate", "binomial_quantile", "histogram_quantiles", "out_of_range_note"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantile levels every run reports."""


class QuantileEstimate(NamedTuple):
    """Quantiles with a distribution-free confidence interval each."""

    value: np.ndarray
    low: np.ndarray
    high: np.ndarray


def binomial_quantile(q: np.ndarray | float, n: np.ndarray | int,
                      p: np.ndarray | float) -> np.ndarray:
    """Smallest integer ``k`` with P(Binomial(n, p) <= k) >= q, as ``scipy.stats.binom.ppf``.

    From the binomial distribution function of :mod:`scipy.special` (``bdtrik`` for a first
    guess, ``bdtr`` to settle it), which spares importing :mod:`scipy.stats` (over a second)
    at start-up.

    Examples
    --------
    >>> binomial_quantile(0.025, 1000, 0.5), binomial_quantile(0.975, 1000, 0.5)
    (469.0, 531.0)
    """
    q, n, p = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (q, n, p)))
    n_int = n.astype(np.int64)

    def cdf(k: np.ndarray) -> np.ndarray:
        return special.bdtr(np.clip(k, 0, n_int), n_int, p)

    with np.errstate(invalid="ignore"):
        k = np.clip(np.ceil(np.nan_to_num(special.bdtrik(q, n, p))), 0.0, n).astype(np.int64)
    for _ in range(2):  # the guess is within one of the answer
        k = np.where((k > 0) & (cdf(k - 1) >= q), k - 1, k)
        k = np.where((k < n_int) & (cdf(k) < q), k + 1, k)
    k = k.astype(np.float64)
    return k if k.ndim else float(k)


def histogram_quantiles(counts: np.ndarray, grid: LogGrid, probs=QUANTILES,
                        confidence: float = 0.95) -> QuantileEstimate:
    """Quantiles of the distribution whose histogram on ``grid`` is ``counts`` (last axis).

    Parameters
    ----------
    counts : ndarray of int, shape (..., grid.n_bins), or a list of such arrays
        A list is read as the stack of its arrays (without copying them into one).
    grid : LogGrid
    probs : sequence of float
    confidence : float, default: 0.95

    Returns
    -------
    QuantileEstimate
        Arrays of shape ``counts.shape[:-1] + (len(probs),)``. The interval runs between the
        order statistics of ranks ``binom.ppf(a/2, n, q)`` and ``binom.ppf(1 - a/2, n, q) + 1``
        (the distribution-free interval for a quantile), read from the same histogram; a
        side is infinite when the paths are too few for that rank to exist. A quantile in an
        outermost bin of the grid (beyond ``grid.edge``, where everything larger lands) is out
        of range: NaN, with its interval open on that side (+inf above, -inf below).

    Notes
    -----
    Within a bin, values are interpolated linearly, so the binning error is below the bin's
    relative width (at most ``grid.relative_width``).
    """
    if isinstance(counts, list | tuple):  # the rows of a stack, read without making it
        rows = [histogram_quantiles(c, grid, probs, confidence) for c in counts]
        return QuantileEstimate(*(np.stack(part) for part in zip(*rows, strict=True)))
    probs = np.asarray(probs, dtype=np.float64)
    totals = grid.totals(counts)
    n = totals[..., None]
    alpha = 1.0 - confidence
    # the order statistics' ranks depend on n alone: one computation per distinct n
    distinct, where = np.unique(n, return_inverse=True)
    shape = n.shape[:-1] + probs.shape
    low_rank = binomial_quantile(alpha / 2, distinct[:, None], probs)[where].reshape(shape)
    high_rank = binomial_quantile(1 - alpha / 2, distinct[:, None], probs)[where].reshape(
        shape) + 1
    # the quantiles and both bounds (too few paths for the interval to close on a side: that
    # side is unbounded) from one pass over the histogram
    k = probs.shape[-1]
    positions = grid.position_at_rank(counts, np.concatenate(
        [np.broadcast_to(probs * n, shape), np.maximum(low_rank, 1), np.minimum(high_rank, n)],
        axis=-1), totals)
    position, low_pos, high_pos = (positions[..., :k], positions[..., k:2 * k],
                                   positions[..., 2 * k:])
    value = _values(grid, position)
    low = np.where(low_rank < 1, -np.inf, _values(grid, low_pos))
    high = np.where(high_rank > n, np.inf, _values(grid, high_pos))
    # beyond the grid's edge: the quantile is out of range (NaN), the interval opens on that
    # side; a bound inside an outermost bin is the bin's inner edge, which it certainly passes
    inner = grid.inner_edge
    value = np.where(grid.side(position) != 0, np.nan, value)
    low = np.where(grid.side(low_pos) > 0, inner, np.where(grid.side(low_pos) < 0, -np.inf, low))
    high = np.where(grid.side(high_pos) < 0, -inner,
                    np.where(grid.side(high_pos) > 0, np.inf, high))
    return QuantileEstimate(value, low, high)


def _values(grid: LogGrid, position: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(position), np.nan, grid.value(position))


def out_of_range_note(grid: LogGrid) -> str:
    """The attribute text of a quantile variable that explains its NaNs."""
    return (f"NaN where the quantile lies beyond the edge of the streamed histogram (values "
            f"above {grid.edge:.0e} or below {-grid.edge:.0e}, or no paths): out of range, not "
            "measured; the interval is then open on that side")
