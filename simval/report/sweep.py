"""The sweep section of a run's report: each headline number along each swept input.

A sweep (:func:`simval.research.sweep.sweep`) moves config keys over a grid on common random
numbers. Its section shows, per swept key, P(justified), P(collapse) and E[PV]/V0 along the
key with their 95% intervals, says in words how far each moves across the grid, and lists
every grid point in a table. The sweep is checked against the run by
:func:`simval.report.research.mismatch` (its config and its scenarios) before it is shown.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr

from simval.config.load import Config
from simval.config.rates import CONTINUOUS, annual_percent
from simval.format import Z_95, format_number, format_percent, format_probability, format_value
from simval.report.figures import ReportFigure, render
from simval.report.sections import Block, Table

__all__ = ["sweep_blocks", "sweep_figure", "sweep_sentences", "sweep_table"]

_LABELS = {"p_justified": "P(justified)", "p_collapse": "P(collapse)",
           "value_ratio": "E[PV]/V0"}


def _keys(sweep: xr.Dataset) -> list[str]:
    from simval.research.sweep import sweep_keys

    return sweep_keys(sweep)


def _shown(sweep: xr.Dataset, config: Config | None, key: str, value: Any) -> str:
    """A value of the swept ``key`` as the report shows it: with a config, a continuous rate
    (its coordinate's ``compounding``) also as ``(40%/yr)``."""
    text = format_value(value)
    if (config is not None and sweep[key].attrs.get("compounding") == CONTINUOUS
            and isinstance(value, int | float | np.number) and math.isfinite(float(value))
            and float(value) != 0):
        return f"{text} ({annual_percent(float(value), CONTINUOUS):.3g}%/yr)"
    return text


def _ratio_cell(point: xr.Dataset) -> str:
    value, se = float(point.value_ratio), float(point.value_ratio_se)
    return (f"{format_number(value)} [{format_number(value - Z_95 * se)}, "
            f"{format_number(value + Z_95 * se)}]")


def sweep_table(sweep: xr.Dataset, config: Config | None = None) -> Table:
    """Every grid point and scenario: the swept values and the three headline numbers with
    their 95% intervals."""
    keys = _keys(sweep)
    header = ["scenario", *keys, "P(justified)", "P(collapse)", "E[PV]/V0"]
    rows = []
    for scenario in sweep.scenario.values:
        s = sweep.sel(scenario=scenario)
        for n, index in enumerate(np.ndindex(*(s.sizes[k] for k in keys))):
            point = s.isel(dict(zip(keys, index, strict=True)))
            rows.append([str(scenario) if n == 0 else "",
                         *(_shown(sweep, config, k, point[k].values.item()) for k in keys),
                         format_probability(point, "p_justified"),
                         format_probability(point, "p_collapse"), _ratio_cell(point)])
    return Table("sweep-table", header, rows,
                 "Each grid point of the sweep, every one on the same random numbers: "
                 "probabilities with 95% Clopper-Pearson intervals, E[PV]/V0 with its 95% "
                 "interval (± 1.96 standard errors).")


def sweep_sentences(sweep: xr.Dataset, config: Config | None = None) -> str:
    """How far each headline number moves across the grid, in the first scenario."""
    keys = _keys(sweep)
    scenario = str(sweep.scenario.values[0])
    s = sweep.sel(scenario=scenario)
    parts = []
    for output in ("p_justified", "p_collapse", "value_ratio"):
        values = s[output].transpose(*keys).values
        if not np.isfinite(values).any():
            continue
        lo = np.unravel_index(int(np.nanargmin(values)), values.shape)
        hi = np.unravel_index(int(np.nanargmax(values)), values.shape)

        def at(index: tuple[int, ...]) -> str:
            return ", ".join(f"{k} = {_shown(sweep, config, k, s[k].values[i].item())}"
                             for k, i in zip(keys, index, strict=True))

        show = format_percent if output.startswith("p_") else format_number
        if show(float(values[lo])) == show(float(values[hi])):
            parts.append(f"{_LABELS[output]} is {show(float(values[lo]))} at every grid point")
            continue
        parts.append(f"{_LABELS[output]} runs from {show(float(values[lo]))} (at {at(lo)}) to "
                     f"{show(float(values[hi]))} (at {at(hi)})")
    points = int(np.prod([sweep.sizes[k] for k in keys]))
    return (f"Sweep of {', '.join(keys)} over {points} grid points "
            f"({int(sweep.attrs.get('n_paths', 0)):,} paths each, seed "
            f"{sweep.attrs.get('seed')}, the same random numbers at every point, so the "
            f"differences are the inputs' effect). In {scenario}, " + "; ".join(parts) + ".")


def sweep_figure(sweep: xr.Dataset, name: str) -> ReportFigure:
    """Per swept key (rows), P(justified), P(collapse) and E[PV]/V0 (columns) along it."""
    from simval import plot

    keys = _keys(sweep)

    def draw(fig) -> None:
        axes = fig.subplots(len(keys), 3, squeeze=False)
        for row, key in zip(axes, keys, strict=True):
            for ax, output in zip(row, _LABELS, strict=True):
                plot.sweep(sweep, key, output=output, ax=ax)

    return ReportFigure(
        name, "The headline numbers along each swept input",
        "Each swept input on the horizontal axis; the points are the grid, the bars their 95% "
        "intervals (Clopper-Pearson for the probabilities, ± 1.96 standard errors for "
        "E[PV]/V0). Every grid point uses the same random numbers, so the shape of a line is "
        "the effect of the input, not Monte Carlo noise.",
        render((15.0, 0.6 + 4.0 * len(keys)), draw))


def sweep_blocks(sweep: xr.Dataset, config: Config | None, number: int) -> list[Block]:
    """The blocks of the sweep section: the sentences, the figure and the table."""
    return [sweep_sentences(sweep, config), sweep_figure(sweep, f"{number:02d}_sweep"),
            sweep_table(sweep, config)]
