"""Individual simulated paths (the ones a run keeps in full)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from simval.format import short_money
from simval.plot import style as _style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["sample_paths"]


def sample_paths(ds: xr.Dataset, variable: str = "market_value", *,
                 scenario: str | Sequence[str] | None = None, ax: Axes | None = None,
                 n: int = 10, log: bool | None = None, references: bool = True,
                 **style: Any) -> Axes:
    """A handful of simulated paths of a series for one scenario, with collapse events marked.

    The kept paths are the first paths of the run (global indices 0, 1, ...), an unselected
    sample. A filled triangle marks where a path first falls to the collapse level (its
    collapse); a path that goes bankrupt stops there, marked with a cross on the bottom edge
    at its bankruptcy date. The thick dashed line is the median over all paths (not only the
    kept ones); for the market value, today's valuation and the collapse level are drawn too.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` or :func:`simval.open_results`.
    variable : str, default: "market_value"
        One of ``market_value``, ``total_revenue``, ``commercial_revenue``,
        ``contract_revenue``, ``market_share``, ``capacity``, ``cash``.
    scenario : str, optional
        The scenario (default: the first).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    n : int, default: 10
        Number of paths to draw (at most the number kept).
    log : bool, optional
        Log scale; default as in :func:`simval.plot.fan`.
    references : bool, default: True
        Draw today's valuation and the collapse level on the market value.
    **style
        Passed to the path lines (:meth:`matplotlib.axes.Axes.plot`), e.g. ``alpha``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import simval
    >>> ds = simval.simulate("configs/minimax_2025.toml", n_paths=4096, keep_paths=20)
    >>> ax = simval.plot.sample_paths(ds, n=10)
    >>> sum(line.get_gid() == "path" for line in ax.get_lines())
    10
    """
    series = _style.series_name(variable)
    name = _style.single_scenario(ds, scenario)
    ax = _style.new_axes(ax, (9.0, 4.8))
    if log is None:
        log = _style.series_log_default(series)
    cur = ds.attrs["currency"]
    color = _style.scenario_colors(ds)[name]
    s = ds.sel(scenario=name)
    t = ds.time.values
    years = ds.years.values
    _style.date_axis(ax.xaxis)
    ax.set_xlim(t[0], t[-1])
    money = series not in ("market_share", "capacity")
    ax.set_ylabel(_style.series_label(ds, series, log=log))
    # select before reading: kept paths of a distributed run are dask arrays on the cluster
    s = s.isel(path=slice(0, max(int(n), 0)))
    values = s[f"path_{series}"].values.astype(float)
    what = _style.series_label(ds, series).split(" (")[0]
    ax.set_title(f"{what[0].upper()}{what[1:]}: {values.shape[0]} simulated paths, "
                 f"{_style.short_label(name)}",
                 loc="left")
    if values.shape[0] == 0:
        _style.note(ax, "no paths were kept in these results (keep_paths = 0)")
        return ax
    if not np.isfinite(values).any():
        _style.note(ax, "market size is off in this config, so there is no market share"
                    if series == "market_share" else f"no {series.replace('_', ' ')} values")
        return ax
    bankrupt = s.path_bankruptcy_time.values.astype(float)
    collapsed = s.path_collapse_time.values.astype(float)
    median = s[f"{series}_quantile"].sel(quantile=0.5, method="nearest").values.astype(float)
    refs: list[tuple[str, float, str]] = []
    if references and series == "market_value":
        v0, collapse = float(s.valuation), float(s.collapse_level)
        refs = [("valuation", v0, f"V0 = {short_money(v0, cur)} (today's valuation)"),
                ("collapse", collapse, f"collapse level {short_money(collapse, cur)}")]
    if log:
        lo, hi = _style.log_limits([values, median] + [r[1] for r in refs],
                                   fallback=float(s.valuation))
    path_style = {"color": color, "linewidth": 0.9, "alpha": 0.45, **style}
    crosses, collapses = [], []
    for i, path in enumerate(values):
        y = path.copy()
        kb = len(t)
        if np.isfinite(bankrupt[i]):
            kb = int(np.searchsorted(years, bankrupt[i] - 1e-9))
            crosses.append(t[kb])
            y[kb:] = np.nan  # the path stops at bankruptcy (V = 0 there)
        if np.isfinite(collapsed[i]):
            kc = int(np.searchsorted(years, collapsed[i] - 1e-9))
            if kc < kb:  # a collapse at the bankruptcy step is marked by the cross
                collapses.append((t[kc], path[kc]))
        if log:
            y = np.where(y > 0, y, np.nan)
        ax.plot(t, y, label="kept paths" if i == 0 else "_nolegend_", gid="path", **path_style)
    ax.plot(t, np.where(median > 0, median, np.nan) if log else median, color="black",
            linewidth=2.0, linestyle=(0, (4, 2)), label="median of all paths")
    for kind, value, label in refs:
        ax.axhline(value, label=label, zorder=5, **_style.REFERENCE[kind])
    if collapses and series == "market_value":
        ax.plot([c[0] for c in collapses], [c[1] for c in collapses], linestyle="none",
                marker="v", markersize=7, color=color, markeredgecolor="black", zorder=6,
                label=f"collapse ({len(collapses)} of these paths)")
    if crosses:
        ax.plot(crosses, np.zeros(len(crosses)), linestyle="none", marker="x", markersize=8,
                color="black", transform=ax.get_xaxis_transform(), clip_on=False, zorder=6,
                label=f"bankruptcy ({len(crosses)} of these paths)")
    if log:
        ax.set_yscale("log")
        ax.set_ylim(lo, hi)
    elif series == "cash":
        ax.axhline(0.0, color="0.6", linewidth=0.8)
    if money:
        _style.money_axis(ax.yaxis, cur, log=log)
    else:
        _style.percent_axis(ax.yaxis)
    ax.grid(color="0.92")
    ax.set_axisbelow(True)
    ax.legend(fontsize="small", loc="best", framealpha=0.9)
    return ax
