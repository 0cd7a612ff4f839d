"""Run the kernel over chunks of paths and stream everything a run reports into accumulators.

Memory is bounded by the chunk size and by what the user keeps (``keep_paths``), never by the
number of paths: per-path arrays live only for one chunk; what survives a chunk is integer
histograms and counts (exact whatever the order of paths) and per-block sums of the few
quantities whose mean is reported. A block is ``BLOCK`` consecutive paths; block sums are added
with :func:`math.fsum` at the end, so means are identical whatever the chunk size, the number
of threads or the number of machines.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numba
import numpy as np

from simval import layout
from simval.engine import kernels
from simval.engine.histogram import FAN_GRID, VALUE_GRID, LogGrid
from simval.engine.signals import signal_paths
from simval.model.params import KernelParams, PathParams
from simval.model.signals import SignalRule

__all__ = ["BATCH", "BLOCK", "SIGNAL_OUTCOMES", "Chunk", "ChunkBuffers", "FanPlan", "Keys",
           "ScenarioAccumulator", "check_chunk_size", "default_chunk_size", "fan_plans",
           "run_keys", "run_paths", "run_scenario", "seed_keys", "simulate_chunk"]

BLOCK = 4096
"""Paths per block: the unit of per-block sums and of chunk sizes."""

BATCH = 256
"""Paths per batch: the unit of the per-batch sums from which the scenario-weighted mixture's
standard errors are estimated (batches are independent; every chunk starts at a multiple of
:data:`BLOCK`, so the batches are the same whatever the chunking)."""

SIGNAL_OUTCOMES = ("paths", "collapse", "bankrupt", "justified")
"""The counts kept per signal and per presence/absence of it (``signal_counts[i, yes]``)."""

CHUNK_BYTES = 64 * 2**20
"""Target size of the per-chunk path series."""


def run_keys(seed: int, company: int = 0) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """Keys of a run: the company's own ``(key0, key1)`` and the macro ``(mkey0, mkey1)``.

    Company 0 (every single-company run) uses the seed's keys for both; company ``c >= 1`` of
    a panel gets its own keys from ``SeedSequence([seed, c])`` and shares the macro keys, so a
    slowdown or an export-control round hits every company of the panel at once.
    """
    macro = seed_keys(seed)
    if company == 0:
        return (*macro, *macro)
    state = np.random.SeedSequence([seed, company]).generate_state(2, dtype=np.uint64)
    return np.uint64(state[0]), np.uint64(state[1]), *macro


def seed_keys(seed: int) -> tuple[np.uint64, np.uint64]:
    """The generator's two 64-bit keys, from the seed by
    :class:`numpy.random.SeedSequence`."""
    state = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint64)
    return np.uint64(state[0]), np.uint64(state[1])


def default_chunk_size(n_steps: int) -> int:
    """Largest multiple of BLOCK whose path series fit in CHUNK_BYTES (at least one block)."""
    per_path = layout.N_SERIES * (n_steps + 1) * 8
    return max(1, CHUNK_BYTES // (per_path * BLOCK)) * BLOCK


@dataclasses.dataclass
class ScenarioAccumulator:
    """Streamed statistics of one scenario over the paths ``path_start ..
    path_start + n_paths - 1``. All counts are integers; the kept paths are the global paths
    ``0 .. keep - 1`` that fall in the range (at most ``path_end``, when it is given).

    With ``holds_kept=False`` the accumulator has no kept rows (a distributed run leaves them
    on the workers) and counts the statistics only; ``keep`` still says how many paths the run
    keeps."""

    n_steps: int
    n_named: int
    keep: int
    v0: float
    threshold: float | None
    antithetic: bool = False
    path_start: int = 0
    path_end: int | None = None
    holds_kept: bool = True
    question_steps: int | None = None
    signals: tuple[SignalRule, ...] = ()
    cap_share: float | None = None
    n_paths: int = 0
    cap_bound_paths: int = 0
    fan_hist: np.ndarray = dataclasses.field(init=False)
    source_hist: np.ndarray = dataclasses.field(init=False)
    pv_hist: np.ndarray = dataclasses.field(init=False)
    terminal_revenue_hist: np.ndarray = dataclasses.field(init=False)
    n_justified: int = 0
    collapse_steps: np.ndarray = dataclasses.field(init=False)
    bankrupt_steps: np.ndarray = dataclasses.field(init=False)
    fundamental_collapse_steps: np.ndarray = dataclasses.field(init=False)
    above_threshold: np.ndarray = dataclasses.field(init=False)
    slowdown: np.ndarray = dataclasses.field(init=False)
    contract_active: np.ndarray = dataclasses.field(init=False)
    block_sums: dict[str, list[float]] = dataclasses.field(init=False)
    kept_series: np.ndarray = dataclasses.field(init=False)
    kept_scalars: np.ndarray = dataclasses.field(init=False)
    kept_counts: np.ndarray = dataclasses.field(init=False)
    # antithetic pairs (2i, 2i + 1): counts of pairs whose two paths both have the event,
    # for standard errors that respect the pairing
    pairs_justified: int = 0
    pair_collapse_steps: np.ndarray = dataclasses.field(init=False)
    pair_bankrupt_steps: np.ndarray = dataclasses.field(init=False)
    pair_fundamental_collapse_steps: np.ndarray = dataclasses.field(init=False)
    pairs_above_threshold: np.ndarray = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        times = self.n_steps + 1
        # int32 counts: a bin counts at most the paths of a scenario, MAX_PATHS = 2**31 - 1
        # (half the memory, and half the cache, of int64 for the large fan grids)
        self.fan_hist = np.zeros((layout.N_SERIES, times, FAN_GRID.n_bins), dtype=np.int32)
        # revenue by source: each named contract, then the expansion pool
        self.source_hist = np.zeros((self.n_named + 1, times, FAN_GRID.n_bins), dtype=np.int32)
        self.pv_hist = np.zeros(VALUE_GRID.n_bins, dtype=np.int64)
        self.terminal_revenue_hist = np.zeros(VALUE_GRID.n_bins, dtype=np.int64)
        # step of first collapse / bankruptcy, with slot n_steps + 1 for "never"
        self.collapse_steps = np.zeros(times + 1, dtype=np.int64)
        self.bankrupt_steps = np.zeros(times + 1, dtype=np.int64)
        self.fundamental_collapse_steps = np.zeros(times + 1, dtype=np.int64)
        self.above_threshold = np.zeros(times, dtype=np.int64)
        self.slowdown = np.zeros(times, dtype=np.int64)
        self.contract_active = np.zeros((self.n_named, times), dtype=np.int64)
        self.block_sums = {"pv": [], "pv_sq": [], "terminal_revenue": [], "pv_pair_sq": [],
                           "terminal_value_pv": []}
        # per-block counts, for running estimates (convergence plots)
        self.block_counts: dict[str, list[int]] = {"paths": [], "justified": [], "collapse": []}
        # per-batch counts and sums, for the scenario-weighted mixture's standard errors
        self.batch_sums: dict[str, list[float]] = {
            "paths": [], "justified": [], "collapse": [], "bankrupt": [], "pv": []}
        if self.question_steps is None:
            self.question_steps = self.n_steps
        self.signal_counts = np.zeros((len(self.signals), 2, len(SIGNAL_OUTCOMES)),
                                      dtype=np.int64)
        for rule in self.signals:
            for which in (rule.name, f"not {rule.name}"):
                self.block_sums[f"pv|{which}"] = []
                self.block_sums[f"pv_sq|{which}"] = []
        self.pair_collapse_steps = np.zeros(times + 1, dtype=np.int64)
        self.pair_bankrupt_steps = np.zeros(times + 1, dtype=np.int64)
        self.pair_fundamental_collapse_steps = np.zeros(times + 1, dtype=np.int64)
        self.pairs_above_threshold = np.zeros(times, dtype=np.int64)
        stop = self.keep if self.path_end is None else min(self.keep, self.path_end)
        n_kept = max(0, stop - self.path_start) if self.holds_kept else 0
        self.kept_series = np.full((layout.N_SERIES, n_kept, times), np.nan)
        self.kept_scalars = np.full((layout.N_SCALARS, n_kept), np.nan)
        self.kept_counts = np.zeros((layout.N_COUNTS, n_kept), dtype=np.int64)

    def add_chunk(self, path0: int, series: np.ndarray, scalars: np.ndarray,
                  counts: np.ndarray, active: np.ndarray, regimes: np.ndarray,
                  sources: np.ndarray, plans: tuple[FanPlan, FanPlan] | None = None) -> None:
        """Fold one chunk of simulated paths (global indices from ``path0``) in.

        ``plans`` (:func:`fan_plans` of the chunk's parameters, for the series and the sources)
        say which rows the fans need not read; without them every row is binned (the same
        counts)."""
        n = scalars.shape[1]
        self.n_paths += n
        series_plan, source_plan = plans if plans is not None else (
            FanPlan.every(series.shape[0]), FanPlan.every(sources.shape[0]))
        _hist_fans(series, self.fan_hist, series_plan, sources, self.source_hist, source_plan)
        pv = scalars[layout.SCALAR_PV]
        terminal_revenue = scalars[layout.SCALAR_TERMINAL_REVENUE]
        _hist(pv, self.pv_hist, VALUE_GRID)
        _hist(terminal_revenue, self.terminal_revenue_hist, VALUE_GRID)
        self.n_justified += int(np.count_nonzero(pv >= self.v0))
        if self.cap_share is not None:  # paths on which the market-size cap ever binds
            share = series[layout.SERIES_MARKET_SHARE]
            self.cap_bound_paths += int(np.count_nonzero(
                (share >= self.cap_share * (1.0 - 1e-9)).any(axis=1)))
        never = self.n_steps + 1
        for steps, out in ((counts[layout.COUNT_COLLAPSE_STEP], self.collapse_steps),
                           (counts[layout.COUNT_BANKRUPT_STEP], self.bankrupt_steps),
                           (counts[layout.COUNT_FUNDAMENTAL_COLLAPSE_STEP],
                            self.fundamental_collapse_steps)):
            out += np.bincount(np.where(steps < 0, never, steps), minlength=never + 1)
        if self.threshold is not None:
            kernels.count_at_least(series[layout.SERIES_MARKET_VALUE], self.threshold,
                                   self.above_threshold)
        self.slowdown += regimes.sum(axis=0, dtype=np.int64)
        self.contract_active += active.sum(axis=0, dtype=np.int64)
        starts = np.arange(0, n, BLOCK)
        self.block_sums["pv"].extend(np.add.reduceat(pv, starts).tolist())
        with np.errstate(over="ignore"):  # inf: an overflow, reported after the run
            self.block_sums["pv_sq"].extend(np.add.reduceat(pv * pv, starts).tolist())
        self.block_sums["terminal_revenue"].extend(
            np.add.reduceat(terminal_revenue, starts).tolist())
        self.block_sums["terminal_value_pv"].extend(
            np.add.reduceat(scalars[layout.SCALAR_TERMINAL_VALUE_PV], starts).tolist())
        self.block_counts["paths"].extend(np.diff(np.append(starts, n)).tolist())
        self.block_counts["justified"].extend(
            np.add.reduceat((pv >= self.v0).astype(np.int64), starts).tolist())
        self.block_counts["collapse"].extend(np.add.reduceat(
            (counts[layout.COUNT_COLLAPSE_STEP] >= 0).astype(np.int64), starts).tolist())
        bankrupt_step = counts[layout.COUNT_BANKRUPT_STEP]
        outcomes = np.stack([np.ones(n, dtype=bool),
                             counts[layout.COUNT_COLLAPSE_STEP] >= 0,
                             (bankrupt_step >= 0) & (bankrupt_step <= self.question_steps),
                             pv >= self.v0]).astype(np.int64)
        batches = np.arange(0, n, BATCH)
        for row, key in enumerate(("paths", "collapse", "bankrupt", "justified")):
            self.batch_sums[key].extend(np.add.reduceat(outcomes[row], batches).tolist())
        self.batch_sums["pv"].extend(np.add.reduceat(pv, batches).tolist())
        for i, rule in enumerate(self.signals):
            shown = signal_paths(rule, series, active)
            for present, which in ((1, rule.name), (0, f"not {rule.name}")):
                mask = shown if present else ~shown
                self.signal_counts[i, present] += outcomes[:, mask].sum(axis=1)
                masked = np.where(mask, pv, 0.0)
                self.block_sums[f"pv|{which}"].extend(np.add.reduceat(masked, starts).tolist())
                with np.errstate(over="ignore"):
                    self.block_sums[f"pv_sq|{which}"].extend(
                        np.add.reduceat(masked * masked, starts).tolist())
        if self.antithetic:
            self._add_pairs(series, pv, counts, starts)
        first = path0 - self.path_start  # position of the chunk in the kept arrays
        m = min(self.kept_scalars.shape[1] - first, n)
        if m > 0:
            self.kept_series[:, first:first + m] = series[:, :m]
            self.kept_scalars[:, first:first + m] = scalars[:, :m]
            self.kept_counts[:, first:first + m] = counts[:, :m]

    def _add_pairs(self, series: np.ndarray, pv: np.ndarray, counts: np.ndarray,
                   starts: np.ndarray) -> None:
        if pv.size % 2:
            raise ValueError("antithetic runs need an even number of paths in every chunk")
        justified = (pv >= self.v0).reshape(-1, 2)
        self.pairs_justified += int(np.count_nonzero(justified.all(axis=1)))
        never = self.n_steps + 1
        for col, out in ((layout.COUNT_COLLAPSE_STEP, self.pair_collapse_steps),
                         (layout.COUNT_BANKRUPT_STEP, self.pair_bankrupt_steps),
                         (layout.COUNT_FUNDAMENTAL_COLLAPSE_STEP,
                          self.pair_fundamental_collapse_steps)):
            steps = np.where(counts[col] < 0, never, counts[col]).reshape(-1, 2)
            # a pair has both events by t_k iff the later of the two is at or before k
            out += np.bincount(steps.max(axis=1), minlength=never + 1)
        if self.threshold is not None:
            kernels.count_pairs_at_least(series[layout.SERIES_MARKET_VALUE], self.threshold,
                                         self.pairs_above_threshold)
        pair_mean = pv.reshape(-1, 2).mean(axis=1)
        with np.errstate(over="ignore"):  # inf: an overflow, reported after the run
            self.block_sums["pv_pair_sq"].extend(
                np.add.reduceat(pair_mean * pair_mean, starts // 2).tolist())

    def merge(self, other: ScenarioAccumulator) -> None:
        """Fold in the accumulator of the paths that follow this one's.

        Integer statistics add; per-block lists and kept paths are concatenated in path order,
        so merging the pieces of a run gives exactly the accumulator of one run over them.
        """
        if other.path_start != self.path_start + self.n_paths:
            raise ValueError(f"cannot merge paths from {other.path_start}: this accumulator "
                             f"ends at {self.path_start + self.n_paths}")
        self.n_paths += other.n_paths
        for name in ("fan_hist", "source_hist", "pv_hist", "terminal_revenue_hist",
                     "collapse_steps", "bankrupt_steps", "fundamental_collapse_steps",
                     "above_threshold", "slowdown", "contract_active", "signal_counts",
                     "pair_collapse_steps", "pair_bankrupt_steps",
                     "pair_fundamental_collapse_steps", "pairs_above_threshold"):
            getattr(self, name).__iadd__(getattr(other, name))
        self.n_justified += other.n_justified
        self.cap_bound_paths += other.cap_bound_paths
        self.pairs_justified += other.pairs_justified
        for mine, theirs in ((self.block_sums, other.block_sums),
                             (self.block_counts, other.block_counts),
                             (self.batch_sums, other.batch_sums)):
            for key in mine:
                mine[key].extend(theirs[key])
        offset = other.path_start - self.path_start
        m = other.kept_scalars.shape[1]
        if m and not self.holds_kept:
            raise ValueError("this accumulator holds no kept paths; merge statistics only "
                             "(ScenarioAccumulator.without_kept)")
        grow = offset + m - self.kept_scalars.shape[1]
        if m and grow > 0:  # this accumulator was sized for fewer paths than it now holds
            self.kept_series = np.concatenate(
                [self.kept_series, np.full(other.kept_series[:, :grow].shape, np.nan)], axis=1)
            self.kept_scalars = np.concatenate(
                [self.kept_scalars, np.full(other.kept_scalars[:, :grow].shape, np.nan)], axis=1)
            self.kept_counts = np.concatenate(
                [self.kept_counts, np.zeros_like(other.kept_counts[:, :grow])], axis=1)
        if m:
            self.kept_series[:, offset:offset + m] = other.kept_series
            self.kept_scalars[:, offset:offset + m] = other.kept_scalars
            self.kept_counts[:, offset:offset + m] = other.kept_counts

    def without_kept(self) -> ScenarioAccumulator:
        """The statistics alone: a shallow copy with no kept rows (``holds_kept=False``).

        The copy shares its histograms and block lists with this accumulator; neither is
        changed by merging the copy into another accumulator.
        """
        stats = copy.copy(self)
        stats.holds_kept = False
        stats.kept_series = self.kept_series[:, :0].copy()
        stats.kept_scalars = self.kept_scalars[:, :0].copy()
        stats.kept_counts = self.kept_counts[:, :0].copy()
        return stats

    def kept_rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the kept series, scalars and counts of the global paths
        ``start .. stop - 1``, which must lie among this accumulator's kept paths."""
        first = start - self.path_start
        if not self.holds_kept or first < 0 or stop - self.path_start > \
                self.kept_scalars.shape[1] or stop < start:
            raise ValueError(f"paths {start}..{stop - 1} are not among the kept paths of this "
                             "accumulator")
        last = stop - self.path_start
        return (self.kept_series[:, first:last].copy(), self.kept_scalars[:, first:last].copy(),
                self.kept_counts[:, first:last].copy())

    def mean(self, name: str) -> float:
        """Mean over all paths of a block-summed quantity (exactly rounded sum)."""
        return math.fsum(self.block_sums[name]) / self.n_paths


def _hist(values: np.ndarray, out: np.ndarray, grid: LogGrid) -> None:
    kernels.histogram_values(np.ascontiguousarray(values).view(np.int64), out, grid.shift,
                             grid.offset, grid.low_bits, grid.n_side)


def _hist_fans(series: np.ndarray, hist: np.ndarray, plan: FanPlan, sources: np.ndarray,
               source_hist: np.ndarray, source_plan: FanPlan) -> None:
    """Bin a chunk's series and sources on :data:`FAN_GRID` as their plans say (one parallel
    loop for both, units taken one at a time: they are of unequal cost, and a thread the
    machine slows down should not hold the others up)."""
    grid = FAN_GRID
    if len(plan.rows) or len(source_plan.rows):
        previous = numba.get_parallel_chunksize()
        numba.set_parallel_chunksize(1)
        try:
            kernels.histogram_series(series.view(np.int64), hist, plan.rows, plan.copies,
                                     sources.view(np.int64), source_hist, source_plan.rows,
                                     source_plan.copies, grid.shift, grid.offset,
                                     grid.low_bits, grid.n_side)
        finally:
            numba.set_parallel_chunksize(previous)
    for values, out, fixed in ((series, hist, plan), (sources, source_hist, source_plan)):
        for row, value in fixed.constants:
            if not math.isnan(value):
                out[row, :, grid.bins(np.array([value]))[0]] += values.shape[1]


class FanPlan(NamedTuple):
    """How the fans of a chunk's series (or its sources) are counted: the rows
    :func:`simval.engine.kernels.histogram_series` bins (``rows``), for each the row known to
    hold the same values (``copies``, -1 for none), and the rows whose every value the
    parameters fix, with that value (``constants``; NaN: nothing to count). Neither a copy nor
    a constant row is read, and the counts are those of binning every row."""

    rows: np.ndarray
    copies: np.ndarray
    constants: tuple[tuple[int, float], ...] = ()

    @classmethod
    def every(cls, n_rows: int) -> FanPlan:
        """Bin every one of ``n_rows`` rows."""
        return cls(np.arange(n_rows, dtype=np.int64), np.full(n_rows, -1, dtype=np.int64))


def fan_plans(path: PathParams, value_model: bool = True) -> tuple[FanPlan, FanPlan]:
    """The :class:`FanPlan` of the series and of the sources of a run with parameters
    ``path``, from what the kernel does when a driver is off (at every time, bankrupt paths
    included): without chip shocks the capacity stays 1; without a market size the share is
    NaN; without named contracts and an expansion pool, contract revenue and the pool's revenue
    are 0 and commercial revenue is total revenue (``x + 0.0``, the same bin); without the
    value model (``value_model`` false) the model's value W and the gap B are NaN."""
    constants: list[tuple[int, float]] = []
    copies = {}
    if not value_model:
        constants += [(layout.SERIES_FUNDAMENTAL_VALUE, math.nan),
                      (layout.SERIES_PRICE_TO_VALUE, math.nan)]
    if not path.chips_enabled:
        constants.append((layout.SERIES_CAPACITY, 1.0))
    if not path.tam_enabled:
        constants.append((layout.SERIES_MARKET_SHARE, math.nan))
    no_pool = not path.expansion_enabled or path.pool_size == 0
    if path.n_named == 0 and no_pool:
        constants.append((layout.SERIES_CONTRACT_REVENUE, 0.0))
        copies[layout.SERIES_TOTAL_REVENUE] = layout.SERIES_COMMERCIAL_REVENUE
    skip = {row for row, _ in constants} | set(copies.values())
    rows = [s for s in range(layout.N_SERIES) if s not in skip]
    series = FanPlan(np.array(rows, dtype=np.int64),
                     np.array([copies.get(s, -1) for s in rows], dtype=np.int64),
                     tuple(constants))
    sources = FanPlan.every(path.n_named + 1)
    if no_pool:
        sources = FanPlan(sources.rows[:-1], sources.copies[:-1], ((path.n_named, 0.0),))
    return series, sources


PATHS_PER_TASK = 512
"""Paths a numba thread takes at a time. Dynamic scheduling balances paths of unequal cost
(a path that goes bankrupt stops early) and a thread the machine slows down; on the 2-core
benchmark machine static halves made the 2-thread time vary by a third from run to run. Each
path writes only its own row, so no result depends on it."""


Keys = tuple[np.uint64, np.uint64, np.uint64, np.uint64]
"""The four keys of a run, from :func:`run_keys`."""


class Chunk(NamedTuple):
    """What the kernel reports for the global paths ``path0 .. path0 + n_paths - 1``.

    ``series`` (series, path, time), ``scalars`` (scalar, path), ``counts`` (count, path),
    ``active`` (path, contract, time), ``regimes`` (path, time) and ``sources`` (named
    contracts then the expansion pool, path, time), in the kernel's row order
    (:mod:`simval.engine.kernels`), and the :func:`fan_plans` of its parameters. Unpacked, a
    chunk is the argument list of :meth:`ScenarioAccumulator.add_chunk`.
    """

    path0: int
    series: np.ndarray
    scalars: np.ndarray
    counts: np.ndarray
    active: np.ndarray
    regimes: np.ndarray
    sources: np.ndarray
    plans: tuple[FanPlan, FanPlan] | None = None

    @property
    def n_paths(self) -> int:
        """Paths in the chunk."""
        return self.scalars.shape[1]


class ChunkBuffers:
    """The arrays the kernel writes for ``n_paths`` paths of one parameter set: the outputs
    of a :class:`Chunk` and the per-path contract scratch. :meth:`simulate` fills them; the
    same buffers serve every chunk of that size."""

    def __init__(self, params: KernelParams, n_paths: int) -> None:
        n, times = n_paths, params.n_steps + 1
        self.n_paths = n
        self.outputs = (np.empty((layout.N_SERIES, n, times)),
                        np.empty((layout.N_SCALARS, n)),
                        np.empty((layout.N_COUNTS, n), dtype=np.int64),
                        np.empty((n, params.n_named, times), dtype=np.int8),
                        np.empty((n, times), dtype=np.int8),
                        np.empty((params.n_named + 1, n, times)))
        # the basis of the state at every time, written by the least-squares pilot only
        self.design = (np.zeros((layout.N_DESIGN, times, n)) if params.value.record_state
                       else np.zeros((layout.N_DESIGN, 1, 1)))
        if not params.value.value_model:  # rows the kernel writes under the value model only
            self.outputs[0][layout.SERIES_FUNDAMENTAL_VALUE] = np.nan
            self.outputs[0][layout.SERIES_PRICE_TO_VALUE] = np.nan
        uses_basis = params.value.value_model or params.value.record_state
        self.basis = np.empty((n if uses_basis else 1, layout.N_BASIS))
        self.scratch = (np.empty((n, params.n_slots), dtype=np.int8),
                        np.empty((n, params.n_slots)),
                        np.empty((n, params.n_slots), dtype=np.int64))
        self.plans = fan_plans(params.path, params.value.value_model)

    def simulate(self, params: KernelParams, keys: Keys, path0: int) -> Chunk:
        """Run the path kernel for the global paths ``path0 .. path0 + n_paths - 1`` into
        these buffers, threads taking :data:`PATHS_PER_TASK` paths at a time; the returned
        chunk's arrays are the buffers (overwritten by the next call)."""
        previous = numba.get_parallel_chunksize()
        numba.set_parallel_chunksize(PATHS_PER_TASK)
        try:
            if params.value.record_state:  # times after a bankruptcy stay unwritten
                self.design[layout.DESIGN_ALIVE] = 0.0
            kernel = kernels.simulate_plain_chunk if params.plain else kernels.simulate_chunk
            kernel(params.path, params.value, *keys, path0, *self.outputs, self.design,
                   self.basis, *self.scratch)
        finally:
            numba.set_parallel_chunksize(previous)
        return Chunk(path0, *self.outputs, self.plans)


def simulate_chunk(params: KernelParams, keys: Keys, path0: int, n_paths: int) -> Chunk:
    """The kernel's outputs for the global paths ``path0 .. path0 + n_paths - 1``, in new
    arrays (any ``path0`` and ``n_paths``: a path's draws depend on its global index only)."""
    return ChunkBuffers(params, n_paths).simulate(params, keys, path0)


def run_paths(runs: Sequence[tuple[KernelParams, Keys]], path_start: int, path_stop: int, *,
              on_chunk: Callable[[int, Chunk], None], chunk_size: int | None = None) -> None:
    """The run loop: simulate the global paths ``path_start .. path_stop - 1`` of every run,
    chunk by chunk, and hand each chunk to ``on_chunk``.

    Every run goes through here: :func:`run_scenario` (:func:`simval.simulate` and the ranges
    of a distributed run) and the panels, whose companies are several runs on the same paths.
    One chunk at any offset (the kernel-vs-reference check) is :func:`simulate_chunk`; both
    call the kernel in :meth:`ChunkBuffers.simulate` only.

    Parameters
    ----------
    runs : sequence of (KernelParams, keys)
        Parameter sets and their keys (from :func:`run_keys`), simulated on the same paths.
    path_start, path_stop : int
        Global indices: the first path and one past the last.
    on_chunk : callable
        ``on_chunk(i, chunk)`` for run ``i`` and each :class:`Chunk`, chunks in path order
        and, within a chunk, runs in order. The chunk's arrays are valid only during the call
        (the next chunk may reuse them): copy what must outlive it.
    chunk_size : int, optional
        Paths per chunk (default: :func:`default_chunk_size`). No path's outputs depend on it.

    Notes
    -----
    A single run reuses its buffers from chunk to chunk; with several runs each run's buffers
    are made for its chunk and dropped before the next run's, so at most one chunk of buffers
    is alive at a time.
    """
    if not runs or path_stop <= path_start:
        return
    if chunk_size is None:
        chunk_size = default_chunk_size(runs[0][0].n_steps)
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be positive; got {chunk_size}")
    reused: ChunkBuffers | None = None
    for path0 in range(path_start, path_stop, chunk_size):
        n = min(chunk_size, path_stop - path0)
        for i, (params, keys) in enumerate(runs):
            # the last, shorter chunk gets new buffers: C-contiguous arrays for the kernel
            buffers = reused if reused is not None and reused.n_paths == n else \
                ChunkBuffers(params, n)
            on_chunk(i, buffers.simulate(params, keys, path0))
            reused = buffers if len(runs) == 1 else None
            del buffers


def run_scenario(params: KernelParams, keys: Keys, n_paths: int,
                 accumulator: ScenarioAccumulator, *, chunk_size: int | None = None,
                 path_start: int = 0,
                 on_chunk: Callable[[int], None] | None = None) -> ScenarioAccumulator:
    """Simulate paths ``path_start .. path_start + n_paths - 1`` of one scenario into
    ``accumulator`` (:func:`run_paths` with one run).

    Parameters
    ----------
    params : KernelParams
    keys : tuple of four uint64
        From :func:`run_keys`.
    n_paths : int
    accumulator : ScenarioAccumulator
    chunk_size : int, optional
        Paths per chunk, a multiple of :data:`BLOCK` (default: :func:`default_chunk_size`).
        The result does not depend on it.
    path_start : int, default: 0
        Global index of the first path, a multiple of :data:`BLOCK`: a run continued from
        ``path_start`` gives the same accumulator as one run over all the paths.
    on_chunk : callable, optional
        Called with the number of paths of each finished chunk (progress bars).
    """
    check_chunk_size(chunk_size)
    if path_start % BLOCK:
        raise ValueError(f"path_start must be a multiple of {BLOCK}; got {path_start}")
    if path_start != accumulator.path_start + accumulator.n_paths:
        raise ValueError(f"the accumulator ends at path "
                         f"{accumulator.path_start + accumulator.n_paths}; a run continued "
                         f"from it must start there, not at {path_start}")

    def add(_: int, chunk: Chunk) -> None:
        accumulator.add_chunk(*chunk)
        if on_chunk is not None:
            on_chunk(chunk.n_paths)

    run_paths([(params, keys)], path_start, path_start + n_paths, on_chunk=add,
              chunk_size=chunk_size)
    return accumulator


def check_chunk_size(chunk_size: int | None) -> None:
    """Raise ValueError unless ``chunk_size`` is None or a positive multiple of
    :data:`BLOCK` (the chunk sizes of runs into a :class:`ScenarioAccumulator`)."""
    if chunk_size is not None and (chunk_size <= 0 or chunk_size % BLOCK):
        raise ValueError(f"chunk_size must be a positive multiple of {BLOCK}; got {chunk_size}")


def set_threads(threads: int | None) -> None:
    """Use ``threads`` numba threads (None: all available)."""
    numba.set_num_threads(threads or numba.config.NUMBA_NUM_THREADS)
