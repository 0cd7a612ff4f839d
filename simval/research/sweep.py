"""Sweeps as dimensions: config keys moved over a grid, every grid point on the same paths.

A sweep turns one or more config keys into extra dimensions of the results Dataset::

    ds = simval.sweep("configs/zhipu_2026.toml",
                      {"contracts.beijing.renewal_probability": [0.6, 0.7, 0.8, 0.9]},
                      n_paths=20_000, seed=1)
    ds.p_justified.sel(scenario="base")   # one value per renewal probability

Every grid point is simulated with the same seed. Draws depend only on (seed, path, stream,
step, slot) (``docs/model.md`` section 5), so path ``p`` of every grid point sees the same
random numbers (common random numbers) and the differences between grid points are the effect
of the assumption, not noise.

Keys are dot keys (:mod:`simval.config.address`): ``section.key`` (``chips.shock_rate``),
``contracts.NAME.key``, ``slowdown.section.key`` or ``slowdown.contracts.NAME.key``, and must
exist in the schema (:mod:`simval.config.schema`). A swept value is applied to the base config
and to every scenario that sets the key itself (:func:`simval.config.override.override`), and
the result is validated again by the loader, so a bad value gives the loader's usual
:class:`~simval.config.load.ConfigError` naming the key. A per-regime key
(``chips.shock_rate``) moves the normal-regime value; the slowdown value follows it unless the
config sets ``[slowdown.chips].shock_rate`` (sweep ``slowdown.chips.shock_rate`` to move that).

A config may declare its sweep in a ``[sweep]`` table (:mod:`simval.config.research`)::

    [sweep]
    "contracts.beijing.renewal_probability" = [0.6, 0.7, 0.8, 0.9]

:func:`sweep_table` (:mod:`simval.research.sweep_text`) prints the headline figures of every
grid point.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from simval.config.address import ConfigKey, coerce_value, resolve_key, value_of
from simval.config.load import Config, ConfigError
from simval.config.override import override
from simval.config.research import (
    ResearchConfig,
    as_config,
    load_research_config,
    parse_research_config,
)
from simval.config.toml import to_toml
from simval.layout import MAX_PATHS
from simval.simulate import check_names, check_whole, simulate

__all__ = [
    "ResearchConfig",
    "SweepKey",
    "as_config",
    "load_research_config",
    "override",
    "parse_research_config",
    "resolve_key",
    "sweep",
    "sweep_keys",
    "to_toml",
    "value_of",
]

SweepKey = ConfigKey
"""The first name of :class:`simval.config.address.ConfigKey`, kept for code that uses it."""

# re-exported from their homes in simval.config (this module was their first home):
# ResearchConfig, as_config, load_research_config, parse_research_config (config.research),
# override (config.override), resolve_key, value_of (config.address), to_toml (config.toml)


# --------------------------------------------------------------------------------------------
# the sweep


def _grid(config: Config, grid: Mapping[str, Sequence[Any]]) -> tuple[list[ConfigKey],
                                                                      list[list[Any]]]:
    """Resolved keys and coerced values; every problem of every key and value at once."""
    problems: list[str] = []
    keys: list[ConfigKey] = []
    values: list[list[Any]] = []
    for name, vals in grid.items():
        try:
            key = resolve_key(config, name)
        except ConfigError as exc:
            problems += exc.problems
            continue
        if isinstance(vals, str | bytes) or not isinstance(vals, Iterable):
            problems.append(f"{config.source}: the values of {name!r} must be a list. Got "
                            f"{vals!r} instead.")
            continue
        vals = [coerce_value(key.field, v) for v in vals]
        if not vals:
            problems.append(f"{config.source}: {name!r} needs at least one value to sweep.")
            continue
        if len({json.dumps(v, default=str) for v in vals}) != len(vals):
            problems.append(f"{config.source}: the values of {name!r} must differ. Got "
                            f"{vals!r} instead.")
            continue
        for v in vals:  # each value on its own, so every bad one is reported
            try:
                override(config, {name: v})
            except ConfigError as exc:
                problems += exc.problems
        keys.append(key)
        values.append(vals)
    if not grid:
        problems.append(f"{config.source}: nothing to sweep: give at least one KEY = [values]")
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    return keys, values


def sweep(config: Config | ResearchConfig | str | Path,
          grid: Mapping[str, Sequence[Any]] | None = None, *, n_paths: int | None = None,
          seed: int | None = None, scenarios: Sequence[str] | None = None,
          keep_paths: int = 0, threads: int | None = None, chunk_size: int | None = None,
          progress: bool = False) -> xr.Dataset:
    """Simulate a config over a grid of values of some of its keys, on common random numbers.

    Parameters
    ----------
    config : Config, ResearchConfig, str or Path
        The config (a path is read with :func:`load_research_config`, so its ``[sweep]``
        table is the default grid).
    grid : mapping of str to sequence, optional
        Dot key -> values, e.g. ``{"contracts.beijing.renewal_probability": [0.6, 0.9],
        "chips.shock_rate": [0.25, 0.5, 1.0]}``. The full grid (the Cartesian product) is run.
        Default: the config's ``[sweep]`` table.
    n_paths, seed : int, optional
        Paths per scenario and grid point, and the seed (defaults: the config's). Every grid
        point uses the same seed.
    scenarios : sequence of str, optional
        Run only these scenarios (default: all).
    keep_paths : int, default: 0
        Paths kept in full at every grid point; with 0 the variables over ``path`` are left
        out.
    threads, chunk_size : int, optional
        As in :func:`simval.simulate`.
    progress : bool, default: False
        Show a progress bar over the grid points on stderr.

    Returns
    -------
    xarray.Dataset
        The variables of :func:`simval.simulate` with one extra leading dimension per swept
        key, named by the key and with its values as coordinate (``units`` and
        ``description`` attributes from the schema). The attributes are those of the first
        grid point's run, with ``config`` the unswept config and ``sweep_keys`` (JSON list of
        the swept keys).

    Raises
    ------
    ConfigError
        If a key is unknown or cannot be swept, or a value (or a combination of values) is
        invalid; every problem is reported, each naming its key and value.

    Notes
    -----
    Each grid point is a separate call of :func:`simval.simulate` with the same seed, so
    path ``p`` sees the same draws at every grid point (common random numbers): a swept key
    that does not touch revenue leaves the revenue paths identical. Differences between
    grid points therefore have much smaller Monte Carlo error than the separate intervals
    suggest; :func:`simval.research.sensitivity.tornado` computes the paired errors.

    Examples
    --------
    >>> ds = sweep("configs/minimax_2025.toml", {"chips.shock_rate": [0.2, 0.8]},
    ...            n_paths=1000, scenarios=["base"])
    >>> ds.p_justified.dims
    ('chips.shock_rate', 'scenario')
    """
    research = as_config(config)
    cfg = research.config
    n_paths = check_whole("n_paths", n_paths, 1, MAX_PATHS)
    seed = check_whole("seed", seed, 0, 2**63 - 1)
    keep_paths = check_whole("keep_paths", keep_paths, 0)
    scenarios = check_names("scenarios", scenarios)
    if scenarios is not None:
        cfg = cfg.select(scenarios)
    if grid is None:
        grid = research.sweep
    keys, values = _grid(cfg, grid)
    points = list(itertools.product(*values))
    configs = [override(cfg, dict(zip([k.name for k in keys], point, strict=True)))
               for point in points]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(configs), unit="point", desc="sweeping", leave=False)
    runs = []
    try:
        for c in configs:
            runs.append(simulate(c, n_paths=n_paths, seed=seed, keep_paths=keep_paths,
                                 threads=threads, chunk_size=chunk_size))
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return _stack(runs, keys, values, cfg, keep_paths)


def _stack(runs: list[xr.Dataset], keys: list[ConfigKey], values: list[list[Any]],
           config: Config, keep_paths: int) -> xr.Dataset:
    first = runs[0]
    for run in runs[1:]:
        for name, coord in first.coords.items():
            if not coord.equals(run.coords[name]):  # pragma: no cover - guarded by FORBIDDEN
                raise ValueError(f"the grid points do not share the coordinate {name!r}")
    shape = tuple(len(v) for v in values)
    dims = tuple(k.name for k in keys)
    data = {}
    for name, var in first.data_vars.items():
        if "path" in var.dims and keep_paths == 0:
            continue
        stacked = np.stack([run[name].values for run in runs]).reshape(shape + var.shape)
        data[name] = xr.Variable(dims + var.dims, stacked, attrs=dict(var.attrs))
    currency = config.base["company"]["currency"]
    coords = {name: coord.variable for name, coord in first.coords.items()
              if keep_paths > 0 or "path" not in coord.dims}
    for key, vals in zip(keys, values, strict=True):
        attrs = {"description": f"swept config key {key.label}: {key.field.doc}"}
        if key.field.unit:
            attrs["units"] = key.unit(currency)
        if key.field.compounding:  # a rate: "continuous" or "annual" (simval.config.rates)
            attrs["compounding"] = key.field.compounding
        coord_values = [v.isoformat() if isinstance(v, dt.date) else v for v in vals]
        coords[key.name] = xr.Variable(key.name, np.asarray(coord_values), attrs=attrs)
    attrs = dict(first.attrs)
    attrs.update({"config": config.text, "config_source": config.source,
                  "config_sha256": config.sha256, "sweep_keys": json.dumps(list(dims)),
                  "random_numbers": attrs.get("random_numbers", "")
                  + "; every grid point of the sweep uses the same seed (common random "
                    "numbers)"})
    return xr.Dataset(data, coords=coords, attrs=attrs)


def sweep_keys(ds: xr.Dataset) -> list[str]:
    """The swept keys of a sweep Dataset (its extra dimensions), in order."""
    if "sweep_keys" not in ds.attrs:
        raise ValueError("not a sweep Dataset: no 'sweep_keys' attribute")
    return list(json.loads(ds.attrs["sweep_keys"]))

