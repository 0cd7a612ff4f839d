"""The research tables of a config file: ``[sweep]``, ``[sensitivity]`` and ``[implied]``.

A config may declare its sweep (:mod:`simval.research.sweep`), the input ranges of
:mod:`simval.research.sensitivity` and what a source assumed (for
:mod:`simval.research.implied`), in tables the loader itself does not validate;
:func:`load_research_config` reads them and validates the rest of the file as usual::

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

A rate may be written as an annual percentage with its unit in any of them
(``"commercial.growth" = ["20%/yr", "60%/yr"]``, :mod:`simval.config.rates`).

(``simval run`` and :func:`simval.load_config` accept such a file and ignore those tables.)
Keys are dot keys (:mod:`simval.config.address`).
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from simval.config.address import coerce_value, resolve_key
from simval.config.load import Config, ConfigError, load_config, parse_config
from simval.config.tables import flatten
from simval.config.toml import to_toml

__all__ = ["RESEARCH_TABLES", "ResearchConfig", "as_config", "load_research_config",
           "parse_research_config"]

#: the top-level tables read here, not by the loader
RESEARCH_TABLES = ("sweep", "sensitivity", "implied")


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
    for key, values in flatten(sweep_raw).items():
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
    for key, bounds in flatten(sens.get("ranges", {})).items():
        try:
            field = resolve_key(config, key).field
        except ConfigError as exc:
            problems += [p.replace(f"{config.source}: key", f"{source}: [sensitivity.ranges] "
                                   "key") for p in exc.problems]
            continue
        if isinstance(bounds, list) and field.compounding:  # ["20%/yr", "60%/yr"]
            bounds = [coerce_value(field, b) if isinstance(b, str) else b for b in bounds]
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, int | float) and not isinstance(b, bool)
                           for b in bounds)):
            problems.append(f"{source}: [sensitivity.ranges] {key!r} must be [low, high]. "
                            f"Got {bounds!r} instead.")
            continue
        ranges[key] = (float(bounds[0]), float(bounds[1]))
    groups: dict[str, str] = {}
    for key, group in flatten(sens.get("groups", {})).items():
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
    for key, value in flatten(raw).items():
        if key == "by":
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{source}: [implied.reference].by must be a name (e.g. "
                                f"\"the article\"). Got {value!r} instead.")
                continue
            out[key] = value.strip()
            continue
        if isinstance(value, str) and key != "market_share":  # a rate as "40%/yr"
            with contextlib.suppress(ConfigError):  # an unknown key is reported below
                value = coerce_value(resolve_key(config, key).field, value)
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
    extra = {name: raw.pop(name) for name in RESEARCH_TABLES if name in raw}
    if not extra:
        return ResearchConfig(parse_config(text, source), {}, {}, {})
    stripped = _strip_tables(text, RESEARCH_TABLES)
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
