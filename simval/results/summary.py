"""Headline figures of a results Dataset (or a panel's) as a plain-text table."""

from __future__ import annotations

import math

import xarray as xr

from simval.format import (
    Z_95,
    format_mean,
    format_money,
    format_number,
    format_percent,
    format_probability,
)
from simval.results.dataset import question_index

__all__ = ["EXTRA_BLOCKS", "draw_rows", "draw_spread", "format_quantile", "headline_table",
           "panel_table", "signal_rows", "weighted_rows"]

EXTRA_BLOCKS = ("weighted  (", "what to watch  (", "parameter uncertainty  (")
"""How the headline's blocks after the scenarios begin (the weighted mixture, the signals,
the spread across the parameter draws of a two-level run)."""


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




def _horizons(ds: xr.Dataset) -> tuple[float, str, float, str]:
    """The question and valuation horizons: years and end dates, ``(4.0, "2030-06-30", 10.0,
    "2036-06-30")``."""
    t_q = float(ds.attrs.get("question_horizon_years", ds.attrs["horizon_years"]))
    t_v = float(ds.attrs.get("valuation_horizon_years", t_q))
    return (t_q, str(ds.time.values[question_index(ds)])[:10], t_v,
            str(ds.time.values[-1])[:10])


def _required_table(s: xr.Dataset, cur: str) -> list[tuple[str, str]]:
    """The required-revenue table of one scenario as headline rows (one per level)."""
    if "required_revenue_table" not in s:
        return []
    at = s.required_at
    kind = at.attrs.get("long_name", "terminal_margin")
    rows = []
    for level, revenue in zip(at.values, s.required_revenue_table.values, strict=True):
        label = (f"  at an exit multiple of {level:g}x sales" if kind == "exit_multiple"
                 else f"  at a {format_percent(float(level))} terminal margin")
        rows.append((label, f"{format_money(float(revenue), cur)}/year"))
    return rows


def _value_model_rows(s: xr.Dataset, cur: str, q_index: int) -> list[tuple[str, str]]:
    """The value model's rows of one scenario: the company's own part of the collapse, W_0
    and B_0 (none with market.model = multiple)."""
    if "p_collapse_fundamental" not in s or not math.isfinite(float(s.p_collapse_fundamental)):
        return []
    b0 = float(s.price_to_value_0)
    rows = [("  of which the company alone (B fixed at B0)",
             format_probability(s, "p_collapse_fundamental"))]
    if not math.isfinite(b0):  # a two-level run: W_0 differs from draw to draw
        return rows
    gap = f"{b0:,.0f}x" if 100 <= b0 < 1e6 else f"{b0:.3g}x" if b0 < 100 else f"{b0:.1e}x"
    r2 = float(s.fundamental_value_r2.isel(time=q_index))
    return [
        *rows,
        ("model's own value W0 / price-to-value B0",
         f"{format_money(float(s.fundamental_value_0), cur)}"
         f" / {gap} (fit R^2 at the question horizon {r2:.2f})"),
    ]


def headline_table(ds: xr.Dataset) -> str:
    """The headline figures of every scenario, as printed by ``simval run`` and ``simval show``.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` (or :func:`simval.open_results`).

    Returns
    -------
    str
        One block per scenario, in the order of MODEL.md 10.6: E[PV]/V_0 with its interval and
        the terminal value's share of it; P(collapse) and P(bankrupt) by the question horizon;
        the share of futures in which today's price turns out cheap (PV >= V_0); PV quantiles,
        per share when the share count is known; the revenue at each horizon and the revenue
        that would justify today's price, as a table over terminal margins (or exit
        multiples).
    """
    cur = ds.attrs["currency"]
    t_q, end_q, t_v, end_v = _horizons(ds)
    two_level = "draw" in ds.dims
    paths = (f"{ds.attrs['draws']} parameter draws x {ds.attrs['paths_per_draw']:,} paths "
             "per scenario" if two_level else f"{ds.attrs['n_paths']:,} paths per scenario")
    lines = [
        f"{ds.attrs['company']}: valuation tested as of {ds.attrs['as_of']} "
        f"({ds.attrs['measure']}, {paths}, seed {ds.attrs['seed']})",
        f"question horizon {t_q:g} years, to {end_q} (collapse, bankruptcy, threshold); "
        f"valuation horizon {t_v:g} years, to {end_v} (PV)",
        ("predictive numbers (the mixture over the parameter draws) with 95% intervals of "
         "parameter uncertainty and Monte Carlo error together" if two_level
         else "probabilities with 95% Clopper-Pearson intervals") + "; money in " + cur,
    ]
    if ds.attrs.get("antithetic"):
        lines.append("antithetic pairs: standard errors and intervals from the pair averages")
    if "precision_target" in ds.attrs:
        met = "met" if ds.attrs["precision_reached"] else (
            f"NOT met: stopped at the cap of {ds.attrs['max_paths']:,} paths")
        lines.append(f"precision target: 95% half-width <= {ds.attrs['precision_target']:g} "
                     f"for P(justified) and P(collapse) in every scenario: {met}")
    lines.append("")
    shares = ds.attrs.get("shares_outstanding")
    other, fx = ds.attrs.get("reporting_currency"), ds.attrs.get("reporting_fx_rate")
    for scen in ds.scenario.values:
        s = ds.sel(scenario=scen)
        q = s.pv_quantile
        ratio, se = float(s.value_ratio), float(s.value_ratio_se)
        rows = [
            ("E[PV] / V0", f"{format_mean(ratio, se)} (1 s.e.; 95%: "
                           f"{format_number(ratio - Z_95 * se)} to "
                           f"{format_number(ratio + Z_95 * se)})"),
        ]
        if "terminal_value_share" in s:
            rows.append(("terminal value's share of E[PV]",
                         format_percent(float(s.terminal_value_share))))
        rows.append((f"P(collapse: V <= {format_money(float(s.collapse_level), cur)} by "
                     f"{end_q})", format_probability(s, "p_collapse")))
        rows += _value_model_rows(s, cur, question_index(ds))
        rows.append((f"P(bankrupt by {end_q})", format_probability(s, "p_bankrupt")))
        if "threshold" in ds and math.isfinite(float(s.threshold)):
            last = s.isel(time=question_index(ds))
            rows.append((f"P(V >= {format_money(float(s.threshold), cur)} at {end_q})",
                         format_probability(last, "p_above_threshold")))
        rows += [
            ("today's price turns out cheap (PV >= V0)", format_probability(s, "p_justified")),
            ("PV quantiles 5/25/50/75/95%",
             " / ".join(format_quantile(s, "pv_quantile", p, cur)
                        for p in q["quantile"].values)),
        ]
        if fx:
            rows.append((f"E[PV] and median PV in {other}",
                         f"{format_money(float(s.pv_mean) * fx, other)} / "
                         f"{format_money(float(q.sel(quantile=0.5)) * fx, other)} (at {fx:g} "
                         f"{other} per {cur})"))
        if shares:
            rows.append(("median PV per share",
                         f"{format_money(float(q.sel(quantile=0.5)) / float(shares), cur)} "
                         f"({float(shares):,.0f} shares; today "
                         f"{format_money(float(s.valuation) / float(shares), cur)})"))
        q_index = question_index(ds)
        if q_index < ds.sizes["time"] - 1:
            median_q = s.total_revenue_quantile.isel(time=q_index).sel(quantile=0.5)
            rows.append((f"median revenue at {end_q}",
                         f"{format_money(float(median_q), cur)}/year"))
        share = float(s.required_share)
        rows += [
            (f"median revenue at {end_v}",
             f"{format_quantile(s, 'terminal_revenue_quantile', 0.5, cur)}/year"),
            ("revenue needed then for PV = V0",
             f"{format_money(float(s.required_revenue), cur)}/year"
             + (f" = {format_percent(share)} of the market-size table" if math.isfinite(share)
                else "")
             + " (the config's own margin or multiple)"),
            *_required_table(s, cur),
        ]
        label_width = max(len(label) for label, _ in rows) + 2
        v0 = format_money(float(s.valuation), cur)
        if fx:
            v0 += f" ({format_money(float(s.valuation) * fx, other)})"
        lines.append(f"{scen}  V0 = {v0}")
        lines += [f"  {label:<{label_width}}{text}" for label, text in rows]
        lines.append("")
    weighted = weighted_rows(ds)
    if weighted:
        width = max(len(label) for label, _ in weighted) + 2
        weights = ", ".join(f"{scen} {float(w):.3g}" for scen, w in
                            zip(ds.scenario.values, ds.scenario_weight.values, strict=True))
        lines.append(f"{EXTRA_BLOCKS[0]}scenario weights: {weights})")
        if ds.attrs.get("scenario_weights_note"):
            lines.append(f"  note: {ds.attrs['scenario_weights_note']}")
        lines += [f"  {label:<{width}}{text}" for label, text in weighted]
        lines.append("")
    watch = signal_rows(ds)
    if watch:
        lines.append(f"{EXTRA_BLOCKS[1]}conditional on each signal and on its absence, by "
                     f"{end_q}; 95% intervals)")
        for scen, rows in watch:
            lines.append(f"  {scen}")
            width = max(len(label) for label, _ in rows) + 2
            lines += [f"    {label:<{width}}{text}" for label, text in rows]
        lines.append("")
    spread = draw_rows(ds)
    if spread:
        keys = ", ".join(str(k) for k in ds.parameter.values)
        lines.append(f"{EXTRA_BLOCKS[2]}{ds.attrs['draws']} draws of {keys}; across draws "
                     "5% / 50% / 95% of each number, and the parameters' share of its "
                     "per-draw variance, the rest being Monte Carlo noise)")
        for scen, rows in spread:
            lines.append(f"  {scen}")
            width = max(len(label) for label, _ in rows) + 2
            lines += [f"    {label:<{width}}{text}" for label, text in rows]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


DRAW_ROWS = (("value_ratio", "E[PV] / V0"), ("p_collapse", "P(collapse)"),
             ("p_bankrupt", "P(bankrupt)"), ("p_justified", "P(PV >= V0)"))
"""The headline numbers whose spread across draws the headline shows (others of the Dataset's
``*_band`` variables are in the Dataset and the report)."""


def draw_spread(s: xr.Dataset, name: str, share_suffix: str = "") -> tuple[str, str]:
    """The spread across draws of the number ``name`` of one scenario ``s`` of a two-level
    run, as ``(band, share)``: its 5% / 50% / 95% band across draws, and the parameters'
    share of its per-draw variance followed by ``share_suffix`` (``"no spread"`` when the
    variance is zero)."""
    show = format_percent if name.startswith("p_") else format_number
    band = " / ".join(show(float(x)) for x in s[f"{name}_band"].values)
    var_p, var_mc = float(s[f"{name}_var_parameter"]), float(s[f"{name}_var_mc"])
    total = var_p + var_mc
    return band, (f"{format_percent(var_p / total)}{share_suffix}" if total > 0
                  else "no spread")


def draw_rows(ds: xr.Dataset) -> list[tuple[str, list[tuple[str, str]]]]:
    """Per scenario of a two-level run, one row per number of :data:`DRAW_ROWS`: its band
    across draws (5/50/95%) and the parameters' share of the per-draw variance (empty for a
    one-level run)."""
    if "draw" not in ds.dims:
        return []
    out = []
    for scen in ds.scenario.values:
        s = ds.sel(scenario=scen)
        rows = []
        for name, label in DRAW_ROWS:
            if f"{name}_band" not in ds:
                continue
            band, share = draw_spread(s, name, " from parameters")
            rows.append((label, f"{band}  ({share})"))
        out.append((str(scen), rows))
    return out


def weighted_rows(ds: xr.Dataset) -> list[tuple[str, str]]:
    """The scenario-weighted mixture's headline numbers as ``(label, text)`` rows (empty
    without weights): estimates with their standard error and 95% interval."""
    if "weighted_p_collapse" not in ds:
        return []

    def show(name: str, percent: bool) -> str:
        value, se = float(ds[name]), float(ds[f"{name}_se"])
        low, high = float(ds[f"{name}_low"]), float(ds[f"{name}_high"])
        if percent:
            return (f"{format_percent(value)} [{format_percent(low)}, {format_percent(high)}] "
                    f"(s.e. {format_percent(se)})")
        return f"{format_mean(value, se)} (1 s.e.; 95%: {format_number(low)} to " \
               f"{format_number(high)})"

    return [("E[PV] / V0", show("weighted_value_ratio", False)),
            ("P(collapse)", show("weighted_p_collapse", True)),
            ("P(bankrupt)", show("weighted_p_bankrupt", True)),
            ("today's price turns out cheap (PV >= V0)", show("weighted_p_justified", True))]


def signal_rows(ds: xr.Dataset) -> list[tuple[str, list[tuple[str, str]]]]:
    """Per scenario, the "what to watch" rows of every signal: P(signal), P(collapse) and
    E[PV]/V0 given the signal and given its absence (empty without signals)."""
    if "p_signal" not in ds:
        return []
    out = []
    for scen in ds.scenario.values:
        rows = []
        for sig in ds.signal.values:
            s = ds.sel(scenario=scen, signal=sig)
            label = str(s.signal_label.values)
            given, absent = (format_mean(float(s[f"value_ratio_given_{tag}"]),
                                         float(s[f"value_ratio_given_{tag}_se"]))
                             for tag in ("signal", "no_signal"))
            rows += [
                (f"{label}: P(signal)", format_probability(s, "p_signal")),
                ("  P(collapse | signal) vs | no signal",
                 f"{format_probability(s, 'p_collapse_given_signal')} vs "
                 f"{format_probability(s, 'p_collapse_given_no_signal')}"),
                ("  E[PV]/V0 | signal vs | no signal",
                 f"{given} vs {absent}"),
            ]
        out.append((str(scen), rows))
    return out


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
            if name == "p_collapse":
                rows += _value_model_rows(s, cur, question_index(ds))
        if threshold is not None:
            last = s.isel(time=question_index(ds))
            rows.append((f"P(stays above {format_money(threshold, cur)} through T)",
                         format_probability(last, "p_stays_above")))
        width = max(len(label) for label, _ in rows) + 2
        lines.append(str(company))
        lines += [f"  {label:<{width}}{text}" for label, text in rows]
        lines.append("")
    if threshold is not None:
        last = ds.isel(time=question_index(ds))
        lines.append(f"P(every company stays above {format_money(threshold, cur)} through "
                     f"{str(ds.time.values[question_index(ds)])[:10]}): "
                     f"{format_probability(last, 'p_all_stay_above')}")
    return "\n".join(lines).rstrip() + "\n"
