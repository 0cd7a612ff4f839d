"""A registry of checks of every stochastic component of simval against a closed form.

Each check simulates a small config in which one component is isolated (everything else
switched off or made deterministic), computes a statistic from the simulated paths, and compares
it with the exact value from :mod:`simval.testing`, in standard errors estimated from the same
simulation. Each check also makes the *same* comparison against a deliberately wrong target (a
plausible mistake: a missing Itô term, an ignored correlation or copula, the continuous-barrier
formula, a timing slip, ...) which must be rejected, so every check is known to be able to fail.

Rules
-----
- **z checks**: ``deviation = (estimate − truth)/SE``; passed iff ``|deviation| ≤ k``. SEs:
  sample standard error of a mean; ``√((m₄ − s⁴(n−3)/(n−1))/n)`` for a sample variance
  (``m₄`` the sample fourth central moment); ``√(p̃(1 − p̃)/n)`` with ``p̃ = (x + ½)/(n + 1)``
  for a probability estimated from ``x`` of ``n`` paths (the binomial SE, kept away from 0 at
  ``x ∈ {0, n}``); the order-statistic interval of a streamed quantile divided by 2·1.96.
- **vector checks** compare m points (every time step, mean and variance, ...) and use the
  largest ``|deviation|`` with ``k = 5``: the family-wise false-alarm rate under normality is
  at most ``m·5.7·10⁻⁷``. Scalar and two-point checks use ``k = 4`` (``6.3·10⁻⁵`` per point).
- **distribution tests** (Kolmogorov–Smirnov, χ²) pass iff the p-value is at least
  ``α = 2Φ(−k)`` (``k = 4``: ``α = 6.3·10⁻⁵``), Bonferroni-split over several tests; the reported
  deviation is the normal equivalent ``Φ⁻¹(1 − p/2)``, so every row reads on one scale.
- A wrong target is rejected iff the same rule fails for it.
- **kernel vs reference** (registered only when :mod:`simval.engine.reference` exists): the
  numba kernel and the independent numpy implementation must agree path by path to a scaled
  difference of 1e-9 with identical discrete outcomes; the wrong target is the reference one
  global path later.

Use ``run_all(seed)`` or ``CHECKS[name].run(seed)``; ``docs/generate_validation.py`` writes the
table in ``docs/validation.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

from simval import testing as cf

__all__ = ["CHECKS", "Check", "CheckResult", "run_all"]

K_SCALAR = 4.0
K_VECTOR = 5.0

AS_OF = dt.date(2026, 1, 1)


# ------------------------------------------------------------------------------------------
# results


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """Outcome of one check at one seed.

    Attributes
    ----------
    name, component : str
    compared : str
        What simulated statistic is compared.
    reference : str
        The closed form used (one line).
    wrong : str
        The deliberately wrong target.
    method : {"z", "max|z|", "KS", "chi2", "exact"}
        ``"exact"``: the kernel-vs-reference comparison; ``se`` is the allowed scaled
        difference, ``k = 1`` and ``deviation`` the largest scaled difference in its units
        (∞ if a discrete outcome differs).
    n_paths, seed : int
    points : int
        Number of compared points (vector checks) or tests.
    estimate, truth, se : float
        At the worst point for vector checks; for a distribution test ``estimate`` is the test
        statistic (KS distance D or χ²), ``truth`` NaN and ``se`` NaN.
    k : float
        Tolerance in standard errors (tests: ``α = 2Φ(−k)``).
    deviation : float
        ``(estimate − truth)/SE`` (max over points by absolute value, signed), or the normal
        equivalent of a test's p-value.
    passed : bool
        ``|deviation| ≤ k``.
    wrong_target, wrong_deviation : float
    wrong_rejected : bool
        ``|wrong_deviation| > k``.
    p_value, wrong_p_value : float
        Distribution tests only (NaN otherwise).
    note : str
        Extra information (e.g. the size of an approximation).
    """

    name: str
    component: str
    compared: str
    reference: str
    wrong: str
    method: str
    n_paths: int
    seed: int
    points: int
    estimate: float
    truth: float
    se: float
    k: float
    deviation: float
    passed: bool
    wrong_target: float
    wrong_deviation: float
    wrong_rejected: bool
    p_value: float = math.nan
    wrong_p_value: float = math.nan
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class _Outcome:
    """What a check's body returns; :class:`Check` adds the metadata."""

    method: str
    points: int
    estimate: float
    truth: float
    se: float
    k: float
    deviation: float
    wrong_target: float
    wrong_deviation: float
    p_value: float = math.nan
    wrong_p_value: float = math.nan
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Check:
    """One registered check: metadata and ``run(seed) -> CheckResult``."""

    name: str
    component: str
    compared: str
    reference: str
    wrong: str
    n_paths: int
    body: Callable[[int, int], _Outcome]

    def run(self, seed: int) -> CheckResult:
        """Simulate with ``seed`` and compare with the closed form and the wrong target."""
        o = self.body(int(seed), self.n_paths)
        return CheckResult(
            name=self.name, component=self.component, compared=self.compared,
            reference=self.reference, wrong=self.wrong, method=o.method, n_paths=self.n_paths,
            seed=int(seed), points=o.points, estimate=float(o.estimate), truth=float(o.truth),
            se=float(o.se), k=o.k, deviation=float(o.deviation),
            passed=bool(abs(o.deviation) <= o.k), wrong_target=float(o.wrong_target),
            wrong_deviation=float(o.wrong_deviation),
            wrong_rejected=bool(not abs(o.wrong_deviation) <= o.k), p_value=float(o.p_value),
            wrong_p_value=float(o.wrong_p_value), note=o.note)


CHECKS: OrderedDict[str, Check] = OrderedDict()
"""Every check, by name, in the order of ``docs/validation.md``."""


def _register(name: str, *, component: str, compared: str, reference: str, wrong: str,
              n_paths: int):
    def decorate(body: Callable[[int, int], _Outcome]) -> Callable[[int, int], _Outcome]:
        if name in CHECKS:  # pragma: no cover - programming error
            raise ValueError(f"duplicate check {name!r}")
        CHECKS[name] = Check(name, component, compared, reference, wrong, n_paths, body)
        return body

    return decorate


def run_all(seed: int = 20261122, names: list[str] | None = None) -> list[CheckResult]:
    """Run every check (or those named) with one seed.

    Parameters
    ----------
    seed : int, default: 20261122
    names : list of str, optional

    Returns
    -------
    list of CheckResult
        In registry order.
    """
    selected = list(CHECKS) if names is None else list(names)
    try:
        return [CHECKS[name].run(seed) for name in selected]
    finally:
        _simulate.cache_clear()


# ------------------------------------------------------------------------------------------
# comparison rules


def _z(estimate, truth, se, wrong, k: float | None = None, note: str = "") -> _Outcome:
    """Compare one or more points; the largest |deviation| decides."""
    est = np.atleast_1d(np.asarray(estimate, dtype=float))
    tru = np.atleast_1d(np.asarray(truth, dtype=float))
    err = np.atleast_1d(np.asarray(se, dtype=float))
    wro = np.atleast_1d(np.asarray(wrong, dtype=float))
    est, tru, err, wro = np.broadcast_arrays(est, tru, err, wro)

    def dev(target: np.ndarray) -> np.ndarray:
        diff = est - target
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(err > 0, diff / err, np.where(diff == 0, 0.0, np.inf * np.sign(diff)))
        return d

    d_true, d_wrong = dev(tru), dev(wro)
    i = int(np.argmax(np.abs(d_true)))
    j = int(np.argmax(np.abs(d_wrong)))
    m = est.size
    if k is None:
        k = K_SCALAR if m <= 2 else K_VECTOR
    return _Outcome("z" if m == 1 else "max|z|", m, est[i], tru[i], err[i], k, d_true[i],
                    wro[j], d_wrong[j], note=note)


def _p_to_z(p: float) -> float:
    """Two-sided normal equivalent of a p-value."""
    return float(stats.norm.isf(max(p, 0.0) / 2.0)) if p > 0 else math.inf


def _tests(p_values: list[float], statistics: list[float], wrong_p_values: list[float],
           method: str, note: str = "") -> _Outcome:
    """Distribution tests, Bonferroni-combined: min p times the number of tests."""
    m = len(p_values)
    p = min(1.0, m * min(p_values))
    pw = min(1.0, m * min(wrong_p_values))
    i = int(np.argmin(p_values))
    return _Outcome(method, m, statistics[i], math.nan, math.nan, K_SCALAR, _p_to_z(p),
                    math.nan, _p_to_z(pw), p_value=p, wrong_p_value=pw, note=note)


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def _var_se(x: np.ndarray) -> tuple[float, float]:
    """Sample variance and its standard error ``√((m₄ − s⁴(n−3)/(n−1))/n)``."""
    x = np.asarray(x, dtype=float)
    n = x.size
    c = x - x.mean()
    s2 = float(c @ c / (n - 1))
    m4 = float(np.mean(c**4))
    return s2, math.sqrt(max(m4 - s2 * s2 * (n - 3) / (n - 1), 0.0) / n)


def _moments_cols(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean, its SE, variance and its SE of a (paths, points) array."""
    n = x.shape[0]
    mean = x.mean(axis=0)
    c = x - mean
    s2 = (c * c).sum(axis=0) / (n - 1)
    m4 = (c**4).mean(axis=0)
    return (mean, np.sqrt(s2 / n), s2,
            np.sqrt(np.maximum(m4 - s2 * s2 * (n - 3) / (n - 1), 0.0) / n))


def _prob_se(p_hat, n: int) -> np.ndarray:
    """Binomial SE at ``p̃ = (x + ½)/(n + 1)``."""
    x = np.asarray(p_hat, dtype=float) * n
    pt = (x + 0.5) / (n + 1)
    return np.sqrt(pt * (1 - pt) / n)


def _chi2_pvalue(counts: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    """Pearson χ² of observed ``counts`` against ``probs`` (same bins, summing to 1).

    Adjacent bins are pooled until every pooled bin expects at least 5 paths; a bin of
    probability 0 with any observation gives p = 0.
    """
    counts = np.asarray(counts, dtype=float)
    probs = np.asarray(probs, dtype=float)
    n = counts.sum()
    if np.any((probs <= 0) & (counts > 0)):
        return math.inf, 0.0
    exp_ = n * probs
    groups_o, groups_e = [], []
    acc_o = acc_e = 0.0
    for o, e in zip(counts, exp_, strict=True):
        acc_o += o
        acc_e += e
        if acc_e >= 5.0:
            groups_o.append(acc_o)
            groups_e.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0 or acc_o > 0:
        groups_o[-1] += acc_o
        groups_e[-1] += acc_e
    go, ge = np.array(groups_o), np.array(groups_e)
    stat = float(np.sum((go - ge) ** 2 / ge))
    dof = go.size - 1
    return stat, float(stats.chi2.sf(stat, dof)) if dof > 0 else 1.0


def _count_hist(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Counts of the integers 0 … n_bins−2 and of ``≥ n_bins−1`` in the last bin."""
    x = np.asarray(x).astype(np.int64)
    return np.bincount(np.minimum(x, n_bins - 1), minlength=n_bins)[:n_bins]


# ------------------------------------------------------------------------------------------
# configs and simulation


BASE: dict[str, dict[str, Any]] = {
    "company": {"name": "Validation", "currency": "USD", "as_of": AS_OF, "valuation": 1e9},
    "simulation": {"horizon_years": 2.0, "steps_per_year": 4, "measure": "real_world",
                   "discount_rate": 0.1},
    "commercial": {"revenue": 1e8, "growth": 0.0, "growth_long_run": 0.0},
    # variable cost ratio 1 and no fixed costs: EBITDA is 0, cash stays at X_0 (r_f = 0)
    "costs": {"variable_cost_ratio": 1.0, "fixed_costs": 0.0, "cash": 0.0},
    "valuation": {"exit_multiple_median": 10.0},
}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return repr(float(v)) if isinstance(v, (float, np.floating)) else str(int(v))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} to TOML")  # pragma: no cover


def _toml(over: dict[str, Any]) -> str:
    """TOML text of ``BASE`` updated with ``over`` (nested dicts are tables)."""
    cfg = _merge(BASE, over)
    lines: list[str] = []

    def table(prefix: str, d: dict[str, Any]) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
        subs = {k: v for k, v in d.items() if isinstance(v, dict)}
        if prefix and (scalars or not subs):
            lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {_value(v)}" for k, v in scalars.items())
        for k, v in subs.items():
            table(f"{prefix}.{k}" if prefix else k, v)

    table("", cfg)
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=4)
def _simulate(text: str, n_paths: int, seed: int, keep: bool):
    import simval

    return simval.simulate(simval.parse_config(text, source="validation.toml"), n_paths=n_paths,
                           seed=seed, keep_paths=n_paths if keep else 0)


def _run(over: dict[str, Any], n_paths: int, seed: int, keep: bool = True,
         scenario: str = "base"):
    return _simulate(_toml(over), n_paths, seed, keep).sel(scenario=scenario)


def _steps(over: dict[str, Any]) -> tuple[float, int, int]:
    sim = _merge(BASE, over)["simulation"]
    n = int(sim["steps_per_year"])
    return 1.0 / n, n, round(sim["horizon_years"] * n)


# ------------------------------------------------------------------------------------------
# commercial revenue: geometric Brownian motion (constant growth)

GBM = {"simulation": {"horizon_years": 2.0},
       "commercial": {"growth": 0.2, "growth_long_run": 0.2, "volatility": 0.3,
                      "volatility_long_run": 0.3}}


def _gbm_log_moments() -> tuple[float, float]:
    return cf.log_revenue_moments_gbm(1e8, 0.2, 0.3, 2.0)


@_register("revenue_lognormal_mean", component="commercial revenue (constant growth)",
           compared="mean of R_T over paths (S_T, no other revenue)",
           reference="E[R_T] = R_0 e^{μT} (lognormal mean)",
           wrong="R_0 e^{(μ−σ²/2)T}: the median, i.e. the Itô term counted twice",
           n_paths=50_000)
def _revenue_lognormal_mean(seed: int, n: int) -> _Outcome:
    r_t = _run(GBM, n, seed).path_terminal_revenue.values
    est, se = _mean_se(r_t)
    return _z(est, 1e8 * math.exp(0.2 * 2.0), se, 1e8 * math.exp((0.2 - 0.045) * 2.0))


@_register("revenue_lognormal_distribution", component="commercial revenue (constant growth)",
           compared="distribution of ln R_T (Kolmogorov–Smirnov)",
           reference="ln R_T ~ N(ln R_0 + (μ − σ²/2)T, σ²T)",
           wrong="N with a 10% larger standard deviation", n_paths=50_000)
def _revenue_lognormal_distribution(seed: int, n: int) -> _Outcome:
    ln_r = np.log(_run(GBM, n, seed).path_terminal_revenue.values)
    m, v = _gbm_log_moments()
    res = stats.kstest(ln_r, "norm", args=(m, math.sqrt(v)))
    wrong = stats.kstest(ln_r, "norm", args=(m, 1.1 * math.sqrt(v)))
    return _tests([res.pvalue], [res.statistic], [wrong.pvalue], "KS")


@_register("revenue_quantiles", component="streamed quantiles (histogram)",
           compared="5, 25, 50, 75, 95% quantiles of terminal revenue from the streamed "
                    "log histogram",
           reference="lognormal quantiles exp(m + √v Φ⁻¹(q)); SE from the order-statistic "
                     "95% interval / 3.92",
           wrong="quantiles of N(ln R_0 + μT, σ²T): the Itô term dropped", n_paths=50_000)
def _revenue_quantiles(seed: int, n: int) -> _Outcome:
    ds = _run(GBM, n, seed)
    q = ds["quantile"].values
    est = ds.terminal_revenue_quantile.values
    se = (ds.terminal_revenue_quantile_high.values - ds.terminal_revenue_quantile_low.values) \
        / (2 * 1.959963984540054)
    m, v = _gbm_log_moments()
    return _z(est, cf.lognormal_quantile(q, m, v), se,
              cf.lognormal_quantile(q, m + 0.045 * 2.0, v), k=K_VECTOR)


# ------------------------------------------------------------------------------------------
# Schwartz–Moon growth and revenue

GROWTH_OU = {"simulation": {"horizon_years": 3.0},
             "commercial": {"growth": 0.5, "growth_long_run": 0.1, "mean_reversion": 1.0,
                            "growth_volatility": 0.2, "growth_volatility_decay": 0.3}}


@_register("growth_ou_moments", component="expected growth μ_t (mean-reverting, decaying η)",
           compared="mean and variance of μ_k at k = 1 … K−1 (μ_k = Δln R_k/Δt with σ = 0)",
           reference="exact discrete OU: E μ_k = μ̄ + (μ_0 − μ̄)a^k, Var μ_k = v² Σ_{i<k} "
                     "a^{2(k−1−i)} η_i², a = e^{−κΔt}, v² = (1 − e^{−2κΔt})/(2κ), "
                     "η_i = η_0 e^{−κ₂ t_i}",
           wrong="Euler factors a = 1 − κΔt, v = √Δt", n_paths=30_000)
def _growth_ou_moments(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(GROWTH_OU)
    rev = _run(GROWTH_OU, n, seed).path_commercial_revenue.values
    mu = np.diff(np.log(rev), axis=1) / d  # μ_0 … μ_{K−1}
    mean, mean_se, var, var_se = _moments_cols(mu[:, 1:])
    eta = cf.growth_volatility_schedule(0.2, 0.3, d, k_max)
    t_mean, t_var = cf.ou_moments(0.5, 0.1, 1.0, eta[:k_max - 1], d, k_max - 1)
    # the wrong target: the Euler scheme's factors
    a_e = 1.0 - 1.0 * d
    w_mean = np.empty(k_max)
    w_var = np.empty(k_max)
    w_mean[0], w_var[0] = 0.5, 0.0
    for k in range(k_max - 1):
        w_mean[k + 1] = 0.1 + (w_mean[k] - 0.1) * a_e
        w_var[k + 1] = w_var[k] * a_e**2 + eta[k] ** 2 * d
    return _z(np.concatenate([mean, var]), np.concatenate([t_mean[1:], t_var[1:]]),
              np.concatenate([mean_se, var_se]), np.concatenate([w_mean[1:], w_var[1:]]))


SM_CONST = {"simulation": {"horizon_years": 5.0},
            "commercial": {"growth": 0.4, "growth_long_run": 0.1, "mean_reversion": 0.5,
                           "volatility": 0.25, "volatility_long_run": 0.25,
                           "growth_volatility": 0.15, "correlation": 0.6}}


@_register("log_revenue_schwartz_moon", component="commercial revenue (Schwartz–Moon)",
           compared="mean and variance of ln R_T, stochastic mean-reverting growth, ρ = 0.6, "
                    "constant σ and η",
           reference="Gaussian integral of the discrete OU growth: E = ln R_0 + KΔtμ̄ + "
                     "(μ_0−μ̄)ΔtΣa^k − Σσ²Δt/2; Var = Σσ²Δt + v²Ση²w_i² + 2ρv√ΔtΣσηw_i, "
                     "w_i = ΔtΣ_{j≤K−2−i}a^j",
           wrong="the same with ρ = 0 (correlation ignored)", n_paths=40_000)
def _log_revenue_schwartz_moon(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(SM_CONST)
    ln_r = np.log(_run(SM_CONST, n, seed).path_terminal_revenue.values)
    mean, mean_se = _mean_se(ln_r)
    var, var_se = _var_se(ln_r)
    m, v = cf.log_revenue_moments(1e8, 0.4, 0.1, 0.5, 0.25, 0.15, 0.6, d, k_max)
    _, v0 = cf.log_revenue_moments(1e8, 0.4, 0.1, 0.5, 0.25, 0.15, 0.0, d, k_max)
    return _z([mean, var], [m, v], [mean_se, var_se], [m, v0])


SM_RN = {"simulation": {"horizon_years": 5.0, "measure": "risk_neutral", "discount_rate": None},
         "commercial": {"growth": 0.5, "growth_long_run": 0.08, "mean_reversion": 0.4,
                        "volatility": 0.4, "volatility_long_run": 0.2, "volatility_decay": 0.3,
                        "growth_volatility": 0.2, "growth_volatility_decay": 0.2,
                        "correlation": -0.3, "price_of_revenue_risk": 0.1,
                        "price_of_growth_risk": 0.3},
         "costs": {"risk_free_rate": 0.03}}


@_register("log_revenue_risk_neutral", component="commercial revenue (Schwartz–Moon, "
                                                  "risk-neutral, decaying σ_t and η_t)",
           compared="mean and variance of ln R_T with κ₁, κ₂ > 0, ρ = −0.3, λ_R, λ_μ > 0",
           reference="the same Gaussian integral with per-step σ_k, η_k and the drifts "
                     "−λ_Rσ_kΔt, −λ_μη_k b",
           wrong="prices of risk ignored (real-world drifts)", n_paths=40_000)
def _log_revenue_risk_neutral(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(SM_RN)
    ln_r = np.log(_run(SM_RN, n, seed).path_terminal_revenue.values)
    mean, mean_se = _mean_se(ln_r)
    var, var_se = _var_se(ln_r)
    sig = cf.volatility_schedule(0.4, 0.2, 0.3, d, k_max)
    eta = cf.growth_volatility_schedule(0.2, 0.2, d, k_max)
    m, v = cf.log_revenue_moments(1e8, 0.5, 0.08, 0.4, sig, eta, -0.3, d, k_max, 0.1, 0.3)
    m0, _ = cf.log_revenue_moments(1e8, 0.5, 0.08, 0.4, sig, eta, -0.3, d, k_max)
    return _z([mean, var], [m, v], [mean_se, var_se], [m0, v])


# ------------------------------------------------------------------------------------------
# macro regime

REGIME = {"simulation": {"horizon_years": 5.0},
          "regime": {"enabled": True, "hazard_normal_to_slowdown": 0.5,
                     "hazard_slowdown_to_normal": 1.0},
          "scenarios": {"base": {}, "from_slowdown": {"regime.initial": "slowdown"}}}


@_register("regime_occupation", component="macro regime (two-state Markov chain)",
           compared="P(slowdown at t_k), k = 0 … K, from normal and from slowdown (2(K+1) "
                    "points)",
           reference="P(s_k = 1) = π + (p_0 − π)(1 − a − b)^k, π = a/(a + b), "
                     "a = 1 − e^{−h_ns Δt}, b = 1 − e^{−h_sn Δt}",
           wrong="the chain moving at the start of the step (occupation one step early)",
           n_paths=20_000)
def _regime_occupation(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(REGIME)
    a, b = cf.switch_probability(0.5, d), cf.switch_probability(1.0, d)
    k = np.arange(k_max + 1)
    est, truth, wrong = [], [], []
    for scenario, p0 in (("base", 0.0), ("from_slowdown", 1.0)):
        est.append(_run(REGIME, n, seed, keep=False, scenario=scenario).p_slowdown.values)
        truth.append(cf.regime_occupation(a, b, p0, k))
        wrong.append(cf.regime_occupation(a, b, p0, k + 1))
    est_a = np.concatenate(est)
    return _z(est_a, np.concatenate(truth), _prob_se(est_a, n), np.concatenate(wrong),
              note=f"stationary slowdown share π = {a / (a + b):.5f}")


# ------------------------------------------------------------------------------------------
# chip supply

CHIP_COUNT = {"chips": {"enabled": True, "shock_rate": 1.5, "haircut_distribution": "fixed",
                        "haircut_low": 0.1}}


@_register("chip_shock_count", component="chip supply: shock count",
           compared="distribution of the number of shocks by T (χ²)",
           reference="N_T ~ Poisson(λT) (per-step Poisson(λΔt) by inversion, summed)",
           wrong="at most one shock per step: Binomial(K, 1 − e^{−λΔt})", n_paths=30_000)
def _chip_shock_count(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(CHIP_COUNT)
    counts = _run(CHIP_COUNT, n, seed).path_chip_shocks.values
    bins = 25
    hist = _count_hist(counts, bins)
    truth = stats.poisson.pmf(np.arange(bins), 1.5 * k_max * d)
    truth[-1] = stats.poisson.sf(bins - 2, 1.5 * k_max * d)
    wrong = np.zeros(bins)
    wrong[:k_max + 1] = stats.binom.pmf(np.arange(k_max + 1), k_max,
                                        cf.switch_probability(1.5, d))
    stat, p = _chi2_pvalue(hist, truth)
    _, pw = _chi2_pvalue(hist, wrong)
    return _tests([p], [stat], [pw], "chi2",
                  note=f"mean count {counts.mean():.4f} vs λT = {1.5 * k_max * d:g}")


CHIP_UNIFORM = {"chips": {"enabled": True, "shock_rate": 1.0, "haircut_distribution": "uniform",
                          "haircut_low": 0.1, "haircut_high": 0.3}}


@_register("capacity_mean_no_recovery", component="chip supply: capacity, no recovery",
           compared="mean capacity E[c_T], H ~ U[0.1, 0.3]",
           reference="E[c_T] = E[(1 − E H)^{N_T}] = e^{−λT E[H]} (Poisson generating function)",
           wrong="(1 − E[H])^{λT}: the mean count plugged into the exponent (Jensen)",
           n_paths=30_000)
def _capacity_mean_no_recovery(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(CHIP_UNIFORM)
    c_t = _run(CHIP_UNIFORM, n, seed).path_capacity.values[:, -1]
    est, se = _mean_se(c_t)
    eh = cf.haircut_mean("uniform", 0.1, 0.3)
    truth = 1.0 - cf.capacity_shortfall_mean(1.0, d, k_max, eh)[-1]
    return _z(est, truth, se, (1.0 - eh) ** (1.0 * k_max * d))


def _additive_two_haircut_cdf(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """CDF of 1 − H₁ − H₂ (haircuts added instead of compounded; the wrong target)."""
    s = 1.0 - np.asarray(x, dtype=float)  # P(1 − S ≤ x) = P(S ≥ 1 − x)
    w = high - low
    u = (s - 2 * low) / w  # S = 2·low + w·(U₁ + U₂), U uniform: triangular on [0, 2]
    tri = np.where(u <= 0, 0.0, np.where(u <= 1, u * u / 2,
                                         np.where(u <= 2, 1 - (2 - u) ** 2 / 2, 1.0)))
    return 1.0 - tri


@_register("capacity_given_shocks", component="chip supply: capacity, no recovery",
           compared="distribution of c_T given 1 and given 2 shocks (KS, Bonferroni over 2)",
           reference="c_T | N=1 ~ U[1−h, 1−l]; c_T | N=2 = product of two such uniforms, "
                     "P(U₁U₂ ≤ x) in closed form",
           wrong="haircuts added (c = 1 − H₁ − H₂) instead of compounded", n_paths=30_000)
def _capacity_given_shocks(seed: int, n: int) -> _Outcome:
    ds = _run(CHIP_UNIFORM, n, seed)
    c_t = ds.path_capacity.values[:, -1]
    shocks = ds.path_chip_shocks.values
    p_values, stat, wrong = [], [], []
    for m in (1, 2):
        x = c_t[shocks == m]
        res = stats.kstest(x, lambda v, m=m: cf.capacity_cdf_given_shocks(v, m, 0.1, 0.3))
        w_cdf = (lambda v: cf.capacity_cdf_given_shocks(v, 1, 0.1, 0.3)) if m == 1 else \
            (lambda v: _additive_two_haircut_cdf(v, 0.1, 0.3))
        p_values.append(res.pvalue)
        stat.append(res.statistic)
        wrong.append(stats.kstest(x, w_cdf).pvalue)
    return _tests(p_values, stat, wrong, "KS",
                  note=f"{np.sum(shocks == 1)} and {np.sum(shocks == 2)} paths with 1 and 2 "
                       "shocks")


CHIP_RECOVERY = {"simulation": {"horizon_years": 3.0},
                 "chips": {"enabled": True, "shock_rate": 1.0,
                           "haircut_distribution": "uniform", "haircut_low": 0.1,
                           "haircut_high": 0.3, "recovery_half_life_years": 1.0}}


@_register("capacity_recovery_mean", component="chip supply: capacity with recovery",
           compared="E[1 − c_k], k = 1 … K (half-life 1 year)",
           reference="E[D_{k+1}] = 1 − (1 − φE[D_k])·g, φ = e^{−Δt ln2/τ_c}, "
                     "g = E[(1 − E H)^{N_k}] ≈ e^{−λΔt E H}",
           wrong="recovery applied after the step's shocks: E[D_{k+1}] = φ(1 − (1 − E D_k)g)",
           n_paths=30_000)
def _capacity_recovery_mean(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(CHIP_RECOVERY)
    cap = _run(CHIP_RECOVERY, n, seed).path_capacity.values[:, 1:]
    mean, mean_se, _, _ = _moments_cols(1.0 - cap)
    phi = math.exp(-d * math.log(2.0) / 1.0)
    eh = cf.haircut_mean("uniform", 0.1, 0.3)
    truth = cf.capacity_shortfall_mean(1.0, d, k_max, eh, phi)[1:]
    g = 1.0 - cf.capacity_shortfall_mean(1.0, d, 1, eh)[1]
    wrong = np.empty(k_max + 1)
    wrong[0] = 0.0
    for k in range(k_max):
        wrong[k + 1] = phi * (1.0 - (1.0 - wrong[k]) * g)
    return _z(mean, truth, mean_se, wrong[1:])


# ------------------------------------------------------------------------------------------
# contracts

N_CONTRACTS = 10
RENEWALS = {"simulation": {"horizon_years": 1.0},
            "contracts": {f"c{j}": {"revenue": 1e7, "term_years": 5.0,
                                    "first_renewal": dt.date(2026, 7, 1),
                                    "renewal_probability": 0.7}
                          for j in range(N_CONTRACTS)},
            "scenarios": {"base": {}, "copula": {"renewals.correlation": 0.4}}}


@_register("renewals_independent", component="contracts: renewals, independent",
           compared="number of 10 contracts lost at one renewal date (χ²)",
           reference="lost ~ Binomial(10, 1 − p)",
           wrong="a one-factor copula with ρ_c = 0.2 where there is none", n_paths=20_000)
def _renewals_independent(seed: int, n: int) -> _Outcome:
    lost = _run(RENEWALS, n, seed).path_contracts_lost.values
    hist = _count_hist(lost, N_CONTRACTS + 1)
    truth = cf.binomial_pmf(N_CONTRACTS, 0.7)[::-1]
    wrong = cf.renewed_count_pmf_vasicek(N_CONTRACTS, 0.7, 0.2)[::-1]
    stat, p = _chi2_pvalue(hist, truth)
    _, pw = _chi2_pvalue(hist, wrong)
    return _tests([p], [stat], [pw], "chi2")


@_register("renewals_copula", component="contracts: renewals, Gaussian copula",
           compared="number of 10 contracts lost at one renewal date, ρ_c = 0.4 (χ²)",
           reference="Vasicek: P(M = m) = ∫ Binom(m; 10, Φ((Φ⁻¹(p) − √ρ z)/√(1−ρ))) φ(z) dz "
                     "(quad)",
           wrong="independent renewals, Binomial(10, 1 − p) (copula ignored)", n_paths=20_000)
def _renewals_copula(seed: int, n: int) -> _Outcome:
    lost = _run(RENEWALS, n, seed, scenario="copula").path_contracts_lost.values
    hist = _count_hist(lost, N_CONTRACTS + 1)
    truth = cf.renewed_count_pmf_vasicek(N_CONTRACTS, 0.7, 0.4)[::-1]
    wrong = cf.binomial_pmf(N_CONTRACTS, 0.7)[::-1]
    stat, p = _chi2_pvalue(hist, truth)
    _, pw = _chi2_pvalue(hist, wrong)
    return _tests([p], [stat], [pw], "chi2")


SURVIVAL = {"simulation": {"horizon_years": 5.0},
            "contracts": {"c": {"revenue": 1e7, "term_years": 1.0,
                                "first_renewal": dt.date(2026, 7, 1),
                                "renewal_probability": 0.8, "replacement_probability": 0.5,
                                "replacement_delay_years": 0.5}}}


@_register("contract_survival", component="contracts: renewal and replacement over time",
           compared="P(contract active at t_k), k = 0 … K (p = 0.8, q = 0.5, delay 2 steps)",
           reference="exact recursion over (active | awaiting, next event step)",
           wrong="replacement ignored: p^{#renewal dates ≤ t_k}", n_paths=20_000)
def _contract_survival(seed: int, n: int) -> _Outcome:
    _, n_year, k_max = _steps(SURVIVAL)
    est = _run(SURVIVAL, n, seed, keep=False).contract_survival.sel(contract="c").values
    truth = cf.contract_active_probability(2, n_year, 0.8, k_max, 0.5, n_year // 2)
    wrong = cf.contract_active_probability(2, n_year, 0.8, k_max)
    return _z(est, truth, _prob_se(est, n), wrong)


PRICE = {"simulation": {"horizon_years": 3.0},
         "contracts": {"c": {"revenue": 1e7, "escalation": 0.03, "term_years": 1.0,
                             "first_renewal": dt.date(2027, 1, 1), "renewal_probability": 1.0,
                             "price_change_median": 1.05, "price_change_dispersion": 0.2}}}


@_register("contract_price", component="contracts: escalation and price changes",
           compared="distribution of ln A_T after renewals at t = 1, 2, 3 = T (KS)",
           reference="ln A_T ~ N(ln A_0 + gT + 3 ln m, 3 s²)",
           wrong="the renewal falling on t_K left out: N(ln A_0 + gT + 2 ln m, 2 s²)",
           n_paths=20_000)
def _contract_price(seed: int, n: int) -> _Outcome:
    ln_a = np.log(_run(PRICE, n, seed).path_contract_revenue.values[:, -1])
    base = math.log(1e7) + 0.03 * 3.0
    res = stats.kstest(ln_a, "norm", args=(base + 3 * math.log(1.05), 0.2 * math.sqrt(3)))
    wrong = stats.kstest(ln_a, "norm", args=(base + 2 * math.log(1.05), 0.2 * math.sqrt(2)))
    return _tests([res.pvalue], [res.statistic], [wrong.pvalue], "KS")


POOL = 5
EXPANSION = {"simulation": {"horizon_years": 3.0},
             "expansion": {"enabled": True, "pool_size": POOL, "win_rate": 1.5,
                           "revenue_median": 1e7, "revenue_dispersion": 0.5,
                           "term_years": 10.0}}


@_register("expansion_wins", component="expansion: wins",
           compared="distribution of the number of contracts won by T (χ²)",
           reference="min(N, N_max), N ~ Poisson(λT) (wins stop when the pool is empty)",
           wrong="uncapped Poisson(λT)", n_paths=20_000)
def _expansion_wins(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(EXPANSION)
    won = _run(EXPANSION, n, seed).path_contracts_won.values
    mean = 1.5 * k_max * d
    hist = _count_hist(won, POOL + 2)  # 0 … N_max and "> N_max"
    truth = np.append(cf.capped_poisson_pmf(mean, POOL), 0.0)
    wrong = np.append(stats.poisson.pmf(np.arange(POOL + 1), mean), stats.poisson.sf(POOL, mean))
    stat, p = _chi2_pvalue(hist, truth)
    _, pw = _chi2_pvalue(hist, wrong)
    return _tests([p], [stat], [pw], "chi2")


@_register("expansion_revenue_mean", component="expansion: revenue of won contracts",
           compared="mean contract revenue at T (won contracts only)",
           reference="E[min(N, N_max)]·A_med·e^{s²/2}",
           wrong="E[min(N, N_max)]·A_med: the median size used as the mean", n_paths=20_000)
def _expansion_revenue_mean(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(EXPANSION)
    rev = _run(EXPANSION, n, seed).path_contract_revenue.values[:, -1]
    est, se = _mean_se(rev)
    wins = cf.capped_poisson_mean(1.5 * k_max * d, POOL)
    return _z(est, wins * 1e7 * math.exp(0.5**2 / 2), se, wins * 1e7)


# ------------------------------------------------------------------------------------------
# market multiple and value

MARKET_OU = {"simulation": {"horizon_years": 3.0},
             "market": {"enabled": True, "long_run_multiple": 5.0, "mean_reversion": 0.5,
                        "volatility": 0.4}}


@_register("market_log_ou", component="market multiple (log-OU)",
           compared="mean and variance of ln M_k = ln(V_k/S), k = 1 … K, with S constant",
           reference="E ln M_k = ln M̄ + (ln M_0 − ln M̄)a^k, Var = σ_M²(1 − a^{2k})/(2κ_M), "
                     "M_0 = V_0/S_0",
           wrong="M̄ taken as the mean of M: E ln M_k lowered by Var/2", n_paths=20_000)
def _market_log_ou(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(MARKET_OU)
    ln_m = np.log(_run(MARKET_OU, n, seed).path_market_value.values[:, 1:] / 1e8)
    mean, mean_se, var, var_se = _moments_cols(ln_m)
    t_mean, t_var = cf.ou_moments(math.log(10.0), math.log(5.0), 0.5, 0.4, d, k_max)
    return _z(np.concatenate([mean, var]), np.concatenate([t_mean[1:], t_var[1:]]),
              np.concatenate([mean_se, var_se]),
              np.concatenate([t_mean[1:] - t_var[1:] / 2, t_var[1:]]))


CHIP_JUMPS = {"commercial": {"capacity_elasticity": 0.0},
              "chips": {"enabled": True, "shock_rate": 1.0, "haircut_distribution": "fixed",
                        "haircut_low": 0.1, "multiple_jump_median": 0.8,
                        "multiple_jump_dispersion": 0.2},
              "market": {"enabled": True, "long_run_multiple": 10.0}}


@_register("chip_multiple_jumps", component="market multiple: jumps at chip shocks",
           compared="mean and variance of ln(V_T/V_0) (σ_M = 0, S constant)",
           reference="compound Poisson: E = λT ln J, Var = λT(ln²J + s_J²)",
           wrong="Var = λT s_J²: the jump size's variance instead of its second moment",
           n_paths=30_000)
def _chip_multiple_jumps(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(CHIP_JUMPS)
    x = np.log(_run(CHIP_JUMPS, n, seed).path_market_value.values[:, -1] / 1e9)
    mean, mean_se = _mean_se(x)
    var, var_se = _var_se(x)
    m, v = cf.compound_poisson_normal_moments(1.0 * k_max * d, math.log(0.8), 0.2)
    return _z([mean, var], [m, v], [mean_se, var_se], [m, 1.0 * k_max * d * 0.2**2])


SLOW_JUMPS = {"simulation": {"horizon_years": 3.0},
              "regime": {"enabled": True, "hazard_normal_to_slowdown": 0.5,
                         "hazard_slowdown_to_normal": 1.0},
              "market": {"enabled": True, "long_run_multiple": 10.0,
                         "slowdown_jump_median": 0.7, "slowdown_jump_dispersion": 0.2}}


@_register("slowdown_jumps", component="market multiple: jumps on entering a slowdown",
           compared="mean and variance of ln(V_T/V_0) (σ_M = 0, S constant)",
           reference="E = ln J_s·E[E_T], Var = s²E[E_T] + ln²J_s·Var[E_T], E_T = number of "
                     "entries into slowdown (exact distribution by recursion)",
           wrong="a jump on every switch (entries and exits)", n_paths=30_000)
def _slowdown_jumps(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(SLOW_JUMPS)
    x = np.log(_run(SLOW_JUMPS, n, seed).path_market_value.values[:, -1] / 1e9)
    mean, mean_se = _mean_se(x)
    var, var_se = _var_se(x)
    a, b = cf.switch_probability(0.5, d), cf.switch_probability(1.0, d)
    pmf = cf.regime_entries_pmf(a, b, 0.0, k_max)
    m_idx = np.arange(pmf.size)
    e_n = float(pmf @ m_idx)
    v_n = float(pmf @ m_idx**2) - e_n**2
    lj = math.log(0.7)
    entries, exits = cf.expected_regime_switches(a, b, 0.0, k_max)
    return _z([mean, var], [lj * e_n, 0.2**2 * e_n + lj**2 * v_n], [mean_se, var_se],
              [lj * (entries + exits), 0.2**2 * e_n + lj**2 * v_n],
              note=f"E[entries] = {e_n:.5f} (recursion) = {entries:.5f} (occupation sum)")


COLLAPSE_D = 0.3
COLLAPSE = {"simulation": {"horizon_years": 3.0, "steps_per_year": 24},
            "commercial": {"growth": 0.1, "growth_long_run": 0.1},
            "market": {"enabled": True, "long_run_multiple": 10.0, "volatility": 0.4,
                       "collapse_drawdown": COLLAPSE_D}}


@_register("collapse_first_passage", component="collapse (market path, first passage)",
           compared="P(collapse by T): V_k ≤ (1 − d)V_0 at some grid time, ln V a drifted "
                    "random walk (κ_M = 0, σ_M = 0.4, revenue growth μ = 0.1, 24 steps/year)",
           reference="reflection principle for drifted Brownian motion, "
                     "P = Φ((b−μT)/σ√T) + e^{2μb/σ²}Φ((b+μT)/σ√T), with the Broadie–"
                     "Glasserman–Kou barrier b = ln(1−d) − 0.5826σ√Δt",
           wrong="the continuous-monitoring barrier b = ln(1 − d) (no BGK shift)",
           n_paths=30_000)
def _collapse_first_passage(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(COLLAPSE)
    est = float(_run(COLLAPSE, n, seed, keep=False).p_collapse)
    b = math.log(1.0 - COLLAPSE_D)
    truth = cf.barrier_hit_probability_bgk(b, 0.1, 0.4, d, k_max)
    exact = cf.barrier_hit_probability_discrete(b, 0.1, 0.4, d, k_max)
    se = float(_prob_se(est, n))
    return _z(est, truth, se, cf.drifted_bm_hit_probability(b, 0.1, 0.4, k_max * d),
              note=f"numerically exact discrete-monitoring value {exact:.5f}; BGK error "
                   f"{truth - exact:+.5f} = {(truth - exact) / se:+.2f} SE")


JUSTIFIED = {"company": {"valuation": 6e8},
             "simulation": {"horizon_years": 3.0, "discount_rate": 0.08},
             "commercial": {"growth": 0.3, "growth_long_run": 0.1, "mean_reversion": 0.5,
                            "volatility": 0.3, "volatility_long_run": 0.3,
                            "growth_volatility": 0.1, "correlation": 0.4},
             "costs": {"cash": 2e8},
             "valuation": {"exit_multiple_median": 8.0, "exit_multiple_dispersion": 0.5}}


@_register("p_justified", component="valuation: discounting and terminal value",
           compared="P(PV ≥ V_0), ev_sales, lognormal exit multiple, known terminal cash",
           reference="PV = e^{−rT}(M_exit S_T + X_0) ⇒ P = Φ((ln M_med + E ln S_T − "
                     "ln(V_0e^{rT} − X_0))/√(s_M² + Var ln S_T))",
           wrong="exit-multiple dispersion ignored (s_M = 0)", n_paths=40_000)
def _p_justified(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(JUSTIFIED)
    est = float(_run(JUSTIFIED, n, seed, keep=False).p_justified)
    m, v = cf.log_revenue_moments(1e8, 0.3, 0.1, 0.5, 0.3, 0.1, 0.4, d, k_max)
    truth = cf.justified_probability(m, v, 8.0, 0.5, 6e8, 0.08, 3.0, 2e8)
    wrong = cf.justified_probability(m, v, 8.0, 0.0, 6e8, 0.08, 3.0, 2e8)
    return _z(est, truth, float(_prob_se(est, n)), wrong)


PV_MEAN = {"simulation": {"horizon_years": 3.0, "measure": "risk_neutral",
                          "discount_rate": None},
           "commercial": {"growth": 0.3, "growth_long_run": 0.1, "mean_reversion": 0.5,
                          "volatility": 0.3, "volatility_long_run": 0.3,
                          "growth_volatility": 0.1, "correlation": 0.3,
                          "price_of_revenue_risk": 0.2, "price_of_growth_risk": 0.3},
           "costs": {"cash": 5e8, "risk_free_rate": 0.04},
           "valuation": {"exit_multiple_median": 8.0, "exit_multiple_dispersion": 0.2}}


@_register("pv_mean_risk_neutral", component="valuation: risk-neutral mean PV with cash "
                                              "interest",
           compared="E[PV] (the streamed pv_mean and its SE)",
           reference="E[PV] = e^{−r_fT}(M_med e^{s_M²/2} E[R_T] + X_0(1 + r_fΔt)^K), "
                     "E[R_T] = exp(E ln R_T + Var/2) with λ_R, λ_μ",
           wrong="prices of risk ignored in E[R_T]", n_paths=40_000)
def _pv_mean_risk_neutral(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(PV_MEAN)
    ds = _run(PV_MEAN, n, seed, keep=False)
    est, se = float(ds.pv_mean), float(ds.pv_mean_se)
    cash_t = cf.simple_interest_cash(5e8, 0.04, d, k_max)
    m, v = cf.log_revenue_moments(1e8, 0.3, 0.1, 0.5, 0.3, 0.1, 0.3, d, k_max, 0.2, 0.3)
    m0, _ = cf.log_revenue_moments(1e8, 0.3, 0.1, 0.5, 0.3, 0.1, 0.3, d, k_max)
    truth = cf.pv_mean_ev_sales(m, v, 8.0, 0.2, 0.04, 3.0, cash_t)
    wrong = cf.pv_mean_ev_sales(m0, v, 8.0, 0.2, 0.04, 3.0, cash_t)
    return _z(est, truth, se, wrong)


TAM = 1e9
MARKET_SIZE = {**GBM,
               "market_size": {"enabled": True, "points": [[2020, TAM], [2035, TAM]],
                               "max_share": 0.15, "multiplier_dispersion": 0.3}}


@_register("market_size_cap", component="market size: TAM cap with a per-path multiplier",
           compared="mean delivered revenue at T, min(R_T, max_share·TAM·U_TAM)",
           reference="E[min(X, Y)] = E X − (E X Φ(d₁) − E Y Φ(d₂)) for independent lognormals "
                     "(Margrabe)",
           wrong="the TAM multiplier's dispersion ignored (Y = max_share·TAM)", n_paths=40_000)
def _market_size_cap(seed: int, n: int) -> _Outcome:
    rev = _run(MARKET_SIZE, n, seed).path_terminal_revenue.values
    est, se = _mean_se(rev)
    m, v = _gbm_log_moments()
    cap = math.log(0.15 * TAM)
    return _z(est, cf.lognormal_mean_of_min(m, v, cap, 0.3**2), se,
              cf.lognormal_mean_of_min(m, v, cap, 0.0))


FINANCING = {"simulation": {"horizon_years": 4.0},
             "costs": {"fixed_costs": 4e8, "cash": 4e8},
             "financing": {"enabled": True, "cash_floor": 0.0, "amount": 4e8,
                           "probability": 0.7}}


@_register("financing_bankruptcy", component="financing and bankruptcy",
           compared="P(bankrupt by t_k), k = 0 … K: burn 1e8 per step from X_0 = 4e8, raises of "
                    "4e8 succeeding with p = 0.7",
           reference="1 − p^{m_k}, m_k = raises needed by step k (a raise when cash < 0)",
           wrong="a raise (or bankruptcy) already at cash = 0, i.e. X ≤ 0", n_paths=20_000)
def _financing_bankruptcy(seed: int, n: int) -> _Outcome:
    d, _, k_max = _steps(FINANCING)
    est = _run(FINANCING, n, seed, keep=False).p_bankrupt_by.values
    burn = 4e8 * d
    truth = 1.0 - cf.financing_survival(4e8, burn, 4e8, 0.7, k_max)
    # wrong rule X ≤ 0: the same as a tiny bit less cash
    wrong = 1.0 - cf.financing_survival(4e8 - 1.0, burn, 4e8, 0.7, k_max)
    return _z(est, truth, _prob_se(est, n), wrong)


# ------------------------------------------------------------------------------------------
# numba kernel against the numpy reference implementation (when it exists)

REFERENCE_RTOL = 1e-9
"""Largest scaled difference allowed between kernel and reference (rounding of libm calls)."""

REFERENCE_PATHS = 256
REFERENCE_OFFSET = 4096 * 3 + 17  # a global path index that is not the start of a block

FULL = {
    "company": {"valuation": 50e9, "net_debt": 1e9},
    "simulation": {"horizon_years": 3.0},
    "regime": {"enabled": True, "hazard_normal_to_slowdown": 0.3,
               "hazard_slowdown_to_normal": 0.8},
    "commercial": {"revenue": 1e9, "growth": 0.4, "growth_long_run": 0.15,
                   "mean_reversion": 0.5, "volatility": 0.4, "volatility_long_run": 0.2,
                   "volatility_decay": 0.3, "growth_volatility": 0.1,
                   "growth_volatility_decay": 0.2, "correlation": 0.3},
    "contracts": {
        "city": {"revenue": 1.5e9, "escalation": 0.02, "term_years": 2.0,
                 "first_renewal": dt.date(2027, 1, 1), "renewal_probability": 0.8,
                 "price_change_median": 1.05, "price_change_dispersion": 0.1,
                 "replacement_probability": 0.3, "replacement_delay_years": 0.5},
        "ministry": {"revenue": 0.5e9, "term_years": 1.0,
                     "first_renewal": dt.date(2026, 12, 31), "renewal_probability": 0.7,
                     "capacity_elasticity": 0.5}},
    "renewals": {"correlation": 0.4},
    "expansion": {"enabled": True, "pool_size": 5, "win_rate": 1.5, "revenue_median": 0.2e9,
                  "revenue_dispersion": 0.5, "term_years": 1.0, "renewal_probability": 0.9},
    "chips": {"enabled": True, "shock_rate": 0.6, "haircut_low": 0.15, "haircut_high": 0.2,
              "recovery_half_life_years": 1.0, "cost_sensitivity": 0.3,
              "multiple_jump_median": 0.8, "multiple_jump_dispersion": 0.2},
    "market_size": {"enabled": True, "currency": "CNY", "fx_rate": 0.14,
                    "points": [[2024, 35e9], [2027, 84e9], [2030, 175e9]], "max_share": 0.2,
                    "multiplier_dispersion": 0.2},
    "costs": {"variable_cost_ratio": 0.5, "fixed_costs": 1.5e9, "fixed_cost_growth": 0.05,
              "capex_ratio": 0.05, "tax_rate": 0.25, "loss_carryforward": 1e9, "cash": 2e9,
              "risk_free_rate": 0.02},
    "financing": {"enabled": True, "cash_floor": 0.5e9, "amount": 2e9, "probability": 0.7},
    "valuation": {"exit_multiple_median": 12.0, "exit_multiple_dispersion": 0.2},
    "market": {"enabled": True, "long_run_multiple": 15.0, "mean_reversion": 0.4,
               "volatility": 0.3, "slowdown_jump_median": 0.6,
               "slowdown_jump_dispersion": 0.2, "threshold": 20e9},
    "slowdown": {"commercial": {"growth_long_run": 0.05}, "chips": {"shock_rate": 1.2},
                 "expansion": {"win_rate": 0.5}, "market": {"long_run_multiple": 8.0},
                 "financing": {"probability": 0.3},
                 "contracts": {"city": {"renewal_probability": 0.5}}},
}
"""Every driver switched on (the test suite's full config, in USD with a CNY market size)."""


def _reference_module():
    """``simval.engine.reference`` if it provides ``simulate_reference``, else None."""
    try:
        from simval.engine import reference
    except ImportError:
        return None
    return reference if hasattr(reference, "simulate_reference") else None


def _kernel_paths(values, grid, seed: int, path0: int, n: int, antithetic: bool):
    from simval.engine import kernels
    from simval.engine.runner import _buffers, run_keys
    from simval.model.params import build_kernel_params

    p = build_kernel_params(values, grid, antithetic=antithetic)
    bufs = _buffers(p, n)
    kernels.simulate_chunk(p, *run_keys(seed), path0, *bufs)
    return bufs[:5]


def _scaled_difference(ker, ref) -> tuple[float, int]:
    """Largest |kernel − reference| relative to each output's scale, and discrete mismatches.

    Scales: per path and series, the largest finite |value| of the reference series (1 when
    0); per scalar, its largest |value| over the paths. NaN must be NaN in both.
    """
    worst = 0.0
    for k_arr, r_arr, axis in ((ker[0], ref.series, 2), (ker[1], ref.scalars, 1)):
        finite = np.where(np.isfinite(r_arr), np.abs(r_arr), 0.0)
        scale = finite.max(axis=axis, keepdims=True)
        scale = np.where(scale > 0.0, scale, 1.0)
        both_nan = np.isnan(k_arr) & np.isnan(r_arr)
        with np.errstate(invalid="ignore"):
            diff = np.where(both_nan, 0.0, np.abs(k_arr - r_arr) / scale)
        diff = np.where(np.isnan(diff), np.inf, diff)
        worst = max(worst, float(diff.max()))
    mismatches = sum(int(np.count_nonzero(k != r))
                     for k, r in zip(ker[2:5], (ref.counts, ref.active, ref.regimes),
                                     strict=True))
    return worst, mismatches


def _kernel_vs_reference(seed: int, n: int) -> _Outcome:
    import simval
    from simval.model.params import make_time_grid

    reference = _reference_module()
    values = simval.parse_config(_toml(FULL), source="full.toml").scenarios["base"]
    grid = make_time_grid(values)
    worst = wrong = 0.0
    for antithetic in (False, True):
        ker = _kernel_paths(values, grid, seed, REFERENCE_OFFSET, n, antithetic)
        ref = reference.simulate_reference(values, grid, seed, REFERENCE_OFFSET, n,
                                           antithetic=antithetic)
        diff, mismatches = _scaled_difference(ker, ref)
        worst = max(worst, math.inf if mismatches else diff)
        # the wrong target: the reference one global path later (the counter's path index)
        shifted = reference.simulate_reference(values, grid, seed, REFERENCE_OFFSET + 1, n,
                                               antithetic=antithetic)
        diff_w, mismatches_w = _scaled_difference(ker, shifted)
        wrong = max(wrong, math.inf if mismatches_w else diff_w)
    return _Outcome("exact", 2 * n, worst, 0.0, REFERENCE_RTOL, 1.0, worst / REFERENCE_RTOL,
                    math.nan, wrong / REFERENCE_RTOL,
                    note=f"{n} paths from global index {REFERENCE_OFFSET}, antithetic off and "
                         "on; discrete outcomes (counts, contract activity, regimes) must be "
                         "identical")


if _reference_module() is not None:
    _register("kernel_vs_reference", component="numba kernel vs numpy reference "
                                               "implementation (path by path)",
              compared="every series, scalar and discrete outcome of each path, all drivers on",
              reference="simval.engine.reference.simulate_reference (independent numpy "
                        "implementation of docs/model.md, same random numbers)",
              wrong="the reference one global path later (must differ)",
              n_paths=REFERENCE_PATHS)(_kernel_vs_reference)


def _reference_rows(seed: int = 20261122) -> list[CheckResult]:
    """The kernel-vs-reference row(s), or ``[]`` when ``simval.engine.reference`` is missing.

    Parameters
    ----------
    seed : int, default: 20261122

    Returns
    -------
    list of CheckResult
    """
    if "kernel_vs_reference" not in CHECKS:
        return []
    return [CHECKS["kernel_vs_reference"].run(seed)]
