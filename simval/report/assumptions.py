"""The assumptions table of a report, generated from the config text stored in the results.

Every parameter of :data:`simval.config.schema.SCHEMA` (and of each named contract) is listed
with its value in the first scenario, its unit and its meaning, whether the config sets it or
it is the default, and its value in the slowdown regime where that differs. A second table
lists, per scenario, every value that differs from the first scenario.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import tomllib
from enum import Enum
from typing import Any

import xarray as xr

from simval.config.load import Config, ConfigError, parse_config
from simval.config.rates import CONTINUOUS, annual_percent
from simval.config.schema import CONTRACT_FIELDS, SCHEMA, Field
from simval.format import format_money

__all__ = ["Assumption", "Difference", "assumptions", "config_of", "scenario_differences",
           "scenario_notes"]


@dataclasses.dataclass(frozen=True)
class Assumption:
    """One row of the assumptions table."""

    key: str          # "commercial.growth", "contracts.beijing.revenue"
    symbol: str       # model symbol in docs/model.md ("mu_0"), or ""
    value: str        # formatted value in the first scenario
    unit: str         # unit with the currency filled in ("CNY/year"), or ""
    meaning: str      # one-line description from the schema
    source: str       # "config" if the config sets it, "default" otherwise
    slowdown: str     # formatted value in the slowdown regime if it differs, else ""


@dataclasses.dataclass(frozen=True)
class Difference:
    """A value of a scenario that differs from the first scenario."""

    key: str
    base: str
    value: str
    unit: str


def config_of(ds: xr.Dataset) -> Config:
    """The validated config of a run, parsed from ``ds.attrs["config"]``.

    Raises
    ------
    ConfigError
        If the stored text is missing or no longer validates (results written by another
        version of simval).
    """
    text = ds.attrs.get("config")
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(["the results carry no config text (attribute 'config')"])
    return parse_config(text, source=str(ds.attrs.get("config_source", "<results>")))


def _unit(field: Field, values: dict[str, Any]) -> str:
    currency = values["company"]["currency"]
    points_currency = values["market_size"].get("currency") or currency
    unit = field.unit
    if unit == "{currency} per unit":
        return f"{currency} per {points_currency}"
    if unit.startswith("points' currency"):
        return unit.replace("points' currency", points_currency)
    return unit.replace("{currency}", currency)


def format_value(field: Field, value: Any, values: dict[str, Any], key: str = "") -> str:
    """A config value as the report shows it (money with its symbol, dates in ISO form; a
    rate per year in both forms: a continuously compounded one as ``0.405/yr continuous
    (49.9%/yr annual)``, an annual one as ``0.03/yr annual (3%/yr)``; see
    :mod:`simval.config.rates`)."""
    currency = values["company"]["currency"]
    if value is None:
        return "—"
    if isinstance(value, Enum):
        value = value.value
    if field.kind == "bool":
        return "true" if value else "false"
    if field.kind == "date" or isinstance(value, dt.date):
        return value.isoformat()
    if field.kind == "points":
        points_currency = values["market_size"].get("currency") or currency
        return ", ".join(f"{year:g}: {format_money(size, points_currency)}"
                         for year, size in value)
    if field.kind == "int":
        return str(int(value)) if key == "seed" else f"{int(value):,}"
    if field.kind == "float":
        x = float(value)
        if field.unit.startswith("{currency}") and "per unit" not in field.unit:
            return format_money(x, currency).replace("0.00", "0", 1) if x == 0 else \
                format_money(x, currency)
        text = f"{x:.4g}" if math.isfinite(x) and x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3) \
            else f"{x:g}"
        if field.compounding and x != 0 and math.isfinite(x):
            percent = annual_percent(x, field.compounding)
            text = f"{x:.4g}"
            text += (f"/yr continuous ({percent:.3g}%/yr annual)"
                     if field.compounding == CONTINUOUS else f"/yr annual ({percent:.3g}%/yr)")
        return text
    return str(value)


def _explicit(raw: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = raw
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _section_on(config: Config, section: str) -> bool:
    """Whether any scenario switches the section on (sections without a switch are on)."""
    if "enabled" not in SCHEMA[section]:
        return True
    return any(values[section]["enabled"] for values in config.scenarios.values())


def assumptions(config: Config, *, run: dict[str, Any] | None = None) -> list[Assumption]:
    """Every parameter of the first scenario with its unit, meaning and source.

    Sections that no scenario switches on are reduced to their ``enabled = false`` row (their
    other keys are not used).

    Parameters
    ----------
    config : Config
    run : dict, optional
        The run's actual ``n_paths``, ``seed`` and ``keep_paths`` (the command line can
        override the config's); a differing value is shown as ``config value (this run: x)``.

    Returns
    -------
    list of Assumption

    Examples
    --------
    >>> import simval
    >>> rows = assumptions(simval.load_config("configs/zhipu_2026.toml"))
    >>> row = next(r for r in rows if r.key == "contracts.beijing.renewal_probability")
    >>> row.value, row.unit, row.slowdown, row.source
    ('0.85', '1', '0.5', 'config')
    >>> next(r for r in rows if r.key == "company.valuation").value
    '¥1.00T'
    """
    values = config.base
    raw = tomllib.loads(config.text)
    slow = values["slowdown"]
    rows: list[Assumption] = []
    for section, fields in SCHEMA.items():
        on = _section_on(config, section)
        for key, field in fields.items():
            if not on and key != "enabled":
                continue
            value = values[section][key]
            text = format_value(field, value, values, key)
            if section == "simulation" and run and key in run and run[key] != value:
                text += f" (this run: {format_value(field, run[key], values, key)})"
            slow_text = ""
            if field.per_regime and section in slow and slow[section][key] != value:
                slow_text = format_value(field, slow[section][key], values, key)
            rows.append(Assumption(f"{section}.{key}", field.symbol, text, _unit(field, values),
                                   field.doc, "config" if _explicit(raw, (section, key))
                                   else "default", slow_text))
    for name, contract in values["contracts"].items():
        for key, field in CONTRACT_FIELDS.items():
            value = contract[key]
            slow_value = slow.get("contracts", {}).get(name, {}).get(key, value)
            rows.append(Assumption(
                f"contracts.{name}.{key}", field.symbol, format_value(field, value, values, key),
                _unit(field, values), field.doc,
                "config" if _explicit(raw, ("contracts", name, key)) else "default",
                format_value(field, slow_value, values, key) if slow_value != value else ""))
    return rows


def _flatten(values: dict[str, Any]) -> dict[tuple[str, ...], tuple[Field, Any]]:
    out: dict[tuple[str, ...], tuple[Field, Any]] = {}
    for section, fields in SCHEMA.items():
        for key, field in fields.items():
            out[(section, key)] = (field, values[section][key])
    for name, contract in values["contracts"].items():
        for key, field in CONTRACT_FIELDS.items():
            out[("contracts", name, key)] = (field, contract[key])
    for section, table in values["slowdown"].items():
        if section == "contracts":
            for name, contract in table.items():
                for key, value in contract.items():
                    out[("slowdown", "contracts", name, key)] = (CONTRACT_FIELDS[key], value)
        else:
            for key, value in table.items():
                out[("slowdown", section, key)] = (SCHEMA[section][key], value)
    return out


def scenario_differences(config: Config) -> dict[str, list[Difference]]:
    """Per scenario after the first, every value that differs from the first scenario.

    The comparison is of the validated values, so a scenario that changes a normal-regime
    value also shows the slowdown value it carries along, and a contract a scenario adds or
    drops is listed key by key.

    Examples
    --------
    >>> import simval
    >>> diffs = scenario_differences(simval.load_config("configs/zhipu_2026.toml"))
    >>> [(d.key, d.base, d.value) for d in diffs["province_rollout"]]
    [('expansion.win_rate', '1.5', '8'), ('expansion.revenue_median', '¥500M', '¥3.40B')]
    """
    names = list(config.scenarios)
    base_values = config.scenarios[names[0]]
    base = _flatten(base_values)
    out: dict[str, list[Difference]] = {}
    for name in names[1:]:
        values = config.scenarios[name]
        other = _flatten(values)
        diffs = []
        for path in dict.fromkeys([*base, *other]):
            field, b = base.get(path, (other[path][0], None))
            _, v = other.get(path, (field, None))
            if b != v:
                diffs.append(Difference(".".join(path),
                                        format_value(field, b, base_values, path[-1]),
                                        format_value(field, v, values, path[-1]),
                                        _unit(field, values)))
        out[name] = diffs
    return out


def scenario_notes(config: Config) -> dict[str, str]:
    """The comment on each ``[scenarios.NAME]`` line of the config, if any."""
    notes = {}
    for name in config.scenarios:
        match = re.search(rf"^\s*\[scenarios\.{re.escape(name)}\]\s*#\s*(.+?)\s*$",
                          config.text, flags=re.MULTILINE)
        if match:
            notes[name] = match.group(1)
    return notes
