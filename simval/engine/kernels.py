"""Every numba-compiled function of simval, and nothing else.

The kernels are pure functions of a :class:`simval.engine.params.KernelParams` tuple, two
64-bit keys and a range of global path indices; they write into preallocated arrays. Random
numbers are drawn inside the kernel from a counter-based generator, so every draw is a pure
function of ``(seed, path, stream, step, slot)`` and the results do not depend on the number of
threads, the chunking or the machine (see ``docs/model.md``, "Random numbers").

Per-path step logic is plain scalar code (no allocation, no Python objects), so it could be
compiled for a GPU unchanged. All functions use ``cache=True``; kernels live in this one file
because numba's cache does not notice edits to functions imported from other files.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# ------------------------------------------------------------------------------------------
# Counter-based random numbers: SplitMix64's output function keyed twice.
# counter = path << 32 | stream << 20 | step << 6 | slot   (path < 2^31, stream < 4096,
# step < 16384, slot < 64); bit 63 is 0. Normals come from a ziggurat whose rejections re-key
# the same counter (see `normal`), so every draw is a function of its counter alone. Distinct
# (path, stream, step, slot) give distinct counters, and the keyed mix is a bijection of the
# counter for a fixed key, so streams cannot overlap.

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_M53 = 1.0 / 9007199254740992.0
_TWO_M52 = 2.0 * _TWO_M53

STREAM_REGIME = 0
STREAM_REVENUE = 1
STREAM_GROWTH = 2
STREAM_CHIPS = 3
STREAM_MARKET = 4
STREAM_COPULA = 5
STREAM_EXPANSION = 6
STREAM_FINANCING = 7
STREAM_PATH = 8
STREAM_CONTRACT0 = 16  # named contract j: stream 16 + j (j < 2048)
STREAM_POOL0 = 2064  # expansion pool slot i: stream 2064 + i (i < 2000)
MAX_EVENTS_IN_STEP = 16


@njit(cache=True)
def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def counter(path, stream, step, slot):
    """64-bit counter of one draw (see module docstring)."""
    return ((np.uint64(path) << np.uint64(32)) | (np.uint64(stream) << np.uint64(20))
            | (np.uint64(step) << np.uint64(6)) | np.uint64(slot))


@njit(cache=True)
def random_bits(key0, key1, c):
    """64 random bits for counter ``c`` under keys ``key0, key1``."""
    return _mix64(_mix64(c * _GAMMA + key0) ^ key1)


@njit(cache=True)
def uniform(key0, key1, c):
    """Uniform on [0, 1) with 53 random bits."""
    return np.float64(random_bits(key0, key1, c) >> np.uint64(11)) * _TWO_M53


def _ziggurat_tables(layers: int = 128, r: float = 3.442619855899,
                     v: float = 9.91256303526217e-3) -> tuple[np.ndarray, np.ndarray]:
    """Layer edges x[0..layers] of the normal ziggurat and the fast-accept ratios x[i+1]/x[i]
    (Marsaglia & Tsang 2000, in Doornik's 2005 ZIGNOR form: 128 layers of area v)."""
    x = np.empty(layers + 1)
    f = math.exp(-0.5 * r * r)
    x[0] = v / f
    x[1] = r
    for i in range(2, layers):
        x[i] = math.sqrt(-2.0 * math.log(v / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    x[layers] = 0.0
    return x, x[1:] / x[:-1]


_ZIG_X, _ZIG_RATIO = _ziggurat_tables()
_ZIG_R = 3.442619855899
_ZIG_LAYER_MASK = np.uint64(127)
_ATTEMPT = np.uint64(0xD1B54A32D192ED03)  # odd: attempt a re-keys with key1 ^ (a * _ATTEMPT)
_SALT = np.uint64(0x8CB92BA72F3D8DD7)  # second uniform of an attempt: key0 ^ _SALT


@njit(cache=True)
def normal(key0, key1, c):
    """Standard normal for counter ``c`` by the ziggurat method.

    Attempt ``a`` (0, 1, ...) uses the bits of ``c`` under the keys ``(key0, key1 ^ a*A)``: the
    low 7 bits pick a layer, the top 53 bits give a uniform on (-1, 1). About 98.8% of draws
    are accepted at once; rejections and the tail (beyond 3.44) draw their extra uniforms
    from the same counter under the salted key ``key0 ^ S``, so a normal is still a pure
    function of ``(keys, c)``.
    """
    bits = random_bits(key0, key1, c)
    i = bits & _ZIG_LAYER_MASK
    u = np.float64(bits >> np.uint64(11)) * _TWO_M52 - 1.0
    if abs(u) < _ZIG_RATIO[i]:
        return u * _ZIG_X[i]
    return _normal_rejected(key0, key1, c, i, u)


@njit(cache=True)
def _normal_tail(key0, k1, c, positive):
    """A normal beyond r (Marsaglia 1964): repeat x = -ln(u1)/r, y = -ln(u2) until 2y > x^2;
    try t draws its two uniforms under the keys (key0 ^ S, k1 ^ S ^ t*A), (key0 ^ S, k1 ^ t*A)."""
    t = np.uint64(1)
    while True:
        u1 = (np.float64(random_bits(key0 ^ _SALT, k1 ^ _SALT ^ (t * _ATTEMPT), c)
                         >> np.uint64(11)) + 1.0) * _TWO_M53
        u2 = (np.float64(random_bits(key0 ^ _SALT, k1 ^ (t * _ATTEMPT), c) >> np.uint64(11))
              + 1.0) * _TWO_M53
        tx = -math.log(u1) / _ZIG_R
        if -2.0 * math.log(u2) > tx * tx:
            return _ZIG_R + tx if positive else -(_ZIG_R + tx)
        t += np.uint64(1)


@njit(cache=True)
def _normal_rejected(key0, key1, c, i, u):
    """The ziggurat's slow path: wedge test, tail, or a new attempt (about 1.2% of draws)."""
    attempt = np.uint64(0)
    while True:
        k1 = key1 ^ (attempt * _ATTEMPT)
        if attempt > np.uint64(0):
            bits = random_bits(key0, k1, c)
            i = bits & _ZIG_LAYER_MASK
            u = np.float64(bits >> np.uint64(11)) * _TWO_M52 - 1.0
            if abs(u) < _ZIG_RATIO[i]:
                return u * _ZIG_X[i]
        extra = random_bits(key0 ^ _SALT, k1, c)
        if i == np.uint64(0):
            return _normal_tail(key0, k1, c, u > 0.0)
        else:
            x0 = u * _ZIG_X[i]
            f0 = math.exp(-0.5 * (_ZIG_X[i] * _ZIG_X[i] - x0 * x0))
            f1 = math.exp(-0.5 * (_ZIG_X[i + np.uint64(1)] * _ZIG_X[i + np.uint64(1)] - x0 * x0))
            if f1 + np.float64(extra >> np.uint64(11)) * _TWO_M53 * (f0 - f1) < 1.0:
                return x0
        attempt += np.uint64(1)


@njit(cache=True, inline="always")
def _uniform(key0, key1, flip, c):
    u = uniform(key0, key1, c)
    return 1.0 - u if flip else u


@njit(cache=True, inline="always")
def _normal(key0, key1, flip, c):
    z = normal(key0, key1, c)
    return -z if flip else z


@njit(cache=True)
def poisson(u, mean, cap):
    """Poisson(mean) count by inversion of the uniform ``u``, capped at ``cap``."""
    return _poisson(u, mean, math.exp(-mean), cap)


@njit(cache=True, inline="always")
def _poisson(u, mean, p0, cap):
    """:func:`poisson` given ``p0 = exp(-mean)`` (computed once per path by the engine)."""
    if mean <= 0.0:
        return 0
    prob = p0
    cdf = prob
    k = 0
    while u > cdf and k < cap:
        k += 1
        prob *= mean / k
        cdf += prob
    return k


@njit(cache=True)
def fill_uniforms(key0, key1, path0, stream, step, slot, out):
    """Uniforms of paths ``path0 .. path0 + len(out) - 1`` (tests and the reference model)."""
    for i in range(out.shape[0]):
        out[i] = uniform(key0, key1, counter(path0 + i, stream, step, slot))


@njit(cache=True)
def fill_normals(key0, key1, path0, stream, step, slot, out):
    """Normals of paths ``path0 .. path0 + len(out) - 1`` (tests and the reference model)."""
    for i in range(out.shape[0]):
        out[i] = normal(key0, key1, counter(path0 + i, stream, step, slot))


# ------------------------------------------------------------------------------------------
# The path simulator

SERIES_TOTAL_REVENUE = 0
SERIES_COMMERCIAL_REVENUE = 1
SERIES_CONTRACT_REVENUE = 2
SERIES_MARKET_SHARE = 3
SERIES_CAPACITY = 4
SERIES_CASH = 5
SERIES_MARKET_VALUE = 6
N_SERIES = 7

SCALAR_PV = 0
SCALAR_TERMINAL_REVENUE = 1
SCALAR_MIN_VALUE = 2
SCALAR_MAX_DRAWDOWN = 3
SCALAR_SLOWDOWN_SHARE = 4
SCALAR_HOLDERS_FRACTION = 5
N_SCALARS = 6

COUNT_COLLAPSE_STEP = 0
COUNT_BANKRUPT_STEP = 1
COUNT_CHIP_SHOCKS = 2
COUNT_CONTRACTS_LOST = 3
COUNT_CONTRACTS_WON = 4
COUNT_RENEWAL_DECISIONS = 5
N_COUNTS = 6

STATE_DORMANT = 0
STATE_ACTIVE = 1
STATE_AWAITING = 2
STATE_LOST = 3


# The helpers of the path simulator take scalars, never the parameter tuple or an array: numba
# binds the arguments of an inlined function to new variables, and every array so bound (and
# every array in a tuple) costs two atomic reference-count updates per call, which inside the
# step loop cost more than the arithmetic (and made threads contend for the same counters).


@njit(cache=True, inline="always")
def _terminal_value(method, factor, tax_rate, capex_ratio, gordon_factor, revenue_flow,
                    ebitda_flow, exit_multiple):
    """Terminal value from the last step's flows (revenue, EBITDA) per year or per step."""
    if method == 0:
        return exit_multiple * revenue_flow * factor
    if method == 1:
        return exit_multiple * ebitda_flow * factor
    tax = tax_rate * ebitda_flow if ebitda_flow > 0.0 else 0.0
    fcf = ebitda_flow - tax - capex_ratio * revenue_flow
    return fcf * factor * gordon_factor


@njit(cache=True, inline="always")
def _capacity_factor(capacity, elasticity):
    """c ** beta, without the power where it is 1 or c (pow(c, 1) is exactly c).

    The engine calls it only where capacity has changed: LLVM turns a short branch around a
    power into a select and computes the power anyway."""
    if capacity == 1.0 or elasticity == 0.0:
        return 1.0
    if elasticity == 1.0:
        return capacity
    return capacity ** elasticity


@njit(cache=True, inline="always")
def _commercial(tam_enabled, max_share, tam, ln_r, capacity_factor, contracts):
    """Delivered commercial revenue run-rate and market share, given the capacity factor
    c ** beta, the contracts' delivered revenue ``contracts`` and the market ``tam`` (the share
    is NaN without a market)."""
    commercial = math.exp(ln_r) * capacity_factor
    share = np.nan
    if tam_enabled:
        room = max_share * tam - contracts
        if room < 0.0:
            room = 0.0
        if commercial > room:
            commercial = room
        share = (commercial + contracts) / tam
    return commercial, share


@njit(cache=True, inline="always")
def _next_regime(enabled, switch_probability, key0, key1, flip, dpath, k, regime):
    """Regime at t_{k+1} given the regime of step k (two-state chain; ``switch_probability``
    is the probability of leaving ``regime`` in the step)."""
    if enabled:
        u = _uniform(key0, key1, flip, counter(dpath, STREAM_REGIME, k, 0))
        if u < switch_probability:
            return 1 - regime
    return regime


@njit(cache=True, error_model="numpy")
def _simulate_path(p, key0, key1, mkey0, mkey1, path, row, series, scalars, counts, active,
                   regimes, sources, c_state, c_rev, c_next):
    n_steps = p.n_steps
    dt = p.dt
    # antithetic variates: paths 2i and 2i + 1 share the draws of index i, the odd one with
    # every normal negated and every uniform u replaced by 1 - u
    dpath = path >> 1 if p.antithetic else path
    flip = p.antithetic and (path & 1) == 1
    # the parameter arrays, bound once per path: reading an array out of the tuple inside the
    # step loop costs reference-count updates at every access
    c_delay_steps_a = p.c_delay_steps
    c_escalation_a = p.c_escalation
    c_first_step_a = p.c_first_step
    c_price_dispersion_a = p.c_price_dispersion
    c_price_median_a = p.c_price_median
    c_replacement_a = p.c_replacement
    c_stream_a = p.c_stream
    c_term_steps_a = p.c_term_steps
    c_threshold_a = p.c_threshold
    chip_mean_a = p.chip_mean
    discount_a = p.discount
    eta_a = p.eta
    fin_probability_a = p.fin_probability
    fixed_a = p.fixed
    ln_m_bar_a = p.ln_m_bar
    m_vol_a = p.m_vol
    mu_bar_a = p.mu_bar
    sigma_a = p.sigma
    win_mean_a = p.win_mean
    tam_grid = p.tam
    c_beta = p.c_beta
    switch_probability = p.switch_probability
    chip_p0_a = p.chip_p0
    win_p0_a = p.win_p0
    # ---- state at t_0
    regime = p.regime_initial
    ln_r = p.ln_r0
    mu = p.mu0
    capacity = 1.0
    commercial_factor = 1.0  # c ** beta of commercial revenue
    contract_factor = 1.0  # c ** beta_j of every contract, if they share one elasticity
    shared_beta = p.c_beta_shared
    cash = p.cash0
    losses = p.loss0
    holders = 1.0
    tam_multiplier = 1.0
    if p.tam_enabled and p.tam_dispersion > 0.0:
        tam_multiplier = math.exp(p.tam_dispersion
                                  * _normal(key0, key1, flip, counter(dpath, STREAM_PATH, 0, 0)))
    contracts = 0.0
    for j in range(p.n_slots):
        c_rev[row, j] = p.c_rev0[j]
        c_next[row, j] = c_first_step_a[j]
        c_state[row, j] = STATE_ACTIVE if j < p.n_named else STATE_DORMANT
        if j < p.n_named:  # capacity is 1 at t_0: delivered = contracted
            contracts += c_rev[row, j]
            sources[j, row, 0] = c_rev[row, j]
    sources[p.n_named, row, 0] = 0.0
    pool_left = p.pool_size
    commercial, share = _commercial(p.tam_enabled, p.max_share, tam_grid[0] * tam_multiplier,
                                    ln_r, commercial_factor, contracts)
    total = commercial + contracts
    # M_0 = V_0 / S_0 on this path (S_0 differs between paths when the TAM cap binds at t_0)
    ln_m = math.log(p.v0 / total) if total > 0.0 else 0.0
    multiple = math.exp(ln_m)  # constant without a market model
    value = p.v0
    peak = value
    min_value = value
    max_drawdown = 0.0
    collapse_step = -1
    bankrupt_step = -1
    n_shocks = 0
    n_lost = 0
    n_decisions = 0
    n_won = 0
    slowdown_steps = 0
    series[SERIES_TOTAL_REVENUE, row, 0] = total
    series[SERIES_COMMERCIAL_REVENUE, row, 0] = commercial
    series[SERIES_CONTRACT_REVENUE, row, 0] = contracts
    series[SERIES_MARKET_SHARE, row, 0] = share
    series[SERIES_CAPACITY, row, 0] = capacity
    series[SERIES_CASH, row, 0] = cash
    series[SERIES_MARKET_VALUE, row, 0] = value
    for j in range(p.n_named):
        active[row, j, 0] = 1
    regimes[row, 0] = regime
    revenue_flow = 0.0
    ebitda_flow = 0.0
    last_step = n_steps
    for k in range(n_steps):
        t_next = k + 1
        # ---- commercial revenue and its expected growth (Schwartz-Moon), regime of step k
        sigma = sigma_a[k]
        eta = eta_a[k]
        e1 = _normal(key0, key1, flip, counter(dpath, STREAM_REVENUE, k, 0))
        e2 = _normal(key0, key1, flip, counter(dpath, STREAM_GROWTH, k, 0))
        e2 = p.rho * e1 + p.rho_perp * e2
        ln_r += (mu - p.lambda_r * sigma - 0.5 * sigma * sigma) * dt + sigma * p.sqrt_dt * e1
        mu_bar = mu_bar_a[regime]
        mu = (mu_bar + (mu - mu_bar) * p.mu_decay - p.lambda_mu * eta * p.mu_price_factor
              + eta * p.mu_vol_factor * e2)
        # ---- chip supply
        capacity_before = capacity
        jump_ln_m = 0.0
        if p.chips_enabled:
            capacity = 1.0 - (1.0 - capacity) * p.recovery_factor
            u = _uniform(mkey0, mkey1, flip, counter(dpath, STREAM_CHIPS, k, 0))
            n_new = _poisson(u, chip_mean_a[regime], chip_p0_a[regime], MAX_EVENTS_IN_STEP)
            for i in range(n_new):
                if p.haircut_kind == 0:
                    haircut = p.haircut_low
                else:
                    haircut = p.haircut_low + (p.haircut_high - p.haircut_low) * _uniform(
                        mkey0, mkey1, flip, counter(dpath, STREAM_CHIPS, k, 1 + 2 * i))
                capacity *= 1.0 - haircut
                jump_ln_m += p.chip_jump_ln_median + p.chip_jump_dispersion * _normal(
                    key0, key1, flip, counter(dpath, STREAM_CHIPS, k, 2 + 2 * i))
            if capacity < 1e-12:
                capacity = 1e-12
            commercial_factor = _capacity_factor(capacity, p.beta)
            if shared_beta and p.n_slots > 0:
                contract_factor = _capacity_factor(capacity, c_beta[0])
            n_shocks += n_new
        # ---- contracts: escalation, renewals at t_{k+1} (one-factor Gaussian copula), and
        # the revenue each delivers at t_{k+1} (added up in slot order)
        z_common = 0.0
        z_drawn = False
        contracts = 0.0
        pool = 0.0
        for j in range(p.n_named + n_won):  # pool slots from n_named + n_won on are unwon
            state = c_state[row, j]
            if state == STATE_ACTIVE or state == STATE_AWAITING:
                c_rev[row, j] *= c_escalation_a[j]
            if state == STATE_ACTIVE and c_next[row, j] == t_next:
                if not z_drawn:
                    z_common = _normal(key0, key1, flip, counter(dpath, STREAM_COPULA, k, 0))
                    z_drawn = True
                stream = c_stream_a[j]
                n_decisions += 1
                latent = (p.copula_a * z_common
                          + p.copula_b * _normal(key0, key1, flip, counter(dpath, stream, k, 0)))
                if latent < c_threshold_a[j, regime]:
                    c_rev[row, j] *= c_price_median_a[j, regime] * math.exp(
                        c_price_dispersion_a[j]
                        * _normal(key0, key1, flip, counter(dpath, stream, k, 1)))
                    c_next[row, j] = t_next + c_term_steps_a[j]
                else:
                    n_lost += 1
                    if (c_replacement_a[j] > 0.0
                            and _uniform(key0, key1, flip, counter(dpath, stream, k, 2))
                            < c_replacement_a[j]):
                        c_state[row, j] = STATE_AWAITING
                        c_next[row, j] = t_next + c_delay_steps_a[j]
                    else:
                        c_state[row, j] = STATE_LOST
            elif state == STATE_AWAITING and c_next[row, j] == t_next:
                c_state[row, j] = STATE_ACTIVE
                c_next[row, j] = t_next + c_term_steps_a[j]
            delivered = 0.0
            if c_state[row, j] == STATE_ACTIVE:
                delivered = c_rev[row, j] * (contract_factor if shared_beta
                                             else _capacity_factor(capacity, c_beta[j]))
                contracts += delivered
            if j < p.n_named:
                sources[j, row, t_next] = delivered
            else:
                pool += delivered
        # ---- expansion programme: wins during step k start at t_{k+1}
        if p.expansion_enabled and pool_left > 0:
            u = _uniform(key0, key1, flip, counter(dpath, STREAM_EXPANSION, k, 0))
            n_new = _poisson(u, win_mean_a[regime], win_p0_a[regime], MAX_EVENTS_IN_STEP)
            if n_new > pool_left:
                n_new = pool_left
            for i in range(n_new):
                j = p.n_named + p.pool_size - pool_left
                c_state[row, j] = STATE_ACTIVE
                c_rev[row, j] = p.win_median * math.exp(
                    p.win_dispersion * _normal(key0, key1, flip,
                                               counter(dpath, c_stream_a[j], k, 3)))
                c_next[row, j] = t_next + c_term_steps_a[j]
                pool_left -= 1
                delivered = c_rev[row, j] * (contract_factor if shared_beta
                                             else _capacity_factor(capacity, c_beta[j]))
                contracts += delivered
                pool += delivered
            n_won += n_new
        sources[p.n_named, row, t_next] = pool
        # ---- macro regime: the chain moves at the end of the step; the regime of step k
        # (step_regime) sets every parameter of the step, the new one applies from t_{k+1}
        step_regime = regime
        if regime == 1:
            slowdown_steps += 1
        regime = _next_regime(p.regime_enabled, switch_probability[regime], mkey0, mkey1, flip,
                              dpath, k, regime)
        if regime == 1 and step_regime == 0:
            jump_ln_m += p.slow_jump_ln_median + p.slow_jump_dispersion * _normal(
                key0, key1, flip, counter(dpath, STREAM_MARKET, k, 1))
        # ---- revenue at t_{k+1} and the flows of step k
        prev_total = total
        commercial, share = _commercial(p.tam_enabled, p.max_share,
                                        tam_grid[t_next] * tam_multiplier, ln_r,
                                        commercial_factor, contracts)
        total = commercial + contracts
        if p.timing_start:
            revenue_flow = prev_total * dt
            alpha = p.alpha + p.gamma * (1.0 - capacity_before)
            fixed_flow = fixed_a[k] * dt
        else:
            revenue_flow = total * dt
            alpha = p.alpha + p.gamma * (1.0 - capacity)
            fixed_flow = fixed_a[t_next] * dt
        ebitda_flow = revenue_flow * (1.0 - alpha) - fixed_flow
        income = ebitda_flow + p.rf * cash * dt
        tax = 0.0
        if income <= 0.0 or income <= losses:
            losses -= income
        else:
            tax = p.tax_rate * (income - losses)
            losses = 0.0
        cash += income - tax - p.capex_ratio * revenue_flow
        # ---- market multiple (log-OU toward the regime's long-run multiple, plus jumps)
        if p.market_enabled:
            ln_m_bar = ln_m_bar_a[step_regime]
            ln_m = (ln_m_bar + (ln_m - ln_m_bar) * p.m_decay
                    + m_vol_a[step_regime]
                    * _normal(key0, key1, flip, counter(dpath, STREAM_MARKET, k, 0))
                    + jump_ln_m)
            multiple = math.exp(ln_m)
        value = multiple * total
        # ---- financing, then bankruptcy
        if p.financing_enabled and cash < p.fin_floor:
            if (_uniform(key0, key1, flip, counter(dpath, STREAM_FINANCING, k, 0))
                    < fin_probability_a[step_regime]):
                holders *= value / (value + p.fin_amount)
                cash += p.fin_amount
        if cash < 0.0:
            bankrupt_step = t_next
            value = 0.0
        # ---- market-path statistics
        if value < min_value:
            min_value = value
        if value > peak:
            peak = value
        elif value < peak:
            drawdown = 1.0 - value / peak
            if drawdown > max_drawdown:
                max_drawdown = drawdown
        if collapse_step < 0 and value <= p.collapse_level:
            collapse_step = t_next
        series[SERIES_TOTAL_REVENUE, row, t_next] = total
        series[SERIES_COMMERCIAL_REVENUE, row, t_next] = commercial
        series[SERIES_CONTRACT_REVENUE, row, t_next] = contracts
        series[SERIES_MARKET_SHARE, row, t_next] = share
        series[SERIES_CAPACITY, row, t_next] = capacity
        series[SERIES_CASH, row, t_next] = cash
        series[SERIES_MARKET_VALUE, row, t_next] = value
        for j in range(p.n_named):
            active[row, j, t_next] = 1 if c_state[row, j] == STATE_ACTIVE else 0
        regimes[row, t_next] = regime
        if bankrupt_step >= 0:
            last_step = t_next
            break
    # ---- after bankruptcy nothing further happens: the firm has no revenue, cash or value
    for k in range(last_step + 1, n_steps + 1):
        for s in range(N_SERIES):
            series[s, row, k] = 0.0
        series[SERIES_CAPACITY, row, k] = capacity
        series[SERIES_MARKET_SHARE, row, k] = 0.0 if p.tam_enabled else np.nan
        for j in range(p.n_named):
            active[row, j, k] = 0
        for j in range(p.n_named + 1):
            sources[j, row, k] = 0.0
        # the macro regime does not end with the company
        regime = _next_regime(p.regime_enabled, switch_probability[regime], mkey0, mkey1, flip,
                              dpath, k - 1, regime)
        regimes[row, k] = regime
    # ---- fundamental value
    exit_multiple = p.exit_median
    if p.exit_dispersion > 0.0:
        exit_multiple *= math.exp(p.exit_dispersion
                                  * _normal(key0, key1, flip, counter(dpath, STREAM_PATH, 0, 1)))
    if bankrupt_step >= 0:
        pv = 0.0
        if p.recovery > 0.0:
            tv = _terminal_value(p.terminal_method, p.terminal_factor, p.tax_rate, p.capex_ratio,
                                p.gordon_factor, revenue_flow, ebitda_flow, exit_multiple)
            if tv > 0.0:
                pv = holders * p.recovery * discount_a[bankrupt_step] * tv
    else:
        tv = _terminal_value(p.terminal_method, p.terminal_factor, p.tax_rate, p.capex_ratio,
                             p.gordon_factor, revenue_flow, ebitda_flow, exit_multiple)
        pv = holders * discount_a[n_steps] * (tv + cash) - p.net_debt
        if p.limited_liability and pv < 0.0:
            pv = 0.0
    scalars[SCALAR_PV, row] = pv
    scalars[SCALAR_TERMINAL_REVENUE, row] = revenue_flow / dt if bankrupt_step < 0 else 0.0
    scalars[SCALAR_MIN_VALUE, row] = min_value
    scalars[SCALAR_MAX_DRAWDOWN, row] = max_drawdown
    steps_lived = last_step
    scalars[SCALAR_SLOWDOWN_SHARE, row] = slowdown_steps / steps_lived if steps_lived else 0.0
    scalars[SCALAR_HOLDERS_FRACTION, row] = holders
    counts[COUNT_COLLAPSE_STEP, row] = collapse_step
    counts[COUNT_BANKRUPT_STEP, row] = bankrupt_step
    counts[COUNT_CHIP_SHOCKS, row] = n_shocks
    counts[COUNT_CONTRACTS_LOST, row] = n_lost
    counts[COUNT_CONTRACTS_WON, row] = n_won
    counts[COUNT_RENEWAL_DECISIONS, row] = n_decisions


@njit(cache=True, parallel=True)
def simulate_chunk(p, key0, key1, mkey0, mkey1, path0, series, scalars, counts, active, regimes,
                   sources, c_state, c_rev, c_next):
    """Simulate paths ``path0 .. path0 + n - 1`` of one scenario.

    Parameters
    ----------
    p : KernelParams
    key0, key1 : uint64
        Keys of the company's own random numbers.
    mkey0, mkey1 : uint64
        Keys of the macro draws shared by the companies of a panel: the regime switches and
        the arrival and size of chip-supply shocks (equal to key0, key1 for one company).
    path0 : int
        Global index of the first path of the chunk.
    series : ndarray of shape (N_SERIES, n, n_steps + 1)
    scalars : ndarray of shape (N_SCALARS, n)
    counts : ndarray of int64, shape (N_COUNTS, n)
    active : ndarray of int8, shape (n, n_named, n_steps + 1)
        Whether each named contract is active at each time.
    regimes : ndarray of int8, shape (n, n_steps + 1)
        Macro regime at each time (0 normal, 1 slowdown).
    sources : ndarray of shape (n_named + 1, n, n_steps + 1)
        Delivered revenue run-rate of each named contract, then of the expansion pool.
    c_state, c_rev, c_next : ndarray of shape (n, n_slots)
        Scratch for the contracts' state (int8), revenue (float64) and next event step (int64).

    Notes
    -----
    Compiled by numba; ``prange`` over paths, each iteration writes only its own row, so the
    output does not depend on the number of threads.
    """
    n = scalars.shape[1]
    for i in prange(n):
        _simulate_path(p, key0, key1, mkey0, mkey1, path0 + i, i, series, scalars, counts,
                       active, regimes, sources, c_state, c_rev, c_next)


# ------------------------------------------------------------------------------------------
# Streaming reductions (integer counts only, so the order of paths does not matter)


@njit(cache=True)
def bin_index(x, log_low, bins_per_decade, n_side):
    """Bin of ``x`` on the signed log grid: negatives, a zero bin, positives."""
    ax = abs(x)
    if not (ax >= 10.0 ** log_low):  # zero, tiny or NaN
        return n_side
    b = int(math.floor((math.log10(ax) - log_low) * bins_per_decade))
    if b >= n_side:
        b = n_side - 1
    if x > 0.0:
        return n_side + 1 + b
    return n_side - 1 - b


@njit(cache=True, parallel=True)
def histogram_series(series, hist, log_low, bins_per_decade, n_side):
    """Add ``series[s, i, k]`` to ``hist[s, k, bin]``.

    The work is split into units of one series and about eight consecutive times, each
    read path by path along memory (a path's times are contiguous: reading one time of every
    path would load a cache line per value) and each owning its rows of ``hist``, so the
    counts do not depend on the split or the threads.
    """
    n_series, n, n_times = series.shape
    parts = max(1, n_times // 8)
    for unit in prange(n_series * parts):
        s = unit // parts
        part = unit % parts
        k0 = part * n_times // parts
        k1 = (part + 1) * n_times // parts
        for i in range(n):
            for k in range(k0, k1):
                x = series[s, i, k]
                if not math.isnan(x):
                    hist[s, k, bin_index(x, log_low, bins_per_decade, n_side)] += 1


@njit(cache=True)
def histogram_values(values, hist, log_low, bins_per_decade, n_side):
    """Add ``values[i]`` to ``hist[bin]``."""
    for i in range(values.shape[0]):
        hist[bin_index(values[i], log_low, bins_per_decade, n_side)] += 1


@njit(cache=True, parallel=True)
def count_at_least(series, level, out):
    """``out[k] += #{i: series[i, k] >= level}`` (prange over times)."""
    n, n_times = series.shape
    for k in prange(n_times):
        c = 0
        for i in range(n):
            if series[i, k] >= level:
                c += 1
        out[k] += c


@njit(cache=True, parallel=True)
def count_pairs_at_least(series, level, out):
    """``out[k] += #{pairs (2i, 2i + 1): both series[., k] >= level}`` (prange over times)."""
    n, n_times = series.shape
    for k in prange(n_times):
        c = 0
        for i in range(0, n - 1, 2):
            if series[i, k] >= level and series[i + 1, k] >= level:
                c += 1
        out[k] += c


@njit(cache=True, parallel=True)
def rng_only_chunk(p, key0, key1, mkey0, mkey1, path0, shocks, wins, decisions, out):
    """Draw the random numbers the engine draws for paths ``path0 ..``, and nothing else.

    Every per-step draw the engine makes unconditionally (revenue and growth normals, and the
    chip, expansion, regime and market draws of the drivers switched on), plus, per path, the
    conditional draws whose number the engine reported: two per chip shock, one per
    contract won, two per renewal decision (and one copula factor each). Their sum goes to
    ``out`` so nothing is optimised away. For benchmarks only (compiled by numba).
    """
    for i in prange(out.shape[0]):
        path = path0 + i
        dpath = path >> 1 if p.antithetic else path
        flip = p.antithetic and (path & 1) == 1
        acc = 0.0
        for k in range(p.n_steps):
            acc += _normal(key0, key1, flip, counter(dpath, STREAM_REVENUE, k, 0))
            acc += _normal(key0, key1, flip, counter(dpath, STREAM_GROWTH, k, 0))
            if p.chips_enabled:
                acc += _uniform(mkey0, mkey1, flip, counter(dpath, STREAM_CHIPS, k, 0))
            if p.expansion_enabled:
                acc += _uniform(key0, key1, flip, counter(dpath, STREAM_EXPANSION, k, 0))
            if p.regime_enabled:
                acc += _uniform(mkey0, mkey1, flip, counter(dpath, STREAM_REGIME, k, 0))
            if p.market_enabled:
                acc += _normal(key0, key1, flip, counter(dpath, STREAM_MARKET, k, 0))
        for j in range(shocks[i]):
            acc += _uniform(mkey0, mkey1, flip, counter(dpath, STREAM_CHIPS, j % 16, 1))
            acc += _normal(key0, key1, flip, counter(dpath, STREAM_CHIPS, j % 16, 2))
        for j in range(wins[i]):
            acc += _normal(key0, key1, flip, counter(dpath, STREAM_POOL0 + j, 0, 3))
        for j in range(decisions[i]):
            acc += _normal(key0, key1, flip, counter(dpath, STREAM_COPULA, j % 16, 0))
            acc += _normal(key0, key1, flip, counter(dpath, STREAM_CONTRACT0, j % 16, 0))
            acc += _normal(key0, key1, flip, counter(dpath, STREAM_CONTRACT0, j % 16, 1))
        out[i] = acc
