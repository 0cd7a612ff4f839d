"""Every stochastic component against its closed form (the registry of simval.validation).

Each check must pass (|deviation| ≤ k standard errors, or a distribution test's p-value above
α = 2Φ(−k)) AND reject its deliberately wrong target by the same rule, so each test is known to
be able to fail. The seed comes from ``SIMVAL_TEST_SEED`` so the suite can be rerun with other
seeds to show it is not flaky::

    for s in $(seq 1 20); do SIMVAL_TEST_SEED=$s python -m pytest -q tests/test_validation.py; done

The closed forms themselves are checked here against independent computations (a covariance
recursion, numerical integration, direct sampling with numpy's generator).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

from simval import validation
from simval.validation import closed_forms as cf
from simval.validation import configs, rules

SEED = int(os.environ.get("SIMVAL_TEST_SEED", "20261122"))
DOC = Path(__file__).resolve().parents[1] / "docs" / "validation.md"


@pytest.mark.parametrize("name", list(validation.CHECKS))
def test_check(name: str) -> None:
    r = validation.CHECKS[name].run(SEED)
    where = (f"{name} (seed {SEED}): estimate {r.estimate:.6g}, truth {r.truth:.6g}, "
             f"SE {r.se:.3g}, deviation {r.deviation:+.2f} (k = {r.k:g}), p = {r.p_value:.3g}; "
             f"{r.note}")
    assert r.passed, "closed form rejected: " + where
    assert r.wrong_rejected, (f"wrong target not rejected ({r.wrong}): deviation "
                              f"{r.wrong_deviation:+.2f}; " + where)


def test_registry_is_complete_and_documented() -> None:
    names = list(validation.CHECKS)
    assert len(names) == len(set(names)) >= 25
    for check in validation.CHECKS.values():
        assert check.component and check.compared and check.reference and check.wrong
        assert check.n_paths > 0
    if DOC.exists():  # the generated document lists every check
        text = DOC.read_text(encoding="utf-8")
        missing = [n for n in names if f"`{n}`" not in text]
        assert not missing, f"rerun docs/generate_validation.py: {missing} not in {DOC.name}"


def test_configs_of_the_checks_are_valid() -> None:
    from simval.config.schema import SCHEMA

    sections = set(SCHEMA) | {"contracts", "scenarios", "slowdown"}
    overrides = [v for k, v in vars(configs).items() if k.isupper() and isinstance(v, dict)
                 and v and set(v) <= sections and k != "BASE"]
    assert len(overrides) >= 15
    for over in overrides:
        configs.check_config(over)


# ------------------------------------------------------------------------------------------
# the closed forms against independent computations


def _covariance_recursion(r0, mu0, mu_bar, kappa, sigma, eta, rho, dt, n_steps, lr, lm):
    a, b, v = cf.ou_factors(kappa, dt)
    m = np.array([math.log(r0), mu0 - mu_bar])
    c = np.zeros((2, 2))
    A = np.array([[1.0, dt], [0.0, a]])
    for k in range(n_steps):
        s, e = sigma[k], eta[k]
        m = A @ m + np.array([(mu_bar - lr * s - s * s / 2) * dt, -lm * e * b])
        cross = rho * s * math.sqrt(dt) * e * v
        c = A @ c @ A.T + np.array([[s * s * dt, cross], [cross, e * e * v * v]])
    return m[0], c[0, 0]


@pytest.mark.parametrize("kappa", [0.0, 0.5, 3.0])
@pytest.mark.parametrize("rho", [-0.7, 0.0, 0.6])
def test_log_revenue_moments_match_the_covariance_recursion(kappa: float, rho: float) -> None:
    dt, n = 0.25, 20
    sigma = cf.volatility_schedule(0.4, 0.2, 0.3, dt, n)
    eta = cf.growth_volatility_schedule(0.15, 0.2, dt, n)
    got = cf.log_revenue_moments(1e8, 0.4, 0.1, kappa, sigma, eta, rho, dt, n, 0.1, 0.2)
    want = _covariance_recursion(1e8, 0.4, 0.1, kappa, sigma, eta, rho, dt, n, 0.1, 0.2)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_ou_moments_constant_volatility_is_the_continuous_ou() -> None:
    mean, var = cf.ou_moments(0.5, 0.1, 0.8, 0.3, 0.25, 12)
    t = np.arange(13) * 0.25
    np.testing.assert_allclose(mean, 0.1 + 0.4 * np.exp(-0.8 * t), rtol=1e-13)
    np.testing.assert_allclose(var, 0.09 * (1 - np.exp(-1.6 * t)) / 1.6, rtol=1e-12, atol=1e-16)


def test_vasicek_pmf_against_gauss_hermite_and_the_mean() -> None:
    n, p, rho = 10, 0.7, 0.4
    pmf = cf.renewed_count_pmf_vasicek(n, p, rho)
    z, w = np.polynomial.hermite_e.hermegauss(120)
    pz = stats.norm.cdf((stats.norm.ppf(p) - math.sqrt(rho) * z) / math.sqrt(1 - rho))
    gh = (stats.binom.pmf(np.arange(n + 1)[:, None], n, pz[None, :]) * w).sum(axis=1)
    gh /= math.sqrt(2 * math.pi)
    np.testing.assert_allclose(pmf, gh, atol=1e-9)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert pmf @ np.arange(n + 1) == pytest.approx(n * p, abs=1e-9)
    # variance exceeds the binomial one by n(n−1)(P(both renew) − p²)
    both = stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]]).cdf(
        [stats.norm.ppf(p)] * 2)
    var = pmf @ np.arange(n + 1) ** 2 - (n * p) ** 2
    assert var == pytest.approx(n * p * (1 - p) + n * (n - 1) * (both - p * p), rel=1e-5)


def test_capacity_cdf_given_two_shocks_against_sampling() -> None:
    rng = np.random.default_rng(1)
    h = rng.uniform(0.1, 0.3, size=(200_000, 2))
    c = np.prod(1 - h, axis=1)
    assert stats.kstest(c, lambda x: cf.capacity_cdf_given_shocks(x, 2, 0.1, 0.3)).pvalue > 1e-3
    grid = np.linspace(0.45, 0.85, 9)
    dens = np.gradient(cf.capacity_cdf_given_shocks(grid, 2, 0.1, 0.3), grid)
    assert np.all(dens >= 0)


def test_capacity_shortfall_recursion_against_sampling() -> None:
    rng = np.random.default_rng(2)
    n, dt, k_max, rate, phi = 200_000, 0.25, 8, 1.0, 0.8
    c = np.ones(n)
    for _ in range(k_max):
        c = 1 - (1 - c) * phi
        shocks = rng.poisson(rate * dt, n)
        for i in range(shocks.max()):
            c = np.where(shocks > i, c * (1 - rng.uniform(0.1, 0.3, n)), c)
    want = cf.capacity_shortfall_mean(rate, dt, k_max, 0.2, phi)[-1]
    assert (1 - c).mean() == pytest.approx(want, abs=5 * (1 - c).std() / math.sqrt(n))


def test_contract_active_probability_against_sampling() -> None:
    rng = np.random.default_rng(3)
    n, k_max, first, term, delay, p, q = 100_000, 20, 2, 4, 2, 0.8, 0.5
    state = np.ones(n, dtype=int)  # 1 active, 2 awaiting, 3 lost
    nxt = np.full(n, first)
    active = [np.ones(n)]
    for k in range(k_max):
        due = nxt == k + 1
        renew = rng.random(n) < p
        replace = rng.random(n) < q
        a_due, w_due = due & (state == 1), due & (state == 2)
        nxt = np.where(a_due & renew, k + 1 + term, nxt)
        nxt = np.where(a_due & ~renew & replace, k + 1 + delay, nxt)
        state = np.where(a_due & ~renew, np.where(replace, 2, 3), state)
        nxt = np.where(w_due, k + 1 + term, nxt)
        state = np.where(w_due, 1, state)
        active.append(state == 1)
    est = np.array(active).mean(axis=1)
    want = cf.contract_active_probability(first, term, p, k_max, q, delay)
    assert np.all(np.abs(est - want) <= 5 * np.sqrt(want * (1 - want) / n) + 1e-12)


def test_regime_entries_pmf_mean_matches_occupation() -> None:
    a, b = cf.switch_probability(0.5, 0.25), cf.switch_probability(1.0, 0.25)
    for p0 in (0.0, 1.0):
        pmf = cf.regime_entries_pmf(a, b, p0, 12)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-14)
        entries, _ = cf.expected_regime_switches(a, b, p0, 12)
        assert pmf @ np.arange(13) == pytest.approx(entries, rel=1e-12)


def test_barrier_probabilities() -> None:
    b, mu, sigma = math.log(0.7), 0.1, 0.4
    exact = cf.barrier_hit_probability_discrete(b, mu, sigma, 1 / 24, 72)
    bgk = cf.barrier_hit_probability_bgk(b, mu, sigma, 1 / 24, 72)
    cont = cf.drifted_bm_hit_probability(b, mu, sigma, 3.0)
    assert abs(bgk - exact) < 1e-3 < cont - exact  # BGK fixes most of the monitoring bias
    # the BGK error shrinks faster than the monitoring bias it corrects (o(√Δt))
    errors = [abs(cf.barrier_hit_probability_bgk(b, mu, sigma, 1 / n, 3 * n)
                  - cf.barrier_hit_probability_discrete(b, mu, sigma, 1 / n, 3 * n))
              for n in (4, 12, 48)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 3e-4
    # the discrete recursion reproduces a one-step probability exactly
    assert cf.barrier_hit_probability_discrete(-0.5, 0.1, 1.0, 1.0, 1) == pytest.approx(
        stats.norm.cdf(-0.6), abs=1e-9)


def test_lognormal_mean_of_min_by_integration() -> None:
    mx, vx, my, vy = 0.1, 0.18, 0.0, 0.09

    def inner(z: float) -> float:  # E[min(X, y)] given Y = y, integrated over Y
        y = math.exp(my + math.sqrt(vy) * z)
        ly = (math.log(y) - mx) / math.sqrt(vx)
        ex_below = math.exp(mx + vx / 2) * stats.norm.cdf(ly - math.sqrt(vx))
        return (ex_below + y * stats.norm.sf(ly)) * stats.norm.pdf(z)

    want = integrate.quad(inner, -10, 10, epsabs=1e-13)[0]
    assert cf.lognormal_mean_of_min(mx, vx, my, vy) == pytest.approx(want, rel=1e-9)


def test_justified_probability_by_sampling() -> None:
    rng = np.random.default_rng(4)
    n = 400_000
    ln_s = rng.normal(19.0, 0.5, n)
    m = 8.0 * np.exp(0.3 * rng.standard_normal(n))
    pv = math.exp(-0.08 * 3) * (m * np.exp(ln_s) + 2e8)
    want = cf.justified_probability(19.0, 0.25, 8.0, 0.3, 1e9, 0.08, 3.0, 2e8)
    assert (pv >= 1e9).mean() == pytest.approx(want, abs=5 * math.sqrt(want * (1 - want) / n))


def test_financing_survival_counts_raises() -> None:
    surv = cf.financing_survival(4.0, 1.0, 4.0, 0.7, 16)
    raises = np.round(np.log(surv) / math.log(0.7)).astype(int)
    assert raises.tolist() == [0] * 5 + [1] * 4 + [2] * 4 + [3] * 4


def test_chi2_pools_bins_and_flags_impossible_outcomes() -> None:
    stat, p = rules.chi2_pvalue(np.array([50, 30, 20, 0]), np.array([0.5, 0.3, 0.2, 0.0]))
    assert stat == pytest.approx(0.0) and p == pytest.approx(1.0)
    assert rules.chi2_pvalue(np.array([50, 30, 19, 1]),
                                   np.array([0.5, 0.3, 0.2, 0.0]))[1] == 0.0


def test_variance_standard_error() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(100_000)
    s2, se = rules.variance_and_se(x)
    assert se == pytest.approx(math.sqrt(2 / x.size), rel=0.02)


def test_generated_document_has_a_row_per_check() -> None:
    if not DOC.exists():
        pytest.skip("docs/validation.md not generated yet")
    text = DOC.read_text(encoding="utf-8")
    assert "generated by docs/generate_validation.py" in text
    rows = re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.M)
    assert rows == list(validation.CHECKS)
