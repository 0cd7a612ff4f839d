"""Company panels: several companies simulated on the same paths of one macro environment.

A panel config names company configs and the overrides they share::

    [panel]
    name = "China AI model companies, mid-2025"
    companies = ["zhipu_2025.toml", "minimax_2025.toml", "01ai_2025.toml"]  # beside this file
    scenario = "base"         # which scenario of each company config (default "base")
    threshold = 4.0e9         # the line each company should stay above (the config currency)

    [shared]                  # applied to every company: the common macro environment
    regime.enabled = true
    regime.hazard_normal_to_slowdown = 0.15

The companies share the macro draws of every path — the regime switches and the arrival and
size of chip-supply shocks (``run_keys(seed, company)``) — so a slowdown or an export-control
round hits all of them at once, while their own revenue, contracts and market draws are
independent. For that to mean something their regime and chip-arrival parameters must be
equal; a panel whose companies differ there is a config error.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numba
import numpy as np
import xarray as xr

from simval import layout
from simval.config.load import Config, ConfigError, validate_merged
from simval.config.tables import flatten
from simval.engine.fundamental import fit_value_function
from simval.engine.runner import (
    Chunk,
    ScenarioAccumulator,
    check_chunk_size,
    run_keys,
    run_paths,
)
from simval.layout import MAX_PATHS
from simval.model.params import build_kernel_params, make_time_grid, required_terminal_revenue
from simval.results.dataset import build_dataset
from simval.stats.probabilities import binomial_estimate

__all__ = ["Panel", "load_panel", "panel_of", "parse_panel", "simulate_panel"]

_PANEL_KEYS = {"name", "companies", "scenario", "threshold"}
_MACRO_KEYS = (("regime", "enabled"), ("regime", "initial"),
               ("regime", "hazard_normal_to_slowdown"), ("regime", "hazard_slowdown_to_normal"),
               ("chips", "enabled"), ("chips", "shock_rate"))
_SHARED_RUN_KEYS = (("company", "as_of"), ("company", "currency"),
                    ("simulation", "horizon_years"), ("simulation", "steps_per_year"),
                    ("simulation", "n_paths"), ("simulation", "seed"),
                    ("simulation", "keep_paths"))


@dataclasses.dataclass(frozen=True)
class Panel:
    """A validated panel: one single-scenario :class:`Config` per company, in panel order.

    ``shared`` is the ``[shared]`` table as dot keys, ``text`` the panel file's TOML text.
    """

    source: str
    name: str
    threshold: float | None
    companies: dict[str, Config]
    scenario: str = "base"
    shared: dict[str, Any] = dataclasses.field(default_factory=dict)
    text: str = ""


def load_panel(path: str | Path) -> Panel:
    """Read and validate a panel config (see the module docstring).

    Raises
    ------
    ConfigError
        Naming the panel file, the company file and the key, if anything is invalid or the
        companies do not share their macro regime, chip-shock arrivals, dates and currency.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the panel: {exc.strerror or exc}"]) from None
    return parse_panel(text, path, lambda name: (path.parent / name).read_text(encoding="utf-8"))


def panel_of(ds: xr.Dataset) -> Panel:
    """The panel of results of :func:`simulate_panel`, rebuilt from the config texts they
    store (``attrs["panel_config"]`` and ``attrs["config_<company>"]``).

    Raises
    ------
    ConfigError
        If the results carry no config texts (written by an older simval) or they no longer
        validate.
    """
    text = ds.attrs.get("panel_config")
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(["the panel results carry no panel config text (attribute "
                           "'panel_config')"])

    def read(name: str) -> str:
        stored = ds.attrs.get(f"config_{Path(name).stem}")
        if not isinstance(stored, str):
            raise OSError(f"the results carry no config text of {Path(name).stem}")
        return stored

    return parse_panel(text, Path(str(ds.attrs.get("panel_source", "<panel>"))), read)


def parse_panel(text: str, path: Path, read: Callable[[str], str]) -> Panel:
    """Validate the panel config ``text`` of file ``path``; ``read(name)`` returns the text of
    the company config named ``name`` in ``[panel].companies`` (or raises :class:`OSError`).
    """
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    errors = [f"{path}: [{k}] is not a panel section; a panel has [panel] and [shared]."
              for k in raw if k not in ("panel", "shared")]
    panel = raw.get("panel", {})
    shared = raw.get("shared", {})
    errors += [f"{path}: [panel].{k} is not a known key. Known keys: "
               + ", ".join(sorted(_PANEL_KEYS)) + "." for k in panel if k not in _PANEL_KEYS]
    names = panel.get("companies")
    if (not isinstance(names, list) or len(names) < 2
            or not all(isinstance(n, str) for n in names)):
        errors.append(f"{path}: [panel].companies must be a list of at least two config file "
                      f"names. Got {names!r} instead.")
        names = []
    scenario = panel.get("scenario", "base")
    threshold = panel.get("threshold")
    if threshold is not None and (isinstance(threshold, bool)
                                  or not isinstance(threshold, int | float) or threshold <= 0):
        errors.append(f"{path}: [panel].threshold must be a number > 0. Got {threshold!r} "
                      "instead.")
    if not isinstance(shared, dict):
        errors.append(f"{path}: [shared] must be a table. Got {shared!r} instead.")
        shared = {}
    companies: dict[str, Config] = {}
    for name in names:
        company_path = path.parent / name
        source = f"{path} -> {company_path}"
        try:
            company_text = read(name).removeprefix("\ufeff")
            company_raw = tomllib.loads(company_text)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            errors.append(f"{source}: cannot read the company config: {exc}")
            continue
        tables = company_raw.pop("scenarios", {"base": {}})
        company_raw.pop("signals", None)  # a company's run reads them; a panel does not
        if scenario not in tables:
            errors.append(f"{source}: has no scenario {scenario!r} ([panel].scenario)")
            continue
        chosen = tables[scenario] or {}
        if isinstance(chosen, dict):  # a scenario weight: one scenario runs in a panel
            chosen = {k: v for k, v in chosen.items() if k != "weight"}
        company_errors: list[str] = []
        values = validate_merged(company_raw, source, [chosen, shared], company_errors)
        errors += company_errors
        if values is not None:
            key = Path(name).stem
            companies[key] = Config(source=str(company_path), text=company_text,
                                    scenarios={scenario: values})
    if companies:
        first_name, first = next(iter(companies.items()))
        for name, config in companies.items():
            for section, key in (*_MACRO_KEYS, *_SHARED_RUN_KEYS):
                a, b = first.base[section][key], config.base[section][key]
                if a != b:
                    errors.append(
                        f"{path}: {section}.{key} is {b!r} for {name} but {a!r} for "
                        f"{first_name}; the companies of a panel share the macro regime, the "
                        "chip-shock arrivals, the dates, the currency and the run settings "
                        f"(set it in [shared])")
            slow = config.base["slowdown"]["chips"]["shock_rate"]
            if slow != first.base["slowdown"]["chips"]["shock_rate"]:
                errors.append(f"{path}: slowdown.chips.shock_rate differs between {first_name} "
                              f"and {name} (set it in [shared])")
    if errors:
        raise ConfigError(list(dict.fromkeys(errors)))
    return Panel(source=str(path), name=str(panel.get("name", path.stem)),
                 threshold=None if threshold is None else float(threshold), companies=companies,
                 scenario=scenario, shared=flatten(shared), text=text)


def simulate_panel(panel: Panel | str | Path, *, n_paths: int | None = None,
                   seed: int | None = None, keep_paths: int | None = None,
                   chunk_size: int | None = None, threads: int | None = None,
                   progress: bool = False) -> xr.Dataset:
    """Simulate the companies of a panel on the same paths.

    Parameters
    ----------
    panel : Panel, str or Path
    n_paths, seed, keep_paths : int, optional
        Defaults from the companies' (shared) ``[simulation]`` settings.
    chunk_size, threads, progress
        As for :func:`simval.simulate`.

    Returns
    -------
    xarray.Dataset
        Every variable of :func:`simval.simulate` with a ``company`` dimension instead of
        ``scenario``, plus, for the panel's threshold B: ``p_stays_above`` (company, time),
        P(V_s >= B for every s <= t), and ``p_all_stay_above`` (time), the probability that
        every company does, each with standard error and 95% Clopper-Pearson interval.
    """
    from simval.simulate import check_whole

    n_paths = check_whole("n_paths", n_paths, 1, MAX_PATHS)
    seed = check_whole("seed", seed, 0, 2**63 - 1)
    keep_paths = check_whole("keep_paths", keep_paths, 0)
    chunk_size = check_whole("chunk_size", chunk_size, 1)
    threads = check_whole("threads", threads, 1)
    if not isinstance(panel, Panel):
        panel = load_panel(panel)
    first = next(iter(panel.companies.values())).base
    sim = first["simulation"]
    n_paths = sim["n_paths"] if n_paths is None else int(n_paths)
    seed = sim["seed"] if seed is None else int(seed)
    keep = min(sim["keep_paths"] if keep_paths is None else int(keep_paths), n_paths)
    grid = make_time_grid(first)
    names = list(panel.companies)
    values = {n: panel.companies[n].base for n in names}
    fitted = {n: fit_value_function(build_kernel_params(values[n], grid), values[n], seed,
                                    company=i)
              for i, n in enumerate(names)}
    params = {n: fitted[n][0] for n in names}
    keys = {n: run_keys(seed, i) for i, n in enumerate(names)}
    threshold = panel.threshold
    accs = {n: ScenarioAccumulator(grid.n_steps, params[n].n_named, keep, params[n].v0,
                                   threshold if threshold is not None
                                   else values[n]["market"]["threshold"])
            for n in names}
    never = grid.n_steps + 1
    breach = {n: np.zeros(never + 1, dtype=np.int64) for n in names}
    joint = np.zeros(never + 1, dtype=np.int64)
    check_chunk_size(chunk_size)
    previous = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_paths * len(names), unit="path", unit_scale=True, leave=False)
    first_breach = np.empty(0, dtype=np.int64)  # of the chunk's paths, over the companies

    def add(i: int, chunk: Chunk) -> None:
        nonlocal first_breach
        name = names[i]
        accs[name].add_chunk(*chunk)
        if threshold is not None:
            if i == 0:
                first_breach = np.full(chunk.n_paths, never, dtype=np.int64)
            below = chunk.series[layout.SERIES_MARKET_VALUE] < threshold
            step = np.where(below.any(axis=1), below.argmax(axis=1), never)
            breach[name] += np.bincount(step, minlength=never + 1)
            first_breach = np.minimum(first_breach, step)
            if i == len(names) - 1:
                joint[:] += np.bincount(first_breach, minlength=never + 1)
        if bar is not None:
            bar.update(chunk.n_paths)

    try:
        with bar if bar is not None else nullcontext():
            run_paths([(params[n], keys[n]) for n in names], 0, n_paths, on_chunk=add,
                      chunk_size=chunk_size)
    finally:
        numba.set_num_threads(previous)
    parts = []
    for name in names:
        config = panel.companies[name]
        scenario = next(iter(config.scenarios))
        ds = build_dataset(config, grid, {scenario: accs[name]},
                           {scenario: required_terminal_revenue(values[name], grid)},
                           seed=seed, n_paths=n_paths, keep_paths=keep,
                           contracts=list(values[name]["contracts"]),
                           contract_index={scenario: list(range(len(values[name]["contracts"])))},
                           value_functions={scenario: fitted[name][1]})
        ds = ds.isel(scenario=0, drop=True).expand_dims(company=[name])
        parts.append(ds)
    out = xr.concat(parts, dim="company", join="outer", combine_attrs="drop_conflicts",
                    data_vars="all", coords="different", compat="equals")
    if threshold is not None:
        cur = first["company"]["currency"]
        stays = np.stack([n_paths - np.cumsum(breach[n][:never]) for n in names])
        all_stay = n_paths - np.cumsum(joint[:never])
        for var, k, dims, what in (
                ("p_stays_above", stays, ("company", "time"),
                 "P(V_s >= B for every s <= t): the company stays above the line through t"),
                ("p_all_stay_above", all_stay, ("time",),
                 "P(every company of the panel stays above the line through t)")):
            est = binomial_estimate(k, n_paths)
            for suffix, data, desc in (("", est.p, what), ("_se", est.se, f"standard error of "
                                                                           f"{var}"),
                                       ("_low", est.low, f"lower bound of the 95% "
                                                          f"Clopper-Pearson interval of {var}"),
                                       ("_high", est.high, f"upper bound of the 95% "
                                                            f"Clopper-Pearson interval of "
                                                            f"{var}")):
                out[var + suffix] = xr.Variable(dims, data, {"units": "1", "description": desc})
        out.attrs["panel_threshold"] = threshold
        out.attrs["currency"] = cur
    out.attrs.update({"title": f"simval panel: {panel.name}", "panel": panel.name,
                      "panel_source": panel.source, "companies": ", ".join(names),
                      "seed": seed, "n_paths": n_paths, "keep_paths": keep,
                      "shared_draws": "regime switches and chip-shock arrivals and sizes"})
    out.attrs.pop("config", None)
    out.attrs["configs"] = "\n\n".join(f"# {n}\n{panel.companies[n].text}" for n in names)
    # the texts one by one, so that panel_of() can rebuild the panel from the results
    out.attrs["panel_config"] = panel.text
    out.attrs["panel_scenario"] = panel.scenario
    for n in names:
        out.attrs[f"config_{n}"] = panel.companies[n].text
        out.attrs[f"config_source_{n}"] = panel.companies[n].source
    return out
