"""Dataset variables that combine what the accumulators stream: the scenario-weighted mixture
of the headline numbers and the headline numbers conditional on each signal."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from simval.engine.runner import SIGNAL_OUTCOMES, ScenarioAccumulator
from simval.stats.mixture import batch_ratio_estimate
from simval.stats.probabilities import binomial_estimate

__all__ = ["add_signal_variables", "add_weighted_variables", "WEIGHTED_NAMES"]

Add = Callable[..., None]

WEIGHTED_NAMES = {"p_collapse": "collapse", "p_bankrupt": "bankrupt",
                  "p_justified": "justified", "value_ratio": None}
"""Each weighted headline number and the per-batch count it mixes (None: PV sums / V_0)."""


def add_weighted_variables(add: Add, accs: Sequence[ScenarioAccumulator],
                           weights: Sequence[float], valuation: np.ndarray) -> None:
    """``weighted_<name>`` (with ``_se``, ``_low``, ``_high``) for each of
    :data:`WEIGHTED_NAMES`: ``sum_s w_s x_s`` over the scenarios (``weights`` normalised),
    with the standard error of :func:`~simval.stats.mixture.batch_ratio_estimate` over the
    independent batches of :data:`~simval.engine.runner.BATCH` paths (the scenarios share
    their random numbers, so their estimates are correlated)."""
    m = np.asarray(accs[0].batch_sums["paths"], dtype=np.float64)
    for name, key in WEIGHTED_NAMES.items():
        if key is None:
            y = sum(w * np.asarray(a.batch_sums["pv"]) / v0
                    for w, a, v0 in zip(weights, accs, valuation, strict=True))
            bounds = (-np.inf, np.inf)
            units, what = "1", "E[PV] / V_0"
        else:
            y = sum(w * np.asarray(a.batch_sums[key], dtype=np.float64)
                    for w, a in zip(weights, accs, strict=True))
            bounds = (0.0, 1.0)
            units, what = "1", f"P({key})"
        est = batch_ratio_estimate(y, m, bounds=bounds)
        full = f"weighted_{name}"
        add(full, (), est.value, units,
            f"scenario-weighted mixture of {what}: sum over scenarios of weight x {name}")
        add(f"{full}_se", (), est.se, units,
            f"standard error of {full} from the spread of the weighted sums over independent "
            "batches of paths (common random numbers across scenarios)")
        add(f"{full}_low", (), est.low, units, f"lower bound of the 95% interval of {full} "
                                                 "(t over the batches)")
        add(f"{full}_high", (), est.high, units, f"upper bound of the 95% interval of {full} "
                                                   "(t over the batches)")


def _conditional_probability(add: Add, name: str, k: np.ndarray, n: np.ndarray,
                             description: str) -> None:
    """A Clopper-Pearson estimate of k / n over (scenario, signal); NaN where n = 0."""
    est = binomial_estimate(k, np.maximum(n, 1))
    empty = n == 0
    dims = ("scenario", "signal")
    for suffix, data, what in (("", est.p, description),
                               ("_se", est.se, f"standard error of {name}"),
                               ("_low", est.low, f"lower bound of the 95% Clopper-Pearson "
                                                 f"interval of {name}"),
                               ("_high", est.high, f"upper bound of the 95% Clopper-Pearson "
                                                   f"interval of {name}")):
        add(f"{name}{suffix}", dims, np.where(empty, np.nan, data), "1",
            what + (" (NaN: no path in the condition)" if suffix == "" else ""))


def add_signal_variables(add: Add, accs: Sequence[ScenarioAccumulator], n_paths: int,
                         valuation: np.ndarray, labels: Mapping[str, str]) -> None:
    """Per scenario and signal: ``p_signal`` and, given the signal and given its absence,
    P(collapse), P(bankrupt), P(PV >= V_0) (Clopper-Pearson at k = paths with both, n =
    paths in the condition) and E[PV] / V_0 with its standard error (i.i.d. paths)."""
    counts = np.stack([a.signal_counts for a in accs])  # scenario, signal, present, outcome
    paths = SIGNAL_OUTCOMES.index("paths")
    _conditional_probability(add, "p_signal", counts[:, :, 1, paths],
                             np.full(counts.shape[:2], n_paths),
                             "P(signal): probability the path shows the signal")
    for present, tag, words in ((1, "signal", "the signal"), (0, "no_signal", "its absence")):
        n = counts[:, :, present, paths]
        for outcome, short in (("collapse", "p_collapse"), ("bankrupt", "p_bankrupt"),
                               ("justified", "p_justified")):
            _conditional_probability(add, f"{short}_given_{tag}",
                                     counts[:, :, present, SIGNAL_OUTCOMES.index(outcome)], n,
                                     f"{short} conditional on {words}")
        mean = np.full(n.shape, np.nan)
        se = np.full(n.shape, np.nan)
        for i, a in enumerate(accs):
            for j, name in enumerate(labels):
                which = name if present else f"not {name}"
                k = int(n[i, j])
                if k == 0:
                    continue
                mu = math.fsum(a.block_sums[f"pv|{which}"]) / k
                mean[i, j] = mu / valuation[i]
                if k >= 2:
                    var = math.fsum(a.block_sums[f"pv_sq|{which}"]) / k - mu * mu
                    se[i, j] = math.sqrt(max(var, 0.0) / (k - 1)) / valuation[i]
        add(f"value_ratio_given_{tag}", ("scenario", "signal"), mean, "1",
            f"E[PV | {words}] / V_0 (NaN: no path in the condition)")
        add(f"value_ratio_given_{tag}_se", ("scenario", "signal"), se, "1",
            f"standard error of value_ratio_given_{tag} (paths in the condition as i.i.d.)")
