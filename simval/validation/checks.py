"""A registry of checks of every stochastic component of simval against a closed form.

Each check simulates a small config in which one component is isolated (everything else
switched off or made deterministic), computes a statistic from the simulated paths, and compares
it with the exact value from :mod:`simval.validation.closed_forms`, in standard errors estimated
from the same simulation. Each check also makes the *same* comparison against a deliberately
wrong target (a plausible mistake: a missing Itô term, an ignored correlation or copula, the
continuous-barrier formula, a timing slip, ...) which must be rejected, so every check is known
to be able to fail.

The comparison rules are those of :mod:`simval.validation.rules`; the configs and their
simulation are in :mod:`simval.validation.configs`. One check is not statistical: **kernel vs
reference**, where the numba kernel and the independent numpy implementation
(:mod:`simval.engine.reference`) must agree path by path to a scaled difference of 1e-9 with
identical discrete outcomes; its wrong target is the reference one global path later.

Use ``run_all(seed)`` or ``CHECKS[name].run(seed)``; ``docs/generate_validation.py`` writes the
table in ``docs/validation.md``.
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from simval.engine.reference import simulate_reference
from simval.engine.runner import Chunk, run_keys, simulate_chunk
from simval.format import Z_95
from simval.model.params import build_kernel_params, make_time_grid
from simval.validation import closed_forms as cf
from simval.validation.configs import (
    CHIP_COUNT,
    CHIP_JUMPS,
    CHIP_RECOVERY,
    CHIP_UNIFORM,
    COLLAPSE,
    COLLAPSE_D,
    EXPANSION,
    FINANCING,
    FULL,
    GBM,
    GROWTH_OU,
    JUSTIFIED,
    MARKET_OU,
    MARKET_SIZE,
    N_CONTRACTS,
    POOL,
    PRICE,
    PV_MEAN,
    REGIME,
    RENEWALS,
    SLOW_JUMPS,
    SM_CONST,
    SM_RN,
    SURVIVAL,
    TAM,
    check_config,
    clear_cache,
    simulate_check,
    time_steps,
)
from simval.validation.rules import (
    K_VECTOR,
    Outcome,
    chi2_pvalue,
    column_moments,
    count_hist,
    distribution_tests,
    mean_and_se,
    prob_se,
    variance_and_se,
    z_test,
)

__all__ = ["CHECKS", "Check", "CheckResult", "run_all"]


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
class Check:
    """One registered check: metadata and ``run(seed) -> CheckResult``."""

    name: str
    component: str
    compared: str
    reference: str
    wrong: str
    n_paths: int
    body: Callable[[int, int], Outcome]

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
    def decorate(body: Callable[[int, int], Outcome]) -> Callable[[int, int], Outcome]:
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
        clear_cache()


# ------------------------------------------------------------------------------------------
# commercial revenue: geometric Brownian motion (constant growth)


def _gbm_log_moments() -> tuple[float, float]:
    return cf.log_revenue_moments_gbm(1e8, 0.2, 0.3, 2.0)


@_register("revenue_lognormal_mean", component="commercial revenue (constant growth)",
           compared="mean of R_T over paths (S_T, no other revenue)",
           reference="E[R_T] = R_0 e^{μT} (lognormal mean)",
           wrong="R_0 e^{(μ−σ²/2)T}: the median, i.e. the Itô term counted twice",
           n_paths=50_000)
def _revenue_lognormal_mean(seed: int, n: int) -> Outcome:
    r_t = simulate_check(GBM, n, seed).path_terminal_revenue.values
    est, se = mean_and_se(r_t)
    return z_test(est, 1e8 * math.exp(0.2 * 2.0), se, 1e8 * math.exp((0.2 - 0.045) * 2.0))


@_register("revenue_lognormal_distribution", component="commercial revenue (constant growth)",
           compared="distribution of ln R_T (Kolmogorov–Smirnov)",
           reference="ln R_T ~ N(ln R_0 + (μ − σ²/2)T, σ²T)",
           wrong="N with a 10% larger standard deviation", n_paths=50_000)
def _revenue_lognormal_distribution(seed: int, n: int) -> Outcome:
    ln_r = np.log(simulate_check(GBM, n, seed).path_terminal_revenue.values)
    m, v = _gbm_log_moments()
    res = stats.kstest(ln_r, "norm", args=(m, math.sqrt(v)))
    wrong = stats.kstest(ln_r, "norm", args=(m, 1.1 * math.sqrt(v)))
    return distribution_tests([res.pvalue], [res.statistic], [wrong.pvalue], "KS")


@_register("revenue_quantiles", component="streamed quantiles (histogram)",
           compared="5, 25, 50, 75, 95% quantiles of terminal revenue from the streamed "
                    "log histogram",
           reference="lognormal quantiles exp(m + √v Φ⁻¹(q)); SE from the order-statistic "
                     "95% interval / 3.92",
           wrong="quantiles of N(ln R_0 + μT, σ²T): the Itô term dropped", n_paths=50_000)
def _revenue_quantiles(seed: int, n: int) -> Outcome:
    ds = simulate_check(GBM, n, seed)
    q = ds["quantile"].values
    est = ds.terminal_revenue_quantile.values
    se = (ds.terminal_revenue_quantile_high.values - ds.terminal_revenue_quantile_low.values) \
        / (2 * Z_95)
    m, v = _gbm_log_moments()
    return z_test(est, cf.lognormal_quantile(q, m, v), se,
                  cf.lognormal_quantile(q, m + 0.045 * 2.0, v), k=K_VECTOR)


# ------------------------------------------------------------------------------------------
# Schwartz–Moon growth and revenue


@_register("growth_ou_moments", component="expected growth μ_t (mean-reverting, decaying η)",
           compared="mean and variance of μ_k at k = 1 … K−1 (μ_k = Δln R_k/Δt with σ = 0)",
           reference="exact discrete OU: E μ_k = μ̄ + (μ_0 − μ̄)a^k, Var μ_k = v² Σ_{i<k} "
                     "a^{2(k−1−i)} η_i², a = e^{−κΔt}, v² = (1 − e^{−2κΔt})/(2κ), "
                     "η_i = η_0 e^{−κ₂ t_i}",
           wrong="Euler factors a = 1 − κΔt, v = √Δt", n_paths=30_000)
def _growth_ou_moments(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(GROWTH_OU)
    rev = simulate_check(GROWTH_OU, n, seed).path_commercial_revenue.values
    mu = np.diff(np.log(rev), axis=1) / d  # μ_0 … μ_{K−1}
    mean, mean_se, var, var_se = column_moments(mu[:, 1:])
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
    return z_test(np.concatenate([mean, var]), np.concatenate([t_mean[1:], t_var[1:]]),
                  np.concatenate([mean_se, var_se]), np.concatenate([w_mean[1:], w_var[1:]]))


@_register("log_revenue_schwartz_moon", component="commercial revenue (Schwartz–Moon)",
           compared="mean and variance of ln R_T, stochastic mean-reverting growth, ρ = 0.6, "
                    "constant σ and η",
           reference="Gaussian integral of the discrete OU growth: E = ln R_0 + KΔtμ̄ + "
                     "(μ_0−μ̄)ΔtΣa^k − Σσ²Δt/2; Var = Σσ²Δt + v²Ση²w_i² + 2ρv√ΔtΣσηw_i, "
                     "w_i = ΔtΣ_{j≤K−2−i}a^j",
           wrong="the same with ρ = 0 (correlation ignored)", n_paths=40_000)
def _log_revenue_schwartz_moon(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(SM_CONST)
    ln_r = np.log(simulate_check(SM_CONST, n, seed).path_terminal_revenue.values)
    mean, mean_se = mean_and_se(ln_r)
    var, var_se = variance_and_se(ln_r)
    m, v = cf.log_revenue_moments(1e8, 0.4, 0.1, 0.5, 0.25, 0.15, 0.6, d, k_max)
    _, v0 = cf.log_revenue_moments(1e8, 0.4, 0.1, 0.5, 0.25, 0.15, 0.0, d, k_max)
    return z_test([mean, var], [m, v], [mean_se, var_se], [m, v0])


@_register("log_revenue_risk_neutral", component="commercial revenue (Schwartz–Moon, "
                                                  "risk-neutral, decaying σ_t and η_t)",
           compared="mean and variance of ln R_T with κ₁, κ₂ > 0, ρ = −0.3, λ_R, λ_μ > 0",
           reference="the same Gaussian integral with per-step σ_k, η_k and the drifts "
                     "−λ_Rσ_kΔt, −λ_μη_k b",
           wrong="prices of risk ignored (real-world drifts)", n_paths=40_000)
def _log_revenue_risk_neutral(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(SM_RN)
    ln_r = np.log(simulate_check(SM_RN, n, seed).path_terminal_revenue.values)
    mean, mean_se = mean_and_se(ln_r)
    var, var_se = variance_and_se(ln_r)
    sig = cf.volatility_schedule(0.4, 0.2, 0.3, d, k_max)
    eta = cf.growth_volatility_schedule(0.2, 0.2, d, k_max)
    m, v = cf.log_revenue_moments(1e8, 0.5, 0.08, 0.4, sig, eta, -0.3, d, k_max, 0.1, 0.3)
    m0, _ = cf.log_revenue_moments(1e8, 0.5, 0.08, 0.4, sig, eta, -0.3, d, k_max)
    return z_test([mean, var], [m, v], [mean_se, var_se], [m0, v])


# ------------------------------------------------------------------------------------------
# macro regime


@_register("regime_occupation", component="macro regime (two-state Markov chain)",
           compared="P(slowdown at t_k), k = 0 … K, from normal and from slowdown (2(K+1) "
                    "points)",
           reference="P(s_k = 1) = π + (p_0 − π)(1 − a − b)^k, π = a/(a + b), "
                     "a = 1 − e^{−h_ns Δt}, b = 1 − e^{−h_sn Δt}",
           wrong="the chain moving at the start of the step (occupation one step early)",
           n_paths=20_000)
def _regime_occupation(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(REGIME)
    a, b = cf.switch_probability(0.5, d), cf.switch_probability(1.0, d)
    k = np.arange(k_max + 1)
    est, truth, wrong = [], [], []
    for scenario, p0 in (("base", 0.0), ("from_slowdown", 1.0)):
        est.append(simulate_check(REGIME, n, seed, keep=False, scenario=scenario).p_slowdown.values)
        truth.append(cf.regime_occupation(a, b, p0, k))
        wrong.append(cf.regime_occupation(a, b, p0, k + 1))
    est_a = np.concatenate(est)
    return z_test(est_a, np.concatenate(truth), prob_se(est_a, n), np.concatenate(wrong),
                  note=f"stationary slowdown share π = {a / (a + b):.5f}")


# ------------------------------------------------------------------------------------------
# chip supply


@_register("chip_shock_count", component="chip supply: shock count",
           compared="distribution of the number of shocks by T (χ²)",
           reference="N_T ~ Poisson(λT) (per-step Poisson(λΔt) by inversion, summed)",
           wrong="at most one shock per step: Binomial(K, 1 − e^{−λΔt})", n_paths=30_000)
def _chip_shock_count(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(CHIP_COUNT)
    counts = simulate_check(CHIP_COUNT, n, seed).path_chip_shocks.values
    bins = 25
    hist = count_hist(counts, bins)
    truth = stats.poisson.pmf(np.arange(bins), 1.5 * k_max * d)
    truth[-1] = stats.poisson.sf(bins - 2, 1.5 * k_max * d)
    wrong = np.zeros(bins)
    wrong[:k_max + 1] = stats.binom.pmf(np.arange(k_max + 1), k_max,
                                        cf.switch_probability(1.5, d))
    stat, p = chi2_pvalue(hist, truth)
    _, pw = chi2_pvalue(hist, wrong)
    return distribution_tests([p], [stat], [pw], "chi2",
                              note=f"mean count {counts.mean():.4f} vs λT = {1.5 * k_max * d:g}")


@_register("capacity_mean_no_recovery", component="chip supply: capacity, no recovery",
           compared="mean capacity E[c_T], H ~ U[0.1, 0.3]",
           reference="E[c_T] = E[(1 − E H)^{N_T}] = e^{−λT E[H]} (Poisson generating function)",
           wrong="(1 − E[H])^{λT}: the mean count plugged into the exponent (Jensen)",
           n_paths=30_000)
def _capacity_mean_no_recovery(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(CHIP_UNIFORM)
    c_t = simulate_check(CHIP_UNIFORM, n, seed).path_capacity.values[:, -1]
    est, se = mean_and_se(c_t)
    eh = cf.haircut_mean("uniform", 0.1, 0.3)
    truth = 1.0 - cf.capacity_shortfall_mean(1.0, d, k_max, eh)[-1]
    return z_test(est, truth, se, (1.0 - eh) ** (1.0 * k_max * d))


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
def _capacity_given_shocks(seed: int, n: int) -> Outcome:
    ds = simulate_check(CHIP_UNIFORM, n, seed)
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
    return distribution_tests(p_values, stat, wrong, "KS",
                              note=f"{np.sum(shocks == 1)} and {np.sum(shocks == 2)} paths "
                                   "with 1 and 2 shocks")


@_register("capacity_recovery_mean", component="chip supply: capacity with recovery",
           compared="E[1 − c_k], k = 1 … K (half-life 1 year)",
           reference="E[D_{k+1}] = 1 − (1 − φE[D_k])·g, φ = e^{−Δt ln2/τ_c}, "
                     "g = E[(1 − E H)^{N_k}] ≈ e^{−λΔt E H}",
           wrong="recovery applied after the step's shocks: E[D_{k+1}] = φ(1 − (1 − E D_k)g)",
           n_paths=30_000)
def _capacity_recovery_mean(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(CHIP_RECOVERY)
    cap = simulate_check(CHIP_RECOVERY, n, seed).path_capacity.values[:, 1:]
    mean, mean_se, _, _ = column_moments(1.0 - cap)
    phi = math.exp(-d * math.log(2.0) / 1.0)
    eh = cf.haircut_mean("uniform", 0.1, 0.3)
    truth = cf.capacity_shortfall_mean(1.0, d, k_max, eh, phi)[1:]
    g = 1.0 - cf.capacity_shortfall_mean(1.0, d, 1, eh)[1]
    wrong = np.empty(k_max + 1)
    wrong[0] = 0.0
    for k in range(k_max):
        wrong[k + 1] = phi * (1.0 - (1.0 - wrong[k]) * g)
    return z_test(mean, truth, mean_se, wrong[1:])


# ------------------------------------------------------------------------------------------
# contracts


@_register("renewals_independent", component="contracts: renewals, independent",
           compared="number of 10 contracts lost at one renewal date (χ²)",
           reference="lost ~ Binomial(10, 1 − p)",
           wrong="a one-factor copula with ρ_c = 0.2 where there is none", n_paths=20_000)
def _renewals_independent(seed: int, n: int) -> Outcome:
    lost = simulate_check(RENEWALS, n, seed).path_contracts_lost.values
    hist = count_hist(lost, N_CONTRACTS + 1)
    truth = cf.binomial_pmf(N_CONTRACTS, 0.7)[::-1]
    wrong = cf.renewed_count_pmf_vasicek(N_CONTRACTS, 0.7, 0.2)[::-1]
    stat, p = chi2_pvalue(hist, truth)
    _, pw = chi2_pvalue(hist, wrong)
    return distribution_tests([p], [stat], [pw], "chi2")


@_register("renewals_copula", component="contracts: renewals, Gaussian copula",
           compared="number of 10 contracts lost at one renewal date, ρ_c = 0.4 (χ²)",
           reference="Vasicek: P(M = m) = ∫ Binom(m; 10, Φ((Φ⁻¹(p) − √ρ z)/√(1−ρ))) φ(z) dz "
                     "(quad)",
           wrong="independent renewals, Binomial(10, 1 − p) (copula ignored)", n_paths=20_000)
def _renewals_copula(seed: int, n: int) -> Outcome:
    lost = simulate_check(RENEWALS, n, seed, scenario="copula").path_contracts_lost.values
    hist = count_hist(lost, N_CONTRACTS + 1)
    truth = cf.renewed_count_pmf_vasicek(N_CONTRACTS, 0.7, 0.4)[::-1]
    wrong = cf.binomial_pmf(N_CONTRACTS, 0.7)[::-1]
    stat, p = chi2_pvalue(hist, truth)
    _, pw = chi2_pvalue(hist, wrong)
    return distribution_tests([p], [stat], [pw], "chi2")


@_register("contract_survival", component="contracts: renewal and replacement over time",
           compared="P(contract active at t_k), k = 0 … K (p = 0.8, q = 0.5, delay 2 steps)",
           reference="exact recursion over (active | awaiting, next event step)",
           wrong="replacement ignored: p^{#renewal dates ≤ t_k}", n_paths=20_000)
def _contract_survival(seed: int, n: int) -> Outcome:
    _, n_year, k_max = time_steps(SURVIVAL)
    est = simulate_check(SURVIVAL, n, seed, keep=False).contract_survival.sel(contract="c").values
    truth = cf.contract_active_probability(2, n_year, 0.8, k_max, 0.5, n_year // 2)
    wrong = cf.contract_active_probability(2, n_year, 0.8, k_max)
    return z_test(est, truth, prob_se(est, n), wrong)


@_register("contract_price", component="contracts: escalation and price changes",
           compared="distribution of ln A_T after renewals at t = 1, 2, 3 = T (KS)",
           reference="ln A_T ~ N(ln A_0 + gT + 3 ln m, 3 s²)",
           wrong="the renewal falling on t_K left out: N(ln A_0 + gT + 2 ln m, 2 s²)",
           n_paths=20_000)
def _contract_price(seed: int, n: int) -> Outcome:
    ln_a = np.log(simulate_check(PRICE, n, seed).path_contract_revenue.values[:, -1])
    base = math.log(1e7) + 0.03 * 3.0
    res = stats.kstest(ln_a, "norm", args=(base + 3 * math.log(1.05), 0.2 * math.sqrt(3)))
    wrong = stats.kstest(ln_a, "norm", args=(base + 2 * math.log(1.05), 0.2 * math.sqrt(2)))
    return distribution_tests([res.pvalue], [res.statistic], [wrong.pvalue], "KS")


@_register("expansion_wins", component="expansion: wins",
           compared="distribution of the number of contracts won by T (χ²)",
           reference="min(N, N_max), N ~ Poisson(λT) (wins stop when the pool is empty)",
           wrong="uncapped Poisson(λT)", n_paths=20_000)
def _expansion_wins(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(EXPANSION)
    won = simulate_check(EXPANSION, n, seed).path_contracts_won.values
    mean = 1.5 * k_max * d
    hist = count_hist(won, POOL + 2)  # 0 … N_max and "> N_max"
    truth = np.append(cf.capped_poisson_pmf(mean, POOL), 0.0)
    wrong = np.append(stats.poisson.pmf(np.arange(POOL + 1), mean), stats.poisson.sf(POOL, mean))
    stat, p = chi2_pvalue(hist, truth)
    _, pw = chi2_pvalue(hist, wrong)
    return distribution_tests([p], [stat], [pw], "chi2")


@_register("expansion_revenue_mean", component="expansion: revenue of won contracts",
           compared="mean contract revenue at T (won contracts only)",
           reference="E[min(N, N_max)]·A_med·e^{s²/2}",
           wrong="E[min(N, N_max)]·A_med: the median size used as the mean", n_paths=20_000)
def _expansion_revenue_mean(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(EXPANSION)
    rev = simulate_check(EXPANSION, n, seed).path_contract_revenue.values[:, -1]
    est, se = mean_and_se(rev)
    wins = cf.capped_poisson_mean(1.5 * k_max * d, POOL)
    return z_test(est, wins * 1e7 * math.exp(0.5**2 / 2), se, wins * 1e7)


# ------------------------------------------------------------------------------------------
# market multiple and value


@_register("market_log_ou", component="market multiple (log-OU)",
           compared="mean and variance of ln M_k = ln(V_k/S), k = 1 … K, with S constant",
           reference="E ln M_k = ln M̄ + (ln M_0 − ln M̄)a^k, Var = σ_M²(1 − a^{2k})/(2κ_M), "
                     "M_0 = V_0/S_0",
           wrong="M̄ taken as the mean of M: E ln M_k lowered by Var/2", n_paths=20_000)
def _market_log_ou(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(MARKET_OU)
    ln_m = np.log(simulate_check(MARKET_OU, n, seed).path_market_value.values[:, 1:] / 1e8)
    mean, mean_se, var, var_se = column_moments(ln_m)
    t_mean, t_var = cf.ou_moments(math.log(10.0), math.log(5.0), 0.5, 0.4, d, k_max)
    return z_test(np.concatenate([mean, var]), np.concatenate([t_mean[1:], t_var[1:]]),
                  np.concatenate([mean_se, var_se]),
                  np.concatenate([t_mean[1:] - t_var[1:] / 2, t_var[1:]]))


@_register("chip_multiple_jumps", component="market multiple: jumps at chip shocks",
           compared="mean and variance of ln(V_T/V_0) (σ_M = 0, S constant)",
           reference="compound Poisson: E = λT ln J, Var = λT(ln²J + s_J²)",
           wrong="Var = λT s_J²: the jump size's variance instead of its second moment",
           n_paths=30_000)
def _chip_multiple_jumps(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(CHIP_JUMPS)
    x = np.log(simulate_check(CHIP_JUMPS, n, seed).path_market_value.values[:, -1] / 1e9)
    mean, mean_se = mean_and_se(x)
    var, var_se = variance_and_se(x)
    m, v = cf.compound_poisson_normal_moments(1.0 * k_max * d, math.log(0.8), 0.2)
    return z_test([mean, var], [m, v], [mean_se, var_se], [m, 1.0 * k_max * d * 0.2**2])


@_register("slowdown_jumps", component="market multiple: jumps on entering a slowdown",
           compared="mean and variance of ln(V_T/V_0) (σ_M = 0, S constant)",
           reference="E = ln J_s·E[E_T], Var = s²E[E_T] + ln²J_s·Var[E_T], E_T = number of "
                     "entries into slowdown (exact distribution by recursion)",
           wrong="a jump on every switch (entries and exits)", n_paths=30_000)
def _slowdown_jumps(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(SLOW_JUMPS)
    x = np.log(simulate_check(SLOW_JUMPS, n, seed).path_market_value.values[:, -1] / 1e9)
    mean, mean_se = mean_and_se(x)
    var, var_se = variance_and_se(x)
    a, b = cf.switch_probability(0.5, d), cf.switch_probability(1.0, d)
    pmf = cf.regime_entries_pmf(a, b, 0.0, k_max)
    m_idx = np.arange(pmf.size)
    e_n = float(pmf @ m_idx)
    v_n = float(pmf @ m_idx**2) - e_n**2
    lj = math.log(0.7)
    entries, exits = cf.expected_regime_switches(a, b, 0.0, k_max)
    return z_test([mean, var], [lj * e_n, 0.2**2 * e_n + lj**2 * v_n], [mean_se, var_se],
                  [lj * (entries + exits), 0.2**2 * e_n + lj**2 * v_n],
                  note=f"E[entries] = {e_n:.5f} (recursion) = {entries:.5f} (occupation sum)")


@_register("collapse_first_passage", component="collapse (market path, first passage)",
           compared="P(collapse by T): V_k ≤ (1 − d)V_0 at some grid time, ln V a drifted "
                    "random walk (κ_M = 0, σ_M = 0.4, revenue growth μ = 0.1, 24 steps/year)",
           reference="reflection principle for drifted Brownian motion, "
                     "P = Φ((b−μT)/σ√T) + e^{2μb/σ²}Φ((b+μT)/σ√T), with the Broadie–"
                     "Glasserman–Kou barrier b = ln(1−d) − 0.5826σ√Δt",
           wrong="the continuous-monitoring barrier b = ln(1 − d) (no BGK shift)",
           n_paths=30_000)
def _collapse_first_passage(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(COLLAPSE)
    est = float(simulate_check(COLLAPSE, n, seed, keep=False).p_collapse)
    b = math.log(1.0 - COLLAPSE_D)
    truth = cf.barrier_hit_probability_bgk(b, 0.1, 0.4, d, k_max)
    exact = cf.barrier_hit_probability_discrete(b, 0.1, 0.4, d, k_max)
    se = float(prob_se(est, n))
    return z_test(est, truth, se, cf.drifted_bm_hit_probability(b, 0.1, 0.4, k_max * d),
                  note=f"numerically exact discrete-monitoring value {exact:.5f}; BGK error "
                       f"{truth - exact:+.5f} = {(truth - exact) / se:+.2f} SE")


@_register("p_justified", component="valuation: discounting and terminal value",
           compared="P(PV ≥ V_0), ev_sales, lognormal exit multiple, known terminal cash",
           reference="PV = e^{−rT}(M_exit S_T + X_0) ⇒ P = Φ((ln M_med + E ln S_T − "
                     "ln(V_0e^{rT} − X_0))/√(s_M² + Var ln S_T))",
           wrong="exit-multiple dispersion ignored (s_M = 0)", n_paths=40_000)
def _p_justified(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(JUSTIFIED)
    est = float(simulate_check(JUSTIFIED, n, seed, keep=False).p_justified)
    m, v = cf.log_revenue_moments(1e8, 0.3, 0.1, 0.5, 0.3, 0.1, 0.4, d, k_max)
    truth = cf.justified_probability(m, v, 8.0, 0.5, 6e8, 0.08, 3.0, 2e8)
    wrong = cf.justified_probability(m, v, 8.0, 0.0, 6e8, 0.08, 3.0, 2e8)
    return z_test(est, truth, float(prob_se(est, n)), wrong)


@_register("pv_mean_risk_neutral", component="valuation: risk-neutral mean PV with cash "
                                              "interest",
           compared="E[PV] (the streamed pv_mean and its SE)",
           reference="E[PV] = e^{−r_fT}(M_med e^{s_M²/2} E[R_T] + X_0(1 + r_fΔt)^K), "
                     "E[R_T] = exp(E ln R_T + Var/2) with λ_R, λ_μ",
           wrong="prices of risk ignored in E[R_T]", n_paths=40_000)
def _pv_mean_risk_neutral(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(PV_MEAN)
    ds = simulate_check(PV_MEAN, n, seed, keep=False)
    est, se = float(ds.pv_mean), float(ds.pv_mean_se)
    cash_t = cf.simple_interest_cash(5e8, 0.04, d, k_max)
    m, v = cf.log_revenue_moments(1e8, 0.3, 0.1, 0.5, 0.3, 0.1, 0.3, d, k_max, 0.2, 0.3)
    m0, _ = cf.log_revenue_moments(1e8, 0.3, 0.1, 0.5, 0.3, 0.1, 0.3, d, k_max)
    truth = cf.pv_mean_ev_sales(m, v, 8.0, 0.2, 0.04, 3.0, cash_t)
    wrong = cf.pv_mean_ev_sales(m0, v, 8.0, 0.2, 0.04, 3.0, cash_t)
    return z_test(est, truth, se, wrong)


@_register("market_size_cap", component="market size: TAM cap with a per-path multiplier",
           compared="mean delivered revenue at T, min(R_T, max_share·TAM·U_TAM)",
           reference="E[min(X, Y)] = E X − (E X Φ(d₁) − E Y Φ(d₂)) for independent lognormals "
                     "(Margrabe)",
           wrong="the TAM multiplier's dispersion ignored (Y = max_share·TAM)", n_paths=40_000)
def _market_size_cap(seed: int, n: int) -> Outcome:
    rev = simulate_check(MARKET_SIZE, n, seed).path_terminal_revenue.values
    est, se = mean_and_se(rev)
    m, v = _gbm_log_moments()
    cap = math.log(0.15 * TAM)
    return z_test(est, cf.lognormal_mean_of_min(m, v, cap, 0.3**2), se,
                  cf.lognormal_mean_of_min(m, v, cap, 0.0))


@_register("financing_bankruptcy", component="financing and bankruptcy",
           compared="P(bankrupt by t_k), k = 0 … K: burn 1e8 per step from X_0 = 4e8, raises of "
                    "4e8 succeeding with p = 0.7",
           reference="1 − p^{m_k}, m_k = raises needed by step k (a raise when cash < 0)",
           wrong="a raise (or bankruptcy) already at cash = 0, i.e. X ≤ 0", n_paths=20_000)
def _financing_bankruptcy(seed: int, n: int) -> Outcome:
    d, _, k_max = time_steps(FINANCING)
    est = simulate_check(FINANCING, n, seed, keep=False).p_bankrupt_by.values
    burn = 4e8 * d
    truth = 1.0 - cf.financing_survival(4e8, burn, 4e8, 0.7, k_max)
    # wrong rule X ≤ 0: the same as a tiny bit less cash
    wrong = 1.0 - cf.financing_survival(4e8 - 1.0, burn, 4e8, 0.7, k_max)
    return z_test(est, truth, prob_se(est, n), wrong)


# ------------------------------------------------------------------------------------------
# numba kernel against the numpy reference implementation

REFERENCE_RTOL = 1e-9
"""Largest scaled difference allowed between kernel and reference (rounding of libm calls)."""

REFERENCE_PATHS = 256
REFERENCE_OFFSET = 4096 * 3 + 17  # a global path index that is not the start of a block


def _scaled_difference(ker: Chunk, ref) -> tuple[float, int]:
    """Largest |kernel − reference| relative to each output's scale, and discrete mismatches.

    Scales: per path and series, the largest finite |value| of the reference series (1 when
    0); per scalar, its largest |value| over the paths. NaN must be NaN in both.
    """
    worst = 0.0
    for k_arr, r_arr, axis in ((ker.series, ref.series, 2), (ker.scalars, ref.scalars, 1)):
        finite = np.where(np.isfinite(r_arr), np.abs(r_arr), 0.0)
        scale = finite.max(axis=axis, keepdims=True)
        scale = np.where(scale > 0.0, scale, 1.0)
        both_nan = np.isnan(k_arr) & np.isnan(r_arr)
        with np.errstate(invalid="ignore"):
            diff = np.where(both_nan, 0.0, np.abs(k_arr - r_arr) / scale)
        diff = np.where(np.isnan(diff), np.inf, diff)
        worst = max(worst, float(diff.max()))
    mismatches = sum(int(np.count_nonzero(k != r))
                     for k, r in zip((ker.counts, ker.active, ker.regimes),
                                     (ref.counts, ref.active, ref.regimes), strict=True))
    return worst, mismatches


@_register("kernel_vs_reference", component="numba kernel vs numpy reference "
                                            "implementation (path by path)",
           compared="every series, scalar and discrete outcome of each path, all drivers on",
           reference="simval.engine.reference.simulate_reference (independent numpy "
                     "implementation of docs/model.md, same random numbers)",
           wrong="the reference one global path later (must differ)",
           n_paths=REFERENCE_PATHS)
def _kernel_vs_reference(seed: int, n: int) -> Outcome:
    values = check_config(FULL).base
    grid = make_time_grid(values)
    worst = wrong = 0.0
    for antithetic in (False, True):
        params = build_kernel_params(values, grid, antithetic=antithetic)
        ker = simulate_chunk(params, run_keys(seed), REFERENCE_OFFSET, n)
        ref = simulate_reference(values, grid, seed, REFERENCE_OFFSET, n, antithetic=antithetic)
        diff, mismatches = _scaled_difference(ker, ref)
        worst = max(worst, math.inf if mismatches else diff)
        # the wrong target: the reference one global path later (the counter's path index)
        shifted = simulate_reference(values, grid, seed, REFERENCE_OFFSET + 1, n,
                                     antithetic=antithetic)
        diff_w, mismatches_w = _scaled_difference(ker, shifted)
        wrong = max(wrong, math.inf if mismatches_w else diff_w)
    return Outcome("exact", 2 * n, worst, 0.0, REFERENCE_RTOL, 1.0, worst / REFERENCE_RTOL,
                   math.nan, wrong / REFERENCE_RTOL,
                   note=f"{n} paths from global index {REFERENCE_OFFSET}, antithetic off and "
                        "on; discrete outcomes (counts, contract activity, regimes) must be "
                        "identical")
