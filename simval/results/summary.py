"""Headline figures of a results Dataset (or a panel's) as a plain-text table."""

from __future__ import annotations

import math

import xarray as xr

from simval.format import (
    format_mean,
    format_money,
    format_percent,
    format_probability,
)

__all__ = ["format_quantile", "headline_table", "panel_table"]


def format_quantile(s: xr.Dataset, name: str, level: float, currency: str) -> str:
    """A money quantile ``s[name]`` at ``level`` (one scenario), or, where it is out of the
    streamed histogram's range (NaN, see :func:`simval.stats.distribution.histogram_quantiles`),
    ``"> X"`` or ``"< -X"`` with X the grid's edge: never the edge as if it were measured.
    """
    value = float(s[name].sel(quantile=level))
    if math.isfinite(value):
        return format_money(value, currency)
    edge = float(s[name].attrs.get("grid_edge", math.nan))
    low = float(s[f"{name}_low"].sel(quantile=level)) if f"{name}_low" in s else math.nan
    high = float(s[f"{name}_high"].sel(quantile=level)) if f"{name}_high" in s else math.nan
    if math.isfinite(edge) and high == math.inf and low != -math.inf:
        return f"> {format_money(edge, currency)}"
    if math.isfinite(edge) and low == -math.inf and high != math.inf:
        return f"< {format_money(-edge, currency)}"
    return "n/a"




def headline_table(ds: xr.Dataset) -> str:
    """The headline figures of every scenario, as printed by ``simval run`` and ``simval show``.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` (or :func:`simval.open_results`).

    Returns
    -------
    str
        One block per scenario: P(justified), P(collapse), P(bankrupt) with 95% intervals,
        E[PV]/V_0 with its standard error, PV quantiles, required revenue and share.
    """
    cur = ds.attrs["currency"]
    lines = [
        f"{ds.attrs['company']}: valuation tested as of {ds.attrs['as_of']} "
        f"({ds.attrs['measure']}, {ds.attrs['n_paths']:,} paths per scenario, "
        f"seed {ds.attrs['seed']}, horizon {ds.attrs['horizon_years']:g} years)",
        "probabilities with 95% Clopper-Pearson intervals; money in " + cur,
    ]
    if ds.attrs.get("antithetic"):
        lines.append("antithetic pairs: standard errors and intervals from the pair averages")
    if "precision_target" in ds.attrs:
        met = "met" if ds.attrs["precision_reached"] else (
            f"NOT met: stopped at the cap of {ds.attrs['max_paths']:,} paths")
        lines.append(f"precision target: 95% half-width <= {ds.attrs['precision_target']:g} "
                     f"for P(justified) and P(collapse) in every scenario: {met}")
    lines.append("")
    for scen in ds.scenario.values:
        s = ds.sel(scenario=scen)
        q = s.pv_quantile
        collapse_level = float(s.collapse_level)
        rows = [
            ("P(justified: PV >= V0)", format_probability(s, "p_justified")),
            (f"P(collapse: V <= {format_money(collapse_level, cur)} by T)",
             format_probability(s, "p_collapse")),
            ("P(bankrupt by T)", format_probability(s, "p_bankrupt")),
        ]
        if "threshold" in ds and math.isfinite(float(s.threshold)):
            last = s.isel(time=-1)
            rows.append((f"P(V_T >= {format_money(float(s.threshold), cur)})",
                         format_probability(last, "p_above_threshold")))
        share = float(s.required_share)
        rows += [
            ("E[PV] / V0", f"{format_mean(float(s.value_ratio), float(s.value_ratio_se))} "
                           "(1 s.e.)"),
            ("PV quantiles 5/25/50/75/95%",
             " / ".join(format_quantile(s, "pv_quantile", p, cur)
                        for p in q["quantile"].values)),
            ("required revenue at T",
             f"{format_money(float(s.required_revenue), cur)}/year"
             + (f" = {format_percent(share)} of the market" if math.isfinite(share) else "")),
            ("median revenue at T",
             f"{format_quantile(s, 'terminal_revenue_quantile', 0.5, cur)}/year"),
        ]
        label_width = max(len(label) for label, _ in rows) + 2
        lines.append(f"{scen}  V0 = {format_money(float(s.valuation), cur)}")
        lines += [f"  {label:<{label_width}}{text}" for label, text in rows]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def panel_table(ds: xr.Dataset) -> str:
    """Headline figures of a company panel (:func:`simval.simulate_panel`), one block per
    company, then the probability that every company stays above the panel's line."""
    cur = ds.attrs["currency"]
    lines = [f"{ds.attrs['panel']} ({ds.attrs['n_paths']:,} paths, seed {ds.attrs['seed']}; "
             f"companies share {ds.attrs['shared_draws']})",
             "probabilities with 95% Clopper-Pearson intervals; money in " + cur, ""]
    threshold = ds.attrs.get("panel_threshold")
    for company in ds.company.values:
        s = ds.sel(company=company)
        rows = [("V0", format_money(float(s.valuation), cur))]
        for name, label in (("p_justified", "P(justified: PV >= V0)"),
                            ("p_collapse", "P(collapse by T)"),
                            ("p_bankrupt", "P(bankrupt by T)")):
            rows.append((label, format_probability(s, name)))
        if threshold is not None:
            last = s.isel(time=-1)
            rows.append((f"P(stays above {format_money(threshold, cur)} through T)",
                         format_probability(last, "p_stays_above")))
        width = max(len(label) for label, _ in rows) + 2
        lines.append(str(company))
        lines += [f"  {label:<{width}}{text}" for label, text in rows]
        lines.append("")
    if threshold is not None:
        last = ds.isel(time=-1)
        lines.append(f"P(every company stays above {format_money(threshold, cur)} through "
                     f"{str(ds.time.values[-1])[:10]}): "
                     f"{format_probability(last, 'p_all_stay_above')}")
    return "\n".join(lines).rstrip() + "\n"
