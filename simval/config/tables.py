"""Nested TOML tables as plain dicts: merge one onto another, flatten to dot keys, reach a path.

These work on the raw tables :func:`tomllib.loads` returns, before any validation; the one
deep merge of the package is :func:`merge` (scenarios onto the base config, a panel's
``[shared]`` table onto each company, a test's changes onto its base config).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["flatten", "has_path", "merge", "set_path"]


def merge(base: Mapping[str, Any], *overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with each of ``overrides`` deep-merged onto it in turn, as a new dict.

    A table (dict) in an override is merged into the table of the same name; any other value
    replaces the value there. A value ``None`` removes the key (TOML has no null, so this only
    matters for tables built in Python). Neither ``base`` nor the overrides are modified, and
    the result shares no mutable value with them.

    Parameters
    ----------
    base : mapping
        Nested tables, e.g. a config as :func:`tomllib.loads` returns it.
    *overrides : mapping
        Nested tables merged onto ``base``, later ones winning.

    Returns
    -------
    dict

    Examples
    --------
    >>> merge({"chips": {"shock_rate": 0.5, "enabled": True}, "seed": 1},
    ...       {"chips": {"shock_rate": 0.8}}, {"seed": None})
    {'chips': {'shock_rate': 0.8, 'enabled': True}}
    """
    out = copy.deepcopy(dict(base))
    for override in overrides:
        _merge_into(out, override)
    return out


def _merge_into(out: dict[str, Any], override: Mapping[str, Any]) -> None:
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            _merge_into(out[key], value)
        else:
            out[key] = copy.deepcopy(value)


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables as dot keys: ``{"chips": {"rate": x}}`` -> ``{"chips.rate": x}``.

    Examples
    --------
    >>> flatten({"chips": {"shock_rate": 0.5}, "contracts": {"a": {"term_years": 2}}})
    {'chips.shock_rate': 0.5, 'contracts.a.term_years': 2}
    """
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def has_path(node: Any, path: Sequence[str]) -> bool:
    """Whether the nested tables ``node`` hold a value at ``path``."""
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def set_path(node: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set the value at ``path`` in place, creating (or replacing non-table values with) the
    tables on the way."""
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value
