"""Research tools: sweeps as dimensions, sensitivity, market-implied expectations.

- :func:`sweep` (:mod:`simval.research.sweep`): config keys over a grid become Dataset
  dimensions, every grid point on the same random numbers (:func:`sweep_table` prints it);
- :mod:`simval.research.sensitivity`: :func:`~simval.research.sensitivity.tornado` (paired
  changes on common random numbers), :func:`~simval.research.sensitivity.sobol` (Sobol'
  indices through SALib), :func:`~simval.research.sensitivity.explain_collapse`;
- :mod:`simval.research.implied`: :func:`~simval.research.implied.solve` (the input value at
  which a target holds, with a Monte Carlo interval),
  :func:`~simval.research.implied.reverse_dcf` (the revenue growth and terminal margin that
  make E[PV] = V_0), :func:`~simval.research.implied.describe` and
  :func:`~simval.research.implied.describe_reverse_dcf`;
- :mod:`simval.research.calibration` (imported on its own, as ``simval.calibrate``: it imports
  statsmodels): Kalman-filter maximum likelihood of the commercial revenue process on a revenue
  history, and the ``[uncertainty.priors]`` table of its estimates.

Importing this package imports neither SALib nor matplotlib nor statsmodels.
"""

from simval.config.override import override
from simval.config.research import ResearchConfig, load_research_config, parse_research_config
from simval.research import implied, sensitivity
from simval.research.implied import (
    ImpliedResult,
    ReverseDCF,
    describe,
    describe_reverse_dcf,
    reverse_dcf,
    solve,
)
from simval.research.sensitivity import (
    SimvalModel,
    default_group,
    explain_collapse,
    sobol,
    sobol_indices,
    sobol_table,
    tornado,
    tornado_table,
)
from simval.research.sweep import sweep
from simval.research.sweep_text import sweep_table

__all__ = [
    "ImpliedResult",
    "ResearchConfig",
    "ReverseDCF",
    "SimvalModel",
    "default_group",
    "describe",
    "describe_reverse_dcf",
    "explain_collapse",
    "implied",
    "load_research_config",
    "override",
    "parse_research_config",
    "reverse_dcf",
    "sensitivity",
    "sobol",
    "sobol_indices",
    "sobol_table",
    "solve",
    "sweep",
    "sweep_table",
    "tornado",
    "tornado_table",
]
