"""With every volatility and hazard at zero, the kernel equals a hand-written loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

import simval

DETERMINISTIC = """
[company]
name = "Detco"
currency = "USD"
as_of = 2026-01-01
valuation = 5e9
net_debt = 2e8

[simulation]
horizon_years = 3
valuation_horizon_years = 3
steps_per_year = 4
n_paths = 4
seed = 1
keep_paths = 4
measure = "real_world"
discount_rate = 0.09
revenue_timing = "{timing}"

[commercial]
revenue = 4e8
growth = 0.5
growth_long_run = 0.1
mean_reversion = 0.6

[contracts.kept]
revenue = 3e8
escalation = 0.04
term_years = 1
first_renewal = 2026-07-01
renewal_probability = 1.0
price_change_median = 1.1

[contracts.lost]
revenue = 2e8
term_years = 2
first_renewal = 2027-04-01
renewal_probability = 0.0

[market_size]
enabled = true
points = [[2025, 4e9], [2028, 6e9]]
max_share = 0.25

[costs]
variable_cost_ratio = 0.6
fixed_costs = 2e8
fixed_cost_growth = 0.03
capex_ratio = 0.02
tax_rate = 0.2
loss_carryforward = 1e8
cash = 3e8
risk_free_rate = 0.03

[valuation]
terminal_method = "{method}"
terminal_earnings = "annualised"
exit_multiple_median = 8
terminal_growth = 0.03

[market]
enabled = true
long_run_multiple = 6
mean_reversion = 0.5
collapse_drawdown = 0.5
"""


def hand_loop(timing: str, method: str) -> dict[str, float]:
    """The model of docs/model.md written out quarter by quarter for this config."""
    dt, k_max = 0.25, 12
    ln_r, mu = math.log(4e8), 0.5
    decay = math.exp(-0.6 * dt)
    kept, lost = 3e8, 2e8
    kept_active, lost_active = True, True
    # renewal steps: first grid date on or after the renewal date (quarters from 2026-01-01)
    kept_next, lost_next = 2, 5
    cash, losses = 3e8, 1e8

    def tam(k):  # log-linear through (2025-07-01, 4e9) and (2028-07-01, 6e9)
        import datetime as dt_

        date = np.datetime64(dt_.date(2026, 1, 1)) + np.timedelta64(0, "D")
        months = 3 * k
        y, m = 2026 + months // 12, 1 + months % 12
        date = np.datetime64(dt_.date(y, m, 1))
        t = (date - np.datetime64("2026-01-01")) / np.timedelta64(1, "D") / 365.25
        x0 = (np.datetime64("2025-07-01") - np.datetime64("2026-01-01")) / np.timedelta64(
            1, "D") / 365.25
        x1 = (np.datetime64("2028-07-01") - np.datetime64("2026-01-01")) / np.timedelta64(
            1, "D") / 365.25
        return math.exp(math.log(4e9) + (math.log(6e9) - math.log(4e9)) * (t - x0) / (x1 - x0))

    def revenue(k):
        contracts = (kept if kept_active else 0.0) + (lost if lost_active else 0.0)
        commercial = min(math.exp(ln_r), max(0.0, 0.25 * tam(k) - contracts))
        return commercial + contracts

    s_prev = revenue(0)
    ln_m = math.log(5e9 / s_prev)
    values = [5e9]
    for k in range(k_max):
        ln_r += mu * dt
        mu = 0.1 + (mu - 0.1) * decay
        if kept_active:
            kept *= math.exp(0.04 * dt)
        if kept_active and kept_next == k + 1:
            kept *= 1.1
            kept_next += 4
        if lost_active and lost_next == k + 1:
            lost_active = False
        s = revenue(k + 1)
        flow_rev = (s_prev if timing == "start" else s) * dt
        fixed = 2e8 * math.exp(0.03 * (k if timing == "start" else k + 1) * dt) * dt
        ebitda = flow_rev * 0.4 - fixed
        income = ebitda + 0.03 * cash * dt
        if income <= losses:
            losses -= income
            tax = 0.0
        else:
            tax = 0.2 * (income - losses)
            losses = 0.0
        cash += income - tax - 0.02 * flow_rev
        ln_m = math.log(6) + (ln_m - math.log(6)) * math.exp(-0.5 * dt)
        values.append(math.exp(ln_m) * s)
        s_prev = s
    if method == "ev_sales":
        tv = 8 * flow_rev * 4
    elif method == "ev_ebitda":
        tv = 8 * ebitda * 4
    else:
        fcf = ebitda - 0.2 * max(ebitda, 0.0) - 0.02 * flow_rev
        tv = fcf * 4 * 1.03 / (math.expm1(0.09) - 0.03)
    pv = math.exp(-0.09 * 3) * (tv + cash) - 2e8
    return {"pv": max(pv, 0.0), "cash": cash, "revenue": s, "min_value": min(values),
            "terminal_revenue": flow_rev / dt}


@pytest.mark.parametrize("timing", ["start", "end"])
@pytest.mark.parametrize("method", ["ev_sales", "ev_ebitda", "gordon"])
def test_kernel_matches_hand_loop(timing, method):
    config = simval.parse_config(DETERMINISTIC.format(timing=timing, method=method))
    ds = simval.simulate(config).sel(scenario="base")
    expected = hand_loop(timing, method)
    # every path is the same path
    assert np.unique(ds.path_pv.values).size == 1
    np.testing.assert_allclose(ds.path_pv[0], expected["pv"], rtol=1e-12)
    np.testing.assert_allclose(ds.path_cash[0, -1], expected["cash"], rtol=1e-12)
    np.testing.assert_allclose(ds.path_total_revenue[0, -1], expected["revenue"], rtol=1e-12)
    np.testing.assert_allclose(ds.path_min_value[0], expected["min_value"], rtol=1e-12)
    np.testing.assert_allclose(ds.path_terminal_revenue[0], expected["terminal_revenue"],
                               rtol=1e-12)
    assert float(ds.contract_survival.sel(contract="lost").isel(time=-1)) == 0.0
    assert float(ds.contract_survival.sel(contract="kept").isel(time=-1)) == 1.0
    assert float(ds.p_justified) == float(expected["pv"] >= 5e9)


def test_revenue_by_source_on_the_deterministic_path():
    """Every path is the same path, so each source's median is its revenue on that path (up to
    the fan grid's bin width: all the mass sits in one bin)."""
    config = simval.parse_config(DETERMINISTIC.format(timing="end", method="ev_sales"))
    ds = simval.simulate(config).sel(scenario="base")
    by_source = ds.source_revenue_quantile.sel(quantile=0.5)
    assert list(ds.source.values) == ["kept", "lost", "expansion"]
    contracts = by_source.sel(source=["kept", "lost"]).sum("source")
    np.testing.assert_allclose(contracts, ds.path_contract_revenue[0], rtol=0.012)
    assert float(by_source.sel(source="lost").isel(time=-1)) == 0.0
    assert (by_source.sel(source="expansion") == 0).all()
