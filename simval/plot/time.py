"""Figures over calendar time: quantile fans, collapse and bankruptcy curves, revenue mix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from simval.format import format_percent, short_money
from simval.plot import style as _style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["fan", "revenue_mix", "survival"]


def _quantiles(da: xr.DataArray) -> dict[float, np.ndarray]:
    """The 5, 25, 50, 75 and 95% quantiles of a (time, quantile) fan."""
    return {q: da.sel(quantile=q, method="nearest").values.astype(float)
            for q in (0.05, 0.25, 0.5, 0.75, 0.95)}


def fan(ds: xr.Dataset, variable: str = "market_value", *,
        scenario: str | Sequence[str] | None = None, ax: Axes | None = None,
        log: bool | None = None, references: bool = True,
        markers: Sequence[tuple[Any, float, str]] = (), legend: str | None = "auto",
        **style: Any) -> Axes:
    """The quantile fan of a series over time for one scenario.

    The light band holds the middle 90% of paths (5-95% quantiles), the dark band the middle
    half (25-75%), the line is the median; the quantiles are taken over all simulated paths at
    each date (paths after a bankruptcy count as 0). With ``references``, the market value
    fan shows today's valuation V0, the collapse level and the tracked threshold, and the
    revenue and market-share fans mark the required value at the horizon.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` or :func:`simval.open_results`.
    variable : str, default: "market_value"
        One of ``market_value``, ``total_revenue``, ``commercial_revenue``,
        ``contract_revenue``, ``market_share``, ``capacity``, ``cash``.
    scenario : str, optional
        The scenario (default: the first, ``base`` by convention).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    log : bool, optional
        Log scale for the values; default: on for market value and revenues, off for cash,
        market share and capacity. A band that reaches the bottom edge of a log axis includes
        zero.
    references : bool, default: True
        Draw the reference lines described above.
    markers : sequence of (date, value, label), optional
        Extra points to compare with the fan, e.g. a forecast:
        ``[("2030-06-30", 446e9, "article: 25% of a $250B market")]``; the date is anything
        :class:`numpy.datetime64` accepts, the value in the series' unit (a fraction for
        market share and capacity). Each is a labelled triangle.
    legend : {"auto", "inside", "outside"} or None, default: "auto"
        Where the legend goes: inside the axes where it covers least, outside to the right,
        or nowhere (None). "auto" is "outside" when there are ``markers``, else "inside".
    **style
        Passed to the median line (:meth:`matplotlib.axes.Axes.plot`), e.g. ``color``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import simval
    >>> ds = simval.simulate("configs/minimax_2025.toml", n_paths=4096, keep_paths=0)
    >>> ax = simval.plot.fan(ds, "market_value", scenario="base")
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:3]
    ['median', '25-75% of paths', '5-95% of paths']
    """
    series = _style.series_name(variable)
    name = _style.single_scenario(ds, scenario)
    ax = _style.new_axes(ax, (9.0, 4.8))
    if log is None:
        log = _style.series_log_default(series)
    cur = ds.attrs["currency"]
    color = style.pop("color", _style.scenario_colors(ds)[name])
    s = ds.sel(scenario=name)
    q = _quantiles(s[f"{series}_quantile"])
    t = ds.time.values
    what = _style.series_label(ds, series).split(" (")[0]
    ax.set_title(f"{what[0].upper()}{what[1:]}: {_style.short_label(name)}", loc="left")
    _style.date_axis(ax.xaxis)
    ax.set_xlim(t[0], t[-1])
    if not np.isfinite(q[0.5]).any():
        ax.set_ylabel(_style.series_label(ds, series))
        why = ("market size is off in this config, so there is no market share"
               if series == "market_share" else f"no {series.replace('_', ' ')} in these results")
        _style.note(ax, why)
        return ax
    refs = _references(ds, name, series) if references else []
    extra = [(np.datetime64(d, "ns"), float(v), str(label)) for d, v, label in markers]
    money = series not in ("market_share", "capacity")
    if log:
        lo, hi = _style.log_limits([q[0.05], q[0.95]] + [r[1] for r in refs]
                                   + [m[1] for m in extra], fallback=float(s.valuation))
        floor = lo / 10  # below the axis: a band down to the bottom edge includes 0
        q = {k: np.where(v > 0, v, floor) for k, v in q.items()}
    ax.fill_between(t, q[0.05], q[0.95], color=color, alpha=0.18, linewidth=0,
                    label="5-95% of paths")
    ax.fill_between(t, q[0.25], q[0.75], color=color, alpha=0.38, linewidth=0,
                    label="25-75% of paths")
    ax.plot(t, q[0.5], color=color, linewidth=2.2, label="median", **style)
    for kind, value, label in refs:
        if kind == "required":
            ax.plot([t[-1]], [value], label=label, clip_on=False, zorder=6,
                    **_style.REFERENCE["required"])
            ax.annotate(label.split(": ")[-1], (t[-1], value), xytext=(-9, 0),
                        textcoords="offset points", ha="right", va="center",
                        fontsize="small", zorder=7,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                              "edgecolor": "none", "alpha": 0.8})
        else:
            ax.axhline(value, label=label, zorder=5, **_style.REFERENCE[kind])
    for i, (date, value, label) in enumerate(extra):
        ax.plot([date], [value], marker="v", markersize=9, color="black",
                markerfacecolor="white" if i % 2 else "black", linestyle="none", label=label,
                clip_on=False, zorder=6)
    if extra:
        dates = np.array([m[0] for m in extra])
        ax.set_xlim(min(t[0], dates.min()), max(t[-1], dates.max()))
    if log:
        ax.set_yscale("log")
        ax.set_ylim(lo, hi)
    else:
        tops = [r[1] for r in refs] + [m[1] for m in extra]
        if tops:  # room above a reference or marker near the top
            ax.set_ylim(top=max(ax.get_ylim()[1], 1.1 * max(tops)))
        if series in ("market_share", "capacity"):
            ax.set_ylim(bottom=0.0)
    if money:
        _style.money_axis(ax.yaxis, cur, log=log)
    else:
        _style.percent_axis(ax.yaxis)
    if series == "cash":
        ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.set_ylabel(_style.series_label(ds, series, log=log))
    ax.grid(color="0.92")
    ax.set_axisbelow(True)
    if legend == "auto":
        legend = "outside" if extra else "inside"
    if legend not in ("inside", "outside", None):
        raise ValueError(f"legend must be 'auto', 'inside', 'outside' or None; got {legend!r}")
    if legend is not None:
        handles, labels = ax.get_legend_handles_labels()
        order = [labels.index(x) for x in ("median", "25-75% of paths", "5-95% of paths")]
        order += [i for i in range(len(labels)) if i not in order]
        where = ({"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "frameon": False}
                 if legend == "outside" else {"loc": "best", "framealpha": 0.9})
        ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize="small",
                  **where)
    return ax


def _references(ds: xr.Dataset, name: str, series: str) -> list[tuple[str, float, str]]:
    """(kind, value, legend label) of the reference lines of a fan."""
    s = ds.sel(scenario=name)
    cur = ds.attrs["currency"]
    out: list[tuple[str, float, str]] = []
    if series == "market_value":
        v0 = float(s.valuation)
        collapse = float(s.collapse_level)
        out.append(("valuation", v0, f"V0 = {short_money(v0, cur)} (today's valuation)"))
        out.append(("collapse", collapse,
                    f"collapse level {short_money(collapse, cur)} "
                    f"(-{1 - collapse / v0:.0%})"))
        if "threshold" in s and np.isfinite(float(s.threshold)):
            b = float(s.threshold)
            out.append(("threshold", b, f"threshold B = {short_money(b, cur)}"))
    elif series == "total_revenue" and np.isfinite(float(s.required_revenue)):
        r = float(s.required_revenue)
        out.append(("required", r, f"required at T: {short_money(r, cur)}/year"))
    elif series == "market_share" and np.isfinite(float(s.required_share)):
        r = float(s.required_share)
        out.append(("required", r, f"required at T: {format_percent(float(r))}"))
    return out


_EVENTS = {
    "collapse": ("p_collapsed_by", "-", "collapsed (V ≤ {level})"),
    "bankrupt": ("p_bankrupt_by", "--", "bankrupt"),
    "above_threshold": ("p_above_threshold", ":", "V ≥ {threshold} at the date"),
}


def survival(ds: xr.Dataset, *, scenario: str | Sequence[str] | None = None,
             ax: Axes | None = None, events: Sequence[str] | None = None,
             intervals: bool = True, **style: Any) -> Axes:
    """Probability that the company has collapsed, or gone bankrupt, by each date.

    Cumulative curves (1 minus the survival function) from 0 at the as-of date; at the horizon
    they reach P(collapse) and P(bankrupt) of the headline table. Solid lines: collapse (the
    market value fell to the collapse level on some date so far); dashed: bankruptcy; dotted,
    for runs that track a threshold B: P(V_t >= B), the share of paths whose market value is
    at or above B at that date (not cumulative). The shaded bands are pointwise 95% intervals.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` or :func:`simval.open_results`.
    scenario : str or sequence of str, optional
        The scenarios to show (default: all).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    events : sequence of str, optional
        Curves to draw, any of ``"collapse"``, ``"bankrupt"`` and ``"above_threshold"``.
        Default: all three, the last only when the run tracks a threshold.
    intervals : bool, default: True
        Shade the pointwise 95% intervals.
    **style
        Passed to every curve (:meth:`matplotlib.axes.Axes.plot`), e.g. ``linewidth``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import simval
    >>> ds = simval.simulate("configs/minimax_2025.toml", n_paths=4096, keep_paths=0)
    >>> ax = simval.plot.survival(ds)
    >>> line = ax.get_lines()[0]  # base, collapse
    >>> float(line.get_ydata()[-1]) == float(ds.p_collapse.sel(scenario="base"))
    True
    """
    names = _style.select_scenarios(ds, scenario)
    if events is None:
        events = ["collapse", "bankrupt"]
        if "p_above_threshold" in ds and np.isfinite(
                ds.p_above_threshold.sel(scenario=names).values).any():
            events.append("above_threshold")
    events = list(events)
    if not events:
        raise ValueError("events must name at least one curve")
    for e in events:
        if e not in _EVENTS:
            raise ValueError(f"unknown event {e!r}; choose from " + ", ".join(_EVENTS))
        if e == "above_threshold" and "p_above_threshold" not in ds:
            raise ValueError("these results track no threshold (market.threshold), so there "
                             "is no above_threshold curve")
    ax = _style.new_axes(ax, (9.0, 4.8))
    cur = ds.attrs["currency"]
    colors = _style.scenario_colors(ds)
    t = ds.time.values
    for name in names:
        s = ds.sel(scenario=name)
        for e in events:
            var, dash, _ = _EVENTS[e]
            dash = dash if len(events) > 1 else "-"
            y = s[var].values.astype(float)
            if not np.isfinite(y).any():
                continue
            line_style = {"color": colors[name], "linestyle": dash, "linewidth": 1.8, **style}
            ax.plot(t, y, label=f"{name}: {e}", **line_style)
            if intervals:
                ax.fill_between(t, s[f"{var}_low"].values, s[f"{var}_high"].values,
                                color=line_style["color"], alpha=0.13, linewidth=0)
    ax.set_xlim(t[0], t[-1])
    ax.set_ylim(-0.01, 1.01)
    _style.date_axis(ax.xaxis)
    _style.percent_axis(ax.yaxis, full=True)
    ax.set_ylabel("probability, by date (% of paths)")
    what = {"collapse": "collapse", "bankrupt": "bankruptcy",
            "above_threshold": "value above the threshold"}
    title = " and ".join(", ".join(what[e] for e in events).rsplit(", ", 1))
    ax.set_title(f"{title[:1].upper()}{title[1:]} by date (95% pointwise intervals)",
                 loc="left")
    ax.grid(color="0.92")
    ax.set_axisbelow(True)
    from matplotlib.lines import Line2D

    levels = {float(v) for v in ds.collapse_level.sel(scenario=names).values}
    level = short_money(levels.pop(), cur) if len(levels) == 1 else "(1 - d) V0"
    handles = _style.scenario_handles(names, colors)
    thresholds = ds.threshold.sel(scenario=names).values if "threshold" in ds else []
    thresholds = {float(b) for b in thresholds if np.isfinite(b)}
    threshold = short_money(thresholds.pop(), cur) if len(thresholds) == 1 else "B"
    if len(events) > 1:
        handles += [Line2D([], [], color="0.3", linestyle=_EVENTS[e][1], linewidth=1.8,
                           label=_EVENTS[e][2].format(level=level, threshold=threshold))
                    for e in events]
    else:
        ax.set_ylabel({"collapse": "P(collapsed by the date)", "bankrupt":
                       "P(bankrupt by the date)", "above_threshold":
                       f"P(V ≥ {threshold} at the date)"}[events[0]])
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              fontsize="small")
    return ax


def revenue_mix(ds: xr.Dataset, *, scenario: str | Sequence[str] | None = None,
                ax: Axes | None = None, **style: Any) -> Axes:
    """Median revenue by source over time for one scenario: total, commercial, each named
    contract and the expansion programme.

    The band is the 25-75% range of total revenue. Each line is a median over paths on its
    own, so the medians of the sources need not add up to the median total. Sources whose
    median is zero throughout (a contract lost early on most paths) are drawn too, at zero.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` or :func:`simval.open_results`.
    scenario : str, optional
        The scenario (default: the first).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    **style
        Passed to the three lines (:meth:`matplotlib.axes.Axes.plot`), e.g. ``linewidth``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import simval
    >>> ds = simval.simulate("configs/minimax_2025.toml", n_paths=4096, keep_paths=0)
    >>> ax = simval.plot.revenue_mix(ds, scenario="base")
    >>> [line.get_label() for line in ax.get_lines()][:3]
    ['total (median)', 'commercial (median)', 'all contracts (median)']
    """
    name = _style.single_scenario(ds, scenario)
    ax = _style.new_axes(ax, (9.0, 4.8))
    cur = ds.attrs["currency"]
    color = style.pop("color", _style.scenario_colors(ds)[name])
    s = ds.sel(scenario=name)
    t = ds.time.values
    total = _quantiles(s.total_revenue_quantile)
    ax.fill_between(t, total[0.25], total[0.75], color=color, alpha=0.2, linewidth=0,
                    label="total, 25-75% of paths")
    for var, label, dash, width in (("total_revenue", "total (median)", "-", 2.4),
                                    ("commercial_revenue", "commercial (median)", "--", 1.6),
                                    ("contract_revenue", "all contracts (median)", ":", 2.0)):
        y = s[f"{var}_quantile"].sel(quantile=0.5, method="nearest").values
        ax.plot(t, y, label=label, **{"color": color, "linestyle": dash, "linewidth": width,
                                      **style})
    if "source_revenue_quantile" in s:  # each named contract and the expansion programme
        by_source = s.source_revenue_quantile.sel(quantile=0.5, method="nearest")
        palette = _style.source_colors(len(by_source.source))
        for colour, source in zip(palette, by_source.source.values, strict=True):
            y = by_source.sel(source=source).values
            if np.all(np.isnan(y)):  # a contract of another scenario
                continue
            label = ("expansion programme (median)" if source == "expansion"
                     else f"contract {source} (median)")
            ax.plot(t, y, label=label, color=colour, linewidth=1.2, linestyle="-.")
    ax.set_xlim(t[0], t[-1])
    ax.set_ylim(bottom=0.0)
    _style.date_axis(ax.xaxis)
    _style.money_axis(ax.yaxis, cur, log=False)
    ax.set_ylabel(f"revenue ({cur}/year)")
    ax.set_title(f"Revenue by source: {_style.short_label(name)}", loc="left")
    ax.grid(color="0.92")
    ax.set_axisbelow(True)
    ax.legend(fontsize="small", loc="upper left", framealpha=0.9)
    return ax
