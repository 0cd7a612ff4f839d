"""Implied results in words: the solution as a sentence, and values in their units."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simval.config.load import Config
from simval.format import format_money
from simval.research.implied.result import ImpliedResult

if TYPE_CHECKING:
    from simval.research.implied.reverse import ReverseDCF

__all__ = ["describe", "describe_reverse_dcf", "format_quantity", "reference_assumptions",
           "reference_sentence"]


def format_quantity(value: float, unit: str, currency: str, *, percent: bool = False) -> str:
    """A value in its unit, for sentences: ``15.4% a year``, ``85%``, ``¥92.3B/year``.

    ``percent`` shows a share (unit 1) as ``85%`` and a growth rate (unit 1/year) as
    ``15.4% a year``; without it a 1/year quantity (an intensity) reads ``0.5 per year``.

    Examples
    --------
    >>> format_quantity(0.154, "1/year", "CNY", percent=True)
    '15.4% a year'
    >>> format_quantity(0.5, "1/year", "CNY"), format_quantity(92.3e9, "CNY/year", "CNY")
    ('0.5 per year', '¥92.3B/year')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    if unit == "1/year":
        return f"{100 * value:.3g}% a year" if percent else f"{value:.3g} per year"
    if percent:
        return f"{100 * value:.3g}%"
    if currency and unit.startswith(currency):
        return format_money(value, currency) + unit[len(currency):]
    if unit == "years":
        return f"{value:.3g} years"
    if unit in ("", "1"):
        return f"{value:.4g}"
    return f"{value:.4g} {unit}"


def describe(result: ImpliedResult, config: Config | None = None, *,
             reference: str | None = None) -> str:
    """The solution in words.

    Parameters
    ----------
    result : ImpliedResult
    config : Config, optional
        Not needed (the result carries what the sentence uses); accepted for symmetry with
        the other research functions.
    reference : str, optional
        A sentence appended as is, e.g. ``"The article assumed a 25% share."``. Default: the
        comparison with what the config's ``[implied.reference]`` table says a source
        assumed (:func:`reference_sentence`), if it has one.

    Returns
    -------
    str
        E.g. "Zhipu AI (base): for the valuation of ¥1.00T to be justified with probability
        50%, commercial.growth_long_run must be 41.2% a year (95% interval 39.0% a year to
        43.1% a year, from the Monte Carlo error of 4,000 paths); the config assumes 15% a
        year. There, total revenue on the median path grows 38.9% a year to ¥162B/year by
        2030-06-30, a 9.1% share of that year's market; justifying ¥1.00T at the median exit
        multiple needs ¥92.3B/year then, a 5.2% share. The article assumed a 25% share of
        the 2030 market."
    """
    del config
    r = result
    a = r.at_solution
    cur = r.currency
    v0 = format_quantity(a["valuation"], cur, cur)

    def q(x: float) -> str:
        return format_quantity(x, r.unit, cur, percent=r.percent)

    if r.target == "p_justified":
        goal = f"for the valuation of {v0} to be justified with probability {100 * r.level:.3g}%"
    else:
        goal = (f"for the expected present value to be {r.level:g} times the valuation of "
                f"{v0}")
    def annual(x: float) -> str:  # rates are continuously compounded (docs/model.md)
        if r.unit != "1/year" or not r.percent or not math.isfinite(x):
            return ""
        return f" (continuously compounded; {100 * math.expm1(x):.3g}% in annual terms)"

    low = q(r.low) if math.isfinite(r.low) else "beyond the searched range"
    high = q(r.high) if math.isfinite(r.high) else "beyond the searched range"
    text = (f"{r.company} ({r.scenario}): {goal}, {r.key} must be {q(r.value)}"
            f"{annual(r.value)} "
            f"({r.confidence:.0%} interval {low} to {high}, from the Monte Carlo error of "
            f"{r.n_paths:,} paths); the config assumes "
            f"{q(r.base_value) if math.isfinite(r.base_value) else 'no value'}.")
    growth, end = a["revenue_growth_median"], a["revenue_median_end"]
    if math.isfinite(growth):
        text += (f" There, total revenue on the median path grows {100 * growth:.3g}% a year "
                 "in annual terms "
                 f"to {format_quantity(end, cur + '/year', cur)} by {a['end_date']}")
        if math.isfinite(a["share_median_end"]):
            text += f", a {100 * a['share_median_end']:.2g}% share of that year's market"
        if math.isfinite(a["required_revenue"]):
            text += (f"; justifying {v0} at the median exit multiple needs "
                     f"{format_quantity(a['required_revenue'], cur + '/year', cur)} then")
            if math.isfinite(a["required_share"]):
                text += f", a {100 * a['required_share']:.2g}% share"
        text += "."
    if r.notes:
        text += " Note: " + "; ".join(r.notes) + "."
    if reference is None:
        reference = reference_sentence(r)
    if reference:
        text += " " + reference.strip()
    return text


def reference_sentence(result: ImpliedResult) -> str:
    """What the result's source assumed (``result.reference``), as a sentence; ``""`` if
    the config declares nothing that compares with this result.

    The market share compares with every result (the share of the market at the horizon);
    a dot key only with a result solved for that key.

    Examples
    --------
    >>> r = ImpliedResult("commercial.growth_long_run", "p_justified", 0.5, *[math.nan] * 6,
    ...                   "1/year", True, 0.95, (0.0, 1.0), 0, 0, 0, "base", "Co", "CNY",
    ...                   {"end_date": "2030-06-30"},
    ...                   reference={"by": "the article", "market_share": 0.25,
    ...                              "commercial.growth_long_run": 0.405})
    >>> reference_sentence(r)
    'The article assumed 40.5% a year and a 25% share of the 2030 market.'
    """
    parts = reference_assumptions(result)
    if not parts:
        return ""
    by = str(result.reference.get("by", "the config's source"))
    return f"{by[0].upper()}{by[1:]} assumed {' and '.join(parts)}."


def reference_assumptions(result: ImpliedResult) -> list[str]:
    """What the result's source assumed that compares with it, one phrase per assumption
    (``["40.5% a year", "a 25% share of the 2030 market"]``), as
    :func:`reference_sentence` says them; empty if nothing compares."""
    ref = result.reference
    parts = []
    if result.key in ref:
        parts.append(format_quantity(float(ref[result.key]), result.unit, result.currency,
                                     percent=result.percent))
    if "market_share" in ref:
        year = str(result.at_solution.get("end_date", ""))[:4]
        market = f"the {year} market" if year.isdigit() else "the market at the horizon"
        parts.append(f"a {100 * float(ref['market_share']):.3g}% share of {market}")
    return parts


def _pct(x: float) -> str:
    return f"{100 * x:.3g}%" if math.isfinite(x) else "n/a"


def _interval(low: float, high: float, confidence: float, fmt) -> str:
    """``95% interval 10% to 14%``, an open end read ``beyond the searched range``."""
    def end(x: float) -> str:
        return fmt(x) if math.isfinite(x) else "beyond the searched range"

    return f"{confidence:.0%} interval {end(low)} to {end(high)}"


def describe_reverse_dcf(result: ReverseDCF) -> str:
    """The reverse DCF in words a reader can check against consensus.

    Parameters
    ----------
    result : ReverseDCF

    Returns
    -------
    str
        E.g. "Zhipu AI (base): to justify ¥1.00T (E[PV] = V0), median revenue must compound
        at 61% a year to 2030-06-30 (95% interval 58% to 64%), reaching ¥46.0B a year then
        and ¥210B a year at the valuation horizon 2035-06-30; that is an initial growth
        commercial.growth of 95% a year (continuously compounded; the config assumes 60%),
        with the long-run growth as configured. Or, with growth as configured, the business
        must earn a 38% operating margin at maturity (95% interval 35% to 41%; the config
        assumes 20%). Achieved E[PV]/V0: 1.000 ± 0.021 (growth), 1.000 ± 0.019 (margin);
        4,000 paths, seed 7."
    """
    first = result.first
    cur = first.currency
    v0 = format_quantity(first.at_solution["valuation"], cur, cur)
    if result.level == 1.0:
        goal = f"to justify {v0} (E[PV] = V0)"
    else:
        goal = f"for E[PV] to be {result.level:g} times the valuation of {v0}"
    text = f"{first.company} ({first.scenario}): {goal}, "
    sentences = []
    g, m = result.growth, result.margin
    if g is not None:
        a = g.at_solution

        def money(x: float) -> str:
            return format_quantity(x, cur, cur) + " a year" if math.isfinite(x) else "n/a"

        span = _interval(result.cagr_low, result.cagr_high, g.confidence, _pct)
        part = (f"median revenue must compound at {_pct(result.cagr)} a year to "
                f"{a['question_date']} ({span}), reaching "
                f"{money(a['revenue_median_question'])} then")
        if a["end_date"] != a["question_date"]:
            part += (f" and {money(a['revenue_median_end'])} at the valuation horizon "
                     f"{a['end_date']}")
        growth_rate = format_quantity(g.value, g.unit, cur, percent=g.percent)
        base = (format_quantity(g.base_value, g.unit, cur, percent=g.percent)
                if math.isfinite(g.base_value) else "no value")
        part += (f"; that is an initial growth {g.key} of {growth_rate} (continuously "
                 f"compounded; the config assumes {base}), with the long-run growth as "
                 "configured.")
        sentences.append(part)
    if m is not None:
        lead = ("Or, with growth as configured, the" if g is not None
                else "with growth as configured, the")
        base = _pct(m.base_value)
        sentences.append(
            f"{lead} business must earn a {_pct(m.value)} operating margin at maturity "
            f"({_interval(m.low, m.high, m.confidence, _pct)}; the config assumes {base}).")
    text += " ".join(sentences)
    achieved = [f"{r.achieved:.3f} ± {r.achieved_se:.2g} ({label})"
                for r, label in ((g, "growth"), (m, "margin")) if r is not None]
    text += (f" Achieved E[PV]/V0: {', '.join(achieved)}; {first.n_paths:,} paths, seed "
             f"{first.seed}.")
    if result.notes:
        text += " Not solved: " + "; ".join(result.notes) + "."
    for r in (g, m):
        if r is not None and r.notes:
            text += f" Note ({r.key}): " + "; ".join(r.notes) + "."
    return text
