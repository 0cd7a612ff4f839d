"""Rates as people write them: ``"40%/yr"``, an annual percentage with its unit.

The model's growth, escalation and discount rates are continuously compounded
(``docs/model.md`` section 1): a revenue growing 40% a year grows at ``ln(1.4) = 0.3365`` per
year. A config may give such a rate either as that continuous number or as a string with an
explicit unit, ``"40%/yr"`` (or ``"40%/year"``; ``"-10%/yr"`` for a decline): the annual
percentage ``p`` is converted exactly to the continuous rate ``ln(1 + p/100)``, where
``1 + p/100`` is first rounded once to a double, so ``"40%/yr"`` gives bit for bit
``math.log(1.4)``.

A few keys are annual rates already (:data:`ANNUAL`): the perpetuity's effective annual
``terminal_growth`` and ``return_on_capital`` and the simple annual interest on debt; their
``"3%/yr"`` is ``0.03`` exactly.

A rate written as a bare percentage (``"40%"``) is refused, with a message that says how to
write it: without its unit it is ambiguous between the annual and the continuous reading,
which differ by 9 points at 40%.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation, Overflow

__all__ = ["ANNUAL", "CONTINUOUS", "annual_percent", "parse_rate", "rate_form_hint"]

CONTINUOUS = "continuous"
"""A continuously compounded rate per year: ``"p%/yr"`` is ``ln(1 + p/100)``."""

ANNUAL = "annual"
"""An effective (or simple) annual rate: ``"p%/yr"`` is ``p/100``."""

_RATE = re.compile(r"^\s*([+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*%\s*/\s*"
                   r"(?:yr|year)\s*$")
_BARE_PERCENT = re.compile(r"^\s*[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)\s*%\s*$")


def parse_rate(text: str, compounding: str) -> float | None:
    """The model's value of a rate written ``"p%/yr"``, or None if ``text`` is not that form.

    Parameters
    ----------
    text : str
        E.g. ``"40%/yr"``, ``"-10 %/yr"``, ``"3.5%/year"``.
    compounding : {"continuous", "annual"}
        How the key's rate compounds (its schema field's ``compounding``).

    Returns
    -------
    float or None
        ``ln(1 + p/100)`` for a continuous rate, ``p/100`` for an annual one; None if the text
        is not an annual percentage with its unit, beyond the range of a float, or ``p <= -100``
        for a continuous rate (no logarithm).

    Examples
    --------
    >>> import math
    >>> parse_rate("40%/yr", "continuous") == math.log(1.4)
    True
    >>> parse_rate("3%/yr", "annual")
    0.03
    >>> parse_rate("40%", "continuous") is None
    True
    """
    if compounding not in (CONTINUOUS, ANNUAL):
        raise ValueError(f"unknown compounding {compounding!r}")
    match = _RATE.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    try:  # an exponent beyond the decimal context's range is not a rate either
        percent = Decimal(match.group(1).replace("_", ""))
        rate = float(percent / 100) if compounding == ANNUAL else float(1 + percent / 100)
    except (InvalidOperation, Overflow):
        return None
    if not math.isfinite(rate):
        return None
    if compounding == ANNUAL:
        return rate
    return math.log(rate) if rate > 0.0 else None


def rate_form_hint(text: object, compounding: str) -> str:
    """What to write instead of a malformed rate, for an error message ("" if nothing
    specific: the usual expectation says it)."""
    if isinstance(text, str) and _BARE_PERCENT.match(text):
        number = text.strip().rstrip("%").strip()
        return (f" A percentage needs its unit: write \"{number}%/yr\" for {number}% a year "
                + ("(converted to the continuous rate ln(1 + p/100))"
                   if compounding == CONTINUOUS else "(the annual rate p/100)")
                + ", or the rate as a number.")
    if isinstance(text, str) and compounding == CONTINUOUS and _RATE.match(text):
        return " An annual rate of -100% or less has no continuous equivalent."
    return ""


def annual_percent(value: float, compounding: str) -> float:
    """The annual percentage of a rate in the model's units: ``100 (e^r - 1)`` for a
    continuous rate, ``100 r`` for an annual one.

    Examples
    --------
    >>> round(annual_percent(math.log(1.4), "continuous"), 10)
    40.0
    """
    return 100.0 * (math.expm1(value) if compounding == CONTINUOUS else value)
