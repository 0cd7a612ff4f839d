"""Monte Carlo convergence: running estimates after each block of paths."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from simval.plot import style as _style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["convergence"]

_QUANTITIES = {"p_justified": "P(justified: PV ≥ V0)", "p_collapse": "P(collapse by T)"}


def convergence(ds: xr.Dataset, quantity: str = "p_justified", *,
                scenario: str | Sequence[str] | None = None, ax: Axes | None = None,
                **style: Any) -> Axes:
    """The running estimate of a probability as paths are added, with its 95% interval.

    After each block of 4096 paths the estimate from all paths so far is plotted with its
    95% Clopper-Pearson interval (shaded). A curve that has settled, with a band narrow
    enough for the question at hand, means enough paths were run. The y axis fits the data:
    read the values, not the heights, when comparing panels.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` or :func:`simval.open_results`.
    quantity : {"p_justified", "p_collapse"}, default: "p_justified"
        The probability to follow.
    scenario : str or sequence of str, optional
        The scenarios to show (default: all).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    **style
        Passed to the estimate lines (:meth:`matplotlib.axes.Axes.plot`).

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The running intervals treat paths as independent; for an antithetic run they are
    conservative only approximately (the final estimate's interval in the headline table
    accounts for the pairs).

    Examples
    --------
    >>> import simval
    >>> ds = simval.simulate("configs/minimax_2025.toml", n_paths=3 * 4096, keep_paths=0)
    >>> ax = simval.plot.convergence(ds, "p_collapse", scenario="base")
    >>> ax.get_lines()[0].get_xdata().tolist()
    [4096, 8192, 12288]
    """
    key = quantity if quantity.startswith("p_") else f"p_{quantity}"
    if key not in _QUANTITIES:
        raise ValueError(f"unknown quantity {quantity!r}; choose from " + ", ".join(_QUANTITIES))
    names = _style.select_scenarios(ds, scenario)
    ax = _style.new_axes(ax, (9.0, 4.5))
    colors = _style.scenario_colors(ds)
    x = ds.block_end.values
    few = x.size <= 12
    for name in names:
        s = ds.sel(scenario=name)
        y = s[f"{key}_running"].values.astype(float)
        low = s[f"{key}_running_low"].values.astype(float)
        high = s[f"{key}_running_high"].values.astype(float)
        line_style = {"color": colors[name], "linewidth": 1.6,
                      "marker": "o" if few else None, "markersize": 4, **style}
        ax.plot(x, y, label=name, **line_style)
        if x.size > 1:
            ax.fill_between(x, low, high, color=line_style["color"], alpha=0.18, linewidth=0)
        else:
            ax.errorbar(x, y, yerr=[y - low, high - y], fmt="none",
                        ecolor=line_style["color"], capsize=3)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v / 1000:g}k" if v else "0"))
    if x.size == 1:
        ax.set_xlim(0, 2 * x[0])
    else:
        ax.set_xlim(0, x[-1] * 1.02)
    lows = [ds[f"{key}_running_low"].sel(scenario=names).values]
    highs = [ds[f"{key}_running_high"].sel(scenario=names).values]
    lo, hi = float(np.nanmin(lows)), float(np.nanmax(highs))
    pad = max((hi - lo) * 0.08, 1e-4)
    ax.set_ylim(max(lo - pad, 0.0) if lo > pad else -pad / 4, min(hi + pad, 1.0) if hi < 1 - pad
                else 1.0 + pad / 4)
    _style.percent_axis(ax.yaxis)
    ax.set_xlabel("paths simulated per scenario")
    ax.set_ylabel("running estimate (% of paths)")
    prefix = f"{_style.short_label(names[0])}: c" if len(names) == 1 else "C"
    ax.set_title(f"{prefix}onvergence of {_QUANTITIES[key]} (95% interval)", loc="left")
    ax.grid(color="0.92")
    ax.set_axisbelow(True)
    if len(names) > 1:
        ax.legend(fontsize="small", loc="best", framealpha=0.9)
    return ax
