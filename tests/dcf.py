"""A hand-written, plain-Python DCF of simval's deterministic model.

This module is an *independent* statement of the model, written from the equations of
``docs/model.md`` (sections 1-4, the v1 model) and of the v2 specification (operating model,
two horizons, value-driver terminal value, state-dependent exit multiple, equity bridge). It
does not import or mirror simval's kernel or reference model: it only reads one validated
scenario's ``values`` (as ``simval.config.load`` produces them) and walks the time grid one
step at a time, the way a valuation analyst would lay out a spreadsheet:

    revenue -> cost of revenue -> operating expenses -> EBITDA -> D&A -> EBIT -> interest
    -> taxes (with the loss carry-forward) -> reinvestment -> cash,

then the terminal value, the discounting and the equity bridge.

It is valid only for the **deterministic** case, where every path of simval is the same path:
revenue and growth volatilities zero, no regime switches (a regime that is enabled must have
zero hazards), no chip shocks, no expansion wins, market size and financing off, every contract
renewing with certainty (``renewal_probability`` 1, ``price_change_dispersion`` 0) or lost with
certainty at its first renewal (``renewal_probability`` 0, ``replacement_probability`` 0 or 1),
a market multiple without volatility, and ``exit_multiple_dispersion`` 0. Anything else raises
``ValueError``.

Every v2 key is read with ``.get(key, v1-neutral default)``, so the same function works on the
values of the v1 schema (where those keys do not exist yet) and of the v2 schema.

Equation labels in the comments: "M2.1" = docs/model.md section 2.1, "M3" = section 3, etc.;
"S:..." = the v2 specification (spec10.md), by heading.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from typing import Any

__all__ = ["present_value"]


# --------------------------------------------------------------------------------------------
# The calendar (M1: "Calendar dates" and "Event dates -> steps")
# --------------------------------------------------------------------------------------------

def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clipped to a shorter month's end (31 Jan + 1 -> 28 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def _grid_dates(as_of: dt.date, n: int, steps: int) -> list[dt.date]:
    """date_k for k = 0 .. steps (M1): whole months when 12 % n == 0, else rounded days.

    Each date is computed from ``as_of`` directly, so month-end clipping never drifts.
    """
    if 12 % n == 0:
        months = 12 // n
        return [_add_months(as_of, months * k) for k in range(steps + 1)]
    return [as_of + dt.timedelta(days=round(k * 365.25 / n)) for k in range(steps + 1)]


def _step_of(date: dt.date, dates: list[dt.date]) -> int:
    """First grid index whose date is on or after ``date``; K + 1 (never) after the horizon."""
    for k, d in enumerate(dates):
        if d >= date:
            return k
    return len(dates)  # = K + 1


def _whole_steps(years: float, n: int) -> int:
    """A term in years stored as round(years * n) steps (M1: "Terms")."""
    return int(round(years * n))


# --------------------------------------------------------------------------------------------
# Checks that the scenario really is deterministic
# --------------------------------------------------------------------------------------------

def _require(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(f"present_value handles the deterministic case only: {what}")


def _check_deterministic(v: dict[str, Any], regime: int) -> None:
    com = v["commercial"]
    _require(com["volatility"] == 0 and com["volatility_long_run"] == 0,
             "commercial.volatility and volatility_long_run must be 0")
    _require(com["growth_volatility"] == 0, "commercial.growth_volatility must be 0")
    reg = v["regime"]
    _require(not reg["enabled"] or (reg["hazard_normal_to_slowdown"] == 0
                                    and reg["hazard_slowdown_to_normal"] == 0),
             "an enabled regime must have zero hazards")
    slow = v.get("slowdown", {})
    chips = v["chips"]
    if chips["enabled"]:
        rate = chips["shock_rate"] if regime == 0 else slow["chips"]["shock_rate"]
        _require(rate == 0, "chips must be off or have a zero shock rate")
    exp_ = v["expansion"]
    if exp_["enabled"]:
        rate = exp_["win_rate"] if regime == 0 else slow["expansion"]["win_rate"]
        _require(rate == 0 or exp_["pool_size"] == 0, "expansion must be off or win nothing")
    _require(not v["market_size"]["enabled"], "market_size must be off")
    _require(not v["financing"]["enabled"], "financing must be off")
    mkt = v["market"]
    if mkt["enabled"]:
        vol = mkt["volatility"] if regime == 0 else slow["market"]["volatility"]
        _require(vol == 0, "the market multiple must have zero volatility")
    _require(v["valuation"].get("exit_multiple_dispersion", 0.0) == 0,
             "valuation.exit_multiple_dispersion must be 0")
    for name, c in v.get("contracts", {}).items():
        p = _contract_param(v, name, "renewal_probability", regime)
        _require(p in (0.0, 1.0), f"contract {name}: renewal_probability must be 0 or 1")
        _require(c["price_change_dispersion"] == 0 or p == 0,
                 f"contract {name}: price_change_dispersion must be 0")
        _require(c["replacement_probability"] in (0.0, 1.0),
                 f"contract {name}: replacement_probability must be 0 or 1")


def _contract_param(v: dict[str, Any], name: str, key: str, regime: int) -> float:
    """A per-regime contract parameter p_j[s] or m_j[s] (M2.3, M7 item 4)."""
    if regime == 1:
        return v["slowdown"]["contracts"][name][key]
    return v["contracts"][name][key]


# --------------------------------------------------------------------------------------------
# The DCF
# --------------------------------------------------------------------------------------------

def present_value(values: dict[str, Any]) -> dict[str, Any]:
    """Value one deterministic scenario step by step.

    Parameters
    ----------
    values : dict
        One validated scenario (``simval.load_config(path).scenarios[name]``).

    Returns
    -------
    dict
        Scalars: ``pv`` (present value to today's holders), ``terminal_value`` (TV at the
        valuation horizon, or at bankruptcy, undiscounted), ``cash`` (X at T_v: 0 after a
        bankruptcy before T_v, the negative cash at t_b when t_b = T_v), ``bankrupt_step``
        (b with bankruptcy at t_b, -1 if none), ``bankruptcy_time`` (years, NaN if none),
        ``terminal_revenue`` (annual rate of the terminal base revenue, 0 if bankrupt),
        ``holders_fraction`` (h at the end), ``contracts_lost``, ``exit_multiple``,
        ``discount_factor``, ``steps`` (K = K_v), ``question_steps`` (K_q).
        Series over t_0 .. t_K (length K + 1, zero after a bankruptcy, as simval reports
        them): ``revenue`` (S_k), ``commercial_revenue``, ``contract_revenue``,
        ``cash_series`` (X_k), ``market_value`` (V_k), ``growth`` (mu_k).
        Per-step flows (length = steps lived, step k from t_k to t_{k+1}): ``ebit``,
        ``ebitda``, ``revenue_flow`` (Q_k), ``tax``, ``operating_margin``.
        (``cash`` is the scalar X at T_v; the cash series is ``cash_series``.)
    """
    v = values
    company, sim, com, costs, val = (v["company"], v["simulation"], v["commercial"],
                                     v["costs"], v["valuation"])
    debt = v.get("debt", {})  # S:[debt] - a new section, absent in v1

    # ---- time grid (M1 "Grid"; S:[simulation] two horizons) ---------------------------------
    n = int(sim["steps_per_year"])
    dt_ = 1.0 / n
    t_q = float(sim["horizon_years"])
    if "valuation_horizon_years" not in sim:
        t_v = t_q  # v1: the valuation horizon is the (only) horizon
    elif sim["valuation_horizon_years"] is None:
        t_v = max(t_q, 10.0)  # S:[simulation] default, should the loader leave it unfilled
    else:
        t_v = float(sim["valuation_horizon_years"])
    k_q = int(round(t_q * n))
    steps = int(round(t_v * n))  # K = K_v, steps simulated
    times = [k * dt_ for k in range(steps + 1)]  # t_k = k * dt exactly

    # ---- regime: constant, because every hazard is zero (M2.5) -------------------------------
    regime = 1 if v["regime"]["initial"] == "slowdown" else 0
    _check_deterministic(v, regime)
    slow = v.get("slowdown", {})

    # ---- measure guard (M4) ------------------------------------------------------------------
    r_f = costs["risk_free_rate"]
    if sim["measure"] == "risk_neutral":
        r = r_f
        lam_r = com["price_of_revenue_risk"]
        lam_mu = com["price_of_growth_risk"]
    else:
        r = sim["discount_rate"]
        lam_r = lam_mu = 0.0

    def discount(t: float) -> float:
        return math.exp(-r * t)  # D(t) = e^{-r t} (M1, M3)

    # ---- Schwartz-Moon parameters (M2.1) ------------------------------------------------------
    mu_bar = com["growth_long_run"] if regime == 0 else slow["commercial"]["growth_long_run"]
    kappa = com["mean_reversion"]
    if kappa > 0:
        a = math.exp(-kappa * dt_)
        b = -math.expm1(-kappa * dt_) / kappa
    else:  # kappa = 0 limit
        a, b = 1.0, dt_
    sigma_0, sigma_bar, kappa_1 = (com["volatility"], com["volatility_long_run"],
                                   com["volatility_decay"])
    eta_0, kappa_2 = com["growth_volatility"], com["growth_volatility_decay"]

    # ---- operating model parameters (M2.7; S:[costs]) -----------------------------------------
    alpha = costs["variable_cost_ratio"]
    gamma = v["chips"]["cost_sensitivity"]
    alpha_k_contract = costs.get("contract_cost_ratio")
    if alpha_k_contract is None:  # absent = same as variable_cost_ratio
        alpha_k_contract = alpha
    f_0, g_f = costs["fixed_costs"], costs["fixed_cost_growth"]
    capex_ratio = costs["capex_ratio"]
    tau = costs["tax_rate"]
    sbc = costs.get("sbc_ratio", 0.0) or 0.0
    sbc_treatment = costs.get("sbc_treatment")
    s_e = sbc if (sbc > 0 and sbc_treatment == "expense") else 0.0   # SBC as an expense
    s_d = sbc if (sbc > 0 and sbc_treatment == "dilution") else 0.0  # SBC as dilution
    if sbc > 0:
        _require(sbc_treatment in ("expense", "dilution"), "sbc_treatment must be given")
    m_c = costs.get("maintenance_capex_ratio", 0.0) or 0.0
    sales_to_capital = costs.get("sales_to_capital")
    o_0 = costs.get("operating_expense_ratio", 0.0) or 0.0
    m_target = costs.get("target_operating_margin")
    kappa_o = costs.get("margin_convergence")
    o_inf = 1.0 - alpha - s_e - m_c - m_target if m_target is not None else None

    def opex_ratio(t: float) -> float:
        """o(t) = o_inf + (o_0 - o_inf) e^{-kappa_o t} with a target, else o_0 (S:[costs])."""
        if o_inf is None:
            return o_0
        return o_inf + (o_0 - o_inf) * math.exp(-kappa_o * t)

    def fixed_costs(t: float) -> float:
        return f_0 * math.exp(g_f * t)  # F(t) = F_0 e^{g_F t} (M1)

    debt_amount = debt.get("amount", 0.0) or 0.0  # D
    r_d = debt.get("interest_rate", 0.0) or 0.0

    # ---- contracts at t_0 (M2.3) ---------------------------------------------------------------
    dates = _grid_dates(company["as_of"], n, steps)
    contracts = []
    for name, c in v.get("contracts", {}).items():
        contracts.append({
            "name": name,
            "revenue": c["revenue"],                       # A_j
            "escalation": c["escalation"],                 # g_j
            "term": _whole_steps(c["term_years"], n),      # L_j steps
            "delay": _whole_steps(c["replacement_delay_years"], n),  # d_j steps
            "p": _contract_param(v, name, "renewal_probability", regime),
            "m": _contract_param(v, name, "price_change_median", regime),
            "q": c["replacement_probability"],
            "next": _step_of(c["first_renewal"], dates),   # renewal takes effect at t_next
            "state": "active",
        })

    def contract_revenue() -> float:
        # Kc = sum over active j of A_j c^{beta_j}; capacity c = 1 here (chips without shocks)
        return sum(c["revenue"] for c in contracts if c["state"] == "active")

    # ---- state at t_0 (M2 "State at t_0") ------------------------------------------------------
    ln_r = math.log(com["revenue"])     # ln R_0
    mu = com["growth"]                  # mu_0
    cash = costs["cash"]                # X_0
    loss_cf = costs["loss_carryforward"]  # L_0
    h = 1.0                             # holders' fraction h_0
    kc = contract_revenue()
    commercial = math.exp(ln_r)
    s_prev = commercial + kc            # S_0 (no TAM cut: market size off)
    revenue_peak = s_prev               # the revenue capital has been bought for
    kc_prev = kc
    v_0 = company["valuation"]
    m_0 = v_0 / s_prev                  # M_0 = V_0 / S_0 (M7 item 2)
    mkt = v["market"]
    ln_m = math.log(m_0)
    if mkt["enabled"]:
        m_bar = mkt["long_run_multiple"] if regime == 0 else slow["market"]["long_run_multiple"]
        kappa_m = mkt["mean_reversion"]

    revenue = [s_prev]
    commercial_series = [commercial]
    contract_series = [kc]
    cash_series = [cash]
    market_value = [v_0]
    growth = [mu]
    ebit_list: list[float] = []
    ebitda_list: list[float] = []
    flow_list: list[float] = []
    tax_list: list[float] = []
    margin_list: list[float] = []

    contracts_lost = 0  # every non-renewal counts (M2.10)
    bankrupt_step = -1
    last = None  # flows of the last step simulated: the terminal base (M3)

    for k in range(steps):
        t_k, t_k1 = times[k], times[k + 1]

        # -- 2.1 commercial revenue and growth (epsilon = 0) --------------------------------------
        sigma_k = sigma_bar + (sigma_0 - sigma_bar) * math.exp(-kappa_1 * t_k)
        eta_k = eta_0 * math.exp(-kappa_2 * t_k)
        ln_r = ln_r + (mu - lam_r * sigma_k - 0.5 * sigma_k * sigma_k) * dt_  # uses mu_k
        mu = mu_bar + (mu - mu_bar) * a - lam_mu * eta_k * b                 # mu_{k+1}
        commercial = math.exp(ln_r)  # R_{k+1}; capacity 1, so delivered C = R

        # -- 2.3 contracts: escalate, then renew / lose / return at t_{k+1} -----------------------
        for c in contracts:
            if c["state"] in ("active", "awaiting"):
                c["revenue"] *= math.exp(c["escalation"] * dt_)      # A_j e^{g_j dt}
            if c["state"] == "active" and c["next"] == k + 1:
                if c["p"] == 1.0:                                    # always renews
                    c["revenue"] *= c["m"]                           # price change m_j[s]
                    c["next"] = k + 1 + c["term"]
                else:                                                # never renews: lost
                    contracts_lost += 1
                    if c["q"] == 1.0:                                # replaced after d_j
                        c["state"] = "awaiting"
                        c["next"] = k + 1 + c["delay"]
                    else:                                            # lost for good
                        c["state"] = "lost"
            elif c["state"] == "awaiting" and c["next"] == k + 1:
                c["state"] = "active"                                # back, no price change
                c["next"] = k + 1 + c["term"]

        # -- 2.6 revenues at t_{k+1} ---------------------------------------------------------------
        kc = contract_revenue()
        s_next = commercial + kc  # S_{k+1}

        # -- 2.7 / S:"One step": the step's flows ----------------------------------------------
        if sim["revenue_timing"] == "start":
            q = s_prev * dt_          # Q = S_k dt
            q_k = kc_prev * dt_       # Q_K = Kc_k dt
            t_flow = t_k
        else:  # "end"
            q = s_next * dt_          # Q = S_{k+1} dt
            q_k = kc * dt_            # Q_K = Kc_{k+1} dt
            t_flow = t_k1
        alpha_k = alpha + gamma * (1.0 - 1.0)  # alpha + gamma (1 - c), c = 1
        cost_of_revenue = alpha_k * q + (alpha_k_contract - alpha) * q_k
        fixed = fixed_costs(t_flow) * dt_
        opex = opex_ratio(t_flow) * q
        sbc_expense = s_e * q
        # EBITDA = Q(1 - alpha_k) - F dt - (alpha_K - alpha) Q_K - (o + s_e) Q
        ebitda = q - cost_of_revenue - fixed - opex - sbc_expense
        depreciation = m_c * q                  # D&A = maintenance capex
        ebit = ebitda - depreciation            # EBIT = EBITDA - m_c Q
        interest_income = r_f * cash * dt_      # simple interest on opening cash
        interest_expense = r_d * debt_amount * dt_
        income = ebit + interest_income - interest_expense  # I_k

        # taxes with the loss carry-forward L (M2.7)
        if income <= 0:
            tax = 0.0
            loss_cf -= income                   # a loss adds to L
        elif income <= loss_cf:
            tax = 0.0
            loss_cf -= income                   # profit absorbed by L
        else:
            tax = tau * (income - loss_cf)
            loss_cf = 0.0

        # reinvestment
        # G_k = (S_{k+1} - peak)/SC for revenue beyond any reached before (capacity bought once)
        growth_capex = 0.0
        if sales_to_capital and s_next > revenue_peak:
            growth_capex = (s_next - revenue_peak) / sales_to_capital
        revenue_peak = max(revenue_peak, s_next)
        other_capex = capex_ratio * q           # non-deductible capex (v1)
        cash = cash + income - tax - other_capex - growth_capex  # X_{k+1}

        margin = ebit / q if q != 0 else 0.0    # m_k = EBIT / Q

        # -- 2.8 market value; S: SBC dilution before financing ---------------------------------
        if mkt["enabled"]:
            decay = math.exp(-kappa_m * dt_)
            ln_m = math.log(m_bar) + (ln_m - math.log(m_bar)) * decay  # sigma_M = 0, no jumps
        value = math.exp(ln_m) * s_next if mkt["enabled"] else m_0 * s_next  # V = M S
        if s_d > 0 and value > 0:
            h = h * value / (value + s_d * q)   # h <- h V/(V + s_d Q)

        ebit_list.append(ebit)
        ebitda_list.append(ebitda)
        flow_list.append(q)
        tax_list.append(tax)
        margin_list.append(margin)
        last = {"q": q, "q_k": q_k, "ebitda": ebitda, "ebit": ebit, "margin": margin,
                "mu": mu, "base_revenue": s_prev if sim["revenue_timing"] == "start" else s_next}

        revenue.append(s_next)
        commercial_series.append(commercial)
        contract_series.append(kc)
        cash_series.append(cash)
        growth.append(mu)

        # -- 2.9 bankruptcy: cash < 0 ends the path at t_{k+1} -------------------------------------
        if cash < 0:
            bankrupt_step = k + 1
            market_value.append(0.0)
            break
        market_value.append(value)
        s_prev, kc_prev = s_next, kc

    # after a bankruptcy the series are 0 (M2.9)
    for series in (revenue, commercial_series, contract_series, cash_series, market_value):
        series.extend([0.0] * (steps + 1 - len(series)))

    # ---- terminal value (M3; S:"Terminal value") ---------------------------------------------
    assert last is not None
    f = n if val["terminal_earnings"] == "annualised" else 1
    method = val["terminal_method"]
    g = val.get("terminal_growth")
    exit_multiple = math.nan
    if method in ("ev_sales", "ev_ebitda"):
        s_exit = val.get("exit_multiple_dispersion", 0.0) or 0.0
        median = val.get("exit_multiple_median")
        if median is None:  # S: exit_multiple_mean, median = mean e^{-s^2/2}
            median = val["exit_multiple_mean"] * math.exp(-0.5 * s_exit * s_exit)
        b_g = val.get("exit_multiple_growth_slope", 0.0) or 0.0
        b_m = val.get("exit_multiple_margin_slope", 0.0) or 0.0
        mu_ref = val.get("exit_reference_growth")
        if mu_ref is None:
            mu_ref = com["growth_long_run"]
        m_ref = val.get("exit_reference_margin")
        if m_ref is None:
            m_ref = m_target if m_target is not None else 0.0
        # ln M_exit = ln M_med + b_g (mu_K - mu_ref) + b_m (m_last - m_ref)   (epsilon unused)
        exit_multiple = math.exp(math.log(median) + b_g * (last["mu"] - mu_ref)
                                 + b_m * (last["margin"] - m_ref))
    if method == "ev_sales":
        m_contract = val.get("contract_exit_multiple")
        if m_contract is None:
            tv = exit_multiple * f * last["q"]
        else:
            tv = (exit_multiple * f * (last["q"] - last["q_k"])
                  + m_contract * f * last["q_k"])
    elif method == "ev_ebitda":
        tv = exit_multiple * f * last["ebitda"]
    elif method == "gordon":
        # FCF = EBIT - tau max(EBIT, 0) - capex_ratio Q (EBIT = EBITDA under v1); effective
        # annual rate e^r - 1
        fcf = last["ebit"] - tau * max(last["ebit"], 0.0) - capex_ratio * last["q"]
        tv = f * fcf * (1.0 + g) / (math.exp(r) - 1.0 - g)
    elif method == "value_driver":
        roic = val["return_on_capital"]
        nopat = (1.0 - tau) * f * last["ebit"]
        tv = max(nopat, 0.0) * (1.0 - g / roic) * (1.0 + g) / (math.exp(r) - 1.0 - g)
    else:
        raise ValueError(f"unknown terminal_method {method!r}")

    # ---- present value: the equity bridge (M3; S:"Present value") ----------------------------
    overhang = company.get("option_overhang", 0.0) or 0.0  # w
    net_debt = company["net_debt"]                          # N_D, a today-value
    if bankrupt_step >= 0:
        t_b = times[bankrupt_step]
        pv = (1.0 - overhang) * h * v["bankruptcy"]["recovery"] * discount(t_b) * max(tv, 0.0)
        terminal_revenue = 0.0
        discount_factor = discount(t_b)
    else:
        t_end = times[steps]
        discount_factor = discount(t_end)
        pv = (1.0 - overhang) * (h * discount_factor * (tv + cash - debt_amount) - net_debt)
        terminal_revenue = last["base_revenue"]  # S_{K-1} (start) or S_K (end), annual rate
    if val["limited_liability"] and pv < 0:
        pv = 0.0

    return {
        "pv": pv,
        "terminal_value": tv,
        "cash": cash_series[steps],
        "bankrupt_step": bankrupt_step,
        "bankruptcy_time": times[bankrupt_step] if bankrupt_step >= 0 else math.nan,
        "terminal_revenue": terminal_revenue,
        "holders_fraction": h,
        "contracts_lost": contracts_lost,
        "exit_multiple": exit_multiple,
        "discount_factor": discount_factor,
        "steps": steps,
        "question_steps": k_q,
        "revenue": revenue,
        "commercial_revenue": commercial_series,
        "contract_revenue": contract_series,
        "cash_series": cash_series,
        "market_value": market_value,
        "growth": growth,
        "ebit": ebit_list,
        "ebitda": ebitda_list,
        "revenue_flow": flow_list,
        "tax": tax_list,
        "operating_margin": margin_list,
    }
