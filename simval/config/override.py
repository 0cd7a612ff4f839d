"""A config with some of its keys set to other values, validated again by the loader."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from simval.config.address import ConfigKey, coerce_value, resolve_key
from simval.config.load import Config, ConfigError, parse_config
from simval.config.tables import has_path, set_path
from simval.config.toml import to_toml, toml_value

__all__ = ["override"]


def _apply(raw: dict[str, Any], scenarios: dict[str, Any] | None, key: ConfigKey,
           value: Any) -> None:
    """Set ``key`` to ``value`` in the base table and in every scenario that sets it itself."""
    path, contract = key.path, key.contract
    in_base = contract is None or has_path(raw, contract)
    if in_base:
        set_path(raw, path, value)
    for override_table in (scenarios or {}).values():
        if not isinstance(override_table, dict):
            continue  # the loader reports it
        if has_path(override_table, path) or (
                not in_base and contract is not None and has_path(override_table, contract)):
            set_path(override_table, path, value)


def _describe_values(values: Mapping[str, Any]) -> str:
    def text(value: Any) -> str:
        try:
            return toml_value(value)
        except TypeError:  # a value TOML cannot write: the message says so
            return repr(value)

    return ", ".join(f"{k} = {text(v)}" for k, v in values.items())


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
    >>> from simval.config.address import value_of
    >>> cfg = simval.load_config("configs/zhipu_2026.toml")
    >>> value_of(override(cfg, {"chips.shock_rate": 0.8}), "chips.shock_rate")
    0.8
    """
    keys = [resolve_key(config, k) if not isinstance(k, ConfigKey) else k for k in values]
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
