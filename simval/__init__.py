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
from simval.results import accessor as _accessor  # noqa: F401  (registers ds.simval)
from simval.results.io import ResultsExistError, open_results, save
from simval.results.summary import headline_table, panel_table
from simval.simulate import simulate

__all__ = [
    "Config",
    "ConfigError",
    "ResultsExistError",
    "__version__",
    "calibrate",
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
    "simulate_draws",
    "simulate_panel",
    "sweep",
]


_LAZY = {
    "plot": ("simval.plot", None),
    "report": ("simval.report", None),
    "calibrate": ("simval.research.calibration", "calibrate"),
    "implied": ("simval.research.implied", None),
    "sensitivity": ("simval.research.sensitivity", None),
    "sweep": ("simval.research.sweep", "sweep"),
    "load_panel": ("simval.panel", "load_panel"),
    "simulate_panel": ("simval.panel", "simulate_panel"),
    "simulate_draws": ("simval.twolevel", "simulate_draws"),
}
"""Public names imported on first use (module, attribute or None for the module itself):
plotting pulls in matplotlib, the research tools scipy.stats and pandas, and the calibration
statsmodels, which a plain run does not need (they would double its start-up time)."""


def __getattr__(name: str):
    """The names of ``_LAZY``, imported on first use."""
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = importlib.import_module(module)
        return value if attribute is None else getattr(value, attribute)
    raise AttributeError(f"module 'simval' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
