"""Validated config values -> the time grid and the kernel's parameter tuple.

This is where annual parameters become per-step factors (``exp(-kappa dt)`` ...), dates become
step indices, renewal probabilities become copula thresholds, and the market-size points become
a TAM value at every time of the grid. The kernel then only multiplies and adds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtri

from simval.config.load import long_run_operating_expense_ratio
from simval.layout import DAYS_PER_YEAR, N_BASIS, STREAM_CONTRACT0, STREAM_POOL0

__all__ = ["KernelParams", "PathParams", "TimeGrid", "ValueParams", "build_kernel_params",
           "exit_multiple_median", "initial_total_revenue", "make_time_grid",
           "operating_expense_ratios",
           "required_table_levels", "required_terminal_revenue"]



@dataclasses.dataclass(frozen=True)
class TimeGrid:
    """The simulation times.

    Attributes
    ----------
    as_of : datetime.date
    steps_per_year : int
    n_steps : int
        K = K_v, the steps to the valuation horizon T_v; the grid has K + 1 times t_0 .. t_K.
    question_steps : int
        K_q <= K, the steps to the question horizon T_q of the market-path statistics
        (collapse, drawdown, bankruptcy by T_q).
    dates : ndarray of datetime64[ns], shape (K + 1,)
        Calendar date of each time: as_of plus whole months when a step is a whole number of
        months (from the last day of a month, the last day of the month that many months on:
        30 June, 31 December), else plus ``round(k * dt * 365.25)`` days.
    """

    as_of: dt.date
    steps_per_year: int
    n_steps: int
    dates: np.ndarray
    question_steps: int = -1

    def __post_init__(self) -> None:
        if self.question_steps < 0:  # one horizon: the question is asked at the end
            object.__setattr__(self, "question_steps", self.n_steps)

    @property
    def dt(self) -> float:
        return 1.0 / self.steps_per_year

    @property
    def years(self) -> np.ndarray:
        """Model time t_k = k dt in years."""
        return np.arange(self.n_steps + 1) * self.dt

    def step_on_or_after(self, date: dt.date) -> int:
        """Index of the first grid date on or after ``date`` (K + 1 if beyond the horizon)."""
        return int(np.searchsorted(self.dates, np.datetime64(date, "ns"), side="left"))

    def years_since_as_of(self, dates: np.ndarray) -> np.ndarray:
        """Calendar time from as_of in years of 365.25 days."""
        delta = (np.asarray(dates, dtype="datetime64[ns]") - np.datetime64(self.as_of, "ns"))
        return delta / np.timedelta64(1, "D") / DAYS_PER_YEAR


def make_time_grid(values: dict[str, Any]) -> TimeGrid:
    """Time grid of a validated scenario."""
    sim = values["simulation"]
    n = sim["steps_per_year"]
    k_max = round(sim["valuation_horizon_years"] * n)
    as_of = pd.Timestamp(values["company"]["as_of"])
    if 12 % n == 0 and (as_of + pd.Timedelta(days=1)).day == 1:
        months = 12 // n  # from the last day of a month: month ends (30 June -> 31 December)
        dates = [as_of] + [as_of + pd.offsets.MonthEnd(months * k) for k in range(1, k_max + 1)]
    elif 12 % n == 0:
        months = 12 // n
        dates = [as_of + pd.DateOffset(months=months * k) for k in range(k_max + 1)]
    else:
        dates = [as_of + pd.Timedelta(days=round(k / n * DAYS_PER_YEAR))
                 for k in range(k_max + 1)]
    return TimeGrid(values["company"]["as_of"], n, k_max,
                    np.array(dates, dtype="datetime64[ns]"),
                    question_steps=round(sim["horizon_years"] * n))


class PathParams(NamedTuple):
    """What the step loop reads, in per-step units. Per-regime values are indexed
    [normal, slowdown]; contract arrays are indexed by slot (named contracts first, then the
    expansion pool)."""

    n_steps: int
    antithetic: bool
    dt: float
    sqrt_dt: float
    regime_enabled: bool
    regime_initial: int
    switch_probability: np.ndarray
    ln_r0: float
    mu0: float
    mu_bar: np.ndarray
    mu_decay: float
    mu_vol_factor: float
    mu_price_factor: float
    sigma: np.ndarray
    eta: np.ndarray
    rho: float
    rho_perp: float
    lambda_r: float
    lambda_mu: float
    beta: float
    n_named: int
    n_slots: int
    c_rev0: np.ndarray
    c_escalation: np.ndarray
    c_term_steps: np.ndarray
    c_first_step: np.ndarray
    c_threshold: np.ndarray
    c_price_median: np.ndarray
    c_price_dispersion: np.ndarray
    c_replacement: np.ndarray
    c_delay_steps: np.ndarray
    c_beta: np.ndarray
    c_beta_shared: bool
    c_stream: np.ndarray
    copula_a: float
    copula_b: float
    budget_enabled: bool
    budget_a: float
    budget_mean: np.ndarray
    budget_decay: float
    budget_vol: float
    expansion_enabled: bool
    pool_size: int
    win_mean: np.ndarray
    win_p0: np.ndarray
    win_median: float
    win_dispersion: float
    chips_enabled: bool
    chip_mean: np.ndarray
    chip_p0: np.ndarray
    haircut_kind: int
    haircut_low: float
    haircut_high: float
    recovery_factor: float
    gamma: float
    chip_jump_ln_median: float
    chip_jump_dispersion: float
    tam_enabled: bool
    tam: np.ndarray
    max_share: float
    cap_contracts: bool
    tam_dispersion: float
    alpha: float
    fixed: np.ndarray
    capex_ratio: float
    tax_rate: float
    loss0: float
    cash0: float
    rf: float
    timing_start: bool
    financing_enabled: bool
    fin_floor: float
    fin_amount: float
    fin_probability: np.ndarray
    discount: np.ndarray
    market_enabled: bool
    ln_m_bar: np.ndarray
    m_decay: float
    m_vol: np.ndarray
    slow_jump_ln_median: float
    slow_jump_dispersion: float
    collapse_level: float
    v0: float


class ValueParams(NamedTuple):
    """What turns a path into a value: the operating model's ratios beyond v1's, the two
    horizons, the terminal value, discounting and the equity bridge (docs/model.md §3)."""

    recovery: float
    terminal_method: int
    terminal_factor: float
    exit_median: float
    exit_dispersion: float
    gordon_factor: float
    limited_liability: bool
    net_debt: float
    question_steps: int
    contract_alpha_extra: float
    opex: np.ndarray
    sbc_expense: float
    sbc_dilution: float
    maintenance: float
    inv_sales_to_capital: float
    debt: float
    debt_interest_flow: float
    option_factor: float
    exit_state: bool
    exit_growth_slope: float
    exit_margin_slope: float
    exit_ref_growth: float
    exit_ref_margin: float
    contract_exit_multiple: float
    reinvestment_factor: float
    value_model: bool
    """Whether V = B W (market.model = "value"); else V = M S."""
    record_state: bool
    """Whether the kernel writes the basis of every step into its design array (the pilot)."""
    value_coefficients: np.ndarray
    """Coefficients of the least-squares value W_k on the basis (shape (K + 1, N_BASIS));
    zeros until :func:`simval.engine.fundamental.fit_value_function` fits them."""
    revenue_ref: float
    """S_ref, the revenue scale of the basis (the scenario's total revenue at t_0)."""


class KernelParams(NamedTuple):
    """Everything the kernel reads for one scenario: :class:`PathParams` and
    :class:`ValueParams`, two tuples because numba unpacks a tuple passed into a parallel
    region only up to 100 fields."""

    path: PathParams
    value: ValueParams

    @property
    def n_steps(self) -> int:
        """K, the steps to the valuation horizon."""
        return self.path.n_steps

    @property
    def n_named(self) -> int:
        """Named contracts."""
        return self.path.n_named

    @property
    def n_slots(self) -> int:
        """Contract slots: named contracts, then the expansion pool."""
        return self.path.n_slots

    @property
    def v0(self) -> float:
        """Today's valuation V_0."""
        return self.path.v0

    @property
    def antithetic(self) -> bool:
        """Whether paths come in antithetic pairs."""
        return self.path.antithetic

    @property
    def plain(self) -> bool:
        """Whether the path has no driver beyond commercial revenue and cash: no contracts,
        chip supply, market size, regime, budget factor, market model, financing, SBC paid in
        shares, value model or pilot. The kernel is compiled for this case on its own (it
        then runs faster: the other drivers' code is left out), with the same results."""
        path, value = self.path, self.value
        return not (path.n_slots or path.tam_enabled or path.budget_enabled
                    or path.chips_enabled or path.expansion_enabled or path.regime_enabled
                    or path.market_enabled or path.financing_enabled or value.value_model
                    or value.record_state or value.sbc_dilution != 0.0)


_TERMINAL_METHODS = {"ev_sales": 0, "ev_ebitda": 1, "gordon": 2, "value_driver": 3}


def operating_expense_ratios(values: dict[str, Any], years: np.ndarray) -> np.ndarray:
    """o(t): the operating-expense ratio at the model times ``years``, converging from
    ``operating_expense_ratio`` to the ratio that gives ``target_operating_margin``."""
    costs = values["costs"]
    o_0 = float(costs["operating_expense_ratio"])
    o_inf = long_run_operating_expense_ratio(costs)
    if o_inf is None:
        return np.full(len(years), o_0)
    return o_inf + (o_0 - o_inf) * np.exp(-costs["margin_convergence"] * years)


def exit_multiple_median(values: dict[str, Any]) -> float:
    """The median exit multiple: as configured, or from the configured mean,
    ``mean * exp(-s^2 / 2)`` (a lognormal's median given its mean); 0 when there is none."""
    val = values["valuation"]
    if val["exit_multiple_mean"] is not None:
        return float(val["exit_multiple_mean"]) * math.exp(
            -0.5 * val["exit_multiple_dispersion"] ** 2)
    return float(val["exit_multiple_median"] or 0.0)


def _no_event(means: np.ndarray) -> np.ndarray:
    """P(no event in a step), exp(-mean), per regime: with ``math.exp`` (the C library's
    exp, which the compiled kernel also calls), not numpy's own."""
    return np.array([math.exp(-m) for m in means])


def _regimes(values: dict[str, Any], section: str, key: str) -> np.ndarray:
    return np.array([values[section][key], values["slowdown"][section][key]], dtype=np.float64)


def _ou_factors(kappa: float, dt_years: float) -> tuple[float, float, float]:
    """(decay, volatility factor, price-of-risk factor) of an OU step; kappa = 0 is the limit."""
    if kappa == 0.0:
        return 1.0, math.sqrt(dt_years), dt_years
    decay = math.exp(-kappa * dt_years)
    return (decay, math.sqrt(-math.expm1(-2.0 * kappa * dt_years) / (2.0 * kappa)),
            -math.expm1(-kappa * dt_years) / kappa)


def discount_rate(values: dict[str, Any]) -> float:
    """r: the risk-adjusted rate (real_world) or the risk-free rate (risk_neutral)."""
    sim = values["simulation"]
    if sim["measure"] == "real_world":
        return float(sim["discount_rate"])
    return float(values["costs"]["risk_free_rate"])


def tam_on_grid(values: dict[str, Any], grid: TimeGrid) -> np.ndarray:
    """TAM(t_k) in the config's currency per year (NaN when market size is off)."""
    size = values["market_size"]
    if not size["enabled"]:
        return np.full(grid.n_steps + 1, np.nan)
    years = np.array([p[0] for p in size["points"]])
    # a point for year Y stands at 1 July of Y (mid-year: the market is an annual flow)
    whole = np.floor(years).astype(int)
    point_dates = np.array([np.datetime64(dt.date(y, 7, 1), "ns") for y in whole])
    x = grid.years_since_as_of(point_dates) + (years - whole)
    fx_rate = size["fx_rate"] if size["fx_rate"] is not None else 1.0
    ln_size = np.log([p[1] * fx_rate for p in size["points"]])
    t = grid.years_since_as_of(grid.dates)
    out = np.interp(t, x, ln_size)
    left, right = t < x[0], t > x[-1]
    slope_l = (ln_size[1] - ln_size[0]) / (x[1] - x[0])
    slope_r = (ln_size[-1] - ln_size[-2]) / (x[-1] - x[-2])
    out[left] = ln_size[0] + slope_l * (t[left] - x[0])
    out[right] = ln_size[-1] + slope_r * (t[right] - x[-1])
    return np.exp(out)


def build_kernel_params(values: dict[str, Any], grid: TimeGrid, *,
                        antithetic: bool = False) -> KernelParams:
    """Translate one validated scenario into the kernel's per-step parameters.

    Parameters
    ----------
    values : dict
        One scenario of a :class:`simval.config.Config`.
    grid : TimeGrid
    antithetic : bool, default: False
        Pair paths 2i and 2i + 1 as antithetic variates (see ``docs/model.md``).

    Returns
    -------
    KernelParams
    """
    n = grid.steps_per_year
    d = grid.dt
    k_max = grid.n_steps
    t = grid.years
    com, costs, chips = values["commercial"], values["costs"], values["chips"]
    reg, exp_, mkt = values["regime"], values["expansion"], values["market"]
    val, fin = values["valuation"], values["financing"]
    company = values["company"]

    switch = np.array([-math.expm1(-reg["hazard_normal_to_slowdown"] * d),
                       -math.expm1(-reg["hazard_slowdown_to_normal"] * d)])
    mu_decay, mu_vol, mu_price = _ou_factors(com["mean_reversion"], d)
    sigma = (com["volatility_long_run"]
             + (com["volatility"] - com["volatility_long_run"])
             * np.exp(-com["volatility_decay"] * t[:-1]))
    eta = com["growth_volatility"] * np.exp(-com["growth_volatility_decay"] * t[:-1])

    # contracts: named ones first, then the expansion pool (all slots share one layout)
    named = list(values["contracts"].items())
    pool = exp_["pool_size"] if exp_["enabled"] else 0
    n_slots = len(named) + pool
    slow_contracts = values["slowdown"]["contracts"]

    def per_slot(key: str) -> list[Any]:
        return [c[key] for _, c in named] + [exp_[key]] * pool

    def per_slot_regimes(key: str) -> np.ndarray:
        normal = per_slot(key)
        slow = [slow_contracts[name][key] for name, _ in named] \
            + [values["slowdown"]["expansion"].get(key, exp_[key])] * pool
        return np.array([normal, slow], dtype=np.float64).T.reshape(n_slots, 2)

    first_step = [grid.step_on_or_after(c["first_renewal"]) for _, c in named] + [-1] * pool
    thresholds = ndtri(per_slot_regimes("renewal_probability"))
    # the budget factor b: an exact OU step with unit stationary variance
    ren = values["renewals"]
    budget_decay = math.exp(-ren["budget_mean_reversion"] * d)
    budget_vol = math.sqrt(-math.expm1(-2.0 * ren["budget_mean_reversion"] * d))

    tam = tam_on_grid(values, grid)
    recovery_half_life = chips["recovery_half_life_years"]
    recovery_factor = (1.0 if recovery_half_life is None
                       else math.exp(-d * math.log(2.0) / recovery_half_life))
    r = discount_rate(values)
    method = _TERMINAL_METHODS[val["terminal_method"]]
    gordon_factor = 0.0
    reinvestment_factor = 1.0
    if method in (2, 3):
        g = val["terminal_growth"]
        gordon_factor = (1.0 + g) / (math.expm1(r) - g)
        if method == 3:
            reinvestment_factor = 1.0 - g / val["return_on_capital"]
    sbc_ratio = float(costs["sbc_ratio"])
    contract_alpha = costs["contract_cost_ratio"]
    exit_ref_growth = val["exit_reference_growth"]
    if exit_ref_growth is None:
        exit_ref_growth = com["growth_long_run"]
    exit_ref_margin = val["exit_reference_margin"]
    if exit_ref_margin is None:
        exit_ref_margin = costs["target_operating_margin"] or 0.0
    value_model = mkt["model"] == "value"
    if value_model:  # the log price-to-value gap B takes the multiple's place in the kernel
        half_life = mkt["gap_half_life_years"]
        kappa_b = math.log(2.0) / half_life if half_life is not None else 0.0
        m_decay, m_vol_factor, _ = _ou_factors(kappa_b, d)
        long_run_multiple = _regimes(values, "market", "gap_long_run")
        market_vol = _regimes(values, "market", "gap_volatility")
    else:
        m_decay, m_vol_factor, _ = _ou_factors(mkt["mean_reversion"], d)
        long_run_multiple = _regimes(values, "market", "long_run_multiple") \
            if mkt["enabled"] else np.ones(2)
        market_vol = _regimes(values, "market", "volatility")
    f64 = np.float64
    win_mean = _regimes(values, "expansion", "win_rate") * d
    chip_mean = _regimes(values, "chips", "shock_rate") * d

    path = PathParams(
        n_steps=k_max,
        antithetic=bool(antithetic),
        dt=d,
        sqrt_dt=math.sqrt(d),
        regime_enabled=bool(reg["enabled"]),
        regime_initial=0 if reg["initial"] == "normal" else 1,
        switch_probability=switch,
        ln_r0=math.log(com["revenue"]),
        mu0=f64(com["growth"]),
        mu_bar=_regimes(values, "commercial", "growth_long_run"),
        mu_decay=mu_decay,
        mu_vol_factor=mu_vol,
        mu_price_factor=mu_price,
        sigma=np.ascontiguousarray(sigma, dtype=f64),
        eta=np.ascontiguousarray(eta, dtype=f64),
        rho=f64(com["correlation"]),
        rho_perp=math.sqrt(1.0 - com["correlation"] ** 2),
        lambda_r=f64(com["price_of_revenue_risk"]),
        lambda_mu=f64(com["price_of_growth_risk"]),
        beta=f64(com["capacity_elasticity"]),
        n_named=len(named),
        n_slots=n_slots,
        c_rev0=np.array([c["revenue"] for _, c in named] + [0.0] * pool, dtype=f64),
        c_escalation=np.exp(np.array(per_slot("escalation"), dtype=f64) * d),
        c_term_steps=np.array([round(x * n) for x in per_slot("term_years")], dtype=np.int64),
        c_first_step=np.array(first_step, dtype=np.int64),
        c_threshold=np.ascontiguousarray(thresholds),
        c_price_median=np.ascontiguousarray(per_slot_regimes("price_change_median")),
        c_price_dispersion=np.array(per_slot("price_change_dispersion"), dtype=f64),
        c_replacement=np.array(per_slot("replacement_probability"), dtype=f64),
        c_delay_steps=np.array([round(x * n) for x in per_slot("replacement_delay_years")],
                               dtype=np.int64),
        c_beta=np.array(per_slot("capacity_elasticity"), dtype=f64),
        c_beta_shared=len(set(per_slot("capacity_elasticity"))) <= 1,
        # named contracts and pool slots draw from separate stream ranges, so adding a named
        # contract moves no pool draw
        c_stream=np.array([STREAM_CONTRACT0 + j for j in range(len(named))]
                          + [STREAM_POOL0 + i for i in range(pool)], dtype=np.int64),
        copula_a=math.sqrt(ren["correlation"]),
        copula_b=math.sqrt(1.0 - ren["correlation"] - ren["budget_weight"]),
        budget_enabled=ren["budget_weight"] > 0.0,
        budget_a=math.sqrt(ren["budget_weight"]),
        budget_mean=_regimes(values, "renewals", "budget_mean"),
        budget_decay=budget_decay,
        budget_vol=budget_vol,
        expansion_enabled=bool(exp_["enabled"]),
        pool_size=pool,
        win_mean=win_mean,
        win_p0=_no_event(win_mean),
        win_median=f64(exp_["revenue_median"]),
        win_dispersion=f64(exp_["revenue_dispersion"]),
        chips_enabled=bool(chips["enabled"]),
        chip_mean=chip_mean,
        chip_p0=_no_event(chip_mean),
        haircut_kind=0 if chips["haircut_distribution"] == "fixed" else 1,
        haircut_low=f64(chips["haircut_low"]),
        haircut_high=f64(chips["haircut_high"]),
        recovery_factor=recovery_factor,
        gamma=f64(chips["cost_sensitivity"]),
        chip_jump_ln_median=math.log(chips["multiple_jump_median"]),
        chip_jump_dispersion=f64(chips["multiple_jump_dispersion"]),
        tam_enabled=bool(values["market_size"]["enabled"]),
        tam=np.ascontiguousarray(np.nan_to_num(tam, nan=0.0)),
        max_share=f64(values["market_size"]["max_share"]),
        cap_contracts=bool(values["market_size"]["cap_contracts"]),
        tam_dispersion=f64(values["market_size"]["multiplier_dispersion"]),
        alpha=f64(costs["variable_cost_ratio"]),
        fixed=costs["fixed_costs"] * np.exp(costs["fixed_cost_growth"] * t),
        capex_ratio=f64(costs["capex_ratio"]),
        tax_rate=f64(costs["tax_rate"]),
        loss0=f64(costs["loss_carryforward"]),
        cash0=f64(costs["cash"]),
        rf=f64(costs["risk_free_rate"]),
        timing_start=values["simulation"]["revenue_timing"] == "start",
        financing_enabled=bool(fin["enabled"]),
        fin_floor=f64(fin["cash_floor"]),
        fin_amount=f64(fin["amount"]),
        fin_probability=_regimes(values, "financing", "probability"),
        discount=np.exp(-r * t),
        market_enabled=bool(mkt["enabled"]),
        ln_m_bar=np.log(long_run_multiple),
        m_decay=m_decay,
        m_vol=market_vol * m_vol_factor,
        slow_jump_ln_median=math.log(mkt["slowdown_jump_median"]),
        slow_jump_dispersion=f64(mkt["slowdown_jump_dispersion"]),
        collapse_level=(1.0 - mkt["collapse_drawdown"]) * company["valuation"],
        v0=f64(company["valuation"]),
    )
    value = ValueParams(
        recovery=f64(values["bankruptcy"]["recovery"]),
        terminal_method=method,
        terminal_factor=f64(n if val["terminal_earnings"] == "annualised" else 1.0),
        exit_median=exit_multiple_median(values),
        exit_dispersion=f64(val["exit_multiple_dispersion"]),
        gordon_factor=gordon_factor,
        limited_liability=bool(val["limited_liability"]),
        net_debt=f64(company["net_debt"]),
        question_steps=grid.question_steps,
        contract_alpha_extra=(0.0 if contract_alpha is None
                              else f64(contract_alpha - costs["variable_cost_ratio"])),
        opex=np.ascontiguousarray(operating_expense_ratios(values, t), dtype=f64),
        sbc_expense=sbc_ratio if costs["sbc_treatment"] == "expense" else 0.0,
        sbc_dilution=sbc_ratio if costs["sbc_treatment"] == "dilution" else 0.0,
        maintenance=f64(costs["maintenance_capex_ratio"]),
        inv_sales_to_capital=(0.0 if costs["sales_to_capital"] is None
                              else 1.0 / costs["sales_to_capital"]),
        debt=f64(values["debt"]["amount"]),
        debt_interest_flow=f64(values["debt"]["interest_rate"] * values["debt"]["amount"] * d),
        option_factor=1.0 - company["option_overhang"],
        exit_state=(val["exit_multiple_growth_slope"] != 0.0
                    or val["exit_multiple_margin_slope"] != 0.0),
        exit_growth_slope=f64(val["exit_multiple_growth_slope"]),
        exit_margin_slope=f64(val["exit_multiple_margin_slope"]),
        exit_ref_growth=f64(exit_ref_growth),
        exit_ref_margin=f64(exit_ref_margin),
        contract_exit_multiple=f64(val["contract_exit_multiple"] or 0.0),
        reinvestment_factor=reinvestment_factor,
        value_model=value_model,
        record_state=False,
        value_coefficients=np.zeros((k_max + 1, N_BASIS)),
        revenue_ref=f64(initial_total_revenue(values)),
    )
    return KernelParams(path, value)


def initial_total_revenue(values: dict[str, Any]) -> float:
    """S_0 before any market-size cap: commercial revenue plus the named contracts'."""
    return float(values["commercial"]["revenue"]
                 + sum(c["revenue"] for c in values["contracts"].values()))


REQUIRED_MARGINS = (0.1, 0.2, 0.3, 0.4)
"""Terminal operating margins of the required-revenue table (methods capitalising earnings)."""

REQUIRED_MULTIPLES = (3.0, 6.0, 10.0, 15.0, 20.0)
"""Exit multiples of sales of the required-revenue table (``ev_sales``)."""


def required_table_levels(values: dict[str, Any]) -> tuple[str, tuple[float, ...]]:
    """What the required-revenue table varies for this config's terminal method, and its
    levels: ``("exit_multiple", REQUIRED_MULTIPLES)`` for ev_sales, else
    ``("terminal_margin", REQUIRED_MARGINS)``."""
    if values["valuation"]["terminal_method"] == "ev_sales":
        return "exit_multiple", REQUIRED_MULTIPLES
    return "terminal_margin", REQUIRED_MARGINS


def _over(amount: float, margin: float) -> float:
    """The revenue at which ``margin`` of it is ``amount`` (NaN if the margin is not > 0)."""
    return amount / margin if margin > 0 else math.nan


def required_terminal_revenue(values: dict[str, Any], grid: TimeGrid, *,
                              level: float | None = None) -> tuple[float, float]:
    """Revenue run-rate at the valuation horizon that makes the path's PV equal today's
    valuation, at full capacity, no cash, no dilution.

    Parameters
    ----------
    values : dict
        One validated scenario.
    grid : TimeGrid
    level : float, optional
        The terminal exit multiple of sales (``ev_sales``) or the terminal margin (the other
        methods: EBITDA margin for ``ev_ebitda``, operating margin for ``gordon`` and
        ``value_driver``) to solve at. Default: the config's own — the median exit multiple,
        and the margin its cost structure gives at T_v (v1's formulas for ``ev_ebitda`` and
        ``gordon``; for ``value_driver`` the operating margin with o(T_v) and the fixed costs).

    Returns
    -------
    revenue : float
        Required annual revenue at the terminal step (NaN if no revenue suffices).
    share : float
        Its share of TAM at that time (NaN when market size is off).

    Notes
    -----
    Solves ``(1 - w) (D(T_v) (TV(S) - debt) - net_debt) = V_0`` (see ``docs/model.md``).
    """
    r = discount_rate(values)
    val, costs, company = values["valuation"], values["costs"], values["company"]
    n = grid.steps_per_year
    horizon = grid.n_steps * grid.dt
    tv = (company["valuation"] / (1.0 - company["option_overhang"]) + company["net_debt"]) \
        * math.exp(r * horizon) + values["debt"]["amount"]
    factor = n if val["terminal_earnings"] == "annualised" else 1.0
    k = grid.n_steps - 1 if values["simulation"]["revenue_timing"] == "start" else grid.n_steps
    fixed = costs["fixed_costs"] * math.exp(costs["fixed_cost_growth"] * k * grid.dt)
    alpha = costs["variable_cost_ratio"]
    tau = costs["tax_rate"]
    opex = operating_expense_ratios(values, grid.years)[k]  # 0 under v1: exact
    sbc = costs["sbc_ratio"] if costs["sbc_treatment"] == "expense" else 0.0
    method = val["terminal_method"]
    if method == "ev_sales":  # (the order of operations of v1, kept bit for bit)
        multiple = level if level is not None else exit_multiple_median(values)
        revenue = tv / multiple / factor * n
    elif method == "ev_ebitda":
        ebitda = tv / exit_multiple_median(values) / factor * n
        if level is not None:
            revenue = _over(ebitda, level)
        else:  # EBITDA margin before fixed costs: 1 - alpha - o(T_v) - SBC expensed
            margin = 1.0 - alpha - opex - sbc
            revenue = (ebitda + fixed) / margin if margin > 0 else math.nan
    else:
        g = val["terminal_growth"]
        cash_flow = tv * (math.expm1(r) - g) / (1.0 + g) / factor * n
        if method == "gordon":  # FCF = (1 - tau) EBIT - capex, EBIT margin before fixed costs
            margin = ((1.0 - tau) * (1.0 - alpha - opex - sbc - costs["maintenance_capex_ratio"])
                      - costs["capex_ratio"])
            if level is not None:
                revenue = _over(cash_flow, (1.0 - tau) * level - costs["capex_ratio"])
            else:
                revenue = (cash_flow + (1.0 - tau) * fixed) / margin if margin > 0 else math.nan
        else:
            nopat = cash_flow / (1.0 - g / val["return_on_capital"])
            if tau >= 1.0:
                revenue = math.nan  # no NOPAT at a 100% tax rate
            elif level is not None:
                revenue = _over(nopat, (1.0 - tau) * level)
            else:
                margin = 1.0 - alpha - opex - sbc - costs["maintenance_capex_ratio"]
                revenue = (nopat / (1.0 - tau) + fixed) / margin if margin > 0 else math.nan
    if not revenue > 0:
        revenue = math.nan if method != "ev_sales" else revenue
    tam = tam_on_grid(values, grid)[k]
    share = revenue / tam if values["market_size"]["enabled"] else math.nan
    return float(revenue), float(share)
