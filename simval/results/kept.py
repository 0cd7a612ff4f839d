"""The kept-path variables of a run: in memory, or as dask arrays over rows held on a cluster.

A single-process run holds its kept paths in its accumulators and gets numpy arrays. A
distributed run leaves them on the workers (:class:`~simval.engine.distributed.KeptChunk`) and
gets dask arrays with one chunk per kept chunk along ``path``; the same function,
:func:`kept_arrays`, turns rows into variables in both cases, so both give the same values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simval import layout
from simval.engine.runner import ScenarioAccumulator

__all__ = ["KEPT_VARIABLES", "kept_arrays", "kept_in_memory", "kept_on_cluster"]

_SERIES = tuple((f"path_{name}", row) for row, name in enumerate(layout.SERIES_NAMES))
_SCALARS = tuple((f"path_{name}", row) for row, name in enumerate(layout.SCALAR_NAMES))
_TIMES = tuple((f"path_{layout.COUNT_NAMES[row]}", row) for row in layout.COUNT_STEP_ROWS)
_COUNTS = tuple((f"path_{layout.COUNT_NAMES[row]}", row)
                for row in (layout.COUNT_CHIP_SHOCKS, layout.COUNT_CONTRACTS_LOST,
                            layout.COUNT_CONTRACTS_WON))

KEPT_VARIABLES = tuple(name for name, _ in (*_SERIES, *_SCALARS, *_TIMES, *_COUNTS))
"""Names of the kept-path variables, in Dataset order; ``path_<series>`` have a ``time``
dimension after ``path``."""


def kept_arrays(series: np.ndarray, scalars: np.ndarray, counts: np.ndarray,
                years: np.ndarray) -> dict[str, np.ndarray]:
    """The kept-path variables of some paths of one scenario.

    Parameters
    ----------
    series : ndarray of shape (N_SERIES, n, n_steps + 1)
    scalars : ndarray of shape (N_SCALARS, n)
    counts : ndarray of int64, shape (N_COUNTS, n)
        Kept rows, as held by :class:`~simval.engine.runner.ScenarioAccumulator`.
    years : ndarray of shape (n_steps + 1,)
        Time of each step in years after ``as_of``.

    Returns
    -------
    dict
        Name (:data:`KEPT_VARIABLES`) -> array with ``path`` first (then ``time`` for series).

    Examples
    --------
    >>> from simval import layout
    >>> counts = np.zeros((layout.N_COUNTS, 2), dtype=np.int64)
    >>> counts[layout.COUNT_COLLAPSE_STEP] = [-1, 2]
    >>> out = kept_arrays(np.zeros((layout.N_SERIES, 2, 3)),
    ...                   np.zeros((layout.N_SCALARS, 2)), counts, np.array([0, 0.25, 0.5]))
    >>> out["path_collapse_time"]
    array([nan, 0.5])
    """
    out = {name: series[row] for name, row in _SERIES}
    out.update({name: scalars[row] for name, row in _SCALARS})
    for name, row in _TIMES:  # step of first event, -1 for none
        steps = counts[row]
        out[name] = np.where(steps >= 0, years[np.maximum(steps, 0)], np.nan)
    out.update({name: counts[row] for name, row in _COUNTS})
    return out


def kept_in_memory(accumulators: Sequence[ScenarioAccumulator],
                   years: np.ndarray) -> dict[str, np.ndarray]:
    """The kept-path variables of the accumulators' kept rows, stacked on a first
    ``scenario`` axis (numpy)."""
    per_scenario = [kept_arrays(a.kept_series, a.kept_scalars, a.kept_counts, years)
                    for a in accumulators]
    return {name: np.stack([arrays[name] for arrays in per_scenario])
            for name in KEPT_VARIABLES}


def _scenario_chunk(rows: tuple[np.ndarray, np.ndarray, np.ndarray],
                    years: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`kept_arrays` of one chunk of rows, with a leading scenario axis of length 1."""
    return {name: data[None] for name, data in kept_arrays(*rows, years).items()}


def kept_on_cluster(chunks: Mapping[str, Sequence[tuple[int, int, Any]]],
                    scenarios: Sequence[str], years: np.ndarray) -> dict[str, Any]:
    """The kept-path variables as dask arrays over kept rows held on a Dask cluster.

    Parameters
    ----------
    chunks : mapping
        Scenario name -> its kept chunks ``(path_start, n_paths, rows)`` in path order, where
        ``rows`` is a ``distributed.Future`` (or ``dask.delayed``) of ``(series, scalars,
        counts)`` (:class:`~simval.engine.distributed.KeptChunk`). Every scenario has the same
        chunks along ``path``.
    scenarios : sequence of str
        Scenario order of the first axis.
    years : ndarray of shape (n_steps + 1,)

    Returns
    -------
    dict
        Name -> ``dask.array.Array`` shaped like :func:`kept_in_memory`'s arrays, chunked by
        one scenario and by ``chunks`` along ``path``. The graphs hold the futures, so the rows
        stay on the cluster as long as an array (or a Dataset holding one) is alive; computing
        needs the ``distributed.Client`` that holds them.
    """
    import dask
    import dask.array as da

    starts = [[c[0] for c in chunks[s]] for s in scenarios]
    if any(s != starts[0] for s in starts):
        raise ValueError("every scenario needs the same kept chunks along path")
    n_times = years.shape[0]
    # dtypes and trailing shapes from the same function on empty rows
    template = kept_arrays(np.empty((layout.N_SERIES, 0, n_times)),
                           np.empty((layout.N_SCALARS, 0)),
                           np.empty((layout.N_COUNTS, 0), dtype=np.int64), years)
    blocks: dict[str, list[list[Any]]] = {name: [] for name in KEPT_VARIABLES}
    for s in scenarios:
        row = {name: [] for name in KEPT_VARIABLES}
        for _, n, rows in chunks[s]:
            derived = dask.delayed(_scenario_chunk, pure=True)(rows, years)
            for name in KEPT_VARIABLES:
                like = template[name]
                row[name].append(da.from_delayed(derived[name], (1, n, *like.shape[1:]),
                                                 dtype=like.dtype))
        for name in KEPT_VARIABLES:
            blocks[name].append(da.concatenate(row[name], axis=1))
    return {name: da.concatenate(blocks[name], axis=0) for name in KEPT_VARIABLES}
