"""The report of a company panel (:func:`simval.simulate_panel`): the companies side by side.

The same page as a run's report, rendered by the same code (:mod:`simval.report.html`,
:mod:`simval.report.markdown`): the headline table has one column per company (valuation,
P(justified), P(collapse), P(bankrupt), median PV, and P(stays above the panel's line) at the
end of each calendar year of the horizon and at its end), followed by the joint probability
that every company stays above the line and, for comparison, the product of the individual
probabilities (what independence would give); the figures compare the companies; the
assumptions table has one column per company for the keys that differ.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from simval.config.load import ConfigError
from simval.config.toml import toml_value
from simval.format import format_mean, format_money, format_percent, format_probability
from simval.report import content
from simval.report.assumptions import _flatten, _unit, format_value
from simval.report.content import ReportContent
from simval.report.figures import panel_figures
from simval.report.sections import Block, Note, Section, Table
from simval.results.dataset import question_index
from simval.results.summary import format_quantile, panel_table

if TYPE_CHECKING:
    from simval.panel import Panel
    from simval.report.research import Research

__all__ = ["collect_panel", "joint_rows", "year_ends"]


def _date(ds: xr.Dataset, i: int) -> str:
    return str(np.datetime_as_string(ds.time.values[i], unit="D"))


def year_ends(ds: xr.Dataset) -> list[int]:
    """Time indices of the end of each calendar year to the question horizon (the date nearest
    to the turn of the year, within half a step) and of the question horizon itself.

    Examples
    --------
    >>> import pandas as pd
    >>> ds = xr.Dataset(coords={"time": pd.to_datetime(
    ...     ["2025-06-30", "2025-12-30", "2026-06-30", "2026-12-30", "2027-06-30"])})
    >>> year_ends(ds)
    [1, 3, 4]
    >>> ds = xr.Dataset(coords={"time": pd.to_datetime(
    ...     ["2026-01-01", "2026-07-02", "2027-01-01", "2027-07-02", "2028-01-01"])})
    >>> year_ends(ds)
    [2, 4]
    """
    t = ds.time.values.astype("datetime64[D]")[:question_index(ds) + 1]  # to the question
    half = np.median(np.diff(t)) / 2 if len(t) > 1 else np.timedelta64(0, "D")
    out = {len(t) - 1}
    first, last = (int(str(x)[:4]) for x in (t[0], t[-1]))
    for year in range(first, last + 1):
        turn = np.datetime64(f"{year + 1}-01-01", "D")
        i = int(np.argmin(np.abs(t - turn)))
        if i > 0 and abs(t[i] - turn) <= half:
            out.add(i)
    return sorted(out)


def _stays_label(ds: xr.Dataset, i: int) -> str:
    line = format_money(float(ds.attrs["panel_threshold"]), ds.attrs["currency"])
    return f"P(stays above {line} through {_date(ds, i)})"


def _headline(ds: xr.Dataset, panel: Panel | None) -> content.Headline:
    cur = ds.attrs["currency"]
    columns: dict[str, list[tuple[str, str]]] = {}
    ends = year_ends(ds) if "p_stays_above" in ds else []
    for company in ds.company.values:
        s = ds.sel(company=company)
        rows = []
        if panel is not None and str(company) in panel.companies:
            rows.append(("company", str(panel.companies[str(company)].base["company"]["name"])))
        low = s.pv_quantile_low.sel(quantile=0.5, method="nearest")
        high = s.pv_quantile_high.sel(quantile=0.5, method="nearest")
        rows += [
            ("V0", format_money(float(s.valuation), cur)),
            ("P(justified: PV >= V0)", format_probability(s, "p_justified")),
            (f"P(collapse: V <= {format_money(float(s.collapse_level), cur)} by T)",
             format_probability(s, "p_collapse")),
            ("P(bankrupt by T)", format_probability(s, "p_bankrupt")),
            ("median PV", f"{format_quantile(s, 'pv_quantile', 0.5, cur)} "
                          f"[{format_money(float(low), cur)}, {format_money(float(high), cur)}]"),
            ("E[PV] / V0", f"{format_mean(float(s.value_ratio), float(s.value_ratio_se))} "
                           "(1 s.e.)"),
        ]
        rows += [(_stays_label(ds, i), format_probability(s.isel(time=i), "p_stays_above"))
                 for i in ends]
        columns[str(company)] = rows
    preamble = [
        f"{ds.attrs.get('panel', 'panel')}: valuations tested as of {ds.attrs.get('as_of')} "
        f"({ds.attrs.get('measure')}, {int(ds.attrs.get('n_paths', 0)):,} paths, seed "
        f"{ds.attrs.get('seed')}, horizon {float(ds.attrs.get('horizon_years', math.nan)):g} "
        "years; the companies share the paths' " + str(ds.attrs.get("shared_draws", "")) + ")",
        "probabilities with 95% Clopper-Pearson intervals, the median PV with its 95% "
        "order-statistic interval; money in " + cur,
    ]
    return content.Headline(panel_table(ds), preamble, columns)


def joint_rows(ds: xr.Dataset) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the joint table: P(all stay above) with its interval, the product
    of the individual probabilities, and their difference, at each year end."""
    from simval.plot.panel import independence_product

    ends = year_ends(ds)
    product = independence_product(ds)
    header = ["through", *(_date(ds, i) for i in ends)]
    joint = ["P(all stay above)"]
    indep = ["product of each's P(stays above): if independent"]
    diff = ["difference: the shared macro draws"]
    for i in ends:
        p = ds.isel(time=i)
        joint.append(format_probability(p, "p_all_stay_above"))
        indep.append(format_percent(float(product.isel(time=i))))
        diff.append(f"{100 * (float(p.p_all_stay_above) - float(product.isel(time=i))):+.1f} "
                    "pp")
    return header, [joint, indep, diff]


def _joint_blocks(ds: xr.Dataset) -> list[Block]:
    if "p_all_stay_above" not in ds:
        return []
    header, rows = joint_rows(ds)
    line = format_money(float(ds.attrs["panel_threshold"]), ds.attrs["currency"])
    return [
        f"All of them: the share of paths on which no company's market value falls below "
        f"{line} up to the date, against the product of the companies' own shares. The "
        "product is what the joint probability would be if the companies were independent; "
        "the difference is due to the shared macro draws: the same slowdowns and chip-export "
        "rounds hit every company on the same paths, so their falls come together.",
        Table("joint-table", header, rows,
              "P(all stay above) with its 95% Clopper-Pearson interval; the product of the "
              "individual probabilities of the headline table; their difference in percentage "
              "points (pp)."),
    ]


def _glossary(ds: xr.Dataset) -> list[tuple[str, str]]:
    terms = [t for t in content.glossary(ds) if t[0] not in ("scenario", "threshold B")]
    if "p_stays_above" in ds:
        line = format_money(float(ds.attrs["panel_threshold"]), ds.attrs["currency"])
        terms += [
            ("the line", f"{line}, the market value every company of the panel should stay "
                         "above. P(stays above the line through t) is the share of paths on "
                         "which the company's market value has not fallen below it on any "
                         "date up to t (once below, a path does not count again)."),
            ("P(all stay above)", "the share of paths on which no company has fallen below "
                                  "the line up to t."),
            ("if independent", "the product of the companies' own P(stays above): the "
                               "joint probability if their fortunes were unrelated."),
        ]
    terms.append(("company", "a company of the panel, simulated from its own config on the "
                             "same paths: the macro draws (slowdowns, chip-supply shocks) are "
                             "common to all, the rest is each company's own."))
    return terms


def _how_to_read(ds: xr.Dataset, panel: Panel | None) -> list[str]:
    names = [str(c) for c in ds.company.values]
    end = _date(ds, -1)
    scenario = panel.scenario if panel is not None else ds.attrs.get("panel_scenario", "base")
    paragraphs = [
        f"Each of the {len(names)} companies is simulated {int(ds.attrs['n_paths']):,} times "
        f"from its own config (scenario {scenario}), from {ds.attrs['as_of']} to {end}, on the "
        "same paths of one macro environment: on a given path the "
        f"{ds.attrs.get('shared_draws', 'macro draws')} are the same for every company, so a "
        "slowdown or an export-control round hits all of them at once, while each company's "
        "own revenue, contracts and market draws are independent. For each company, "
        "P(justified) is the share of paths on which the value to today's holders is at least "
        "its valuation V0, P(collapse) the share on which its market value falls to its "
        "collapse level, P(bankrupt) the share on which it runs out of cash.",
        "Numbers in brackets are 95% intervals: they measure the noise of simulating a finite "
        "number of paths, not whether the assumptions are right. The companies' assumptions "
        "are listed under Assumptions, where they differ.",
    ]
    if "p_stays_above" in ds:
        last = ds.isel(time=question_index(ds))
        line = format_money(float(ds.attrs["panel_threshold"]), ds.attrs["currency"])
        stays = [f"{n} on {format_percent(float(last.p_stays_above.sel(company=n)))}"
                 for n in names]
        from simval.plot.panel import independence_product

        product = float(independence_product(ds).isel(time=question_index(ds)))
        joint = float(last.p_all_stay_above)
        gap = 100 * (joint - product)
        direction = "higher" if gap > 0 else "lower" if gap < 0 else "no different"
        summary = (f"In short: through {end}, the market value stays above {line} for "
                   + ", ".join(stays[:-1]) + f" and {stays[-1]} of paths; all of them stay "
                   f"above on {format_probability(last, 'p_all_stay_above')}, against "
                   f"{format_percent(product)} if "
                   f"they were independent ({abs(gap):.1f} percentage points {direction}: "
                   "the difference comes from the macro draws they share).")
    else:
        best = max(names, key=lambda n: float(ds.p_justified.sel(company=n)))
        summary = (f"In short: P(justified) is highest for {best} "
                   f"({format_percent(float(ds.p_justified.sel(company=best)))}); the panel has "
                   "no line "
                   "to stay above ([panel].threshold).")
    return [*paragraphs, summary]


def _assumption_blocks(ds: xr.Dataset, panel: Panel | None, problem: str) -> list[Block]:
    if panel is None:
        return [Note("The configs stored in the panel results could not be read by this "
                     f"version of simval, so there is no assumptions table: {problem}")]
    names = list(panel.companies)
    values = {n: panel.companies[n].base for n in names}
    flat = {n: _flatten(values[n]) for n in names}
    keys = list(dict.fromkeys(k for n in names for k in flat[n]))
    rows, same = [], 0
    for key in keys:
        present = [flat[n].get(key) for n in names]
        raw = [p[1] if p is not None else None for p in present]
        if all(p is not None for p in present) and all(r == raw[0] for r in raw):
            same += 1
            continue
        field = next(p[0] for p in present if p is not None)
        first = names[[p is not None for p in present].index(True)]
        rows.append([".".join(key), _unit(field, values[first])]
                    + [format_value(field, r, values[n], key[-1]) if p is not None else "—"
                       for n, p, r in zip(names, present, raw, strict=True)])
    shared = ", ".join(f"{k} = {toml_value(v)}" for k, v in panel.shared.items()) or "nothing"
    return [
        f"Each company's config (scenario {panel.scenario}), with the panel's [shared] table "
        f"applied to every company: {shared}. The table lists every parameter whose value "
        "differs between the companies (— where a company has no such key, e.g. a contract "
        f"of another company); the other {same} parameters are the same for all of them. "
        "The configs themselves, with the comments that give the source of each value, are "
        "at the end of the report.",
        Table("panel-assumptions", ["parameter", "unit", *names], rows),
    ]


def _provenance(ds: xr.Dataset, panel: Panel | None, source: str | Path | None,
                out_dir: str | Path | None = None) -> list[tuple[str, str]]:
    a: dict[str, Any] = ds.attrs
    rows = [("panel", str(a.get("panel", ""))),
            ("panel config", Path(str(a.get("panel_source", ""))).name),
            ("run date", content.run_date(source))]
    for name in (str(c) for c in ds.company.values):
        text = a.get(f"config_{name}")
        sha = hashlib.sha256(text.encode()).hexdigest() if isinstance(text, str) else ""
        rows.append((f"config of {name}", Path(str(a.get(f"config_source_{name}", ""))).name
                     + (f" (sha256 {sha})" if sha else "")))
    if source is not None:
        rows.append(("results file", content.shown_path(source, out_dir)))
        if Path(source).is_file():
            rows.append(("results sha256", content.sha256_file(source)))
    rows += [
        ("as of", str(a.get("as_of", ""))),
        ("seed", str(a.get("seed", ""))),
        ("paths", f"{int(a.get('n_paths', 0)):,}"),
        ("paths kept in full", f"{int(a.get('keep_paths', 0)):,}"),
        ("companies", ", ".join(str(c) for c in ds.company.values)),
        ("scenario of each config", str(panel.scenario if panel is not None
                                        else a.get("panel_scenario", ""))),
        ("shared draws", str(a.get("shared_draws", ""))),
        ("measure", str(a.get("measure", ""))),
        ("horizon", f"{float(a.get('horizon_years', math.nan)):g} years, "
                    f"{a.get('steps_per_year', '')} steps per year"),
        ("random numbers", str(a.get("random_numbers", ""))),
        *content.software_rows(a),
        ("reproduce", f"simval panel {a.get('panel_source', 'PANEL')} --paths "
                      f"{int(a.get('n_paths', 0))} --seed {a.get('seed', '')} --keep-paths "
                      f"{int(a.get('keep_paths', 0))}"),
    ]
    return rows


def collect_panel(ds: xr.Dataset, source: str | Path | None = None, *,
                  research: Research | None = None,
                  out_dir: str | Path | None = None) -> ReportContent:
    """Gather the content of the side-by-side report of a company panel.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate_panel` (a ``company`` dimension).
    source : str or Path, optional
        The results file ``ds`` was read from, named with its hash in the provenance.
    research : Research, optional
        Research results: each is left out with a note (they belong to one company's run).
    out_dir : str or Path, optional
        The report's folder: files are named relative to it in the provenance.

    Returns
    -------
    ReportContent
    """
    from simval.panel import panel_of
    from simval.plot.panel import company_colors

    try:
        panel: Panel | None = panel_of(ds)
        problem = ""
    except ConfigError as exc:
        panel, problem = None, str(exc)
    a = ds.attrs
    names = [str(c) for c in ds.company.values]
    subtitle = (f"Company panel · {len(names)} companies on the same paths · Monte Carlo "
                f"valuation as of {a.get('as_of')} to {_date(ds, -1)} · money in "
                f"{a.get('currency')} · {int(a.get('n_paths', 0)):,} paths · "
                f"{a.get('measure')} measure · seed {a.get('seed')}")
    provenance = _provenance(ds, panel, source, out_dir)
    sections = []
    if research:
        notes: list[Block] = []
        files = research.files
        for kind, data in (("tornado", research.tornado), ("sobol", research.sobol)):
            if data is not None:
                where = (content.shown_path(files[kind], out_dir) if files.get(kind)
                         else f"the {kind} results")
                notes.append(Note(f"{Path(where).name} is left out: research results belong "
                                  "to one company's run, not to a panel."))
                provenance.append((f"{kind} (left out)", f"{where}: a panel report has no "
                                   "research section"))
        for i, r in enumerate(research.implied):
            path = files.get("implied", [])[i] if i < len(files.get("implied", [])) else None
            where = content.shown_path(path, out_dir) if path else f"implied {r.key}"
            notes.append(Note(f"{Path(where).name} is left out: research results belong to "
                              "one company's run, not to a panel."))
            provenance.append((f"implied {r.key} (left out)",
                               f"{where}: a panel report has no research section"))
        sections.append(Section("research", "Research", notes))
    configs = (f"# {a.get('panel_source', 'panel')}\n{a.get('panel_config', '')}\n\n"
               + str(a.get("configs", "")))
    return ReportContent(
        title=f"{a.get('panel', 'Company panel')}, as of {a.get('as_of', '?')}",
        subtitle=subtitle,
        glossary=_glossary(ds),
        how_to_read=_how_to_read(ds, panel),
        headline=_headline(ds, panel),
        figures=panel_figures(ds),
        assumptions=[],
        differences={},
        notes={},
        config_problem=problem,
        provenance=provenance,
        config_text=configs,
        scenarios=names,
        headline_blocks=_joint_blocks(ds),
        sections=sections,
        assumption_blocks=_assumption_blocks(ds, panel, problem),
        colors=company_colors(ds),
        column_kind="company",
        headline_command="simval panel",
        config_title="The panel config and the company configs, as stored in the results",
    )
