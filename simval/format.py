"""Every rule that turns a number into text: money, percentages, plain numbers.

The headline table, the reports, the figures' tick labels and the research tools' sentences
all format numbers through these functions, so a value reads the same wherever it appears.
This module imports nothing from simval (it sits at the bottom of the package).
"""

from __future__ import annotations

import math
import re
from typing import Any

from scipy.special import ndtri

__all__ = [
    "CURRENCY_SYMBOLS",
    "Z_95",
    "format_mean",
    "format_money",
    "format_number",
    "format_percent",
    "format_probability",
    "format_value",
    "short_money",
    "table_row",
]

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
"""Currencies written with a symbol; any other ISO code is written after the number."""

NOT_AVAILABLE = "n/a"
"""The text of a number that is missing or not finite."""

Z_95 = float(ndtri(0.975))
"""The normal quantile of a two-sided 95% interval: the half-width of a mean's 95% interval
in standard errors."""


def format_money(value: float | None, currency: str) -> str:
    """Money with three significant figures and a magnitude suffix.

    Parameters
    ----------
    value : float or None
        Amount in ``currency``; ``None`` and non-finite values read ``n/a``.
    currency : str
        ISO code; CNY, USD, EUR, GBP and JPY are written as a symbol before the number.

    Examples
    --------
    >>> format_money(1e12, "CNY"), format_money(62.5e9, "USD")
    ('¥1.00T', '$62.5B')
    >>> format_money(-3.2e6, "CHF")
    '-3.20M CHF'
    >>> format_money(float("nan"), "USD")
    'n/a'
    """
    if value is None or not math.isfinite(value):
        return NOT_AVAILABLE
    symbol = CURRENCY_SYMBOLS.get(currency)
    sign = "-" if value < 0 else ""
    x = abs(value)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"), (1.0, "")):
        if x >= div or div == 1.0:
            number = x / div
            digits = 3 - len(str(int(number))) if number < 1000 else 0
            text = f"{number:.{max(digits, 0)}f}{suffix}"
            break
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def short_money(value: float, currency: str) -> str:
    """:func:`format_money` without trailing zeros, for tick labels.

    Examples
    --------
    >>> short_money(1e12, "CNY"), short_money(62.5e9, "USD"), short_money(0.0, "CNY")
    ('¥1T', '$62.5B', '¥0')
    >>> short_money(-3.2e6, "CHF")
    '-3.2M CHF'
    """
    text = format_money(value, currency)
    match = re.search(r"(\d+)\.(\d+)", text)
    if match:
        frac = match.group(2).rstrip("0")
        number = match.group(1) + (f".{frac}" if frac else "")
        text = text[:match.start()] + number + text[match.end():]
    return text


def format_percent(p: float) -> str:
    """A probability or share as a percentage, with enough digits for small values.

    Values of 1% and more (and zero) get one decimal; smaller ones get two significant
    figures, so that 0.04% does not read as 0.0%.

    Examples
    --------
    >>> format_percent(0.782), format_percent(0.025), format_percent(0.00043)
    ('78.2%', '2.5%', '0.043%')
    >>> format_percent(0.0), format_percent(float("nan"))
    ('0.0%', 'n/a')
    """
    if not math.isfinite(p):
        return NOT_AVAILABLE
    if p == 0.0 or abs(p) >= 0.01:
        return f"{100 * p:.1f}%"
    return f"{100 * p:.{1 - math.floor(math.log10(100 * abs(p)))}f}%"


def format_probability(values: Any, name: str) -> str:
    """A probability with its 95% interval, ``78.1% [77.9%, 78.4%]``.

    Parameters
    ----------
    values : mapping
        Anything indexed by name (an ``xarray.Dataset`` selected down to scalars, a dict) that
        holds ``name``, ``name + "_low"`` and ``name + "_high"``.
    name : str
        The probability's name, e.g. ``"p_collapse"``.

    Examples
    --------
    >>> format_probability({"p": 0.781, "p_low": 0.779, "p_high": 0.784}, "p")
    '78.1% [77.9%, 78.4%]'
    """
    return (f"{format_percent(float(values[name]))} [{format_percent(float(values[name + '_low']))}"
            f", {format_percent(float(values[name + '_high']))}]")


def format_number(value: float | None, digits: int = 3) -> str:
    """A plain number with ``digits`` significant figures (``n/a`` when missing or not finite).

    Examples
    --------
    >>> format_number(0.15812), format_number(1234567.0, 4), format_number(None)
    ('0.158', '1.235e+06', 'n/a')
    """
    if value is None or not math.isfinite(value):
        return NOT_AVAILABLE
    return f"{value:.{digits}g}"


def format_mean(value: float, se: float) -> str:
    """A mean with its standard error, ``0.158 ± 0.00039`` (``n/a`` for a missing one).

    Examples
    --------
    >>> format_mean(0.15812, 0.000391), format_mean(1.2, float("nan"))
    ('0.158 ± 0.00039', '1.2 ± n/a')
    """
    return f"{format_number(value)} ± {format_number(se, 2)}"


def format_value(value: Any) -> str:
    """A coordinate or setting as a short label: floats in ``%g`` form, anything else as text.

    Examples
    --------
    >>> format_value(0.5), format_value(2.0), format_value("base"), format_value(3)
    ('0.5', '2', 'base', '3')
    """
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def table_row(cells: list[str] | tuple[str, ...], widths: list[int] | tuple[int, ...],
              indent: str = "  ") -> str:
    """One line of a plain-text table: each cell left-aligned in its column's width.

    Examples
    --------
    >>> table_row(["a", "bb"], [3, 2])
    '  a    bb'
    """
    return (indent + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))).rstrip()
