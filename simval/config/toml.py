"""Write TOML: the package's one TOML writer, on top of :mod:`tomli_w`.

:func:`to_toml` writes nested tables (a config as :func:`tomllib.loads` returns it, possibly
changed) as TOML text that reads back to the same tables; :func:`toml_value` writes one value
on one line, as messages and sources quote it (``chips.shock_rate = 0.8``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import tomli_w

__all__ = ["to_toml", "toml_value"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars as Python scalars and tuples as lists, at every depth."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_toml(raw: Mapping[str, Any]) -> str:
    """TOML text of nested tables; :func:`tomllib.loads` reads it back to equal tables.

    Tables are written in order, each with a ``[header]`` where it holds values (or
    nothing); numpy scalars are written as the Python numbers they equal.

    Parameters
    ----------
    raw : mapping
        Nested dicts of TOML values (numbers, booleans, strings, dates and times, lists).

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If a value has no TOML form (e.g. None).

    Examples
    --------
    >>> import datetime as dt, tomllib
    >>> raw = {"a": {"x": 1.5, "b": {"when": dt.date(2026, 6, 30)}}, "s": {}}
    >>> print(to_toml(raw), end="")
    [a]
    x = 1.5
    <BLANKLINE>
    [a.b]
    when = 2026-06-30
    <BLANKLINE>
    [s]
    >>> tomllib.loads(to_toml(raw)) == raw
    True
    """
    return tomli_w.dumps(_plain(raw))


def toml_value(value: Any) -> str:
    """One value as TOML text on one line: ``0.8``, ``true``, ``"base"``, ``[1, 2]``.

    Raises
    ------
    TypeError
        If the value has no TOML form.

    Examples
    --------
    >>> toml_value(0.8), toml_value(True), toml_value("base"), toml_value([1, [2.5, "a"]])
    ('0.8', 'true', '"base"', '[1, [2.5, "a"]]')
    >>> toml_value({"a b": 1, "c": {}})
    '{"a b" = 1, c = {}}'
    """
    value = _plain(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return tomli_w.dumps({"v": value})[len("v = "):-1]


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_value(key)
