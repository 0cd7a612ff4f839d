"""simval: how likely is it that a valuation is justified, and how likely is it to collapse?

The public API is flat::

    import simval
    ds = simval.simulate("configs/zhipu_2026.toml")
    simval.save(ds, "results.nc")

Data flows one way: TOML config -> validated :class:`Config` -> kernel parameters -> numba
engine -> ``xarray.Dataset`` -> statistics and tables -> figures (:mod:`simval.plot`) and
reports (:mod:`simval.report`). ``import simval`` does not import matplotlib: ``simval.plot``
and ``simval.report`` are imported on first use, and the ``ds.simval`` accessor (registered
here) imports them only when called.
"""

from simval._version import __version__
from simval.config.load import Config, ConfigError, load_config, parse_config
from simval.panel import load_panel, simulate_panel
from simval.research import implied, sensitivity
from simval.research.sweep import sweep
from simval.results import accessor as _accessor  # noqa: F401  (registers ds.simval)
from simval.results.io import ResultsExistError, open_results, save
from simval.simulate import simulate
from simval.stats.summary import headline_table, panel_table

__all__ = [
    "Config",
    "ConfigError",
    "ResultsExistError",
    "__version__",
    "headline_table",
    "implied",
    "load_config",
    "load_panel",
    "open_results",
    "panel_table",
    "parse_config",
    "plot",
    "report",
    "save",
    "sensitivity",
    "simulate",
    "simulate_panel",
    "sweep",
]


_LAZY_SUBMODULES = ("plot", "report")


def __getattr__(name: str):
    """``simval.plot`` and ``simval.report``, imported on first use."""
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"simval.{name}")
    raise AttributeError(f"module 'simval' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_SUBMODULES})
