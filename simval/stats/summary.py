"""Headline figures of a results Dataset as a plain-text table."""

from __future__ import annotations

import math

import xarray as xr

__all__ = ["format_money", "format_quantile", "format_se", "headline_table", "panel_table"]

_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def format_money(value: float, currency: str) -> str:
    """Human-readable money: ``format_money(1e12, "CNY") == '¥1.00T'``.

    Examples
    --------
    >>> format_money(62.5e9, "USD")
    '$62.5B'
    >>> format_money(-3.2e6, "CHF")
    '-3.20M CHF'
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    symbol = _SYMBOLS.get(currency)
    sign = "-" if value < 0 else ""
    x = abs(value)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"), (1.0, "")):
        if x >= div or div == 1.0:
            number = x / div
            digits = 3 - len(str(int(number))) if number < 1000 else 0
            text = f"{number:.{max(digits, 0)}f}{suffix}"
            break
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


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


def format_se(x: float) -> str:
    """A standard error, or n/a (fewer than two paths)."""
    return f"{x:.2g}" if math.isfinite(x) else "n/a"


def _pct(p: float) -> str:
    """A percentage with enough digits to show small probabilities: 0.04%, 2.5%, 78.2%."""
    if not math.isfinite(p):
        return "n/a"
    if p == 0.0 or p >= 0.01:
        return f"{100 * p:.1f}%"
    return f"{100 * p:.{1 - math.floor(math.log10(100 * p))}f}%"


def _prob(ds: xr.Dataset, name: str, scenario: str) -> str:
    s = ds.sel(scenario=scenario)
    return (f"{_pct(float(s[name]))} [{_pct(float(s[name + '_low']))}, "
            f"{_pct(float(s[name + '_high']))}]")


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
            ("P(justified: PV >= V0)", _prob(ds, "p_justified", scen)),
            (f"P(collapse: V <= {format_money(collapse_level, cur)} by T)",
             _prob(ds, "p_collapse", scen)),
            ("P(bankrupt by T)", _prob(ds, "p_bankrupt", scen)),
        ]
        if "threshold" in ds and math.isfinite(float(s.threshold)):
            last = s.isel(time=-1)
            rows.append((f"P(V_T >= {format_money(float(s.threshold), cur)})",
                         f"{_pct(float(last.p_above_threshold))} "
                         f"[{_pct(float(last.p_above_threshold_low))}, "
                         f"{_pct(float(last.p_above_threshold_high))}]"))
        share = float(s.required_share)
        rows += [
            ("E[PV] / V0", f"{float(s.value_ratio):.3g} ± {format_se(float(s.value_ratio_se))} "
                           "(1 s.e.)"),
            ("PV quantiles 5/25/50/75/95%",
             " / ".join(format_quantile(s, "pv_quantile", p, cur)
                        for p in q["quantile"].values)),
            ("required revenue at T",
             f"{format_money(float(s.required_revenue), cur)}/year"
             + (f" = {_pct(share)} of the market" if math.isfinite(share) else "")),
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
            rows.append((label, f"{_pct(float(s[name]))} [{_pct(float(s[name + '_low']))}, "
                                f"{_pct(float(s[name + '_high']))}]"))
        if threshold is not None:
            last = s.isel(time=-1)
            rows.append((f"P(stays above {format_money(threshold, cur)} through T)",
                         f"{_pct(float(last.p_stays_above))} "
                         f"[{_pct(float(last.p_stays_above_low))}, "
                         f"{_pct(float(last.p_stays_above_high))}]"))
        width = max(len(label) for label, _ in rows) + 2
        lines.append(str(company))
        lines += [f"  {label:<{width}}{text}" for label, text in rows]
        lines.append("")
    if threshold is not None:
        last = ds.isel(time=-1)
        lines.append(f"P(every company stays above {format_money(threshold, cur)} through "
                     f"{str(ds.time.values[-1])[:10]}): {_pct(float(last.p_all_stay_above))} "
                     f"[{_pct(float(last.p_all_stay_above_low))}, "
                     f"{_pct(float(last.p_all_stay_above_high))}]")
    return "\n".join(lines).rstrip() + "\n"
