"""Shared fixtures: small configs with every driver switched on, and helpers."""

from __future__ import annotations

import numpy as np
import pytest

import simval

FULL_CONFIG = """
[company]
name = "Testco"
currency = "CNY"
as_of = 2026-06-30
valuation = 50e9
net_debt = 1e9

[simulation]
horizon_years = 3
valuation_horizon_years = 3
steps_per_year = 4
n_paths = 6000
seed = 7
keep_paths = 50
measure = "real_world"
discount_rate = 0.1

[regime]
enabled = true
hazard_normal_to_slowdown = 0.3
hazard_slowdown_to_normal = 0.8

[commercial]
revenue = 1e9
growth = 0.4
growth_long_run = 0.15
mean_reversion = 0.5
volatility = 0.4
volatility_long_run = 0.2
volatility_decay = 0.3
growth_volatility = 0.1
growth_volatility_decay = 0.2
correlation = 0.3
capacity_elasticity = 1.0

[contracts.city]
revenue = 1.5e9
escalation = 0.02
term_years = 2
first_renewal = 2027-01-01
renewal_probability = 0.8
price_change_median = 1.05
price_change_dispersion = 0.1
replacement_probability = 0.3
replacement_delay_years = 0.5

[contracts.ministry]
revenue = 0.5e9
term_years = 1
first_renewal = 2026-12-31
renewal_probability = 0.7
capacity_elasticity = 0.5

[renewals]
correlation = 0.4

[expansion]
enabled = true
pool_size = 5
win_rate = 1.5
revenue_median = 0.2e9
revenue_dispersion = 0.5
term_years = 1
renewal_probability = 0.9

[chips]
enabled = true
shock_rate = 0.6
haircut_low = 0.15
haircut_high = 0.2
recovery_half_life_years = 1.0
cost_sensitivity = 0.3
multiple_jump_median = 0.8
multiple_jump_dispersion = 0.2

[market_size]
enabled = true
currency = "USD"
fx_rate = 7.0
points = [[2024, 5e9], [2027, 12e9], [2030, 25e9]]
max_share = 0.2
multiplier_dispersion = 0.2

[costs]
variable_cost_ratio = 0.5
fixed_costs = 1.5e9
fixed_cost_growth = 0.05
capex_ratio = 0.05
tax_rate = 0.25
loss_carryforward = 1e9
cash = 2e9
risk_free_rate = 0.02

[financing]
enabled = true
cash_floor = 0.5e9
amount = 2e9
probability = 0.7

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 12
exit_multiple_dispersion = 0.2

[market]
enabled = true
long_run_multiple = 15
mean_reversion = 0.4
volatility = 0.3
slowdown_jump_median = 0.6
slowdown_jump_dispersion = 0.2
threshold = 20e9

[slowdown.commercial]
growth_long_run = 0.05
[slowdown.chips]
shock_rate = 1.2
[slowdown.expansion]
win_rate = 0.5
[slowdown.market]
long_run_multiple = 8
[slowdown.financing]
probability = 0.3
[slowdown.contracts.city]
renewal_probability = 0.5

[scenarios.base]
[scenarios.harsh_chips]
chips.shock_rate = 1.5
[scenarios.calm_market]
market.volatility = 0.1
"""


# ev_sales, no costs, known terminal cash X = 2e8: P(justified) is a normal CDF of ln M
# (simval.validation.closed_forms.justified_probability) and E[PV] is linear in M
# (pv_mean_ev_sales); used by the sensitivity and implied-expectation tests, which need a known
# answer
CLOSED_FORM = """
[company]
name = "Closed form"
currency = "USD"
as_of = 2026-01-01
valuation = 6e8

[simulation]
horizon_years = 3.0
valuation_horizon_years = 3.0
steps_per_year = 4
seed = 11
keep_paths = 0
discount_rate = 0.08

[commercial]
revenue = 1e8
growth = 0.3
growth_long_run = 0.1
mean_reversion = 0.5
volatility = 0.3
volatility_long_run = 0.3
growth_volatility = 0.1
correlation = 0.4

[costs]
variable_cost_ratio = 1.0
fixed_costs = 0.0
cash = 2e8

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 8.0
exit_multiple_dispersion = 0.5
"""


@pytest.fixture(scope="session")
def full_config() -> simval.Config:
    return simval.parse_config(FULL_CONFIG, source="full.toml")


def within_se(estimate: float, truth: float, se: float, k: float = 5.0) -> bool:
    """|estimate - truth| <= k standard errors (k = 5 keeps 20 reruns far from flaky)."""
    return bool(abs(estimate - truth) <= k * se)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)
