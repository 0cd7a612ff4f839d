"""A headline number along one swept input: the figure of a sweep Dataset.

Takes the Dataset of :func:`simval.research.sweep.sweep`, draws on ``ax`` (or a new figure)
with matplotlib's object-oriented API and returns the axes. matplotlib is imported only when
the function is called.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from simval.format import Z_95, format_value
from simval.plot import style as _style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["OUTPUTS", "sweep"]

OUTPUTS = {
    "p_justified": "P(justified: PV ≥ V0)",
    "p_collapse": "P(collapse by T)",
    "value_ratio": "E[PV] / V0",
}
"""The headline numbers a sweep figure can show, with their axis labels."""

_DASHES = ["-", "--", ":", "-."]


def _label(coord: xr.DataArray, value: Any) -> str:
    """A swept value as a tick or legend label: a rate as its annual percentage."""
    compounding = coord.attrs.get("compounding", "")
    if compounding and isinstance(value, int | float | np.number) and np.isfinite(value):
        from simval.config.rates import annual_percent

        return f"{annual_percent(float(value), compounding):.3g}%/yr"
    return format_value(value)


def _interval(point: xr.Dataset, output: str) -> tuple[np.ndarray, np.ndarray]:
    """The 95% interval of ``output`` along the swept key: Clopper-Pearson for a probability,
    ± 1.96 standard errors for E[PV]/V0."""
    if output == "value_ratio":
        half = Z_95 * point.value_ratio_se.values
        return point.value_ratio.values - half, point.value_ratio.values + half
    return point[f"{output}_low"].values, point[f"{output}_high"].values


def sweep(ds: xr.Dataset, key: str | None = None, *, output: str = "p_justified",
          scenario: str | list[str] | None = None, ax: Axes | None = None,
          **style: Any) -> Axes:
    """One headline number along one swept key, with its 95% intervals.

    One line per scenario (in its colour) and, when more keys were swept, per combination of
    their values (dashed differently, named in the legend); every grid point shares the
    same random numbers, so the lines' shapes are the effect of the key, not noise.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`simval.research.sweep.sweep`.
    key : str, optional
        The swept key on the horizontal axis (default: the first).
    output : {"p_justified", "p_collapse", "value_ratio"}, default: "p_justified"
    scenario : str or list of str, optional
        Scenarios to draw (default: all).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    **style
        Passed to :meth:`matplotlib.axes.Axes.errorbar`.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import simval
    >>> ds = simval.sweep("configs/minimax_2025.toml", {"chips.shock_rate": [0.2, 0.8]},
    ...                   n_paths=512, scenarios=["base"])
    >>> ax = simval.plot.sweep(ds, output="value_ratio")
    >>> ax.get_xlabel()
    'chips.shock_rate (1/year)'
    """
    from simval.research.sweep import sweep_keys

    keys = sweep_keys(ds)
    key = keys[0] if key is None else key
    if key not in keys:
        raise ValueError(f"{key!r} was not swept; the swept keys are {', '.join(keys)}")
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; choose from {', '.join(OUTPUTS)}")
    names = _style.select_scenarios(ds, scenario)
    colors = _style.scenario_colors(ds)
    others = [k for k in keys if k != key]
    combos = list(itertools.product(*(range(ds.sizes[k]) for k in others)))
    ax = _style.new_axes(ax, (7.0, 4.0))
    coord = ds[key].values
    numeric = np.issubdtype(coord.dtype, np.number)
    x = coord.astype(float) if numeric else np.arange(len(coord), dtype=float)
    needed = [v for v in (output, f"{output}_low", f"{output}_high", f"{output}_se") if v in ds]
    for name in names:
        s = ds[needed].sel(scenario=name)
        for j, combo in enumerate(combos):
            point = s.isel(dict(zip(others, combo, strict=True))).transpose(key, ...)
            y = point[output].values
            low, high = _interval(point, output)
            err = np.vstack([y - low, high - y])
            label = name if len(names) > 1 or not others else ""
            if others:
                where = ", ".join(f"{k} = {_label(ds[k], ds[k].values[i].item())}"
                                  for k, i in zip(others, combo, strict=True))
                label = f"{label}: {where}" if label else where
            ax.errorbar(x, y, yerr=np.where(np.isfinite(err), err, 0.0), marker="o",
                        capsize=3, color=colors.get(name, _style.OKABE_ITO[0]),
                        linestyle=_DASHES[j % len(_DASHES)], label=label or None, **style)
    ax.set_xticks(x, [_label(ds[key], v.item()) for v in coord],
                  rotation=45 if len(x) > 6 else 0)
    unit = ds[key].attrs.get("units", "")
    if ds[key].attrs.get("compounding") == "continuous":
        unit = f"{unit}, continuous; ticks as annual %" if unit else unit
    ax.set_xlabel(f"{key} ({unit})" if unit else key)
    ax.set_ylabel(OUTPUTS[output])
    if output.startswith("p_"):
        _style.percent_axis(ax.yaxis)
    elif ax.get_ylim()[1] >= 0.5 and ax.get_ylim()[0] <= 2.0:
        ax.axhline(1.0, color="0.6", linewidth=0.8, zorder=0)  # E[PV] = V0, when in view
    if len(names) > 1 or others:
        ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    return ax
