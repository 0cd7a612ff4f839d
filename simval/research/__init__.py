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

Importing this package imports only the (light) sweep: its other names are imported on first
use, so the command line defines the research subcommands without importing scipy.stats, which
a plain ``simval run`` does not need. None of them imports SALib, matplotlib or statsmodels.
"""

# eager: the function must shadow its submodule of the same name (and both are light)
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


_LAZY = {
    "ImpliedResult": "simval.research.implied",
    "ResearchConfig": "simval.config.research",
    "ReverseDCF": "simval.research.implied",
    "SimvalModel": "simval.research.sensitivity",
    "default_group": "simval.research.sensitivity",
    "describe": "simval.research.implied",
    "describe_reverse_dcf": "simval.research.implied",
    "explain_collapse": "simval.research.sensitivity",
    "load_research_config": "simval.config.research",
    "override": "simval.config.override",
    "parse_research_config": "simval.config.research",
    "reverse_dcf": "simval.research.implied",
    "sobol": "simval.research.sensitivity",
    "sobol_indices": "simval.research.sensitivity",
    "sobol_table": "simval.research.sensitivity",
    "solve": "simval.research.implied",
    "tornado": "simval.research.sensitivity",
    "tornado_table": "simval.research.sensitivity",
}
"""The module each public name comes from (``implied`` and ``sensitivity`` are submodules)."""


def __getattr__(name: str):
    """The names of ``__all__``, imported on first use."""
    import importlib

    if name in ("implied", "sensitivity"):
        return importlib.import_module(f"simval.research.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simval.research' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
