"""Which assumption matters most: a tornado on common random numbers, Sobol' indices through
SALib, and what distinguishes the paths that collapse.

Input ranges are a mapping of dot keys (:mod:`simval.config.address`) to ``(low, high)``,
e.g. ``{"chips.shock_rate": (0.2, 1.0), "commercial.growth_long_run": (0.05, 0.25)}``; a
config file may declare them in a ``[sensitivity.ranges]`` table (read by
:func:`simval.config.research.load_research_config`), the command line as ``--range KEY=LO,HI``.
Inputs fall into driver groups (growth, contracts, chips, regime, multiples, ...) by their
section (:func:`default_group`) unless ``groups`` says otherwise.

- :func:`tornado` moves each input to its low and its high value, one at a time, and reports
  the change in P(justified), P(collapse) and E[PV]/V_0 against the base run. All runs use the
  same seed, so the changes are paired: their standard errors come from the per-path
  differences of the kept paths, which are much smaller than those of two independent runs.
- :func:`sobol` computes first-order and total Sobol' indices of P(justified) and E[PV]/V_0
  over the ranges, per input or per group, with SALib: Saltelli's sampling scheme
  (:func:`SALib.sample.sobol.sample`) and Sobol' analysis with bootstrap intervals
  (:func:`SALib.analyze.sobol.analyze`). Each sample point is a simval run with the same seed.
  :func:`sobol_indices` is the same machinery for any model given as a Python function.
- :func:`explain_collapse` compares the kept paths that collapse with those that do not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from simval.config.address import ConfigKey, coerce_value, resolve_key, value_of
from simval.config.load import Config, ConfigError
from simval.config.override import override
from simval.config.research import ResearchConfig, as_config
from simval.format import format_number, format_percent, table_row
from simval.layout import MAX_PATHS
from simval.simulate import check_whole, simulate

__all__ = [
    "DRIVER_GROUPS",
    "OUTPUTS",
    "RE_RATING_KEYS",
    "SimvalModel",
    "default_group",
    "explain_collapse",
    "pick_scenario",
    "resolve_ranges",
    "sobol",
    "sobol_indices",
    "sobol_table",
    "tornado",
    "tornado_table",
]

OUTPUTS = {
    "p_justified": "P(justified: PV >= V0)",
    "p_collapse": "P(collapse by T)",
    "p_collapse_fundamental": "P(fundamental collapse by T)",
    "value_ratio": "E[PV] / V0",
}
"""The outputs a sensitivity analysis reports, with their labels."""

DRIVER_GROUPS = {
    "commercial": "growth",
    "market_size": "growth",
    "contracts": "contracts",
    "renewals": "contracts",
    "expansion": "contracts",
    "chips": "chips",
    "regime": "regime",
    "slowdown": "regime",
    "market": "multiples",
    "valuation": "multiples",
}
"""Default driver group of a key, by its section; other sections are their own group
(``costs``, ``financing``, ``simulation``, ...)."""


RE_RATING_KEYS = ("market.gap_", "market.slowdown_jump_", "chips.multiple_jump_",
                  "slowdown.market.gap_")
"""Prefixes of the keys that move the price-to-value gap B alone (the value model): the
re-rating, as against the company's own value W."""


def default_group(key: str) -> str:
    """The driver group of a dot key by its section.

    ``commercial`` and ``market_size`` are *growth*; ``contracts``, ``renewals`` and
    ``expansion`` are *contracts*; ``chips`` is *chips*; ``regime`` and every ``slowdown`` key
    are *regime*; ``market`` and ``valuation`` are *multiples*; any other section is its own
    group. The price-to-value gap's keys (:data:`RE_RATING_KEYS`) are *re-rating*.

    Examples
    --------
    >>> default_group("contracts.beijing.renewal_probability"), default_group("costs.cash")
    ('contracts', 'costs')
    >>> default_group("market.gap_half_life_years")
    're-rating'
    """
    if key.startswith(RE_RATING_KEYS):
        return "re-rating"
    section = key.split(".")[0]
    return DRIVER_GROUPS.get(section, section)


def resolve_ranges(config: Config, ranges: Mapping[str, Sequence[float]]
                   ) -> list[tuple[ConfigKey, float, float]]:
    """Check input ranges: known numeric keys, ``low < high``, both ends valid for the config.

    Returns
    -------
    list of (ConfigKey, low, high)

    Raises
    ------
    ConfigError
        Naming every key whose range is wrong (unknown key, not a number, low >= high, a
        bound the loader rejects).
    """
    problems: list[str] = []
    out = []
    if not ranges:
        problems.append(f"{config.source}: no input ranges: give KEY = (low, high) (or "
                        "--range KEY=LO,HI, or a [sensitivity.ranges] table)")
    for name, bounds in ranges.items():
        try:
            key = resolve_key(config, name)
        except ConfigError as exc:
            problems += exc.problems
            continue
        if not key.numeric:
            problems.append(f"{config.source}: {key.label} takes {key.field.expectation()}; "
                            "a range needs a numeric key")
            continue
        try:
            low, high = (float(coerce_value(key.field, b)) for b in bounds)  # "40%/yr"
        except (TypeError, ValueError):
            problems.append(f"{config.source}: the range of {name!r} must be two numbers "
                            f"(low, high). Got {bounds!r} instead.")
            continue
        if not low < high:
            problems.append(f"{config.source}: the range of {name!r} must have low < high. "
                            f"Got ({low:g}, {high:g}) instead.")
            continue
        for bound in (low, high):
            try:
                override(config, {name: _cast(key, bound)})
            except ConfigError as exc:
                problems += exc.problems
        out.append((key, low, high))
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    return out


def pick_scenario(config: Config, scenario: str) -> Config:
    """``config`` with only ``scenario`` (``"base"`` means the first scenario when none is
    named base); the loader's :class:`ConfigError` names the scenarios if there is no such
    scenario."""
    if not isinstance(scenario, str):
        raise TypeError(f"scenario must be the name of one scenario (a string); got "
                        f"{scenario!r}")
    if scenario == "base" and "base" not in config.scenarios:
        scenario = next(iter(config.scenarios))
    return config.select([scenario])


def _cast(key: ConfigKey, value: float) -> float | int:
    """An integer key takes the nearest integer (Sobol' samples are continuous)."""
    return int(round(value)) if key.field.kind == "int" else float(value)


def _groups_of(names: Sequence[str], groups: Mapping[str, str] | bool | None) -> list[str] | None:
    if groups is None or groups is False:
        return None
    if groups is True:
        groups = {}
    return [groups.get(n, default_group(n)) for n in names]


# --------------------------------------------------------------------------------------------
# a simval run as a function of some inputs


class SimvalModel:
    """One scenario of a config as a deterministic function of some of its keys.

    ``model({"chips.shock_rate": 0.8})`` simulates the scenario with the key(s) overridden
    (:func:`simval.config.override.override`) and returns its headline outputs. Every call uses
    the same seed, so for a fixed seed the outputs are deterministic functions of the inputs
    (common random numbers); results are cached by input values.

    Parameters
    ----------
    config : Config, ResearchConfig, str or Path
    n_paths : int
        Paths per run.
    seed : int, optional
        Seed of every run (default: the config's).
    scenario : str, default: "base"
        The scenario to run (default: ``"base"``, or the first one if there is no ``base``).
    threads : int, optional
        numba threads.

    Attributes
    ----------
    n_runs : int
        Simulations run so far (cache misses).
    """

    def __init__(self, config: Config | ResearchConfig | str | Path, *, n_paths: int,
                 seed: int | None = None, scenario: str = "base",
                 threads: int | None = None):
        n_paths = check_whole("n_paths", n_paths, 1, MAX_PATHS)
        seed = check_whole("seed", seed, 0, 2**63 - 1)
        self.config = pick_scenario(as_config(config).config, scenario)
        self.scenario = next(iter(self.config.scenarios))
        self.n_paths = n_paths
        self.seed = self.config.base["simulation"]["seed"] if seed is None else seed
        self.threads = threads
        self.n_runs = 0
        self._cache: dict[tuple, dict[str, float]] = {}

    def key(self, name: str) -> ConfigKey:
        """The schema field of a dot key of this config."""
        return resolve_key(self.config, name)

    def run(self, values: Mapping[str, Any], *, keep_paths: int = 0) -> xr.Dataset:
        """The scenario's results (``scenario`` selected) with the keys set to ``values``."""
        config = override(self.config, values) if values else self.config
        self.n_runs += 1
        ds = simulate(config, n_paths=self.n_paths, seed=self.seed, keep_paths=keep_paths,
                      threads=self.threads)
        return ds.isel(scenario=0)

    def __call__(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Headline outputs: ``p_justified``, ``p_collapse``, ``value_ratio`` and their
        ``*_se``."""
        cache_key = tuple((k, float(v) if not isinstance(v, str | bool) else v)
                          for k, v in values.items())
        if cache_key not in self._cache:
            s = self.run(values)
            out = {}
            for name in OUTPUTS:  # NaN: not reported by this model (market.model)
                out[name] = float(s[name]) if name in s else math.nan
                out[f"{name}_se"] = float(s[f"{name}_se"]) if name in s else math.nan
            self._cache[cache_key] = out
        return dict(self._cache[cache_key])


# --------------------------------------------------------------------------------------------
# tornado


def _per_path(s: xr.Dataset) -> dict[str, np.ndarray]:
    """Per-path outcomes of kept paths: indicators of justified and collapse, PV / V_0."""
    v0 = float(s.valuation)
    pv = s.path_pv.values
    fundamental = np.isfinite(s.path_fundamental_collapse_time.values).astype(float)
    if "p_collapse_fundamental" not in s or not np.isfinite(float(s.p_collapse_fundamental)):
        fundamental = np.full(pv.shape, np.nan)  # market.model = "multiple"
    return {"p_justified": (pv >= v0).astype(float),
            "p_collapse": np.isfinite(s.path_collapse_time.values).astype(float),
            "p_collapse_fundamental": fundamental,
            "value_ratio": pv / v0}


def tornado(config: Config | ResearchConfig | str | Path,
            ranges: Mapping[str, Sequence[float]] | None = None, *, n_paths: int = 4000,
            seed: int | None = None, scenario: str = "base",
            groups: Mapping[str, str] | None = None, confidence: float = 0.95,
            threads: int | None = None) -> xr.Dataset:
    """Move each input to the low and the high end of its range, one at a time.

    Parameters
    ----------
    config : Config, ResearchConfig, str or Path
        The config (a path may declare ``[sensitivity.ranges]``).
    ranges : mapping of str to (low, high), optional
        Dot key -> range (default: the config's ``[sensitivity.ranges]``).
    n_paths : int, default: 4000
        Paths of every run. All paths are kept (memory grows as ``n_paths`` x time steps).
    seed : int, optional
        Seed of every run (default: the config's); all runs share it.
    scenario : str, default: "base"
        The scenario whose inputs are moved.
    groups : mapping of str to str, optional
        Driver group of each key (default: :func:`default_group`); a coordinate only.
    confidence : float, default: 0.95
        Level of the normal intervals of the changes.
    threads : int, optional

    Returns
    -------
    xarray.Dataset
        Dimensions ``input`` (the keys) and ``side`` (``low``, ``high``). For each output
        ``o`` in ``p_justified``, ``p_collapse``, ``value_ratio``: ``o`` (the value with the
        input moved), ``o_base`` (the base run, with ``o_base_se``), ``delta_o`` (the change),
        ``delta_o_se`` (paired standard error), ``delta_o_low`` / ``delta_o_high`` (its
        interval) and ``delta_o_se_independent`` (the standard error two independent runs
        would have, for comparison). Coordinates ``value`` (input, side), ``base_value`` and
        ``group`` (input).

    Notes
    -----
    With common random numbers the base run and a moved run see the same draws path by path,
    so their outcomes are strongly correlated. For a path ``i`` with outcome ``x_i`` in the
    moved run and ``y_i`` in the base run (the indicator of PV >= V_0, the indicator of
    collapse, or PV/V_0), the change is the mean of ``d_i = x_i - y_i`` and its standard
    error is ``sd(d) / sqrt(n)`` over the kept paths, exactly; the independent-runs error
    ``sqrt(se_x^2 + se_y^2)`` ignores the positive correlation and overstates it. The
    interval is ``delta ± z sd(d)/sqrt(n)`` (normal approximation to the paired mean).
    """
    research = as_config(config)
    cfg = research.config
    if ranges is None:
        ranges = research.ranges
    if groups is None:
        groups = research.groups
    cfg = pick_scenario(cfg, scenario)
    scenario = next(iter(cfg.scenarios))
    specs = resolve_ranges(cfg, ranges)
    n_paths = check_whole("n_paths", n_paths, 1, MAX_PATHS)
    seed = check_whole("seed", seed, 0, 2**63 - 1)
    if n_paths < 2:
        raise ValueError(f"n_paths must be at least 2; got {n_paths}")
    seed = cfg.base["simulation"]["seed"] if seed is None else int(seed)
    z = float(stats.norm.ppf(0.5 + confidence / 2))

    def run(c: Config) -> dict[str, np.ndarray]:
        ds = simulate(c, n_paths=n_paths, seed=seed, keep_paths=n_paths, threads=threads)
        return _per_path(ds.isel(scenario=0))

    base = run(cfg)
    n_in = len(specs)
    sides = ("low", "high")
    level = {o: np.full((n_in, 2), np.nan) for o in OUTPUTS}
    delta = {o: np.full((n_in, 2), np.nan) for o in OUTPUTS}
    paired = {o: np.full((n_in, 2), np.nan) for o in OUTPUTS}
    independent = {o: np.full((n_in, 2), np.nan) for o in OUTPUTS}
    moved = np.full((n_in, 2), np.nan)
    base_values = np.full(n_in, np.nan)
    root_n = math.sqrt(n_paths)
    base_se = {o: float(np.std(base[o], ddof=1)) / root_n for o in OUTPUTS}
    for i, (key, low, high) in enumerate(specs):
        current = value_of(cfg, key)
        base_values[i] = np.nan if current is None else float(current)
        for j, value in enumerate((low, high)):
            value = _cast(key, value)
            moved[i, j] = value
            out = run(override(cfg, {key.name: value}))
            for o in OUTPUTS:
                d = out[o] - base[o]
                level[o][i, j] = float(out[o].mean())
                delta[o][i, j] = float(d.mean())
                paired[o][i, j] = float(np.std(d, ddof=1)) / root_n
                independent[o][i, j] = math.hypot(float(np.std(out[o], ddof=1)) / root_n,
                                                  base_se[o])
    dims = ("input", "side")
    data: dict[str, Any] = {}
    for o, label in OUTPUTS.items():
        unit = "1"
        data[o] = (dims, level[o], {"units": unit, "description": f"{label} with the input "
                                                                  "at that side"})
        data[f"{o}_base"] = ((), float(base[o].mean()),
                             {"units": unit, "description": f"{label} of the base run"})
        data[f"{o}_base_se"] = ((), base_se[o], {"units": unit,
                                                 "description": f"standard error of {o}_base"})
        data[f"delta_{o}"] = (dims, delta[o], {"units": unit, "description":
                                               f"change in {label} against the base run"})
        data[f"delta_{o}_se"] = (dims, paired[o], {
            "units": unit, "description": f"standard error of delta_{o} from the paired "
                                          "per-path differences (common random numbers)"})
        data[f"delta_{o}_low"] = (dims, delta[o] - z * paired[o], {
            "units": unit, "description": f"lower bound of the {confidence:.0%} interval of "
                                          f"delta_{o}"})
        data[f"delta_{o}_high"] = (dims, delta[o] + z * paired[o], {
            "units": unit, "description": f"upper bound of the {confidence:.0%} interval of "
                                          f"delta_{o}"})
        data[f"delta_{o}_se_independent"] = (dims, independent[o], {
            "units": unit, "description": f"standard error delta_{o} would have from two "
                                          "independent runs (for comparison)"})
    names = [k.name for k, _, _ in specs]
    group_names = _groups_of(names, groups or True)
    currency = cfg.base["company"]["currency"]
    coords = {
        "input": ("input", names, {"description": "config key moved"}),
        "side": ("side", list(sides), {"description": "end of the input's range"}),
        "value": (dims, moved, {"description": "value of the input in that run"}),
        "base_value": ("input", base_values, {"description": "value of the input in the "
                                                             "base run"}),
        "group": ("input", group_names, {"description": "driver group of the input"}),
        "unit": ("input", [k.unit(currency) for k, _, _ in specs],
                 {"description": "unit of the input"}),
    }
    attrs = {
        "title": f"tornado: {cfg.base['company']['name']}, scenario {scenario}",
        "company": cfg.base["company"]["name"],
        "currency": currency,
        "scenario": scenario,
        "n_paths": n_paths,
        "seed": seed,
        "confidence": confidence,
        "config": cfg.text,
        "config_source": cfg.source,
        "method": "one input at a time at the ends of its range, every run on the same seed "
                  "(common random numbers); standard errors of the changes from the paired "
                  "per-path differences of all paths (kept in full)",
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def tornado_table(ds: xr.Dataset) -> str:
    """The tornado as text: per input, the change of each output at its low and high value."""
    lines = [f"{ds.attrs.get('title', 'tornado')} ({ds.attrs.get('n_paths', 0):,} paths, "
             f"seed {ds.attrs.get('seed')}; changes against the base run with "
             f"{ds.attrs.get('confidence', 0.95):.0%} paired intervals)",
             "base: " + ", ".join(
                 f"{OUTPUTS[o]} = {_fmt_output(o, float(ds[f'{o}_base']))}" for o in OUTPUTS)]
    header = ["input", "side", "value", *(f"Δ {OUTPUTS[o]}" for o in OUTPUTS)]
    rows = []
    for name in ds.input.values:
        for side in ds.side.values:
            point = ds.sel(input=name, side=side)
            row = [str(name), str(side), f"{float(point.value):g}"]
            for o in OUTPUTS:
                d, lo, hi = (float(point[f"delta_{o}{s}"]) for s in ("", "_low", "_high"))
                if o.startswith("p_"):
                    row.append(f"{100 * d:+.2f} pp [{100 * lo:+.2f}, {100 * hi:+.2f}]")
                else:
                    row.append(f"{d:+.3g} [{lo:+.3g}, {hi:+.3g}]")
            rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines.append(table_row(header, widths, indent=""))
    lines += [table_row(r, widths, indent="") for r in rows]
    return "\n".join(lines) + "\n"


def _fmt_output(name: str, value: float) -> str:
    return format_percent(value) if name.startswith("p_") else format_number(value)


# --------------------------------------------------------------------------------------------
# Sobol' indices through SALib


def _is_power_of_two(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


def sobol_indices(model: Callable[[dict[str, float]], Mapping[str, float] | float],
                  bounds: Mapping[str, Sequence[float]], *, n_base: int = 64,
                  groups: Mapping[str, str] | bool | None = None,
                  outputs: Sequence[str] | None = None, num_resamples: int = 200,
                  conf_level: float = 0.95, seed: int = 0,
                  integer_inputs: Sequence[str] = (), progress: bool = False) -> xr.Dataset:
    """First-order and total Sobol' indices of any model, sampled and analysed by SALib.

    The model is called once per row of Saltelli's sample (:func:`SALib.sample.sobol.sample`,
    ``calc_second_order=False``: ``n_base x (D + 2)`` rows for ``D`` inputs or groups) with a
    dict of input values, and the indices are estimated by :func:`SALib.analyze.sobol.analyze`
    with bootstrap confidence intervals. :func:`sobol` passes a :class:`SimvalModel`; tests
    pass SALib's own test functions.

    Parameters
    ----------
    model : callable
        ``model({name: value, ...})`` -> a mapping of output name to value (or a float: one
        output named ``"y"``). A key ``"<output>_se"`` in the mapping is taken as the Monte
        Carlo standard error of that output.
    bounds : mapping of str to (low, high)
        The inputs and their ranges (sampled uniformly).
    n_base : int, default: 64
        Base sample size ``N``, a power of 2 (the Sobol' sequence is balanced only then).
    groups : mapping of str to str, or bool, optional
        Indices per group of inputs instead of per input: ``True`` groups by
        :func:`default_group`; a mapping names the group of some inputs (the others by
        :func:`default_group`). Default: per input.
    outputs : sequence of str, optional
        Outputs to analyse (default: all the model returns, except ``*_se``).
    num_resamples : int, default: 200
        Bootstrap resamples of the intervals.
    conf_level : float, default: 0.95
    seed : int, default: 0
        Seed of the sample's scrambling and of the bootstrap.
    integer_inputs : sequence of str, default: ()
        Inputs rounded to the nearest integer before calling the model.
    progress : bool, default: False

    Returns
    -------
    xarray.Dataset
        Dimensions ``output`` and ``input`` (or ``group``): ``first_order``, ``total``, each
        with ``_conf`` (half-width of the bootstrap interval, as SALib reports it), ``_low``
        and ``_high``; ``sample`` (run, input) and ``model_output`` (run, output), the design
        and the model's values; ``mc_noise_share`` (output) where the model reports standard
        errors: the mean squared standard error over the variance of the output, the share
        of the output's variance that independent Monte Carlo errors would account for (an
        upper bound when the runs share random numbers).

    Raises
    ------
    ValueError
        If ``n_base`` is not a power of 2, a range is empty, or an output is missing.

    References
    ----------
    .. [1] Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S.,
           2010. Variance based sensitivity analysis of model output. Computer Physics
           Communications 181, 259-270.
    .. [2] Herman, J., Usher, W., 2017. SALib: An open-source Python library for
           sensitivity analysis. Journal of Open Source Software 2(9), 97.

    Examples
    --------
    >>> import numpy as np
    >>> ds = sobol_indices(lambda x: x["a"] + 0.1 * x["b"], {"a": (0, 1), "b": (0, 1)},
    ...                    n_base=256, num_resamples=50)
    >>> bool(ds.first_order.sel(output="y", input="a") > 0.95)
    True
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    n_base = check_whole("n_base", n_base, 1)
    if not _is_power_of_two(n_base):
        raise ValueError(f"n_base must be a power of 2 (the Sobol' sequence is balanced only "
                         f"then); got {n_base}")
    names = list(bounds)
    if not names:
        raise ValueError("no inputs: give at least one name = (low, high)")
    lows, highs = [], []
    for name in names:
        low, high = (float(b) for b in bounds[name])
        if not low < high:
            raise ValueError(f"the range of {name!r} must have low < high; got "
                             f"({low:g}, {high:g})")
        lows.append(low)
        highs.append(high)
    group_list = _groups_of(names, groups)
    problem: dict[str, Any] = {"num_vars": len(names), "names": names,
                               "bounds": [[lo, hi] for lo, hi in zip(lows, highs, strict=True)]}
    if group_list is not None:
        problem["groups"] = group_list
    x = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)
    integer = set(integer_inputs)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(x), unit="run", desc="Sobol' sample", leave=False)
    results: list[Mapping[str, float]] = []
    try:
        for row in x:
            values = {n: (int(round(v)) if n in integer else float(v))
                      for n, v in zip(names, row, strict=True)}
            out = model(values)
            results.append({"y": float(out)} if not isinstance(out, Mapping) else out)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    available = [k for k in results[0] if not k.endswith("_se")]
    outputs = list(outputs) if outputs is not None else available
    missing = [o for o in outputs if o not in results[0]]
    if missing:
        raise ValueError(f"the model returns no {', '.join(missing)}; it returns "
                         f"{', '.join(available)}")
    y = np.array([[float(r[o]) for o in outputs] for r in results])
    if group_list is None:
        dim, labels = "input", names
    else:
        dim, labels = "group", list(dict.fromkeys(group_list))
    n_out, n_lab = len(outputs), len(labels)
    est = {k: np.full((n_out, n_lab), np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    noise = np.full(n_out, np.nan)
    for j, o in enumerate(outputs):
        var = float(np.var(y[:, j]))
        if f"{o}_se" in results[0] and var > 0:
            noise[j] = float(np.mean([float(r[f"{o}_se"]) ** 2 for r in results])) / var
        if not np.all(np.isfinite(y[:, j])) or var == 0:
            continue  # no variance to apportion: the indices stay NaN
        si = sobol_analyze.analyze(problem, y[:, j], calc_second_order=False,
                                   num_resamples=num_resamples, conf_level=conf_level,
                                   seed=seed)
        for k in est:
            est[k][j] = np.asarray(si[k], dtype=float)
    dims = ("output", dim)
    what = "input" if dim == "input" else "group of inputs"
    data = {
        "first_order": (dims, est["S1"], {"units": "1", "description": "first-order Sobol' "
                        f"index S1: share of the output's variance due to the {what} alone"}),
        "first_order_conf": (dims, est["S1_conf"], {"units": "1", "description":
                             f"half-width of the {conf_level:.0%} bootstrap interval of "
                             "first_order (SALib's S1_conf)"}),
        "first_order_low": (dims, est["S1"] - est["S1_conf"], {"units": "1", "description":
                            "lower bound of the interval of first_order"}),
        "first_order_high": (dims, est["S1"] + est["S1_conf"], {"units": "1", "description":
                             "upper bound of the interval of first_order"}),
        "total": (dims, est["ST"], {"units": "1", "description": "total Sobol' index ST: "
                  f"share of the output's variance due to the {what} with all its "
                  "interactions"}),
        "total_conf": (dims, est["ST_conf"], {"units": "1", "description":
                       f"half-width of the {conf_level:.0%} bootstrap interval of total "
                       "(SALib's ST_conf)"}),
        "total_low": (dims, est["ST"] - est["ST_conf"], {"units": "1", "description":
                      "lower bound of the interval of total"}),
        "total_high": (dims, est["ST"] + est["ST_conf"], {"units": "1", "description":
                       "upper bound of the interval of total"}),
        "sample": (("run", "input"), x, {"description": "Saltelli sample: input values of "
                                                        "each model run"}),
        "model_output": (("run", "output"), y, {"description": "model output of each run"}),
        "output_variance": ("output", y.var(axis=0), {"description": "variance of the "
                                                                     "output over the sample"}),
    }
    if np.isfinite(noise).any():
        data["mc_noise_share"] = ("output", noise, {"units": "1", "description":
                                  "mean squared Monte Carlo standard error of a run over "
                                  "the output's variance"})
    coords: dict[str, Any] = {
        "output": ("output", outputs),
        dim: (dim, labels),
        "run": ("run", np.arange(len(x))),
        "bound_low": ("input", lows, {"description": "lower end of the input's range"}),
        "bound_high": ("input", highs, {"description": "upper end of the input's range"}),
    }
    if dim == "group":
        coords["input"] = ("input", names)
        coords["input_group"] = ("input", group_list, {"description": "group of the input"})
    import importlib.metadata

    attrs = {
        "method": "Sobol' indices: Saltelli sampling (SALib.sample.sobol.sample, "
                  "calc_second_order=False) and Sobol' analysis (SALib.analyze.sobol.analyze) "
                  f"with {num_resamples} bootstrap resamples, {conf_level:.0%} intervals",
        "n_base": n_base,
        "n_runs": len(x),
        "sample_seed": seed,
        "conf_level": conf_level,
        "num_resamples": num_resamples,
        "salib_version": importlib.metadata.version("SALib"),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def sobol(config: Config | ResearchConfig | str | Path,
          ranges: Mapping[str, Sequence[float]] | None = None, *, n_base: int = 64,
          n_paths: int = 2000, seed: int | None = None, scenario: str = "base",
          groups: Mapping[str, str] | bool | None = None,
          outputs: Sequence[str] = ("p_justified", "value_ratio"), num_resamples: int = 200,
          conf_level: float = 0.95, sample_seed: int | None = None,
          threads: int | None = None, progress: bool = False) -> xr.Dataset:
    """Sobol' indices of P(justified) and E[PV]/V_0 over the input ranges, through SALib.

    Each row of Saltelli's sample is one simval run of ``scenario`` with the inputs set to
    the row's values (:class:`SimvalModel`), all with the same seed; the rest is
    :func:`sobol_indices`.

    Parameters
    ----------
    config : Config, ResearchConfig, str or Path
    ranges : mapping of str to (low, high), optional
        Default: the config's ``[sensitivity.ranges]``.
    n_base : int, default: 64
        Base sample size, a power of 2: ``n_base x (D + 2)`` runs for D inputs (groups).
    n_paths : int, default: 2000
        Paths of every run.
    seed : int, optional
        Seed of every run (default: the config's).
    scenario : str, default: "base"
    groups : mapping of str to str, or bool, optional
        ``None``: indices per input; ``True``: per driver group (:func:`default_group`, or
        the config's ``[sensitivity.groups]``); a mapping: those groups, the rest by default.
    outputs : sequence of str, default: ("p_justified", "value_ratio")
        Any of ``p_justified``, ``p_collapse``, ``value_ratio``.
    num_resamples, conf_level
        Bootstrap settings of :func:`SALib.analyze.sobol.analyze`.
    sample_seed : int, optional
        Seed of the sample's scrambling and the bootstrap (default: the run seed).
    threads : int, optional
    progress : bool, default: False

    Returns
    -------
    xarray.Dataset
        As :func:`sobol_indices`, with the attributes of the run (config, seed, n_paths,
        scenario).

    Notes
    -----
    The defaults (64 x (D + 2) runs of 2000 paths) take about 20 seconds for five inputs of
    ``configs/zhipu_2026.toml`` on two cores once numba's cache is warm. With common random
    numbers each run's output is a deterministic function of the inputs, so Monte Carlo error
    does not add independent noise between sample points; it adds a fixed distortion that
    varies slowly with the inputs. ``mc_noise_share`` (the mean squared standard error over
    the output's variance) is what independent errors would contribute, an upper bound of
    that distortion's share: near or above 1, as for a P(justified) of a fraction of a percent
    estimated from a few thousand paths, the indices of that output say little; add paths.
    P(justified) of a finite number of paths is a step function of the inputs.
    """
    research = as_config(config)
    cfg = research.config
    if ranges is None:
        ranges = research.ranges
    if groups is True and research.groups:
        groups = research.groups
    cfg = pick_scenario(cfg, scenario)
    scenario = next(iter(cfg.scenarios))
    specs = resolve_ranges(cfg, ranges)
    unknown = [o for o in outputs if o not in OUTPUTS]
    if unknown:
        raise ValueError(f"unknown outputs {', '.join(unknown)}; choose from "
                         f"{', '.join(OUTPUTS)}")
    model = SimvalModel(cfg, n_paths=n_paths, seed=seed, scenario=scenario, threads=threads)
    ds = sobol_indices(model, {k.name: (lo, hi) for k, lo, hi in specs}, n_base=n_base,
                       groups=groups, outputs=outputs, num_resamples=num_resamples,
                       conf_level=conf_level,
                       seed=model.seed if sample_seed is None else int(sample_seed),
                       integer_inputs=[k.name for k, _, _ in specs if k.field.kind == "int"],
                       progress=progress)
    ds.attrs.update({
        "title": f"Sobol' indices: {cfg.base['company']['name']}, scenario {scenario}",
        "company": cfg.base["company"]["name"],
        "currency": cfg.base["company"]["currency"],
        "scenario": scenario,
        "n_paths": model.n_paths,
        "seed": model.seed,
        "config": cfg.text,
        "config_source": cfg.source,
        "random_numbers": "every run uses the same seed (common random numbers)",
    })
    return ds


def sobol_table(ds: xr.Dataset) -> str:
    """Sobol' indices as text: first-order and total index of each input (group) and output."""
    dim = "group" if "group" in ds.dims else "input"
    lines = [f"{ds.attrs.get('title', 'Sobol indices')} ({ds.attrs.get('n_runs', 0):,} runs"
             + (f" of {ds.attrs['n_paths']:,} paths" if "n_paths" in ds.attrs else "")
             + f"; {ds.attrs.get('conf_level', 0.95):.0%} bootstrap intervals)"]
    for output in ds.output.values:
        s = ds.sel(output=output)
        lines.append("")
        label = OUTPUTS.get(str(output), str(output))
        noise = ""
        if "mc_noise_share" in s and np.isfinite(float(s.mc_noise_share)):
            noise = (f" (Monte Carlo error share of variance, at most: "
                 f"{float(s.mc_noise_share):.1%})")
        lines.append(f"{label}{noise}")
        header = [dim, "first order S1", "total ST"]
        rows = [[str(name),
                 f"{float(s.first_order.sel({dim: name})):.3f} ± "
                 f"{float(s.first_order_conf.sel({dim: name})):.3f}",
                 f"{float(s.total.sel({dim: name})):.3f} ± "
                 f"{float(s.total_conf.sel({dim: name})):.3f}"]
                for name in s[dim].values]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        lines.append(table_row(header, widths))
        lines += [table_row(r, widths) for r in rows]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# what explains collapse


def _realised_growth(s: xr.Dataset) -> np.ndarray:
    """Annualised log growth of total revenue from t_0 to T (to the bankruptcy time for a
    bankrupt path, whose series keep that step's revenue)."""
    revenue = s.path_total_revenue.values  # (path, time)
    years = s.years.values
    k_end = np.full(revenue.shape[0], revenue.shape[1] - 1)
    bankrupt = s.path_bankruptcy_time.values
    hit = np.isfinite(bankrupt)
    k_end[hit] = np.searchsorted(years, bankrupt[hit] - 1e-9)
    end = revenue[np.arange(revenue.shape[0]), k_end]
    start = revenue[:, 0]
    t = years[k_end]
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where((end > 0) & (start > 0) & (t > 0), np.log(end / start) / t, np.nan)
    return g


_EXPLAIN = {
    "chip_shocks": ("path_chip_shocks", "1", "chip-supply shocks by T"),
    "contracts_lost": ("path_contracts_lost", "1", "contracts lost at renewal by T"),
    "contracts_won": ("path_contracts_won", "1", "contracts won by the expansion programme"),
    "slowdown_share": ("path_slowdown_share", "1", "share of the path's steps in slowdown"),
    "revenue_growth": (None, "1/year", "annualised log growth of total revenue to T "
                                       "(or to bankruptcy)"),
}


def explain_collapse(ds: xr.Dataset, scenario: str | None = None) -> pd.DataFrame:
    """What distinguishes the kept paths that collapse from those that do not.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` with kept paths (``keep_paths > 0``; the more, the
        tighter the standard errors).
    scenario : str, optional
        The scenario (default: the first, by convention base).

    Returns
    -------
    pandas.DataFrame
        One row per driver (``chip_shocks``, ``contracts_lost``, ``contracts_won``,
        ``slowdown_share``, ``revenue_growth``), columns ``collapsed``, ``collapsed_se``,
        ``not_collapsed``, ``not_collapsed_se``, ``difference``, ``difference_se`` (means
        over the paths of each group, standard errors of the means and of their difference;
        the two groups are independent sets of i.i.d. paths), ``unit`` and ``description``.
        ``attrs`` holds ``n_collapsed``, ``n_not_collapsed``, ``scenario``.

    Raises
    ------
    ValueError
        If the Dataset has no kept paths or no such scenario.

    Notes
    -----
    Revenue growth is the annualised log growth ``ln(S_end/S_0)/t_end`` of total revenue,
    with ``t_end = T``, or the bankruptcy time for a bankrupt path. A driver's mean is over
    the paths where it is defined. The groups are conditional on the outcome, so the table
    describes association, not cause: a driver that differs between the groups is one the
    collapse paths tend to have.
    """
    if "path" not in ds.dims or ds.sizes["path"] == 0 or "path_collapse_time" not in ds:
        raise ValueError("explain_collapse needs kept paths: simulate with keep_paths > 0")
    if "scenario" in ds.dims:
        names = [str(s) for s in ds.scenario.values]
        if scenario is None:
            scenario = names[0]
        if scenario not in names:
            raise ValueError(f"no scenario {scenario!r}; the Dataset has {', '.join(names)}")
        s = ds.sel(scenario=scenario)
    else:
        s = ds
    extra = [d for d in s.path_collapse_time.dims if d != "path"]
    if extra:
        raise ValueError(f"select one value of {', '.join(extra)} first (e.g. ds.sel(...))")
    collapsed = np.isfinite(s.path_collapse_time.values)
    rows = {}
    for name, (var, unit, description) in _EXPLAIN.items():
        x = (_realised_growth(s) if var is None else s[var].values).astype(float)
        row: dict[str, Any] = {}
        parts = []
        for label, mask in (("collapsed", collapsed), ("not_collapsed", ~collapsed)):
            v = x[mask & np.isfinite(x)]
            mean = float(v.mean()) if v.size else np.nan
            se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else np.nan
            row[label], row[f"{label}_se"] = mean, se
            parts.append((mean, se))
        row["difference"] = parts[0][0] - parts[1][0]
        row["difference_se"] = math.hypot(parts[0][1], parts[1][1])
        row["unit"], row["description"] = unit, description
        rows[name] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "driver"
    df.attrs.update({"n_collapsed": int(collapsed.sum()),
                     "n_not_collapsed": int((~collapsed).sum()),
                     "scenario": scenario})
    return df
