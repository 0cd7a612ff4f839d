"""Figures of a company panel (:func:`simval.simulate_panel`): staying above the panel's line.

matplotlib is imported only when a function is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from simval.format import short_money
from simval.plot import style as _style

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["company_colors", "independence_product", "stays_above"]


def company_colors(ds: xr.Dataset) -> dict[str, str]:
    """Colour of every company of a panel: Okabe-Ito's palette in panel order, as the
    scenarios of a run (so the per-company figures of a panel report agree)."""
    names = [str(c) for c in ds.company.values]
    return {c: _style.OKABE_ITO[i % len(_style.OKABE_ITO)] for i, c in enumerate(names)}


def independence_product(ds: xr.Dataset) -> xr.DataArray:
    """The product over the companies of P(stays above the line through t): what P(every
    company stays above) would be if the companies were independent."""
    return ds.p_stays_above.prod("company")


def stays_above(ds: xr.Dataset, *, ax: Axes | None = None, intervals: bool = True,
                **style: Any) -> Axes:
    """P(each company stays above the panel's line through t), the joint probability that all
    of them do, and what independence would give.

    One solid line per company, P(V_s >= B for every s <= t) with its pointwise 95% interval
    (shaded); a thick black line for the probability that every company stays above B, with
    its interval; a dashed grey line for the product of the individual probabilities, which
    is what the joint probability would be if the companies were independent. The gap between
    the black and the dashed line comes from the macro draws the companies share (regime
    switches, chip-supply shocks).

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate_panel` of a panel with a ``threshold``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    intervals : bool, default: True
        Shade the pointwise 95% Clopper-Pearson intervals.
    **style
        Passed to every company's line (:meth:`matplotlib.axes.Axes.plot`), e.g.
        ``linewidth``.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``ds`` is not a panel with a threshold (no ``p_stays_above``).

    Examples
    --------
    >>> import simval
    >>> ds = simval.simulate_panel("configs/panels/china_ai_2025.toml", n_paths=4096,
    ...                            keep_paths=0)
    >>> ax = simval.plot.stays_above(ds)
    >>> [line.get_label() for line in ax.get_lines()][-2:]
    ['all stay above', "product of the companies' (if independent)"]
    """
    if "company" not in ds.dims or "p_stays_above" not in ds:
        raise ValueError("stays_above needs the results of a panel with a threshold "
                         "(simval.simulate_panel with [panel].threshold): there is no "
                         "p_stays_above")
    ax = _style.new_axes(ax, (9.0, 4.8))
    t = ds.time.values
    colors = company_colors(ds)
    for name in ds.company.values:
        s = ds.sel(company=name)
        line = {"color": colors[str(name)], "linewidth": 1.8, **style}
        ax.plot(t, s.p_stays_above.values, label=str(name), **line)
        if intervals:
            ax.fill_between(t, s.p_stays_above_low.values, s.p_stays_above_high.values,
                            color=line["color"], alpha=0.15, linewidth=0)
    ax.plot(t, ds.p_all_stay_above.values, color="black", linewidth=2.6,
            label="all stay above")
    if intervals:
        ax.fill_between(t, ds.p_all_stay_above_low.values, ds.p_all_stay_above_high.values,
                        color="black", alpha=0.15, linewidth=0)
    ax.plot(t, independence_product(ds).values, color="0.35", linewidth=1.8,
            linestyle=(0, (5, 3)), label="product of the companies' (if independent)")
    ax.set_xlim(t[0], t[-1])
    ax.set_ylim(-0.01, 1.01)
    _style.date_axis(ax.xaxis)
    _style.percent_axis(ax.yaxis, full=True)
    ax.set_ylabel("P(stays above the line through t) (% of paths)")
    line_b = ds.attrs.get("panel_threshold")
    level = (short_money(float(line_b), ds.attrs.get("currency", ""))
             if line_b is not None and np.isfinite(line_b) else "the line")
    ax.set_title(f"Staying above {level}: each company and all of them "
                 "(95% pointwise intervals)", loc="left")
    ax.legend(loc="lower left", fontsize="small")
    ax.grid(alpha=0.3)
    return ax
