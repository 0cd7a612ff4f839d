"""The ``draw`` dimension of a two-level run's Dataset (:func:`simval.simulate_draws`).

The run's headline variables are the predictive ones (the mixture over draws: the pooled
paths of every draw); :func:`add_draw_variables` adds, for every headline estimate, its value
in each draw (``NAME_by_draw``), the 5/50/95% band across draws (``NAME_band``) and the split
of a per-draw estimate's variance into parameter and Monte Carlo parts
(``NAME_var_parameter``, ``NAME_var_mc``), and replaces its standard error and interval by
those of the mixture estimator (:mod:`simval.stats.draws`). The drawn values are
``parameter_value`` over ``parameter`` and ``draw``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from simval.format import Z_95
from simval.stats.draws import DrawSplit, crossed_estimate, draw_spread_estimate

__all__ = ["BAND", "BATCHED", "add_draw_variables", "headline_estimates", "over_time_intervals"]

BAND = (0.05, 0.5, 0.95)
"""Levels of the band across draws."""

BATCHED = {"p_justified": "justified", "p_collapse": "collapse", "p_bankrupt": "bankrupt",
           "pv_mean": "pv", "value_ratio": "pv"}
"""Headline estimates with per-batch sums in the accumulator (their errors come from the
crossed draw x batch layout; the others' from :func:`~simval.stats.draws.draw_spread_estimate`)."""

_DIMS = {"scenario", "signal"}


def headline_estimates(ds: xr.Dataset) -> list[str]:
    """The headline estimates of a run's Dataset: every variable over ``scenario`` (and
    ``signal``, or neither: the weighted mixture) that has a standard error ``NAME_se``.

    Examples
    --------
    >>> ds = xr.Dataset({"p_a": ("scenario", [0.1]), "p_a_se": ("scenario", [0.01]),
    ...                  "valuation": ("scenario", [1.0])})
    >>> headline_estimates(ds)
    ['p_a']
    """
    return [str(n) for n in ds.data_vars
            if not str(n).endswith("_se") and f"{n}_se" in ds
            and set(ds[n].dims) <= _DIMS]


def add_draw_variables(ds: xr.Dataset, per_draw: Sequence[xr.Dataset],
                       batch_means: Mapping[str, np.ndarray], values: np.ndarray,
                       keys: Sequence[str], priors: Sequence[str]) -> xr.Dataset:
    """Add the per-draw results of a two-level run to its predictive Dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        The Dataset of the pooled paths of every draw (its estimates are the mixture's).
    per_draw : sequence of xarray.Dataset
        Each draw's headline estimates (``build_dataset(..., headline_only=True)``).
    batch_means : mapping
        Batch key of :data:`BATCHED` (``"justified"``, ...) -> ``(scenario, draw, batch)``
        means over the batch's paths.
    values : numpy.ndarray
        ``(draw, parameter)`` drawn values.
    keys, priors : sequence of str
        The dot keys with a prior and a description of each prior.

    Returns
    -------
    xarray.Dataset
        ``ds`` with the new variables; ``draw``, ``band`` and ``parameter`` dimensions.
    """
    out = ds.copy()
    n_draws = len(per_draw)
    for name in headline_estimates(per_draw[0]):
        if name not in out:
            continue
        stacked = xr.concat([d[name] for d in per_draw], dim="draw").transpose(..., "draw")
        stacked_se = xr.concat([d[f"{name}_se"] for d in per_draw],
                               dim="draw").transpose(..., "draw")
        units = out[name].attrs.get("units", "")
        what = out[name].attrs.get("description", name)
        out[f"{name}_by_draw"] = xr.Variable(stacked.dims, stacked.values, {
            "units": units, "description": f"{what}: the estimate under each parameter draw"})
        band = np.nanquantile(stacked.values, BAND, axis=-1)
        out[f"{name}_band"] = xr.Variable((*stacked.dims[:-1], "band"),
                                          np.moveaxis(band, 0, -1),
                                          {"units": units,
                                           "description": f"5/50/95% of {name}_by_draw across "
                                                          "draws"})
        splits, crossed = _splits(name, stacked.values, stacked_se.values, batch_means, out)
        shape = stacked.shape[:-1]
        se = np.array([s.se for s in splits]).reshape(shape)
        var_p = np.array([s.var_parameter for s in splits]).reshape(shape)
        var_mc = np.array([s.var_mc for s in splits]).reshape(shape)
        dims = stacked.dims[:-1]
        how = ("crossed draw x batch layout" if crossed
               else "spread across draws plus the mean per-draw Monte Carlo variance "
                    "(conservative)")
        _set_interval(out, name, dims, units, se,
                      f"standard error of the predictive {name}: parameter uncertainty and "
                      f"Monte Carlo error ({how})", clip=units == "1" and name.startswith("p_"))
        sq = f"({units})^2" if units not in ("", "1") else "1"
        out[f"{name}_var_parameter"] = xr.Variable(dims, var_p, {
            "units": sq, "description": f"parameter part of the variance of {name}_by_draw: "
                                        "the spread of the draws' true values"})
        out[f"{name}_var_mc"] = xr.Variable(dims, var_mc, {
            "units": sq, "description": f"Monte Carlo part of the variance of {name}_by_draw: "
                                        "one draw's path noise"})
    out["parameter_value"] = xr.Variable(("parameter", "draw"), np.asarray(values).T, {
        "description": "value of each key with a prior in each draw"})
    return out.assign_coords(
        draw=("draw", np.arange(n_draws), {"description": "parameter draw of a two-level run"}),
        band=("band", np.array(BAND), {"units": "1",
                                       "description": "level of the band across draws"}),
        parameter=("parameter", list(keys), {"description": "config key with a prior"}),
        prior=("parameter", list(priors), {"description": "the key's prior"}))


def over_time_intervals(ds: xr.Dataset, per_draw: Mapping[str, np.ndarray],
                        n_paths: int) -> xr.Dataset:
    """Replace the Monte Carlo intervals of probabilities over ``time`` (``p_collapsed_by``,
    ``p_bankrupt_by``, ``p_above_threshold``) by the draws' conservative ones.

    ``per_draw`` maps each name to its ``(scenario, draw, time)`` per-draw probabilities;
    ``se^2 = S^2 / D + mean_d p_d (1 - p_d) / n`` (:func:`~simval.stats.draws.
    draw_spread_estimate`, vectorised), the interval ``p +- 1.96 se`` clipped to [0, 1].
    """
    out = ds.copy()
    for name, x in per_draw.items():
        if name not in out:
            continue
        with np.errstate(invalid="ignore"):
            var = np.var(x, axis=1, ddof=1) / x.shape[1] + np.mean(x * (1 - x), axis=1) / n_paths
        keep = np.isfinite(out[name].values)  # NaN (no threshold) stays NaN
        _set_interval(out, name, out[name].dims, out[name].attrs.get("units", "1"),
                      np.where(keep, np.sqrt(var), np.nan),
                      f"standard error of the predictive {name}: spread across draws plus the "
                      "per-draw binomial variance (conservative)", clip=True)
    return out


def _set_interval(out: xr.Dataset, name: str, dims: tuple, units: str, se: np.ndarray,
                  se_description: str, *, clip: bool) -> None:
    """Set ``NAME_se`` to ``se`` and ``NAME_low``, ``NAME_high`` to the 95% interval
    ``value +- 1.96 se`` (clipped to [0, 1] with ``clip``: a probability), over ``dims``."""
    value = out[name].values
    out[f"{name}_se"] = xr.Variable(dims, se, {"units": units, "description": se_description})
    for suffix, bound in (("low", value - Z_95 * se), ("high", value + Z_95 * se)):
        out[f"{name}_{suffix}"] = xr.Variable(dims, np.clip(bound, 0.0, 1.0) if clip else bound, {
            "units": units, "description": f"{'lower' if suffix == 'low' else 'upper'} bound of "
                                           f"the 95% interval of the predictive {name} "
                                           "(value +- 1.96 se)"})


def _splits(name: str, x: np.ndarray, se: np.ndarray, batch_means: Mapping[str, np.ndarray],
            ds: xr.Dataset) -> tuple[list[DrawSplit], bool]:
    """One :class:`DrawSplit` per cell of the estimate (over its non-draw dimensions), and
    whether they come from the crossed draw x batch layout (an estimate of :data:`BATCHED`
    over scenarios alone, with at least two batches) rather than the spread across draws."""
    flat_x = x.reshape(-1, x.shape[-1])
    flat_se = se.reshape(-1, se.shape[-1])
    batches = batch_means.get(BATCHED.get(name, ""))
    if batches is not None and x.ndim == 2 and batches.shape[-1] >= 2:
        scale = (1.0 / ds["valuation"].values if name == "value_ratio"
                 else np.ones(x.shape[0]))
        return [crossed_estimate(batches[i] * scale[i]) for i in range(x.shape[0])], True
    return [draw_spread_estimate(flat_x[i], flat_se[i]) for i in range(flat_x.shape[0])], False
