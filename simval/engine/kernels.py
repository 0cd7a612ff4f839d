"""Every numba-compiled function of simval, and nothing else.

The kernels are pure functions of the :class:`simval.model.params.KernelParams` tuples, two
64-bit keys and a range of global path indices; they write into preallocated arrays. Random
numbers are drawn inside the kernel from a counter-based generator, so every draw is a pure
function of ``(seed, path, stream, step, slot)`` and the results do not depend on the number of
threads, the chunking or the machine (see ``docs/model.md``, "Random numbers"). The counter's
fields, the stream ids and the rows of the outputs are those of :mod:`simval.layout`.

Per-path step logic is plain scalar code (no allocation, no Python objects), so it could be
compiled for a GPU unchanged. All functions use ``cache=True``; kernels live in this one file
because numba's cache does not notice edits to functions imported from other files (nor to
imported constants: see ``_LAYOUT_DIGEST`` for how an edit of the layout is caught).
"""

from __future__ import annotations

import math
import zlib

import numpy as np
from numba import njit, prange, types
from numba.core.errors import TypingError
from numba.extending import overload

from simval import layout
from simval.layout import (
    COUNT_BANKRUPT_STEP,
    COUNT_CHIP_SHOCKS,
    COUNT_COLLAPSE_STEP,
    COUNT_CONTRACTS_LOST,
    COUNT_CONTRACTS_WON,
    COUNT_FUNDAMENTAL_COLLAPSE_STEP,
    COUNT_RENEWAL_DECISIONS,
    DESIGN_ALIVE,
    DESIGN_HOLDERS,
    MAX_EVENTS_IN_STEP,
    N_BASIS,
    N_SERIES,
    PATH_SHIFT,
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
    SLOT_SHIFT,
    STATE_ACTIVE,
    STATE_AWAITING,
    STATE_DORMANT,
    STATE_LOST,
    STEP_SHIFT,
    STREAM_BUDGET,
    STREAM_CHIPS,
    STREAM_CONTRACT0,
    STREAM_COPULA,
    STREAM_EXPANSION,
    STREAM_FINANCING,
    STREAM_GROWTH,
    STREAM_MARKET,
    STREAM_PATH,
    STREAM_POOL0,
    STREAM_REGIME,
    STREAM_REVENUE,
    STREAM_SHIFT,
)

# ------------------------------------------------------------------------------------------
# numba compiles the constants of simval.layout into the kernels, but its cache is keyed on
# this file alone (modification time and size): it does not see an edit to the layout. So this
# file records the digest of the layout it was compiled against; after an edit to the layout
# the import fails until the digest is updated here, and that edit of this file is what makes
# numba recompile the kernels.

_LAYOUT_DIGEST = 0x348728e5


def _layout_digest() -> int:
    """CRC-32 of the integer constants of :mod:`simval.layout`."""
    constants = sorted((name, value) for name, value in vars(layout).items()
                       if name.isupper() and isinstance(value, int))
    return zlib.crc32(repr(constants).encode())


if _layout_digest() != _LAYOUT_DIGEST:
    raise ImportError(f"simval/layout.py has changed since the kernels were written: set "
                      f"_LAYOUT_DIGEST in {__file__} to {_layout_digest():#010x}, which makes "
                      "numba recompile them")

# ------------------------------------------------------------------------------------------
# Counter-based random numbers: SplitMix64's output function keyed twice, applied to the
# counter of simval.layout (path, stream, step and slot in disjoint bit fields; bit 63 is 0).
# Normals come from a ziggurat whose rejections re-key the same counter (see `normal`), so
# every draw is a function of its counter alone. Distinct (path, stream, step, slot) give
# distinct counters, and the keyed mix is a bijection of the counter for a fixed key, so
# streams cannot overlap.

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_M53 = 1.0 / 9007199254740992.0
_TWO_M52 = 2.0 * _TWO_M53


@njit(cache=True)
def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def counter(path, stream, step, slot):
    """64-bit counter of one draw (:mod:`simval.layout`)."""
    return ((np.uint64(path) << np.uint64(PATH_SHIFT))
            | (np.uint64(stream) << np.uint64(STREAM_SHIFT))
            | (np.uint64(step) << np.uint64(STEP_SHIFT))
            | (np.uint64(slot) << np.uint64(SLOT_SHIFT)))


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
# The path simulator: one function per path (`_simulate_path`), which reads as the sequence
# of the model's drivers in a step, each computed by an inlined helper below.
#
# The helpers take scalars, never the parameter tuple or an array: numba binds the arguments
# of an inlined function to new variables, and every array so bound (and every array in a
# tuple) costs two atomic reference-count updates per call, which inside the step loop cost
# more than the arithmetic (and made threads contend for the same counters). They may return
# tuples of scalars. The loops over contract slots, which read and write arrays, therefore
# stay in `_simulate_path`; the helpers decide what happens to one slot. (The one exception,
# `_fill_after_bankruptcy`, runs at most once per path, after the step loop.) Each helper
# draws its own random numbers: ``key0, key1`` (or the macro keys), ``flip`` (antithetic),
# ``dpath`` (the path index of the draws) and the step ``k`` address them (docs/model.md,
# stream table).

def _constant(flag):
    """The value of a literal bool argument (a constant at the call site) as a compile-time
    constant: a branch on it is folded away (a literal argument is otherwise passed at run
    time)."""
    raise NotImplementedError("only callable from compiled code")


@overload(_constant, inline="always")
def _overload_constant(flag):
    if not isinstance(flag, types.BooleanLiteral):
        raise TypingError(f"_constant needs a literal bool; got {flag}")
    value = flag.literal_value
    return lambda flag: value


_RENEWED = 0  # outcomes of a renewal decision
_REPLACEMENT_AWAITED = 1
_LOST_FOR_GOOD = 2


@njit(cache=True, inline="always")
def _revenue_step(key0, key1, flip, dpath, k, ln_r, mu, sigma, eta, mu_bar, rho, rho_perp,
                  lambda_r, lambda_mu, mu_decay, mu_price_factor, mu_vol_factor, dt, sqrt_dt):
    """Commercial revenue over step k (Schwartz-Moon): the log run-rate ``ln_r`` moves by an
    Euler step with drift ``mu`` and volatility ``sigma``, and ``mu`` by an exact OU step
    toward the regime's ``mu_bar``; the shocks are ``e1 = N(REVENUE)`` and
    ``e2 = rho e1 + rho_perp N(GROWTH)``. Returns ``(ln_r, mu)`` at t_{k+1}."""
    e1 = _normal(key0, key1, flip, counter(dpath, STREAM_REVENUE, k, 0))
    e2 = _normal(key0, key1, flip, counter(dpath, STREAM_GROWTH, k, 0))
    e2 = rho * e1 + rho_perp * e2
    ln_r += (mu - lambda_r * sigma - 0.5 * sigma * sigma) * dt + sigma * sqrt_dt * e1
    mu = (mu_bar + (mu - mu_bar) * mu_decay - lambda_mu * eta * mu_price_factor
          + eta * mu_vol_factor * e2)
    return ln_r, mu


@njit(cache=True, inline="always")
def _chip_step(key0, key1, mkey0, mkey1, flip, dpath, k, capacity, recovery_factor,
               shock_mean, shock_p0, haircut_kind, haircut_low, haircut_high, jump_ln_median,
               jump_dispersion):
    """Chip supply over step k: the capacity recovers toward 1, then a Poisson number of
    export-control shocks (arrival and haircut drawn under the macro keys) each cut it by a
    haircut (fixed, or uniform between ``haircut_low`` and ``haircut_high``) and add a
    lognormal jump to the log market multiple (the company's own draw). Returns
    ``(capacity, shocks, jump)``; the capacity is at least 1e-12."""
    capacity = 1.0 - (1.0 - capacity) * recovery_factor
    u = _uniform(mkey0, mkey1, flip, counter(dpath, STREAM_CHIPS, k, 0))
    n_new = _poisson(u, shock_mean, shock_p0, MAX_EVENTS_IN_STEP)
    jump_ln_m = 0.0
    for i in range(n_new):
        if haircut_kind == 0:
            haircut = haircut_low
        else:
            haircut = haircut_low + (haircut_high - haircut_low) * _uniform(
                mkey0, mkey1, flip, counter(dpath, STREAM_CHIPS, k, 1 + 2 * i))
        capacity *= 1.0 - haircut
        jump_ln_m += jump_ln_median + jump_dispersion * _normal(
            key0, key1, flip, counter(dpath, STREAM_CHIPS, k, 2 + 2 * i))
    if capacity < 1e-12:
        capacity = 1e-12
    return capacity, n_new, jump_ln_m


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
def _delivered(revenue, shared_beta, contract_factor, capacity, elasticity):
    """Revenue a contract delivers at capacity ``capacity``: its contracted revenue times
    c ** beta_j (``contract_factor`` when every contract shares one elasticity)."""
    return revenue * (contract_factor if shared_beta
                      else _capacity_factor(capacity, elasticity))


@njit(cache=True, inline="always")
def _copula_factor(key0, key1, flip, dpath, k):
    """The renewals' common factor ``Z_k`` (drawn only in a step with a renewal)."""
    return _normal(key0, key1, flip, counter(dpath, STREAM_COPULA, k, 0))


@njit(cache=True, inline="always")
def _budget_step(key0, key1, flip, dpath, k, b, mean, decay, vol):
    """The renewals' budget factor over step k: an exact OU step toward the regime's
    ``mean`` with unit stationary variance, ``b_{k+1} = m + (b_k - m) decay + vol N(BUDGET, k,
    0)``. (b_0 = m + N(BUDGET, 0, 1) is drawn at t_0.)"""
    return mean + (b - mean) * decay + vol * _normal(key0, key1, flip,
                                                     counter(dpath, STREAM_BUDGET, k, 0))


@njit(cache=True, inline="always")
def _renewal(key0, key1, flip, dpath, k, stream, z_common, budget_term, copula_a, copula_b,
             threshold, price_median, price_dispersion, replacement):
    """A contract's renewal decision at the end of step k (Gaussian copula with the step's
    factor ``Z_k`` and the budget factor, ``budget_term = sqrt(rho_b) b_{k+1}``, 0 when off):
    renewed when ``copula_a Z_k - budget_term + copula_b N(stream, k, 0)`` is below
    ``threshold``, at a price
    changed by a lognormal factor; if not, replaced after a delay with probability
    ``replacement``. Returns ``(outcome, price factor)``, the outcome one of ``_RENEWED``,
    ``_REPLACEMENT_AWAITED``, ``_LOST_FOR_GOOD``."""
    latent = (copula_a * z_common - budget_term
              + copula_b * _normal(key0, key1, flip, counter(dpath, stream, k, 0)))
    if latent < threshold:
        return _RENEWED, price_median * math.exp(
            price_dispersion * _normal(key0, key1, flip, counter(dpath, stream, k, 1)))
    if (replacement > 0.0
            and _uniform(key0, key1, flip, counter(dpath, stream, k, 2)) < replacement):
        return _REPLACEMENT_AWAITED, 1.0
    return _LOST_FOR_GOOD, 1.0


@njit(cache=True, inline="always")
def _contract_step(key0, key1, flip, dpath, k, stream, state, revenue, next_step, z_common,
                   z_drawn, budget_term, escalation, term_steps, delay_steps, copula_a, copula_b,
                   threshold, price_median, price_dispersion, replacement):
    """One contract slot over step k: an active or awaited contract's revenue escalates; at
    the end of its term an active one is renewed or lost (:func:`_renewal`; the common factor
    ``z_common`` is drawn by the first decision of the step, ``z_drawn`` says whether it has
    been; ``budget_term`` is the budget factor's part of the latent); at the end of its delay
    an awaited replacement starts. Returns ``(state, revenue, next_step, decided, z_common,
    z_drawn)``, ``decided`` whether a renewal was decided."""
    t_next = k + 1
    decided = False
    if state == STATE_ACTIVE or state == STATE_AWAITING:  # noqa: SIM109 (numba)
        revenue *= escalation
    if state == STATE_ACTIVE and next_step == t_next:
        if not z_drawn:
            z_common = _copula_factor(key0, key1, flip, dpath, k)
            z_drawn = True
        decided = True
        outcome, price_factor = _renewal(key0, key1, flip, dpath, k, stream, z_common,
                                         budget_term, copula_a, copula_b, threshold,
                                         price_median, price_dispersion, replacement)
        if outcome == _RENEWED:
            revenue *= price_factor
            next_step = t_next + term_steps
        elif outcome == _REPLACEMENT_AWAITED:
            state = STATE_AWAITING
            next_step = t_next + delay_steps
        else:
            state = STATE_LOST
    elif state == STATE_AWAITING and next_step == t_next:
        state = STATE_ACTIVE
        next_step = t_next + term_steps
    return state, revenue, next_step, decided, z_common, z_drawn


@njit(cache=True, inline="always")
def _win_count(key0, key1, flip, dpath, k, win_mean, win_p0, pool_left):
    """Contracts the expansion programme wins during step k: Poisson, capped at
    ``MAX_EVENTS_IN_STEP`` and at what is left in the pool."""
    u = _uniform(key0, key1, flip, counter(dpath, STREAM_EXPANSION, k, 0))
    n_new = _poisson(u, win_mean, win_p0, MAX_EVENTS_IN_STEP)
    return pool_left if n_new > pool_left else n_new


@njit(cache=True, inline="always")
def _won_revenue(key0, key1, flip, dpath, k, stream, median, dispersion):
    """Lognormal contracted revenue of a contract won in step k (pool slot ``stream``)."""
    return median * math.exp(dispersion * _normal(key0, key1, flip,
                                                  counter(dpath, stream, k, 3)))


@njit(cache=True, inline="always")
def _next_regime(enabled, switch_probability, key0, key1, flip, dpath, k, regime):
    """Regime at t_{k+1} given the regime of step k (two-state chain; ``switch_probability``
    is the probability of leaving ``regime`` in the step)."""
    if enabled:
        u = _uniform(key0, key1, flip, counter(dpath, STREAM_REGIME, k, 0))
        if u < switch_probability:
            return 1 - regime
    return regime


@njit(cache=True, inline="always")
def _slowdown_jump(key0, key1, flip, dpath, k, ln_median, dispersion):
    """Jump of the log market multiple when the economy enters a slowdown in step k."""
    return ln_median + dispersion * _normal(key0, key1, flip,
                                            counter(dpath, STREAM_MARKET, k, 1))


@njit(cache=True, inline="always")
def _commercial(tam_enabled, cap_contracts, max_share, tam, ln_r, capacity_factor,
                contracts):
    """Delivered commercial revenue run-rate, market share and the factor ``scale`` the
    contracts' delivered revenue must be multiplied by, given the capacity factor c ** beta,
    the contracts' delivered revenue ``contracts`` and the market ``tam`` (the share is NaN
    without a market). The cap ``max_share tam`` cuts commercial revenue only (``scale`` = 1),
    or, with ``cap_contracts``, scales commercial and contract revenue alike."""
    commercial = math.exp(ln_r) * capacity_factor
    share = np.nan
    scale = 1.0
    if tam_enabled:
        if cap_contracts:
            cap = max_share * tam
            if commercial + contracts > cap:
                scale = cap / (commercial + contracts)
                commercial *= scale
            share = (commercial + contracts * scale) / tam
        else:
            room = max_share * tam - contracts
            if room < 0.0:
                room = 0.0
            if commercial > room:
                commercial = room
            share = (commercial + contracts) / tam
    return commercial, share, scale


@njit(cache=True, inline="always")
def _operating_flows(timing_start, prev_total, total, prev_contracts, contracts,
                     capacity_before, capacity, fixed_start, fixed_end, opex_start, opex_end, dt,
                     alpha, gamma, contract_alpha_extra, sbc_expense, maintenance):
    """The flows of a step, from the run-rates at its start (``timing_start``) or its end.

    Returns ``(revenue, contract revenue, EBITDA, EBIT)``: the cost of revenue is ``alpha +
    gamma (1 - c)`` of all revenue plus ``contract_alpha_extra`` of contract revenue (its own
    cost ratio), then the fixed costs, the operating expenses ``o(t)`` and SBC treated as an
    expense (ratios of revenue); EBIT subtracts maintenance capex as D&A. With the v2 extras
    at 0 the EBITDA is the v1 one, bit for bit (each extra subtracts an exact 0.0)."""
    if timing_start:
        revenue_flow = prev_total * dt
        contract_flow = prev_contracts * dt
        alpha = alpha + gamma * (1.0 - capacity_before)
        fixed_flow = fixed_start * dt
        opex = opex_start
    else:
        revenue_flow = total * dt
        contract_flow = contracts * dt
        alpha = alpha + gamma * (1.0 - capacity)
        fixed_flow = fixed_end * dt
        opex = opex_end
    ebitda = (revenue_flow * (1.0 - alpha) - fixed_flow - contract_alpha_extra * contract_flow
              - (opex + sbc_expense) * revenue_flow)
    return revenue_flow, contract_flow, ebitda, ebitda - maintenance * revenue_flow


@njit(cache=True, inline="always")
def _cash_step(cash, losses, revenue_flow, ebit_flow, rf, dt, tax_rate, capex_ratio,
               interest_flow, growth_capital):
    """Cash and tax-loss carry-forward after a step: interest earned on cash and paid on debt
    (both taxable / deductible), tax on income beyond the losses carried forward, v1 capex and
    the growth reinvestment (neither deductible). Returns ``(cash, losses)``."""
    income = ebit_flow + rf * cash * dt - interest_flow
    tax = 0.0
    if income <= 0.0 or income <= losses:
        losses -= income
    else:
        tax = tax_rate * (income - losses)
        losses = 0.0
    cash += income - tax - capex_ratio * revenue_flow - growth_capital
    return cash, losses


@njit(cache=True, inline="always")
def _market_step(key0, key1, flip, dpath, k, ln_m, ln_m_bar, decay, vol, jump_ln_m):
    """Log market multiple at t_{k+1}: exact log-OU step toward the regime's ``ln_m_bar``,
    plus the step's jumps (chip shocks, entering a slowdown)."""
    return (ln_m_bar + (ln_m - ln_m_bar) * decay
            + vol * _normal(key0, key1, flip, counter(dpath, STREAM_MARKET, k, 0))
            + jump_ln_m)


@njit(cache=True)
def _diluted(holders, value, paid):
    """Today's holders' fraction after shares worth ``paid`` are issued at ``value``. Not
    inlined: inlined, the compiler turns the branch around it into a select and divides at
    every step of every path, whether shares are issued or not."""
    return holders * (value / (value + paid))


@njit(cache=True, inline="always")
def _financing(key0, key1, flip, dpath, k, cash, holders, value, probability, amount):
    """A raise of ``amount`` at the market value, which succeeds with ``probability`` and
    dilutes today's holders. Returns ``(cash, holders)``."""
    if (_uniform(key0, key1, flip, counter(dpath, STREAM_FINANCING, k, 0))
            < probability):
        holders *= value / (value + amount)
        cash += amount
    return cash, holders


@njit(cache=True, inline="always")
def _value_statistics(value, min_value, peak, max_drawdown):
    """Running minimum, peak and largest drawdown of the market value.
    Returns ``(min_value, peak, max_drawdown)``.

    Without branches: whether a value is a new low, a new peak or a drawdown is as good as
    random, and a mispredicted branch costs more than the division done at every step. A new
    drawdown counts only below the peak before this value (NaN changes nothing)."""
    drawdown = 1.0 - value / peak
    min_value = value if value < min_value else min_value
    max_drawdown = drawdown if value < peak and drawdown > max_drawdown else max_drawdown
    peak = value if value > peak else peak
    return min_value, peak, max_drawdown


@njit(cache=True, inline="always")
def _path_multiplier(key0, key1, flip, dpath, slot, dispersion):
    """A lognormal multiplier with median 1 drawn once per path (TAM: slot 0, exit: 1)."""
    if dispersion > 0.0:
        return math.exp(dispersion * _normal(key0, key1, flip, counter(dpath, STREAM_PATH, 0,
                                                                       slot)))
    return 1.0


@njit(cache=True, inline="always")
def _exit_multiple(median, path_multiplier, state_dependent, growth_slope, margin_slope, growth,
                   ref_growth, margin, ref_margin):
    """The path's exit multiple: the median times the path's lognormal noise and, when the
    multiple depends on the state, ``exp(b_g (mu_T - mu_ref) + b_m (m_T - m_ref))``."""
    multiple = median * path_multiplier
    if state_dependent:
        multiple *= math.exp(growth_slope * (growth - ref_growth)
                             + margin_slope * (margin - ref_margin))
    return multiple


@njit(cache=True, inline="always")
def _terminal_value(method, factor, tax_rate, capex_ratio, gordon_factor, reinvestment_factor,
                    revenue_flow, contract_flow, ebitda_flow, ebit_flow, exit_multiple,
                    contract_exit_multiple):
    """Terminal value from the last step's flows per year (``factor`` = steps per year) or
    per step: exit multiples of revenue (contract revenue at its own multiple when it has one)
    or of EBITDA, Gordon on FCF (EBIT less tax less capex), or the value-driver perpetuity of
    NOPAT less the reinvestment g / ROIC (0 when NOPAT is not positive: the business would be
    closed)."""
    if method == 0:
        if contract_exit_multiple > 0.0:
            return (exit_multiple * (revenue_flow - contract_flow)
                    + contract_exit_multiple * contract_flow) * factor
        return exit_multiple * revenue_flow * factor
    if method == 1:
        return exit_multiple * ebitda_flow * factor
    if method == 2:  # EBIT: EBITDA less maintenance capex as D&A (equal under v1)
        tax = tax_rate * ebit_flow if ebit_flow > 0.0 else 0.0
        fcf = ebit_flow - tax - capex_ratio * revenue_flow
        return fcf * factor * gordon_factor
    if ebit_flow <= 0.0:
        return 0.0
    return (1.0 - tax_rate) * ebit_flow * factor * reinvestment_factor * gordon_factor


@njit(cache=True, inline="always")
def _fill_basis(basis, total, revenue_ref, mu, cash, contracts, margin, regime, capacity):
    """The basis functions of the state at one time (the order of ``layout.BASIS_NAMES``)."""
    s = total / revenue_ref
    m = -5.0 if margin < -5.0 else margin  # min(max(margin, -5), 1), as numba's min and
    m = 1.0 if m > 1.0 else m  # max select, but inlined (they are calls)
    g = 1.0 if regime == 1 else 0.0
    basis[0] = 1.0
    basis[1] = s
    basis[2] = s * s
    basis[3] = math.sqrt(s) if s > 0.0 else 0.0
    basis[4] = s * mu
    basis[5] = s * mu * mu
    basis[6] = mu
    basis[7] = cash / revenue_ref
    basis[8] = contracts / revenue_ref
    basis[9] = s * m
    basis[10] = g
    basis[11] = s * g
    basis[12] = capacity
    basis[13] = s * capacity


@njit(cache=True, inline="always")
def _fitted_value(coefficients, k, basis, holders):
    """The holders' fraction times the fitted value of all the shares outstanding at t_k,
    floored at zero (equity's limited liability)."""
    fit = 0.0
    for j in range(N_BASIS):
        fit += coefficients[k, j] * basis[j]
    return holders * fit if fit > 0.0 else 0.0


@njit(cache=True, inline="always")
def _record_state(design, row, k, basis, holders, alive):
    """The pilot's design row of path ``row`` at time ``k`` (``design[:, k, row]``: time-major,
    so the regression at t_k reads each row of the basis along memory)."""
    for j in range(N_BASIS):
        design[j, k, row] = basis[j]
    design[DESIGN_HOLDERS, k, row] = holders
    design[DESIGN_ALIVE, k, row] = 1.0 if alive else 0.0


@njit(cache=True, inline="always")
def _present_value(bankrupt, tv, cash, holders, discount, recovery, net_debt, debt,
                   option_factor, limited_liability):
    """Today's holders' share of the path's value: the discounted terminal value and cash less
    the debt repaid at the horizon, less net debt (at least 0 with limited liability), times
    the share left after the option overhang; after a bankruptcy, the recovered fraction of
    the terminal value (``discount`` is the factor of the path's last time)."""
    if bankrupt:
        if recovery > 0.0 and tv > 0.0:
            return option_factor * holders * recovery * discount * tv
        return 0.0
    pv = option_factor * (holders * discount * (tv + cash - debt) - net_debt)
    if limited_liability and pv < 0.0:
        pv = 0.0
    return pv


@njit(cache=True, inline="always")
def _fill_after_bankruptcy(series, active, sources, regimes, row, last_step, n_steps, n_named,
                           capacity, tam_enabled, regime_enabled, switch_probability, mkey0,
                           mkey1, flip, dpath, regime, value_model):
    """Times after a bankruptcy at ``last_step``: no revenue, cash or value (capacity frozen),
    while the macro regime goes on. Takes arrays: called at most once per path."""
    for k in range(last_step + 1, n_steps + 1):
        for s in range(N_SERIES):
            series[s, row, k] = 0.0
        series[SERIES_PRICE_TO_VALUE, row, k] = np.nan
        if not value_model:
            series[SERIES_FUNDAMENTAL_VALUE, row, k] = np.nan
        series[SERIES_CAPACITY, row, k] = capacity
        series[SERIES_MARKET_SHARE, row, k] = 0.0 if tam_enabled else np.nan
        for j in range(n_named):
            active[row, j, k] = 0
        for j in range(n_named + 1):
            sources[j, row, k] = 0.0
        regime = _next_regime(regime_enabled, switch_probability[regime], mkey0, mkey1, flip,
                              dpath, k - 1, regime)
        regimes[row, k] = regime


@njit(cache=True, error_model="numpy")
def _simulate_path(p, q, key0, key1, mkey0, mkey1, path, row, series, scalars, counts, active,
                   regimes, sources, design, basis_scratch, c_state, c_rev, c_next, plain):
    """One path: its series, scalars and counts in row ``row`` of the outputs (see
    :func:`simulate_chunk`), the contracts' scratch in row ``row`` of ``c_*``. ``plain`` (a
    literal, a constant of the caller) says that no driver beyond commercial revenue and cash
    is on: the kernel is compiled for it on its own (:func:`simulate_plain_chunk`)."""
    # the drivers switched on: in the plain specialisation, none (constants: the compiler
    # drops the drivers' code, and the step keeps its state in registers)
    if _constant(plain):
        tam_enabled = False
        budget_enabled = False
        chips_enabled = False
        expansion_enabled = False
        regime_enabled = False
        market_enabled = False
        financing_enabled = False
        value_model = False
        record_state = False
        n_named = 0
        n_slots = 0
        sbc_dilution = 0.0
    else:
        tam_enabled = p.tam_enabled
        budget_enabled = p.budget_enabled
        chips_enabled = p.chips_enabled
        expansion_enabled = p.expansion_enabled
        regime_enabled = p.regime_enabled
        market_enabled = p.market_enabled
        financing_enabled = p.financing_enabled
        value_model = q.value_model
        record_state = q.record_state
        n_named = p.n_named
        n_slots = p.n_slots
        sbc_dilution = q.sbc_dilution
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
    if tam_enabled:
        tam_multiplier = _path_multiplier(key0, key1, flip, dpath, 0, p.tam_dispersion)
    contracts = 0.0
    for j in range(n_slots):
        c_rev[row, j] = p.c_rev0[j]
        c_next[row, j] = c_first_step_a[j]
        c_state[row, j] = STATE_ACTIVE if j < n_named else STATE_DORMANT
        if j < n_named:  # capacity is 1 at t_0: delivered = contracted
            contracts += c_rev[row, j]
            sources[j, row, 0] = c_rev[row, j]
    sources[n_named, row, 0] = 0.0
    pool_left = p.pool_size
    budget_mean_a = p.budget_mean
    budget = 0.0  # the renewals' budget factor b_k (0 when off)
    if budget_enabled:
        budget = budget_mean_a[regime] + _normal(key0, key1, flip,
                                                 counter(dpath, STREAM_BUDGET, 0, 1))
    commercial, share, scale = _commercial(tam_enabled, p.cap_contracts, p.max_share,
                                           tam_grid[0] * tam_multiplier, ln_r,
                                           commercial_factor, contracts)
    if scale != 1.0:  # the cap scales the contracts too (market_size.cap_contracts)
        contracts *= scale
        for j in range(n_named):
            sources[j, row, 0] *= scale
    total = commercial + contracts
    # M_0 = V_0 / S_0 on this path (S_0 differs between paths when the TAM cap binds at t_0)
    ln_m = math.log(p.v0 / total) if total > 0.0 else 0.0
    # the value model: W_0 from the state at t_0 and B_0 = V_0 / W_0 (ln_m holds ln B)
    use_basis = value_model or record_state
    coefficients = q.value_coefficients
    basis = basis_scratch[row] if use_basis else basis_scratch[0]  # no allocation per path
    fundamental = np.nan
    fundamental_level = np.inf  # (1 - d) W_0: the fundamental collapse line
    if use_basis:
        _fill_basis(basis, total, q.revenue_ref, mu, cash, contracts, 0.0, regime, capacity)
        if record_state:
            _record_state(design, row, 0, basis, holders, True)
    if value_model:
        fundamental = _fitted_value(coefficients, 0, basis, holders)
        ln_m = math.log(p.v0 / fundamental) if fundamental > 0.0 else 0.0
        fundamental_level = p.collapse_level / p.v0 * fundamental
    multiple = math.exp(ln_m)  # constant without a market model
    value = p.v0
    fundamental_step = -1
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
    if value_model:  # without it both rows hold NaN from the buffers' allocation
        series[SERIES_FUNDAMENTAL_VALUE, row, 0] = fundamental
        series[SERIES_PRICE_TO_VALUE, row, 0] = multiple
    for j in range(n_named):
        active[row, j, 0] = 1
    regimes[row, 0] = regime
    revenue_flow = 0.0
    contract_flow = 0.0
    ebitda_flow = 0.0
    ebit_flow = 0.0
    prev_contracts = contracts
    revenue_peak = total  # the capacity capital has been bought for
    question_steps = q.question_steps
    opex_a = q.opex
    last_step = n_steps
    for k in range(n_steps):
        t_next = k + 1
        # ---- commercial revenue and its expected growth, in the regime of step k
        ln_r, mu = _revenue_step(key0, key1, flip, dpath, k, ln_r, mu, sigma_a[k], eta_a[k],
                                 mu_bar_a[regime], p.rho, p.rho_perp, p.lambda_r, p.lambda_mu,
                                 p.mu_decay, p.mu_price_factor, p.mu_vol_factor, dt, p.sqrt_dt)
        # ---- chip supply
        capacity_before = capacity
        jump_ln_m = 0.0
        if chips_enabled:
            capacity, n_new, jump_ln_m = _chip_step(
                key0, key1, mkey0, mkey1, flip, dpath, k, capacity, p.recovery_factor,
                chip_mean_a[regime], chip_p0_a[regime], p.haircut_kind, p.haircut_low,
                p.haircut_high, p.chip_jump_ln_median, p.chip_jump_dispersion)
            commercial_factor = _capacity_factor(capacity, p.beta)
            if shared_beta and n_slots > 0:
                contract_factor = _capacity_factor(capacity, c_beta[0])
            n_shocks += n_new
        # ---- contracts: escalation, renewals at t_{k+1}, and the revenue each delivers at
        # t_{k+1} (added up in slot order; pool slots from n_named + n_won on are unwon)
        z_common = 0.0
        z_drawn = False
        budget_term = 0.0
        if budget_enabled:  # b_{k+1}, in the regime of step k
            budget = _budget_step(key0, key1, flip, dpath, k, budget, budget_mean_a[regime],
                                  p.budget_decay, p.budget_vol)
            budget_term = p.budget_a * budget
        contracts = 0.0
        pool = 0.0
        for j in range(n_named + n_won):
            state, revenue, next_step, decided, z_common, z_drawn = _contract_step(
                key0, key1, flip, dpath, k, c_stream_a[j], c_state[row, j], c_rev[row, j],
                c_next[row, j], z_common, z_drawn, budget_term, c_escalation_a[j],
                c_term_steps_a[j], c_delay_steps_a[j], p.copula_a, p.copula_b,
                c_threshold_a[j, regime], c_price_median_a[j, regime], c_price_dispersion_a[j],
                c_replacement_a[j])
            c_state[row, j] = state
            c_rev[row, j] = revenue
            c_next[row, j] = next_step
            if decided:
                n_decisions += 1
                if state != STATE_ACTIVE:
                    n_lost += 1
            delivered = 0.0
            if state == STATE_ACTIVE:
                delivered = _delivered(revenue, shared_beta, contract_factor, capacity,
                                       c_beta[j])
                contracts += delivered
            if j < n_named:
                sources[j, row, t_next] = delivered
            else:
                pool += delivered
        # ---- expansion programme: wins during step k start at t_{k+1}
        if expansion_enabled and pool_left > 0:
            n_new = _win_count(key0, key1, flip, dpath, k, win_mean_a[regime], win_p0_a[regime],
                               pool_left)
            for _ in range(n_new):
                j = n_named + p.pool_size - pool_left
                c_state[row, j] = STATE_ACTIVE
                c_rev[row, j] = _won_revenue(key0, key1, flip, dpath, k, c_stream_a[j],
                                             p.win_median, p.win_dispersion)
                c_next[row, j] = t_next + c_term_steps_a[j]
                pool_left -= 1
                delivered = _delivered(c_rev[row, j], shared_beta, contract_factor, capacity,
                                       c_beta[j])
                contracts += delivered
                pool += delivered
            n_won += n_new
        sources[n_named, row, t_next] = pool
        # ---- macro regime: the chain moves at the end of the step; the regime of step k
        # (step_regime) sets every parameter of the step, the new one applies from t_{k+1}
        step_regime = regime
        if regime == 1:
            slowdown_steps += 1
        regime = _next_regime(regime_enabled, switch_probability[regime], mkey0, mkey1, flip,
                              dpath, k, regime)
        if regime == 1 and step_regime == 0:
            jump_ln_m += _slowdown_jump(key0, key1, flip, dpath, k, p.slow_jump_ln_median,
                                        p.slow_jump_dispersion)
        # ---- revenue at t_{k+1}, the flows of step k, cash
        prev_total = total
        commercial, share, scale = _commercial(tam_enabled, p.cap_contracts, p.max_share,
                                               tam_grid[t_next] * tam_multiplier, ln_r,
                                               commercial_factor, contracts)
        if scale != 1.0:  # the cap scales the contracts too (market_size.cap_contracts)
            contracts *= scale
            for j in range(n_named + 1):
                sources[j, row, t_next] *= scale
        total = commercial + contracts
        revenue_flow, contract_flow, ebitda_flow, ebit_flow = _operating_flows(
            p.timing_start, prev_total, total, prev_contracts, contracts, capacity_before,
            capacity, fixed_a[k], fixed_a[t_next], opex_a[k], opex_a[t_next], dt, p.alpha,
            p.gamma, q.contract_alpha_extra, q.sbc_expense, q.maintenance)
        # capital bought for revenue beyond any reached before (selects, not a branch: a new
        # peak of revenue is as good as random)
        new_peak = total > revenue_peak
        growth_capital = (total - revenue_peak) * q.inv_sales_to_capital if new_peak else 0.0
        revenue_peak = total if new_peak else revenue_peak
        cash, losses = _cash_step(cash, losses, revenue_flow, ebit_flow, p.rf, dt, p.tax_rate,
                                  p.capex_ratio, q.debt_interest_flow, growth_capital)
        prev_contracts = contracts
        # ---- market multiple and value
        if market_enabled:
            ln_m = _market_step(key0, key1, flip, dpath, k, ln_m, ln_m_bar_a[step_regime],
                                p.m_decay, m_vol_a[step_regime], jump_ln_m)
            multiple = math.exp(ln_m)
        if use_basis:  # the state at t_{k+1}, for W_{k+1} and the pilot's regression
            _fill_basis(basis, total, q.revenue_ref, mu, cash, contracts,
                        ebit_flow / revenue_flow if revenue_flow > 0.0 else 0.0, regime,
                        capacity)
        holders_at_value = holders  # W_{k+1} is valued before this step's dilution
        if value_model:  # V = B W, W today's holders' claim; new shares priced at B W / h
            per_share = _fitted_value(coefficients, t_next, basis, 1.0)
            fundamental = holders * per_share
            value = multiple * fundamental
            market_cap = multiple * per_share
        else:
            value = multiple * total
            market_cap = value
        # ---- SBC paid in new shares at the market value, then financing, then bankruptcy
        if sbc_dilution > 0.0 and market_cap > 0.0:
            holders = _diluted(holders, market_cap, sbc_dilution * revenue_flow)
        if financing_enabled and cash < p.fin_floor:
            cash, holders = _financing(key0, key1, flip, dpath, k, cash, holders, market_cap,
                                       fin_probability_a[step_regime], p.fin_amount)
        if cash < 0.0:
            bankrupt_step = t_next
            value = 0.0
            if value_model:
                fundamental = 0.0
        if record_state:  # W is 0 once the holders are wiped out: no regression needed
            _record_state(design, row, t_next, basis, holders_at_value,
                          bankrupt_step < 0 and holders_at_value > 0.0)
        # ---- market-path statistics (to the question horizon) and the outputs at t_{k+1}
        if t_next <= question_steps:
            min_value, peak, max_drawdown = _value_statistics(value, min_value, peak,
                                                              max_drawdown)
            if collapse_step < 0 and value <= p.collapse_level:
                collapse_step = t_next
            if fundamental_step < 0 and fundamental <= fundamental_level:
                fundamental_step = t_next
        series[SERIES_TOTAL_REVENUE, row, t_next] = total
        series[SERIES_COMMERCIAL_REVENUE, row, t_next] = commercial
        series[SERIES_CONTRACT_REVENUE, row, t_next] = contracts
        series[SERIES_MARKET_SHARE, row, t_next] = share
        series[SERIES_CAPACITY, row, t_next] = capacity
        series[SERIES_CASH, row, t_next] = cash
        series[SERIES_MARKET_VALUE, row, t_next] = value
        if value_model:
            series[SERIES_FUNDAMENTAL_VALUE, row, t_next] = fundamental
            series[SERIES_PRICE_TO_VALUE, row, t_next] = (
                multiple if bankrupt_step < 0 else np.nan)
        for j in range(n_named):
            active[row, j, t_next] = 1 if c_state[row, j] == STATE_ACTIVE else 0
        regimes[row, t_next] = regime
        if bankrupt_step >= 0:
            last_step = t_next
            break
    if last_step < n_steps:
        _fill_after_bankruptcy(series, active, sources, regimes, row, last_step, n_steps,
                               n_named, capacity, tam_enabled, regime_enabled,
                               switch_probability, mkey0, mkey1, flip, dpath, regime,
                               value_model)
    # ---- fundamental value
    margin = ebit_flow / revenue_flow if revenue_flow > 0.0 else 0.0
    exit_multiple = _exit_multiple(
        q.exit_median, _path_multiplier(key0, key1, flip, dpath, 1, q.exit_dispersion),
        q.exit_state, q.exit_growth_slope, q.exit_margin_slope, mu, q.exit_ref_growth, margin,
        q.exit_ref_margin)
    tv = _terminal_value(q.terminal_method, q.terminal_factor, p.tax_rate, p.capex_ratio,
                         q.gordon_factor, q.reinvestment_factor, revenue_flow, contract_flow,
                         ebitda_flow, ebit_flow, exit_multiple, q.contract_exit_multiple)
    bankrupt = bankrupt_step >= 0
    discount = discount_a[last_step]
    scalars[SCALAR_PV, row] = _present_value(bankrupt, tv, cash, holders, discount,
                                             q.recovery, q.net_debt, q.debt, q.option_factor,
                                             q.limited_liability)
    scalars[SCALAR_TERMINAL_VALUE_PV, row] = (
        0.0 if bankrupt else q.option_factor * holders * discount * tv)
    scalars[SCALAR_TERMINAL_MARGIN, row] = np.nan if bankrupt else margin
    scalars[SCALAR_TERMINAL_GROWTH, row] = np.nan if bankrupt else mu
    scalars[SCALAR_TERMINAL_REVENUE, row] = 0.0 if bankrupt else revenue_flow / dt
    scalars[SCALAR_MIN_VALUE, row] = min_value
    scalars[SCALAR_MAX_DRAWDOWN, row] = max_drawdown
    scalars[SCALAR_SLOWDOWN_SHARE, row] = slowdown_steps / last_step if last_step else 0.0
    scalars[SCALAR_HOLDERS_FRACTION, row] = holders
    counts[COUNT_COLLAPSE_STEP, row] = collapse_step
    counts[COUNT_BANKRUPT_STEP, row] = bankrupt_step
    counts[COUNT_CHIP_SHOCKS, row] = n_shocks
    counts[COUNT_CONTRACTS_LOST, row] = n_lost
    counts[COUNT_CONTRACTS_WON, row] = n_won
    counts[COUNT_RENEWAL_DECISIONS, row] = n_decisions
    counts[COUNT_FUNDAMENTAL_COLLAPSE_STEP, row] = fundamental_step


@njit(cache=True, parallel=True)
def simulate_chunk(p, q, key0, key1, mkey0, mkey1, path0, series, scalars, counts, active,
                   regimes, sources, design, basis_scratch, c_state, c_rev, c_next):
    """Simulate paths ``path0 .. path0 + n - 1`` of one scenario.

    Parameters
    ----------
    p : PathParams
        What the step loop reads (:class:`simval.model.params.PathParams`).
    q : ValueParams
        The operating model's extras, the horizons, the terminal value and the equity bridge
        (:class:`simval.model.params.ValueParams`).
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
        Outputs, by the rows of :mod:`simval.layout` (``SERIES_*``, ``SCALAR_*``, ``COUNT_*``).
    active : ndarray of int8, shape (n, n_named, n_steps + 1)
        Whether each named contract is active at each time.
    regimes : ndarray of int8, shape (n, n_steps + 1)
        Macro regime at each time (0 normal, 1 slowdown).
    sources : ndarray of shape (n_named + 1, n, n_steps + 1)
        Delivered revenue run-rate of each named contract, then of the expansion pool.
    design : ndarray of shape (N_DESIGN, n_steps + 1, n)
        The basis of the state at every time, the holders' fraction and solvency (rows of
        :mod:`simval.layout`), written only when ``q.record_state`` (the least-squares pilot);
        any shape otherwise.
    basis_scratch : ndarray of shape (n, N_BASIS), or (1, N_BASIS)
        Scratch for the basis of each path's state (the value model or the pilot only). The
        fundamental-value and price-to-value rows of ``series`` are written only under the
        value model: the caller fills them with NaN otherwise.
    c_state, c_rev, c_next : ndarray of shape (n, n_slots)
        Scratch for the contracts' state (int8), revenue (float64) and next event step (int64).

    Notes
    -----
    Compiled by numba; ``prange`` over paths, each iteration writes only its own row, so the
    output does not depend on the number of threads.
    """
    n = scalars.shape[1]
    for i in prange(n):
        _simulate_path(p, q, key0, key1, mkey0, mkey1, path0 + i, i, series, scalars, counts,
                       active, regimes, sources, design, basis_scratch, c_state, c_rev, c_next,
                       False)


@njit(cache=True, parallel=True)
def simulate_plain_chunk(p, q, key0, key1, mkey0, mkey1, path0, series, scalars, counts, active,
                         regimes, sources, design, basis_scratch, c_state, c_rev, c_next):
    """:func:`simulate_chunk` for plain paths
    (:attr:`simval.model.params.KernelParams.plain`: no driver beyond commercial revenue and
    cash), compiled without the other drivers' code: the same numbers, faster (the step's
    state stays in registers)."""
    n = scalars.shape[1]
    for i in prange(n):
        _simulate_path(p, q, key0, key1, mkey0, mkey1, path0 + i, i, series, scalars, counts,
                       active, regimes, sources, design, basis_scratch, c_state, c_rev, c_next,
                       True)


# ------------------------------------------------------------------------------------------
# Streaming reductions (integer counts only, so the order of paths does not matter)


_MAGNITUDE = np.int64(0x7FFFFFFFFFFFFFFF)  # all bits of a float64 but the sign
_INF_BITS = np.int64(0x7FF0000000000000)  # the bits of +inf: larger magnitudes are NaN


@njit(cache=True, inline="always")
def bin_index(bits, shift, offset, low_bits, n_side):
    """Bin of the float64 whose bits (as int64) are ``bits`` on a signed log-linear grid
    (:class:`simval.engine.histogram.LogGrid`: negatives, a zero bin, positives).

    The magnitude's exponent and top mantissa bits, ``|bits| >> shift``, less ``offset`` (those
    of the grid's lowest edge) are the bin on its side; magnitudes below ``low_bits`` go to
    the zero bin and those beyond the top edge to the outermost bin. No logarithm: a float's
    bits order like its magnitude."""
    magnitude = bits & _MAGNITUDE
    if magnitude < low_bits:
        return n_side
    b = (magnitude >> shift) - offset
    if b >= n_side:
        b = n_side - 1
    if bits < 0:
        return n_side - 1 - b
    return n_side + 1 + b


@njit(cache=True, inline="always")
def _bin_rows(bits, hist, s, c, k0, k1, shift, offset, low_bits, n_side):
    """Bin the times ``k0 .. k1 - 1`` of row ``s`` of every path into ``hist[s]`` (and
    ``hist[c]`` when ``c >= 0``); NaN is skipped."""
    for i in range(bits.shape[1]):
        for k in range(k0, k1):
            x = bits[s, i, k]
            if (x & _MAGNITUDE) <= _INF_BITS:  # not NaN
                b = bin_index(x, shift, offset, low_bits, n_side)
                hist[s, k, b] += 1
                if c >= 0:
                    hist[c, k, b] += 1


@njit(cache=True, parallel=True)
def histogram_series(bits, hist, rows, copies, more_bits, more_hist, more_rows, more_copies,
                     shift, offset, low_bits, n_side):
    """Add the float64 ``series[s, i, k]`` (given as its bits, ``series.view(np.int64)``) to
    ``hist[s, k, bin]`` for the series ``s`` in ``rows``, and to ``hist[copies[j], k, bin]`` too
    where ``copies[j] >= 0`` (a series known to equal ``rows[j]`` bin for bin); NaN is skipped.
    The same for ``more_bits`` into ``more_hist`` (the sources), in the same parallel loop:
    on a shared machine each parallel region costs a wake-up of the threads.

    The work is split into units of one series and about eight consecutive times, each
    read path by path along memory (a path's times are contiguous: reading one time of every
    path would load a cache line per value) and each owning its rows of ``hist``, so the
    counts do not depend on the split or the threads.
    """
    n_times = bits.shape[2]
    parts = max(1, n_times // 8)
    n_units = rows.shape[0] * parts
    for unit in prange(n_units + more_rows.shape[0] * parts):
        part = unit % parts
        k0 = part * n_times // parts
        k1 = (part + 1) * n_times // parts
        if unit < n_units:
            j = unit // parts
            _bin_rows(bits, hist, rows[j], copies[j], k0, k1, shift, offset, low_bits, n_side)
        else:
            j = (unit - n_units) // parts
            _bin_rows(more_bits, more_hist, more_rows[j], more_copies[j], k0, k1, shift,
                      offset, low_bits, n_side)


@njit(cache=True)
def histogram_values(bits, hist, shift, offset, low_bits, n_side):
    """Add the float64 ``values[i]`` (given as its bits) to ``hist[bin]``; NaN goes to the
    zero bin."""
    for i in range(bits.shape[0]):
        x = bits[i]
        b = n_side if (x & _MAGNITUDE) > _INF_BITS else bin_index(x, shift, offset, low_bits,
                                                                   n_side)
        hist[b] += 1


@njit(cache=True)
def histogram_totals(counts, out):
    """``out[j] = counts[j].sum()`` for the integer histograms ``counts[j]`` (int64 sums; not
    parallel: a scan of memory, cheaper than waking the threads on a shared machine)."""
    n_rows, n_bins = counts.shape
    for j in range(n_rows):
        total = np.int64(0)
        for b in range(n_bins):
            total += np.int64(counts[j, b])
        out[j] = total


@njit(cache=True)
def histogram_positions(counts, totals, ranks, out):
    """Continuous bin positions at continuous ranks: ``out[j, m]`` for the histogram
    ``counts[j]`` (integers, ``totals[j]`` paths) and the rank ``ranks[j, m]`` (see
    :meth:`simval.engine.histogram.LogGrid.position_at_rank`, which this computes).

    The bin of rank ``r`` (clipped to ``0 .. n``) is the first whose cumulative count reaches
    ``ceil(r)``; the position is that bin plus ``(r - count below it) / its count`` (0.5 in
    an empty bin); NaN for an empty histogram. One pass over each row's bins up to the bin of
    its largest rank, the ranks taken in increasing order."""
    n_rows, n_bins = counts.shape
    n_ranks = ranks.shape[1]
    for j in range(n_rows):
        total = totals[j]
        if total == 0:
            for m in range(n_ranks):
                out[j, m] = np.nan
            continue
        clipped = np.empty(n_ranks)
        keys = np.empty(n_ranks, dtype=np.int64)
        for m in range(n_ranks):
            r = min(max(ranks[j, m], 0.0), np.float64(total))
            clipped[m] = r
            keys[m] = np.int64(math.ceil(r))
        order = np.argsort(keys, kind="mergesort")
        b = 0
        cum = np.int64(counts[j, 0])
        for m in order:
            while cum < keys[m]:
                b += 1
                cum += np.int64(counts[j, b])
            in_bin = np.int64(counts[j, b])
            frac = 0.5
            if in_bin > 0:
                frac = (clipped[m] - np.float64(cum - in_bin)) / np.float64(in_bin)
            out[j, m] = b + frac


@njit(cache=True)
def count_at_least(series, level, out):
    """``out[k] += #{i: series[i, k] >= level}``, reading the paths' times along memory (not
    parallel: a few compares per value, cheaper than waking the threads)."""
    n, n_times = series.shape
    for i in range(n):
        for k in range(n_times):
            if series[i, k] >= level:
                out[k] += 1


@njit(cache=True)
def count_pairs_at_least(series, level, out):
    """``out[k] += #{pairs (2i, 2i + 1): both series[., k] >= level}`` (as
    :func:`count_at_least`)."""
    n, n_times = series.shape
    for i in range(0, n - 1, 2):
        for k in range(n_times):
            if series[i, k] >= level and series[i + 1, k] >= level:
                out[k] += 1


# ------------------------------------------------------------------------------------------
# The value model's pilot regression


@njit(cache=True)
def solvent_rows(design, pv, k, discount_k, x, y):
    """The rows of time ``k``'s regression, gathered from a pilot chunk: for each path ``i``
    solvent at t_k (``design[DESIGN_ALIVE, k, i] > 0.5``), in path order, its basis
    ``design[:N_BASIS, k, i]`` into the next row of ``x`` (paths, basis; C order) and
    ``pv[i] / (discount_k design[DESIGN_HOLDERS, k, i])`` into ``y``. Returns the number of
    rows written. The same values, in the same layout, as numpy's boolean indexing gives, so
    the regression's sums are those of it bit for bit; one pass instead of one per basis
    function."""
    m = 0
    nb = x.shape[1]
    for i in range(design.shape[2]):
        if design[DESIGN_ALIVE, k, i] > 0.5:
            for j in range(nb):
                x[m, j] = design[j, k, i]
            y[m] = pv[i] / (discount_k * design[DESIGN_HOLDERS, k, i])
            m += 1
    return m


@njit(cache=True, parallel=True)
def rng_only_chunk(p, key0, key1, mkey0, mkey1, path0, shocks, wins, decisions, out):
    """Draw the random numbers the engine draws for paths ``path0 ..``, and nothing else.

    Every per-step draw the engine makes unconditionally (revenue and growth normals, and the
    chip, expansion, regime, market and budget draws of the drivers switched on), plus, per
    path, the conditional draws whose number the engine reported: two per chip shock, one per
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
            if p.budget_enabled:
                acc += _normal(key0, key1, flip, counter(dpath, STREAM_BUDGET, k, 0))
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
