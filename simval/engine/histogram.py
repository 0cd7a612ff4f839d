"""Signed log-linear histogram grids for streamed quantiles.

Quantiles of every simulated quantity are read from integer histograms, so they are exact
functions of the set of paths (not of their order, chunking or threads) and need memory that
does not grow with the number of paths.

A grid is log-linear, as in HdrHistogram: the bin of ``|x|`` is read off the bits of the
float64 itself, its binary exponent and the top ``sub_bits`` bits of its mantissa, so binning
takes a few integer operations and no logarithm (:func:`simval.engine.kernels.bin_index`).
Each octave ``[2**e, 2**(e + 1))`` from ``2**low_exponent`` to ``2**(low_exponent +
octaves)`` is cut into ``2**sub_bits`` bins of equal width, so a bin is at most ``2**-sub_bits``
of its lower edge wide; negative values are mirrored, and one bin holds zero (and anything
smaller in magnitude than ``2**low_exponent``). Values beyond the top edge land in the
outermost bin, so a quantile that falls in an outermost bin is out of the grid's range
(:meth:`LogGrid.side`), not a measured value.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from simval.engine import kernels

__all__ = ["FAN_GRID", "VALUE_GRID", "LogGrid"]

_EXPONENT_BIAS = 1023
_MANTISSA_BITS = 52


@dataclasses.dataclass(frozen=True)
class LogGrid:
    """A signed log-linear grid; bins are [negatives (most negative first), zero, positives].

    Parameters
    ----------
    low_exponent : int
        ``|x| < 2**low_exponent`` goes to the zero bin.
    octaves : int
        Octaves covered above ``2**low_exponent``; the top edge is
        ``2**(low_exponent + octaves)``.
    sub_bits : int
        Bits of the mantissa that pick the bin within an octave (``2**sub_bits`` bins).
    """

    low_exponent: int
    octaves: int
    sub_bits: int

    @property
    def n_side(self) -> int:
        return self.octaves << self.sub_bits

    @property
    def n_bins(self) -> int:
        return 2 * self.n_side + 1

    @property
    def relative_width(self) -> float:
        """Largest width of a bin relative to its lower edge (that of an octave's first bin)."""
        return 2.0 ** -self.sub_bits

    @property
    def shift(self) -> int:
        """Right shift of the bits of ``|x|`` that leaves exponent and top mantissa bits."""
        return _MANTISSA_BITS - self.sub_bits

    @property
    def offset(self) -> int:
        """The shifted bits of ``2**low_exponent``: subtracted, they give the bin on a side."""
        return (self.low_exponent + _EXPONENT_BIAS) << self.sub_bits

    @property
    def low_bits(self) -> int:
        """The bits of ``2**low_exponent`` as an integer: smaller magnitudes are zero."""
        return (self.low_exponent + _EXPONENT_BIAS) << _MANTISSA_BITS

    @property
    def edge(self) -> float:
        """The grid's outer edge ``2**(low_exponent + octaves)``: the outermost bins hold
        everything beyond it (and beyond ``-edge``), so a statistic there is out of range."""
        return 2.0 ** (self.low_exponent + self.octaves)

    @property
    def inner_edge(self) -> float:
        """Lower edge of the outermost positive bin (anything there is at least this)."""
        return self.edge * (1.0 - 2.0 ** -(self.sub_bits + 1))

    def bins(self, values: np.ndarray) -> np.ndarray:
        """Bin of each value (NaN in the zero bin), as the kernels bin (for tests and tools)."""
        bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
        magnitude = bits & np.int64(0x7FFFFFFFFFFFFFFF)
        side = np.minimum((magnitude >> self.shift) - self.offset, self.n_side - 1)
        out = np.where(bits < 0, self.n_side - 1 - side, self.n_side + 1 + side)
        nan = magnitude > np.int64(0x7FF0000000000000)
        return np.where((magnitude < self.low_bits) | nan, self.n_side, out)

    def _magnitude(self, b: np.ndarray) -> np.ndarray:
        """``|x|`` at a continuous position ``b`` (0 .. n_side) along one side: linear within
        each bin (and each octave)."""
        octave = np.floor(b / (1 << self.sub_bits))
        within = b - octave * (1 << self.sub_bits)
        return np.ldexp(1.0 + within / (1 << self.sub_bits),
                        (self.low_exponent + octave).astype(np.int64))

    def value(self, position: np.ndarray) -> np.ndarray:
        """Value at a continuous bin position (bin index + fraction within the bin).

        Positions inside a bin are interpolated linearly (the bin's values are evenly spaced,
        like the bins of its octave); the zero bin maps to 0.
        """
        position = np.asarray(position, dtype=np.float64)
        n = self.n_side
        out = np.zeros_like(position)
        pos = position >= n + 1
        neg = position < n
        out[pos] = self._magnitude(position[pos] - n - 1)
        out[neg] = -self._magnitude(n - position[neg])
        return out

    def quantile(self, counts: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """Quantiles ``probs`` of the distribution with histogram ``counts`` (last axis).

        The q-quantile is the value of rank ``q * n`` (a continuous rank, interpolated
        uniformly within the bin that holds it).
        """
        return self.value_at_rank(counts, np.asarray(probs) * counts.sum(axis=-1,
                                                                         keepdims=True))

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

    def position_at_rank(self, counts: np.ndarray, ranks: np.ndarray,
                         totals: np.ndarray | None = None) -> np.ndarray:
        """Continuous bin positions (bin index + fraction) at ranks, as
        :meth:`value_at_rank` (NaN where the histogram is empty).

        The bin of rank ``r`` is the first whose cumulative count reaches ``r`` (that is,
        ``ceil(r)``: counts are integers); within it the rank is interpolated uniformly
        (:func:`simval.engine.kernels.histogram_positions`, one pass over each histogram).
        ``totals`` (:meth:`totals`), when given, spares counting the histograms again."""
        counts = np.asarray(counts)
        ranks = np.broadcast_to(np.asarray(ranks, dtype=np.float64),
                                counts.shape[:-1] + np.shape(ranks)[-1:])
        flat_counts = _integer_rows(counts)
        flat_ranks = np.ascontiguousarray(ranks.reshape(flat_counts.shape[0], -1))
        if totals is None:
            totals = self.totals(flat_counts)
        out = np.empty(flat_ranks.shape)
        kernels.histogram_positions(flat_counts, np.ascontiguousarray(
            np.reshape(totals, -1), dtype=np.int64), flat_ranks, out)
        return out.reshape(ranks.shape)

    @staticmethod
    def totals(counts: np.ndarray) -> np.ndarray:
        """Paths in each histogram (``counts.sum(axis=-1)``, as int64 whatever the counts' type)."""
        counts = np.asarray(counts)
        flat = _integer_rows(counts)
        out = np.empty(flat.shape[0], dtype=np.int64)
        kernels.histogram_totals(flat, out)
        return out.reshape(counts.shape[:-1])


def _integer_rows(counts: np.ndarray) -> np.ndarray:
    """Histograms as contiguous rows of int32 or int64 counts (the kernels take either)."""
    dtype = counts.dtype if counts.dtype in (np.int32, np.int64) else np.int64
    return np.ascontiguousarray(counts.reshape(-1, counts.shape[-1]), dtype=dtype)


VALUE_GRID = LogGrid(low_exponent=-20, octaves=80, sub_bits=10)
"""Fine grid for headline distributions (PV, terminal revenue): ``2**-20`` (about 9.5e-7) to
``2**60`` (about 1.15e18), bins at most ``2**-10`` = 0.098% wide."""

FAN_GRID = LogGrid(low_exponent=-27, octaves=87, sub_bits=7)
"""Grid for the quantile fans over time: ``2**-27`` (about 7.5e-9) to ``2**60``, bins at most
``2**-7`` = 0.78% wide, interpolated within."""
