"""A revenue history read from CSV: dates, revenue per period, its currency and unit.

The file has a ``date,revenue`` header and one row per period (the revenue earned in the period
that ends on the date), after ``#`` comment lines; comment lines of the form ``# currency: USD``,
``# unit: 1e6`` (or ``millions``) and ``# source: ...`` are read as metadata::

    # source: Datadog's quarterly earnings releases
    # currency: USD
    # unit: 1e6
    date,revenue
    2020-03-31,131.2
    ...

The periods must be regular (monthly, quarterly, half-yearly or yearly, within a few days) and
the revenue positive.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
from pathlib import Path

import numpy as np

from simval.layout import DAYS_PER_YEAR

__all__ = ["RevenueSeries", "read_revenue_csv", "revenue_series"]

_UNITS = {"units": 1.0, "ones": 1.0, "thousands": 1e3, "millions": 1e6, "billions": 1e9}
_PERIOD_MONTHS = (1, 3, 6, 12)


@dataclasses.dataclass(frozen=True)
class RevenueSeries:
    """A regular history of revenue per period.

    Attributes
    ----------
    dates : tuple of datetime.date
        End date of each period, increasing.
    revenue : numpy.ndarray
        Revenue earned in each period, in ``currency`` times ``unit``.
    currency : str or None
        Currency of the figures (``None``: not stated).
    unit : float
        Multiplier of the figures (1e6: millions).
    period_months : int
        Length of a period in months (3: quarterly).
    name : str
        A label (the file name without extension).
    source : str
        The file's ``source`` comment, if any.
    """

    dates: tuple[dt.date, ...]
    revenue: np.ndarray
    currency: str | None = None
    unit: float = 1.0
    period_months: int = 3
    name: str = "series"
    source: str = ""

    @property
    def dt(self) -> float:
        """Length of a period in years (0.25 for quarters)."""
        return self.period_months / 12.0

    @property
    def run_rate(self) -> np.ndarray:
        """Annualised revenue run-rate at each period end, in currency/year: the period's
        revenue times ``unit`` divided by the period's length in years (the model's ``R`` with
        ``simulation.revenue_timing = "end"``, where a step's revenue is ``R(t_{k+1})·Δt``)."""
        return self.revenue * self.unit / self.dt

    def __len__(self) -> int:
        return len(self.dates)


def _unit(text: str) -> float:
    word = text.strip().lower().split()[0] if text.strip() else ""
    if word in _UNITS:
        return _UNITS[word]
    try:
        value = float(word)
    except ValueError:
        raise ValueError(f"unit must be a number (1e6) or one of {', '.join(_UNITS)}; got "
                         f"{text.strip()!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"unit must be positive; got {text.strip()!r}")
    return value


def _period_months(dates: list[dt.date], where: str) -> int:
    """The regular spacing of ``dates`` in months (1, 3, 6 or 12), or a ValueError."""
    if len(dates) < 2:
        raise ValueError(f"{where}: needs at least two periods")
    gaps = [(b - a).days for a, b in zip(dates, dates[1:], strict=False)]
    median = sorted(gaps)[len(gaps) // 2]
    months = min(_PERIOD_MONTHS, key=lambda m: abs(median - m * DAYS_PER_YEAR / 12))
    width = months * DAYS_PER_YEAR / 12
    for (a, b), gap in zip(zip(dates, dates[1:], strict=False), gaps, strict=True):
        if abs(gap - width) > max(5.0, 0.1 * width):
            raise ValueError(f"{where}: the periods are not regular: {gap} days from {a} to {b} "
                             f"in a series of {months}-month periods (a missing or repeated "
                             "period?)")
    return months


def revenue_series(dates, revenue, *, currency: str | None = None, unit: float = 1.0,
                   name: str = "series", source: str = "") -> RevenueSeries:
    """Build and check a :class:`RevenueSeries` from dates and revenue per period.

    Parameters
    ----------
    dates : sequence of datetime.date or str
        Period end dates (ISO strings are parsed), increasing and regular.
    revenue : sequence of float
        Revenue of each period, positive.
    currency, unit, name, source
        As the attributes of :class:`RevenueSeries`.

    Returns
    -------
    RevenueSeries
    """
    days = [d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d).strip()[:10])
            for d in dates]
    days = [d.date() if isinstance(d, dt.datetime) else d for d in days]
    values = np.asarray(revenue, dtype=float)
    if values.ndim != 1 or len(values) != len(days):
        raise ValueError(f"{name}: dates and revenue must be two sequences of the same length")
    if any(b <= a for a, b in zip(days, days[1:], strict=False)):
        raise ValueError(f"{name}: the dates must increase")
    bad = [str(d) for d, v in zip(days, values, strict=True) if not (math.isfinite(v) and v > 0)]
    if bad:
        raise ValueError(f"{name}: revenue must be positive and finite; not so at "
                         f"{', '.join(bad)}")
    return RevenueSeries(tuple(days), values, currency, float(unit), _period_months(days, name),
                         name, source)


def read_revenue_csv(path: str | Path) -> RevenueSeries:
    """Read a revenue history from a CSV file (see the module docstring for the format).

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file.

    Returns
    -------
    RevenueSeries
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such revenue file")
    meta: dict[str, str] = {}
    rows: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#"):
            key, sep, value = line.lstrip()[1:].partition(":")
            if sep and key.strip().lower() in ("currency", "unit", "source"):
                meta.setdefault(key.strip().lower(), value.strip())
        elif line.strip():
            rows.append(line)
    table = list(csv.DictReader(io.StringIO("\n".join(rows))))
    if not table or not {"date", "revenue"} <= set(table[0]):
        raise ValueError(f"{path}: expected a CSV with columns date,revenue")
    try:
        revenue = [float(r["revenue"]) for r in table]
        dates = [dt.date.fromisoformat(r["date"].strip()) for r in table]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    return revenue_series(dates, revenue, currency=meta.get("currency") or None,
                          unit=_unit(meta["unit"]) if "unit" in meta else 1.0,
                          name=path.stem, source=meta.get("source", ""))
