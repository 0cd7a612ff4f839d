"""Market-implied expectations (reverse Monte Carlo): what would have to be true?

:func:`solve` finds the value of one input (long-run commercial growth, the market-share cap, a
renewal probability, the exit multiple, ...) at which a target holds, e.g. P(justified) = 50%
or E[PV]/V_0 = 1, by root finding (:func:`scipy.optimize.brentq`) on common random numbers: for
a fixed seed the simulated target is a deterministic function of the input, so the root finder
sees no noise. Its Monte Carlo error becomes an interval on the input: the equation is solved
again for the target moved by ± z standard errors (the target's standard error at the
solution), which brackets the input values consistent with the simulation. :func:`describe`
says it in words::

    result = solve("configs/zhipu_2026.toml", "commercial.growth_long_run",
                   ("p_justified", 0.5), n_paths=4000)
    print(describe(result))   # ... the article assumed a 25% share of the 2030 market.

The comparison at the end comes from the config's ``[implied.reference]`` table (see
:mod:`simval.research.sweep`), carried by the result. A result is saved as JSON with
:func:`save_result` (``simval implied`` writes ``results/<config>/implied_*.json``) and read back
with :func:`load_result`; it carries the identity of its config (source, text and hash,
company, as-of date, scenario), so a report can tell whether it belongs to a run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, stats

from simval.config.load import Config, ConfigError
from simval.research.sensitivity import SimvalModel, pick_scenario
from simval.research.sweep import ResearchConfig, SweepKey, as_config, override, value_of

__all__ = ["TARGETS", "ImpliedResult", "describe", "format_quantity", "load_result",
           "parse_target", "reference_assumptions", "reference_sentence", "result_filename",
           "save_result", "solve"]

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
        ``share_median_end`` (median share of the market at T).
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


def result_filename(key: str, target: str, level: float) -> str:
    """The file name ``simval implied`` gives a result: ``implied_<key>_<target>_<level>.json``
    with every dot written as ``_``.

    Examples
    --------
    >>> result_filename("commercial.growth_long_run", "p_justified", 0.5)
    'implied_commercial_growth_long_run_p_justified_0_5.json'
    """
    name = f"implied_{key}_{target}_{level:g}"
    return name.replace(".", "_").replace("-", "m").replace("+", "") + ".json"


def save_result(result: ImpliedResult, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write an implied result as JSON (:meth:`ImpliedResult.to_dict`), atomically.

    Parameters
    ----------
    result : ImpliedResult
    path : str or Path
        The file to write (its folder is created if needed).
    overwrite : bool, default: False
        Replace an existing file. Without it an existing file raises
        :class:`simval.ResultsExistError` and is left untouched.

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> r = ImpliedResult("x.y", "value_ratio", 1.0, 2.0, 1.5, 2.5, 1.0, 0.01, 3.0, "1",
    ...                   False, 0.95, (1.0, 4.0), 12, 1000, 1, "base", "Co", "USD", {})
    >>> path = save_result(r, tempfile.mkdtemp() + "/r.json")
    >>> load_result(path) == r
    True
    """
    from simval.results.io import ResultsExistError, write_file_atomic

    path = Path(path)
    if path.exists() and not overwrite:
        raise ResultsExistError(f"{path} exists; pass overwrite=True (--force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_file_atomic(path, text.encode("utf-8"))


def load_result(path: str | Path) -> ImpliedResult:
    """Read an implied result written by :func:`save_result`.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not an implied result of simval (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such implied result")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ImpliedResult.from_dict(data)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a simval implied result ({exc})") from None


class _Function:
    """The target's gap ``f(x) - level`` as a function of the input, with evaluation log."""

    def __init__(self, model: SimvalModel, key: SweepKey, name: str):
        self.model, self.key, self.name = model, key, name

    def value(self, x: float) -> dict[str, float]:
        return self.model({self.key.name: self._cast(x)})

    def _cast(self, x: float) -> float | int:
        return int(round(x)) if self.key.field.kind == "int" else float(x)

    def valid(self, x: float) -> bool:
        """Whether the loader accepts the input at ``x`` (its range and the cross-checks,
        e.g. at most 2 expected chip shocks per step)."""
        try:
            override(self.model.config, {self.key.name: self._cast(x)})
        except ConfigError:
            return False
        return True

    def towards(self, anchor: float, x: float) -> float:
        """``x`` if valid, else the valid value nearest to it on the way to ``anchor``
        (a valid value), by bisection."""
        if self.valid(x):
            return x
        good, bad = anchor, x
        for _ in range(40):
            mid = (good + bad) / 2
            if self.valid(mid):
                good = mid
            else:
                bad = mid
        return good

    def gap(self, level: float) -> Callable[[float], float]:
        return lambda x: self.value(x)[self.name] - level


def _limits(key: SweepKey) -> tuple[float, float]:
    """The open interval of valid values, nudged inside the schema's bounds."""
    f = key.field
    lo = -math.inf if f.low is None else float(f.low)
    hi = math.inf if f.high is None else float(f.high)
    if f.low is not None and f.low_open:
        lo += 1e-9 * max(1.0, abs(lo))
    if f.high is not None and f.high_open:
        hi -= 1e-9 * max(1.0, abs(hi))
    return lo, hi


def _widen(key: SweepKey, centre: float, k: int) -> tuple[float, float]:
    """The k-th (k >= 1) search range around ``centre``: multiplicative for positive keys,
    additive otherwise, clipped to the schema's bounds."""
    lo_lim, hi_lim = _limits(key)
    if lo_lim >= 0 and centre > 0:
        lo, hi = centre / 2.0**k, centre * 2.0**k
    else:
        width = max(abs(centre), 0.1) * 2.0 ** (k - 1)
        lo, hi = centre - width, centre + width
    return max(lo, lo_lim), min(hi, hi_lim)


def _sign_change(g: Callable[[float], float], a: float, b: float) -> bool:
    ga, gb = g(a), g(b)
    return bool(np.sign(ga) != np.sign(gb) or ga == 0 or gb == 0)


def _root(g: Callable[[float], float], a: float, b: float, xtol: float) -> float:
    if a > b:
        a, b = b, a
    return float(optimize.brentq(g, a, b, xtol=xtol, rtol=1e-10, maxiter=200))


def solve(config: Config | ResearchConfig | str | Path, key: str,
          target: str | tuple[str, float] = ("p_justified", 0.5), *,
          bracket: Sequence[float] | None = None, n_paths: int = 4000,
          seed: int | None = None, scenario: str = "base", confidence: float = 0.95,
          xtol: float | None = None, max_expansions: int = 10,
          threads: int | None = None) -> ImpliedResult:
    """The value of one input at which a target holds, with a Monte Carlo interval.

    Parameters
    ----------
    config : Config, ResearchConfig, str or Path
    key : str
        A numeric dot key, e.g. ``"commercial.growth_long_run"``,
        ``"market_size.max_share"``, ``"contracts.beijing.renewal_probability"``,
        ``"valuation.exit_multiple_median"``.
    target : str or (str, float), default: ("p_justified", 0.5)
        ``("p_justified", p)`` or ``("value_ratio", r)`` (or ``"p_justified=0.5"``).
    bracket : (float, float), optional
        Where to look. Default: ranges around the config's value, widened (halving and
        doubling a positive value, else adding and subtracting) up to ``max_expansions``
        times within the key's valid range, until the target is crossed.
    n_paths : int, default: 4000
        Paths of every run.
    seed : int, optional
        Seed of every run (default: the config's); all runs share it.
    scenario : str, default: "base"
    confidence : float, default: 0.95
        Level of the interval.
    xtol : float, optional
        Absolute tolerance of the root (default: 1e-6 of the bracket's width; the Monte Carlo
        interval is far wider).
    max_expansions : int, default: 10
    threads : int, optional

    Returns
    -------
    ImpliedResult

    Raises
    ------
    ConfigError
        If the key is unknown or not numeric, or the bracket holds values the loader rejects.
    ValueError
        If the target is malformed, or it is not crossed in the bracket (the message gives
        the target's values at the bracket's ends).

    Notes
    -----
    With a fixed seed, P(justified) estimated from ``n`` paths is a step function of the
    input (it changes by 1/n where a path crosses PV = V_0), so :func:`scipy.optimize.brentq`
    converges to the step where it crosses the level; the step size is far below the
    Monte Carlo error, which the interval reflects. Writing ``f̂`` for the simulated target
    and ``se`` for its standard error at the solution, the true root ``x₀`` satisfies
    ``f̂(x₀) = level + e`` with ``e ≈ N(0, se²)`` (with common random numbers the error
    changes slowly with the input), so ``{x : |f̂(x) − level| ≤ z·se}`` is an approximate
    ``confidence`` interval for ``x₀``; its ends are found by solving ``f̂(x) = level ∓ z·se``.
    The target must be monotone in the input over the bracket for the interval to be one
    piece.
    """
    name, level = parse_target(target)
    research = as_config(config)
    cfg = research.config
    cfg = pick_scenario(cfg, scenario)
    model = SimvalModel(cfg, n_paths=n_paths, seed=seed, scenario=scenario, threads=threads)
    k = model.key(key)
    if not k.numeric:
        raise ConfigError([f"{cfg.source}: {k.label} takes {k.field.expectation()}; "
                           "solve needs a numeric key"])
    base = value_of(cfg, k)
    base_value = math.nan if base is None else float(base)
    f = _Function(model, k, name)
    g = f.gap(level)
    notes: list[str] = []
    if bracket is not None:
        try:
            lo, hi = sorted(float(b) for b in bracket)
        except (TypeError, ValueError):
            raise ValueError(f"a bracket is two numbers LO,HI; got {bracket!r}") from None
        if not lo < hi:
            raise ValueError(f"a bracket needs LO < HI; got {bracket!r}")
        for end in (lo, hi):
            override(cfg, {k.name: end})  # the loader names a bad end
        if not _sign_change(g, lo, hi):
            raise ValueError(
                f"{TARGETS[name]} does not cross {level:g} between {key} = {lo:g} "
                f"({f.value(lo)[name]:.4g}) and {hi:g} ({f.value(hi)[name]:.4g}); widen the "
                "bracket")
    else:
        lo_lim, hi_lim = _limits(k)
        centre = base_value if math.isfinite(base_value) else (
            (lo_lim + hi_lim) / 2 if math.isfinite(lo_lim + hi_lim) else
            (lo_lim + 1.0 if math.isfinite(lo_lim) else (hi_lim - 1.0 if math.isfinite(hi_lim)
                                                         else 0.0)))
        centre = min(max(centre, lo_lim), hi_lim)
        if not f.valid(centre):
            raise ValueError(f"{key} has no valid value in the config to search around; "
                             "give a --bracket")
        found = False
        seen: list[tuple[float, float]] = []
        seen_before: tuple[float, float] | None = None
        for i in range(1, max_expansions + 1):
            lo, hi = _widen(k, centre, i)
            lo, hi = f.towards(centre, lo), f.towards(centre, hi)
            seen = [(lo, f.value(lo)[name]), (hi, f.value(hi)[name])]
            if lo < hi and _sign_change(g, lo, hi):
                found = True
                break
            if seen_before == (lo, hi):
                break  # at the ends of the valid range
            seen_before = (lo, hi)
        if not found:
            raise ValueError(
                f"{TARGETS[name]} does not reach {level:g} for {key} between {seen[0][0]:g} "
                f"({seen[0][1]:.4g}) and {seen[1][0]:g} ({seen[1][1]:.4g}); give a --bracket "
                "where it does, if there is one")
    tol = 1e-6 * (hi - lo) if xtol is None else float(xtol)
    x = _root(g, lo, hi, tol)
    at = f.value(x)
    achieved, se = at[name], at[f"{name}_se"]
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    ends = []
    for shifted in (level - z * se, level + z * se):
        if name == "p_justified" and not 0.0 < shifted < 1.0:
            ends.append(math.nan)
            notes.append(f"{TARGETS[name]} = {shifted:.4g} is not a probability: that end of "
                         "the interval is open")
            continue
        ends.append(_interval_end(f, k, name, shifted, lo, hi, x, tol, max_expansions))
        if math.isnan(ends[-1]):
            notes.append(f"{TARGETS[name]} does not reach {shifted:.4g} in the searched range: "
                         "that end of the interval is open")
    finite = sorted(e for e in ends if math.isfinite(e))
    if len(finite) == 2:
        low, high = finite
    else:  # one open end: on the side away from the found one
        low = high = math.nan
        if finite:
            if finite[0] < x:
                low = finite[0]
            else:
                high = finite[0]
    run = model.run({k.name: int(round(x)) if k.field.kind == "int" else x})
    return ImpliedResult(
        key=k.name, target=name, level=level, value=x, low=low, high=high, achieved=achieved,
        achieved_se=se, base_value=base_value, unit=k.unit(cfg.base["company"]["currency"]),
        percent=_is_percent(k), confidence=confidence, bracket=(lo, hi), n_runs=model.n_runs,
        n_paths=model.n_paths, seed=model.seed, scenario=model.scenario,
        company=cfg.base["company"]["name"], currency=cfg.base["company"]["currency"],
        at_solution=_figures(run), notes=tuple(notes),
        as_of=cfg.base["company"]["as_of"].isoformat(), config_source=cfg.source,
        config_text=cfg.text, config_sha256=hashlib.sha256(cfg.text.encode()).hexdigest(),
        reference=dict(research.reference))


def _interval_end(f: _Function, k: SweepKey, name: str, level: float, lo: float, hi: float,
                  x: float, tol: float, max_expansions: int) -> float:
    """Solution of ``f(x) = level`` near ``x``: in [lo, x] or [x, hi], else beyond them."""
    g = f.gap(level)
    for a, b in ((lo, x), (x, hi)):
        if a < b and _sign_change(g, a, b):
            return _root(g, a, b, tol)
    lo_lim, hi_lim = _limits(k)
    a, b = lo, hi
    for _ in range(max_expansions):
        width = b - a
        new_a = f.towards(a, max(a - width, lo_lim))
        new_b = f.towards(b, min(b + width, hi_lim))
        if new_a < a and _sign_change(g, new_a, a):
            return _root(g, new_a, a, tol)
        if new_b > b and _sign_change(g, b, new_b):
            return _root(g, b, new_b, tol)
        if new_a == a and new_b == b:
            break
        a, b = new_a, new_b
    return math.nan


_PERCENT_RATES = ("growth", "escalation", "discount_rate", "risk_free_rate")


def _is_percent(k: SweepKey) -> bool:
    """Shares and probabilities (unit 1 in [0, 1]) and growth, escalation and interest rates
    (1/year) read as percentages; intensities, hazards and speeds (1/year) do not."""
    f = k.field
    if f.unit == "1":
        return f.low == 0.0 and f.high == 1.0
    return f.unit == "1/year" and any(word in k.path[-1] for word in _PERCENT_RATES)


def _figures(s) -> dict[str, Any]:
    """Figures of the scenario's run at the solution, for :func:`describe`."""
    def scalar(name: str) -> float:
        return float(s[name]) if name in s else math.nan

    horizon = float(s.years.values[-1])
    start = float(s.total_revenue_quantile.isel(time=0).sel(quantile=0.5))
    end = float(s.terminal_revenue_quantile.sel(quantile=0.5))
    growth = (end / start) ** (1.0 / horizon) - 1.0 if start > 0 and end > 0 else math.nan
    share = math.nan
    if "market_share_quantile" in s:
        share = float(s.market_share_quantile.isel(time=-1).sel(quantile=0.5))
    return {
        "p_justified": scalar("p_justified"),
        "p_collapse": scalar("p_collapse"),
        "value_ratio": scalar("value_ratio"),
        "valuation": scalar("valuation"),
        "horizon_years": horizon,
        "end_date": str(np.datetime_as_string(s.time.values[-1], unit="D")),
        "required_revenue": scalar("required_revenue"),
        "required_share": scalar("required_share"),
        "revenue_start": start,
        "revenue_median_end": end,
        "revenue_growth_median": growth,
        "share_median_end": share,
    }


def format_quantity(value: float, unit: str, currency: str, *, percent: bool = False) -> str:
    """A value in its unit, for sentences: ``15.4% a year``, ``85%``, ``¥92.3B/year``.

    ``percent`` shows a share (unit 1) as ``85%`` and a growth rate (unit 1/year) as
    ``15.4% a year``; without it a 1/year quantity (an intensity) reads ``0.5 per year``.

    Examples
    --------
    >>> format_quantity(0.154, "1/year", "CNY", percent=True)
    '15.4% a year'
    >>> format_quantity(0.5, "1/year", "CNY"), format_quantity(92.3e9, "CNY/year", "CNY")
    ('0.5 per year', '¥92.3B/year')
    """
    from simval.stats.summary import format_money

    if value is None or not math.isfinite(value):
        return "n/a"
    if unit == "1/year":
        return f"{100 * value:.3g}% a year" if percent else f"{value:.3g} per year"
    if percent:
        return f"{100 * value:.3g}%"
    if currency and unit.startswith(currency):
        return format_money(value, currency) + unit[len(currency):]
    if unit == "years":
        return f"{value:.3g} years"
    if unit in ("", "1"):
        return f"{value:.4g}"
    return f"{value:.4g} {unit}"


def describe(result: ImpliedResult, config: Config | None = None, *,
             reference: str | None = None) -> str:
    """The solution in words.

    Parameters
    ----------
    result : ImpliedResult
    config : Config, optional
        Not needed (the result carries what the sentence uses); accepted for symmetry with
        the other research functions.
    reference : str, optional
        A sentence appended as is, e.g. ``"The article assumed a 25% share."``. Default: the
        comparison with what the config's ``[implied.reference]`` table says a source
        assumed (:func:`reference_sentence`), if it has one.

    Returns
    -------
    str
        E.g. "Zhipu AI (base): for the valuation of ¥1.00T to be justified with probability
        50%, commercial.growth_long_run must be 41.2% a year (95% interval 39.0% a year to
        43.1% a year, from the Monte Carlo error of 4,000 paths); the config assumes 15% a
        year. There, total revenue on the median path grows 38.9% a year to ¥162B/year by
        2030-06-30, a 9.1% share of that year's market; justifying ¥1.00T at the median exit
        multiple needs ¥92.3B/year then, a 5.2% share. The article assumed a 25% share of
        the 2030 market."
    """
    del config
    r = result
    a = r.at_solution
    cur = r.currency
    v0 = format_quantity(a["valuation"], cur, cur)

    def q(x: float) -> str:
        return format_quantity(x, r.unit, cur, percent=r.percent)

    if r.target == "p_justified":
        goal = f"for the valuation of {v0} to be justified with probability {100 * r.level:.3g}%"
    else:
        goal = (f"for the expected present value to be {r.level:g} times the valuation of "
                f"{v0}")
    def annual(x: float) -> str:  # rates are continuously compounded (docs/model.md)
        if r.unit != "1/year" or not r.percent or not math.isfinite(x):
            return ""
        return f" (continuously compounded; {100 * math.expm1(x):.3g}% in annual terms)"

    low = q(r.low) if math.isfinite(r.low) else "beyond the searched range"
    high = q(r.high) if math.isfinite(r.high) else "beyond the searched range"
    text = (f"{r.company} ({r.scenario}): {goal}, {r.key} must be {q(r.value)}"
            f"{annual(r.value)} "
            f"({r.confidence:.0%} interval {low} to {high}, from the Monte Carlo error of "
            f"{r.n_paths:,} paths); the config assumes "
            f"{q(r.base_value) if math.isfinite(r.base_value) else 'no value'}.")
    growth, end = a["revenue_growth_median"], a["revenue_median_end"]
    if math.isfinite(growth):
        text += (f" There, total revenue on the median path grows {100 * growth:.3g}% a year "
                 "in annual terms "
                 f"to {format_quantity(end, cur + '/year', cur)} by {a['end_date']}")
        if math.isfinite(a["share_median_end"]):
            text += f", a {100 * a['share_median_end']:.2g}% share of that year's market"
        if math.isfinite(a["required_revenue"]):
            text += (f"; justifying {v0} at the median exit multiple needs "
                     f"{format_quantity(a['required_revenue'], cur + '/year', cur)} then")
            if math.isfinite(a["required_share"]):
                text += f", a {100 * a['required_share']:.2g}% share"
        text += "."
    if r.notes:
        text += " Note: " + "; ".join(r.notes) + "."
    if reference is None:
        reference = reference_sentence(r)
    if reference:
        text += " " + reference.strip()
    return text


def reference_sentence(result: ImpliedResult) -> str:
    """What the result's source assumed (``result.reference``), as a sentence; ``""`` if
    the config declares nothing that compares with this result.

    The market share compares with every result (the share of the market at the horizon);
    a dot key only with a result solved for that key.

    Examples
    --------
    >>> r = ImpliedResult("commercial.growth_long_run", "p_justified", 0.5, *[math.nan] * 6,
    ...                   "1/year", True, 0.95, (0.0, 1.0), 0, 0, 0, "base", "Co", "CNY",
    ...                   {"end_date": "2030-06-30"},
    ...                   reference={"by": "the article", "market_share": 0.25,
    ...                              "commercial.growth_long_run": 0.405})
    >>> reference_sentence(r)
    'The article assumed 40.5% a year and a 25% share of the 2030 market.'
    """
    parts = reference_assumptions(result)
    if not parts:
        return ""
    by = str(result.reference.get("by", "the config's source"))
    return f"{by[0].upper()}{by[1:]} assumed {' and '.join(parts)}."


def reference_assumptions(result: ImpliedResult) -> list[str]:
    """What the result's source assumed that compares with it, one phrase per assumption
    (``["40.5% a year", "a 25% share of the 2030 market"]``), as
    :func:`reference_sentence` says them; empty if nothing compares."""
    ref = result.reference
    parts = []
    if result.key in ref:
        parts.append(format_quantity(float(ref[result.key]), result.unit, result.currency,
                                     percent=result.percent))
    if "market_share" in ref:
        year = str(result.at_solution.get("end_date", ""))[:4]
        market = f"the {year} market" if year.isdigit() else "the market at the horizon"
        parts.append(f"a {100 * float(ref['market_share']):.3g}% share of {market}")
    return parts
