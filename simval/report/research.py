"""The research sections of a run's report: "What matters most" (tornado and Sobol' indices)
and "What the price implies" (market-implied expectations).

Research results carry the config they were computed from (``attrs["config"]`` of a tornado or
Sobol' Dataset, ``config_text`` of an :class:`~simval.research.implied.ImpliedResult`) and
their scenario. One belongs to a run when the run has that scenario and the scenario's
validated values are the same in both configs (comments, research tables and the run settings
``n_paths``, ``seed`` and ``keep_paths`` aside). One that does not is left out of the report,
and the report says so and why: research about other assumptions is never mixed in silently.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from simval.config.load import Config, ConfigError
from simval.format import format_percent
from simval.report.assumptions import _flatten, format_value
from simval.report.content import _any_finite, sha256_file, shown_path
from simval.report.figures import ReportFigure, render
from simval.report.sections import Block, Note, Section, Table

__all__ = ["Research", "gather", "mismatch", "research_sections"]

_RUN_SETTINGS = {("simulation", "n_paths"), ("simulation", "seed"),
                 ("simulation", "keep_paths")}
_LABELS = {"p_justified": "P(justified)", "p_collapse": "P(collapse)",
           "p_collapse_fundamental": "P(the company alone collapses)",
           "value_ratio": "E[PV]/V0"}


@dataclasses.dataclass(frozen=True)
class Research:
    """Research results to report, each with the file it came from (if any).

    Attributes
    ----------
    tornado, sobol : xarray.Dataset or None
    implied : list of ImpliedResult
    files : dict
        ``"tornado"``, ``"sobol"``, ``"sweep"``, ``"implied"`` (a list) -> source files, for
        the provenance.
    sweep : xarray.Dataset or None
        A sweep (:func:`simval.research.sweep.sweep`).
    """

    tornado: xr.Dataset | None = None
    sobol: xr.Dataset | None = None
    implied: list[Any] = dataclasses.field(default_factory=list)
    files: dict[str, Any] = dataclasses.field(default_factory=dict)
    sweep: xr.Dataset | None = None

    def __bool__(self) -> bool:
        return (self.tornado is not None or self.sobol is not None or bool(self.implied)
                or self.sweep is not None)


def gather(tornado: xr.Dataset | str | Path | None = None,
           sobol: xr.Dataset | str | Path | None = None,
           implied: Sequence[Any] | None = None,
           sweep: xr.Dataset | str | Path | None = None) -> Research:
    """Research results given as objects or files (opened here) as one :class:`Research`.

    A reverse DCF (:class:`~simval.research.implied.ReverseDCF`, or its file) among
    ``implied`` counts as its solved parts, the growth and the margin results.

    Raises
    ------
    FileNotFoundError, ValueError
        If a file does not exist or is not a results file of its kind.
    """
    from simval.research.implied import ImpliedResult, ReverseDCF, load_result
    from simval.results.io import open_results

    files: dict[str, Any] = {"implied": []}

    def dataset(x: xr.Dataset | str | Path | None, kind: str, var: str) -> xr.Dataset | None:
        if x is None or isinstance(x, xr.Dataset):
            return x
        path = Path(x)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such {kind} results file")
        try:
            ds = open_results(path)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a simval {kind} results file ({exc})") from None
        if var not in ds and var not in ds.attrs:
            raise ValueError(f"{path}: not a simval {kind} results file (no {var})")
        files[kind] = path
        return ds

    results = []
    for item in implied or []:
        path = None if isinstance(item, ImpliedResult | ReverseDCF) else Path(item)
        loaded = load_result(path) if path is not None else item
        # a reverse DCF is reported as its solved parts (growth, margin)
        parts = ([r for r in (loaded.growth, loaded.margin) if r is not None]
                 if isinstance(loaded, ReverseDCF) else [loaded])
        results.extend(parts)
        files["implied"].extend([path] * len(parts))
    return Research(dataset(tornado, "tornado", "delta_p_justified"),
                    dataset(sobol, "sobol", "first_order"), results, files,
                    dataset(sweep, "sweep", "sweep_keys"))


def mismatch(ds: xr.Dataset, config: Config | None, text: str, scenario: str) -> str:
    """Why research computed from config ``text`` for ``scenario`` does not belong to the run
    ``ds`` (whose validated config is ``config``); ``""`` if it does.

    Examples
    --------
    >>> import simval
    >>> cfg = simval.load_config("configs/minimax_2025.toml")
    >>> ds = simval.simulate(cfg, n_paths=4096, keep_paths=0, scenarios=["base"])
    >>> mismatch(ds, cfg, cfg.text, "base")
    ''
    >>> mismatch(ds, cfg, cfg.text.replace("valuation = 8.6e9", "valuation = 9e9"), "base")
    'it was computed from another config: company.valuation is ¥9.00B there, ¥8.60B here'
    """
    from simval.config.research import parse_research_config

    names = [str(s) for s in ds.scenario.values]
    if scenario not in names:
        return f"its scenario {scenario!r} is not in this run ({', '.join(names)})"
    if config is None:
        return "the run's config could not be read, so nothing can be matched with it"
    if not text:
        return "it carries no config"
    try:
        other = parse_research_config(text, source="<research>").config
    except ConfigError as exc:
        return f"its config could not be read by this version of simval ({exc.problems[0]})"
    if scenario not in other.scenarios:
        return f"its config has no scenario {scenario!r}"
    here, there = config.scenarios[scenario], other.scenarios[scenario]
    a, b = _flatten(here), _flatten(there)
    diffs = [k for k in dict.fromkeys([*a, *b]) if k[:2] not in _RUN_SETTINGS
             and (k not in a or k not in b or a[k][1] != b[k][1])]
    if not diffs:
        return ""
    key = diffs[0]
    if key in a and key in b:
        field = a[key][0]
        first = (f"{'.'.join(key)} is {format_value(field, b[key][1], there, key[-1])} there, "
                 f"{format_value(field, a[key][1], here, key[-1])} here")
    else:
        first = f"{'.'.join(key)} is set {'here' if key in a else 'there'} only"
    more = f" (and {len(diffs) - 1} more differences)" if len(diffs) > 1 else ""
    return f"it was computed from another config: {first}{more}"


def _sweep_of_run(ds: xr.Dataset, config: Config | None,
                  sweep: xr.Dataset) -> tuple[xr.Dataset, str]:
    """The sweep restricted to the run's scenarios, and why it does not belong to the run
    (``""`` if it does): every scenario it shares with the run must have the same values."""
    names = [str(s) for s in ds.scenario.values]
    shared = [str(s) for s in sweep.scenario.values if str(s) in names]
    if not shared:
        return sweep, (f"its scenarios ({', '.join(str(s) for s in sweep.scenario.values)}) "
                       f"are not in this run ({', '.join(names)})")
    text = str(sweep.attrs.get("config", ""))
    for scenario in shared:
        why = mismatch(ds, config, text, scenario)
        if why:
            return sweep, why
    return sweep.sel(scenario=shared), ""


# --------------------------------------------------------------------------------------------
# what matters most


def _pp(d: float, lo: float, hi: float) -> str:
    return f"{100 * d:+.2f} pp [{100 * lo:+.2f}, {100 * hi:+.2f}]"


def _ratio(d: float, lo: float, hi: float) -> str:
    return f"{d:+.3g} [{lo:+.3g}, {hi:+.3g}]"


def _has_fundamental(t: xr.Dataset) -> bool:
    """Whether the tornado has the value model's P(fundamental collapse)."""
    return _any_finite(t, "delta_p_collapse_fundamental")


def tornado_table(t: xr.Dataset, config: Config | None = None) -> Table:
    """Per input and side: its value, and the change of each output with its interval."""
    outputs = [("p_justified", _pp), ("p_collapse", _pp)]
    header = ["input", "moved to", "Δ P(justified)", "Δ P(collapse)"]
    if _has_fundamental(t):
        outputs.append(("p_collapse_fundamental", _pp))
        header.append("Δ P(company alone)")
    outputs.append(("value_ratio", _ratio))
    header.append("Δ E[PV]/V0")
    rows = []
    for name in t.input.values:
        point = t.sel(input=name)
        for side in t.side.values:
            p = point.sel(side=side)
            cells = [f"{side}: {_quantity(t, config, str(name), float(p.value))}"]
            for o, fmt in outputs:
                cells.append(fmt(*(float(p[f"delta_{o}{s}"]) for s in ("", "_low", "_high"))))
            rows.append([str(name) if side == t.side.values[0] else "", *cells])
    confidence = float(t.attrs.get("confidence", 0.95))
    return Table("tornado-table", header, rows,
                 f"Changes against the base run when one input at a time is moved to the end "
                 f"of its range (pp: percentage points), with paired {confidence:.0%} "
                 "intervals; every run on the same random numbers.")


def _top(t: xr.Dataset, output: str) -> tuple[str, int, float, float, float]:
    """The input whose move changes ``output`` most (the top bar of the tornado): name,
    side index, change and its interval."""
    d = np.abs(t[f"delta_{output}"].transpose("input", "side").values)
    d = np.where(np.isfinite(d), d, -1.0)
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    p = t.isel(input=i, side=j)
    return (str(t.input.values[i]), int(j), float(p[f"delta_{output}"]),
            float(p[f"delta_{output}_low"]), float(p[f"delta_{output}_high"]))


def tornado_sentences(t: xr.Dataset, config: Config | None = None) -> str:
    """Which input moves P(justified) and which P(collapse) most (the top bars of the
    tornado), with the values, computed from the tornado Dataset."""
    n = t.sizes["input"]
    level = float(t.attrs.get("confidence", 0.95))
    text = []
    outputs = ["p_justified", "p_collapse"]
    if _has_fundamental(t):
        outputs.append("p_collapse_fundamental")
    for output in outputs:
        name, j, d, lo, hi = _top(t, output)
        low = t[f"delta_{output}_low"].values
        high = t[f"delta_{output}_high"].values
        if not np.any((low > 0.0) | (high < 0.0)):  # every interval holds 0
            text.append(f"no input moves {_LABELS[output]} beyond the Monte Carlo noise: the "
                        f"largest change, {100 * d:+.2f} percentage points with {name} at its "
                        f"{t.side.values[j]} value ({level:.0%} interval {100 * lo:+.2f} to "
                        f"{100 * hi:+.2f}), is within it, like every other.")
            continue
        point = t.sel(input=name)
        side = str(t.side.values[j])
        base = float(t[f"{output}_base"])
        moved = float(point[output].isel(side=j))
        value = _quantity(t, config, name, float(point.value.isel(side=j)))
        what = (f"{name} moves {_LABELS[output]} most: at its {side} value ({value}) it is "
                f"{format_percent(moved)} against {format_percent(base)} in the base run "
                f"({100 * d:+.2f} "
                f"percentage points, {level:.0%} interval {100 * lo:+.2f} to {100 * hi:+.2f}")
        what += ("; a change within the Monte Carlo noise)." if lo <= 0.0 <= hi else ").")
        text.append(what)
    second = "N" + text[1][1:] if text[1].startswith("no input") else text[1]
    return f"Of the {n} inputs moved one at a time over their ranges, {text[0]} {second}"


def _quantity(t: xr.Dataset, config: Config | None, key: str, value: float) -> str:
    """An input's value in its unit: ``30% a year``, ``1.5 per year``, ``0.85``."""
    from simval.config.address import resolve_key
    from simval.research.implied import format_quantity

    currency = str(t.attrs.get("currency", ""))
    unit = str(t.unit.sel(input=key).values) if "unit" in t.coords else ""
    percent = False
    if config is not None:
        try:
            percent = resolve_key(config, key).percent
        except ConfigError:
            percent = False
    return format_quantity(value, unit, currency, percent=percent)


def sobol_table(s: xr.Dataset) -> Table:
    """First-order and total index of each input (or group) and output, with intervals."""
    dim = "group" if "group" in s.dims else "input"
    outputs = [str(o) for o in s.output.values]
    header = [dim]
    for o in outputs:
        label = _LABELS.get(o, o)
        header += [f"S1 of {label}", f"ST of {label}"]
    rows = []
    for name in s[dim].values:
        row = [str(name)]
        for o in outputs:
            p = s.sel({"output": o, dim: name})
            for var in ("first_order", "total"):
                row.append(f"{float(p[var]):.3f} [{float(p[f'{var}_low']):.3f}, "
                           f"{float(p[f'{var}_high']):.3f}]")
        rows.append(row)
    level = float(s.attrs.get("conf_level", 0.95))
    caption = (f"Sobol' indices over the input ranges ({int(s.attrs.get('n_runs', 0)):,} runs"
               + (f" of {int(s.attrs['n_paths']):,} paths" if "n_paths" in s.attrs else "")
               + f") with {level:.0%} bootstrap intervals: S1 is the share of the output's "
               "variance due to the input alone, ST with all its interactions.")
    return Table("sobol-table", header, rows, caption)


def sobol_sentence(s: xr.Dataset) -> str:
    """Which input (group) explains most of the variance of the first output."""
    dim = "group" if "group" in s.dims else "input"
    output = "p_justified" if "p_justified" in s.output.values else str(s.output.values[0])
    p = s.sel(output=output)
    total = p.total.values
    if not np.isfinite(total).any():
        return (f"The Sobol' indices of {_LABELS.get(output, output)} are undefined: it did "
                "not vary over the sample.")
    i = int(np.nanargmax(total))
    name = str(p[dim].values[i])
    q = p.isel({dim: i})
    word = "driver group" if dim == "group" else "input"
    text = (f"Over the whole ranges at once, the {word} {name} explains the largest share of "
            f"the variance of {_LABELS.get(output, output)}: {float(q.first_order):.0%} "
            f"alone (S1, interval {float(q.first_order_low):.0%} to "
            f"{float(q.first_order_high):.0%}) and {float(q.total):.0%} with its "
            f"interactions (ST, {float(q.total_low):.0%} to {float(q.total_high):.0%}).")
    if "mc_noise_share" in p and float(p.mc_noise_share) >= 0.2:
        text += (f" Monte Carlo noise may account for up to {float(p.mc_noise_share):.0%} of "
                 "that variance, so these indices are rough: more paths per run would sharpen "
                 "them.")
    return text


def _tornado_figure(t: xr.Dataset, name: str) -> ReportFigure:
    from simval import plot

    n = t.sizes["input"]

    outputs = ["p_justified", "p_collapse"]
    if _has_fundamental(t):  # the value model: the collapse and the company's own part of it
        outputs = ["p_collapse", "p_collapse_fundamental", "value_ratio"]

    def draw(fig) -> None:
        for ax, output in zip(fig.subplots(len(outputs), 1), outputs, strict=True):
            plot.tornado(t, output=output, ax=ax)

    title = ("What moves P(collapse), the company's own collapse and E[PV]/V0: one input at a "
             "time" if len(outputs) == 3 else
             "What moves P(justified) and P(collapse): one input at a time")
    note = (" Inputs of the price-to-value gap (the re-rating) move P(collapse); inputs about "
            "the company move its own collapse." if len(outputs) == 3 else "")
    return ReportFigure(
        name, title,
        "Each input moved to the low (blue) and the high (orange) end of its range, the others "
        "at their values in the config; the bars are the changes against the base run, the "
        "whiskers their paired 95% intervals. The largest change is on top." + note,
        render((10.0, 1.3 + 1.1 * n * len(outputs) / 2), draw))


def _sobol_figure(s: xr.Dataset, name: str) -> ReportFigure:
    from simval import plot

    outputs = [str(o) for o in s.output.values]

    def draw(fig) -> None:
        axes = np.atleast_1d(fig.subplots(len(outputs), 1))
        for ax, output in zip(axes, outputs, strict=True):
            plot.sobol_indices(s, output=output, ax=ax)

    dim = "group" if "group" in s.dims else "input"
    return ReportFigure(
        name, "Sobol' indices: what explains the spread of the outcomes",
        f"All inputs drawn over their ranges at once: per {dim}, the share of the variance of "
        "the output due to it alone (first order S1, blue) and with its interactions (total "
        "ST, orange), with bootstrap intervals.",
        render((10.0, 0.4 + 4.4 * len(outputs)), draw))


# --------------------------------------------------------------------------------------------
# what the price implies


def implied_table(results: list[Any]) -> Table:
    """One row per implied result: the solution, its interval, the config's value."""
    from simval.research.implied import TARGETS, format_quantity, reference_assumptions

    rows = []
    for r in results:
        def q(x: float, r=r) -> str:
            return format_quantity(x, r.unit, r.currency, percent=r.percent)

        assumed = reference_assumptions(r)  # as the sentence above the table says it
        rows.append([
            r.key, f"{TARGETS.get(r.target, r.target)} = {r.level:g}",
            f"{q(r.value)} [{q(r.low) if math.isfinite(r.low) else 'open'}, "
            f"{q(r.high) if math.isfinite(r.high) else 'open'}]",
            q(r.base_value) if math.isfinite(r.base_value) else "—",
            (" and ".join(assumed) + (f" ({r.reference['by']})" if r.reference.get("by")
                                      else "")) if assumed else "—",
            f"{r.achieved:.4g} ± {r.achieved_se:.2g}",
            f"{r.n_runs} × {r.n_paths:,} paths, seed {r.seed}",
        ])
    return Table("implied-table", ["input", "target", "must be [interval]", "config",
                                   "assumed by the source", "achieved ± 1 s.e.", "runs"], rows,
                 "The value of each input at which the target holds, found by root finding "
                 "on common random numbers; the interval holds the values consistent with the "
                 "Monte Carlo error of the target (its level ± 1.96 standard errors).")


# --------------------------------------------------------------------------------------------
# the sections


def research_sections(ds: xr.Dataset, config: Config | None, research: Research, *,
                      first_figure: int = 1, out_dir: str | Path | None = None
                      ) -> tuple[list[Section], list[tuple[str, str]]]:
    """The report sections of ``research`` for the run ``ds``, and provenance rows.

    Research that does not belong to the run (:func:`mismatch`) is left out with a note in
    its section and in the provenance. Figures are named from ``first_figure`` on; files are
    named relative to the report's folder ``out_dir`` when it is given.
    """
    provenance: list[tuple[str, str]] = []
    sections: list[Section] = []
    number = first_figure

    def where(kind: str, i: int | None = None) -> str:
        path = research.files.get(kind)
        if i is not None:
            path = path[i] if path and i < len(path) else None
        return (f"{shown_path(path, out_dir)} (sha256 {sha256_file(path)})" if path is not None
                else "given in Python")

    def label(kind: str, i: int | None = None) -> str:
        path = research.files.get(kind)
        if i is not None:
            path = path[i] if path and i < len(path) else None
        if path is not None:
            return Path(path).name
        if i is not None:
            r = research.implied[i]
            return f"The implied result for {r.key} ({r.target}={r.level:g})"
        return {"tornado": "The tornado", "sweep": "The sweep"}.get(kind, "The Sobol' indices")

    matters: list[Block] = []
    for kind, data in (("tornado", research.tornado), ("sobol", research.sobol)):
        if data is None:
            continue
        why = mismatch(ds, config, str(data.attrs.get("config", "")),
                       str(data.attrs.get("scenario", "")))
        if why:
            matters.append(Note(f"{label(kind)} is left out: {why}."))
            provenance.append((f"{kind} (left out)", f"{where(kind)}: {why}"))
            continue
        provenance.append((kind, where(kind)))
        scenario = data.attrs.get("scenario", "")
        if kind == "tornado":
            matters.append(
                f"Tornado (scenario {scenario}, {int(data.attrs.get('n_paths', 0)):,} paths "
                f"per run, seed {data.attrs.get('seed')}): base run P(justified) "
                f"{format_percent(float(data.p_justified_base))}, P(collapse) "
                f"{format_percent(float(data.p_collapse_base))}, E[PV]/V0 "
                f"{float(data.value_ratio_base):.3g}. " + tornado_sentences(data, config))
            matters.append(_tornado_figure(data, f"{number:02d}_tornado"))
            matters.append(tornado_table(data, config))
        else:
            matters.append(f"Sobol' indices (scenario {scenario}): " + sobol_sentence(data))
            matters.append(_sobol_figure(data, f"{number:02d}_sobol"))
            matters.append(sobol_table(data))
        number += 1
    if matters:
        sections.append(Section("what-matters-most", "What matters most", matters))
    if research.sweep is not None:
        swept, why = _sweep_of_run(ds, config, research.sweep)
        if why:
            blocks: list[Block] = [Note(f"{label('sweep')} is left out: {why}.")]
            provenance.append(("sweep (left out)", f"{where('sweep')}: {why}"))
        else:
            from simval.report.sweep import sweep_blocks

            provenance.append(("sweep", where("sweep")))
            blocks = sweep_blocks(swept, config, number)
            number += 1
        sections.append(Section("sweep", "Along the swept inputs", blocks))
    implies: list[Block] = []
    kept = []
    if research.implied:
        from simval.research.implied import describe

        for i, r in enumerate(research.implied):
            why = mismatch(ds, config, r.config_text, r.scenario)
            name = f"implied {r.key} ({r.target}={r.level:g})"
            if why:
                implies.append(Note(f"{label('implied', i)} is left out: {why}."))
                provenance.append((f"{name} (left out)", f"{where('implied', i)}: {why}"))
                continue
            provenance.append((name, where("implied", i)))
            implies.append(describe(r))
            kept.append(r)
        if kept:
            implies.append(implied_table(kept))
        sections.append(Section("what-the-price-implies", "What the price implies", implies))
    return sections, provenance
