"""The figures of a report, rendered to PNG without pyplot (no global state, no display)."""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from simval import plot
from simval.format import format_money, format_percent
from simval.plot import style as _style
from simval.results.summary import format_quantile

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ReportFigure", "as_scenarios", "panel_figures", "render", "report_figures"]

DPI = 110


@dataclasses.dataclass(frozen=True)
class ReportFigure:
    """One figure of a report."""

    name: str      # file stem, e.g. "02_value_distribution"
    title: str
    caption: str
    png: bytes


def render(figsize: tuple[float, float], draw: Callable[[Figure], None]) -> bytes:
    """PNG bytes of a new figure of ``figsize`` inches on which ``draw`` has drawn."""
    import matplotlib
    from matplotlib.figure import Figure

    # an installed CJK font backs up the default one glyph by glyph (a company named in
    # Chinese); Latin text is drawn as before
    cjk = _style.cjk_family()
    fonts = {"font.family": [*matplotlib.rcParams["font.sans-serif"][:1], cjk]} if cjk else {}
    with matplotlib.rc_context(fonts):
        fig = Figure(figsize=figsize, layout="constrained")
        draw(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def drawable(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with a company name that no installed font can draw left out of the figures'
    titles (the report says so in a note, :func:`simval.plot.style.text_font`)."""
    company = str(ds.attrs.get("company", ""))
    _, note = _style.text_font(company)
    if not note:
        return ds
    out = ds.copy()
    out.attrs = {**ds.attrs, "company": ""}
    return out


def full_names(names: list[str]) -> str:
    """A caption's sentence giving the full names that figure labels shorten; ``""`` if none
    is shortened."""
    long = [n for n in names if _style.short_label(n) != n]
    if not long:
        return ""
    return " Full names: " + "; ".join(f"{_style.short_label(n)} = {n}" for n in long) + "."


def _grid_shape(n: int) -> tuple[int, int]:
    cols = 1 if n == 1 else 2 if n in (2, 4) else 3
    return math.ceil(n / cols), cols


def _fan_grid(ds: xr.Dataset, series: str) -> Callable[[Figure], None]:
    """Small multiples of a fan, one panel per scenario, on one shared y axis."""
    names = [str(s) for s in ds.scenario.values]

    def draw(fig: Figure) -> None:
        rows, cols = _grid_shape(len(names))
        axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True)).ravel()
        limits = []
        for ax, name in zip(axes, names, strict=False):
            plot.fan(ds, series, scenario=name, ax=ax)
            limits.append(ax.get_ylim())
            ax.set_title(_style.short_label(name), loc="left", fontsize="medium")
            if ax is not axes[0] and ax.get_legend() is not None:
                ax.get_legend().remove()
            if ax.get_subplotspec().colspan.start != 0:
                ax.set_ylabel("")
        for ax in axes[len(names):]:
            ax.set_visible(False)
        lo, hi = min(lim[0] for lim in limits), max(lim[1] for lim in limits)
        axes[0].set_ylim(lo, hi)
        for ax in axes[:len(names)]:
            if series in ("market_share", "capacity"):
                _style.percent_axis(ax.yaxis)
            else:
                _style.money_axis(ax.yaxis, ds.attrs["currency"], log=ax.get_yscale() == "log")
            ax.tick_params(labelbottom=True)
        if axes[0].get_legend() is not None:
            for text in axes[0].get_legend().get_texts():
                text.set_fontsize("x-small")

    return draw


def _convergence_grid(ds: xr.Dataset) -> Callable[[Figure], None]:
    names = [str(s) for s in ds.scenario.values]

    def draw(fig: Figure) -> None:
        axes = np.atleast_2d(fig.subplots(len(names), 2, sharex=True))
        for row, name in zip(axes, names, strict=True):
            for ax, quantity in zip(row, ("p_justified", "p_collapse"), strict=True):
                plot.convergence(ds, quantity, scenario=name, ax=ax)
                what = "P(justified)" if quantity == "p_justified" else "P(collapse)"
                ax.set_title(f"{_style.short_label(name)}: {what}", loc="left",
                             fontsize="medium")
                ax.set_ylabel("")
                if ax is not axes[-1][0] and ax is not axes[-1][1]:
                    ax.set_xlabel("")

    return draw


def _survival(ds: xr.Dataset) -> Callable[[Figure], None]:
    """Collapse and bankruptcy; below, when the run tracks a threshold, P(V_t >= B)."""

    def draw(fig: Figure) -> None:
        if "p_above_threshold" not in ds:
            plot.survival(ds, ax=fig.subplots())
            return
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(1.15, 1.0))
        plot.survival(ds, ax=top, events=("collapse", "bankrupt"))
        plot.survival(ds, ax=bottom, events=("above_threshold",))
        bottom.set_title("Share of paths with the market value at or above the threshold, "
                         "by date", loc="left")
        top.tick_params(labelbottom=True)

    return draw


def report_figures(ds: xr.Dataset) -> list[ReportFigure]:
    """Render every figure of the report of ``ds``, in report order.

    Figures that have nothing to show are left out: the market share without a market size,
    the kept paths when none were kept, the convergence of a run of a single block.
    """
    cur = ds.attrs["currency"]
    ds = drawable(ds)
    names = [str(s) for s in ds.scenario.values]
    first = names[0]
    n = len(names)
    s0 = ds.sel(scenario=first)
    specs: list[tuple[str, str, str, tuple[float, float], Callable[[Figure], None]]] = []

    def single(f: Callable[..., object], **kwargs: object) -> Callable[[Figure], None]:
        def draw(fig: Figure) -> None:
            f(ds, ax=fig.subplots(), **kwargs)

        return draw

    specs.append((
        "scenario_comparison", "Headline probabilities by scenario",
        "Each marker is the share of simulated paths on which the event happens (filled "
        "circle: the valuation is justified; open square: the market value collapses), the "
        "bar its 95% interval; the numbers at the right are those of the headline table. The "
        "axis is linear near 0 and logarithmic above (as its label says), so that small "
        "probabilities stay apart from 0 and from each other.",
        (10.0, 1.9 + 0.55 * n), single(plot.scenario_comparison)))
    specs.append((
        "value_distribution", "Present value to today's holders against today's valuation",
        "Per scenario, the distribution of the present value PV on a log scale: the histogram "
        f"of the {ds.sizes.get('path', 0):,} kept paths only (the first of the run; the dark "
        "part at or right of the dashed line V0 is where the valuation is justified) and, "
        "under it, the quantiles of all paths (whisker 5-95%, box 25-75%, white tick the "
        "median). P(justified) at the right is that of all paths; with few kept paths the "
        "histogram can look different from it."
        if ds.sizes.get("path", 0) else
        "Per scenario, the quantiles of the present value PV over all paths on a log scale "
        "(whisker 5-95%, box 25-75%, white tick the median); the dashed line is today's "
        "valuation V0. P(justified) is at the right. (No paths were kept in full, so there is "
        "no histogram.)",
        (10.0, 1.9 + 0.95 * n), single(plot.value_distribution)))
    specs.append((
        "survival", "Collapse and bankruptcy over time",
        "Share of paths that have collapsed (solid) or gone bankrupt (dashed) by each date, "
        "with pointwise 95% intervals; at the horizon the curves reach P(collapse) and "
        "P(bankrupt) of the headline table."
        + (" Below: the share of paths whose market value is at or above the threshold B at "
           "each date (not cumulative: a path can fall below B and recover)."
           if "p_above_threshold" in ds else ""),
        (10.0, 8.6) if "p_above_threshold" in ds else (10.0, 4.8), _survival(ds)))
    rows, _ = _grid_shape(n)
    specs.append((
        "market_value_fans", "Market value over time, every scenario",
        "Quantile fans of the market value V over all paths (light: 5-95%, dark: 25-75%, "
        "line: median) on one shared log axis, with today's valuation, the collapse level "
        "and the tracked threshold. A band that reaches the bottom edge includes zero "
        "(bankrupt paths).",
        (10.0, 0.6 + 3.0 * rows) if n > 1 else (10.0, 4.8), _fan_grid(ds, "market_value")))
    required = float(s0.required_revenue)
    median = format_quantile(s0, "terminal_revenue_quantile", 0.5, cur)
    specs.append((
        "total_revenue_fans", "Total revenue over time, every scenario",
        "Quantile fans of total revenue (annual run-rate) on one shared log axis; the star "
        "is the revenue at the horizon that would justify today's valuation at the median "
        f"exit multiple ({first}: {format_money(required, cur)}/year against a median of "
        f"{median}/year).",
        (10.0, 0.6 + 3.0 * rows) if n > 1 else (10.0, 4.8), _fan_grid(ds, "total_revenue")))
    specs.append((
        "revenue_mix", f"Revenue by source, {first}",
        "Median total, commercial and contract revenue; the band is the 25-75% range of the "
        "total. Each line is a median on its own, so the parts need not add up to the total.",
        (10.0, 4.5), single(plot.revenue_mix, scenario=first)))
    if np.isfinite(s0.market_share_quantile.values).any():
        share = float(s0.required_share)
        specs.append((
            "market_share", f"Share of the addressable market, {first}",
            "Quantile fan of total revenue over the addressable market TAM(t)"
            + (f"; the star is the share required at the horizon ({format_percent(share)})"
               if math.isfinite(share) else "") + ".",
            (10.0, 4.2), single(plot.fan, variable="market_share", scenario=first)))
    if ds.sizes.get("path", 0) > 0:
        specs.append((
            "sample_paths", f"Simulated paths of the market value, {first}",
            "Ten of the kept paths (the first of the run: an unselected sample) against the "
            "median of all paths; a triangle marks the first date a path falls to the "
            "collapse level, a cross on the bottom edge a bankruptcy.",
            (10.0, 4.8), single(plot.sample_paths, scenario=first)))
    if ds.sizes.get("block", 0) > 1:
        specs.append((
            "convergence", "Convergence of the estimates",
            "Running estimate of P(justified) and P(collapse) after each block of 4096 paths, "
            "with its 95% interval; each panel has its own scale. Flat curves with narrow bands "
            "mean enough paths were simulated.",
            (10.0, 0.5 + 1.9 * n), _convergence_grid(ds)))
    names_note = full_names(names)
    return [ReportFigure(f"{i:02d}_{name}", title, caption + names_note, render(size, draw))
            for i, (name, title, caption, size, draw) in enumerate(specs, start=1)]


def as_scenarios(ds: xr.Dataset) -> xr.Dataset:
    """A panel Dataset with ``company`` renamed ``scenario``, so that the figures of a run
    draw the companies side by side (each in its panel-order colour)."""
    panel_vars = [v for v in ds.data_vars if v.startswith(("p_stays_above", "p_all_stay_above"))]
    out = ds.drop_vars(panel_vars).rename({"company": "scenario"})
    out.attrs = {k: v for k, v in ds.attrs.items() if k in ("currency", "as_of",
                                                             "steps_per_year", "n_paths")}
    return out


def _retitled(f: Callable[..., Axes], ds: xr.Dataset, title: str) -> Callable[[Figure], None]:
    def draw(fig: Figure) -> None:
        f(ds, ax=fig.subplots()).set_title(title, loc="left")

    return draw


def panel_figures(ds: xr.Dataset) -> list[ReportFigure]:
    """Render every figure of the report of a company panel, in report order: staying above
    the line (when the panel has one), the headline probabilities, the value distributions and
    the market-value fans of the companies side by side."""
    cur = ds.attrs["currency"]
    runs = as_scenarios(ds)
    n = runs.sizes["scenario"]
    names_note = full_names([str(c) for c in runs.scenario.values])
    specs: list[tuple[str, str, str, tuple[float, float], Callable[[Figure], None]]] = []
    if "p_stays_above" in ds:
        line = format_money(float(ds.attrs["panel_threshold"]), cur)
        specs.append((
            "stays_above", f"Staying above {line}: each company and all of them",
            f"For each company (coloured lines), the share of paths on which its market value "
            f"has not fallen below {line} at any date so far, with pointwise 95% intervals; in "
            "black the share on which no company has, and dashed the product of the companies' "
            "own shares, which is what that joint share would be if the companies were "
            "independent. The gap between the black and the dashed line is the effect of the "
            "macro draws they share: a slowdown or an export-control round hits all of them on "
            "the same paths.",
            (10.0, 5.2), lambda fig: plot.stays_above(ds, ax=fig.subplots())))
    specs.append((
        "company_comparison", "Headline probabilities by company",
        "Per company, the share of paths on which its valuation is justified (filled circle) "
        "and on which its market value collapses (open square), each with its 95% interval; "
        "the numbers at the right are those of the headline table.",
        (10.0, 1.9 + 0.55 * n),
        _retitled(plot.scenario_comparison, runs, "Headline probabilities by company")))
    specs.append((
        "value_distribution", "Present value to today's holders against each company's valuation",
        "Per company, the distribution of the present value PV on a log scale against its own "
        "valuation V0 (dashed): "
        + ("the histogram of the kept paths only (dark where PV >= V0) over the quantiles of "
           "all paths" if ds.sizes.get("path", 0) else "the quantiles of all paths")
        + " (whisker 5-95%, box 25-75%, white tick the median). P(justified) of all paths is "
          "at the right.",
        (10.0, 1.9 + 0.95 * n),
        _retitled(plot.value_distribution, runs,
                  "Value to today's holders (PV) against each company's valuation")))
    rows, _ = _grid_shape(n)
    specs.append((
        "market_value_fans", "Market value over time, every company",
        "Quantile fans of each company's market value (light: 5-95%, dark: 25-75%, line: "
        "median) on one shared log axis, with its valuation, its collapse level and the "
        "panel's line. A band that reaches the bottom edge includes zero (bankrupt paths).",
        (10.0, 0.6 + 3.0 * rows), _fan_grid(runs, "market_value")))
    return [ReportFigure(f"{i:02d}_{name}", title, caption + names_note, render(size, draw))
            for i, (name, title, caption, size, draw) in enumerate(specs, start=1)]
