"""Config keys addressed by dot paths: ``chips.shock_rate``, ``contracts.NAME.key``, ...

A dot key names one value of a config: ``section.key`` (``chips.shock_rate``),
``contracts.NAME.key``, ``slowdown.section.key`` or ``slowdown.contracts.NAME.key``.
:func:`resolve_key` checks it against :mod:`simval.config.schema` and returns a
:class:`ConfigKey` (its path and schema field), :func:`value_of` reads its validated value,
and :func:`coerce_value` turns text from the command line into a value of the key's type.
:func:`simval.config.override.override` sets keys to new values.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from simval.config.load import Config, ConfigError
from simval.config.rates import parse_rate
from simval.config.schema import (
    CONTRACT_FIELDS,
    CONTRACT_SLOWDOWN_FIELDS,
    SCHEMA,
    SLOWDOWN_FIELDS,
    Field,
)

__all__ = ["FORBIDDEN_KEYS", "ConfigKey", "coerce_value", "resolve_key", "value_of"]

#: keys that cannot be moved by a sweep (nor, since the message is the same, by
#: :func:`~simval.config.override.override`): the run settings are arguments, and every grid
#: point must share the time grid and the currency (so the Datasets line up)
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

#: words of a 1/year key's name that make it a rate read as a percentage (``15% a year``)
_PERCENT_RATES = ("growth", "escalation", "discount_rate", "risk_free_rate")


@dataclasses.dataclass(frozen=True)
class ConfigKey:
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
    def contract(self) -> tuple[str, ...] | None:
        """The path of the named contract's table a key of a contract belongs to,
        ``("contracts", NAME)`` (for ``contracts.NAME.KEY`` and
        ``slowdown.contracts.NAME.KEY``); None for any other key."""
        path = self.path
        if path[0] == "contracts":
            return path[:2]
        return ("contracts", path[2]) if path[:2] == ("slowdown", "contracts") else None

    @property
    def numeric(self) -> bool:
        """Whether the key takes a number (``float`` or ``int``)."""
        return self.field.kind in ("float", "int")

    @property
    def percent(self) -> bool:
        """Whether the key's values read as percentages: shares and probabilities (unit 1 in
        [0, 1]) and growth, escalation and interest rates (1/year); intensities, hazards and
        speeds (1/year) do not."""
        f = self.field
        if f.unit == "1":
            return f.low == 0.0 and f.high == 1.0
        return f.unit == "1/year" and any(word in self.path[-1] for word in _PERCENT_RATES)

    def unit(self, currency: str) -> str:
        """The key's unit with the config's currency filled in."""
        return self.field.unit.format(currency=currency)


def resolve_key(config: Config, key: str) -> ConfigKey:
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
    ConfigKey

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
        names = config.contract_names
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
            names = config.contract_names
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
    return ConfigKey(key, parts, field)


def value_of(config: Config, key: str | ConfigKey, scenario: str | None = None) -> Any:
    """The validated value of a dot key in one scenario (default: the first, by convention base).

    A per-regime slowdown key gives its slowdown value (the normal value unless overridden).

    Examples
    --------
    >>> import simval
    >>> cfg = simval.load_config("configs/zhipu_2026.toml")
    >>> value_of(cfg, "chips.shock_rate")
    0.5
    """
    k = key if isinstance(key, ConfigKey) else resolve_key(config, key)
    values = config.base if scenario is None else config.scenarios[scenario]
    node: Any = values
    for part in k.path:
        if not isinstance(node, dict) or part not in node:
            return None  # e.g. a contract that only another scenario has
        node = node[part]
    return node


def coerce_value(field: Field, value: Any) -> Any:
    """A value as the loader expects it: text from the command line parsed by the key's kind.

    A rate written as an annual percentage with its unit (``"40%/yr"``) becomes the model's
    value (:func:`simval.config.rates.parse_rate`). Text that does not parse is returned
    unchanged, so the loader reports it in its usual
    words (``must be a number in the range [0, 1]. Got 'abc' instead.``).
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        text = value.strip()
        if field.compounding:  # "40%/yr" (simval.config.rates)
            rate = parse_rate(text, field.compounding)
            if rate is not None:
                return rate
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
