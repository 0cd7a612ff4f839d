"""The result of :func:`simval.research.implied.solve`, the targets it meets, and its JSON form.

:class:`ImpliedResult` holds the input value at which a target holds, its Monte Carlo interval
and what a sentence about it needs; :meth:`ImpliedResult.to_dict` and
:meth:`ImpliedResult.from_dict` convert it to and from JSON-safe values (the format of the files
of :mod:`simval.research.implied.io`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["TARGETS", "ImpliedResult", "parse_target"]

TARGETS = {"p_justified": "P(justified)", "value_ratio": "E[PV]/V0"}
"""Targets :func:`solve` can meet, with their labels."""


def parse_target(target: str | tuple[str, float] | Sequence[Any]) -> tuple[str, float]:
    """``"p_justified=0.5"`` or ``("p_justified", 0.5)`` -> ``("p_justified", 0.5)``.

    Raises
    ------
    ValueError
        For an unknown target, a level that is not a number, a probability outside (0, 1)
        or a value ratio that is not positive.

    Examples
    --------
    >>> parse_target("value_ratio=1")
    ('value_ratio', 1.0)
    """
    if isinstance(target, str):
        name, sep, text = target.partition("=")
        if not sep:
            raise ValueError(f"a target is written NAME=LEVEL (p_justified=0.5 or "
                             f"value_ratio=1); got {target!r}")
    else:
        try:
            name, text = target
        except (TypeError, ValueError):
            raise ValueError(f"a target is (name, level); got {target!r}") from None
    name = str(name).strip()
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; choose from {', '.join(TARGETS)}")
    try:
        level = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"the level of {name} must be a number; got {text!r}") from None
    if name == "p_justified" and not 0.0 < level < 1.0:
        raise ValueError(f"a p_justified target must be in (0, 1); got {level:g}")
    if name == "value_ratio" and not (math.isfinite(level) and level > 0.0):
        raise ValueError(f"a value_ratio target must be > 0; got {level:g}")
    return name, level


@dataclasses.dataclass(frozen=True)
class ImpliedResult:
    """The input value at which a target holds, with its Monte Carlo interval.

    Attributes
    ----------
    key : str
        The input solved for (dot key).
    target : str
        ``"p_justified"`` or ``"value_ratio"``.
    level : float
        The target level.
    value : float
        The solution.
    low, high : float
        The interval: the solutions for the target at ``level ∓ z·se`` (NaN where that
        level is not reached in the searched range, or is not a probability).
    achieved, achieved_se : float
        The target's simulated value at ``value`` and its standard error.
    base_value : float
        The input's value in the config (NaN if unset).
    unit : str
        The input's unit (currency filled in).
    percent : bool
        Whether the input reads as a percentage: a share or probability, or a growth,
        escalation or interest rate (``% a year``).
    confidence : float
    bracket : tuple of float
        The range where the sign change was found.
    n_runs : int
        Simulations run.
    n_paths, seed : int
    scenario, company, currency : str
    at_solution : dict
        Figures of the run at the solution: ``p_justified``, ``p_collapse``, ``value_ratio``,
        ``valuation``, ``horizon_years``, ``end_date``, ``required_revenue``,
        ``required_share``, ``revenue_start`` and ``revenue_median_end`` (median total
        revenue at t_0 and T), ``revenue_growth_median`` (annual growth between them),
        ``share_median_end`` (median share of the market at T); at the question horizon
        T_q: ``question_horizon_years``, ``question_date``, ``revenue_median_question``
        (median total revenue then) and ``revenue_cagr_question`` (its annual growth from
        t_0, :func:`~simval.research.implied.median_cagr`).
    notes : tuple of str
    as_of : str
        The config's as-of date (ISO).
    config_source : str
        The config file the result was solved from.
    config_text : str
        The config's text (without research tables), to match the result with a run.
    config_sha256 : str
        Hash of ``config_text``.
    reference : dict
        What a source assumed (the config's ``[implied.reference]``): ``by``,
        ``market_share`` and dot keys; :func:`describe` compares the solution with it.
    """

    key: str
    target: str
    level: float
    value: float
    low: float
    high: float
    achieved: float
    achieved_se: float
    base_value: float
    unit: str
    percent: bool
    confidence: float
    bracket: tuple[float, float]
    n_runs: int
    n_paths: int
    seed: int
    scenario: str
    company: str
    currency: str
    at_solution: dict[str, Any]
    notes: tuple[str, ...] = ()
    as_of: str = ""
    config_source: str = ""
    config_text: str = ""
    config_sha256: str = ""
    reference: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe values: tuples become lists, and NaN and infinities the
        strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.

        Examples
        --------
        >>> r = ImpliedResult("x.y", "p_justified", 0.5, 2.0, 1.5, math.nan, 0.5, 0.01, 3.0,
        ...                   "1", False, 0.95, (1.0, 4.0), 12, 1000, 1, "base", "Co", "USD",
        ...                   {"p_collapse": math.nan})
        >>> d = r.to_dict()
        >>> d["high"], d["bracket"], d["at_solution"]
        ('NaN', [1.0, 4.0], {'p_collapse': 'NaN'})
        >>> ImpliedResult.from_dict(d).to_dict() == d
        True
        """
        out = {f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)}
        return {"format": _FORMAT, "version": _VERSION, **out}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImpliedResult:
        """The result of :meth:`to_dict` (JSON read back), with its types restored.

        Raises
        ------
        ValueError
            If ``data`` is not an implied result of this format, or misses a required field.
        """
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise ValueError("not a simval implied result (no format: "
                             f"{_FORMAT!r})")
        if data.get("version") != _VERSION:
            raise ValueError(f"implied result of version {data.get('version')!r}; this "
                             f"simval reads version {_VERSION}")
        values: dict[str, Any] = {}
        missing = []
        for f in dataclasses.fields(cls):
            if f.name not in data:
                if (f.default is dataclasses.MISSING
                        and f.default_factory is dataclasses.MISSING):
                    missing.append(f.name)
                continue
            values[f.name] = _decode_field(f.name, data[f.name])
        if missing:
            raise ValueError(f"implied result without {', '.join(missing)}")
        return cls(**values)


_FORMAT = "simval.implied"
_VERSION = 1
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_FLOATS = {"level", "value", "low", "high", "achieved", "achieved_se", "base_value",
           "confidence"}
_INTS = {"n_runs", "n_paths", "seed"}


def _encode(value: Any) -> Any:
    """JSON-safe: tuples as lists, non-finite floats as strings, numpy scalars as Python's."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, str):
        return _NONFINITE.get(value, value)
    if isinstance(value, Mapping):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _decode_field(name: str, value: Any) -> Any:
    value = _decode(value)
    if name in _FLOATS:
        return float(value)
    if name in _INTS:
        return int(value)
    if name == "bracket":
        return tuple(float(v) for v in value)
    if name == "notes":
        return tuple(str(v) for v in value)
    if name == "percent":
        return bool(value)
    return value
