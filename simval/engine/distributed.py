"""Run the paths of a simulation on a Dask cluster.

The paths of each scenario are split into ranges of whole 4096-path blocks; a worker simulates
a range with the same kernel and the same counter-based random numbers as a single process
(draws depend on the global path index only) and returns its partial
:class:`~simval.engine.runner.ScenarioAccumulator`. The client merges the partials in path
order, so the result is identical, bit for bit, to the single-process run with the same seed,
whatever the number of workers, the split, or a worker that dies and has its ranges
recomputed (Dask recomputes lost tasks from the graph).

numba's cache is warmed in the client process before any task is sent, so workers load the
compiled kernels instead of compiling them concurrently (concurrent cache writes are unsafe:
numba issue 4807).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from simval.engine.runner import BLOCK, ScenarioAccumulator, run_scenario
from simval.model.params import KernelParams

__all__ = ["make_client", "run_on_client", "simulate_range", "warm_numba_cache"]


def make_client(spec: str | None = None, scheduler: str | None = None) -> Any:
    """A ``distributed.Client`` for ``--dask local[:N]`` or ``--scheduler tcp://HOST:PORT``.

    Parameters
    ----------
    spec : str, optional
        ``"local"`` (a ``LocalCluster`` with one single-threaded worker process per core) or
        ``"local:N"`` (N workers).
    scheduler : str, optional
        Address of an existing scheduler.
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        return Client(scheduler)
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
                   threads: int) -> ScenarioAccumulator:
    """Simulate one range of paths on a worker and return its partial accumulator."""
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    acc = ScenarioAccumulator(params.n_steps, params.n_named, keep, params.v0, threshold,
                              antithetic=params.antithetic, path_start=path_start,
                              path_end=path_start + n_paths)
    return run_scenario(params, keys, n_paths, acc, chunk_size=chunk_size,
                        path_start=path_start)


def _ranges(path_start: int, path_stop: int, n_tasks: int) -> list[tuple[int, int]]:
    """Split [path_start, path_stop) into about n_tasks ranges of whole blocks."""
    n_blocks = math.ceil((path_stop - path_start) / BLOCK)
    per_task = max(1, math.ceil(n_blocks / max(n_tasks, 1))) * BLOCK
    return [(a, min(a + per_task, path_stop)) for a in range(path_start, path_stop, per_task)]


def run_on_client(client: Any, params: dict[str, KernelParams],
                  keys: tuple[np.uint64, np.uint64], accumulators: dict[str, ScenarioAccumulator],
                  path_start: int, path_stop: int, *, chunk_size: int | None = None,
                  tasks_per_worker: int = 2, threads_per_task: int = 1,
                  on_task: Callable[[int], None] | None = None) -> None:
    """Simulate paths ``path_start .. path_stop - 1`` of every scenario on ``client``.

    Parameters
    ----------
    client : distributed.Client
    params : dict
        Scenario name -> kernel parameters.
    keys : tuple of two uint64
    accumulators : dict
        Scenario name -> accumulator ending at ``path_start``; the new paths are merged in.
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
    """
    from distributed import as_completed

    for p in params.values():  # one compilation, here, before any worker needs the kernels
        warm_numba_cache(p, keys)
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    ranges = _ranges(path_start, path_stop, n_workers * tasks_per_worker)
    futures = {}
    for name, p in params.items():
        acc = accumulators[name]
        for a, b in ranges:
            future = client.submit(simulate_range, p, keys, a, b - a, acc.keep,
                                   acc.threshold, chunk_size, threads_per_task, pure=True,
                                   key=f"simval-{name}-{a}-{b}-{id(acc)}")
            futures[future] = (name, a)
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
