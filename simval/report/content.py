"""What a report says, independent of its format: headline rows, how to read it, provenance."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from simval.config.load import Config
from simval.format import format_money, format_percent
from simval.report.assumptions import Assumption, Difference
from simval.report.figures import ReportFigure
from simval.report.sections import Block, Section, figures_of
from simval.results.dataset import question_index
from simval.results.summary import EXTRA_BLOCKS, format_quantile, headline_table

__all__ = ["CONFIG_FILE", "Headline", "config_file_check", "glossary", "headline",
           "how_to_read", "provenance", "shown_path", "title"]


@dataclasses.dataclass(frozen=True)
class Headline:
    """The headline table of :func:`simval.headline_table`, split into its parts.

    Attributes
    ----------
    text : str
        The table exactly as ``simval show`` prints it.
    preamble : list of str
        Its first lines (company, as-of date, paths, seed; how intervals are computed).
    scenarios : dict
        Scenario name -> list of ``(label, value)`` rows, the first being ``("V0", ...)``.
    """

    text: str
    preamble: list[str]
    scenarios: dict[str, list[tuple[str, str]]]

    def rows(self) -> list[tuple[str, list[str]]]:
        """``(label, [value per scenario])`` with the labels in table order.

        A label that names a scenario-specific amount (the collapse level when V0 differs
        between scenarios) becomes generic (``P(collapse: V <= level by T)``) and each value
        names its own amount: ``0.34% [0.19%, 0.57%] (level $2.00B)``.
        """
        keys: list[str] = []
        cells: dict[str, dict[str, tuple[str, str]]] = {}
        for name, rows in self.scenarios.items():
            for label, value in rows:
                key = _generic(label)
                if key not in cells:
                    keys.append(key)
                    cells[key] = {}
                cells[key][name] = (label, value)
        out = []
        for key in keys:
            labels = {label for label, _ in cells[key].values()}
            shared = len(labels) == 1
            values = []
            for name in self.scenarios:
                if name not in cells[key]:
                    values.append("")
                    continue
                label, value = cells[key][name]
                amounts = _MONEY.findall(label)
                values.append(value if shared or not amounts
                              else f"{value} (level {amounts[0]})")
            out.append((labels.pop() if shared else key.replace("X", "level"), values))
        return out


# an amount of money (``¥200B``, ``-$1.5T``, ``3.20M CHF``), not any number: a date in a label
# (``through 2026-12-30``) tells rows apart
@dataclasses.dataclass(frozen=True)
class ReportContent:
    """Everything a report shows, before it is given a format.

    The same structure holds the report of a run (columns of the headline: scenarios) and of
    a company panel (columns: companies); the renderers show both the same way.
    """

    title: str
    subtitle: str
    glossary: list[tuple[str, str]]
    how_to_read: list[str]       # paragraphs; the last one is the summary shown on top
    headline: Headline
    figures: list[ReportFigure]
    assumptions: list[Assumption]
    differences: dict[str, list[Difference]]
    notes: dict[str, str]
    config_problem: str       # why the stored config could not be read ("" if it could)
    provenance: list[tuple[str, str]]
    config_text: str
    scenarios: list[str]      # the headline's columns: scenarios, or a panel's companies
    headline_blocks: list[Block] = dataclasses.field(default_factory=list)  # below the table
    sections: list[Section] = dataclasses.field(default_factory=list)  # after the figures
    assumption_blocks: list[Block] = dataclasses.field(default_factory=list)  # replace the
    #                                  single-run assumptions tables when given (a panel)
    colors: dict[str, str] = dataclasses.field(default_factory=dict)  # column -> colour
    column_kind: str = "scenario"
    headline_command: str = "simval show"
    config_title: str = "The config of this run, as stored in the results"
    config_file: str = ""     # written beside the report with config_text ("" for none)

    def left_out(self) -> list[tuple[str, str]]:
        """Research results left out of the report, and why (from the provenance)."""
        return [(k.removesuffix(" (left out)"), v) for k, v in self.provenance
                if k.endswith(" (left out)")]

    def all_figures(self) -> list[ReportFigure]:
        """Every figure of the report in document order (the figures, then the sections')."""
        out = list(self.figures) + figures_of(self.headline_blocks)
        for section in self.sections:
            out += figures_of(section.blocks)
        return out + figures_of(self.assumption_blocks)


_MONEY = re.compile(r"-?(?:[¥$€£]\d[\d.,]*[kMBT]?|\d[\d.,]*[kMBT]? [A-Z]{3}\b)")


def _generic(label: str) -> str:
    return _MONEY.sub("X", label) if label.startswith("P(") else label


def headline(ds: xr.Dataset) -> Headline:
    """Split :func:`simval.headline_table` of ``ds`` into preamble and per-scenario rows."""
    text = headline_table(ds)
    lines = text.rstrip("\n").split("\n")
    blank = lines.index("")
    preamble = lines[:blank]
    scenarios: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    names = [str(s) for s in ds.scenario.values]
    for line in lines[blank + 1:]:
        if not line:
            continue
        if line.startswith(EXTRA_BLOCKS):  # the mixture and the signals: own sections
            break
        if not line.startswith("  "):
            name, _, v0 = line.partition("  V0 = ")
            if name not in names:
                raise ValueError(f"unexpected line in the headline table: {line!r}")
            current = scenarios.setdefault(name, [("V0", v0)])
            continue
        match = re.match(r"^  ( {0,2}\S.*?)\s{2,}(\S.*)$", line)  # a table's rows: 4
        if current is None or match is None:
            raise ValueError(f"unexpected line in the headline table: {line!r}")
        current.append((match.group(1), match.group(2)))
    return Headline(text, preamble, scenarios)


def split_interval(value: str) -> tuple[str, str]:
    """``"0.19% [0.16%, 0.22%]"`` -> ``("0.19%", "[0.16%, 0.22%]")``; other values unchanged.

    Examples
    --------
    >>> split_interval("0.157 ± 0.00093 (1 s.e.)")
    ('0.157', '± 0.00093 (1 s.e.)')
    >>> split_interval("¥11.9B/year")
    ('¥11.9B/year', '')
    """
    match = re.match(r"^(\S+) (\[.*?\]( \(level .*\))?|± .*)$", value)
    return (match.group(1), match.group(2)) if match else (value, "")


def title(ds: xr.Dataset) -> str:
    """``Zhipu AI, as of 2026-06-30: is a valuation of ¥1.00T justified?``"""
    v0 = {float(v) for v in ds.valuation.values}
    cur = ds.attrs["currency"]
    what = f"a valuation of {format_money(v0.pop(), cur)}" if len(v0) == 1 else "its valuation"
    return (f"{ds.attrs.get('company', 'simval')}, as of {ds.attrs.get('as_of', '?')}: "
            f"is {what} justified?")


def _any_finite(ds: xr.Dataset, name: str) -> bool:
    """Whether ``ds`` holds the variable ``name`` with at least one finite value."""
    return name in ds and bool(np.isfinite(ds[name].values).any())


def _value_model(ds: xr.Dataset) -> bool:
    """Whether the results hold the value model's split of the collapse."""
    return _any_finite(ds, "p_collapse_fundamental")


def _shared_money(values: np.ndarray, currency: str) -> str | None:
    finite = {float(v) for v in values if np.isfinite(v)}
    return format_money(finite.pop(), currency) if len(finite) == 1 else None


def glossary(ds: xr.Dataset) -> list[tuple[str, str]]:
    """``(term, explanation)`` pairs for a reader who has never seen simval."""
    cur = ds.attrs["currency"]
    v0 = _shared_money(ds.valuation.values, cur)
    level = _shared_money(ds.collapse_level.values, cur)
    terms = [
        ("V0", "today's valuation, the price being tested"
               + (f" ({v0})" if v0 else "") + "."),
        ("path", "one simulated future of the company: revenue, contracts, costs, cash, "
                 "funding rounds and market value, date by date. Every probability is a share "
                 "of paths."),
        ("PV", "present value to today's holders: what one path's cash flows up to the "
               "valuation horizon and its terminal value are worth today, after dilution by "
               "new shares (funding rounds, share-based pay) and net of debt. The fundamental "
               "value of the company on that path."),
        ("E[PV]/V0", "the mean PV over all paths as a share of today's valuation V0: what the "
                     "company simulated is worth against its price."),
        ("terminal value's share", "how much of E[PV] is the terminal value at the valuation "
                                   "horizon (the rest: cash, less losses and reinvestment "
                                   "before it)."),
        ("P(justified)", "the share of futures in which today's price turns out cheap: paths "
                         "with PV ≥ V0."),
        *([("market value V", "what the market pays at a date on a path: the price-to-value "
                              "gap B times the model's own value W of today's holders' claim "
                              "(W by least squares on the state of the path). B starts at "
                              "V0/W0, closes towards its long-run level and jumps on "
                              "shocks."),
           ("the company alone", "the share of paths on which W itself falls by the collapse "
                                 "drawdown at today's price-to-value ratio (B held at B0): "
                                 "the part of a collapse that is the company, not the "
                                 "re-rating.")]
          if _value_model(ds) else
          [("market value V", "what the market pays for the company at a date on a path: a "
                              "price-to-sales multiple times revenue. The multiple drifts "
                              "towards its long-run level and jumps on shocks.")]),
        ("collapse", "the market value falls to "
                     + (level if level else "the collapse level")
                     + " or below on some date up to the horizon."),
        ("bankrupt", "cash runs out on a path, after any funding rounds; its value is 0 from "
                     "then on."),
    ]
    if "threshold" in ds and np.isfinite(ds.threshold.values).any():
        b = _shared_money(ds.threshold.values, cur)
        terms.append(("threshold B", "a valuation line tracked over time"
                      + (f" ({b})" if b else "") + ": P(V_T ≥ B) is the share of paths "
                      "whose market value at the horizon is at or above it."))
    terms += [
        ("required revenue at T", "the annual revenue at the horizon at which PV, at the "
                                  "config's own terminal value (its mature margin, or its "
                                  "median exit multiple), would equal V0."),
        ("quantiles, 5-95%", "5% of paths lie below the 5% quantile and 5% above the 95% "
                             "one; the median is the middle path."),
        ("95% interval [a, b]", "the range that contains the true probability with 95% "
                                "confidence given the finite number of paths (Monte Carlo "
                                "noise only)."),
        ("scenario", "a variant of the assumptions; all scenarios share the same random "
                     "numbers."),
    ]
    return terms


def _step_word(steps_per_year: int) -> str:
    return {1: "year", 2: "half-year", 4: "quarter", 12: "month", 52: "week"}.get(
        steps_per_year, f"1/{steps_per_year} of a year")


def _end_date(ds: xr.Dataset) -> str:
    return str(np.datetime_as_string(ds.time.values[question_index(ds)], unit="D"))


def how_to_read(ds: xr.Dataset, config: Config | None) -> list[str]:
    """Paragraphs that explain the numbers, with the run's own values filled in.

    The last paragraph states the main results of the first scenario in words.
    """
    cur = ds.attrs["currency"]
    names = [str(s) for s in ds.scenario.values]
    v0 = {float(v) for v in ds.valuation.values}
    v0_text = f"V0 = {format_money(v0.pop(), cur)}" if len(v0) == 1 else "V0"
    d = {float(1 - c / v) for c, v in zip(ds.collapse_level.values, ds.valuation.values,
                                           strict=True)}
    fall = f"{d.pop():.0%} below V0" if len(d) == 1 else "the configured fall from V0"
    levels = {float(c) for c in ds.collapse_level.values}
    level = format_money(levels.pop(), cur) if len(levels) == 1 else "the collapse level"
    end = _end_date(ds)
    steps = int(ds.attrs.get("steps_per_year", 4))
    exit_text = "an exit value at the horizon"
    discount = "discounted"
    if config is not None:
        base = config.base
        valuation = base["valuation"]
        method = valuation["terminal_method"]
        method = getattr(method, "value", method)
        if method == "ev_sales":
            exit_text = (f"an exit at a median {valuation['exit_multiple_median']:g} times "
                         "sales")
        elif method == "ev_ebitda":
            exit_text = (f"an exit at a median {valuation['exit_multiple_median']:g} times "
                         "EBITDA")
        elif method == "value_driver":
            exit_text = ("a terminal value at the valuation horizon: a perpetuity of the "
                         "path's own after-tax operating profit, less the reinvestment its "
                         "growth needs")
        else:
            exit_text = "a Gordon growth terminal value"
        measure = base["simulation"]["measure"]
        if getattr(measure, "value", measure) == "real_world":
            discount = f"discounted at {100 * base['simulation']['discount_rate']:.3g}% a year"
        else:
            discount = (f"simulated with risk-neutral drifts and discounted at the risk-free "
                        f"rate, {100 * base['costs']['risk_free_rate']:.3g}% a year")
    valuation_end = str(np.datetime_as_string(ds.time.values[-1], unit="D"))
    paragraphs = [
        f"The company's future is simulated {ds.attrs['n_paths']:,} times per scenario (each "
        f"a path), from {ds.attrs['as_of']} to {valuation_end} in steps of a "
        f"{_step_word(steps)}; a scenario is one set of assumptions. Two questions are "
        "answered. What is the company worth against today's price? E[PV]/V0 is the mean "
        f"value to today's holders (cash flows {discount}, plus {exit_text}) as a share of "
        f"today's valuation {v0_text}, and the terminal value's share says how much of it "
        "rests on the years after the valuation horizon. How likely is the price to collapse? "
        f"P(collapse) is the share of paths on which the market value falls to {level} "
        f"({fall}) on some date up to {end}; P(bankrupt) the share on which the company runs "
        f"out of cash by then. Last, P(justified) is the share of futures in which today's "
        "price turns out cheap (PV at least V0). The answers can disagree: a price can be "
        "justified by the cash flows on a path whose market value collapsed on the way.",
        "Numbers in brackets are 95% intervals: they measure the noise of simulating a "
        "finite number of paths, not whether the assumptions are right. To see how much an "
        "assumption matters, compare scenarios: they share their random numbers, so their "
        "differences come from the assumptions alone, every one of which is listed under "
        "Assumptions with its value and unit.",
    ]
    first = ds.sel(scenario=names[0])
    share = float(first.required_share)
    required = format_money(float(first.required_revenue), cur)
    median = format_quantile(first, "terminal_revenue_quantile", 0.5, cur)
    facts = (f"In short: in {names[0]}, the company is worth on average "
             f"{format_percent(float(first.value_ratio))} of today's price, today's price turns "
             f"out cheap in {format_percent(float(first.p_justified))} of futures, and the "
             f"market value collapses on {format_percent(float(first.p_collapse))} of paths"
             + (f", the company's own value on "
                f"{format_percent(float(first.p_collapse_fundamental))} (today's price is "
                f"{float(first.price_to_value_0):,.0f} times the model's value). "
                if _value_model(first) else ". "))
    if math.isfinite(float(first.required_revenue)):
        facts += (f"To justify {v0_text.split(' = ')[-1]}, revenue at the valuation horizon "
                  "must reach "
                  f"{required}/year"
                  + (f" ({format_percent(share)} of the market-size table)" if math.isfinite(share)
                     else "")
                  + f"; the median path reaches {median}/year. ")
    if len(names) > 1:
        best = max(names, key=lambda s: float(ds.p_justified.sel(scenario=s)))
        worst = max(names, key=lambda s: float(ds.p_collapse.sel(scenario=s)))
        facts += (f"Across scenarios, P(justified) is highest in {best} "
                  f"({format_percent(float(ds.p_justified.sel(scenario=best)))}) and P(collapse) "
                  "in "
                  f"{worst} ({format_percent(float(ds.p_collapse.sel(scenario=worst)))}).")
    paragraphs.append(facts.strip())
    return paragraphs


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _scenario_options(ds: xr.Dataset, config: Config | None) -> str:
    names = [str(s) for s in ds.scenario.values]
    if config is not None and names == list(config.scenarios):
        return ""
    return "".join(f" --scenario {name}" for name in names)


def software_rows(attrs: dict) -> list[tuple[str, str]]:
    """Provenance rows: the versions a run was made with (from its attributes) and those
    making the report."""
    import matplotlib

    from simval._version import __version__

    return [("run made with", ", ".join(f"{k.removesuffix('_version')} {attrs[k]}" for k in (
                "simval_version", "numpy_version", "numba_version", "xarray_version",
                "python_version") if k in attrs)),
            ("report made with", f"simval {__version__}, matplotlib {matplotlib.__version__}")]


def shown_path(path: str | Path, out_dir: str | Path | None) -> str:
    """``path`` as a shared report names it: relative to the report's folder ``out_dir``
    (a page that travels must not carry the absolute paths of the machine that made it).

    Examples
    --------
    >>> shown_path("/home/me/results/zhipu/tornado.nc", "/home/me/results/zhipu")
    'tornado.nc'
    >>> shown_path("/home/me/results/zhipu/results.nc", "/home/me/reports")
    '../results/zhipu/results.nc'
    """
    import os

    if out_dir is None:
        return str(path)
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(out_dir).resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(path).name


def config_file_check(ds: xr.Dataset) -> str:
    """Whether the config file the run was made from (``attrs["config_source"]``, as named
    then) still holds the stored config text: ``""`` when it does, else what is different."""
    a = ds.attrs
    source = Path(str(a.get("config_source", "")))
    stored = str(a.get("config_sha256", ""))
    if not str(a.get("config_source", "")) or not source.is_file():
        return "not found from here; use the stored config"
    try:
        text = source.read_text(encoding="utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError):
        return "cannot be read; use the stored config"
    actual = hashlib.sha256(text.encode()).hexdigest()
    if actual == stored:
        return ""
    return (f"CHANGED since the run: the file's sha256 is now {actual}; it no longer holds the "
            "config of this run, use the stored config")


def run_date(source: str | Path | None) -> str:
    """When the run was made: the time its results file was written (UTC), which a run's
    Dataset does not carry (the same seed gives an identical Dataset, whenever it runs)."""
    import datetime as dt

    if source is None or not Path(source).exists():
        return "unknown (no results file)"
    stamp = dt.datetime.fromtimestamp(Path(source).stat().st_mtime, dt.UTC)
    return f"{stamp.isoformat(timespec='seconds')} (the results file was written)"


CONFIG_FILE = "config.toml"
"""The stored config text of a run, written beside its report: what the reproduce line runs."""


def provenance(ds: xr.Dataset, config: Config | None = None,
               source: str | Path | None = None,
               out_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """``(what, value)`` rows: how to reproduce the run and what made the report.

    Files are named relative to the report's folder ``out_dir`` when it is given, and the
    reproduce line runs :data:`CONFIG_FILE`, the stored config written beside the report, so
    that reproducing never depends on the original file (which may have changed since: the
    rows say so).
    """
    a: dict[str, Any] = ds.attrs
    text = a.get("config", "")
    stored = a.get("config_sha256", "")
    actual = hashlib.sha256(text.encode()).hexdigest() if isinstance(text, str) else ""
    check = "matches the stored config text" if stored == actual else (
        f"DOES NOT match the stored config text (sha256 {actual})")
    on_disk = config_file_check(ds)
    has_text = isinstance(text, str) and bool(text.strip())
    rows = [
        ("company", str(a.get("company", ""))),
        ("as of", str(a.get("as_of", ""))),
        ("run date", run_date(source)),
        ("config file", Path(str(a.get("config_source", ""))).name
         + (f" ({on_disk})" if on_disk else " (unchanged since the run)")),
        ("config sha256", f"{stored} ({check})"),
    ]
    if has_text and out_dir is not None:
        rows.append(("stored config", f"{CONFIG_FILE} beside this report"))
    if source is not None:
        rows += [("results file", shown_path(source, out_dir))]
        if Path(source).is_file():
            rows += [("results sha256", sha256_file(source))]
    rows += [
        ("seed", str(a.get("seed", ""))),
        ("paths per scenario", f"{int(a.get('n_paths', 0)):,}"),
        ("paths kept in full", f"{int(a.get('keep_paths', 0)):,}"),
        ("scenarios", ", ".join(str(s) for s in ds.scenario.values)),
        ("measure", str(a.get("measure", ""))),
        ("horizon", f"{float(a.get('horizon_years', float('nan'))):g} years, "
                    f"{a.get('steps_per_year', '')} steps per year"),
        ("antithetic variates", "yes" if a.get("antithetic") else "no"),
    ]
    if "precision_target" in a:
        rows.append(("precision target", f"95% half-width <= {a['precision_target']:g}: "
                     + ("met" if a.get("precision_reached") else
                        f"not met (cap {int(a.get('max_paths', 0)):,} paths)")))
    config_arg = (CONFIG_FILE if has_text and out_dir is not None
                  else str(a.get("config_source", "CONFIG")))
    rows += [
        ("random numbers", str(a.get("random_numbers", ""))),
        ("quantiles", str(a.get("quantile_method", ""))),
        *software_rows(a),
        ("reproduce", f"simval run {config_arg} --paths "
                      f"{int(a.get('n_paths', 0))} --seed {a.get('seed', '')} --keep-paths "
                      f"{int(a.get('keep_paths', 0))}"
                      + (" --antithetic" if a.get("antithetic") else "")
                      + _scenario_options(ds, config)),
    ]
    return rows
