"""A sweep Dataset as text: the headline figures of every grid point, one line each."""

from __future__ import annotations

import numpy as np
import xarray as xr

from simval.format import format_mean, format_probability, format_value, table_row
from simval.research.sweep import sweep_keys

__all__ = ["sweep_table"]


def _shown(coord: xr.DataArray) -> str:
    """A swept value; a rate also as its annual percentage, ``0.0583 (6%/yr)``."""
    value = coord.values.item()
    compounding = coord.attrs.get("compounding", "")
    if not compounding or isinstance(value, str) or not np.isfinite(value) or value == 0:
        return format_value(value)
    from simval.config.rates import annual_percent

    return f"{value:.4g} ({annual_percent(float(value), compounding):.3g}%/yr)"


def sweep_table(ds: xr.Dataset) -> str:
    """The headline figures of every grid point, one line each, per scenario.

    Parameters
    ----------
    ds : xarray.Dataset
        The result of :func:`simval.research.sweep.sweep`.

    Returns
    -------
    str
        P(justified) and P(collapse) with their 95% Clopper-Pearson intervals and
        E[PV]/V_0 with its standard error, at every grid point (a swept rate also as its
        annual percentage).
    """
    keys = sweep_keys(ds)
    lines = [f"{ds.attrs.get('company', '')}: sweep of {', '.join(keys)} "
             f"({ds.attrs.get('n_paths', 0):,} paths per point, seed {ds.attrs.get('seed')}, "
             "common random numbers)",
             "probabilities with 95% Clopper-Pearson intervals"]
    header = [*keys, "P(justified)", "P(collapse)", "E[PV]/V0 (± 1 s.e.)"]
    for scenario in ds.scenario.values:
        s = ds.sel(scenario=scenario)
        rows = []
        for index in np.ndindex(*(s.sizes[k] for k in keys)):
            point = s.isel(dict(zip(keys, index, strict=True)))
            row = [_shown(point[k]) for k in keys]
            for name in ("p_justified", "p_collapse"):
                row.append(format_probability(point, name))
            row.append(format_mean(float(point.value_ratio), float(point.value_ratio_se)))
            rows.append(row)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines += ["", f"{scenario}"]
        lines.append(table_row(header, widths))
        lines += [table_row(r, widths) for r in rows]
    return "\n".join(lines) + "\n"
