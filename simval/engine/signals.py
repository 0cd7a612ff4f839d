"""Which paths of a chunk show a signal (:class:`simval.model.signals.SignalRule`)."""

from __future__ import annotations

import numpy as np

from simval.layout import SERIES_CAPACITY
from simval.model.signals import SignalRule

__all__ = ["signal_paths"]


def signal_paths(rule: SignalRule, series: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Boolean per path of the chunk: does the path show the signal ``rule``?

    Parameters
    ----------
    rule : SignalRule
    series : ndarray, shape (N_SERIES, n, K + 1)
        The chunk's series.
    active : ndarray of int8, shape (n, n_named, K + 1)
        1 where a named contract is active.
    """
    if rule.kind == "growth":
        start = series[rule.row, :, rule.k_from]
        end = series[rule.row, :, rule.k_to]
        with np.errstate(invalid="ignore"):
            return (start > 0) & (end >= rule.factor * start)
    if rule.kind == "contract":
        now = active[:, rule.slot, rule.k_to] == 1
        return (active[:, rule.slot, 0] == 1) & ~now if rule.lost else now
    capacity = series[SERIES_CAPACITY, :, :rule.k_to + 1]
    return (np.diff(capacity, axis=1) < 0).any(axis=1)
