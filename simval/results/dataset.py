"""Turn the streamed accumulators of a run into a labelled, self-describing ``xarray.Dataset``."""

from __future__ import annotations

import math
import platform
from collections.abc import Mapping, Sequence
from typing import Any

import numba
import numpy as np
import xarray as xr

from simval._version import __version__
from simval.config.load import Config, normalised_weights
from simval.engine.histogram import FAN_GRID, VALUE_GRID
from simval.engine.runner import ScenarioAccumulator
from simval.layout import SERIES_NAMES
from simval.model.params import TimeGrid, required_table_levels, required_terminal_revenue
from simval.results.conditional import add_signal_variables, add_weighted_variables
from simval.results.kept import KEPT_VARIABLES, kept_in_memory, kept_on_cluster
from simval.stats.distribution import QUANTILES, histogram_quantiles, out_of_range_note
from simval.stats.probabilities import binomial_estimate, paired_binomial_estimate

__all__ = ["build_dataset", "non_finite", "question_index"]

_SERIES_META = {
    "total_revenue": ("{c}/year", "total delivered revenue run-rate S_t"),
    "commercial_revenue": ("{c}/year", "delivered commercial revenue run-rate"),
    "contract_revenue": ("{c}/year", "revenue run-rate of active contracts"),
    "market_share": ("1", "total revenue over the addressable market TAM(t)"),
    "capacity": ("1", "compute capacity c_t (1 = what the plan needs)"),
    "cash": ("{c}", "cash balance X_t"),
    "market_value": ("{c}", "market valuation V_t: B_t W_t, today's holders' stake "
                            "(market.model = value), or M_t S_t, the whole company "
                            "(multiple)"),
    "fundamental_value": ("{c}", "the model's own value W_t of today's holders' claim, by "
                                 "least squares (NaN with market.model = multiple)"),
    "price_to_value": ("1", "price-to-value gap B_t = V_t / W_t (NaN with market.model = "
                            "multiple, or once bankrupt)"),
}
assert tuple(_SERIES_META) == SERIES_NAMES  # in the kernel's row order


_KEPT_META = {
    **{f"path_{series}": (units, f"{what}, kept paths")
       for series, (units, what) in _SERIES_META.items()},
    "path_pv": ("{c}", "PV of each kept path"),
    "path_terminal_revenue": ("{c}/year", "terminal-step revenue (annual rate)"),
    "path_min_value": ("{c}", "lowest market value V_k on the path"),
    "path_max_drawdown": ("1", "largest fall of V_k from its running peak"),
    "path_slowdown_share": ("1", "share of the path's steps spent in slowdown"),
    "path_holders_fraction": ("1", "fraction of the equity today's holders keep after "
                                   "dilution"),
    "path_terminal_value_pv": ("{c}", "the terminal value's part of PV: (1 - w) h D(T_v) TV "
                                      "(0 for a bankrupt path)"),
    "path_terminal_margin": ("1", "operating (EBIT) margin of the last step (NaN if bankrupt)"),
    "path_terminal_growth": ("1/year", "expected growth mu of commercial revenue at T_v (NaN "
                                       "if bankrupt)"),
    "path_collapse_time": ("years", "time of collapse in years after as_of (NaN: none by "
                                    "the question horizon T_q)"),
    "path_bankruptcy_time": ("years",
                             "time of bankruptcy in years after as_of (NaN: none by "
                             "the valuation horizon T_v)"),
    "path_fundamental_collapse_time": ("years", "time of the fundamental collapse (B_0 W_t <= "
                                                "(1 - d) V_0) in years after as_of (NaN: none "
                                                "by T_q, or market.model = multiple)"),
    "path_chip_shocks": ("1", "number of chip-supply shocks"),
    "path_contracts_lost": ("1", "contracts lost at renewal"),
    "path_contracts_won": ("1", "contracts won by the expansion programme"),
}
assert tuple(_KEPT_META) == KEPT_VARIABLES


def _var(dims, data, units: str, description: str, currency: str) -> xr.Variable:
    if not hasattr(data, "__dask_graph__"):  # dask arrays (kept paths on a cluster) stay lazy
        data = np.asarray(data)
    return xr.Variable(dims, data,
                       attrs={"units": units.format(c=currency), "description": description})


def build_dataset(config: Config, grid: TimeGrid, accumulators: dict[str, ScenarioAccumulator],
                  required: dict[str, tuple[float, float]], *, seed: int, n_paths: int,
                  keep_paths: int, contracts: Sequence[str],
                  contract_index: dict[str, list[int]],
                  kept: Mapping[str, Sequence[tuple[int, int, Any]]] | None = None,
                  value_functions: Mapping[str, Any] | None = None,
                  headline_only: bool = False) -> xr.Dataset:
    """Assemble the run's Dataset (see ``docs/model.md``, "What a run reports").

    Parameters
    ----------
    config : Config
    grid : TimeGrid
    accumulators : dict
        Scenario name -> its filled :class:`ScenarioAccumulator`.
    required : dict
        Scenario name -> (required terminal revenue, its share of TAM).
    seed, n_paths, keep_paths : int
    contracts : sequence of str
        Names of all named contracts (the ``contract`` dimension).
    contract_index : dict
        Scenario name -> position in ``contracts`` of each of its contracts, in slot order.
    kept : mapping, optional
        Scenario name -> its kept paths held on a Dask cluster, as ``(path_start, n_paths,
        rows)`` chunks (:class:`~simval.engine.distributed.KeptChunk`); the kept-path
        variables are then dask arrays (:func:`~simval.results.kept.kept_on_cluster`).
        Default: the accumulators' kept rows, as numpy arrays.
    value_functions : mapping, optional
        Scenario name -> its :class:`~simval.engine.fundamental.ValueFunction` (None without
        the value model): the fit's R^2 and W_0.
    headline_only : bool, default: False
        Stop after the scalar estimates (probabilities, means, the weighted mixture and the
        signals, over ``scenario`` and ``signal``): the per-draw numbers of a two-level run
        (:mod:`simval.twolevel`), without the quantiles, series and kept paths.
    """
    base = config.base
    cur = base["company"]["currency"]
    names = list(accumulators)
    accs = [accumulators[s] for s in names]
    q = np.array(QUANTILES)
    v = {}

    def add(name, dims, data, units, description):
        v[name] = _var(dims, data, units, description, cur)

    antithetic = accs[0].antithetic

    def add_probability(name, k, n, description, dims=("scenario",), k_both=None):
        if antithetic:
            est = paired_binomial_estimate(np.asarray(k), np.asarray(k_both), n)
            interval = "Clopper-Pearson interval at the antithetic pairs' effective size"
        else:
            est = binomial_estimate(np.asarray(k), n)
            interval = "Clopper-Pearson interval"
        add(name, dims, est.p, "1", description)
        add(f"{name}_se", dims, est.se, "1", f"standard error of {name}")
        add(f"{name}_low", dims, est.low, "1", f"lower bound of the 95% {interval} of {name}")
        add(f"{name}_high", dims, est.high, "1", f"upper bound of the 95% {interval} of {name}")

    valuation = np.array([config.scenarios[s]["company"]["valuation"] for s in names])
    add("valuation", ("scenario",), valuation, "{c}", "today's valuation V_0 being tested")
    add("collapse_level", ("scenario",),
        [(1 - config.scenarios[s]["market"]["collapse_drawdown"]) * config.scenarios[s][
            "company"]["valuation"] for s in names], "{c}",
        "collapse when the market value V_k falls to (1 - d) V_0 or below")
    never = grid.n_steps + 1
    add_probability("p_justified", [a.n_justified for a in accs], n_paths,
                    "P(PV >= V_0): probability the valuation is justified",
                    k_both=[a.pairs_justified for a in accs])
    pairs = n_paths // 2
    add_probability("p_collapse", [n_paths - a.collapse_steps[never] for a in accs], n_paths,
                    "P(V_k <= (1 - d) V_0 for some k <= K_q): probability of collapse by the "
                    "question horizon T_q",
                    k_both=[pairs - a.pair_collapse_steps[never] for a in accs])
    capped = [a.cap_share is not None for a in accs]
    if any(capped):
        add("cap_binding_share", ("scenario",),
            [a.cap_bound_paths / n_paths if a.cap_share is not None else np.nan for a in accs],
            "1", "share of the paths on which the market-size cap binds at some time (NaN "
                 "without a cap)")
    value_model = [config.scenarios[s]["market"]["model"] == "value" for s in names]
    if any(value_model):
        add_probability("p_collapse_fundamental",
                        [n_paths - a.fundamental_collapse_steps[never] for a in accs], n_paths,
                        "P(B_0 W_k <= (1 - d) V_0 for some k <= K_q): probability that the "
                        "model's own value falls by d, at today's price-to-value ratio, by the "
                        "question horizon (NaN with market.model = multiple)",
                        k_both=[pairs - a.pair_fundamental_collapse_steps[never] for a in accs])
        for suffix in ("", "_se", "_low", "_high"):
            name = f"p_collapse_fundamental{suffix}"
            v[name] = v[name].copy(data=np.where(value_model, v[name].values, np.nan))
        fits = value_functions or {}
        r2 = np.full((len(names), grid.n_steps + 1), np.nan)
        start = np.full(len(names), np.nan)
        for i, s in enumerate(names):
            if fits.get(s) is not None:
                r2[i] = fits[s].r2
                start[i] = fits[s].start_value
        add("fundamental_value_r2", ("scenario", "time"), r2, "1",
            "in-sample R^2 of the least-squares fit of W_t on the pilot (NaN at t_0, where the "
            "state does not vary, and with market.model = multiple)")
        add("fundamental_value_0", ("scenario",), start, "{c}",
            "W_0: the model's own value today (the pilot's fit at t_0; E[PV] within the "
            "pilot's error)")
        add("price_to_value_0", ("scenario",), valuation / start, "1",
            "B_0 = V_0 / W_0: what today's price says beyond the model's value")
    k_q = grid.question_steps
    add_probability("p_bankrupt", [int(a.bankrupt_steps[:k_q + 1].sum()) for a in accs],
                    n_paths, "P(bankrupt by the question horizon T_q)",
                    k_both=[int(a.pair_bankrupt_steps[:k_q + 1].sum()) for a in accs])
    if k_q < grid.n_steps:
        add_probability("p_bankrupt_valuation_horizon",
                        [n_paths - a.bankrupt_steps[never] for a in accs], n_paths,
                        "P(bankrupt by the valuation horizon T_v)",
                        k_both=[pairs - a.pair_bankrupt_steps[never] for a in accs])
    pv_mean = np.array([a.mean("pv") for a in accs])
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow: see non_finite()
        if antithetic:  # the variance of the mean of the independent pair averages
            pair_var = np.array([math.fsum(a.block_sums["pv_pair_sq"]) / pairs for a in accs]) \
                - pv_mean**2
            pv_se = np.sqrt(np.maximum(pair_var, 0.0) / max(pairs - 1, 1))
        else:
            pv_var = np.array([a.mean("pv_sq") for a in accs]) - pv_mean**2
            pv_se = np.sqrt(np.maximum(pv_var, 0.0) / max(n_paths - 1, 1))
    if (pairs if antithetic else n_paths) < 2:  # no spread to measure from one path (pair)
        pv_se = np.full_like(pv_mean, np.nan)
    add("pv_mean", ("scenario",), pv_mean, "{c}", "E[PV]: mean present value to today's "
                                                  "holders")
    add("pv_mean_se", ("scenario",), pv_se, "{c}", "standard error of pv_mean (NaN from "
                                                   "fewer than two paths)")
    add("value_ratio", ("scenario",), pv_mean / valuation, "1", "E[PV] / V_0")
    add("value_ratio_se", ("scenario",), pv_se / valuation, "1", "standard error of value_ratio")
    weights, weights_note = (None, None)
    if config.weights is not None:
        weights, weights_note = normalised_weights({s: config.weights[s] for s in names})
        add("scenario_weight", ("scenario",), [weights[s] for s in names], "1",
            "weight of the scenario in the weighted mixture (normalised to sum to 1)")
        add_weighted_variables(add, accs, [weights[s] for s in names], valuation)
    if config.signals:
        add_signal_variables(add, accs, n_paths, valuation,
                             {name: sig["label"] for name, sig in config.signals.items()})
    with np.errstate(invalid="ignore", divide="ignore"):
        tv_share = np.array([a.mean("terminal_value_pv") for a in accs]) / pv_mean
    add("terminal_value_share", ("scenario",), tv_share, "1",
        "E[(1 - w) h D(T_v) TV] / E[PV]: the share of the mean present value that the terminal "
        "value at the valuation horizon makes up (above 1 when the cash flows before it are "
        "negative on average)")
    if headline_only:
        signal = {"signal": list(config.signals)} if config.signals else {}
        return xr.Dataset(v, coords={"scenario": names, **signal})
    for name, attr, units, what in (
            ("pv", "pv_hist", "{c}", "present value PV"),
            ("terminal_revenue", "terminal_revenue_hist", "{c}/year",
             "terminal-step revenue (annual rate)")):
        est = histogram_quantiles([getattr(a, attr) for a in accs], VALUE_GRID)
        add(f"{name}_quantile", ("scenario", "quantile"), est.value, units, f"quantiles of {what}")
        add(f"{name}_quantile_low", ("scenario", "quantile"), est.low, units,
            f"lower bound of the 95% order-statistic interval of {name}_quantile")
        add(f"{name}_quantile_high", ("scenario", "quantile"), est.high, units,
            f"upper bound of the 95% order-statistic interval of {name}_quantile")
    add("terminal_revenue_mean", ("scenario",),
        [a.mean("terminal_revenue") for a in accs], "{c}/year",
        "mean terminal-step revenue (annual rate)")
    add("required_revenue", ("scenario",), [required[s][0] for s in names], "{c}/year",
        "terminal revenue at which PV at the median exit multiple equals V_0")
    add("required_share", ("scenario",), [required[s][1] for s in names], "1",
        "required_revenue as a share of TAM at the terminal step")
    kind, levels = required_table_levels(base)
    table = np.array([[required_terminal_revenue(config.scenarios[s], grid, level=x)[0]
                       if required_table_levels(config.scenarios[s])[0] == kind else np.nan
                       for x in levels] for s in names])
    required_at = ("exit multiple of sales" if kind == "exit_multiple"
                   else "terminal margin (EBITDA margin for ev_ebitda, operating margin "
                        "otherwise)")
    add("required_revenue_table", ("scenario", "required_at"), table, "{c}/year",
        f"terminal revenue at which PV equals V_0, at each {required_at} of the required_at "
        "coordinate (full capacity, no cash, no dilution)")
    # ---- over time
    dims_t = ("scenario", "time")
    add_probability("p_collapsed_by", [np.cumsum(a.collapse_steps[:never]) for a in accs],
                    n_paths, "P(collapsed by t)", dims_t,
                    k_both=[np.cumsum(a.pair_collapse_steps[:never]) for a in accs])
    add_probability("p_bankrupt_by", [np.cumsum(a.bankrupt_steps[:never]) for a in accs],
                    n_paths, "P(bankrupt by t)", dims_t,
                    k_both=[np.cumsum(a.pair_bankrupt_steps[:never]) for a in accs])
    thresholds = np.array([np.nan if a.threshold is None else a.threshold for a in accs])
    if np.isfinite(thresholds).any():
        add("threshold", ("scenario",), thresholds, "{c}", "valuation line B tracked over time")
        add_probability("p_above_threshold", [a.above_threshold for a in accs], n_paths,
                        "P(V_t >= B)", dims_t,
                        k_both=[a.pairs_above_threshold for a in accs])
        for suffix in ("", "_se", "_low", "_high"):
            name = f"p_above_threshold{suffix}"
            v[name] = v[name].copy(data=np.where(np.isfinite(thresholds)[:, None],
                                                 v[name].values, np.nan))
    add("p_slowdown", dims_t, [a.slowdown / n_paths for a in accs], "1",
        "P(regime at t is slowdown)")
    survival = np.full((len(names), len(contracts), grid.n_steps + 1), np.nan)
    for i, (s, a) in enumerate(zip(names, accs, strict=True)):
        for slot, j in enumerate(contract_index[s]):
            survival[i, j] = a.contract_active[slot] / n_paths
    add("contract_survival", ("scenario", "contract", "time"), survival, "1",
        "P(named contract is active at t)")
    # revenue by source: every named contract (as `contract`), then the expansion pool
    sources = [*contracts, "expansion"]
    by_source = np.full((len(names), len(sources), grid.n_steps + 1, len(q)), np.nan)
    for i, (s, a) in enumerate(zip(names, accs, strict=True)):
        est = histogram_quantiles(a.source_hist, FAN_GRID)
        for slot, j in enumerate(contract_index[s]):
            by_source[i, j] = est.value[slot]
        by_source[i, -1] = est.value[-1]
    add("source_revenue_quantile", ("scenario", "source", "time", "quantile"), by_source,
        "{c}/year", "quantiles over paths of the delivered revenue run-rate of each named "
                    "contract and of the expansion pool (0 when inactive or not won)")
    for idx, (series, (units, what)) in enumerate(_SERIES_META.items()):
        est = histogram_quantiles([a.fan_hist[idx] for a in accs], FAN_GRID)
        dims_q = ("scenario", "time", "quantile")
        add(f"{series}_quantile", dims_q, est.value, units, f"quantiles over paths of the {what}")
        add(f"{series}_quantile_low", dims_q, est.low, units,
            f"lower bound of the 95% order-statistic interval of {series}_quantile")
        add(f"{series}_quantile_high", dims_q, est.high, units,
            f"upper bound of the 95% order-statistic interval of {series}_quantile")
    for name, var in v.items():  # say what a NaN quantile means
        if name.endswith(("_quantile", "_quantile_low", "_quantile_high")):
            hist = VALUE_GRID if name.startswith(("pv_", "terminal_revenue_")) else FAN_GRID
            var.attrs["out_of_range"] = out_of_range_note(hist)
            var.attrs["grid_edge"] = hist.edge
    # ---- running estimates after each block of paths (convergence)
    block_end = np.cumsum(accs[0].block_counts["paths"])
    for name, key, what in (("p_justified_running", "justified", "P(justified)"),
                            ("p_collapse_running", "collapse", "P(collapse)")):
        est = binomial_estimate(np.stack([np.cumsum(a.block_counts[key]) for a in accs]),
                                block_end)
        dims_b = ("scenario", "block")
        add(name, dims_b, est.p, "1", f"running estimate of {what} after each block of paths")
        add(f"{name}_se", dims_b, est.se, "1", f"standard error of {name} (i.i.d. paths)")
        add(f"{name}_low", dims_b, est.low, "1",
            f"lower bound of the 95% Clopper-Pearson interval of {name}")
        add(f"{name}_high", dims_b, est.high, "1",
            f"upper bound of the 95% Clopper-Pearson interval of {name}")
    # ---- kept paths: numpy from the accumulators, or dask arrays over rows on a cluster
    years = grid.years
    if kept is not None and keep_paths > 0:
        data = kept_on_cluster(kept, names, years)
    else:
        data = kept_in_memory(accs, years)
    for name in KEPT_VARIABLES:
        units, description = _KEPT_META[name]
        dims = ("scenario", "path", "time") if data[name].ndim == 3 else ("scenario", "path")
        add(name, dims, data[name], units, description)
    coords = {
        "scenario": ("scenario", names, {"description": "scenario of the config"}),
        "time": ("time", grid.dates, {"description": "date of t_k = as_of + k dt"}),
        "years": ("time", years, {"units": "years", "description": "t_k in years after as_of"}),
        "quantile": ("quantile", q, {"units": "1", "description": "quantile level"}),
        "path": ("path", np.arange(keep_paths), {"description": "global index of a kept path"}),
        "contract": ("contract", list(contracts), {"description": "named contract"}),
        "source": ("source", [*contracts, "expansion"],
                   {"description": "revenue source: a named contract or the expansion pool"}),
        "required_at": ("required_at", np.array(levels),
                        {"units": "1", "description": required_at,
                         "long_name": kind}),
        **({"signal": ("signal", list(config.signals), {"description": "signal of the "
                                                                         "config ([signals])"}),
            "signal_label": ("signal", [sig["label"] for sig in config.signals.values()],
                             {"description": "what the signal watches"})}
           if config.signals else {}),
        "block_end": ("block", block_end, {"units": "1",
                                            "description": "paths simulated after the block"}),
    }
    attrs: dict[str, Any] = {
        "title": f"simval results: {base['company']['name']}",
        "company": base["company"]["name"],
        "currency": cur,
        "as_of": base["company"]["as_of"].isoformat(),
        "time_unit": "years",
        "steps_per_year": grid.steps_per_year,
        "horizon_years": grid.question_steps * grid.dt,
        "question_horizon_years": grid.question_steps * grid.dt,
        "question_horizon_date": str(grid.dates[grid.question_steps])[:10],
        "valuation_horizon_years": grid.n_steps * grid.dt,
        **{key: base["company"][key]
           for key in ("shares_outstanding", "reporting_currency", "reporting_fx_rate")
           if base["company"][key] is not None},
        "measure": base["simulation"]["measure"],
        "seed": seed,
        "n_paths": n_paths,
        "keep_paths": keep_paths,
        "config": config.text,
        "config_source": config.source,
        "config_sha256": config.sha256,
        "random_numbers": "counter-based SplitMix64 keyed by SeedSequence(seed); draws are "
                          "functions of (path, stream, step, slot); common to all scenarios",
        "quantile_method": f"streamed log-linear histograms: PV bins at most "
                           f"{VALUE_GRID.relative_width:.3%} wide, fans at most "
                           f"{FAN_GRID.relative_width:.2%}, interpolated",
        **({"scenario_weights_note": weights_note} if weights_note else {}),
        **({"weighted_method": "sum over scenarios of weight x estimate; standard error from "
                               "the weighted sums over independent batches of 256 paths "
                               "(ratio estimator; scenarios share random numbers), 95% "
                               "interval from t with batches - 1 degrees of freedom"}
           if weights is not None else {}),
        "simval_version": __version__,
        "numpy_version": np.__version__,
        "numba_version": numba.__version__,
        "xarray_version": xr.__version__,
        "python_version": platform.python_version(),
    }
    return xr.Dataset(v, coords=coords, attrs=attrs)


def non_finite(ds: xr.Dataset) -> list[str]:
    """What overflowed float64 in the results ``ds`` of a run or a panel: one line per
    scenario (company) whose mean PV, E[PV]/V0 or mean terminal revenue is not finite, or
    whose standard error is not (a NaN standard error of fewer than two paths is not an
    overflow; one of more paths is: their squares overflowed). Empty when all are finite.
    """
    dim = "company" if "company" in ds.dims else "scenario"
    enough = int(ds.attrs.get("n_paths", 0)) >= (4 if ds.attrs.get("antithetic") else 2)
    out = []
    for name in ds[dim].values:
        s = ds.sel({dim: name})
        bad = [var for var in ("pv_mean", "value_ratio", "terminal_revenue_mean")
               if var in s and not np.isfinite(float(s[var]))]
        bad += [var for var in ("pv_mean_se", "value_ratio_se")
                if var in s and (np.isinf(float(s[var])) or (enough and np.isnan(float(s[var]))))]
        if bad:
            values = ", ".join(f"{var} = {float(s[var])}" for var in bad)
            out.append(f"{dim} {name}: {values}")
    return out


def question_index(ds: xr.Dataset) -> int:
    """Index along ``time`` of the question horizon T_q, where collapse, bankruptcy and the
    threshold are asked (the last time for results written before the two horizons).

    Examples
    --------
    >>> import pandas as pd
    >>> ds = xr.Dataset(coords={"time": pd.date_range("2026-06-30", periods=41, freq="QE")},
    ...                 attrs={"question_horizon_years": 4.0, "steps_per_year": 4})
    >>> question_index(ds)
    16
    """
    years = ds.attrs.get("question_horizon_years")
    if years is None:
        return ds.sizes["time"] - 1
    return int(round(float(years) * int(ds.attrs["steps_per_year"])))
