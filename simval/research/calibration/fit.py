"""Kalman-filter maximum likelihood of the Schwartz–Moon revenue process on a revenue history.

:func:`calibrate` fits :class:`~simval.research.calibration.statespace.SchwartzMoonRevenue`
(statsmodels does the filtering, the optimisation and the observed-information standard errors)
and returns a :class:`Calibration`: the estimates in config units, their covariance, the growth
rate and run-rate at the last date (filtered, with the parameters' uncertainty added by the
delta method), and which parameters were held fixed and why.

What a short history cannot identify is held, not guessed: ``correlation`` (ρ) and
``measurement_noise`` are held (at the config's ρ, else 0, and at 0) unless asked for in
``free``; and a free parameter whose estimate is not identified (standard error not finite, or
larger than its estimate for a positive parameter, or above 0.25 a year for ``growth_long_run``
and above 0.5 for ``correlation``) is held, the worst first, and the rest refitted. It is held
at the config's value, else at its estimate (``mean_reversion`` at
:data:`DEFAULT_MEAN_REVERSION`, ``correlation`` and ``measurement_noise`` at 0). The long-run
growth and the reversion speed are identified only together (a history of decelerating growth
fits a fast reversion to a high level as well as a slow one to a low level), so when
``growth_long_run`` is the one not identified, the speed is held instead.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtri

from simval.config.research import as_config
from simval.research.calibration.series import RevenueSeries, read_revenue_csv, revenue_series
from simval.research.calibration.statespace import (
    PARAMETERS,
    POSITIVE,
    SchwartzMoonRevenue,
)

__all__ = ["DEFAULT_MEAN_REVERSION", "SECTION", "Calibration", "calibrate", "config_key",
           "parameter_name"]

SECTION = "commercial"
"""The config section whose revenue process is calibrated (only commercial revenue follows the
Schwartz–Moon process)."""

_HELD_BY_DEFAULT = ("correlation", "measurement_noise")
_MAX_SE = {"growth_long_run": 0.25, "correlation": 0.5}  # absolute, for the unbounded ones
DEFAULT_MEAN_REVERSION = 0.28
"""The mean-reversion speed held when the history does not identify it and no config is given:
Schwartz and Moon (2000)'s 0.07 a quarter for Amazon (``configs/schwartz_moon_amazon.toml``)."""
_DEFAULT_HELD = {"mean_reversion": (DEFAULT_MEAN_REVERSION, "Schwartz-Moon's 0.28"),
                 "correlation": (0.0, "0"), "measurement_noise": (0.0, "0")}
_STARTS = (0.3, 1.0, 3.0)  # starting mean reversion speeds tried (the best fit is kept)


def config_key(name: str) -> str | None:
    """The config key of a parameter (``volatility`` -> ``commercial.volatility``); None for
    ``measurement_noise``, which no key holds."""
    return None if name == "measurement_noise" else f"{SECTION}.{name}"


def parameter_name(key: str) -> str:
    """A parameter's name from itself or its config key (``commercial.volatility`` ->
    ``volatility``); ValueError for anything else."""
    name = key.removeprefix(f"{SECTION}.")
    if name not in PARAMETERS:
        raise ValueError(f"{key!r} is not a parameter of the calibrated revenue process; the "
                         "parameters are " + ", ".join(
                             config_key(p) or p for p in PARAMETERS))
    return name


@dataclasses.dataclass(frozen=True)
class Calibration:
    """The result of :func:`calibrate`.

    Attributes
    ----------
    series : RevenueSeries
        The history fitted.
    estimates : dict[str, float]
        Every parameter of :data:`~simval.research.calibration.statespace.PARAMETERS`, estimated
        or held.
    held : dict[str, str]
        Parameters held fixed -> why.
    names : tuple[str, ...]
        The estimated parameters, then ``growth`` (μ at the last date): the rows of ``cov``.
    cov : numpy.ndarray
        Covariance of the estimates of ``names`` (observed information; ``growth`` adds its
        filtering variance to the parameters' uncertainty carried by the delta method).
    growth : float
        Filtered expected growth μ at the last date (``commercial.growth``), 1/year.
    revenue : float
        Filtered run-rate ``R`` at the last date, in the series' currency per year.
    revenue_log_sd : float
        Standard deviation of the filtered ``ln R`` at the last date.
    loglike : float
        Maximised (diffuse) log-likelihood.
    converged : bool
        Whether the optimiser reported convergence.
    notes : tuple[str, ...]
        Things the user should know (a different currency, a non-converged fit, ...).
    """

    series: RevenueSeries
    estimates: dict[str, float]
    held: dict[str, str]
    names: tuple[str, ...]
    cov: np.ndarray
    growth: float
    revenue: float
    revenue_log_sd: float
    loglike: float
    converged: bool
    notes: tuple[str, ...] = ()

    @property
    def se(self) -> dict[str, float]:
        """Standard error of each estimated parameter and of ``growth`` (NaN where the observed
        information gives a negative variance: not a maximum)."""
        diag = np.diag(self.cov)
        return {n: float(math.sqrt(v)) if v >= 0 else math.nan
                for n, v in zip(self.names, diag, strict=True)}

    def value(self, name: str) -> float:
        """The estimate (or held value) of a parameter, or ``growth``."""
        return self.growth if name == "growth" else self.estimates[name]

    def interval(self, name: str, confidence: float = 0.95) -> tuple[float, float]:
        """Wald interval ``estimate ± z·s.e.`` of an estimated parameter or ``growth``."""
        z = float(ndtri(0.5 + confidence / 2))
        est, se = self.value(name), self.se[name]
        return est - z * se, est + z * se


def _as_series(series: Any) -> RevenueSeries:
    if isinstance(series, RevenueSeries):
        return series
    if isinstance(series, str | Path):
        return read_revenue_csv(series)
    try:  # a pandas Series indexed by dates
        dates, values = list(series.index), list(series.to_numpy())
    except AttributeError:
        raise TypeError("series must be a RevenueSeries, a CSV path or a pandas Series "
                        f"indexed by dates; got {type(series).__name__}") from None
    return revenue_series(dates, values, name=str(getattr(series, "name", None) or "series"))


def _fit(model: SchwartzMoonRevenue, held: Mapping[str, float]):
    """The best of a few starts of ``model.fit`` with ``held`` fixed."""
    best = None
    starts = _STARTS if "mean_reversion" not in held else (None,)
    for kappa in starts:
        start = model.start_params
        if kappa is not None:
            start[PARAMETERS.index("mean_reversion")] = kappa
        start = np.array([v for n, v in zip(PARAMETERS, start, strict=True) if n not in held])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsmodels' convergence and Hessian warnings
            with model.fix_params(dict(held)):
                result = model.fit(start_params=start, method="lbfgs", maxiter=2000,
                                   disp=False, cov_type="approx")
        if (best is None or not np.isfinite(best.llf)
                or (np.isfinite(result.llf) and result.llf > best.llf)):
            best = result
    return best


def _badness(name: str, estimate: float, se: float) -> float:
    """> 1 when the estimate is not identified (see the module docstring)."""
    if not math.isfinite(se):
        return math.inf
    if name in POSITIVE:
        return se / estimate if estimate > 0 else math.inf
    return se / _MAX_SE[name]


def _growth_gradient(model: SchwartzMoonRevenue, params: np.ndarray,
                     free: list[str]) -> np.ndarray:
    """d(filtered μ_T, ln R_T)/d(free parameters) by central differences."""
    grad = np.zeros((2, len(free)))
    for j, name in enumerate(free):
        i = PARAMETERS.index(name)
        h = 1e-5 * max(abs(params[i]), 1e-2)
        up, down = params.copy(), params.copy()
        up[i] += h
        if name not in POSITIVE or params[i] > h:
            down[i] -= h
        else:  # at the boundary: one-sided
            h /= 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = model.filter(up).filtered_state[:, -1]
            b = model.filter(down).filtered_state[:, -1]
        grad[:, j] = (a - b) / (2 * h)
    return grad


def calibrate(series, *, config=None, fixed: Mapping[str, float] | None = None,
              free: Iterable[str] = (), identify: bool = True) -> Calibration:
    """Fit the Schwartz–Moon revenue process to a revenue history by Kalman-filter maximum
    likelihood.

    Parameters
    ----------
    series : RevenueSeries, str, pathlib.Path or pandas.Series
        The history: a :class:`RevenueSeries`, a CSV file (``date,revenue``, see
        :func:`read_revenue_csv`) or a pandas Series of revenue per period indexed by period
        end dates.
    config : simval.Config, str or pathlib.Path, optional
        A config whose ``commercial`` values are the held values (``correlation``, and any
        parameter the history does not identify) and whose currency the run-rate is checked
        against.
    fixed : mapping, optional
        Parameters to hold at given values, by name or config key
        (``{"commercial.mean_reversion": 0.35}``).
    free : iterable of str, optional
        Parameters held by default to estimate too: ``correlation``, ``measurement_noise``.
    identify : bool, optional
        Hold (and refit without) any parameter the history does not identify (default True).

    Returns
    -------
    Calibration

    Examples
    --------
    >>> import simval
    >>> cal = simval.calibrate("data/datadog.csv", fixed={"commercial.mean_reversion": 1.0})
    >>> round(cal.estimates["mean_reversion"], 2), 0.1 < cal.growth < 0.6
    (1.0, True)
    """
    series = _as_series(series)
    config = as_config(config).config if config is not None else None
    if len(series) < 8:
        raise ValueError(f"{series.name}: {len(series)} periods; the calibration needs at least "
                         "8 (two years of quarters)")
    base = config.base[SECTION] if config is not None else {}
    held_values: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for name in _HELD_BY_DEFAULT:
        held_values[name] = float(base.get(name, 0.0)) if name == "correlation" else 0.0
        reasons[name] = (("assumed (the config's value)" if name in base else "assumed")
                         + f"; estimate it with --free {config_key(name) or name}")
    for name in (parameter_name(n) for n in free):
        held_values.pop(name, None)
        reasons.pop(name, None)
    for key, value in (fixed or {}).items():
        name = parameter_name(key)
        held_values[name] = float(value)
        reasons[name] = "fixed by the user"
    y = np.log(series.run_rate)
    model = SchwartzMoonRevenue(y, dt=series.dt)
    notes: list[str] = []
    while True:
        result = _fit(model, held_values)
        params = np.asarray(result.params, dtype=float)
        free_names = [n for n in PARAMETERS if n not in held_values]
        bse = dict(zip(PARAMETERS, np.asarray(result.bse, dtype=float), strict=True))
        scores = {n: _badness(n, params[PARAMETERS.index(n)], bse[n]) for n in free_names}
        worst = least_identified = max(scores, key=scores.get) if scores else None
        if not identify or worst is None or scores[worst] <= 1.0:
            break
        if worst == "growth_long_run" and "mean_reversion" in scores:
            worst = "mean_reversion"  # identified only jointly: the speed is the one to assume
        estimate = params[PARAMETERS.index(worst)]
        if worst in base:
            held_at, where = float(base[worst]), "the config's value"
        elif worst in _DEFAULT_HELD:
            held_at, where = _DEFAULT_HELD[worst]
        else:
            held_at, where = float(estimate), "its estimate"
        what = ("s.e. not finite" if not math.isfinite(bse[worst]) else
                f"s.e. {bse[worst]:.3g} against the estimate {estimate:.3g}")
        if worst != least_identified:
            what = (f"with it the long-run growth is not identified: s.e. "
                    f"{bse['growth_long_run']:.3g}")
        reasons[worst] = f"not identified by the history ({what}); held at {where}"
        held_values[worst] = held_at
    converged = bool(result.mle_retvals.get("converged", True)) if result.mle_retvals else True
    if not converged:
        notes.append("the optimiser did not report convergence; treat the estimates with care")
    index = [PARAMETERS.index(n) for n in free_names]
    cov_free = np.asarray(result.cov_params(), dtype=float)[np.ix_(index, index)]
    state = np.asarray(result.filtered_state[:, -1], dtype=float)
    state_cov = np.asarray(result.filtered_state_cov[:, :, -1], dtype=float)
    grad = _growth_gradient(model, params, free_names) if free_names else np.zeros((2, 0))
    cross = grad @ cov_free  # Cov(state_T, θ̂)
    state_total = state_cov + cross @ grad.T
    n = len(free_names)
    cov = np.zeros((n + 1, n + 1))
    cov[:n, :n] = cov_free
    cov[n, :n] = cov[:n, n] = cross[1]
    cov[n, n] = state_total[1, 1]
    currency = config.base["company"]["currency"] if config is not None else None
    if currency is not None and series.currency is not None and currency != series.currency:
        notes.append(f"the history is in {series.currency}, the config in {currency}: the "
                     "run-rate is in the history's currency (the rates and volatilities do not "
                     "depend on it)")
    return Calibration(series=series,
                       estimates={n: float(params[i]) for i, n in enumerate(PARAMETERS)},
                       held={n: reasons[n] for n in PARAMETERS if n in held_values},
                       names=(*free_names, "growth"), cov=cov, growth=float(state[1]),
                       revenue=float(math.exp(state[0])),
                       revenue_log_sd=float(math.sqrt(max(state_total[0, 0], 0.0))),
                       loglike=float(result.llf), converged=converged, notes=tuple(notes))
