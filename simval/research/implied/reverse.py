"""Reverse DCF (expectations investing): the revenue growth and the terminal margin that make
E[PV] = V_0.

:func:`reverse_dcf` asks the two questions of Mauboussin and Rappaport's *Expectations
Investing* of one scenario, each with :func:`~simval.research.implied.solve` (common random
numbers, bracketing, a Monte Carlo interval): which initial growth of commercial revenue
(``commercial.growth``, μ_0; the long-run growth stays as configured) and which operating margin
at maturity (``costs.target_operating_margin``) make the expected present value equal the
valuation. The growth is reported as what a reader can check against consensus: the annual
growth of median total revenue to the question horizon T_q, and median revenue at T_q and at
the valuation horizon T_v. :class:`ReverseDCF` holds both answers and converts to and from
JSON.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simval.config.address import resolve_key, value_of
from simval.config.load import Config
from simval.config.research import ResearchConfig, as_config
from simval.research.implied.result import ImpliedResult, _decode, _encode
from simval.research.implied.solver import median_cagr, solve
from simval.research.sensitivity import SimvalModel, pick_scenario

__all__ = ["GROWTH_KEY", "MARGIN_KEY", "ReverseDCF", "reverse_dcf"]

GROWTH_KEY = "commercial.growth"
"""The revenue-growth input of the reverse DCF (μ_0, continuously compounded)."""

MARGIN_KEY = "costs.target_operating_margin"
"""The terminal-margin input of the reverse DCF (operating margin at maturity)."""


@dataclasses.dataclass(frozen=True)
class ReverseDCF:
    """The revenue growth and the terminal margin at which E[PV] = level·V_0.

    Attributes
    ----------
    level : float
        The target E[PV]/V_0 (1: the valuation is justified on average).
    growth : ImpliedResult or None
        ``commercial.growth`` solved (None if skipped; ``notes`` says why). Its
        ``at_solution`` holds ``revenue_cagr_question`` (annual growth of median total
        revenue from t_0 to T_q), ``revenue_median_question`` and ``revenue_median_end``
        (median total revenue at T_q and T_v, per year), ``question_date`` and ``end_date``.
    margin : ImpliedResult or None
        ``costs.target_operating_margin`` solved; None when the config has no target margin
        (its convergence speed is required with it and never assumed here) or the value
        ratio does not reach ``level`` (``notes`` says which).
    cagr_low, cagr_high : float
        ``revenue_cagr_question`` at the ends of the growth interval (NaN where open).
    notes : tuple of str
        Why a part was skipped.
    """

    level: float
    growth: ImpliedResult | None
    margin: ImpliedResult | None
    cagr_low: float = math.nan
    cagr_high: float = math.nan
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.growth is None and self.margin is None:
            raise ValueError("a reverse DCF needs the growth or the margin solved")

    @property
    def first(self) -> ImpliedResult:
        """The growth result, else the margin result (company, currency, paths, seed)."""
        return self.growth if self.growth is not None else self.margin  # type: ignore

    @property
    def cagr(self) -> float:
        """Implied annual growth of median total revenue to the question horizon (NaN
        without the growth solved)."""
        return math.nan if self.growth is None else float(
            self.growth.at_solution["revenue_cagr_question"])

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe values (the parts as :meth:`ImpliedResult.to_dict`).

        Examples
        --------
        >>> r = ImpliedResult("commercial.growth", "value_ratio", 1.0, 0.2, 0.1, 0.3, 1.0,
        ...                   0.01, 0.3, "1/year", True, 0.95, (0.0, 0.6), 9, 1000, 1,
        ...                   "base", "Co", "USD", {"revenue_cagr_question": 0.25})
        >>> d = ReverseDCF(1.0, r, None, 0.1, math.nan, ("no margin",)).to_dict()
        >>> d["margin"], d["cagr_high"], d["growth"]["key"]
        (None, 'NaN', 'commercial.growth')
        >>> ReverseDCF.from_dict(d).to_dict() == d
        True
        """
        return {"format": _FORMAT, "version": _VERSION, "level": _encode(self.level),
                "growth": None if self.growth is None else self.growth.to_dict(),
                "margin": None if self.margin is None else self.margin.to_dict(),
                "cagr_low": _encode(self.cagr_low), "cagr_high": _encode(self.cagr_high),
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReverseDCF:
        """The result of :meth:`to_dict` (JSON read back), with its types restored.

        Raises
        ------
        ValueError
            If ``data`` is not a reverse DCF of this format.
        """
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise ValueError(f"not a simval reverse DCF (no format: {_FORMAT!r})")
        if data.get("version") != _VERSION:
            raise ValueError(f"reverse DCF of version {data.get('version')!r}; this simval "
                             f"reads version {_VERSION}")
        try:
            parts = {name: None if data[name] is None else ImpliedResult.from_dict(data[name])
                     for name in ("growth", "margin")}
            return cls(level=float(_decode(data["level"])), **parts,
                       cagr_low=float(_decode(data["cagr_low"])),
                       cagr_high=float(_decode(data["cagr_high"])),
                       notes=tuple(str(n) for n in data["notes"]))
        except KeyError as exc:
            raise ValueError(f"reverse DCF without {exc.args[0]}") from None


_FORMAT = "simval.reverse_dcf"
_VERSION = 1


def reverse_dcf(config: Config | ResearchConfig | str | Path, *, n_paths: int = 4000,
                seed: int | None = None, scenario: str = "base", level: float = 1.0,
                confidence: float = 0.95, threads: int | None = None) -> ReverseDCF:
    """The revenue growth and the terminal operating margin at which E[PV] = level·V_0.

    Solves E[PV]/V_0 = ``level`` twice with :func:`~simval.research.implied.solve`, on the
    same paths (one seed): (a) for ``commercial.growth`` (μ_0; ``growth_long_run`` as
    configured), reporting the implied annual growth of median total revenue to the
    question horizon, ``(S_q/S_0)^(1/T_q) − 1`` from ``total_revenue_quantile``, with its
    values at the ends of the interval on μ_0; (b) for ``costs.target_operating_margin``,
    only when the scenario gives a target margin (and with it its convergence speed
    ``costs.margin_convergence``; none is assumed).

    Parameters
    ----------
    config : Config, ResearchConfig, str or Path
    n_paths : int, default: 4000
        Paths of every run.
    seed : int, optional
        Seed of every run (default: the config's).
    scenario : str, default: "base"
    level : float, default: 1.0
        The target E[PV]/V_0.
    confidence : float, default: 0.95
        Level of the intervals.
    threads : int, optional

    Returns
    -------
    ReverseDCF

    Raises
    ------
    ValueError
        If neither question has an answer (the message gives both reasons).

    Examples
    --------
    >>> r = reverse_dcf("configs/zhipu_2026.toml", n_paths=2000)  # doctest: +SKIP
    >>> print(describe_reverse_dcf(r))  # doctest: +SKIP
    Zhipu AI (base): to justify ¥1.00T on average (E[PV] = V0), median revenue must
    compound at ...
    """
    research = as_config(config)
    cfg = pick_scenario(research.config, scenario)
    name = next(iter(cfg.scenarios))
    notes: list[str] = []
    kwargs: dict[str, Any] = {"n_paths": n_paths, "seed": seed, "scenario": scenario,
                              "confidence": confidence, "threads": threads}
    target = ("value_ratio", level)

    growth: ImpliedResult | None = None
    cagr_low = cagr_high = math.nan
    try:
        growth = solve(research, GROWTH_KEY, target, **kwargs)
    except ValueError as exc:
        notes.append(f"{GROWTH_KEY}: {exc}")
    if growth is not None:
        model = SimvalModel(cfg, n_paths=growth.n_paths, seed=growth.seed, scenario=scenario,
                            threads=threads)
        cagr_low, cagr_high = (median_cagr(model.run({GROWTH_KEY: x})) if math.isfinite(x)
                               else math.nan for x in (growth.low, growth.high))

    margin: ImpliedResult | None = None
    if value_of(cfg, resolve_key(cfg, MARGIN_KEY), name) is None:
        notes.append(f"{MARGIN_KEY}: the config sets no operating margin at maturity "
                     "(operating expenses stay at costs.operating_expense_ratio), so there is "
                     "no terminal margin to solve for; give costs.target_operating_margin and "
                     "costs.margin_convergence to ask it")
    else:
        try:
            margin = solve(research, MARGIN_KEY, target, **kwargs)
        except ValueError as exc:
            notes.append(f"{MARGIN_KEY}: {exc}")
    if growth is None and margin is None:
        raise ValueError("reverse DCF: neither question has an answer: " + "; ".join(notes))
    return ReverseDCF(level=float(level), growth=growth, margin=margin, cagr_low=cagr_low,
                      cagr_high=cagr_high, notes=tuple(notes))
