"""Figures of the sensitivity analyses: the tornado and the Sobol' indices.

Both take the Dataset of :func:`simval.research.sensitivity.tornado` or
:func:`~simval.research.sensitivity.sobol`, draw on ``ax`` (or a new figure) with matplotlib's
object-oriented API and return the axes. matplotlib is imported only when a function is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from simval.format import format_number, format_percent
from simval.plot import style as _style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["sobol_indices", "tornado"]

_LABELS = {
    "p_justified": "P(justified: PV ≥ V0)",
    "p_collapse": "P(collapse by T)",
    "p_collapse_fundamental": "P(the company alone collapses by T)",
    "value_ratio": "E[PV] / V0",
}


def tornado(ds: xr.Dataset, *, output: str = "p_justified", sort: bool = True,
            ax: Axes | None = None, **style: Any) -> Axes:
    """The change of one output when each input moves to the low and the high end of its range.

    One row per input: a bar from 0 to the change with the input at its low value and one to
    the change at its high value, each with its paired 95% interval as an error bar. Rows are
    sorted by the larger of the two changes (largest on top), so the inputs that matter most
    come first.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`simval.research.sensitivity.tornado`.
    output : {"p_justified", "p_collapse", "p_collapse_fundamental", "value_ratio"}, \
default: "p_justified"
    sort : bool, default: True
        Largest change on top (else in the Dataset's order).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    **style
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if f"delta_{output}" not in ds:
        raise ValueError(f"no output {output!r} in the tornado Dataset; choose from "
                         + ", ".join(o for o in _LABELS if f"delta_{o}" in ds))
    delta = ds[f"delta_{output}"].transpose("input", "side")
    low = ds[f"delta_{output}_low"].transpose("input", "side").values
    high = ds[f"delta_{output}_high"].transpose("input", "side").values
    d = delta.values
    order = np.arange(d.shape[0])
    if sort:
        swing = np.nan_to_num(np.max(np.abs(d), axis=1), nan=-1.0)
        order = np.argsort(swing, kind="stable")  # barh draws bottom-up: largest on top
    else:
        order = order[::-1]
    ax = _style.new_axes(ax, (8.0, 1.2 + 0.55 * max(len(order), 1)))
    y = np.arange(len(order))
    height = 0.38
    sides = [str(s) for s in ds.side.values]
    colors = {"low": _style.OKABE_ITO[0], "high": _style.OKABE_ITO[1]}
    percent = output.startswith("p_")
    for j, side in enumerate(sides):
        values = d[order, j]
        err = np.vstack([values - low[order, j], high[order, j] - values])
        offset = (j - 0.5) * height
        ax.barh(y + offset, values, height=height, color=colors.get(side, _style.OKABE_ITO[2]),
                label=f"input at its {side} value",
                xerr=np.where(np.isfinite(err), err, 0.0),
                error_kw={"ecolor": "0.2", "capsize": 3, "linewidth": 1}, **style)
    labels = []
    for i in order:
        point = ds.isel(input=i)
        name = str(point.input.values)
        values = point.value.values
        unit = str(point.unit.values) if "unit" in point.coords else ""
        unit = "" if unit in ("", "1") else f" {unit}"
        base = float(point.base_value) if "base_value" in point.coords else np.nan
        labels.append(f"{name}\n{format_number(values[0])} … {format_number(values[-1])}{unit} "
                      f"(base {format_number(base)})")
    ax.set_yticks(y, labels, fontsize="small")
    ax.axvline(0.0, color="black", linewidth=1)
    base_level = float(ds[f"{output}_base"]) if f"{output}_base" in ds else np.nan
    label = _LABELS.get(output, output)
    if percent:
        _style.percent_axis(ax.xaxis)
        base_text = format_percent(float(base_level))
        ax.set_xlabel(f"change in {label} against the base run (percentage points)")
    else:
        base_text = format_number(base_level)
        ax.set_xlabel(f"change in {label} against the base run")
    ax.set_title(f"{_style.short_label(ds.attrs.get('company', ''), 2 * _style.LABEL_WIDTH)}: "
                 f"what moves {label} "
                 f"(base {base_text}, {ds.attrs.get('n_paths', 0):,} paths, "
                 "paired 95% intervals)", fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return ax


def sobol_indices(ds: xr.Dataset, *, output: str = "p_justified", ax: Axes | None = None,
                  **style: Any) -> Axes:
    """First-order and total Sobol' indices of one output, per input or group, with intervals.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`simval.research.sensitivity.sobol` (or ``sobol_indices``).
    output : str, default: "p_justified"
        One of the Dataset's outputs.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    **style
        Passed to :meth:`matplotlib.axes.Axes.bar`.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The first-order index is the share of the output's variance due to the input alone; the
    total index adds its interactions, so ``total >= first order`` up to estimation error.
    Error bars are SALib's bootstrap intervals; estimates a little below 0 or above 1 are
    estimation error.
    """
    outputs = [str(o) for o in ds.output.values]
    if output not in outputs:
        raise ValueError(f"no output {output!r}; the Dataset has {', '.join(outputs)}")
    dim = "group" if "group" in ds.dims else "input"
    s = ds.sel(output=output)
    names = [str(n) for n in s[dim].values]
    ax = _style.new_axes(ax, (max(6.0, 1.1 * len(names) + 2.5), 4.5))
    x = np.arange(len(names))
    width = 0.38
    for j, (var, label, color) in enumerate((
            ("first_order", "first order S1 (alone)", _style.OKABE_ITO[0]),
            ("total", "total ST (with interactions)", _style.OKABE_ITO[1]))):
        values = s[var].values
        conf = s[f"{var}_conf"].values
        ax.bar(x + (j - 0.5) * width, values, width=width, color=color, label=label,
               yerr=np.where(np.isfinite(conf), conf, 0.0),
               error_kw={"ecolor": "0.2", "capsize": 3, "linewidth": 1}, **style)
    ax.set_xticks(x, names, rotation=20 if max(len(n) for n in names) > 12 else 0,
                  ha="right" if max(len(n) for n in names) > 12 else "center",
                  fontsize="small")
    ax.axhline(0.0, color="black", linewidth=0.8)
    lows = np.concatenate([s.first_order_low.values, s.total_low.values])
    highs = np.concatenate([s.first_order_high.values, s.total_high.values])
    bottom = min(-0.05, float(np.nanmin(lows, initial=0.0)) - 0.02)  # every whisker shows
    top = max(1.05, float(np.nanmax(highs, initial=1.0)) + 0.02)
    ax.set_ylim(bottom, top + 0.15 * (top - bottom))  # a band above the data for the legend
    _style.percent_axis(ax.yaxis)
    ax.set_ylabel("Sobol' index (share of the output's variance)")
    ax.set_xlabel("driver group" if dim == "group" else "input")
    runs = ds.attrs.get("n_runs", ds.sizes.get("run", 0))
    paths = f" of {ds.attrs['n_paths']:,} paths" if "n_paths" in ds.attrs else ""
    ax.set_title(f"{_style.short_label(ds.attrs.get('company', ''), 2 * _style.LABEL_WIDTH)}: "
                 "Sobol' indices of "
                 f"{_LABELS.get(output, output)} ({runs:,} runs{paths}, "
                 f"{ds.attrs.get('conf_level', 0.95):.0%} bootstrap intervals)",
                 fontsize="medium")
    ax.legend(loc="upper center", ncols=2, fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return ax
