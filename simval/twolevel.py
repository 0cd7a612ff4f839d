"""Two-level Monte Carlo: outer draws of the parameters from their priors, inner paths common
to every draw (MODEL.md 11, ``docs/model.md`` "Parameter uncertainty").

Each draw is the config with the drawn values set (:func:`~simval.config.uncertainty.
config_for_draw`, scenario overrides on top), run by the engine exactly as a one-level run
with the same seed: the same path keys, so the draws differ only by their parameters (common
random numbers). The per-draw statistics are pooled into one set of accumulators, whose
Dataset is the predictive (mixture) distribution; each draw's headline estimates become the
``draw`` dimension (:mod:`simval.results.draws`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numba
import numpy as np
import xarray as xr

from simval.config.load import Config, ConfigError, load_config
from simval.config.uncertainty import config_for_draw, draw_values, read_uncertainty
from simval.engine.distributed import run_on_client
from simval.engine.fundamental import fit_value_function
from simval.engine.runner import ScenarioAccumulator, check_chunk_size, run_keys, run_scenario
from simval.layout import MAX_PATHS
from simval.model.params import build_kernel_params, make_time_grid, required_terminal_revenue
from simval.results.dataset import build_dataset
from simval.results.draws import BATCHED, add_draw_variables, over_time_intervals
from simval.simulate import (
    check_names,
    check_shared_keys,
    check_whole,
    progress_bar,
    scenario_accumulators,
)

__all__ = ["simulate_draws"]


def simulate_draws(config: Config | str | Path, *, draws: int | None = None,
                   n_paths: int | None = None, seed: int | None = None,
                   keep_paths: int | None = None, scenarios: Sequence[str] | None = None,
                   chunk_size: int | None = None, threads: int | None = None,
                   progress: bool = False, antithetic: bool = False,
                   client: Any = None) -> xr.Dataset:
    """Simulate every scenario under parameter draws from the config's ``[uncertainty]`` priors.

    Parameters
    ----------
    config : Config, str or Path
        A config with an ``[uncertainty.priors]`` table.
    draws : int, optional
        Outer draws (default: ``uncertainty.draws``, else 64); at least 2.
    n_paths : int, optional
        Inner paths per draw and scenario (default: ``uncertainty.paths_per_draw``, else
        4096). Every draw runs the same paths ``0 .. n_paths - 1``.
    seed : int, optional
        Root seed (default: ``simulation.seed``): it keys the paths and seeds the draws, so
        the same seed gives identical results whatever ``threads``, ``chunk_size`` or
        ``client``.
    keep_paths : int, optional
        Paths kept in full, from the first draw (default: ``simulation.keep_paths``, at most
        ``n_paths``).
    scenarios, chunk_size, threads, progress, antithetic, client
        As :func:`simval.simulate`.

    Returns
    -------
    xarray.Dataset
        The Dataset of :func:`simval.simulate` for the pooled paths of every draw (predictive
        probabilities, means, quantiles and fans; headline standard errors and intervals of
        the mixture estimator) plus the ``draw`` dimension: ``NAME_by_draw``, ``NAME_band``,
        ``NAME_var_parameter`` and ``NAME_var_mc`` for every headline estimate, and
        ``parameter_value`` (``parameter``, ``draw``). Attributes ``draws``,
        ``paths_per_draw`` and ``draw_method``; ``n_paths`` counts the pooled paths.

    Raises
    ------
    ConfigError
        If the config has no priors, a prior is invalid, or a draw makes the config invalid
        (the message names the draw and its values).
    TypeError, ValueError
        For malformed arguments, as :func:`simval.simulate`.

    Examples
    --------
    >>> ds = simulate_draws("configs/zhipu_2026.toml", draws=4, n_paths=512, keep_paths=0,
    ...                     scenarios=["base"])
    >>> ds.p_collapse_by_draw.sizes["draw"]
    4
    """
    draws = check_whole("draws", draws, 2)
    n_paths = check_whole("n_paths", n_paths, 1, MAX_PATHS)
    seed = check_whole("seed", seed, 0, 2**63 - 1)
    keep_paths = check_whole("keep_paths", keep_paths, 0)
    threads = check_whole("threads", threads, 1)
    chunk_size = check_whole("chunk_size", chunk_size, 1)
    check_chunk_size(chunk_size)
    scenarios = check_names("scenarios", scenarios)
    if not isinstance(config, Config):
        config = load_config(config)
    if scenarios is not None:
        config = config.select(scenarios)
    uncertainty = read_uncertainty(config, draws)
    if uncertainty is None:
        raise ConfigError([f"{config.source}: a two-level run needs the parameters' priors: add "
                           "an [uncertainty.priors] table; the config has none."])
    check_shared_keys(config)
    base = config.base
    sim = base["simulation"]
    n = uncertainty.paths_per_draw if n_paths is None else n_paths
    if antithetic and n % 2:
        n += 1
    seed = sim["seed"] if seed is None else seed
    keep = min(sim["keep_paths"] if keep_paths is None else keep_paths, n)
    grid = make_time_grid(base)
    keys = run_keys(seed)
    names = list(config.scenarios)
    contracts, contract_index = config.contract_names, config.contract_index
    drawn = draw_values(uncertainty, seed)
    # the revenue that justifies V0 at the config's own values (a headline-only build of a
    # draw does not use it)
    required = {name: required_terminal_revenue(values, grid)
                for name, values in config.scenarios.items()}
    raw = tomllib.loads(config.text)
    pooled: dict[str, ScenarioAccumulator] | None = None
    kept: dict[str, list] | None = None
    per_draw: list[xr.Dataset] = []
    batch: dict[str, list[list[np.ndarray]]] = {k: [[] for _ in names]
                                                for k in set(BATCHED.values())}
    over_time: dict[str, list[list[np.ndarray]]] = {
        k: [[] for _ in names] for k in ("p_collapsed_by", "p_bankrupt_by", "p_above_threshold")}
    never = grid.n_steps + 1
    previous_threads = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    bar = progress_bar(progress, uncertainty.draws * n * len(names), "simulating draws")
    try:
        with bar if bar is not None else nullcontext():
            for d in range(uncertainty.draws):
                cfg = config_for_draw(config, dict(zip(uncertainty.keys, drawn[d], strict=True)),
                                      uncertainty, label=f"draw {d}", raw=raw)
                # each draw's own W (its parameters move the company's value), on a pilot
                # no larger than a draw's paths
                try:
                    params = {name: fit_value_function(
                        build_kernel_params(values, grid, antithetic=antithetic), values, seed,
                        n_paths=min(values["market"]["pilot_paths"], n))[0]
                        for name, values in cfg.scenarios.items()}
                except ValueError as exc:  # W_0 <= 0: the draw's gap is undefined
                    drawn_values = ", ".join(f"{k} = {v:.4g}" for k, v in
                                             zip(uncertainty.keys, drawn[d], strict=True))
                    raise ConfigError([f"{config.source}: draw {d} ({drawn_values}): "
                                       f"{exc}"]) from exc
                accs = scenario_accumulators(cfg, params, grid, keep if d == 0 else 0,
                                             antithetic=antithetic, holds_kept=client is None)
                if client is not None:
                    chunks = run_on_client(client, params, keys, accs, 0, n,
                                           chunk_size=chunk_size,
                                           on_task=bar.update if bar is not None else None)
                    kept = chunks if d == 0 else kept
                else:
                    for name, p in params.items():
                        run_scenario(p, keys, n, accs[name], chunk_size=chunk_size,
                                     on_chunk=bar.update if bar is not None else None)
                per_draw.append(build_dataset(cfg, grid, accs, required, seed=seed, n_paths=n,
                                              keep_paths=0, contracts=contracts,
                                              contract_index=contract_index,
                                              headline_only=True))
                for i, name in enumerate(names):
                    sums = accs[name].batch_sums
                    paths = np.asarray(sums["paths"], dtype=float)
                    for key in batch:
                        batch[key][i].append(np.asarray(sums[key], dtype=float) / paths)
                    acc = accs[name]
                    for key, counts in (("p_collapsed_by", np.cumsum(acc.collapse_steps[:never])),
                                        ("p_bankrupt_by", np.cumsum(acc.bankrupt_steps[:never])),
                                        ("p_above_threshold", acc.above_threshold)):
                        over_time[key][i].append(counts / n)
                pooled = accs if pooled is None else _pool(pooled, accs)
    finally:
        numba.set_num_threads(previous_threads)
    assert pooled is not None
    ds = build_dataset(config, grid, pooled, required, seed=seed,
                       n_paths=uncertainty.draws * n, keep_paths=keep, contracts=contracts,
                       contract_index=contract_index, kept=kept)
    ds = add_draw_variables(
        ds, per_draw, {k: np.array(v) for k, v in batch.items()}, drawn, uncertainty.keys,
        [p.describe() for p in uncertainty.priors.values()])
    ds = over_time_intervals(ds, {k: np.array(v) for k, v in over_time.items()}, n)
    ds.attrs.update({
        "antithetic": int(antithetic),
        "draws": uncertainty.draws,
        "paths_per_draw": n,
        "draw_method": f"{uncertainty.method} (scrambled, seeded from the seed)",
        "kept_paths_draw": 0,
        "two_level_method": "predictive = mixture over draws (the pooled paths); standard "
                            "errors from the draw x batch (256 paths) crossed layout, or from "
                            "the spread across draws plus the per-draw Monte Carlo variance "
                            "(conservative); 95% intervals value +- 1.96 se; draws share "
                            "their paths (common random numbers)",
    })
    return ds


def _pool(pooled: dict[str, ScenarioAccumulator],
          accs: dict[str, ScenarioAccumulator]) -> dict[str, ScenarioAccumulator]:
    """Fold one draw's accumulators into the pooled ones: its paths are counted after the
    pooled paths (they are the same paths under other parameters), in draw order."""
    for name, acc in accs.items():
        acc.path_start = pooled[name].path_start + pooled[name].n_paths
        pooled[name].merge(acc)
    return pooled

