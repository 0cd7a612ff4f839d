"""The root finder of :mod:`simval.research.implied`: the input value at which a target holds.

:func:`solve` brackets the target by widening ranges around the config's value, finds the root
with :func:`scipy.optimize.brentq` on common random numbers, and solves again for the target
moved by ± z standard errors to give the interval.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, stats

from simval.config.address import ConfigKey, value_of
from simval.config.load import Config, ConfigError
from simval.config.override import override
from simval.config.research import ResearchConfig, as_config
from simval.research.implied.result import TARGETS, ImpliedResult, parse_target
from simval.research.sensitivity import SimvalModel, pick_scenario
from simval.results.dataset import question_index

__all__ = ["solve"]


class _Function:
    """The target's gap ``f(x) - level`` as a function of the input, with evaluation log."""

    def __init__(self, model: SimvalModel, key: ConfigKey, name: str):
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


def _limits(key: ConfigKey) -> tuple[float, float]:
    """The open interval of valid values, nudged inside the schema's bounds."""
    f = key.field
    lo = -math.inf if f.low is None else float(f.low)
    hi = math.inf if f.high is None else float(f.high)
    if f.low is not None and f.low_open:
        lo += 1e-9 * max(1.0, abs(lo))
    if f.high is not None and f.high_open:
        hi -= 1e-9 * max(1.0, abs(hi))
    return lo, hi


def _widen(key: ConfigKey, centre: float, k: int) -> tuple[float, float]:
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
        percent=k.percent, confidence=confidence, bracket=(lo, hi), n_runs=model.n_runs,
        n_paths=model.n_paths, seed=model.seed, scenario=model.scenario,
        company=cfg.base["company"]["name"], currency=cfg.base["company"]["currency"],
        at_solution=_figures(run), notes=tuple(notes),
        as_of=cfg.base["company"]["as_of"].isoformat(), config_source=cfg.source,
        config_text=cfg.text, config_sha256=hashlib.sha256(cfg.text.encode()).hexdigest(),
        reference=dict(research.reference))


def _interval_end(f: _Function, k: ConfigKey, name: str, level: float, lo: float, hi: float,
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


def _figures(s) -> dict[str, Any]:
    """Figures of the scenario's run at the solution, for :func:`describe`."""
    def scalar(name: str) -> float:
        return float(s[name]) if name in s else math.nan

    horizon = float(s.years.values[-1])
    start = float(s.total_revenue_quantile.isel(time=0).sel(quantile=0.5))
    end = float(s.terminal_revenue_quantile.sel(quantile=0.5))
    growth = (end / start) ** (1.0 / horizon) - 1.0 if start > 0 and end > 0 else math.nan
    q = question_index(s)
    q_years = float(s.years.values[q])
    at_q = float(s.total_revenue_quantile.isel(time=q).sel(quantile=0.5))
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
        "question_horizon_years": q_years,
        "question_date": str(np.datetime_as_string(s.time.values[q], unit="D")),
        "revenue_median_question": at_q,
        "revenue_cagr_question": median_cagr(s),
    }


def median_cagr(s) -> float:
    """Annual growth of median total revenue from t_0 to the question horizon T_q:
    ``(S_q / S_0)^(1/T_q) - 1`` from ``total_revenue_quantile`` (NaN if either is not
    positive, or T_q = 0).

    Parameters
    ----------
    s : xarray.Dataset
        Results of one scenario (``scenario`` selected).

    Returns
    -------
    float
    """
    q = question_index(s)
    years = float(s.years.values[q])
    median = s.total_revenue_quantile.sel(quantile=0.5)
    start, at_q = float(median.isel(time=0)), float(median.isel(time=q))
    if not (years > 0 and start > 0 and at_q > 0):
        return math.nan
    return (at_q / start) ** (1.0 / years) - 1.0
