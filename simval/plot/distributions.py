"""Distributions at the horizon: the present value against today's valuation, and the headline
probabilities of every scenario side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from simval.format import format_probability, short_money
from simval.plot import style as _style
from simval.results.dataset import question_index

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["scenario_comparison", "value_distribution"]

_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
_BINS = 40


def _shared(values: np.ndarray) -> float | None:
    """The common value of all scenarios, or None if they differ."""
    return float(values[0]) if bool(np.all(values == values[0])) else None


def value_distribution(ds: xr.Dataset, *, scenario: str | Sequence[str] | None = None,
                       ax: Axes | None = None, kind: str = "density", log: bool | None = None,
                       **style: Any) -> Axes:
    """The distribution of the present value PV of each scenario against today's valuation.

    PV is the value to today's holders of the simulated cash flows and exit (the fundamental
    value); the valuation is justified on a path where PV >= V0. Both kinds draw today's
    valuation V0 (dashed) as a vertical line and give P(justified) = P(PV >= V0) with its 95%
    interval. (The collapse level is a level of the market value, not of PV: it is not drawn
    here.)

    ``kind="density"`` gives one row per scenario: a histogram of the PV of the kept paths
    (the same scale in every row), its part at or above V0 shaded dark (the mass that
    justifies the valuation), and under it the quantiles of all simulated paths (whisker
    5-95%, box 25-75%, white tick the median). P(justified) of all paths is written at the
    right. ``kind="ecdf"`` draws, on one axes, the empirical distribution function of the
    kept paths' PV per scenario, the quantiles of all paths as dots with their 95% intervals,
    and 1 - P(justified) at V0 as a diamond.

    The kept paths are the first paths of the run (an unselected sample), and the figure's
    legend says that its histogram shows them only, while the quantiles and P(justified) are
    of all paths; with none kept (``keep_paths = 0``) only the quantiles of all paths are
    drawn. A value of 0 (bankrupt or
    worthless) cannot sit on a log axis: it is drawn as a triangle on the left edge.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` or :func:`simval.open_results`.
    scenario : str or sequence of str, optional
        The scenarios to show, top to bottom (default: all, in config order).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    kind : {"density", "ecdf"}, default: "density"
    log : bool, optional
        Log scale for PV. Default: log when the positive 5-95% quantiles of the scenarios
        shown span more than a factor of 30.
    **style
        Passed to the histograms (:meth:`matplotlib.axes.Axes.stairs`) or the ECDF lines
        (:meth:`matplotlib.axes.Axes.step`), e.g. ``alpha``, ``linewidth``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import simval
    >>> ds = simval.simulate("configs/minimax_2025.toml", n_paths=4096, keep_paths=200)
    >>> ax = simval.plot.value_distribution(ds)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['base', 'entertainment_churn', 'chip_tightening']
    >>> ax = simval.plot.value_distribution(ds, kind="ecdf", scenario="base", log=True)
    >>> ax.get_xscale(), ax.get_xlabel()
    ('log', "present value to today's holders, PV (CNY, log scale)")
    """
    if kind not in ("density", "ecdf"):
        raise ValueError(f"kind must be 'density' or 'ecdf'; got {kind!r}")
    names = _style.select_scenarios(ds, scenario)
    sub = ds.sel(scenario=names)
    q = sub.pv_quantile.sel(quantile=list(_LEVELS), method="nearest").values.astype(float)
    v0 = sub.valuation.values.astype(float)
    kept = sub.path_pv.values.astype(float) if "path_pv" in sub else np.empty((len(names), 0))
    if log is None:
        log = _spread_calls_for_log(q)
    if log:
        lo, hi = _style.log_limits([q, v0, kept], fallback=float(np.nanmax(v0)), pad=1.8)
        # twelve orders of magnitude below the price is worthless for any reader: values
        # below it join the "at 0" marks instead of stretching the axis
        lo = max(lo, float(np.nanmin(v0)) * 1e-12)
    else:
        lo = 0.0
        hi = float(np.nanmax(np.concatenate([q.ravel(), v0, kept.ravel()]))) * 1.06
    if kind == "density":
        ax = _style.new_axes(ax, (9.0, 1.7 + 0.95 * len(names)))
        _density(ax, ds, names, q, kept, v0, lo, hi, log, style)
    else:
        ax = _style.new_axes(ax, (9.0, 5.0))
        _ecdf(ax, ds, names, q, kept, v0, lo, hi, log, style)
    cur = ds.attrs["currency"]
    same_v0 = _shared(v0)
    if same_v0 is not None:
        ax.axvline(same_v0, zorder=7, **_style.REFERENCE["valuation"])
    ax.set_xlim(lo, hi)
    if log:
        ax.set_xscale("log")
    _style.money_axis(ax.xaxis, cur, log=log)
    ax.set_xlabel(f"present value to today's holders, PV ({cur}{', log scale' if log else ''})")
    company = ds.attrs.get("company", "")
    company = _style.short_label(company, int(1.5 * _style.LABEL_WIDTH))
    ax.set_title(f"{company + ': ' if company else ''}value to today's holders (PV) against "
                 "today's valuation", loc="left")
    ax.grid(axis="x", which="major", color="0.9", zorder=0)
    ax.set_axisbelow(True)
    return ax


def _spread_calls_for_log(q: np.ndarray) -> bool:
    """Log scale when the positive quantiles of all scenarios together span more than a
    factor of 30 (zeros sit at 0 on a linear axis and do not call for a log one)."""
    positive = q[np.isfinite(q) & (q > 0)]
    return bool(positive.size and positive.max() / positive.min() > 30)


def _reference_handles(ds: xr.Dataset, names: list[str]) -> list[Any]:
    from matplotlib.lines import Line2D

    cur = ds.attrs["currency"]
    sub = ds.sel(scenario=names)
    v0 = _shared(sub.valuation.values)
    v0_label = (f"V0 = {short_money(v0, cur)} (today's valuation)" if v0 is not None
                else "V0 (today's valuation)")
    return [Line2D([], [], label=v0_label, **_style.REFERENCE["valuation"])]


def _edges(lo: float, hi: float, v0: float, log: bool) -> np.ndarray:
    """About ``_BINS`` bin edges over [lo, hi] with V0 one of them (so the shaded mass is
    exactly the paths with PV >= V0)."""
    f, inv = (np.log10, lambda x: 10.0**x) if log else (lambda x: x, lambda x: x)
    a, b = f(lo), f(hi)
    if not lo < v0 < hi:
        return inv(np.linspace(a, b, _BINS + 1))
    c = f(v0)
    width = (b - a) / _BINS
    left = inv(np.linspace(a, c, max(int(round((c - a) / width)), 1) + 1))
    right = inv(np.linspace(c, b, max(int(round((b - c) / width)), 1) + 1))
    left[-1] = v0  # exactly, not 10**log10(v0)
    return np.concatenate([left, right[1:]])


def _density(ax: Axes, ds: xr.Dataset, names: list[str], q: np.ndarray, kept: np.ndarray,
             v0: np.ndarray, lo: float, hi: float, log: bool, style: dict[str, Any]) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colors = _style.scenario_colors(ds)
    n = len(names)
    has_kept = kept.shape[1] > 0
    rows = np.arange(n)[::-1].astype(float)  # first scenario at the top
    hist_height = 0.72
    strip = (-0.14, 0.16) if has_kept else (0.25, 0.45)  # (centre offset, height)
    histograms = []
    if has_kept:
        for i in range(n):
            edges = _edges(lo, hi, v0[i], log)
            values = kept[i][np.isfinite(kept[i])]
            counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]),
                                     bins=edges) if values.size else (np.zeros(len(edges) - 1),
                                                                      edges)
            if log:  # values at or below the left edge (zeros) are counted apart
                counts[0] -= int(np.sum(values <= edges[0]))
            histograms.append((edges, counts / max(values.size, 1),
                               float(np.mean(values <= 0)) if values.size else 0.0))
        top = max((h.max() for _, h, _ in histograms), default=0.0) or 1.0
    any_zero = False
    for i, (name, y) in enumerate(zip(names, rows, strict=True)):
        c = colors[name]
        if has_kept:
            edges, share, zero_share = histograms[i]
            heights = y + share / top * hist_height
            ax.stairs(heights, edges, baseline=y, fill=True, color=c,
                      **{"alpha": 0.35, **style})
            justified = np.where(edges[:-1] >= v0[i], heights, y)
            ax.stairs(justified, edges, baseline=y, fill=True, color=c,
                      **{"alpha": 0.9, **style})
            ax.hlines(y, lo, hi, color="0.75", linewidth=0.6)
            if zero_share > 0 and log:
                any_zero = True
                ax.plot([lo], [y + 0.18], marker="<", markersize=7, color=c, clip_on=False)
                ax.annotate(f"{zero_share:.0%} of kept paths at 0", (lo, y + 0.18),
                            xytext=(7, 0), textcoords="offset points", va="center",
                            fontsize="x-small", color="0.25")
        qs = q[i]
        floor = lo if log else 0.0
        shown = np.where(qs > floor, qs, floor)
        centre, height = y + strip[0], strip[1]
        ax.hlines(centre, shown[0], shown[4], color=c, linewidth=1.4, zorder=3)
        ax.barh(centre, shown[3] - shown[1], left=shown[1], height=height, color=c,
                edgecolor="0.2", linewidth=0.6, alpha=0.85, zorder=3)
        ax.vlines(shown[2], centre - height / 2, centre + height / 2, color="white",
                  linewidth=2.0, zorder=4)
        if log and (qs <= 0).any():
            any_zero = True
            ax.plot([floor], [centre], marker="<", markersize=7, color=c, clip_on=False,
                    zorder=5)
        if _shared(v0) is None:
            ax.vlines(v0[i], y - 0.3, y + 0.85, zorder=7, **_style.REFERENCE["valuation"])
        s = ds.sel(scenario=name)
        ax.annotate(f"P(justified) {format_probability(s, 'p_justified')}", (1.0, y + 0.3),
                    xycoords=("axes fraction", "data"), xytext=(6, 0),
                    textcoords="offset points", ha="left", va="center", fontsize="small")
    ax.set_yticks(rows + 0.25, [_style.short_label(name) for name in names])
    ax.tick_params(axis="y", length=0, pad=12)
    ax.set_ylim(-0.4, n - 1 + 0.95)
    grey = "0.45"
    handles = []
    n_all = int(ds.attrs.get("n_paths", 0))
    every = f"all {n_all:,} paths" if n_all else "all paths"
    if has_kept:
        handles += [Patch(facecolor=grey, alpha=0.35,
                          label=f"histogram: the {kept.shape[1]:,} kept paths only"),
                    Patch(facecolor=grey, alpha=0.9, label="of which PV ≥ V0 (justified)")]
    handles += [Line2D([], [], color=grey, linewidth=1.4, label=f"{every}: 5-95%"),
                Patch(facecolor=grey, edgecolor="0.2", alpha=0.85, label="25-75%, white: median")]
    if has_kept:
        handles.append(Line2D([], [], linestyle="none",
                              label=f"P(justified) at the right: {every}"))
    handles += _reference_handles(ds, names)
    if any_zero:
        handles.append(Line2D([], [], color=grey, marker="<", linestyle="none",
                              label="at 0 (bankrupt or worthless)"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3,
              frameon=False, fontsize="small")


def _ecdf(ax: Axes, ds: xr.Dataset, names: list[str], q: np.ndarray, kept: np.ndarray,
          v0: np.ndarray, lo: float, hi: float, log: bool, style: dict[str, Any]) -> None:
    from matplotlib.lines import Line2D

    colors = _style.scenario_colors(ds)
    floor = lo if log else 0.0
    has_kept = kept.shape[1] > 0
    for i, name in enumerate(names):
        c = colors[name]
        s = ds.sel(scenario=name)
        if has_kept:
            values = np.sort(kept[i][np.isfinite(kept[i])])
            if values.size:
                ranks = np.arange(1, values.size + 1) / values.size
                x = np.concatenate([[floor], np.where(values > floor, values, floor), [hi]])
                y = np.concatenate([[0.0], ranks, [1.0]])
                ax.step(x, y, where="post", color=c, **{"linewidth": 1.5, "alpha": 0.9,
                                                       **style})
        qs = q[i]
        low = s.pv_quantile_low.sel(quantile=list(_LEVELS), method="nearest").values
        high = s.pv_quantile_high.sel(quantile=list(_LEVELS), method="nearest").values
        shown = np.where(qs > floor, qs, floor)
        xerr = np.array([shown - np.clip(np.where(np.isfinite(low), low, floor), floor, None),
                         np.clip(np.where(np.isfinite(high), high, hi), None, hi) - shown])
        ax.errorbar(shown, _LEVELS, xerr=np.maximum(xerr, 0.0), fmt="o", color=c,
                    markersize=5, capsize=2, linestyle=":" if not has_kept else "none",
                    zorder=5)
        p, p_low, p_high = (float(s[k]) for k in ("p_justified", "p_justified_low",
                                                   "p_justified_high"))
        ax.errorbar([v0[i]], [1 - p], yerr=[[p_high - p], [p - p_low]], fmt="D", color=c,
                    markeredgecolor="black", markersize=6, capsize=3, zorder=6)
        if len(names) == 1:
            ax.annotate(f"P(justified) {format_probability(s, 'p_justified')}", (v0[i], 1 - p),
                        xytext=(8, -14), textcoords="offset points", fontsize="small")
    ax.set_ylim(-0.02, 1.02)
    _style.percent_axis(ax.yaxis, full=True)
    ax.set_ylabel("share of paths with PV ≤ x")
    grey = "0.35"
    handles = _style.scenario_handles(names, colors)
    if has_kept:
        handles.append(Line2D([], [], color=grey, label=f"ECDF of the {kept.shape[1]:,} kept "
                                                           "paths"))
    handles += [Line2D([], [], color=grey, marker="o", linestyle=":" if not has_kept else "none",
                       label="quantiles of all paths (95% interval)"),
                Line2D([], [], color=grey, marker="D", markeredgecolor="black",
                       linestyle="none", label="1 - P(justified) at V0")]
    handles += _reference_handles(ds, names)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              fontsize="small")


def _probability_scale(ax: Axes, ds: xr.Dataset, metrics: Sequence[str]) -> float:
    """A symmetric-log probability axis from 0 to 1: linear up to a threshold at or below the
    smallest positive value shown (at least 0.01%), logarithmic above it, so that 0.2% and 1%
    do not sit on top of 0 as on a linear axis; returns the threshold."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    values = np.concatenate([np.ravel(ds[f"{m}{suffix}"].isel(time=question_index(ds)).values
                                      if m == "p_above_threshold"
                                      else ds[f"{m}{suffix}"].values)
                             for m in metrics for suffix in ("", "_low", "_high")])
    positive = values[np.isfinite(values) & (values > 0)]
    smallest = float(positive.min()) if positive.size else 1e-3
    linear = min(1e-3, 10.0 ** math.floor(math.log10(max(smallest, 1e-4))))
    ax.set_xscale("symlog", linthresh=linear, linscale=0.6)
    ax.set_xlim(-0.25 * linear, 1.05)
    ticks = [0.0] + [10.0 ** k for k in range(round(math.log10(linear)), 1)]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _percent_tick(x)))
    return linear


def _percent_tick(x: float) -> str:
    """``0%``, ``0.01%``, ``0.1%``, ``1%``, ``10%``, ``100%``."""
    return "0%" if x == 0 else f"{100 * x:.{max(0, -round(math.log10(x)) - 2)}f}%"


_METRICS = {
    "p_justified": ("P(justified: PV ≥ V0)", "o"),
    "p_collapse": ("P(collapse: V ≤ {collapse} by T)", "s"),
    "p_bankrupt": ("P(bankrupt by T)", "^"),
    "p_above_threshold": ("P(V_T ≥ {threshold})", "D"),
}


def scenario_comparison(ds: xr.Dataset, *, scenario: str | Sequence[str] | None = None,
                        ax: Axes | None = None,
                        metrics: Sequence[str] = ("p_justified", "p_collapse"),
                        **style: Any) -> Axes:
    """Forest plot of the headline probabilities of every scenario, with 95% intervals.

    One row per scenario; each probability is a marker (its shape names the probability, its
    colour the scenario) with its 95% Clopper-Pearson interval as a bar, on a linear axis
    from 0 to 100%. The estimates and intervals are also written at the right, as printed by
    ``simval show``: a small probability is a marker near 0, so read its number.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` or :func:`simval.open_results`.
    scenario : str or sequence of str, optional
        The scenarios to compare, top to bottom (default: all).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    metrics : sequence of str, default: ("p_justified", "p_collapse")
        Any of ``"p_justified"``, ``"p_collapse"``, ``"p_bankrupt"`` and
        ``"p_above_threshold"`` (at the horizon T, for runs that track a threshold).
    **style
        Passed to the markers (:meth:`matplotlib.axes.Axes.errorbar`), e.g. ``markersize``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import simval
    >>> ds = simval.simulate("configs/minimax_2025.toml", n_paths=4096, keep_paths=0)
    >>> ax = simval.plot.scenario_comparison(ds)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['base', 'entertainment_churn', 'chip_tightening']
    """
    names = _style.select_scenarios(ds, scenario)
    metrics = list(metrics)
    for m in metrics:
        if m not in _METRICS:
            raise ValueError(f"unknown metric {m!r}; choose from " + ", ".join(_METRICS))
        if m == "p_above_threshold" and "p_above_threshold" not in ds:
            raise ValueError("these results track no threshold (market.threshold), so there "
                             "is no p_above_threshold")
    if not metrics:
        raise ValueError("metrics must name at least one probability")
    n, g = len(names), len(metrics)
    ax = _style.new_axes(ax, (10.0, 1.9 + 0.55 * n))
    cur = ds.attrs["currency"]
    colors = _style.scenario_colors(ds)
    rows = np.arange(n)[::-1].astype(float)
    offsets = (np.arange(g) - (g - 1) / 2) * min(0.22, 0.7 / g)
    labels = []
    for metric in metrics:
        label, _ = _METRICS[metric]
        if metric == "p_collapse":
            level = _shared(ds.collapse_level.sel(scenario=names).values)
            label = label.format(collapse=short_money(level, cur) if level is not None
                                 else "(1 - d) V0")
        elif metric == "p_above_threshold":
            b = ds.threshold.sel(scenario=names).values
            b = b[np.isfinite(b)]
            label = label.format(threshold=short_money(float(b[0]), cur)
                                 if b.size and np.all(b == b[0]) else "B")
        labels.append(label)
    for name, y in zip(names, rows, strict=True):
        s = ds.sel(scenario=name)
        for k, (metric, dy) in enumerate(zip(metrics, offsets, strict=True)):
            t = s.isel(time=question_index(ds)) if metric == "p_above_threshold" else s
            p, low, high = (float(t[f"{metric}{suffix}"]) for suffix in ("", "_low", "_high"))
            text = "n/a (no threshold)" if not math.isfinite(p) else format_probability(t, metric)
            ax.annotate(text, (1.0, y), xycoords=("axes fraction", "data"),
                        xytext=(12 + 150 * k, 0), textcoords="offset points", va="center",
                        fontsize="small", family="monospace")
            if not math.isfinite(p):
                continue
            marker = _METRICS[metric][1]
            ax.errorbar([p], [y + dy], xerr=[[max(p - low, 0.0)], [max(high - p, 0.0)]],
                        **{"fmt": marker, "color": colors[name], "markersize": 7,
                           "markerfacecolor": colors[name] if k == 0 else "white",
                           "markeredgewidth": 1.5, "elinewidth": 2.0, "capsize": 3, **style})
    for k, metric in enumerate(metrics):
        header = {"p_justified": "P(justified)", "p_collapse": "P(collapse)",
                  "p_bankrupt": "P(bankrupt)", "p_above_threshold": "P(V_T ≥ B)"}[metric]
        ax.annotate(f"{header} [95%]", (1.0, 1.0),
                    xycoords="axes fraction", xytext=(12 + 150 * k, 6),
                    textcoords="offset points", va="bottom", fontsize="small",
                    fontweight="bold")
    ax.set_yticks(rows, [_style.short_label(name) for name in names])
    for tick, name in zip(ax.get_yticklabels(), names, strict=True):
        tick.set_color(colors[name])
        tick.set_fontweight("bold")
    ax.set_ylim(-0.6, n - 0.4)
    linear = _probability_scale(ax, ds.sel(scenario=names), metrics)
    ax.set_xlabel(f"probability over the simulated paths, bars: 95% interval (axis linear "
                  f"below {_percent_tick(linear)}, logarithmic above)")
    ax.set_title("Headline probabilities by scenario", loc="left")
    ax.grid(axis="x", color="0.88")
    ax.set_axisbelow(True)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="0.3", marker=_METRICS[m][1], linestyle="none",
                      markersize=7, markerfacecolor="0.3" if k == 0 else "white",
                      markeredgewidth=1.5, label=label)
               for k, (m, label) in enumerate(zip(metrics, labels, strict=True))]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=g,
              frameon=False, fontsize="small")
    return ax
