"""The public entry point: config in, ``xarray.Dataset`` out."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numba
import xarray as xr

from simval.config.load import Config, ConfigError, load_config
from simval.engine.distributed import run_on_client
from simval.engine.fundamental import fit_value_function
from simval.engine.runner import BLOCK, ScenarioAccumulator, run_keys, run_scenario
from simval.layout import MAX_PATHS
from simval.model.params import (
    KernelParams,
    TimeGrid,
    build_kernel_params,
    make_time_grid,
    required_terminal_revenue,
)
from simval.model.signals import signal_rules
from simval.results.dataset import build_dataset
from simval.stats.probabilities import binomial_estimate, paired_binomial_estimate

__all__ = ["check_names", "check_shared_keys", "check_whole", "progress_bar",
           "scenario_accumulators", "simulate"]

_SHARED_KEYS = (("company", "as_of"), ("company", "currency"),
                ("simulation", "horizon_years"), ("simulation", "steps_per_year"),
                ("simulation", "n_paths"), ("simulation", "seed"),
                ("simulation", "keep_paths"), ("simulation", "measure"))


def check_whole(name: str, value: Any, low: int = 0, high: int | None = None) -> int | None:
    """``value`` of the argument ``name`` as an int in [low, high], or None for None.

    A whole number of any numeric type (``4096``, ``np.int64(4096)``, ``4096.0``) is
    accepted; a string, a bool or a fraction is not.

    Raises
    ------
    TypeError
        If ``value`` is not a number (e.g. ``"100"``).
    ValueError
        If it is a number but not a whole one, or out of range.

    Examples
    --------
    >>> check_whole("n_paths", 1e4, low=1)
    10000
    >>> check_whole("n_paths", 1.5, low=1)
    Traceback (most recent call last):
    ...
    ValueError: n_paths must be a whole number; got 1.5
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a whole number; got {value!r} "
                        f"({type(value).__name__})")
    if not isinstance(value, numbers.Integral) and not (
            math.isfinite(value) and float(value).is_integer()):
        raise ValueError(f"{name} must be a whole number; got {value!r}")
    number = int(value)
    if number < low or (high is not None and number > high):
        upper = "" if high is None else f", at most {high}"
        raise ValueError(f"{name} must be at least {low}{upper}; got {number}")
    return number


def check_shared_keys(config: Config) -> None:
    """Raise ConfigError if a scenario changes a key every scenario of a run must share (the
    calendar, the paths and the measure: ``_SHARED_KEYS``)."""
    base = config.base
    problems = [
        f"{config.source}: [scenarios.{name}] changes {section}.{key}; all scenarios of a run "
        "must share it (run them as separate configs)"
        for name, values in config.scenarios.items() for section, key in _SHARED_KEYS
        if values[section][key] != base[section][key]
    ]
    if problems:
        raise ConfigError(problems)


def check_names(name: str, value: Any) -> list[str] | None:
    """``value`` of the argument ``name`` as a list of scenario names, or None for None.

    Raises
    ------
    TypeError
        If ``value`` is a single string (``"base"`` would be the names 'b', 'a', 's', 'e') or
        not a sequence of strings.

    Examples
    --------
    >>> check_names("scenarios", ("base", "stress"))
    ['base', 'stress']
    """
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError(f"{name} must be a list of scenario names, e.g. [{value!r}]; got the "
                        f"string {value!r}")
    try:
        names = list(value)
    except TypeError:
        raise TypeError(f"{name} must be a list of scenario names; got {value!r}") from None
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"{name} must be a list of scenario names (strings); got {bad[0]!r}")
    return names


def simulate(config: Config | str | Path, *, n_paths: int | None = None,
             seed: int | None = None, keep_paths: int | None = None,
             scenarios: Sequence[str] | None = None, chunk_size: int | None = None,
             threads: int | None = None, progress: bool = False, antithetic: bool = False,
             precision: float | None = None, max_paths: int | None = None,
             client: Any = None) -> xr.Dataset:
    """Simulate every scenario of a config and summarise the paths.

    Parameters
    ----------
    config : Config, str or Path
        A validated config or the path of a TOML config.
    n_paths : int, optional
        Paths per scenario (default: ``simulation.n_paths``).
    seed : int, optional
        Root seed (default: ``simulation.seed``). The same seed gives identical results
        whatever ``threads`` and ``chunk_size``; all scenarios use the same random numbers.
    keep_paths : int, optional
        How many paths (the first ones) to keep in full (default: ``simulation.keep_paths``,
        at most ``n_paths``).
    scenarios : sequence of str, optional
        Run only these scenarios (default: all, in file order).
    chunk_size : int, optional
        Paths simulated at once, a multiple of 4096 (default: about 64 MiB of path series).
    threads : int, optional
        numba threads (default: all cores).
    progress : bool, default: False
        Show a progress bar on stderr.
    antithetic : bool, default: False
        Simulate paths in antithetic pairs (2i, 2i + 1); standard errors and intervals then
        come from the independent pair averages. ``n_paths`` is rounded up to an even number.
    precision : float, optional
        Target 95% half-width of every scenario's P(justified) and P(collapse). Paths are
        added in rounds (of whole 4096-path blocks) until every half-width is at most this, or
        ``max_paths`` is reached; ``n_paths`` is the first round. The result is identical to a
        fixed run with the final number of paths and the same seed. The Dataset's attributes
        ``precision_target``, ``precision_reached`` and ``max_paths`` record the outcome.
    max_paths : int, optional
        Cap on the paths per scenario of a ``precision`` run, first round included (default:
        100 x ``n_paths``, at most 2**31 - 1).
    client : distributed.Client, optional
        Simulate on this Dask cluster: the paths are split into ranges of whole blocks that
        the workers simulate independently; the result is identical, bit for bit, to the
        single-process run with the same seed (``threads`` then does not apply). Only the
        statistics come back to this process: the kept paths stay on the workers and the
        kept-path variables (``path_*``) are dask arrays, chunked along ``path`` by range
        (chunks of at most about 64 MiB of kept rows), while every other variable is numpy.
        Those variables need ``client`` (and its cluster) alive: ``ds.load()`` or
        ``ds.compute()`` brings them into memory, and ``simval.save(ds, "x.zarr")`` streams
        them, chunk by chunk, from the workers to the store. The rows stay on the cluster as
        long as the Dataset (or anything made from it) refers to them; a worker lost
        meanwhile has its kept rows recomputed.

    Returns
    -------
    xarray.Dataset
        Dimensions ``scenario``, ``time`` (dates), ``quantile``, ``path`` (kept paths) and
        ``contract``; every variable has ``units`` and ``description`` attributes.

    Raises
    ------
    ConfigError
        If the config is invalid or the scenarios do not share a time grid and run settings.
    TypeError, ValueError
        If an argument has the wrong type (``n_paths="100"``, ``scenarios="base"``) or value
        (``n_paths=1.5``, ``max_paths`` without ``precision``); the message names it.

    Examples
    --------
    >>> ds = simulate("configs/schwartz_moon_amazon.toml", n_paths=4096, keep_paths=0)
    >>> float(ds.p_bankrupt.sel(scenario="base")) > 0
    True
    """
    n_paths = check_whole("n_paths", n_paths, 1, MAX_PATHS)
    seed = check_whole("seed", seed, 0, 2**63 - 1)
    keep_paths = check_whole("keep_paths", keep_paths, 0)
    chunk_size = check_whole("chunk_size", chunk_size, 1)
    threads = check_whole("threads", threads, 1)
    max_paths = check_whole("max_paths", max_paths, 1, MAX_PATHS)
    scenarios = check_names("scenarios", scenarios)
    if precision is not None and (isinstance(precision, bool | str)
                                  or not isinstance(precision, numbers.Real)):
        raise TypeError(f"precision must be a number in (0, 0.5); got {precision!r}")
    if max_paths is not None and precision is None:
        raise ValueError("max_paths caps the paths of a precision run; give precision too")
    if not isinstance(config, Config):
        config = load_config(config)
    if scenarios is not None:
        config = config.select(scenarios)
    check_shared_keys(config)
    base = config.base
    sim = base["simulation"]
    n_paths = sim["n_paths"] if n_paths is None else int(n_paths)
    seed = sim["seed"] if seed is None else int(seed)
    keep = min(sim["keep_paths"] if keep_paths is None else int(keep_paths), n_paths)
    if n_paths < 1 or n_paths > MAX_PATHS:
        raise ValueError(f"n_paths must be in [1, {MAX_PATHS}]; got {n_paths}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed}")
    if antithetic and n_paths % 2:
        n_paths += 1
    if precision is not None and not 0 < precision < 0.5:
        raise ValueError(f"precision must be in (0, 0.5); got {precision}")
    if precision is not None:  # rounds continue from whole blocks
        n_paths = math.ceil(n_paths / BLOCK) * BLOCK
    if max_paths is None:
        max_paths = min(100 * n_paths, MAX_PATHS)
    if antithetic:
        max_paths -= max_paths % 2
    if precision is not None:
        n_paths = min(n_paths, max_paths)  # the cap bounds the first round too
    grid = make_time_grid(base)
    keys = run_keys(seed)
    previous_threads = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    params = {name: build_kernel_params(values, grid, antithetic=antithetic)
              for name, values in config.scenarios.items()}
    value_functions = {}
    for name, values in config.scenarios.items():
        params[name], value_functions[name] = fit_value_function(params[name], values, seed)
    accumulators = scenario_accumulators(config, params, grid, keep, antithetic=antithetic,
                                         holds_kept=client is None)
    kept: dict[str, list] = {name: [] for name in params}  # kept chunks on the cluster
    bar = progress_bar(progress, n_paths * len(config.scenarios), "simulating")
    done, target = 0, n_paths
    try:
        with bar if bar is not None else nullcontext():
            while True:
                if client is not None:
                    chunks = run_on_client(client, params, keys, accumulators, done, target,
                                           chunk_size=chunk_size,
                                           on_task=bar.update if bar is not None else None)
                    for name in params:
                        kept[name] += chunks[name]
                for name, p in params.items() if client is None else ():
                    run_scenario(p, keys, target - done, accumulators[name],
                                 chunk_size=chunk_size, path_start=done,
                                 on_chunk=bar.update if bar is not None else None)
                done = target
                if precision is None:
                    break
                half_width = _worst_half_width(accumulators, done, grid.n_steps)
                if half_width <= precision or done >= max_paths:
                    break
                target = _next_round(done, half_width, precision, max_paths)
                if bar is not None:
                    bar.total = target * len(params)
    finally:
        numba.set_num_threads(previous_threads)
    required = {name: required_terminal_revenue(values, grid)
                for name, values in config.scenarios.items()}
    ds = build_dataset(config, grid, accumulators, required, seed=seed, n_paths=done,
                       keep_paths=keep, contracts=config.contract_names,
                       contract_index=config.contract_index,
                       kept=kept if client is not None else None,
                       value_functions=value_functions)
    ds.attrs["antithetic"] = int(antithetic)
    notes = run_warnings(ds, config)
    if notes:
        ds.attrs["run_warnings"] = "\n".join(notes)
    if precision is not None:
        ds.attrs["precision_target"] = precision
        ds.attrs["precision_reached"] = int(
            _worst_half_width(accumulators, done, grid.n_steps) <= precision)
        ds.attrs["max_paths"] = max_paths
    return ds


def _cap_share(values: dict) -> float | None:
    size = values["market_size"]
    return float(size["max_share"]) if size["enabled"] else None


def run_warnings(ds: xr.Dataset, config: Config) -> list[str]:
    """What a run found that its config could not say (MODEL.md 10.5): a market-size cap that
    binds on none of the paths (then market_size.max_share cannot change any result), in the
    first scenario or in one that changes the market-size keys (a scenario that only shrinks
    the company, and so never reaches the base's cap, is not warned about)."""
    if "cap_binding_share" not in ds:
        return []
    first = next(iter(config.scenarios))
    never = [str(s) for s in ds.scenario.values
             if float(ds.cap_binding_share.sel(scenario=s)) == 0.0
             and (s == first or config.scenarios[s]["market_size"]
                  != config.scenarios[first]["market_size"])]
    if not never:
        return []
    return [f"market_size.max_share binds on none of the {ds.attrs['n_paths']:,} paths of "
            f"scenario {', '.join(repr(s) for s in never)}: the cap cannot change any result "
            "there (lower max_share, or check the market-size points)"]


def scenario_accumulators(config: Config, params: dict[str, KernelParams], grid: TimeGrid,
                          keep: int, *, antithetic: bool = False,
                          holds_kept: bool = True) -> dict[str, ScenarioAccumulator]:
    """An empty :class:`ScenarioAccumulator` for each scenario of ``config`` (its valuation,
    threshold, question horizon and signals), keeping the paths ``0 .. keep - 1``."""
    return {name: ScenarioAccumulator(grid.n_steps, p.n_named, keep, p.v0,
                                      config.scenarios[name]["market"]["threshold"],
                                      antithetic=antithetic, holds_kept=holds_kept,
                                      question_steps=grid.question_steps,
                                      signals=signal_rules(config.signals,
                                                           config.scenarios[name], grid),
                                      cap_share=_cap_share(config.scenarios[name]))
            for name, p in params.items()}


def _worst_half_width(accumulators: dict[str, ScenarioAccumulator], n: int,
                      n_steps: int) -> float:
    """Largest 95% half-width of P(justified) and P(collapse) over the scenarios."""
    worst = 0.0
    never = n_steps + 1
    pairs = n // 2
    for acc in accumulators.values():
        for k, k_both in ((acc.n_justified, acc.pairs_justified),
                          (n - acc.collapse_steps[never], pairs - acc.pair_collapse_steps[never])):
            est = (paired_binomial_estimate(k, k_both, n) if acc.antithetic
                   else binomial_estimate(k, n))
            worst = max(worst, float(est.high - est.p), float(est.p - est.low))
    return worst


def _next_round(done: int, half_width: float, precision: float, max_paths: int) -> int:
    """Paths after the next round: enough for the target if the half-width scales as
    1/sqrt(n), plus 10%, in whole blocks, at least one more block, at most max_paths."""
    wanted = done * (half_width / precision) ** 2 * 1.1
    target = max(math.ceil(wanted / BLOCK) * BLOCK, math.ceil(done / BLOCK) * BLOCK + BLOCK)
    return min(target, max_paths)


def progress_bar(enabled: bool, total: int, desc: str):
    """A tqdm bar of ``total`` paths labelled ``desc`` (None when not ``enabled``: tqdm is
    imported only for a bar)."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="path", unit_scale=True, desc=desc, leave=False)
