"""A sweep Dataset as text: the headline figures of every grid point, one line each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from simval.research.sweep import sweep_keys

__all__ = ["sweep_table"]


def _fmt_coord(value: Any) -> str:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return ("  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))).rstrip()


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
        E[PV]/V_0 with its standard error, at every grid point.
    """
    from simval.stats.summary import _pct

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
            row = [_fmt_coord(point[k].values) for k in keys]
            for name in ("p_justified", "p_collapse"):
                row.append(f"{_pct(float(point[name]))} [{_pct(float(point[name + '_low']))}, "
                           f"{_pct(float(point[name + '_high']))}]")
            row.append(f"{float(point.value_ratio):.3g} ± {float(point.value_ratio_se):.2g}")
            rows.append(row)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines += ["", f"{scenario}"]
        lines.append(_row(header, widths))
        lines += [_row(r, widths) for r in rows]
    return "\n".join(lines) + "\n"
