"""The public entry point: config in, ``xarray.Dataset`` out."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

import numba
import xarray as xr

from simval.config.load import Config, ConfigError, load_config
from simval.engine.runner import ScenarioAccumulator, run_scenario, seed_keys
from simval.model.params import build_kernel_params, make_time_grid, required_terminal_revenue
from simval.results.dataset import build_dataset

__all__ = ["simulate"]

_SHARED_KEYS = (("company", "as_of"), ("company", "currency"),
                ("simulation", "horizon_years"), ("simulation", "steps_per_year"),
                ("simulation", "n_paths"), ("simulation", "seed"),
                ("simulation", "keep_paths"), ("simulation", "measure"))


def simulate(config: Config | str | Path, *, n_paths: int | None = None,
             seed: int | None = None, keep_paths: int | None = None,
             scenarios: Sequence[str] | None = None, chunk_size: int | None = None,
             threads: int | None = None, progress: bool = False) -> xr.Dataset:
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

    Returns
    -------
    xarray.Dataset
        Dimensions ``scenario``, ``time`` (dates), ``quantile``, ``path`` (kept paths) and
        ``contract``; every variable has ``units`` and ``description`` attributes.

    Raises
    ------
    ConfigError
        If the config is invalid or the scenarios do not share a time grid and run settings.

    Examples
    --------
    >>> ds = simulate("configs/schwartz_moon_amazon.toml", n_paths=4096, keep_paths=0)
    >>> float(ds.p_bankrupt.sel(scenario="base")) > 0
    True
    """
    if not isinstance(config, Config):
        config = load_config(config)
    if scenarios is not None:
        config = config.select(list(scenarios))
    base = config.base
    problems = [
        f"{config.source}: [scenarios.{name}] changes {section}.{key}; all scenarios of a run "
        "must share it (run them as separate configs)"
        for name, values in config.scenarios.items() for section, key in _SHARED_KEYS
        if values[section][key] != base[section][key]
    ]
    if problems:
        raise ConfigError(problems)
    sim = base["simulation"]
    n_paths = sim["n_paths"] if n_paths is None else int(n_paths)
    seed = sim["seed"] if seed is None else int(seed)
    keep = min(sim["keep_paths"] if keep_paths is None else int(keep_paths), n_paths)
    if n_paths < 1 or n_paths >= 2**31:
        raise ValueError(f"n_paths must be in [1, 2**31); got {n_paths}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed}")
    grid = make_time_grid(base)
    keys = seed_keys(seed)
    contracts: list[str] = []
    for values in config.scenarios.values():
        contracts += [c for c in values["contracts"] if c not in contracts]
    previous_threads = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    bar = _progress_bar(progress, n_paths * len(config.scenarios))
    accumulators, required, contract_index = {}, {}, {}
    try:
        with bar if bar is not None else nullcontext():
            for name, values in config.scenarios.items():
                params = build_kernel_params(values, grid)
                acc = ScenarioAccumulator(grid.n_steps, params.n_named, keep,
                                          params.v0, values["market"]["threshold"])
                run_scenario(params, keys, n_paths, acc, chunk_size=chunk_size,
                             on_chunk=bar.update if bar is not None else None)
                accumulators[name] = acc
                required[name] = required_terminal_revenue(values, grid)
                contract_index[name] = [contracts.index(c) for c in values["contracts"]]
    finally:
        numba.set_num_threads(previous_threads)
    return build_dataset(config, grid, accumulators, required, seed=seed, n_paths=n_paths,
                         keep_paths=keep, contracts=contracts, contract_index=contract_index)


def _progress_bar(enabled: bool, total: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="path", unit_scale=True, desc="simulating", leave=False)
