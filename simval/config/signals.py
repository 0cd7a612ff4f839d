"""The ``[signals.NAME]`` tables of a config: events observable early on a path ("what to
watch"), validated against every scenario of the config.

Three kinds (``docs/model.md``, section 6, "Signals"):

``kind = "growth"``
    ``series`` (``total_revenue``, ``commercial_revenue`` or ``contract_revenue``) grows by at
    least ``at_least`` from the date ``from`` to the date ``to``: ``S_to >= (1 + at_least)
    S_from`` with ``S_from > 0`` (the run-rates at the first grid times on or after the two
    dates; ``at_least = 0.5`` over one year is 50% annual growth).
``kind = "contract"``
    The named ``contract`` is active (``state = "active"``, the default) at the first grid
    time on or after ``by``, or (``state = "lost"``) was active at ``as_of`` and is not then.
``kind = "chip_shock"``
    At least one chip-supply shock by ``by``: the capacity series falls at some grid time
    after ``as_of`` and on or before the first grid time on or after ``by``.

Every date lies after ``company.as_of`` (``from`` may equal it) and on or before the question
horizon ``as_of + horizon_years``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from simval.layout import DAYS_PER_YEAR

__all__ = ["GROWTH_SERIES", "SIGNAL_KEYS", "validate_signals"]

GROWTH_SERIES = ("total_revenue", "commercial_revenue", "contract_revenue")
"""The series a growth signal can watch."""

SIGNAL_KEYS = {
    "growth": ("series", "from", "to", "at_least"),
    "contract": ("contract", "by", "state"),
    "chip_shock": ("by",),
}
"""The keys of each kind (besides ``kind`` and the optional ``label``); ``state`` defaults to
``"active"``."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def validate_signals(tables: Any, scenarios: dict[str, dict[str, Any]], source: str,
                     errors: list[str]) -> dict[str, dict[str, Any]]:
    """Validate ``[signals]``: append one message per problem to ``errors`` (``FILE:
    [signals.NAME].key must be ...``) and return the valid signals, ``{name: table}``.

    The dates are checked against the first scenario's ``as_of`` and question horizon (every
    scenario shares the time grid) and a contract must exist in every scenario.
    """
    if not isinstance(tables, dict):
        errors.append(f"{source}: [signals] must be a table of signal tables. Got {tables!r} "
                      "instead.")
        return {}
    base = next(iter(scenarios.values()))
    as_of = base["company"]["as_of"]
    years = base["simulation"]["horizon_years"]
    end = as_of + dt.timedelta(days=round(years * DAYS_PER_YEAR))
    out: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        where = f"{source}: [signals.{name}]"
        if not _NAME.match(name):
            errors.append(f"{source}: signal name {name!r} must be a letter or _ followed by "
                          "letters, digits or _.")
            continue
        if not isinstance(table, dict):
            errors.append(f"{where} must be a table. Got {table!r} instead.")
            continue
        n_errors = len(errors)
        kind = table.get("kind")
        if kind not in SIGNAL_KEYS:
            errors.append(f"{where}.kind must be one of " + ", ".join(map(repr, SIGNAL_KEYS))
                          + f". Got {kind!r} instead.")
            continue
        keys = SIGNAL_KEYS[kind]
        for key in table:
            if key not in (*keys, "kind", "label"):
                errors.append(f"{where}.{key} is not a key of a {kind!r} signal. Its keys: "
                              + ", ".join(("kind", *keys, "label")) + ".")
        values: dict[str, Any] = {"kind": kind, "label": table.get("label", name)}
        if not isinstance(values["label"], str) or not values["label"].strip():
            errors.append(f"{where}.label must be a non-empty string. Got "
                          f"{values['label']!r} instead.")
        for key in keys:
            if key not in table and key != "state":
                errors.append(f"{where}.{key} is required for a {kind!r} signal.")
        for key in ("from", "to", "by"):
            if key in keys and key in table:
                date = _date(table[key])
                first = as_of if key == "from" else as_of + dt.timedelta(days=1)
                if date is None or not first <= date <= end:
                    errors.append(f"{where}.{key} must be a date from {first.isoformat()} to "
                                  f"the question horizon {end.isoformat()} (company.as_of + "
                                  f"simulation.horizon_years). Got {table[key]!r} instead.")
                else:
                    values[key] = date
        if kind == "growth":
            series = table.get("series")
            if "series" in table and series not in GROWTH_SERIES:
                errors.append(f"{where}.series must be one of "
                              + ", ".join(map(repr, GROWTH_SERIES)) + f". Got {series!r} "
                              "instead.")
            values["series"] = series
            x = table.get("at_least")
            if "at_least" in table and (isinstance(x, bool) or not isinstance(x, int | float)
                                        or not math.isfinite(x) or x <= -1):
                errors.append(f"{where}.at_least must be a number > -1 (growth S_to / S_from - "
                              f"1 over the window). Got {x!r} instead.")
            else:
                values["at_least"] = None if x is None else float(x)
            if "from" in values and "to" in values and values["from"] >= values["to"]:
                errors.append(f"{where}.to must be after from ({values['from'].isoformat()}). "
                              f"Got {values['to'].isoformat()} instead.")
        elif kind == "contract":
            contract = table.get("contract")
            missing = [s for s, v in scenarios.items() if contract not in v["contracts"]]
            if "contract" in table and missing:
                errors.append(f"{where}.contract must name a contract of [contracts] in every "
                              f"scenario. Got {contract!r} instead (missing in "
                              + ", ".join(missing) + ").")
            values["contract"] = contract
            state = table.get("state", "active")
            if state not in ("active", "lost"):
                errors.append(f"{where}.state must be 'active' or 'lost'. Got {state!r} "
                              "instead.")
            values["state"] = state
        if len(errors) == n_errors:
            out[name] = values
    return out
