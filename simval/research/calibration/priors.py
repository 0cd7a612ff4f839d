"""A :class:`~simval.research.calibration.fit.Calibration` as text: the estimates ± standard
errors in config units, and the ``[uncertainty]`` / ``[uncertainty.priors]`` tables of a
two-level run.

The priors are the estimates' asymptotic normal distribution: ``commercial.growth``,
``growth_long_run`` and ``correlation`` normal (mean the estimate, sd its standard error); the
positive ``mean_reversion``, ``volatility`` and ``growth_volatility`` log-normal (median the
estimate, ``sigma`` = s.e./estimate, the delta method's sd of the log). Their dependence is the
estimates' correlation on those scales (the log scale for the log-normal ones), written as the
Gaussian-copula correlations of ``[uncertainty] correlations``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy.special import ndtri

from simval.config.schema import SCHEMA
from simval.config.toml import toml_value
from simval.format import format_money
from simval.research.calibration.fit import SECTION, Calibration, config_key
from simval.research.calibration.statespace import PARAMETERS, POSITIVE

__all__ = ["calibration_table", "correlations", "prior_scale", "priors", "priors_toml"]

_LOGNORMAL = tuple(n for n in POSITIVE if config_key(n) is not None)
"""The positive parameters with a config key: their priors are log-normal."""
_UNITS = {name: SCHEMA[SECTION][name].unit if config_key(name) else "1"
          for name in ("growth", *PARAMETERS)}


def _key(name: str) -> str:
    return config_key(name) or name


def _selected(cal: Calibration, keys: Iterable[str] | None) -> list[str]:
    """The names of ``cal.names`` that get a prior (those with a config key), in order,
    restricted to ``keys`` (config keys or names) when given."""
    names = [n for n in cal.names if n != "measurement_noise"]
    if keys is None:
        return names
    wanted = {k.removeprefix(f"{SECTION}.") for k in keys}
    unknown = wanted - set(names)
    if unknown:
        raise ValueError("no prior for " + ", ".join(sorted(unknown)) + ": the calibration "
                         "estimated " + ", ".join(_key(n) for n in names))
    return [n for n in names if n in wanted]


def prior_scale(cal: Calibration, names: list[str]) -> np.ndarray:
    """Covariance of the estimates of ``names`` on the priors' scales (the log for the
    log-normal ones, by the delta method)."""
    index = [cal.names.index(n) for n in names]
    jac = np.array([1.0 / cal.value(n) if n in _LOGNORMAL else 1.0 for n in names])
    return cal.cov[np.ix_(index, index)] * np.outer(jac, jac)


def priors(cal: Calibration, keys: Iterable[str] | None = None) -> dict[str, dict]:
    """The ``[uncertainty.priors]`` entries: config key -> prior.

    Parameters
    ----------
    cal : Calibration
        The calibration.
    keys : iterable of str, optional
        Keep only these (config keys or names; default: every estimate with a config key).

    Returns
    -------
    dict[str, dict]
        ``{"commercial.growth": {"dist": "normal", "mean": m, "sd": s}, ...,
        "commercial.volatility": {"dist": "lognormal", "median": m, "sigma": s}, ...}``.
    """
    names = _selected(cal, keys)
    cov = prior_scale(cal, names)
    out = {}
    for i, name in enumerate(names):
        sd = float(math.sqrt(max(cov[i, i], 0.0)))
        if name in _LOGNORMAL:
            out[_key(name)] = {"dist": "lognormal", "median": cal.value(name), "sigma": sd}
        else:
            out[_key(name)] = {"dist": "normal", "mean": cal.value(name), "sd": sd}
    return out


def correlations(cal: Calibration, keys: Iterable[str] | None = None,
                 digits: int = 3) -> list[list]:
    """``[[key_a, key_b, r], ...]``: the estimates' correlations on the priors' scales (rounded to
    ``digits``; pairs that round to 0 left out)."""
    names = _selected(cal, keys)
    cov = prior_scale(cal, names)
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    out = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if sd[i] > 0 and sd[j] > 0:
                r = round(float(cov[i, j] / (sd[i] * sd[j])), digits)
                if r != 0:
                    out.append([_key(names[i]), _key(names[j]), max(-1.0, min(1.0, r))])
    return out


def _rounded(x: float) -> float:
    """``x`` to 4 significant figures."""
    return float(f"{x:.4g}")


def _period(cal: Calibration) -> str:
    s = cal.series
    word = {1: "months", 3: "quarters", 6: "half-years", 12: "years"}[s.period_months]
    return f"{len(s)} {word}, {s.dates[0]} to {s.dates[-1]}"


def priors_toml(cal: Calibration, keys: Iterable[str] | None = None,
                source: str | None = None, draws: int | None = None,
                method: str = "sobol") -> str:
    """The ``[uncertainty]`` table (its ``correlations``) and the ``[uncertainty.priors]``
    table, with comments saying where they come from, ready to paste into a config.

    Parameters
    ----------
    cal : Calibration
        The calibration.
    keys : iterable of str, optional
        As :func:`priors`.
    source : str, optional
        What to name as the source (default: the series' name).
    draws : int, optional
        Write ``draws = N`` and ``method`` in ``[uncertainty]`` (default: leave them as
        comments for the user to fill in).
    method : str, optional
        The draws' method, with ``draws`` (default ``"sobol"``).

    Returns
    -------
    str
        TOML text.
    """
    table = priors(cal, keys)
    pairs = correlations(cal, keys)
    lines = [f"# simval calibrate {source or cal.series.name}: Kalman-filter maximum likelihood "
             "of the Schwartz-Moon revenue process",
             f"# on {_period(cal)}; log-likelihood {cal.loglike:.2f}. Priors: the estimates' "
             "asymptotic normal law",
             "# (normal; log-normal for positive rates, sigma = s.e./estimate); correlations on "
             "those scales."]
    for name, why in cal.held.items():
        value = toml_value(_rounded(cal.estimates[name]))
        lines.append(f"# held, no prior: {_key(name)} = {value} ({why})")
    unit = cal.series.unit
    lines.append(f"# {SECTION}.revenue (filtered run-rate at {cal.series.dates[-1]}): "
                 f"{cal.revenue:.4g} {cal.series.currency or ''}/year (unit {unit:g} included), "
                 f"log-sd {cal.revenue_log_sd:.3g}; not a prior")
    lines.append("[uncertainty]")
    if draws is None:
        lines += ["# draws = 64            # add the draws and the method here",
                  '# method = "sobol"']
    else:
        lines += [f"draws = {toml_value(int(draws))}", f"method = {toml_value(method)}"]
    if pairs:
        body = ",\n".join(f"  {toml_value([a, b, _rounded(r)])}" for a, b, r in pairs)
        lines.append(f"correlations = [\n{body},\n]")
    lines += ["", "[uncertainty.priors]"]
    for key, prior in table.items():
        rounded = {k: v if k == "dist" else _rounded(v) for k, v in prior.items()}
        lines.append(f"{toml_value(key)} = {toml_value(rounded)}")
    return "\n".join(lines) + "\n"


def calibration_table(cal: Calibration, confidence: float = 0.95) -> str:
    """The estimates ± standard errors in config units, one line per parameter, with
    ``confidence`` intervals and what was held.

    Parameters
    ----------
    cal : Calibration
        The calibration.
    confidence : float, optional
        Level of the Wald intervals (default 0.95).

    Returns
    -------
    str
        Text, ending with a newline.
    """
    s = cal.series
    z = float(ndtri(0.5 + confidence / 2))  # for the log-normal intervals
    se = cal.se
    lines = [f"{s.name}: {_period(cal)}, revenue per period in {s.currency or 'currency'} "
             f"x {s.unit:g}",
             f"Kalman-filter maximum likelihood of the Schwartz-Moon revenue process "
             f"(dt = {s.dt:g} years), log-likelihood {cal.loglike:.2f}",
             f"{'key':<31} {'estimate':>9} {'s.e.':>8}   {confidence:.0%} interval (log-normal "
             "for rates > 0) / held",
             "-" * 76]
    for name in ("growth", "growth_long_run", "mean_reversion", "volatility",
                 "growth_volatility", "correlation", "measurement_noise"):
        key = _key(name) if name != "measurement_noise" else "(measurement noise, sd ln R)"
        value = cal.value(name)
        if name in cal.held:
            lines.append(f"{key:<31} {value:>9.4g} {'':>8}   held: {cal.held[name]}")
        else:
            est, sd = value, se[name]
            if name in POSITIVE:  # on the log scale
                with np.errstate(over="ignore"):  # an s.e. far beyond the estimate: inf
                    spread = float(np.exp(np.float64(z * sd / est)))
                low, high = est / spread, est * spread
            else:
                low, high = cal.interval(name, confidence)
            lines.append(f"{key:<31} {est:>9.4g} {sd:>8.3g}   [{low:.4g}, {high:.4g}]  "
                         f"{_UNITS[name]}")
    money = (format_money(cal.revenue, s.currency) if s.currency else f"{cal.revenue:.4g}")
    lines.append(f"{SECTION + '.revenue':<31} {money:>9} {'':>8}   run-rate per year at "
                 f"{s.dates[-1]} (log-sd {cal.revenue_log_sd:.3g})")
    lines += [f"note: {n}" for n in cal.notes]
    return "\n".join(lines) + "\n"
