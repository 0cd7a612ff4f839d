"""The report's "Parameter uncertainty" section of a two-level run (:func:`simval.simulate_draws`):
the band of each headline number across the parameter draws, the split of its variance into
parameter and Monte Carlo parts, and a figure of the per-draw P(collapse) and E[PV]/V0."""

from __future__ import annotations

import numpy as np
import xarray as xr

from simval.format import format_number, format_percent
from simval.report.figures import ReportFigure, render
from simval.report.sections import Section, Table
from simval.results.summary import DRAW_ROWS, draw_spread

__all__ = ["draw_sections"]


def _figure(ds: xr.Dataset, number: int) -> ReportFigure:
    names = [str(s) for s in ds.scenario.values]
    outputs = (("p_collapse", "P(collapse by the question horizon)"),
               ("value_ratio", "E[PV] / V0"))

    def draw(fig) -> None:
        axes = fig.subplots(1, len(outputs))
        rng = np.random.default_rng(0)  # jitter only: the points' horizontal spread
        for ax, (name, label) in zip(axes, outputs, strict=True):
            data = ds[f"{name}_by_draw"]
            for i, scen in enumerate(names):
                y = data.sel(scenario=scen).values
                x = i + rng.uniform(-0.18, 0.18, y.size)
                ax.scatter(x, y, s=9, alpha=0.5, color="C0", linewidths=0)
                low, mid, high = ds[f"{name}_band"].sel(scenario=scen).values
                ax.plot([i, i], [low, high], color="black", linewidth=1.2)
                ax.plot([i - 0.25, i + 0.25], [mid, mid], color="black", linewidth=1.2)
                ax.plot([i], [float(ds[name].sel(scenario=scen))], marker="D", color="C1",
                        markersize=6, linestyle="none")
            ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
            ax.set_title(label)
            if name.startswith("p_"):
                ax.yaxis.set_major_formatter(lambda v, _: format_percent(v))
            ax.grid(axis="y", alpha=0.3)

    return ReportFigure(
        f"{number:02d}_parameter_draws", "The answer under each parameter draw",
        "Each dot is one draw of the parameters from their priors (its own paths' estimate); "
        "the black bar spans the 5-95% band across draws with the median marked, the orange "
        "diamond is the predictive number (the mixture over draws).",
        render((10.0, 4.2), draw))


def draw_sections(ds: xr.Dataset, first_figure: int = 1) -> list[Section]:
    """The "Parameter uncertainty" section (none for a one-level run)."""
    if "draw" not in ds.dims:
        return []
    header = ["scenario: number", "predictive [95% interval]", "5% / 50% / 95% across draws",
              "share of per-draw variance from parameters"]
    rows = []
    for scen in ds.scenario.values:
        s = ds.sel(scenario=scen)
        for name, label in DRAW_ROWS:
            if f"{name}_band" not in s:
                continue
            show = format_percent if name.startswith("p_") else format_number
            rows.append([f"{scen}: {label}",
                         f"{show(float(s[name]))} [{show(float(s[f'{name}_low']))}, "
                         f"{show(float(s[f'{name}_high']))}]",
                         *draw_spread(s, name)])
    priors = "; ".join(f"{k}: {p}" for k, p in zip(ds.parameter.values, ds.prior.values,
                                                   strict=True))
    text = (f"Every number above is predictive: the parameters are not known, so the run drew "
            f"{ds.attrs['draws']} parameter sets from their priors ({priors}; "
            f"{ds.attrs.get('draw_method', '')}) and simulated {ds.attrs['paths_per_draw']:,} "
            "paths under each, the same paths for every draw. The predictive probability is "
            "the mean over draws of each draw's probability (the mixture), and its interval "
            "holds both the parameters' spread and the Monte Carlo error. The band shows how "
            "far the answer moves across plausible parameters; the last column how much of a "
            "single draw's variance the parameters cause (the rest is its paths' noise).")
    return [Section("parameter-uncertainty", "Parameter uncertainty",
                    [text, Table("parameter-uncertainty", header, rows),
                     _figure(ds, first_figure)])]
