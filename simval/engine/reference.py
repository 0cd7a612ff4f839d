"""Reference implementation of the simulated model in plain numpy.

This module re-implements, straight from ``docs/model.md`` (sections 1-5) and the v2
valuation specification (operating model with contract cost ratio, converging operating
expenses, SBC as expense or dilution, maintenance capex as D&A, sales-to-capital reinvestment
and debt interest; the question horizon T_q and the valuation horizon T_v; the ``value_driver``
terminal value, the state-dependent exit multiple and the equity bridge with option overhang and
debt), everything that :func:`simval.engine.kernels.simulate_chunk` computes for a chunk of
paths: the per-step parameters, the time-grid conventions, the TAM interpolation, the
counter-based random numbers, the path dynamics and the valuation. It shares **no step
code** with the numba kernel: it does not use
:func:`simval.model.params.build_kernel_params`, :class:`~simval.model.params.KernelParams` or
any function of :mod:`simval.engine.kernels` (only the constants of :mod:`simval.layout`: the
counter's fields, the stream ids and the output rows), and it is organised differently: vectorised
over paths, with a Python loop over the steps (and over contract slots and the shocks of a
step). Only the calendar of :class:`~simval.model.params.TimeGrid` (``dates``,
``step_on_or_after``) is shared.

Its cost is Python overhead per step and per contract slot (a few milliseconds per step for
hundreds of paths), far slower than the kernel. It exists as the baseline of the tests
(``tests/test_reference.py`` checks that the kernel agrees with it path by path) and of
benchmarks.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, NamedTuple

import numpy as np
from scipy.special import ndtri
from scipy.stats import poisson

from simval import layout
from simval.layout import (
    COUNT_BANKRUPT_STEP,
    COUNT_CHIP_SHOCKS,
    COUNT_COLLAPSE_STEP,
    COUNT_CONTRACTS_LOST,
    COUNT_CONTRACTS_WON,
    COUNT_FUNDAMENTAL_COLLAPSE_STEP,
    COUNT_RENEWAL_DECISIONS,
    N_COUNTS,
    N_SCALARS,
    N_SERIES,
    SCALAR_HOLDERS_FRACTION,
    SCALAR_MAX_DRAWDOWN,
    SCALAR_MIN_VALUE,
    SCALAR_PV,
    SCALAR_SLOWDOWN_SHARE,
    SCALAR_TERMINAL_GROWTH,
    SCALAR_TERMINAL_MARGIN,
    SCALAR_TERMINAL_REVENUE,
    SCALAR_TERMINAL_VALUE_PV,
    SERIES_CAPACITY,
    SERIES_CASH,
    SERIES_COMMERCIAL_REVENUE,
    SERIES_CONTRACT_REVENUE,
    SERIES_FUNDAMENTAL_VALUE,
    SERIES_MARKET_SHARE,
    SERIES_MARKET_VALUE,
    SERIES_PRICE_TO_VALUE,
    SERIES_TOTAL_REVENUE,
)
from simval.model.params import TimeGrid, initial_total_revenue

__all__ = ["ReferenceResult", "simulate_reference"]

# ---- random numbers (docs/model.md section 5)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_SCALE = 2.0 ** -53

# stream ids (docs/model.md, stream table)
_REGIME, _REVENUE, _GROWTH, _CHIPS, _MARKET, _COPULA, _EXPANSION, _FINANCING, _PATH = (
    layout.STREAM_REGIME, layout.STREAM_REVENUE, layout.STREAM_GROWTH, layout.STREAM_CHIPS,
    layout.STREAM_MARKET, layout.STREAM_COPULA, layout.STREAM_EXPANSION,
    layout.STREAM_FINANCING, layout.STREAM_PATH)
_BUDGET = layout.STREAM_BUDGET
_NAMED0 = layout.STREAM_CONTRACT0
_POOL0 = layout.STREAM_POOL0
_CAP = layout.MAX_EVENTS_IN_STEP  # events (shocks, wins) per step

# contract slot states
_DORMANT, _ACTIVE, _AWAITING, _LOST = (layout.STATE_DORMANT, layout.STATE_ACTIVE,
                                       layout.STATE_AWAITING, layout.STATE_LOST)


class ReferenceResult(NamedTuple):
    """Outputs of :func:`simulate_reference`, in the kernel's layouts.

    Attributes
    ----------
    series : ndarray of float64, shape (N_SERIES, n, K + 1)
    scalars : ndarray of float64, shape (N_SCALARS, n)
    counts : ndarray of int64, shape (N_COUNTS, n)
        Collapse and bankruptcy steps are -1 when they do not happen.
    active : ndarray of int8, shape (n, n_named, K + 1)
    regimes : ndarray of int8, shape (n, K + 1)
    """

    series: np.ndarray
    scalars: np.ndarray
    counts: np.ndarray
    active: np.ndarray
    regimes: np.ndarray


class _Draws:
    """Uniform and normal draws ``U(stream, step, slot)``, ``N(...)`` of a range of paths."""

    def __init__(self, seed: int, path0: int, n: int, antithetic: bool, company: int = 0):
        # macro keys (regime, chip arrivals and sizes) come from the seed; a panel's company
        # c >= 1 draws everything else under keys of its own, SeedSequence([seed, c])
        macro = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint64)
        own = macro if company == 0 else np.random.SeedSequence([seed, company]).generate_state(
            2, dtype=np.uint64)
        self.key0, self.key1 = own
        self.mkey0, self.mkey1 = macro
        paths = np.arange(path0, path0 + n, dtype=np.int64)
        if antithetic:
            draw_path = paths // 2
            self.flip = (paths % 2) == 1
        else:
            draw_path = paths
            self.flip = np.zeros(n, dtype=bool)
        self.high = draw_path.astype(np.uint64) << np.uint64(layout.PATH_SHIFT)

    def _counter(self, stream: Any, step: int, slot: int) -> np.ndarray:
        stream = np.asarray(stream).astype(np.uint64)
        low = ((stream << np.uint64(layout.STREAM_SHIFT))
               | np.uint64(step << layout.STEP_SHIFT) | np.uint64(slot << layout.SLOT_SHIFT))
        return self.high | low

    @staticmethod
    def _mix(z: np.ndarray) -> np.ndarray:
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))

    def _bits(self, c: np.ndarray, key0: np.uint64, key1: np.uint64) -> np.ndarray:
        with np.errstate(over="ignore"):
            return self._mix(self._mix(c * _GOLDEN + key0) ^ key1)

    def _bits53(self, c: np.ndarray) -> np.ndarray:
        """Top 53 bits of ``bits(c)`` as float64 (exact)."""
        return (self._bits(c, self.key0, self.key1) >> np.uint64(11)).astype(np.float64)

    def uniform(self, stream: Any, step: int, slot: int, macro: bool = False) -> np.ndarray:
        c = self._counter(stream, step, slot)
        keys = (self.mkey0, self.mkey1) if macro else (self.key0, self.key1)
        u = (self._bits(c, *keys) >> np.uint64(11)).astype(np.float64) * _SCALE
        return np.where(self.flip, 1.0 - u, u)

    def normal(self, stream: Any, step: int, slot: int) -> np.ndarray:
        z = _ziggurat(self, self._counter(stream, step, slot))
        return np.where(self.flip, -z, z)


def _zig_tables() -> tuple[np.ndarray, np.ndarray]:
    """Doornik's ZIGNOR tables: 128 layers of area v under exp(-x^2/2), base strip + tail."""
    r, v = _ZIG_R, 9.91256303526217e-3
    x = np.zeros(129)
    x[0] = v / math.exp(-0.5 * r * r)
    x[1] = r
    for i in range(2, 128):
        x[i] = math.sqrt(-2.0 * math.log(v / x[i - 1] + math.exp(-0.5 * x[i - 1] ** 2)))
    return x, x[1:] / x[:-1]


_ZIG_R = 3.442619855899
_ZIG_X, _ZIG_RATIO = _zig_tables()
_ATTEMPT = np.uint64(0xD1B54A32D192ED03)
_SALT = np.uint64(0x8CB92BA72F3D8DD7)


def _times_attempt(a: int) -> np.uint64:
    """``a * A`` modulo 2**64."""
    with np.errstate(over="ignore"):
        return np.uint64(a) * _ATTEMPT


def _ziggurat(d: _Draws, c: np.ndarray) -> np.ndarray:
    """Normals of counters ``c`` (docs/model.md section 5): ziggurat attempts re-key ``key1``
    with ``a * A``; wedge and tail uniforms use the salted ``key0 ^ S``; the tail repeats
    Marsaglia's test with tries ``t = 1, 2, ...`` under ``key1' ^ S ^ tA`` and ``key1' ^ tA``."""
    out = np.empty(c.shape)
    todo = np.arange(c.size)
    attempt = 0
    while todo.size:
        cc = c[todo]
        k1 = d.key1 ^ _times_attempt(attempt)
        bits = d._bits(cc, d.key0, k1)
        layer = (bits & np.uint64(127)).astype(np.int64)
        u = (bits >> np.uint64(11)).astype(np.float64) * (2 * _SCALE) - 1.0
        fast = np.abs(u) < _ZIG_RATIO[layer]
        out[todo[fast]] = u[fast] * _ZIG_X[layer[fast]]
        slow = ~fast
        cc, layer, u, idx = cc[slow], layer[slow], u[slow], todo[slow]
        extra = (d._bits(cc, d.key0 ^ _SALT, k1) >> np.uint64(11)).astype(np.float64) * _SCALE
        tail = layer == 0
        for j in np.flatnonzero(tail):  # rare: Marsaglia's tail, one path at a time
            t = 1
            while True:
                k = k1 ^ _times_attempt(t)
                u1 = (float(d._bits(cc[j:j + 1], d.key0 ^ _SALT, k ^ _SALT)[0]
                            >> np.uint64(11)) + 1.0) * _SCALE
                u2 = (float(d._bits(cc[j:j + 1], d.key0 ^ _SALT, k)[0] >> np.uint64(11))
                      + 1.0) * _SCALE
                tx = -math.log(u1) / _ZIG_R
                if -2.0 * math.log(u2) > tx * tx:
                    out[idx[j]] = (_ZIG_R + tx) if u[j] > 0 else -(_ZIG_R + tx)
                    break
                t += 1
        wedge = ~tail
        x0 = u[wedge] * _ZIG_X[layer[wedge]]
        f0 = np.exp(-0.5 * (_ZIG_X[layer[wedge]] ** 2 - x0 * x0))
        f1 = np.exp(-0.5 * (_ZIG_X[layer[wedge] + 1] ** 2 - x0 * x0))
        accept = f1 + extra[wedge] * (f0 - f1) < 1.0
        out[idx[wedge][accept]] = x0[accept]
        todo = idx[wedge][~accept]
        attempt += 1
    return out


def _poisson_count(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Smallest m with u <= F(m) (inversion of one uniform), capped at 16."""
    m = np.arange(_CAP)
    cdf = poisson.cdf(m[None, :], np.asarray(mean, dtype=float)[..., None])
    return np.sum(u[:, None] > cdf, axis=1).astype(np.int64)


def _tam_on_grid(values: dict[str, Any], grid: TimeGrid) -> np.ndarray:
    """TAM(t_k) in the config currency: log-linear in calendar time through the points."""
    size = values["market_size"]
    as_of = values["company"]["as_of"]
    fx = 1.0 if size["fx_rate"] is None else size["fx_rate"]
    tau, ln_size = [], []
    for year, value in size["points"]:
        whole = math.floor(year)
        july = dt.date(int(whole), 7, 1)
        tau.append((july - as_of).days / 365.25 + (year - whole))
        ln_size.append(math.log(value))
    tau_a, ln_a = np.array(tau), np.array(ln_size)
    x = (grid.dates - np.datetime64(as_of, "ns")) / np.timedelta64(1, "D") / 365.25
    seg = np.clip(np.searchsorted(tau_a, x, side="right") - 1, 0, len(tau_a) - 2)
    slope = (ln_a[seg + 1] - ln_a[seg]) / (tau_a[seg + 1] - tau_a[seg])
    return fx * np.exp(ln_a[seg] + slope * (x - tau_a[seg]))


def _ou(kappa: float, step: float) -> tuple[float, float, float]:
    """a = e^{-kappa dt}, b = (1 - a)/kappa, v = sqrt((1 - a^2)/(2 kappa)); kappa = 0 limit."""
    if kappa == 0.0:
        return 1.0, step, math.sqrt(step)
    return (math.exp(-kappa * step), -math.expm1(-kappa * step) / kappa,
            math.sqrt(-math.expm1(-2.0 * kappa * step) / (2.0 * kappa)))


class _Slot(NamedTuple):
    stream: int
    growth: float  # e^{g dt}
    term: int
    delay: int
    threshold: np.ndarray  # Phi^{-1}(p[s]), s = 0, 1
    price_median: np.ndarray  # m[s]
    price_dispersion: float
    replacement: float
    beta: float


def _slot(stream: int, normal: dict[str, Any], slow: dict[str, Any], n: int,
          step: float) -> _Slot:
    return _Slot(
        stream=stream,
        growth=math.exp(normal["escalation"] * step),
        term=round(normal["term_years"] * n),
        delay=round(normal["replacement_delay_years"] * n),
        threshold=ndtri(np.array([normal["renewal_probability"], slow["renewal_probability"]])),
        price_median=np.array([normal["price_change_median"], slow["price_change_median"]]),
        price_dispersion=normal["price_change_dispersion"],
        replacement=normal["replacement_probability"],
        beta=normal["capacity_elasticity"],
    )


def _power(c: np.ndarray, beta: float) -> np.ndarray:
    """c**beta, taken as 1 when c = 1 or beta = 0."""
    if beta == 0.0:
        return np.ones_like(c)
    return np.where(c == 1.0, 1.0, np.power(c, beta))


def simulate_reference(values: dict[str, Any], grid: TimeGrid, seed: int, path0: int, n: int,
                       *, antithetic: bool = False, company: int = 0,
                       value_coefficients: np.ndarray | None = None) -> ReferenceResult:
    """Simulate paths ``path0 .. path0 + n - 1`` of one scenario with plain numpy.

    An independent implementation of ``docs/model.md``: per-step parameters are computed here
    from the validated config values, the counter-based random numbers are re-implemented in
    numpy ``uint64`` arithmetic and the dynamics are vectorised over paths with a Python loop
    over steps. It shares no step code with :func:`simval.engine.kernels.simulate_chunk` and
    is the baseline against which the kernel is tested (path by path) and benchmarked.

    Parameters
    ----------
    values : dict
        One validated scenario, ``simval.load_config(path).scenarios[name]``.
    grid : TimeGrid
        The scenario's time grid (``simval.model.params.make_time_grid(values)``); only its
        calendar (``dates``, ``step_on_or_after``) is used.
    seed : int
        Root seed; the keys are ``SeedSequence(seed).generate_state(2, uint64)``.
    path0 : int
        Global index of the first path (the random numbers depend on it).
    n : int
        Number of paths.
    antithetic : bool, optional
        Antithetic variates: path ``p`` draws with index ``p >> 1``; odd paths negate every
        normal and replace every uniform ``u`` by ``1 - u``.
    company : int, optional
        Position in a panel: company ``c >= 1`` draws its own numbers under
        ``SeedSequence([seed, c])`` and shares the regime and chip-shock draws (docs/model.md).
    value_coefficients : ndarray of shape (K + 1, N_BASIS), optional
        The least-squares fit of W_k (``market.model = "value"``, required then): the
        reference evaluates a given fit; fitting it is the pilot's job
        (:func:`simval.engine.fundamental.fit_value_function`).

    Returns
    -------
    ReferenceResult
        ``series``, ``scalars``, ``counts``, ``active``, ``regimes`` in the layouts of the
        kernel's output buffers (``simval.layout.SERIES_*`` etc.).

    Notes
    -----
    Results agree with the kernel to rounding (numpy's and libm's transcendental functions may
    differ in the last bit); discrete outcomes (renewals, shocks, bankruptcy) are identical
    unless a comparison falls within rounding of its threshold.

    Examples
    --------
    >>> import simval
    >>> from simval.model.params import make_time_grid
    >>> values = simval.load_config("configs/schwartz_moon_amazon.toml").scenarios["base"]
    >>> out = simulate_reference(values, make_time_grid(values), seed=1, path0=0, n=4)
    >>> out.series.shape[:2], out.scalars.shape
    ((9, 4), (9, 4))
    """
    sim, com, cost = values["simulation"], values["commercial"], values["costs"]
    slow = values["slowdown"]
    steps_per_year = sim["steps_per_year"]
    # two horizons (spec v2): paths run to the valuation horizon T_v (K = K_v steps); the
    # market-path statistics look at t_1 .. t_{K_q} only (question horizon T_q)
    K = round(sim["valuation_horizon_years"] * steps_per_year)
    K_q = round(sim["horizon_years"] * steps_per_year)
    if grid.n_steps != K:
        raise ValueError(f"the grid has {grid.n_steps} steps, the config {K}")
    step = 1.0 / steps_per_year
    sqrt_step = math.sqrt(step)
    t = np.arange(K + 1) * step
    draws = _Draws(seed, path0, n, antithetic, company)

    # ---- per-step parameters (docs/model.md sections 1-4)
    risk_neutral = sim["measure"] == "risk_neutral"
    lam_r = com["price_of_revenue_risk"] if risk_neutral else 0.0
    lam_mu = com["price_of_growth_risk"] if risk_neutral else 0.0
    rate = cost["risk_free_rate"] if risk_neutral else sim["discount_rate"]
    sigma = com["volatility_long_run"] + (com["volatility"] - com["volatility_long_run"]) \
        * np.exp(-com["volatility_decay"] * t)
    eta = com["growth_volatility"] * np.exp(-com["growth_volatility_decay"] * t)
    mu_bar = np.array([com["growth_long_run"], slow["commercial"]["growth_long_run"]])
    ou_a, ou_b, ou_v = _ou(com["mean_reversion"], step)
    rho = com["correlation"]
    rho_perp = math.sqrt(1.0 - rho * rho)
    fixed = cost["fixed_costs"] * np.exp(cost["fixed_cost_growth"] * t)
    # operating model (spec v2, [costs] and [debt])
    alpha_contract = cost["contract_cost_ratio"]
    if alpha_contract is None:  # absent: contract revenue costs what commercial revenue does
        alpha_contract = cost["variable_cost_ratio"]
    sbc = cost["sbc_ratio"]
    sbc_expense = sbc if sbc > 0.0 and cost["sbc_treatment"] == "expense" else 0.0
    sbc_dilution = sbc if sbc > 0.0 and cost["sbc_treatment"] == "dilution" else 0.0
    maintenance = cost["maintenance_capex_ratio"]
    target = cost["target_operating_margin"]
    if target is None:  # o(t) = o_0
        opex = np.full(K + 1, cost["operating_expense_ratio"])
    else:  # o(t) = o_inf + (o_0 - o_inf) e^{-kappa_o t}, o_inf = 1 - alpha - s_e - m_c - m_bar
        o_inf = 1.0 - cost["variable_cost_ratio"] - sbc_expense - maintenance - target
        opex = o_inf + (cost["operating_expense_ratio"] - o_inf) \
            * np.exp(-cost["margin_convergence"] * t)
    sales_to_capital = cost["sales_to_capital"]
    debt = values["debt"]["amount"]
    interest_flow = values["debt"]["interest_rate"] * debt * step  # r_d D dt

    reg = values["regime"]
    hazards = np.array([reg["hazard_normal_to_slowdown"], reg["hazard_slowdown_to_normal"]])
    switch_prob = -np.expm1(-hazards * step)

    chips = values["chips"]
    chip_mean = np.array([chips["shock_rate"], slow["chips"]["shock_rate"]]) * step
    half_life = chips["recovery_half_life_years"]
    recovery = 1.0 if half_life is None else math.exp(-step * math.log(2.0) / half_life)
    uniform_haircut = chips["haircut_distribution"] == "uniform"

    size = values["market_size"]
    tam = _tam_on_grid(values, grid) if size["enabled"] else None

    mkt = values["market"]
    value_model = mkt["model"] == "value"
    if value_model and value_coefficients is None:
        raise ValueError("market.model = 'value' needs the fitted value_coefficients")
    if mkt["enabled"] and value_model:  # the log price-to-value gap: log-OU toward ln b_bar
        ln_m_bar = np.log(np.array([mkt["gap_long_run"], slow["market"]["gap_long_run"]]))
        m_vol = np.array([mkt["gap_volatility"], slow["market"]["gap_volatility"]])
        m_decay, _, m_v = _ou(math.log(2.0) / mkt["gap_half_life_years"], step)
    elif mkt["enabled"]:
        ln_m_bar = np.log(np.array([mkt["long_run_multiple"],
                                    slow["market"]["long_run_multiple"]]))
        m_vol = np.array([mkt["volatility"], slow["market"]["volatility"]])
        m_decay, _, m_v = _ou(mkt["mean_reversion"], step)
    s_ref = initial_total_revenue(values)  # the basis's revenue scale, as the kernel's

    def fitted(k: int, total: np.ndarray, mu: np.ndarray, cash: np.ndarray,
               contracts: np.ndarray, margin: np.ndarray, regime: np.ndarray,
               cap: np.ndarray) -> np.ndarray:
        """The fitted value of all the shares at t_k, floored at 0 (docs/model.md)."""
        x = total / s_ref
        m = np.clip(margin, -5.0, 1.0)
        g = (regime == 1).astype(np.float64)
        basis = np.stack([np.ones_like(x), x, x * x, np.sqrt(np.maximum(x, 0.0)), x * mu,
                          x * mu * mu, mu, cash / s_ref, contracts / s_ref, x * m, g, x * g,
                          cap, x * cap])
        return np.maximum(value_coefficients[k] @ basis, 0.0)

    fin = values["financing"]
    fin_prob = np.array([fin["probability"], slow["financing"]["probability"]])

    exp_ = values["expansion"]
    win_mean = np.array([exp_["win_rate"], slow["expansion"]["win_rate"]]) * step
    named = list(values["contracts"].items())
    n_named = len(named)
    pool = exp_["pool_size"] if exp_["enabled"] else 0
    slots = [_slot(_NAMED0 + j, c, slow["contracts"][name], steps_per_year, step)
             for j, (name, c) in enumerate(named)]
    slots += [_slot(_POOL0 + i, exp_, slow["expansion"], steps_per_year, step)
              for i in range(pool)]
    n_slots = len(slots)
    ren = values["renewals"]
    copula_a = math.sqrt(ren["correlation"])
    copula_b = math.sqrt(1.0 - ren["correlation"] - ren["budget_weight"])
    # the budget factor b: OU with unit stationary variance, mean m_b per regime
    budget_on = ren["budget_weight"] > 0.0
    budget_w = math.sqrt(ren["budget_weight"])
    budget_m = np.array([ren["budget_mean"], slow["renewals"]["budget_mean"]])
    budget_phi = math.exp(-ren["budget_mean_reversion"] * step)
    budget_v = math.sqrt(1.0 - math.exp(-2.0 * ren["budget_mean_reversion"] * step))

    # ---- outputs
    series = np.zeros((N_SERIES, n, K + 1))
    scalars = np.zeros((N_SCALARS, n))
    counts = np.zeros((N_COUNTS, n), dtype=np.int64)
    active = np.zeros((n, n_named, K + 1), dtype=np.int8)
    regimes = np.zeros((n, K + 1), dtype=np.int8)

    # ---- state at t_0
    regime = np.full(n, 1 if reg["initial"] == "slowdown" else 0, dtype=np.int64)
    ln_r = np.full(n, math.log(com["revenue"]))
    mu = np.full(n, com["growth"])
    cap = np.ones(n)
    cash = np.full(n, cost["cash"])
    losses = np.full(n, cost["loss_carryforward"])
    holders = np.ones(n)
    state = np.full((n, n_slots), _DORMANT, dtype=np.int8)
    state[:, :n_named] = _ACTIVE
    rev = np.zeros((n, n_slots))
    nxt = np.zeros((n, n_slots), dtype=np.int64)
    for j, (_, c) in enumerate(named):
        rev[:, j] = c["revenue"]
        nxt[:, j] = grid.step_on_or_after(c["first_renewal"])
    pool_left = np.full(n, pool, dtype=np.int64)
    budget = np.zeros(n)
    if budget_on:
        budget = budget_m[regime] + draws.normal(_BUDGET, 0, 1)
    tam_mult = np.ones(n)
    if size["enabled"] and size["multiplier_dispersion"] > 0.0:
        tam_mult = np.exp(size["multiplier_dispersion"] * draws.normal(_PATH, 0, 0))

    def revenues(k: int) -> tuple[np.ndarray, ...]:
        """Delivered commercial, contract, total revenue and market share at t_k (2.6)."""
        contracts = np.zeros(n)
        for j, s in enumerate(slots):
            contracts = contracts + np.where(state[:, j] == _ACTIVE,
                                             rev[:, j] * _power(cap, s.beta), 0.0)
        commercial = np.exp(ln_r) * _power(cap, com["capacity_elasticity"])
        if tam is None:
            share = np.full(n, np.nan)
        else:
            market = tam[k] * tam_mult
            if size["cap_contracts"]:  # total revenue scaled down to the cap, pro rata
                cap_ = size["max_share"] * market
                over = commercial + contracts > cap_
                f = np.where(over, cap_ / np.where(over, commercial + contracts, 1.0), 1.0)
                commercial, contracts = commercial * f, contracts * f
            else:
                room = np.maximum(0.0, size["max_share"] * market - contracts)
                commercial = np.minimum(commercial, room)
            share = (commercial + contracts) / market
        return commercial, contracts, commercial + contracts, share

    commercial, contracts, total, share = revenues(0)
    v0 = values["company"]["valuation"]
    # M_0 = V_0 / S_0 per path. S_0 = 0 (only possible with max_share = 0 and no named
    # contracts) is not covered by docs/model.md; M_0 = 1 is used then, as the kernel does.
    positive = total > 0.0
    m0 = np.where(positive, v0 / np.where(positive, total, 1.0), 1.0)
    ln_m = np.log(m0)
    fundamental = np.full(n, np.nan)
    level_w = np.full(n, -np.inf)
    if value_model:  # W_0 and B_0 = V_0 / W_0 (ln_m holds ln B)
        fundamental = fitted(0, total, mu, cash, contracts, np.zeros(n), regime, cap)
        good = fundamental > 0.0
        ln_m = np.where(good, np.log(v0 / np.where(good, fundamental, 1.0)), 0.0)
        level_w = (1.0 - mkt["collapse_drawdown"]) * fundamental
    series[SERIES_FUNDAMENTAL_VALUE, :, 0] = fundamental
    series[SERIES_PRICE_TO_VALUE, :, 0] = np.exp(ln_m) if value_model else np.nan
    series[SERIES_TOTAL_REVENUE, :, 0] = total
    series[SERIES_COMMERCIAL_REVENUE, :, 0] = commercial
    series[SERIES_CONTRACT_REVENUE, :, 0] = contracts
    series[SERIES_MARKET_SHARE, :, 0] = share
    series[SERIES_CAPACITY, :, 0] = cap
    series[SERIES_CASH, :, 0] = cash
    series[SERIES_MARKET_VALUE, :, 0] = v0
    active[:, :, 0] = 1
    regimes[:, 0] = regime

    alive = np.ones(n, dtype=bool)
    bankrupt_step = np.full(n, -1, dtype=np.int64)
    slowdown_steps = np.zeros(n, dtype=np.int64)
    last_flow = np.zeros(n)
    last_ebitda = np.zeros(n)
    last_ebit = np.zeros(n)
    last_contract_flow = np.zeros(n)
    last_margin = np.zeros(n)
    last_mu = np.zeros(n)
    n_shocks = np.zeros(n, dtype=np.int64)
    n_lost = np.zeros(n, dtype=np.int64)
    n_decisions = np.zeros(n, dtype=np.int64)
    n_won = np.zeros(n, dtype=np.int64)
    alpha0, gamma = cost["variable_cost_ratio"], chips["cost_sensitivity"]
    revenue_peak = total.copy()  # the revenue growth capital has been bought for

    for k in range(K):
        s = regime
        # 2.1 commercial revenue and growth
        e1 = draws.normal(_REVENUE, k, 0)
        e2 = rho * e1 + rho_perp * draws.normal(_GROWTH, k, 0)
        ln_r = ln_r + (mu - lam_r * sigma[k] - 0.5 * sigma[k] ** 2) * step \
            + sigma[k] * sqrt_step * e1
        mb = mu_bar[s]
        mu = mb + (mu - mb) * ou_a - lam_mu * eta[k] * ou_b + eta[k] * ou_v * e2
        # 2.2 chips
        cap_start = cap
        jump = np.zeros(n)
        if chips["enabled"]:
            cap = 1.0 - (1.0 - cap) * recovery
            shocks = _poisson_count(draws.uniform(_CHIPS, k, 0, macro=True), chip_mean[s])
            for i in range(int(shocks.max(initial=0))):
                hit = i < shocks
                haircut = chips["haircut_low"]
                if uniform_haircut:
                    haircut = haircut + (chips["haircut_high"] - chips["haircut_low"]) \
                        * draws.uniform(_CHIPS, k, 1 + 2 * i, macro=True)
                cap = np.where(hit, cap * (1.0 - haircut), cap)
                jump = jump + np.where(hit, math.log(chips["multiple_jump_median"])
                                       + chips["multiple_jump_dispersion"]
                                       * draws.normal(_CHIPS, k, 2 + 2 * i), 0.0)
            cap = np.maximum(cap, 1e-12)
            n_shocks += np.where(alive, shocks, 0)
        # 2.3 contracts
        z_common = None
        if budget_on:  # b at t_{k+1}, toward the mean of step k's regime
            mb_k = budget_m[s]
            budget = mb_k + (budget - mb_k) * budget_phi + budget_v * draws.normal(_BUDGET, k, 0)
        for j, sl in enumerate(slots):
            st = state[:, j].copy()
            live = (st == _ACTIVE) | (st == _AWAITING)
            rev[:, j] = np.where(live, rev[:, j] * sl.growth, rev[:, j])
            due = (st == _ACTIVE) & (nxt[:, j] == k + 1)
            if due.any():
                if z_common is None:
                    z_common = draws.normal(_COPULA, k, 0)
                # a high budget makes a renewal likelier (budget is 0 when off)
                y = copula_a * z_common - budget_w * budget \
                    + copula_b * draws.normal(sl.stream, k, 0)
                renew = due & (y < sl.threshold[s])
                n_decisions += (due & alive).astype(np.int64)
                price = sl.price_median[s] * np.exp(sl.price_dispersion
                                                    * draws.normal(sl.stream, k, 1))
                rev[:, j] = np.where(renew, rev[:, j] * price, rev[:, j])
                nxt[:, j] = np.where(renew, k + 1 + sl.term, nxt[:, j])
                lost = due & ~renew
                n_lost += (lost & alive).astype(np.int64)
                if sl.replacement > 0.0:
                    replaced = lost & (draws.uniform(sl.stream, k, 2) < sl.replacement)
                else:
                    replaced = np.zeros(n, dtype=bool)
                state[:, j] = np.where(replaced, _AWAITING,
                                       np.where(lost, _LOST, state[:, j]))
                nxt[:, j] = np.where(replaced, k + 1 + sl.delay, nxt[:, j])
            back = (st == _AWAITING) & (nxt[:, j] == k + 1)
            state[:, j] = np.where(back, _ACTIVE, state[:, j])
            nxt[:, j] = np.where(back, k + 1 + sl.term, nxt[:, j])
        # 2.4 expansion wins
        if pool > 0:
            wins = _poisson_count(draws.uniform(_EXPANSION, k, 0), win_mean[s])
            wins = np.minimum(wins, pool_left)
            for i in range(int(wins.max(initial=0))):
                rows = np.flatnonzero(i < wins)
                pool_slot = np.minimum(pool - pool_left + i, pool - 1)  # next free slot
                size_draw = draws.normal(_POOL0 + pool_slot, k, 3)[rows]
                j = n_named + pool_slot[rows]
                state[rows, j] = _ACTIVE
                rev[rows, j] = exp_["revenue_median"] * np.exp(exp_["revenue_dispersion"]
                                                               * size_draw)
                nxt[rows, j] = k + 1 + slots[n_named].term
            pool_left = pool_left - wins
            n_won += np.where(alive, wins, 0)
        # 2.5 macro regime
        slowdown_steps += ((s == 1) & alive).astype(np.int64)
        if reg["enabled"]:
            switch = draws.uniform(_REGIME, k, 0, macro=True) < switch_prob[s]
            regime = np.where(switch, 1 - s, s)
            into = (regime == 1) & (s == 0)
            if into.any():
                jump = jump + np.where(into, math.log(mkt["slowdown_jump_median"])
                                       + mkt["slowdown_jump_dispersion"]
                                       * draws.normal(_MARKET, k, 1), 0.0)
        # 2.6 revenues at t_{k+1}
        prev_total, prev_contracts = total, contracts
        commercial, contracts, total, share = revenues(k + 1)
        # 2.7 flows, taxes, cash (v2 operating model: spec "One step k")
        if sim["revenue_timing"] == "start":
            flow = prev_total * step
            contract_flow = prev_contracts * step
            alpha = alpha0 + gamma * (1.0 - cap_start)
            fixed_flow = fixed[k] * step
            opex_ratio = opex[k]
        else:
            flow = total * step
            contract_flow = contracts * step
            alpha = alpha0 + gamma * (1.0 - cap)
            fixed_flow = fixed[k + 1] * step
            opex_ratio = opex[k + 1]
        ebitda = flow * (1.0 - alpha) - fixed_flow - (alpha_contract - alpha0) * contract_flow \
            - (opex_ratio + sbc_expense) * flow
        ebit = ebitda - maintenance * flow  # maintenance capex = D&A, deductible
        income = ebit + cost["risk_free_rate"] * cash * step - interest_flow
        taxed = income > losses
        tax = np.where(taxed, cost["tax_rate"] * (income - losses), 0.0)
        losses = np.where(taxed, 0.0, losses - income)
        if sales_to_capital is None:
            growth_capital = 0.0
        else:  # capital for revenue beyond the highest run-rate reached so far
            growth_capital = np.maximum(total - revenue_peak, 0.0) / sales_to_capital
        revenue_peak = np.maximum(revenue_peak, total)
        cash = cash + (income - tax - cost["capex_ratio"] * flow - growth_capital)
        margin = np.where(flow != 0.0, ebit / np.where(flow != 0.0, flow, 1.0), 0.0)
        # 2.8 market multiple (or price-to-value gap) and value
        if mkt["enabled"]:
            ln_m = ln_m_bar[s] + (ln_m - ln_m_bar[s]) * m_decay \
                + m_vol[s] * m_v * draws.normal(_MARKET, k, 0) + jump
        if value_model:  # V = B W; new shares are priced at the market value of all shares
            per_share = fitted(k + 1, total, mu, cash, contracts, margin, regime, cap)
            fundamental = holders * per_share
            value = np.exp(ln_m) * fundamental
            market_cap = np.exp(ln_m) * per_share
        else:
            value = np.exp(ln_m) * total if mkt["enabled"] else m0 * total
            market_cap = value
        # SBC as dilution (spec v2): new shares at the market value, before financing
        if sbc_dilution > 0.0:
            dilute = alive & (market_cap > 0.0)
            holders = np.where(
                dilute, holders * (market_cap / np.where(
                    dilute, market_cap + sbc_dilution * flow, 1.0)), holders)
        # 2.9 financing, then bankruptcy
        if fin["enabled"]:
            raise_ = alive & (cash < fin["cash_floor"]) \
                & (draws.uniform(_FINANCING, k, 0) < fin_prob[s])
            holders = np.where(raise_, holders * (market_cap / (market_cap + fin["amount"])),
                               holders)
            cash = np.where(raise_, cash + fin["amount"], cash)
        broke = alive & (cash < 0.0)
        value = np.where(broke, 0.0, value)
        if value_model:
            fundamental = np.where(broke, 0.0, fundamental)
        bankrupt_step[broke] = k + 1
        # record t_{k+1}: live paths their values, paths bankrupt earlier their afterlife
        was = alive
        last_flow = np.where(was, flow, last_flow)
        last_ebitda = np.where(was, ebitda, last_ebitda)
        last_ebit = np.where(was, ebit, last_ebit)
        last_contract_flow = np.where(was, contract_flow, last_contract_flow)
        last_margin = np.where(was, margin, last_margin)
        last_mu = np.where(was, mu, last_mu)
        prev_cap = series[SERIES_CAPACITY, :, k]
        series[SERIES_TOTAL_REVENUE, :, k + 1] = np.where(was, total, 0.0)
        series[SERIES_COMMERCIAL_REVENUE, :, k + 1] = np.where(was, commercial, 0.0)
        series[SERIES_CONTRACT_REVENUE, :, k + 1] = np.where(was, contracts, 0.0)
        series[SERIES_MARKET_SHARE, :, k + 1] = np.where(
            was, share, np.nan if tam is None else 0.0)
        series[SERIES_CAPACITY, :, k + 1] = np.where(was, cap, prev_cap)
        series[SERIES_CASH, :, k + 1] = np.where(was, cash, 0.0)
        series[SERIES_MARKET_VALUE, :, k + 1] = np.where(was, value, 0.0)
        if value_model:
            series[SERIES_FUNDAMENTAL_VALUE, :, k + 1] = np.where(was, fundamental, 0.0)
            series[SERIES_PRICE_TO_VALUE, :, k + 1] = np.where(was & ~broke, np.exp(ln_m),
                                                                np.nan)
        else:
            series[SERIES_FUNDAMENTAL_VALUE, :, k + 1] = np.nan
            series[SERIES_PRICE_TO_VALUE, :, k + 1] = np.nan
        active[:, :, k + 1] = (was[:, None] & (state[:, :n_named] == _ACTIVE)).astype(np.int8)
        regimes[:, k + 1] = regime
        alive = alive & ~broke

    # ---- market-path statistics (2.10)
    v = series[SERIES_MARKET_VALUE, :, :K_q + 1]  # t_0 .. t_{K_q}: the question horizon
    peak = np.maximum.accumulate(v, axis=1)
    scalars[SCALAR_MIN_VALUE] = v.min(axis=1)
    scalars[SCALAR_MAX_DRAWDOWN] = (1.0 - v / peak).max(axis=1)
    below = v[:, 1:] <= (1.0 - mkt["collapse_drawdown"]) * v0
    counts[COUNT_COLLAPSE_STEP] = np.where(below.any(axis=1), below.argmax(axis=1) + 1, -1)
    counts[COUNT_BANKRUPT_STEP] = bankrupt_step
    w = series[SERIES_FUNDAMENTAL_VALUE, :, 1:K_q + 1]
    fell = w <= level_w[:, None]  # NaN (model = multiple) never falls
    counts[COUNT_FUNDAMENTAL_COLLAPSE_STEP] = np.where(fell.any(axis=1),
                                                       fell.argmax(axis=1) + 1, -1)
    counts[COUNT_CHIP_SHOCKS] = n_shocks
    counts[COUNT_CONTRACTS_LOST] = n_lost
    counts[COUNT_RENEWAL_DECISIONS] = n_decisions
    counts[COUNT_CONTRACTS_WON] = n_won
    lived = np.where(bankrupt_step >= 0, bankrupt_step, K)
    scalars[SCALAR_SLOWDOWN_SHARE] = slowdown_steps / lived
    scalars[SCALAR_HOLDERS_FRACTION] = holders

    # ---- valuation (section 3; spec v2 "Terminal value" and "Present value")
    val = values["valuation"]
    f = steps_per_year if val["terminal_earnings"] == "annualised" else 1.0
    method = val["terminal_method"]
    g = val["terminal_growth"]
    if method == "gordon":  # FCF of EBIT (= EBITDA without maintenance capex)
        fcf = last_ebit - cost["tax_rate"] * np.maximum(last_ebit, 0.0) \
            - cost["capex_ratio"] * last_flow
        tv = f * fcf * (1.0 + g) / (math.expm1(rate) - g)
    elif method == "value_driver":
        nopat = (1.0 - cost["tax_rate"]) * f * last_ebit
        tv = np.maximum(nopat, 0.0) * (1.0 - g / val["return_on_capital"]) * (1.0 + g) \
            / (math.expm1(rate) - g)
    else:
        dispersion = val["exit_multiple_dispersion"]
        median = val["exit_multiple_median"]
        if median is None:  # the mean is given: median = mean e^{-s^2/2}
            median = val["exit_multiple_mean"] * math.exp(-0.5 * dispersion ** 2)
        mu_ref = val["exit_reference_growth"]
        if mu_ref is None:
            mu_ref = com["growth_long_run"]
        m_ref = val["exit_reference_margin"]
        if m_ref is None:
            m_ref = 0.0 if target is None else target
        exit_multiple = np.full(n, float(median))
        if dispersion > 0.0:
            exit_multiple = exit_multiple * np.exp(dispersion * draws.normal(_PATH, 0, 1))
        # state-dependent: growth mu at the last step, operating margin of the last step (a
        # margin of -1e6, revenue all but cut to zero, may overflow: the multiple is then inf)
        with np.errstate(over="ignore"):
            exit_multiple = exit_multiple * np.exp(val["exit_multiple_growth_slope"]
                                                   * (last_mu - mu_ref)
                                                   + val["exit_multiple_margin_slope"]
                                                   * (last_margin - m_ref))
        if method == "ev_ebitda":
            tv = exit_multiple * f * last_ebitda
        elif val["contract_exit_multiple"] is None:
            tv = exit_multiple * f * last_flow
        else:  # contract revenue at its own multiple
            tv = (exit_multiple * (last_flow - last_contract_flow)
                  + val["contract_exit_multiple"] * last_contract_flow) * f
    survived = bankrupt_step < 0
    keep = 1.0 - values["company"]["option_overhang"]  # today's shares: 1 - w
    discount_v = math.exp(-rate * t[K])
    pv_alive = keep * (holders * discount_v * (tv + cash - debt) - values["company"]["net_debt"])
    if val["limited_liability"]:
        pv_alive = np.maximum(pv_alive, 0.0)
    t_b = np.where(survived, 0, bankrupt_step) * step
    pv_dead = keep * holders * values["bankruptcy"]["recovery"] * np.exp(-rate * t_b) \
        * np.maximum(tv, 0.0)
    scalars[SCALAR_PV] = np.where(survived, pv_alive, pv_dead)
    scalars[SCALAR_TERMINAL_VALUE_PV] = np.where(survived, keep * holders * discount_v * tv, 0.0)
    scalars[SCALAR_TERMINAL_MARGIN] = np.where(survived, last_margin, np.nan)
    scalars[SCALAR_TERMINAL_GROWTH] = np.where(survived, last_mu, np.nan)
    base_k = K - 1 if sim["revenue_timing"] == "start" else K
    scalars[SCALAR_TERMINAL_REVENUE] = np.where(
        survived, series[SERIES_TOTAL_REVENUE, :, base_k], 0.0)
    return ReferenceResult(series, scalars, counts, active, regimes)
