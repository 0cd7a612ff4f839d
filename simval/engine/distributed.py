"""Run the paths of a simulation on a Dask cluster.

The paths of each scenario are split into ranges of whole 4096-path blocks; a worker simulates
a range with the same kernel and the same counter-based random numbers as a single process
(draws depend on the global path index only). Only the range's partial statistics (its
:class:`~simval.engine.runner.ScenarioAccumulator` without kept rows) come back to the
client, which merges them in path order, so the result is identical, bit for bit, to the
single-process run with the same seed, whatever the number of workers, the split, or a worker
that dies and has its ranges recomputed (Dask recomputes lost tasks from the graph).

The kept paths stay on the workers: each range's kept rows are cut into chunks of at most
:data:`KEPT_CHUNK_BYTES` and held there as futures (:class:`KeptChunk`), which the results
module turns into dask arrays. The tasks are pure (their keys hash their inputs), so a kept
chunk lost with its worker is recomputed from the simulation of its range.

numba's cache is warmed in the client process before any task is sent, so workers load the
compiled kernels instead of compiling them concurrently (concurrent cache writes are unsafe:
numba issue 4807).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from simval import layout
from simval.engine.runner import BLOCK, ScenarioAccumulator, run_scenario
from simval.model.params import KernelParams

__all__ = ["KEPT_CHUNK_BYTES", "KeptChunk", "kept_chunk_paths", "kept_rows", "make_client",
           "range_statistics", "run_on_client", "simulate_range", "warm_numba_cache"]

KEPT_CHUNK_BYTES = 64 * 2**20
"""Most bytes of kept rows (series, scalars and counts) in one chunk held on a worker."""


class KeptChunk(NamedTuple):
    """Kept paths ``path_start .. path_start + n_paths - 1`` of one scenario, on the cluster.

    ``rows`` is a ``distributed.Future`` of ``(series, scalars, counts)`` as returned by
    :meth:`~simval.engine.runner.ScenarioAccumulator.kept_rows`; the rows stay on the cluster
    while the future (or a graph holding it) is alive.
    """

    path_start: int
    n_paths: int
    rows: Any


def make_client(spec: str | None = None, scheduler: str | None = None) -> Any:
    """A ``distributed.Client`` for ``--dask local[:N]`` or ``--scheduler tcp://HOST:PORT``.

    Parameters
    ----------
    spec : str, optional
        ``"local"`` (a ``LocalCluster`` with one single-threaded worker process per core) or
        ``"local:N"`` (N workers).
    scheduler : str, optional
        Address of an existing scheduler.

    Raises
    ------
    ValueError
        If ``spec`` is malformed or no scheduler answers at ``scheduler`` (after the connect
        timeout of Dask's ``distributed.comm.timeouts.connect``).
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            return Client(scheduler)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:  # nothing listens there
            raise ValueError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there "
                             f"({type(exc).__name__}: {exc})") from None
    if spec is None or not (spec == "local" or spec.startswith("local:")):
        raise ValueError(f"--dask takes 'local' or 'local:N'; got {spec!r}")
    if spec == "local":
        import os

        n_workers = os.cpu_count() or 1
    else:
        try:
            n_workers = int(spec.split(":", 1)[1])
        except ValueError:
            raise ValueError(f"--dask local:N needs a whole number of workers; got {spec!r}")\
                from None
        if n_workers < 1:
            raise ValueError(f"--dask local:N needs at least one worker; got {spec!r}")
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster)


def warm_numba_cache(params: KernelParams, keys: tuple[np.uint64, np.uint64]) -> None:
    """Compile (or load from the cache) every kernel a run needs, in this process."""
    acc = ScenarioAccumulator(params.n_steps, params.n_named, 0, params.v0, 1.0,
                              antithetic=params.antithetic)
    run_scenario(params, keys, 2, acc, chunk_size=BLOCK)


def simulate_range(params: KernelParams, keys: tuple[np.uint64, np.uint64], path_start: int,
                   n_paths: int, keep: int, threshold: float | None, chunk_size: int | None,
                   threads: int, question_steps: int | None = None,
                   signals: tuple = (), cap_share: float | None = None) -> ScenarioAccumulator:
    """Simulate one range of paths on a worker and return its partial accumulator
    (``question_steps``, ``signals`` and ``cap_share`` as in :class:`ScenarioAccumulator`)."""
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    acc = ScenarioAccumulator(params.n_steps, params.n_named, keep, params.v0, threshold,
                              antithetic=params.antithetic, path_start=path_start,
                              path_end=path_start + n_paths, question_steps=question_steps,
                              signals=signals, cap_share=cap_share)
    return run_scenario(params, keys, n_paths, acc, chunk_size=chunk_size,
                        path_start=path_start)


def range_statistics(acc: ScenarioAccumulator) -> ScenarioAccumulator:
    """The partial statistics of a simulated range, without its kept rows (sent to the
    client)."""
    return acc.without_kept()


def kept_rows(acc: ScenarioAccumulator, start: int,
              stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kept rows of paths ``start .. stop - 1`` of a simulated range (kept on a worker)."""
    return acc.kept_rows(start, stop)


def kept_chunk_paths(n_steps: int) -> int:
    """Paths per kept chunk: the most whole blocks whose kept rows fit in
    :data:`KEPT_CHUNK_BYTES` (at least one block)."""
    per_path = (layout.N_SERIES * (n_steps + 1) + layout.N_SCALARS + layout.N_COUNTS) * 8
    return max(1, KEPT_CHUNK_BYTES // (per_path * BLOCK)) * BLOCK


def _ranges(path_start: int, path_stop: int, n_tasks: int,
            unit: int = BLOCK) -> list[tuple[int, int]]:
    """Split [path_start, path_stop) into about n_tasks ranges of whole blocks; ranges longer
    than ``unit`` (a multiple of BLOCK) are whole multiples of it."""
    n_blocks = math.ceil((path_stop - path_start) / BLOCK)
    per_task = max(1, math.ceil(n_blocks / max(n_tasks, 1))) * BLOCK
    if per_task > unit:
        per_task = math.ceil(per_task / unit) * unit
    return [(a, min(a + per_task, path_stop)) for a in range(path_start, path_stop, per_task)]


def run_on_client(client: Any, params: dict[str, KernelParams],
                  keys: tuple[np.uint64, np.uint64], accumulators: dict[str, ScenarioAccumulator],
                  path_start: int, path_stop: int, *, chunk_size: int | None = None,
                  tasks_per_worker: int = 2, threads_per_task: int = 1,
                  on_task: Callable[[int], None] | None = None) -> dict[str, list[KeptChunk]]:
    """Simulate paths ``path_start .. path_stop - 1`` of every scenario on ``client``.

    Parameters
    ----------
    client : distributed.Client
    params : dict
        Scenario name -> kernel parameters.
    keys : tuple of two uint64
    accumulators : dict
        Scenario name -> accumulator ending at ``path_start``; the statistics of the new paths
        are merged in. Its kept rows are not filled: create it with ``holds_kept=False``.
    path_start, path_stop : int
        ``path_start`` is a multiple of 4096.
    chunk_size : int, optional
        Paths per kernel call on a worker.
    tasks_per_worker : int, default: 2
        Ranges per scenario per worker (more ranges balance load; fewer move less data).
    threads_per_task : int, default: 1
        numba threads a task uses.
    on_task : callable, optional
        Called with the number of paths of each finished range (progress bars).

    Returns
    -------
    dict
        Scenario name -> the :class:`KeptChunk` of its kept paths among the new ones, in path
        order (none when no new path is kept). Chunks never straddle two ranges; all but the
        last have the same number of paths.
    """
    from dask.base import tokenize
    from distributed import as_completed, wait

    for p in params.values():  # one compilation, here, before any worker needs the kernels
        warm_numba_cache(p, keys)
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    n_steps = next(iter(params.values())).n_steps
    unit = kept_chunk_paths(n_steps)
    keeps_new = any(acc.keep > path_start for acc in accumulators.values())
    ranges = _ranges(path_start, path_stop, n_workers * tasks_per_worker,
                     unit if keeps_new else BLOCK)
    futures = {}
    kept: dict[str, list[KeptChunk]] = {name: [] for name in params}
    for name, p in params.items():
        acc = accumulators[name]
        for a, b in ranges:
            # keys hash what the result depends on: a lost result is recomputed from them,
            # and an identical run may reuse it
            token = tokenize(p, keys, a, b, acc.keep, acc.threshold, acc.question_steps,
                             acc.signals, acc.cap_share)
            simulated = client.submit(simulate_range, p, keys, a, b - a, acc.keep,
                                      acc.threshold, chunk_size, threads_per_task,
                                      acc.question_steps, acc.signals, acc.cap_share,
                                      pure=True,
                                      key=f"simval-range-{name}-{a}-{b}-{token}")
            stats = client.submit(range_statistics, simulated, pure=True,
                                  key=f"simval-stats-{name}-{a}-{b}-{token}")
            futures[stats] = (name, a)
            for lo in range(a, min(b, acc.keep), unit):
                hi = min(lo + unit, b, acc.keep)
                rows = client.submit(kept_rows, simulated, lo, hi, pure=True,
                                     key=f"simval-kept-{name}-{lo}-{hi}-{token}")
                kept[name].append(KeptChunk(lo, hi - lo, rows))
            del simulated  # held on the cluster only as long as its dependents need it
    partials: dict[str, dict[int, ScenarioAccumulator]] = {name: {} for name in params}
    for future in as_completed(futures):
        name, a = futures[future]
        part = future.result()
        partials[name][a] = part
        future.release()
        # merge every partial that continues the accumulator, in path order
        acc = accumulators[name]
        while acc.path_start + acc.n_paths in partials[name]:
            acc.merge(partials[name].pop(acc.path_start + acc.n_paths))
        if on_task is not None:
            on_task(part.n_paths)
    for name, acc in accumulators.items():
        if acc.path_start + acc.n_paths != path_stop:
            raise RuntimeError(f"scenario {name}: ranges missing after the distributed run")
    wait([chunk.rows for chunks in kept.values() for chunk in chunks])  # all on the workers
    return kept
