"""The ``[uncertainty]`` table: priors on config keys for a two-level run (MODEL.md 11).

::

    [uncertainty]
    draws = 64                  # outer draws of the parameters (>= 2)
    method = "sobol"            # or "lhs": scrambled, seeded from the run's seed
    paths_per_draw = 4096       # inner paths per draw (default 4096)
    enabled = false             # true: `simval run` runs two-level without --draws
    correlations = [["commercial.growth", "commercial.growth_long_run", 0.5]]  # rank rho

    [uncertainty.priors]
    "commercial.growth" = { dist = "normal", mean = 0.405, sd = 0.10 }
    "contracts.beijing.renewal_probability" = { dist = "beta", a = 17, b = 3 }

A prior is one of ``{ dist = "uniform", low, high }``, ``{ dist = "loguniform", low, high }``,
``{ dist = "normal", mean, sd }``, ``{ dist = "lognormal", median, sigma }`` (sigma: the sd of
the log), ``{ dist = "beta", a, b, low = 0, high = 1 }`` and
``{ dist = "triangular", low, mode, high }``; each becomes a frozen :mod:`scipy.stats`
distribution whose ``ppf`` turns the draws' uniforms into values. Keys are dot keys as the
sweep addresses them (:mod:`simval.config.address`).

:func:`read_uncertainty` validates the table against a loaded config (the loader keeps it as
read: checking a key needs the config's contracts), :func:`draw_values` draws the parameter
sets and :func:`config_for_draw` makes the config of one draw: the drawn values set in the
base tables, every scenario's own overrides applied on top.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import tomllib
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from simval.config.address import ConfigKey, resolve_key
from simval.config.load import Config, ConfigError, config_from_dict
from simval.config.tables import has_path, set_path
from simval.layout import MAX_PATHS

__all__ = ["DEFAULT_PATHS_PER_DRAW", "DISTRIBUTIONS", "METHODS", "TAIL", "Prior", "Uncertainty",
           "config_for_draw", "draw_values", "read_uncertainty"]

DEFAULT_PATHS_PER_DRAW = 4096
"""Inner paths per draw when ``paths_per_draw`` is not given: one block of paths, a standard
error of at most 0.8 percentage points on a per-draw probability, so that 64 draws of the
Zhipu config run in well under a minute while the predictive mean pools 262,144 paths."""

METHODS = ("sobol", "lhs")

DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "uniform": (("low", "high"), {}),
    "loguniform": (("low", "high"), {}),
    "normal": (("mean", "sd"), {}),
    "lognormal": (("median", "sigma"), {}),
    "beta": (("a", "b"), {"low": 0.0, "high": 1.0}),
    "triangular": (("low", "mode", "high"), {}),
}
"""Prior families: required parameters and optional ones with their defaults."""

TAIL = 1e-9
"""Uniforms are kept in [TAIL, 1 - TAIL] before ``ppf``, so a draw never goes beyond those
quantiles of its prior; they are the support checked against the key's valid range (a normal
prior reaches mean +- 6 sd)."""

#: keys that define the question rather than a parameter of the company
_QUESTION_KEYS = {
    "company.valuation": "it is the price being tested (E[PV] / V0 divides by it)",
    "market.threshold": "it is the valuation line the run tracks",
    "market.collapse_drawdown": "it defines what a collapse is",
}

_KNOWN = ("draws", "method", "paths_per_draw", "enabled", "correlations", "priors")


@dataclasses.dataclass(frozen=True)
class Prior:
    """The prior of one key: its family, its parameters and the frozen scipy distribution."""

    key: ConfigKey
    dist: str
    params: dict[str, float]

    def frozen(self) -> Any:
        """The :mod:`scipy.stats` frozen distribution."""
        from scipy import stats

        p = self.params
        if self.dist == "uniform":
            return stats.uniform(loc=p["low"], scale=p["high"] - p["low"])
        if self.dist == "loguniform":
            return stats.loguniform(p["low"], p["high"])
        if self.dist == "normal":
            return stats.norm(loc=p["mean"], scale=p["sd"])
        if self.dist == "lognormal":
            return stats.lognorm(s=p["sigma"], scale=p["median"])
        if self.dist == "beta":
            return stats.beta(p["a"], p["b"], loc=p["low"], scale=p["high"] - p["low"])
        if self.dist == "triangular":
            width = p["high"] - p["low"]
            return stats.triang((p["mode"] - p["low"]) / width, loc=p["low"], scale=width)
        raise AssertionError(self.dist)  # pragma: no cover - validated

    def quantile(self, u: float) -> float:
        """``frozen().ppf(u)`` from :mod:`scipy.special` alone, for validating a config
        without importing :mod:`scipy.stats` (a one-level run does not need it)."""
        from scipy import special

        p = self.params
        if self.dist == "uniform":
            return p["low"] + u * (p["high"] - p["low"])
        if self.dist == "loguniform":
            return math.exp(math.log(p["low"]) + u * math.log(p["high"] / p["low"]))
        if self.dist == "normal":
            return p["mean"] + p["sd"] * float(special.ndtri(u))
        if self.dist == "lognormal":
            return p["median"] * math.exp(p["sigma"] * float(special.ndtri(u)))
        if self.dist == "beta":
            return p["low"] + (p["high"] - p["low"]) * float(special.betaincinv(p["a"], p["b"],
                                                                                 u))
        low, mode, high = p["low"], p["mode"], p["high"]
        if u * (high - low) < mode - low:
            return low + math.sqrt(u * (high - low) * (mode - low))
        return high - math.sqrt((1.0 - u) * (high - low) * (high - mode))

    def support(self) -> tuple[float, float]:
        """The values a draw can take: the prior's TAIL and 1 - TAIL quantiles."""
        return self.quantile(TAIL), self.quantile(1.0 - TAIL)

    def describe(self) -> str:
        """``normal(mean=0.4, sd=0.1)``."""
        return f"{self.dist}(" + ", ".join(f"{k}={v:g}" for k, v in self.params.items()) + ")"


@dataclasses.dataclass(frozen=True)
class Uncertainty:
    """A validated ``[uncertainty]`` table.

    Attributes
    ----------
    draws : int
        Outer draws of the parameters.
    method : {"sobol", "lhs"}
    paths_per_draw : int
        Inner paths per draw and scenario (common to every draw).
    enabled : bool
        Whether ``simval run`` runs two-level without ``--draws``.
    priors : dict
        Dot key -> :class:`Prior`, in file order.
    rank_correlation : numpy.ndarray
        Spearman rank correlations between the priors (identity without ``correlations``).
    """

    draws: int
    method: str
    paths_per_draw: int
    enabled: bool
    priors: dict[str, Prior]
    rank_correlation: np.ndarray

    @property
    def keys(self) -> list[str]:
        """The dot keys with a prior, in file order."""
        return list(self.priors)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


def _prior_tables(table: Any, prefix: str = "") -> dict[str, Any]:
    """Dot key -> prior table: quoted dot keys or nested tables, down to a table with
    ``dist``."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and "dist" not in value and value:
            out.update(_prior_tables(value, name))
        else:
            out[name] = value
    return out


def _check_params(dist: str, given: dict[str, Any], where: str,
                  problems: list[str]) -> dict[str, float] | None:
    required, optional = DISTRIBUTIONS[dist]
    n = len(problems)
    unknown = [k for k in given if k not in (*required, *optional)]
    if unknown:
        names = ", ".join((*required, *optional))
        problems.append(f"{where} has unknown parameter(s) {', '.join(unknown)}: a {dist} prior "
                        f"takes {names}.")
    missing = [k for k in required if k not in given]
    if missing:
        problems.append(f"{where} is missing {', '.join(missing)}: a {dist} prior needs "
                        f"{', '.join(required)}.")
    bad = [k for k in given if k in (*required, *optional) and not _number(given[k])]
    problems += [f"{where}.{k} must be a finite number. Got {given[k]!r} instead." for k in bad]
    if len(problems) > n:
        return None
    p = {**optional, **{k: float(given[k]) for k in (*required, *optional) if k in given}}
    rules = {
        "uniform": [(p.get("low", 0) < p.get("high", 0), "needs low < high")],
        "loguniform": [(p.get("low", 0) > 0, "needs low > 0"),
                       (p.get("low", 0) < p.get("high", 0), "needs low < high")],
        "normal": [(p.get("sd", 0) > 0, "needs sd > 0")],
        "lognormal": [(p.get("median", 0) > 0, "needs median > 0"),
                      (p.get("sigma", 0) > 0, "needs sigma > 0")],
        "beta": [(p.get("a", 0) > 0 and p.get("b", 0) > 0, "needs a > 0 and b > 0"),
                 (p.get("low", 0) < p.get("high", 1), "needs low < high")],
        "triangular": [(p.get("low", 0) <= p.get("mode", 0) <= p.get("high", 0)
                        and p.get("low", 0) < p.get("high", 0),
                        "needs low <= mode <= high and low < high")],
    }[dist]
    for ok, message in rules:
        if not ok:
            problems.append(f"{where} {message}. Got {_show(given)} instead.")
    return p if len(problems) == n else None


def _show(table: Mapping[str, Any]) -> str:
    return "{ " + ", ".join(f"{k} = {v!r}" for k, v in table.items()) + " }"


def _range_text(key: ConfigKey) -> str:
    return key.field.expectation().removeprefix("a number in the range ").removeprefix(
        "an integer in the range ")


def _inside(key: ConfigKey, low: float, high: float) -> bool:
    f = key.field
    if f.low is not None and (low < f.low or (f.low_open and low <= f.low)):
        return False
    return not (f.high is not None and (high > f.high or (f.high_open and high >= f.high)))


def read_uncertainty(config: Config, draws: int | None = None) -> Uncertainty | None:
    """The validated ``[uncertainty]`` table of ``config`` (None if it has none).

    Parameters
    ----------
    config : Config
    draws : int, optional
        Overrides ``draws`` (``simval run --draws``); then the table and its priors are
        required.

    Returns
    -------
    Uncertainty or None

    Raises
    ------
    ConfigError
        Naming the file, the key and the problem of every bad entry: an unknown or
        non-numeric key, a malformed prior, a prior whose support (its 1e-9 and 1 - 1e-9
        quantiles) leaves the key's valid range, a correlation matrix that is not positive
        definite, fewer than two draws, or a config that the priors' medians make invalid.
    """
    source = config.source
    table = config.uncertainty
    if table is None:
        if draws is None:
            return None
        raise ConfigError([f"{source}: a two-level run ({draws} draws) needs the parameters' "
                           "priors: add an [uncertainty.priors] table (see docs/model.md, "
                           "'Parameter uncertainty'); the config has none."])
    problems: list[str] = []
    for name in table:
        if name not in _KNOWN:
            problems.append(f"{source}: [uncertainty].{name} is not a known key. Known keys: "
                            f"{', '.join(_KNOWN)}.")
    n_draws = table.get("draws", 64) if draws is None else draws
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 2:
        what = "--draws" if draws is not None else "[uncertainty].draws"
        problems.append(f"{source}: {what} must be a whole number >= 2 (the spread across "
                        f"draws needs two). Got {n_draws!r} instead.")
    method = table.get("method", "sobol")
    if method not in METHODS:
        problems.append(f"{source}: [uncertainty].method must be one of 'sobol', 'lhs'. Got "
                        f"{method!r} instead.")
    paths = table.get("paths_per_draw", DEFAULT_PATHS_PER_DRAW)
    if isinstance(paths, bool) or not isinstance(paths, int) or not 1 <= paths <= MAX_PATHS:
        problems.append(f"{source}: [uncertainty].paths_per_draw must be a whole number in "
                        f"[1, {MAX_PATHS}]. Got {paths!r} instead.")
    enabled = table.get("enabled", False)
    if not isinstance(enabled, bool):
        problems.append(f"{source}: [uncertainty].enabled must be a boolean (true or false). "
                        f"Got {enabled!r} instead.")
    raw_priors = table.get("priors")
    priors: dict[str, Prior] = {}
    if not isinstance(raw_priors, dict) or not raw_priors:
        problems.append(f"{source}: [uncertainty.priors] is required: a table of dot key = "
                        "{ dist = ..., ... } (at least one prior). Got "
                        f"{raw_priors!r} instead.")
        raw_priors = {}
    specs = _prior_tables(raw_priors)
    for name, spec in specs.items():
        where = f"{source}: [uncertainty.priors] {name!r}"
        try:
            key = resolve_key(config, name)
        except ConfigError as exc:
            problems += [p.replace(f"{source}: key", f"{source}: [uncertainty.priors] key")
                         for p in exc.problems]
            continue
        if not key.numeric:
            problems.append(f"{where} takes a {key.field.kind} value, not a number: a prior "
                            "needs a numeric key.")
            continue
        if name in _QUESTION_KEYS:
            problems.append(f"{where} cannot have a prior: {_QUESTION_KEYS[name]} (run it as "
                            "scenarios or a sweep).")
            continue
        if not isinstance(spec, dict) or "dist" not in spec:
            families = " | ".join(f'"{d}"' for d in DISTRIBUTIONS)
            problems.append(f"{where} must be an inline table {{ dist = {families}, ... }}. "
                            f"Got {spec!r} instead.")
            continue
        given = dict(spec)
        dist = given.pop("dist")
        if dist not in DISTRIBUTIONS:
            problems.append(f"{where}: dist must be one of "
                            f"{', '.join(repr(d) for d in DISTRIBUTIONS)}. Got {dist!r} instead.")
            continue
        params = _check_params(dist, given, where, problems)
        if params is None:
            continue
        prior = Prior(key, dist, params)
        low, high = prior.support()
        if not _inside(key, low, high):
            problems.append(f"{where}: the {prior.describe()} prior reaches [{low:.6g}, "
                            f"{high:.6g}] (its 1e-9 and 1 - 1e-9 quantiles), which leaves the "
                            f"key's valid range {_range_text(key)}; choose a prior inside it "
                            "(e.g. beta or uniform for a bounded key).")
            continue
        priors[name] = prior
    rank = _correlations(table.get("correlations", []), list(priors), source, problems,
                         complete=len(priors) == len(specs))
    if problems:
        raise ConfigError(problems)
    out = Uncertainty(int(n_draws), method, int(paths), enabled, priors, rank)
    try:  # cross-key rules (e.g. terminal growth below the discount rate) at the medians
        config_for_draw(config, {k: p.quantile(0.5) for k, p in priors.items()},
                        out, label="the priors' medians")
    except ConfigError as exc:
        raise ConfigError([f"{source}: [uncertainty.priors] at the priors' medians the config "
                           f"is invalid: {p}" for p in exc.problems]) from None
    return out


def _correlations(raw: Any, keys: list[str], source: str, problems: list[str],
                  complete: bool) -> np.ndarray:
    """The Spearman matrix of ``correlations = [["a", "b", rho], ...]``, checked."""
    k = len(keys)
    rank = np.eye(k)
    where = f"{source}: [uncertainty].correlations"
    if not isinstance(raw, list):
        problems.append(f"{where} must be a list of [\"key.a\", \"key.b\", rho]. Got {raw!r} "
                        "instead.")
        return rank
    n = len(problems)
    for item in raw:
        if (not isinstance(item, list) or len(item) != 3 or not isinstance(item[0], str)
                or not isinstance(item[1], str) or not _number(item[2])):
            problems.append(f"{where}: each entry must be [\"key.a\", \"key.b\", rho]. Got "
                            f"{item!r} instead.")
            continue
        a, b, rho = item
        missing = [x for x in (a, b) if x not in keys]
        if missing:
            if complete:
                problems.append(f"{where}: {', '.join(repr(x) for x in missing)} has no prior in "
                                "[uncertainty.priors].")
            continue
        if a == b:
            problems.append(f"{where}: [{a!r}, {b!r}, ...] correlates a key with itself.")
            continue
        if not -1.0 < rho < 1.0:
            problems.append(f"{where}: the rank correlation of {a!r} and {b!r} must be in "
                            f"(-1, 1). Got {rho!r} instead.")
            continue
        i, j = keys.index(a), keys.index(b)
        if rank[i, j] != 0.0:
            problems.append(f"{where}: {a!r} and {b!r} are correlated twice.")
            continue
        rank[i, j] = rank[j, i] = rho
    if len(problems) == n and k:
        smallest = float(np.linalg.eigvalsh(_gaussian_correlation(rank)).min())
        if smallest <= 1e-12:
            problems.append(f"{where}: the rank correlations of {', '.join(keys)} do not form a "
                            f"positive definite matrix (smallest eigenvalue of its Gaussian-"
                            f"copula matrix {smallest:.3g}): some pairs contradict the others; "
                            "weaken them.")
    return rank


def _gaussian_correlation(rank: np.ndarray) -> np.ndarray:
    """The normal-scores correlation that gives Spearman's ``rank``: 2 sin(pi rho_s / 6)."""
    return 2.0 * np.sin(np.pi * rank / 6.0)


def _sampler(method: str, dims: int, seed: int) -> Any:
    from scipy.stats import qmc

    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5052494F52]))  # "PRIOR"
    cls = qmc.Sobol if method == "sobol" else qmc.LatinHypercube
    kw = "rng" if "rng" in inspect.signature(cls.__init__).parameters else "seed"
    return cls(d=dims, scramble=True, **{kw: rng})


def draw_values(uncertainty: Uncertainty, seed: int) -> np.ndarray:
    """The parameter sets of a two-level run: ``(draws, keys)`` values, keys in file order.

    Scrambled Sobol' points (or a Latin hypercube) seeded by ``SeedSequence([seed, tag])``,
    kept in [TAIL, 1 - TAIL], correlated through a Gaussian copula (normal scores times the
    Cholesky factor of ``2 sin(pi rho_s / 6)``, which has the rank correlations rho_s) and
    turned into values by each prior's ``ppf``; integer keys are rounded. The same seed gives
    the same draws.
    """
    from scipy.special import ndtr, ndtri

    keys = uncertainty.keys
    with warnings.catch_warnings():  # Sobol' balance wants 2^m points; any count is valid
        warnings.simplefilter("ignore", UserWarning)
        u = _sampler(uncertainty.method, len(keys), seed).random(uncertainty.draws)
    u = np.clip(u, TAIL, 1.0 - TAIL)
    if np.any(uncertainty.rank_correlation != np.eye(len(keys))):
        chol = np.linalg.cholesky(_gaussian_correlation(uncertainty.rank_correlation))
        u = np.clip(ndtr(ndtri(u) @ chol.T), TAIL, 1.0 - TAIL)
    out = np.empty_like(u)
    for j, name in enumerate(keys):
        prior = uncertainty.priors[name]
        out[:, j] = prior.frozen().ppf(u[:, j])
        if prior.key.field.kind == "int":
            out[:, j] = np.round(out[:, j])
    return out


def config_for_draw(config: Config, values: Mapping[str, float],
                    uncertainty: Uncertainty, *, label: str = "a draw",
                    raw: Mapping[str, Any] | None = None) -> Config:
    """``config`` with the keys of ``values`` set in its base tables, validated again.

    Every scenario's own overrides apply on top of the draw (a scenario that sets a key keeps
    its value); a contract key whose contract only some scenarios define is set in those
    scenarios' tables unless they set the key themselves.

    Parameters
    ----------
    config : Config
    values : mapping
        Dot key (with a prior) -> value.
    uncertainty : Uncertainty
    label : str
        Names the draw in the source of the new config (messages say which draw failed).
    raw : mapping, optional
        ``tomllib.loads(config.text)``, to skip parsing it again for every draw.

    Raises
    ------
    ConfigError
        If the drawn values break a rule of the config (e.g. terminal growth above the
        discount rate): the message names the draw.
    """
    tables = tomllib.loads(config.text) if raw is None else _copy(raw)
    scenarios = tables.get("scenarios")
    for name, value in values.items():
        key = uncertainty.priors[name].key
        value = int(value) if key.field.kind == "int" else float(value)
        path, contract = key.path, key.contract
        if contract is None or has_path(tables, contract):
            set_path(tables, path, value)
            continue
        for table in (scenarios or {}).values():
            if isinstance(table, dict) and has_path(table, contract) \
                    and not has_path(table, path):
                set_path(table, path, value)
    shown = ", ".join(f"{k} = {v:.6g}" for k, v in values.items())
    new = config_from_dict(tables, source=f"{config.source} at {label} ({shown})",
                           text=config.text)
    return new.select(list(config.scenarios))


def _copy(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of nested tables deep enough to set values in (lists are not changed)."""
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in raw.items()}
