"""Figures of a results Dataset: ``f(ds, *, scenario=None, ax=None, **style) -> Axes``.

Every function draws on ``ax`` (or on a new figure when ``ax`` is None) with matplotlib's
object-oriented API and returns the axes, so figures compose::

    import matplotlib.pyplot as plt
    import simval

    ds = simval.open_results("results/zhipu_2026/results.nc")
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
    simval.plot.fan(ds, "market_value", scenario="base", ax=left)
    simval.plot.survival(ds, ax=right)

A sweep (:func:`simval.research.sweep.sweep`) has :func:`sweep`: a headline number along a
swept input, with its intervals. A company panel (:func:`simval.simulate_panel`) adds
:func:`stays_above`: P(each company stays above the panel's line through t), the joint
probability that all do, and the product that independence would give.

Each scenario has the same colour in every figure (Okabe-Ito's colour-blind-safe palette, by
the scenario's position in the config); money axes read ``¥200B``, ``$1.5T``; every axis label
carries its unit. The same functions are reachable as ``ds.simval.plot.<name>(...)``.
Importing this package does not import matplotlib: each function imports it when called.
"""

from simval.plot.convergence import convergence
from simval.plot.distributions import scenario_comparison, value_distribution
from simval.plot.panel import stays_above
from simval.plot.paths import sample_paths
from simval.plot.sensitivity import sobol_indices, tornado
from simval.plot.sweep import sweep
from simval.plot.time import fan, revenue_mix, survival

__all__ = [
    "convergence",
    "fan",
    "revenue_mix",
    "sample_paths",
    "scenario_comparison",
    "sobol_indices",
    "stays_above",
    "survival",
    "sweep",
    "tornado",
    "value_distribution",
]
