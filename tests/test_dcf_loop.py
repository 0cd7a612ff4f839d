"""simval's deterministic paths equal the hand-written DCF loop of ``tests/dcf.py``.

With every volatility and hazard at zero all paths are the same path, so one simulated path is
compared with the loop: its present value, terminal revenue, holders' fraction, bankruptcy time
and the revenue, cash and market-value series, each to a relative 1e-10.

The v1 cases run today. The v2 cases (operating model, two horizons, value-driver terminal
value, state-dependent exit multiple, equity bridge; spec of issue 10) are skipped until the
schema has the v2 keys.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

import numpy as np
import pytest

import simval
from simval.config.load import parse_config
from simval.config.schema import SCHEMA
from tests.dcf import present_value

REL, ABS = 1e-10, 1e-6


def _has_v2_keys() -> bool:
    return "operating_expense_ratio" in SCHEMA["costs"]


# --------------------------------------------------------------------------------------------
# Configs as nested dicts, written out as TOML
# --------------------------------------------------------------------------------------------

def _toml_value(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return f'"{x}"'
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, list):
        return "[" + ", ".join(_toml_value(y) for y in x) + "]"
    return repr(x)


def _toml(cfg: dict[str, Any]) -> str:
    lines: list[str] = []

    def table(prefix: str, body: dict[str, Any]) -> None:
        scalars = {k: x for k, x in body.items() if not isinstance(x, dict)}
        lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {_toml_value(x)}" for k, x in scalars.items())
        lines.append("")
        for k, x in body.items():
            if isinstance(x, dict):
                table(f"{prefix}.{k}", x)

    for section, body in cfg.items():
        table(section, body)
    return "\n".join(lines)


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``change`` applied; a value None deletes the key."""
    out = copy.deepcopy(base)
    for key, x in change.items():
        if x is None:
            out.pop(key, None)
        elif isinstance(x, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], x)
        else:
            out[key] = copy.deepcopy(x)
    return out


# A Schwartz-Moon-like company (configs/schwartz_moon_amazon.toml) with sigma = eta = 0.
SCHWARTZ_MOON: dict[str, Any] = {
    "company": {"name": "SM deterministic", "currency": "USD", "as_of": dt.date(1999, 12, 31),
                "valuation": 26.263e9, "net_debt": 0.0},
    "simulation": {"horizon_years": 25.0, "steps_per_year": 4, "n_paths": 1, "seed": 0,
                   "keep_paths": 1, "measure": "risk_neutral", "revenue_timing": "start"},
    "commercial": {"revenue": 1.424e9, "growth": 0.44, "growth_long_run": 0.06,
                   "mean_reversion": 0.28, "price_of_revenue_risk": 0.02,
                   "price_of_growth_risk": 0.05},
    "costs": {"variable_cost_ratio": 0.94, "fixed_costs": 300e6, "tax_rate": 0.35,
              "loss_carryforward": 559e6, "cash": 906e6, "risk_free_rate": 0.05},
    "valuation": {"terminal_method": "ev_ebitda", "terminal_earnings": "per_step",
                  "exit_multiple_median": 10.0, "limited_liability": False},
}

# A company with contracts, fixed-cost growth, capex, taxes and net debt, real-world measure.
CONTRACTOR: dict[str, Any] = {
    "company": {"name": "Contractor", "currency": "USD", "as_of": dt.date(2026, 1, 31),
                "valuation": 6e9, "net_debt": 3e8},
    "simulation": {"horizon_years": 6.0, "steps_per_year": 4, "n_paths": 1, "seed": 0,
                   "keep_paths": 1, "measure": "real_world", "discount_rate": 0.11,
                   "revenue_timing": "end"},
    "commercial": {"revenue": 5e8, "growth": 0.45, "growth_long_run": 0.08,
                   "mean_reversion": 0.4},
    "contracts": {
        "renews": {"revenue": 2.5e8, "escalation": 0.03, "term_years": 1.5,
                   "first_renewal": dt.date(2026, 9, 15), "renewal_probability": 1.0,
                   "price_change_median": 1.12},
        "lost": {"revenue": 1.5e8, "escalation": 0.05, "term_years": 2.0,
                 "first_renewal": dt.date(2028, 3, 1), "renewal_probability": 0.0},
    },
    "costs": {"variable_cost_ratio": 0.55, "fixed_costs": 2.2e8, "fixed_cost_growth": 0.04,
              "capex_ratio": 0.05, "tax_rate": 0.25, "loss_carryforward": 2e8,
              "cash": 4e8, "risk_free_rate": 0.035},
    "valuation": {"terminal_method": "ev_sales", "terminal_earnings": "annualised",
                  "exit_multiple_median": 6.0, "terminal_growth": 0.03},
}

# Loses money from the start and runs out of cash.
BURNER: dict[str, Any] = _merge(CONTRACTOR, {
    "company": {"name": "Burner"},
    "commercial": {"revenue": 2e8, "growth": 0.1, "growth_long_run": 0.02},
    "costs": {"fixed_costs": 4e8, "cash": 3e8},
    "contracts": None,
})

V1_CASES: dict[str, dict[str, Any]] = {
    # Schwartz-Moon reduction, start timing, 10 x last quarter's EBITDA, lambda_R != 0
    "sm_rn_start_ebitda_per_step": SCHWARTZ_MOON,
    "sm_rn_end_ebitda_annualised": _merge(SCHWARTZ_MOON, {
        "simulation": {"revenue_timing": "end"},
        "valuation": {"terminal_earnings": "annualised"}}),
    "sm_rn_start_gordon": _merge(SCHWARTZ_MOON, {
        "valuation": {"terminal_method": "gordon", "terminal_earnings": "annualised",
                      "terminal_growth": 0.03, "exit_multiple_median": None}}),
    "sm_real_world_ev_sales": _merge(SCHWARTZ_MOON, {
        "simulation": {"measure": "real_world", "discount_rate": 0.12},
        "commercial": {"price_of_revenue_risk": None, "price_of_growth_risk": None},
        "valuation": {"terminal_method": "ev_sales", "exit_multiple_median": 2.5,
                      "limited_liability": True}}),
    "sm_kappa_zero_monthly": _merge(SCHWARTZ_MOON, {
        "simulation": {"steps_per_year": 12, "horizon_years": 10.0},
        "commercial": {"mean_reversion": 0.0, "growth": 0.3}}),
    "sm_kappa_zero_bankrupt_recovery": _merge(SCHWARTZ_MOON, {
        "simulation": {"steps_per_year": 12, "horizon_years": 10.0},
        "commercial": {"mean_reversion": 0.0, "growth": 0.15},
        "bankruptcy": {"recovery": 0.5},
        "valuation": {"terminal_method": "ev_sales", "exit_multiple_median": 1.5}}),
    # contracts: one renews (with escalation and a price change), one is lost
    "contracts_end_ev_sales": CONTRACTOR,
    "contracts_start_ev_sales": _merge(CONTRACTOR, {"simulation": {"revenue_timing": "start"}}),
    "contracts_end_ev_sales_per_step": _merge(CONTRACTOR, {
        "valuation": {"terminal_earnings": "per_step"}}),
    "contracts_end_ev_ebitda": _merge(CONTRACTOR, {"valuation": {"terminal_method": "ev_ebitda",
                                                                 "exit_multiple_median": 14.0}}),
    "contracts_start_ev_ebitda": _merge(CONTRACTOR, {
        "simulation": {"revenue_timing": "start"},
        "valuation": {"terminal_method": "ev_ebitda", "exit_multiple_median": 14.0}}),
    "contracts_end_gordon": _merge(CONTRACTOR, {"valuation": {"terminal_method": "gordon"}}),
    "contracts_start_gordon": _merge(CONTRACTOR, {"simulation": {"revenue_timing": "start"},
                                                  "valuation": {"terminal_method": "gordon"}}),
    "contracts_replaced": _merge(CONTRACTOR, {"contracts": {"lost": {
        "replacement_probability": 1.0, "replacement_delay_years": 0.5}}}),
    "contracts_risk_neutral": _merge(CONTRACTOR, {
        "simulation": {"measure": "risk_neutral", "discount_rate": None},
        "commercial": {"price_of_revenue_risk": 0.3, "price_of_growth_risk": -0.2}}),
    # 5 steps a year: calendar dates by rounded days, renewal dates between grid dates
    "contracts_five_steps_a_year": _merge(CONTRACTOR, {
        "simulation": {"steps_per_year": 5},
        "contracts": {"renews": {"term_years": 1.2}, "lost": {"replacement_probability": 1.0,
                                                             "replacement_delay_years": 0.4}}}),
    # a permanent slowdown: regime off, initial slowdown, slowdown overrides apply
    "contracts_permanent_slowdown": _merge(CONTRACTOR, {
        "regime": {"initial": "slowdown"},
        "slowdown": {"commercial": {"growth_long_run": -0.02},
                     "contracts": {"renews": {"price_change_median": 0.9},
                                   "lost": {"renewal_probability": 1.0}}}}),
    # the market multiple moves deterministically towards its long-run level
    "contracts_market_path": _merge(CONTRACTOR, {
        "market": {"enabled": True, "long_run_multiple": 4.0, "mean_reversion": 0.7}}),
    # limited liability: a large net debt floors the PV at 0; without it the PV is negative
    "net_debt_floored": _merge(CONTRACTOR, {"company": {"net_debt": 2e10}}),
    "net_debt_negative": _merge(CONTRACTOR, {"company": {"net_debt": 2e10},
                                             "valuation": {"limited_liability": False}}),
    # bankruptcy: recovery 0 gives 0; a recovery fraction of a positive TV_b
    "bankrupt_no_recovery": BURNER,
    "bankrupt_recovery": _merge(BURNER, {"bankruptcy": {"recovery": 0.4}}),
    "bankrupt_recovery_start": _merge(BURNER, {"bankruptcy": {"recovery": 0.4},
                                               "simulation": {"revenue_timing": "start"}}),
}


def _values_and_dataset(cfg: dict[str, Any]):
    config = parse_config(_toml(cfg))
    ds = simval.simulate(config, n_paths=1, seed=0, keep_paths=1)
    return config.base, ds.isel(scenario=0, path=0)


def _path(ds, name: str) -> np.ndarray:
    return np.asarray(ds[name].values, dtype=float)


def _compare(loop: dict[str, Any], ds) -> None:
    assert loop["pv"] == pytest.approx(float(ds.path_pv), rel=REL, abs=ABS)
    assert loop["terminal_revenue"] == pytest.approx(float(ds.path_terminal_revenue),
                                                     rel=REL, abs=ABS)
    assert loop["holders_fraction"] == pytest.approx(float(ds.path_holders_fraction), rel=REL)
    assert loop["contracts_lost"] == int(ds.path_contracts_lost)
    t_b = float(ds.path_bankruptcy_time)
    if loop["bankrupt_step"] < 0:
        assert math.isnan(t_b)
    else:
        assert t_b == pytest.approx(loop["bankruptcy_time"], rel=REL)
    for mine, theirs in [("revenue", "path_total_revenue"),
                         ("commercial_revenue", "path_commercial_revenue"),
                         ("contract_revenue", "path_contract_revenue"),
                         ("cash_series", "path_cash"),
                         ("market_value", "path_market_value")]:
        np.testing.assert_allclose(loop[mine], _path(ds, theirs), rtol=REL, atol=ABS,
                                   err_msg=f"{mine} vs {theirs}")
    assert loop["cash"] == pytest.approx(float(_path(ds, "path_cash")[-1]), rel=REL, abs=ABS)


@pytest.mark.parametrize("case", list(V1_CASES))
def test_v1_deterministic_equals_dcf_loop(case: str) -> None:
    values, ds = _values_and_dataset(V1_CASES[case])
    loop = present_value(values)
    _compare(loop, ds)


def test_v1_cases_cover_what_they_claim() -> None:
    """The variants really exercise a bankruptcy, a lost and a renewed contract, a PV floored
    at 0 and a negative PV (so the comparisons above are not vacuous)."""
    burner = present_value(parse_config(_toml(BURNER)).base)
    assert burner["bankrupt_step"] > 0
    recovered = present_value(parse_config(_toml(V1_CASES["bankrupt_recovery"])).base)
    assert recovered["pv"] > 0
    sm = present_value(parse_config(_toml(SCHWARTZ_MOON)).base)
    assert sm["bankrupt_step"] == -1
    sm_b = present_value(parse_config(_toml(V1_CASES["sm_kappa_zero_bankrupt_recovery"])).base)
    assert sm_b["bankrupt_step"] > 0 and sm_b["pv"] > 0
    c = present_value(parse_config(_toml(CONTRACTOR)).base)
    assert c["bankrupt_step"] == -1 and c["pv"] > 0
    ratios = np.divide(c["contract_revenue"][1:], c["contract_revenue"][:-1])
    assert ratios.min() < 0.8  # the lost contract drops out
    assert ratios.max() > 1.1  # the renewed contract's price change
    assert present_value(parse_config(_toml(V1_CASES["net_debt_floored"])).base)["pv"] == 0
    assert present_value(parse_config(_toml(V1_CASES["net_debt_negative"])).base)["pv"] < 0


def test_dcf_loop_refuses_a_random_case() -> None:
    cfg = _merge(CONTRACTOR, {"commercial": {"volatility": 0.2}})
    with pytest.raises(ValueError, match="deterministic"):
        present_value(parse_config(_toml(cfg)).base)


# --------------------------------------------------------------------------------------------
# v2 (issue 10): skipped until the schema has the v2 keys
# --------------------------------------------------------------------------------------------

# A company that becomes profitable, with the v2 operating model switched on item by item.
OPERATOR: dict[str, Any] = _merge(CONTRACTOR, {
    "company": {"name": "Operator"},
    "simulation": {"horizon_years": 3.0, "valuation_horizon_years": 8.0},
    "costs": {"variable_cost_ratio": 0.45, "fixed_costs": 1.5e8,
              "operating_expense_ratio": 0.25},
    "valuation": {"terminal_method": "value_driver", "terminal_growth": 0.03,
                  "return_on_capital": 0.15, "exit_multiple_median": None},
})

V2_CASES: dict[str, dict[str, Any]] = {
    # operating expenses converging to a target EBIT margin (o_inf = 1 - a - s_e - m_c - m)
    "opex_target_margin": _merge(OPERATOR, {"costs": {
        "target_operating_margin": 0.35, "margin_convergence": 0.5}}),
    "opex_target_margin_start": _merge(OPERATOR, {
        "simulation": {"revenue_timing": "start"},
        "costs": {"target_operating_margin": 0.35, "margin_convergence": 0.5}}),
    # SBC as an expense, and as dilution (V_{k+1} = M_0 S_{k+1}, h <- h V/(V + s Q))
    "sbc_expense": _merge(OPERATOR, {"costs": {"sbc_ratio": 0.08, "sbc_treatment": "expense",
                                               "target_operating_margin": 0.25,
                                               "margin_convergence": 0.4}}),
    "sbc_dilution": _merge(OPERATOR, {"costs": {"sbc_ratio": 0.08,
                                                "sbc_treatment": "dilution"}}),
    "sbc_dilution_start": _merge(OPERATOR, {"simulation": {"revenue_timing": "start"},
                                            "costs": {"sbc_ratio": 0.08,
                                                      "sbc_treatment": "dilution"}}),
    # maintenance capex = D&A (tax-deductible), sales-to-capital growth reinvestment
    "maintenance_capex": _merge(OPERATOR, {"costs": {"maintenance_capex_ratio": 0.04,
                                                     "target_operating_margin": 0.28,
                                                     "margin_convergence": 0.6}}),
    "sales_to_capital": _merge(OPERATOR, {"costs": {"sales_to_capital": 1.8}}),
    # debt: interest r_d D dt, repaid at T_v
    "debt_interest": _merge(OPERATOR, {"debt": {"amount": 6e8, "interest_rate": 0.07}}),
    # contracts with their own cost of revenue
    "contract_cost_ratio": _merge(OPERATOR, {"costs": {"contract_cost_ratio": 0.7}}),
    "contract_cost_ratio_start": _merge(OPERATOR, {"simulation": {"revenue_timing": "start"},
                                                   "costs": {"contract_cost_ratio": 0.7}}),
    # valuation horizon equal to and longer than the question horizon
    "valuation_horizon_equal": _merge(OPERATOR, {"simulation": {
        "valuation_horizon_years": 3.0}}),
    "valuation_horizon_long_gordon": _merge(OPERATOR, {
        "simulation": {"valuation_horizon_years": 12.0},
        "valuation": {"terminal_method": "gordon", "return_on_capital": None}}),
    # value driver under risk-neutral discounting, and per terminal timing
    "value_driver_risk_neutral": _merge(OPERATOR, {
        "simulation": {"measure": "risk_neutral", "discount_rate": None},
        "commercial": {"price_of_revenue_risk": 0.3, "price_of_growth_risk": 0.1},
        "costs": {"risk_free_rate": 0.045}}),
    "value_driver_start": _merge(OPERATOR, {"simulation": {"revenue_timing": "start"}}),
    # value driver on a business still losing money at T_v (cash keeps it alive): TV = 0
    "value_driver_loss_making": _merge(OPERATOR, {"costs": {"operating_expense_ratio": 0.6,
                                                            "cash": 5e9}}),
    # exit multiple with growth and margin slopes, given by its mean (dispersion 0)
    "exit_multiple_slopes_ev_sales": _merge(OPERATOR, {"valuation": {
        "return_on_capital": None, "terminal_method": "ev_sales", "exit_multiple_mean": 5.0,
        "exit_multiple_growth_slope": 4.0, "exit_multiple_margin_slope": 6.0,
        "exit_reference_growth": 0.05, "exit_reference_margin": 0.2}}),
    "exit_multiple_slopes_default_refs": _merge(OPERATOR, {
        "costs": {"target_operating_margin": 0.3, "margin_convergence": 0.5},
        "valuation": {"return_on_capital": None, "terminal_method": "ev_ebitda",
                      "exit_multiple_median": 12.0, "exit_multiple_growth_slope": 3.0,
                      "exit_multiple_margin_slope": -2.0}}),
    # contract revenue's own exit multiple (ev_sales only)
    "contract_exit_multiple": _merge(OPERATOR, {"valuation": {
        "return_on_capital": None, "terminal_method": "ev_sales", "exit_multiple_median": 5.0,
        "contract_exit_multiple": 2.0}}),
    "contract_exit_multiple_start": _merge(OPERATOR, {
        "simulation": {"revenue_timing": "start"},
        "valuation": {"return_on_capital": None, "terminal_method": "ev_sales",
                      "exit_multiple_median": 5.0, "contract_exit_multiple": 2.0}}),
    # option overhang w: holders get (1 - w)
    "option_overhang": _merge(OPERATOR, {"company": {"option_overhang": 0.07}}),
    # everything at once, end and start timing
    "everything": _merge(OPERATOR, {
        "company": {"option_overhang": 0.05},
        "costs": {"contract_cost_ratio": 0.65, "target_operating_margin": 0.27,
                  "margin_convergence": 0.45, "sbc_ratio": 0.06, "sbc_treatment": "dilution",
                  "maintenance_capex_ratio": 0.03, "sales_to_capital": 2.2},
        "debt": {"amount": 4e8, "interest_rate": 0.06},
        "valuation": {"return_on_capital": None, "terminal_method": "ev_sales",
                      "exit_multiple_mean": 6.0, "exit_multiple_growth_slope": 5.0,
                      "exit_multiple_margin_slope": 4.0, "contract_exit_multiple": 3.0}}),
    "everything_value_driver_start": _merge(OPERATOR, {
        "simulation": {"revenue_timing": "start"},
        "company": {"option_overhang": 0.05},
        "costs": {"cash": 1.5e9, "contract_cost_ratio": 0.65, "target_operating_margin": 0.27,
                  "margin_convergence": 0.45, "sbc_ratio": 0.06, "sbc_treatment": "expense",
                  "maintenance_capex_ratio": 0.03, "sales_to_capital": 2.2},
        "debt": {"amount": 4e8, "interest_rate": 0.06}}),
    # a bankrupt path under v2: SBC dilution before bankruptcy, overhang on the recovery
    "bankrupt_v2": _merge(BURNER, {
        "simulation": {"valuation_horizon_years": 8.0},
        "company": {"option_overhang": 0.1},
        "costs": {"operating_expense_ratio": 0.1, "sbc_ratio": 0.05,
                  "sbc_treatment": "dilution"},
        "debt": {"amount": 1e8, "interest_rate": 0.08},
        "bankruptcy": {"recovery": 0.4},
        "valuation": {"terminal_method": "ev_sales", "exit_multiple_median": 3.0}}),
}

# every v2 key the cases above use, by section (for the report and for _v2_values)
V2_KEYS: dict[str, tuple[str, ...]] = {
    "company": ("option_overhang",),
    "simulation": ("valuation_horizon_years",),
    "costs": ("contract_cost_ratio", "operating_expense_ratio", "target_operating_margin",
              "margin_convergence", "sbc_ratio", "sbc_treatment", "maintenance_capex_ratio",
              "sales_to_capital"),
    "debt": ("amount", "interest_rate"),
    "valuation": ("return_on_capital", "exit_multiple_mean", "exit_multiple_growth_slope",
                  "exit_multiple_margin_slope", "exit_reference_growth", "exit_reference_margin",
                  "contract_exit_multiple"),
}


@pytest.mark.skipif(not _has_v2_keys(), reason="the v2 keys of issue 10 are not in the schema "
                    "yet (costs.operating_expense_ratio is missing)")
@pytest.mark.parametrize("case", list(V2_CASES))
def test_v2_deterministic_equals_dcf_loop(case: str) -> None:
    values, ds = _values_and_dataset(V2_CASES[case])
    loop = present_value(values)
    _compare(loop, ds)


# --------------------------------------------------------------------------------------------
# The loop's v2 arithmetic, checked today without simval's v2: v1-validated values with the v2
# keys put in by hand (the loop reads every v2 key with a v1-neutral default)
# --------------------------------------------------------------------------------------------

def _v2_values(cfg: dict[str, Any]) -> dict[str, Any]:
    """The values of ``cfg``: validated by simval when its schema has the v2 keys, else
    validated without them (v1) and the v2 keys put back by hand."""
    if _has_v2_keys():
        return parse_config(_toml(cfg)).base
    v1 = copy.deepcopy(cfg)
    extra: dict[str, dict[str, Any]] = {}
    for section, keys in V2_KEYS.items():
        for key in keys:
            if key in v1.get(section, {}):
                extra.setdefault(section, {})[key] = v1[section].pop(key)
    v1.pop("debt", None)
    val = v1["valuation"]
    method = val["terminal_method"]
    if method == "value_driver":
        val["terminal_method"] = "gordon"
    if "exit_multiple_mean" in extra.get("valuation", {}):
        val["exit_multiple_median"] = extra["valuation"]["exit_multiple_mean"]
    values = parse_config(_toml(v1)).base
    for section, keys in extra.items():
        values.setdefault(section, {}).update(keys)
    values["valuation"]["terminal_method"] = method
    if "exit_multiple_mean" in extra.get("valuation", {}):
        values["valuation"]["exit_multiple_median"] = None
    return values


def _plain(cfg: dict[str, Any]) -> dict[str, Any]:
    return present_value(_v2_values(cfg))


def test_loop_v2_neutral_keys_give_v1() -> None:
    """Every v2 key at its neutral value leaves the v1 result unchanged, to the last bit."""
    neutral = _merge(CONTRACTOR, {
        "company": {"option_overhang": 0.0},
        "simulation": {"valuation_horizon_years": 6.0},
        "costs": {"contract_cost_ratio": 0.55, "operating_expense_ratio": 0.0,
                  "sbc_ratio": 0.0, "maintenance_capex_ratio": 0.0},
        "debt": {"amount": 0.0, "interest_rate": 0.0},
        "valuation": {"exit_multiple_growth_slope": 0.0, "exit_multiple_margin_slope": 0.0}})
    v1 = _merge(CONTRACTOR, {"simulation": {"valuation_horizon_years": 6.0}})  # T_v = T_q
    assert _plain(neutral)["pv"] == _plain(v1)["pv"]
    if not _has_v2_keys():  # v1 schema: the same as the plain v1 values
        assert _plain(v1)["pv"] == present_value(parse_config(_toml(CONTRACTOR)).base)["pv"]


def test_loop_v2_margin_converges_to_target() -> None:
    """No fixed costs, no contracts: the EBIT margin of step k is exactly
    m - (o_0 - o_inf) e^{-kappa_o t} with o_inf = 1 - alpha - s_e - m_c - m."""
    cfg = _merge(OPERATOR, {
        "simulation": {"valuation_horizon_years": 30.0},
        "contracts": None,
        "costs": {"fixed_costs": 0.0, "target_operating_margin": 0.3, "margin_convergence": 0.5,
                  "sbc_ratio": 0.05, "sbc_treatment": "expense",
                  "maintenance_capex_ratio": 0.04}})
    out = _plain(cfg)
    o_inf = 1 - 0.45 - 0.05 - 0.04 - 0.3
    for k, margin in enumerate(out["operating_margin"]):
        t = (k + 1) / 4  # revenue_timing "end": o(t_{k+1})
        assert margin == pytest.approx(0.3 - (0.25 - o_inf) * math.exp(-0.5 * t), rel=1e-12)
    assert out["operating_margin"][-1] == pytest.approx(0.3, abs=1e-6)


def test_loop_v2_equity_bridge() -> None:
    """Overhang scales the PV by (1 - w); debt repaid at T_v (no interest) costs h D(T_v) D;
    the exit multiple's mean equals its median at dispersion 0; a contract exit multiple equal
    to the exit multiple changes nothing."""
    base = _plain(OPERATOR)
    assert base["pv"] > 0 and base["bankrupt_step"] == -1
    with_w = _plain(_merge(OPERATOR, {"company": {"option_overhang": 0.07}}))
    assert with_w["pv"] == pytest.approx(0.93 * base["pv"], rel=1e-13)
    with_debt = _plain(_merge(OPERATOR, {"debt": {"amount": 6e8}}))
    assert base["pv"] - with_debt["pv"] == pytest.approx(base["discount_factor"] * 6e8,
                                                         rel=1e-9)
    ev = {"return_on_capital": None, "terminal_method": "ev_sales"}
    median = _plain(_merge(OPERATOR, {"valuation": {**ev, "exit_multiple_median": 5.0}}))
    mean = _plain(_merge(OPERATOR, {"valuation": {**ev, "exit_multiple_mean": 5.0}}))
    same = _plain(_merge(OPERATOR, {"valuation": {**ev, "exit_multiple_median": 5.0,
                                                  "contract_exit_multiple": 5.0}}))
    assert mean["pv"] == median["pv"] == pytest.approx(same["pv"], rel=1e-13)


def test_loop_v2_value_driver_by_hand() -> None:
    """TV = max((1 - tau) f EBIT, 0)(1 - g/ROIC)(1 + g)/(e^r - 1 - g), floored at 0."""
    out = _plain(OPERATOR)
    nopat = (1 - 0.25) * 4 * out["ebit"][-1]
    assert nopat > 0
    tv = nopat * (1 - 0.03 / 0.15) * 1.03 / (math.exp(0.11) - 1 - 0.03)
    assert out["terminal_value"] == pytest.approx(tv, rel=1e-14)
    losing = _plain(V2_CASES["value_driver_loss_making"])
    assert losing["bankrupt_step"] == -1
    assert losing["ebit"][-1] < 0 and losing["terminal_value"] == 0 and losing["pv"] > 0


def test_loop_v2_cases_are_not_vacuous() -> None:
    """Each v2 case runs through the loop, and the ones meant to show something do."""
    out = {name: _plain(cfg) for name, cfg in V2_CASES.items()}
    for name, o in out.items():
        assert math.isfinite(o["pv"]), name
        assert (o["bankrupt_step"] == -1) == (name != "bankrupt_v2"), name
    assert out["bankrupt_v2"]["pv"] > 0 and out["bankrupt_v2"]["holders_fraction"] < 1
    for name in ("sbc_dilution", "sbc_dilution_start", "everything"):
        assert out[name]["holders_fraction"] < 1, name
    base_margin = _plain(OPERATOR)["operating_margin"]
    for name in ("opex_target_margin", "sbc_expense", "maintenance_capex"):
        assert out[name]["operating_margin"] != base_margin, name
    assert out["valuation_horizon_equal"]["steps"] == out["valuation_horizon_equal"][
        "question_steps"] == 12
    assert out["valuation_horizon_long_gordon"]["steps"] == 48


def test_loop_v2_sbc_dilution_by_hand() -> None:
    """h = prod_k V_{k+1}/(V_{k+1} + s Q_k) with V_{k+1} = M_0 S_{k+1}, M_0 = V_0/S_0."""
    out = _plain(V2_CASES["sbc_dilution"])
    s = out["revenue"]
    m_0 = 6e9 / s[0]
    h = 1.0
    for k, q in enumerate(out["revenue_flow"]):
        h *= m_0 * s[k + 1] / (m_0 * s[k + 1] + 0.08 * q)
    assert out["holders_fraction"] == pytest.approx(h, rel=1e-13) and h < 1


def test_loop_v2_exit_multiple_slopes_by_hand() -> None:
    """ln M_exit = ln M_med + b_g (mu_K - mu_ref) + b_m (m_last - m_ref)."""
    out = _plain(V2_CASES["exit_multiple_slopes_ev_sales"])
    expected = 5.0 * math.exp(4.0 * (out["growth"][-1] - 0.05)
                              + 6.0 * (out["operating_margin"][-1] - 0.2))
    assert out["exit_multiple"] == pytest.approx(expected, rel=1e-14)
    assert out["terminal_value"] == pytest.approx(expected * 4 * out["revenue_flow"][-1],
                                                  rel=1e-14)


def test_loop_v2_reinvestment_and_interest() -> None:
    """Sales-to-capital reinvestment lowers cash by max(dS, 0)/SC a step and leaves EBIT
    alone (it is not an expense); debt interest is a deductible cash cost."""
    base = _plain(OPERATOR)
    sc = _plain(V2_CASES["sales_to_capital"])
    assert sc["ebit"] == base["ebit"]
    spent = sum(max(b - a, 0.0) / 1.8 for a, b in zip(base["revenue"], base["revenue"][1:],
                                                       strict=False))
    # reinvested cash also loses its interest, so the gap is at least what was spent
    assert base["cash"] - sc["cash"] >= spent * (1 - 1e-12)
    debt = _plain(V2_CASES["debt_interest"])
    assert all(d <= b for d, b in zip(debt["tax"], base["tax"], strict=True))
    assert debt["cash"] < base["cash"]
