"""Signed logarithmic histogram grids for streamed quantiles.

Quantiles of every simulated quantity are read from integer histograms, so they are exact
functions of the set of paths (not of their order, chunking or threads) and need memory that
does not grow with the number of paths. A grid has ``bins_per_decade`` bins per decade of
``|x|`` from ``10**log_low`` to ``10**(log_low + decades)``, mirrored for negative values, and
one bin for zero (and anything smaller in magnitude than ``10**log_low``). Values beyond the
top edge land in the outermost bin, so a quantile that falls in an outermost bin is out of the
grid's range (:meth:`LogGrid.side`), not a measured value.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["FAN_GRID", "VALUE_GRID", "LogGrid"]


@dataclasses.dataclass(frozen=True)
class LogGrid:
    """A signed log grid; bins are [negatives (most negative first), zero, positives]."""

    log_low: float
    decades: int
    bins_per_decade: int

    @property
    def n_side(self) -> int:
        return self.decades * self.bins_per_decade

    @property
    def n_bins(self) -> int:
        return 2 * self.n_side + 1

    @property
    def relative_width(self) -> float:
        """Width of a bin relative to its lower edge."""
        return 10.0 ** (1.0 / self.bins_per_decade) - 1.0

    def value(self, position: np.ndarray) -> np.ndarray:
        """Value at a continuous bin position (bin index + fraction within the bin).

        Positions inside a bin are interpolated log-linearly; the zero bin maps to 0.
        """
        position = np.asarray(position, dtype=np.float64)
        n = self.n_side
        out = np.zeros_like(position)
        pos = position >= n + 1
        neg = position < n
        out[pos] = 10.0 ** (self.log_low + (position[pos] - n - 1) / self.bins_per_decade)
        out[neg] = -(10.0 ** (self.log_low + (n - position[neg]) / self.bins_per_decade))
        return out

    def quantile(self, counts: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """Quantiles ``probs`` of the distribution with histogram ``counts`` (last axis).

        The q-quantile is the value of rank ``q * n`` (a continuous rank, interpolated
        uniformly within the bin that holds it, on the log scale).
        """
        return self.value_at_rank(counts, np.asarray(probs) * counts.sum(axis=-1,
                                                                         keepdims=True))

    @property
    def edge(self) -> float:
        """The grid's outer edge ``10**(log_low + decades)``: the outermost bins hold everything
        beyond it (and beyond ``-edge``), so a statistic there is out of range."""
        return 10.0 ** (self.log_low + self.decades)

    def value_at_rank(self, counts: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        """Values at continuous ranks (0 .. n) of a histogram (last axis = bins).

        ``ranks`` broadcasts against ``counts`` without its last axis plus one trailing axis.
        """
        position = self.position_at_rank(counts, ranks)
        return np.where(np.isnan(position), np.nan, self.value(position))

    def side(self, position: np.ndarray) -> np.ndarray:
        """+1 where a bin position is in the outermost positive bin (at or beyond ``edge``),
        -1 in the outermost negative bin, 0 inside the grid; positions may be NaN (no paths)."""
        position = np.asarray(position, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return np.where(position >= self.n_bins - 1, 1, np.where(position < 1, -1, 0))

    def position_at_rank(self, counts: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        """Continuous bin positions (bin index + fraction) at ranks, as
        :meth:`value_at_rank` (NaN where the histogram is empty)."""
        counts = np.asarray(counts)
        cdf = np.cumsum(counts, axis=-1)
        ranks = np.broadcast_to(np.asarray(ranks, dtype=np.float64),
                                counts.shape[:-1] + np.shape(ranks)[-1:])
        flat_cdf = cdf.reshape(-1, cdf.shape[-1])
        flat_counts = counts.reshape(-1, counts.shape[-1])
        flat_ranks = ranks.reshape(flat_cdf.shape[0], -1)
        out = np.full(flat_ranks.shape, np.nan)
        for row in range(flat_cdf.shape[0]):
            total = flat_cdf[row, -1]
            if total == 0:
                continue
            r = np.clip(flat_ranks[row], 0.0, total)
            b = np.searchsorted(flat_cdf[row], r, side="left")
            b = np.minimum(b, flat_cdf.shape[1] - 1)
            # skip empty bins at a rank that sits exactly on a bin edge
            below = np.where(b > 0, flat_cdf[row, np.maximum(b - 1, 0)], 0)
            in_bin = flat_counts[row, b]
            frac = np.where(in_bin > 0, (r - below) / np.maximum(in_bin, 1), 0.5)
            out[row] = b + frac
        return out.reshape(ranks.shape)


VALUE_GRID = LogGrid(log_low=-6.0, decades=24, bins_per_decade=2000)
"""Fine grid for headline distributions (PV, terminal revenue): 0.115% bins."""

FAN_GRID = LogGrid(log_low=-8.0, decades=26, bins_per_decade=200)
"""Grid for the quantile fans over time: 1.16% bins, interpolated within."""
