"""simval: how likely is it that a valuation is justified, and how likely is it to collapse?

The public API is flat::

    import simval
    ds = simval.simulate("configs/zhipu_2026.toml")
    simval.save(ds, "results.nc")

Data flows one way: TOML config -> validated :class:`Config` -> kernel parameters -> numba
engine -> ``xarray.Dataset`` -> statistics and tables. ``import simval`` does not import
matplotlib.
"""

from simval._version import __version__
from simval.config.load import Config, ConfigError, load_config, parse_config
from simval.results.io import ResultsExistError, open_results, save
from simval.simulate import simulate
from simval.stats.summary import headline_table

__all__ = [
    "Config",
    "ConfigError",
    "ResultsExistError",
    "__version__",
    "headline_table",
    "load_config",
    "open_results",
    "parse_config",
    "save",
    "simulate",
]
