"""Sweeps as dimensions: config keys moved over a grid, every grid point on the same paths.

A sweep turns one or more config keys into extra dimensions of the results Dataset::

    ds = simval.sweep("configs/zhipu_2026.toml",
                      {"contracts.beijing.renewal_probability": [0.6, 0.7, 0.8, 0.9]},
                      n_paths=20_000, seed=1)
    ds.p_justified.sel(scenario="base")   # one value per renewal probability

Every grid point is simulated with the same seed. Draws depend only on (seed, path, stream,
step, slot) (``docs/model.md`` section 5), so path ``p`` of every grid point sees the same
random numbers (common random numbers) and the differences between grid points are the effect
of the assumption, not noise.

Keys are written ``section.key`` (``chips.shock_rate``), ``contracts.NAME.key``,
``slowdown.section.key`` or ``slowdown.contracts.NAME.key``, and must exist in the schema
(:mod:`simval.config.schema`). A swept value is applied to the base config and to every
scenario that sets the key itself, and the result is validated again by the loader, so a bad
value gives the loader's usual :class:`~simval.config.load.ConfigError` naming the key. A
per-regime key (``chips.shock_rate``) moves the normal-regime value; the slowdown value follows
it unless the config sets ``[slowdown.chips].shock_rate`` (sweep ``slowdown.chips.shock_rate``
to move that).

A config may declare its sweep, and the input ranges of :mod:`simval.research.sensitivity`, in
tables the loader itself does not know; :func:`load_research_config` reads them and validates
the rest of the file as usual::

    [sweep]
    "contracts.beijing.renewal_probability" = [0.6, 0.7, 0.8, 0.9]

    [sensitivity.ranges]
    "chips.shock_rate" = [0.2, 1.0]

    [sensitivity.groups]              # optional; default: by section (see default_group)
    "chips.shock_rate" = "chips"

    [implied.reference]               # what a source assumed, for simval.research.implied
    by = "the article"                # who, as the sentence names them
    market_share = 0.25               # the share of the market at the horizon it assumed
    "commercial.growth_long_run" = 0.405   # the value of an input it assumed

(``simval run`` and :func:`simval.load_config` accept such a file and ignore those tables.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import xarray as xr

from simval.config.load import Config, ConfigError, load_config, parse_config
from simval.config.schema import (
    CONTRACT_FIELDS,
    CONTRACT_SLOWDOWN_FIELDS,
    SCHEMA,
    SLOWDOWN_FIELDS,
    Field,
)
from simval.simulate import check_names, check_whole, simulate

__all__ = [
    "ResearchConfig",
    "SweepKey",
    "as_config",
    "load_research_config",
    "override",
    "resolve_key",
    "sweep",
    "sweep_keys",
    "sweep_table",
    "to_toml",
    "value_of",
]

#: keys a sweep may not move: the run settings are arguments, and every grid point must share
#: the time grid and the currency (so the Datasets line up)
FORBIDDEN_KEYS = {
    "simulation.n_paths": "pass n_paths (--paths) instead",
    "simulation.seed": "pass seed (--seed) instead; all grid points share one seed",
    "simulation.keep_paths": "pass keep_paths instead",
    "simulation.horizon_years": "every grid point must share the time grid",
    "simulation.steps_per_year": "every grid point must share the time grid",
    "company.as_of": "every grid point must share the time grid",
    "company.currency": "every grid point must share the currency",
    "company.name": "it changes no number",
}

_RESEARCH_TABLES = ("sweep", "sensitivity", "implied")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


# --------------------------------------------------------------------------------------------
# keys


@dataclasses.dataclass(frozen=True)
class SweepKey:
    """A config key addressed by a dot path, with its schema field.

    Attributes
    ----------
    name : str
        The dot key as given, e.g. ``"contracts.beijing.renewal_probability"``.
    path : tuple of str
        The nested TOML path, e.g. ``("contracts", "beijing", "renewal_probability")``.
    field : Field
        Its entry in :mod:`simval.config.schema` (type, range, unit, description).
    """

    name: str
    path: tuple[str, ...]
    field: Field

    @property
    def label(self) -> str:
        """The key as the loader's messages write it: ``[contracts.beijing].term_years``."""
        return "[" + ".".join(self.path[:-1]) + "]." + self.path[-1]

    @property
    def numeric(self) -> bool:
        """Whether the key takes a number (``float`` or ``int``)."""
        return self.field.kind in ("float", "int")

    def unit(self, currency: str) -> str:
        """The key's unit with the config's currency filled in."""
        return self.field.unit.format(currency=currency)


def _contract_names(config: Config) -> list[str]:
    names: list[str] = []
    for values in config.scenarios.values():
        names += [c for c in values["contracts"] if c not in names]
    return names


def resolve_key(config: Config, key: str) -> SweepKey:
    """The schema field of a dot key, or a :class:`ConfigError` saying what is wrong with it.

    Parameters
    ----------
    config : Config
        The config the key will be applied to (for its contract names).
    key : str
        ``section.key``, ``contracts.NAME.key``, ``slowdown.section.key`` or
        ``slowdown.contracts.NAME.key``.

    Returns
    -------
    SweepKey

    Raises
    ------
    ConfigError
        If the key does not exist in the schema (or names no contract of the config), or
        cannot be swept (the run settings and the keys every grid point must share).

    Examples
    --------
    >>> import simval
    >>> cfg = simval.load_config("configs/zhipu_2026.toml")
    >>> resolve_key(cfg, "contracts.beijing.renewal_probability").label
    '[contracts.beijing].renewal_probability'
    """
    def bad(message: str) -> ConfigError:
        return ConfigError([f"{config.source}: key {key!r} {message}"])

    if not isinstance(key, str) or not key:
        raise ConfigError([f"{config.source}: a key must be a non-empty string like "
                           f"'chips.shock_rate'. Got {key!r} instead."])
    parts = tuple(key.split("."))
    sections = ", ".join([*SCHEMA, "contracts", "slowdown"])
    head = parts[0]
    if head in SCHEMA:
        if len(parts) != 2:
            raise bad(f"must be written {head}.KEY (one of {', '.join(SCHEMA[head])}).")
        if parts[1] not in SCHEMA[head]:
            raise bad(f"is not a known key: [{head}] has the keys {', '.join(SCHEMA[head])}.")
        field = SCHEMA[head][parts[1]]
    elif head == "contracts":
        names = _contract_names(config)
        if len(parts) != 3:
            raise bad("must be written contracts.NAME.KEY.")
        if parts[1] not in names:
            raise bad(f"names no contract of the config; its contracts are "
                      f"{', '.join(names) or '(none)'}.")
        if parts[2] not in CONTRACT_FIELDS:
            raise bad(f"is not a known key: a contract has the keys "
                      f"{', '.join(CONTRACT_FIELDS)}.")
        field = CONTRACT_FIELDS[parts[2]]
    elif head == "slowdown":
        if len(parts) >= 2 and parts[1] == "contracts":
            names = _contract_names(config)
            if len(parts) != 4:
                raise bad("must be written slowdown.contracts.NAME.KEY.")
            if parts[2] not in names:
                raise bad(f"names no contract of the config; its contracts are "
                          f"{', '.join(names) or '(none)'}.")
            if parts[3] not in CONTRACT_SLOWDOWN_FIELDS:
                raise bad("cannot differ in the slowdown regime; a contract's per-regime keys "
                          f"are {', '.join(CONTRACT_SLOWDOWN_FIELDS)}.")
            field = CONTRACT_SLOWDOWN_FIELDS[parts[3]]
        else:
            if len(parts) != 3 or parts[1] not in SLOWDOWN_FIELDS \
                    or parts[2] not in SLOWDOWN_FIELDS[parts[1]]:
                known = ", ".join(f"slowdown.{s}.{k}" for s, fields in SLOWDOWN_FIELDS.items()
                                  for k in fields)
                raise bad(f"is not a per-regime key. Per-regime keys: {known}, "
                          "slowdown.contracts.NAME.renewal_probability, "
                          "slowdown.contracts.NAME.price_change_median.")
            field = SLOWDOWN_FIELDS[parts[1]][parts[2]]
    else:
        raise bad(f"is not in a known section. Known sections: {sections}.")
    if key in FORBIDDEN_KEYS:
        raise bad(f"cannot be swept: {FORBIDDEN_KEYS[key]}.")
    if field.kind == "points":
        raise bad("cannot be swept: it is a list of points, not a single value.")
    return SweepKey(key, parts, field)


def value_of(config: Config, key: str | SweepKey, scenario: str | None = None) -> Any:
    """The validated value of a dot key in one scenario (default: the first, by convention base).

    A per-regime slowdown key gives its slowdown value (the normal value unless overridden).

    Examples
    --------
    >>> import simval
    >>> cfg = simval.load_config("configs/zhipu_2026.toml")
    >>> value_of(cfg, "chips.shock_rate")
    0.5
    """
    k = key if isinstance(key, SweepKey) else resolve_key(config, key)
    values = config.base if scenario is None else config.scenarios[scenario]
    node: Any = values
    for part in k.path:
        if not isinstance(node, dict) or part not in node:
            return None  # e.g. a contract that only another scenario has
        node = node[part]
    return node


# --------------------------------------------------------------------------------------------
# values


def _plain(value: Any) -> Any:
    """numpy scalars as Python scalars."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def coerce_value(field: Field, value: Any) -> Any:
    """A value as the loader expects it: text from the command line parsed by the key's kind.

    Text that does not parse is returned unchanged, so the loader reports it in its usual
    words (``must be a number in the range [0, 1]. Got 'abc' instead.``).
    """
    value = _plain(value)
    if isinstance(value, str):
        text = value.strip()
        if field.kind == "float":
            try:
                return float(text)
            except ValueError:
                return value
        if field.kind == "int":
            try:
                return int(text)
            except ValueError:
                try:
                    number = float(text)
                except ValueError:
                    return value
                return int(number) if number.is_integer() else value
        if field.kind == "bool" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return value
    if field.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if field.kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --------------------------------------------------------------------------------------------
# TOML text


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} to TOML")


def to_toml(raw: Mapping[str, Any]) -> str:
    """TOML text of a nested dict (as :func:`tomllib.loads` returns it); round-trips exactly.

    Examples
    --------
    >>> text = to_toml({"a": {"x": 1.5, "b": {"when": dt.date(2026, 6, 30)}}, "s": {}})
    >>> tomllib.loads(text) == {"a": {"x": 1.5, "b": {"when": dt.date(2026, 6, 30)}}, "s": {}}
    True
    """
    lines: list[str] = []

    def table(prefix: tuple[str, ...], d: Mapping[str, Any]) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
        subs = {k: v for k, v in d.items() if isinstance(v, dict)}
        if prefix and (scalars or not subs):
            lines.append("[" + ".".join(_toml_key(p) for p in prefix) + "]")
        lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items())
        for k, v in subs.items():
            table((*prefix, k), v)

    table((), raw)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# overriding a config


def _set(node: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


def _has(node: Any, path: Sequence[str]) -> bool:
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _apply(raw: dict[str, Any], scenarios: dict[str, Any] | None, key: SweepKey,
           value: Any) -> None:
    """Set ``key`` to ``value`` in the base table and in every scenario that sets it itself."""
    path = key.path
    contract = path[:2] if path[0] == "contracts" else (
        ("contracts", path[2]) if path[:2] == ("slowdown", "contracts") else None)
    in_base = contract is None or _has(raw, contract)
    if in_base:
        _set(raw, path, value)
    for override_table in (scenarios or {}).values():
        if not isinstance(override_table, dict):
            continue  # the loader reports it
        if _has(override_table, path) or (
                not in_base and contract is not None and _has(override_table, contract)):
            _set(override_table, path, value)


def _describe_values(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {_toml_value(v)}" for k, v in values.items())


def override(config: Config, values: Mapping[str, Any]) -> Config:
    """A copy of ``config`` with dot keys set, validated again by the loader.

    Each value is set in the base tables and in every scenario that sets the key itself (so
    every scenario sees it), the TOML text is written out again and validated by
    :func:`simval.parse_config`; the returned config keeps the scenarios of ``config`` and has
    that text (its ``source`` says what was changed).

    Parameters
    ----------
    config : Config
    values : mapping of str to value
        Dot key -> value (numbers, booleans, strings; text is parsed by the key's type).

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        If a key is unknown or a value invalid; the message names the key and the value.

    Examples
    --------
    >>> import simval
    >>> cfg = simval.load_config("configs/zhipu_2026.toml")
    >>> value_of(override(cfg, {"chips.shock_rate": 0.8}), "chips.shock_rate")
    0.8
    """
    keys = [resolve_key(config, k) if not isinstance(k, SweepKey) else k for k in values]
    raw = tomllib.loads(config.text)
    scenarios = raw.pop("scenarios", None)
    if isinstance(scenarios, dict):  # only the scenarios this config runs
        scenarios = {name: table for name, table in scenarios.items()
                     if name in config.scenarios}
    shown = {}
    for key, value in zip(keys, values.values(), strict=True):
        value = coerce_value(key.field, value)
        shown[key.name] = value
        _apply(raw, scenarios, key, value)
    if scenarios is not None:
        raw["scenarios"] = scenarios
    try:
        text = to_toml(raw)
    except TypeError as exc:
        raise ConfigError([f"{config.source}: cannot set {_describe_values(shown)}: "
                           f"{exc}"]) from None
    source = f"{config.source} with {_describe_values(shown)}"
    new = parse_config(text, source=source)
    return new.select(list(config.scenarios))


# --------------------------------------------------------------------------------------------
# configs with [sweep] and [sensitivity] tables


class ResearchConfig(NamedTuple):
    """A validated config and the research tables its file declares.

    Attributes
    ----------
    config : Config
        The config without the research tables (its ``text`` omits them, so results built
        from it can be read back by :func:`simval.parse_config`).
    sweep : dict
        Dot key -> list of values, from ``[sweep]``.
    ranges : dict
        Dot key -> (low, high), from ``[sensitivity.ranges]``.
    groups : dict
        Dot key -> driver group, from ``[sensitivity.groups]``.
    reference : dict
        What a source assumed, from ``[implied.reference]``: ``by`` (who, e.g. ``"the
        article"``), ``market_share`` (the share of the market at the horizon) and numeric dot
        keys; empty if the file has no such table. :func:`simval.research.implied.describe`
        compares a market-implied expectation with it.
    """

    config: Config
    sweep: dict[str, list[Any]]
    ranges: dict[str, tuple[float, float]]
    groups: dict[str, str]
    reference: dict[str, Any] = {}  # shared default, never mutated


def _flatten(table: Any, prefix: str = "") -> dict[str, Any]:
    """Nested tables as dot keys: ``{"chips": {"rate": x}}`` -> ``{"chips.rate": x}``."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_\-\"'. ]+?)\s*\]\]?\s*(#.*)?$")


def _strip_tables(text: str, names: Iterable[str]) -> str:
    """``text`` without the tables whose header starts with one of ``names`` (comments kept)."""
    names = tuple(names)
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        match = _HEADER.match(line)
        if match:
            head = match.group(1).split(".")[0].strip().strip("\"'")
            skipping = head in names
        if not skipping:
            out.append(line)
    return "".join(out)


def _research_tables(source: str, config: Config, extra: dict[str, Any]) -> ResearchConfig:
    problems: list[str] = []
    sweep_raw = extra.get("sweep", {})
    sens = extra.get("sensitivity", {})
    if not isinstance(sweep_raw, dict):
        problems.append(f"{source}: [sweep] must be a table of KEY = [values]. Got "
                        f"{sweep_raw!r} instead.")
        sweep_raw = {}
    if not isinstance(sens, dict):
        problems.append(f"{source}: [sensitivity] must be a table. Got {sens!r} instead.")
        sens = {}
    for name in sens:
        if name not in ("ranges", "groups"):
            problems.append(f"{source}: [sensitivity].{name} is not a known key. Known keys: "
                            "ranges, groups.")
    grid: dict[str, list[Any]] = {}
    for key, values in _flatten(sweep_raw).items():
        try:
            resolve_key(config, key)
        except ConfigError as exc:
            problems += [p.replace(f"{config.source}: key", f"{source}: [sweep] key")
                         for p in exc.problems]
            continue
        if not isinstance(values, list) or not values:
            problems.append(f"{source}: [sweep] {key!r} must be a non-empty list of values. "
                            f"Got {values!r} instead.")
            continue
        grid[key] = values
    ranges: dict[str, tuple[float, float]] = {}
    for key, bounds in _flatten(sens.get("ranges", {})).items():
        try:
            resolve_key(config, key)
        except ConfigError as exc:
            problems += [p.replace(f"{config.source}: key", f"{source}: [sensitivity.ranges] "
                                   "key") for p in exc.problems]
            continue
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, int | float) and not isinstance(b, bool)
                           for b in bounds)):
            problems.append(f"{source}: [sensitivity.ranges] {key!r} must be [low, high]. "
                            f"Got {bounds!r} instead.")
            continue
        ranges[key] = (float(bounds[0]), float(bounds[1]))
    groups: dict[str, str] = {}
    for key, group in _flatten(sens.get("groups", {})).items():
        if not isinstance(group, str) or not group.strip():
            problems.append(f"{source}: [sensitivity.groups] {key!r} must be a group name. "
                            f"Got {group!r} instead.")
            continue
        groups[key] = group
    reference = _reference(source, config, extra.get("implied", {}), problems)
    if problems:
        raise ConfigError(problems)
    return ResearchConfig(config, grid, ranges, groups, reference)


def _reference(source: str, config: Config, table: Any, problems: list[str]) -> dict[str, Any]:
    """The ``[implied.reference]`` table: ``by``, ``market_share`` and numeric dot keys."""
    if not isinstance(table, dict):
        problems.append(f"{source}: [implied] must be a table. Got {table!r} instead.")
        return {}
    problems += [f"{source}: [implied].{name} is not a known key. Known keys: reference."
                 for name in table if name != "reference"]
    raw = table.get("reference", {})
    if not isinstance(raw, dict):
        problems.append(f"{source}: [implied.reference] must be a table. Got {raw!r} instead.")
        return {}
    out: dict[str, Any] = {}
    for key, value in _flatten(raw).items():
        if key == "by":
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{source}: [implied.reference].by must be a name (e.g. "
                                f"\"the article\"). Got {value!r} instead.")
                continue
            out[key] = value.strip()
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{source}: [implied.reference] {key!r} must be a number. Got "
                            f"{value!r} instead.")
            continue
        if key == "market_share":
            if not 0.0 < value <= 1.0:
                problems.append(f"{source}: [implied.reference].market_share must be a share "
                                f"in (0, 1]. Got {value!r} instead.")
                continue
        else:
            try:
                resolve_key(config, key)
            except ConfigError as exc:
                problems += [p.replace(f"{config.source}: key", f"{source}: "
                                       "[implied.reference] key") for p in exc.problems]
                continue
        out[key] = float(value)
    if out and "by" not in out and not any("[implied.reference].by" in p for p in problems):
        out["by"] = "the config's source"
    return out


def load_research_config(path: str | Path) -> ResearchConfig:
    """Read a config that may declare ``[sweep]`` and ``[sensitivity]`` tables.

    The research tables are taken out of the text (keeping every comment of the rest) and
    the rest is validated by :func:`simval.parse_config` as usual.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ResearchConfig

    Raises
    ------
    ConfigError
        If the file cannot be read, the config is invalid, or a research table names an
        unknown key or holds a malformed value.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the config: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        return ResearchConfig(load_config(path), {}, {}, {})  # the loader says what is wrong
    return parse_research_config(text, source=str(path))


def parse_research_config(text: str, source: str = "<string>") -> ResearchConfig:
    """:func:`load_research_config` of TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return ResearchConfig(parse_config(text, source), {}, {}, {})  # the loader's message
    extra = {name: raw.pop(name) for name in _RESEARCH_TABLES if name in raw}
    if not extra:
        return ResearchConfig(parse_config(text, source), {}, {}, {})
    stripped = _strip_tables(text, _RESEARCH_TABLES)
    try:
        same = tomllib.loads(stripped) == raw
    except tomllib.TOMLDecodeError:
        same = False
    if not same:  # e.g. the tables were written as dotted keys at the top: write the text anew
        stripped = to_toml(raw)
    config = parse_config(stripped, source=source)
    return _research_tables(source, config, extra)


def as_config(config: Config | ResearchConfig | str | Path) -> ResearchConfig:
    """Any accepted config argument as a :class:`ResearchConfig` (paths read with
    :func:`load_research_config`)."""
    if isinstance(config, ResearchConfig):
        return config
    if isinstance(config, Config):
        return ResearchConfig(config, {}, {}, {})
    if isinstance(config, str | Path):
        return load_research_config(config)
    raise TypeError(f"expected a Config or the path of a TOML config; got {type(config)!r}")


# --------------------------------------------------------------------------------------------
# the sweep


def _grid(config: Config, grid: Mapping[str, Sequence[Any]]) -> tuple[list[SweepKey],
                                                                      list[list[Any]]]:
    """Resolved keys and coerced values; every problem of every key and value at once."""
    problems: list[str] = []
    keys: list[SweepKey] = []
    values: list[list[Any]] = []
    for name, vals in grid.items():
        try:
            key = resolve_key(config, name)
        except ConfigError as exc:
            problems += exc.problems
            continue
        if isinstance(vals, str | bytes) or not isinstance(vals, Iterable):
            problems.append(f"{config.source}: the values of {name!r} must be a list. Got "
                            f"{vals!r} instead.")
            continue
        vals = [coerce_value(key.field, v) for v in vals]
        if not vals:
            problems.append(f"{config.source}: {name!r} needs at least one value to sweep.")
            continue
        if len({json.dumps(v, default=str) for v in vals}) != len(vals):
            problems.append(f"{config.source}: the values of {name!r} must differ. Got "
                            f"{vals!r} instead.")
            continue
        for v in vals:  # each value on its own, so every bad one is reported
            try:
                override(config, {name: v})
            except ConfigError as exc:
                problems += exc.problems
        keys.append(key)
        values.append(vals)
    if not grid:
        problems.append(f"{config.source}: nothing to sweep: give at least one KEY = [values]")
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)))
    return keys, values


def sweep(config: Config | ResearchConfig | str | Path,
          grid: Mapping[str, Sequence[Any]] | None = None, *, n_paths: int | None = None,
          seed: int | None = None, scenarios: Sequence[str] | None = None,
          keep_paths: int = 0, threads: int | None = None, chunk_size: int | None = None,
          progress: bool = False) -> xr.Dataset:
    """Simulate a config over a grid of values of some of its keys, on common random numbers.

    Parameters
    ----------
    config : Config, ResearchConfig, str or Path
        The config (a path is read with :func:`load_research_config`, so its ``[sweep]``
        table is the default grid).
    grid : mapping of str to sequence, optional
        Dot key -> values, e.g. ``{"contracts.beijing.renewal_probability": [0.6, 0.9],
        "chips.shock_rate": [0.25, 0.5, 1.0]}``. The full grid (the Cartesian product) is run.
        Default: the config's ``[sweep]`` table.
    n_paths, seed : int, optional
        Paths per scenario and grid point, and the seed (defaults: the config's). Every grid
        point uses the same seed.
    scenarios : sequence of str, optional
        Run only these scenarios (default: all).
    keep_paths : int, default: 0
        Paths kept in full at every grid point; with 0 the variables over ``path`` are left
        out.
    threads, chunk_size : int, optional
        As in :func:`simval.simulate`.
    progress : bool, default: False
        Show a progress bar over the grid points on stderr.

    Returns
    -------
    xarray.Dataset
        The variables of :func:`simval.simulate` with one extra leading dimension per swept
        key, named by the key and with its values as coordinate (``units`` and
        ``description`` attributes from the schema). The attributes are those of the first
        grid point's run, with ``config`` the unswept config and ``sweep_keys`` (JSON list of
        the swept keys).

    Raises
    ------
    ConfigError
        If a key is unknown or cannot be swept, or a value (or a combination of values) is
        invalid; every problem is reported, each naming its key and value.

    Notes
    -----
    Each grid point is a separate call of :func:`simval.simulate` with the same seed, so
    path ``p`` sees the same draws at every grid point (common random numbers): a swept key
    that does not touch revenue leaves the revenue paths identical. Differences between
    grid points therefore have much smaller Monte Carlo error than the separate intervals
    suggest; :func:`simval.research.sensitivity.tornado` computes the paired errors.

    Examples
    --------
    >>> ds = sweep("configs/minimax_2025.toml", {"chips.shock_rate": [0.2, 0.8]},
    ...            n_paths=1000, scenarios=["base"])
    >>> ds.p_justified.dims
    ('chips.shock_rate', 'scenario')
    """
    research = as_config(config)
    cfg = research.config
    n_paths = check_whole("n_paths", n_paths, 1, 2**31 - 1)
    seed = check_whole("seed", seed, 0, 2**63 - 1)
    keep_paths = check_whole("keep_paths", keep_paths, 0)
    scenarios = check_names("scenarios", scenarios)
    if scenarios is not None:
        cfg = cfg.select(scenarios)
    if grid is None:
        grid = research.sweep
    keys, values = _grid(cfg, grid)
    points = list(itertools.product(*values))
    configs = [override(cfg, dict(zip([k.name for k in keys], point, strict=True)))
               for point in points]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(configs), unit="point", desc="sweeping", leave=False)
    runs = []
    try:
        for c in configs:
            runs.append(simulate(c, n_paths=n_paths, seed=seed, keep_paths=keep_paths,
                                 threads=threads, chunk_size=chunk_size))
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return _stack(runs, keys, values, cfg, keep_paths)


def _stack(runs: list[xr.Dataset], keys: list[SweepKey], values: list[list[Any]],
           config: Config, keep_paths: int) -> xr.Dataset:
    first = runs[0]
    for run in runs[1:]:
        for name, coord in first.coords.items():
            if not coord.equals(run.coords[name]):  # pragma: no cover - guarded by FORBIDDEN
                raise ValueError(f"the grid points do not share the coordinate {name!r}")
    shape = tuple(len(v) for v in values)
    dims = tuple(k.name for k in keys)
    data = {}
    for name, var in first.data_vars.items():
        if "path" in var.dims and keep_paths == 0:
            continue
        stacked = np.stack([run[name].values for run in runs]).reshape(shape + var.shape)
        data[name] = xr.Variable(dims + var.dims, stacked, attrs=dict(var.attrs))
    currency = config.base["company"]["currency"]
    coords = {name: coord.variable for name, coord in first.coords.items()
              if keep_paths > 0 or "path" not in coord.dims}
    for key, vals in zip(keys, values, strict=True):
        attrs = {"description": f"swept config key {key.label}: {key.field.doc}"}
        if key.field.unit:
            attrs["units"] = key.unit(currency)
        coord_values = [v.isoformat() if isinstance(v, dt.date) else v for v in vals]
        coords[key.name] = xr.Variable(key.name, np.asarray(coord_values), attrs=attrs)
    attrs = dict(first.attrs)
    attrs.update({"config": config.text, "config_source": config.source,
                  "config_sha256": config.sha256, "sweep_keys": json.dumps(list(dims)),
                  "random_numbers": attrs.get("random_numbers", "")
                  + "; every grid point of the sweep uses the same seed (common random "
                    "numbers)"})
    return xr.Dataset(data, coords=coords, attrs=attrs)


def sweep_keys(ds: xr.Dataset) -> list[str]:
    """The swept keys of a sweep Dataset (its extra dimensions), in order."""
    if "sweep_keys" not in ds.attrs:
        raise ValueError("not a sweep Dataset: no 'sweep_keys' attribute")
    return list(json.loads(ds.attrs["sweep_keys"]))


def _fmt_coord(value: Any) -> str:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    value = _plain(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return ("  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))).rstrip()


def sweep_table(ds: xr.Dataset) -> str:
    """The headline figures of every grid point, one line each, per scenario.

    Parameters
    ----------
    ds : xarray.Dataset
        The result of :func:`sweep`.

    Returns
    -------
    str
        P(justified) and P(collapse) with their 95% Clopper-Pearson intervals and
        E[PV]/V_0 with its standard error, at every grid point.
    """
    from simval.stats.summary import _pct

    keys = sweep_keys(ds)
    lines = [f"{ds.attrs.get('company', '')}: sweep of {', '.join(keys)} "
             f"({ds.attrs.get('n_paths', 0):,} paths per point, seed {ds.attrs.get('seed')}, "
             "common random numbers)",
             "probabilities with 95% Clopper-Pearson intervals"]
    header = [*keys, "P(justified)", "P(collapse)", "E[PV]/V0 (± 1 s.e.)"]
    for scenario in ds.scenario.values:
        s = ds.sel(scenario=scenario)
        rows = []
        for index in np.ndindex(*(s.sizes[k] for k in keys)):
            point = s.isel(dict(zip(keys, index, strict=True)))
            row = [_fmt_coord(point[k].values) for k in keys]
            for name in ("p_justified", "p_collapse"):
                row.append(f"{_pct(float(point[name]))} [{_pct(float(point[name + '_low']))}, "
                           f"{_pct(float(point[name + '_high']))}]")
            se = float(point.value_ratio_se)
            row.append(f"{float(point.value_ratio):.3g} ± "
                       + (f"{se:.2g}" if np.isfinite(se) else "n/a"))
            rows.append(row)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines += ["", f"{scenario}"]
        lines.append(_row(header, widths))
        lines += [_row(r, widths) for r in rows]
    return "\n".join(lines) + "\n"
