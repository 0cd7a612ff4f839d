"""Stochastic components against closed forms; tolerances are k standard errors computed here.

Each check is paired with a deliberately wrong target that the same machinery must reject,
so the test is known to be able to fail.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from scipy import stats

import simval
from tests.conftest import within_se

BASE = """
[company]
name = "Closed"
currency = "USD"
as_of = 2026-01-01
valuation = 1e9

[simulation]
horizon_years = 2
valuation_horizon_years = 2
steps_per_year = 4
n_paths = {n}
keep_paths = {n}
seed = {seed}
measure = "real_world"
discount_rate = 0.1

[commercial]
revenue = 1e8
growth = {g}
growth_long_run = {g}
volatility = {sigma}
volatility_long_run = {sigma}

[costs]
variable_cost_ratio = 0.0
fixed_costs = 0.0
cash = 1e9

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 10
"""

N = 20_000
SEED = int(os.environ.get("SIMVAL_TEST_SEED", "11"))


def run(extra: str = "", g: float = 0.2, sigma: float = 0.3, n: int = N):
    text = BASE.format(n=n, g=g, sigma=sigma, seed=SEED) + extra
    return simval.simulate(simval.parse_config(text)).sel(scenario="base")


@pytest.fixture(scope="module")
def gbm():
    return run()


def test_lognormal_revenue_mean(gbm):
    r_t = gbm.path_terminal_revenue.values
    se = r_t.std(ddof=1) / math.sqrt(r_t.size)
    truth = 1e8 * math.exp(0.2 * 2)
    assert within_se(r_t.mean(), truth, se)
    assert not within_se(r_t.mean(), 1e8 * math.exp(0.22 * 2), se)  # wrong drift rejected


def test_lognormal_revenue_distribution(gbm):
    log_r = np.log(gbm.path_terminal_revenue.values / 1e8)
    mean, sd = (0.2 - 0.3**2 / 2) * 2, 0.3 * math.sqrt(2)
    assert stats.kstest(log_r, "norm", args=(mean, sd)).pvalue > 1e-4
    assert stats.kstest(log_r, "norm", args=(mean, sd * 1.1)).pvalue < 1e-4
    # quantiles from the streamed histogram agree with the lognormal quantiles
    q = gbm.terminal_revenue_quantile
    for level in q["quantile"].values:
        truth = 1e8 * math.exp(mean + sd * stats.norm.ppf(level))
        low = float(gbm.terminal_revenue_quantile_low.sel(quantile=level))
        high = float(gbm.terminal_revenue_quantile_high.sel(quantile=level))
        se = (high - low) / 3.92  # the order-statistic 95% interval as a standard error
        assert within_se(float(q.sel(quantile=level)), truth, se)


def test_regime_occupation():
    extra = """
[regime]
enabled = true
hazard_normal_to_slowdown = 0.5
hazard_slowdown_to_normal = 1.0
"""
    ds = run(extra)
    a, b = -math.expm1(-0.5 * 0.25), -math.expm1(-1.0 * 0.25)
    stationary = a / (a + b)
    k = np.arange(ds.sizes["time"])
    truth = stationary * (1 - (1 - a - b) ** k)
    se = np.sqrt(truth * (1 - truth) / N)
    est = ds.p_slowdown.values
    assert np.all(np.abs(est - truth) <= 5 * se + 1e-15)
    wrong = (stationary + 0.03) * (1 - (1 - a - b) ** k)
    assert not np.all(np.abs(est - wrong) <= 5 * se + 1e-15)


def test_chip_shock_count_is_poisson():
    extra = """
[chips]
enabled = true
shock_rate = 1.5
haircut_distribution = "fixed"
haircut_low = 0.1
"""
    ds = run(extra)
    counts = ds.path_chip_shocks.values
    mean = 1.5 * 2
    se = math.sqrt(mean / N)
    assert within_se(counts.mean(), mean, se)
    assert not within_se(counts.mean(), mean * 1.05, se)
    # with recovery off, capacity at T is 0.9 ** count exactly
    np.testing.assert_allclose(ds.path_capacity[:, -1], 0.9 ** counts, rtol=1e-12)


def test_independent_renewals_are_binomial():
    extra = """
[contracts.a]
revenue = 1e7
term_years = 5
first_renewal = 2026-12-31
renewal_probability = 0.7
"""
    ds = run(extra)
    p = float(ds.contract_survival.sel(contract="a").isel(time=-1))
    se = math.sqrt(0.7 * 0.3 / N)
    assert within_se(p, 0.7, se)
    assert not within_se(p, 0.7 + 10 * se, se)  # a target 10 s.e. off is rejected


BUDGET = """
[renewals]
correlation = 0.3
budget_weight = {w}
budget_mean_reversion = 0.5

[contracts.a]
revenue = 1e7
term_years = 5
first_renewal = 2026-03-31
renewal_probability = 0.7

[contracts.b]
revenue = 1e7
term_years = 5
first_renewal = 2027-03-31
renewal_probability = 0.7
"""


def test_budget_factor_correlates_renewals_on_different_dates():
    """Two contracts renew once each, at t_1 and t_5 (a year apart, so the step's copula
    factor is not shared): the latents Y = sqrt(rho_c) Z_k - sqrt(rho_b) b + sqrt(1 - rho_c -
    rho_b) xi are standard bivariate normal with correlation rho_b exp(-kappa_b 1 year), and
    both are lost with probability P(Y_1 >= t, Y_2 >= t), t = Phi^-1(0.7)."""
    w = 0.5
    ds = run(BUDGET.format(w=w))
    t = stats.norm.ppf(0.7)
    r = w * math.exp(-0.5 * 1.0)
    truth = stats.multivariate_normal([0.0, 0.0], [[1.0, r], [r, 1.0]]).cdf([-t, -t])
    independent = 0.3 * 0.3
    est = float(np.mean(ds.path_contracts_lost.values == 2))
    se = math.sqrt(truth * (1 - truth) / N)
    assert within_se(est, truth, se)
    assert not within_se(est, independent, se)  # the independence product is rejected
    # each marginal is still the renewal probability
    for name in ("a", "b"):
        survival = float(ds.contract_survival.sel(contract=name).isel(time=-1))
        assert within_se(survival, 0.7, math.sqrt(0.21 / N))
    # without the budget factor the two dates are independent, whatever the copula
    lost0 = run(BUDGET.format(w=0.0)).path_contracts_lost.values
    assert within_se(float(np.mean(lost0 == 2)), independent, math.sqrt(0.09 * 0.91 / N))


def test_budget_mean_per_regime_sets_the_renewal_probability():
    """In a slowdown that never ends, b ~ N(m_b, 1) and the latent ~ N(-sqrt(rho_b) m_b, 1),
    so P(renew) = Phi(t + sqrt(rho_b) m_b)."""
    extra = BUDGET.format(w=0.5) + """
[regime]
enabled = true
initial = "slowdown"

[slowdown.renewals]
budget_mean = -1.0
"""
    ds = run(extra)
    p = stats.norm.cdf(stats.norm.ppf(0.7) - math.sqrt(0.5))
    se = math.sqrt(p * (1 - p) / N)
    for name in ("a", "b"):
        survival = float(ds.contract_survival.sel(contract=name).isel(time=-1))
        assert within_se(survival, p, se)
        assert not within_se(survival, 0.7, se)


def test_cap_on_total_revenue_scales_contracts():
    """Commercial 1e8 and a contract 1e8 a year against a cap of 10% of a flat 1e9 market:
    v1 cuts commercial revenue to 0 and keeps the contract; with cap_contracts both are
    halved (deterministic: no volatility, no growth)."""
    extra = """
[contracts.a]
revenue = 1e8
term_years = 5
first_renewal = 2030-01-01
renewal_probability = 1.0

[market_size]
enabled = true
points = [[2020, 1e9], [2030, 1e9]]
max_share = 0.1
"""
    v1 = run(extra, g=0.0, sigma=0.0, n=8)
    np.testing.assert_allclose(v1.path_commercial_revenue, 0.0, atol=1e-6)
    np.testing.assert_allclose(v1.path_contract_revenue, 1e8, rtol=1e-12)
    capped = run(extra + "cap_contracts = true\n", g=0.0, sigma=0.0, n=8)
    np.testing.assert_allclose(capped.path_commercial_revenue, 5e7, rtol=1e-12)
    np.testing.assert_allclose(capped.path_contract_revenue, 5e7, rtol=1e-12)
    np.testing.assert_allclose(capped.path_market_share, 0.1, rtol=1e-12)
