"""Closed forms of simval's stochastic components, for validating the simulation.

Every function here is pure numpy/scipy and implements the *discrete-time* model of
``docs/model.md`` exactly where an exact result exists (the step equations of the kernel, its
decay factors, its per-step Poisson counts), so a Monte Carlo estimate can be compared with it
to within sampling error. Where only an approximation exists (discretely monitored barriers)
the approximation and its size are documented. :mod:`simval.validation` pairs each closed form
with a simulation and a deliberately wrong alternative.

Notation follows ``docs/model.md``: ``dt`` = Δt, ``n_steps`` = K, per-step parameters are indexed
by the step k = 0 … K−1 (the step from t_k to t_{k+1}).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, special, stats

from simval.layout import MAX_EVENTS_IN_STEP

__all__ = [
    "BGK_BETA",
    "barrier_hit_probability_bgk",
    "barrier_hit_probability_discrete",
    "bgk_barrier_shift",
    "binomial_pmf",
    "capacity_cdf_given_shocks",
    "capacity_shortfall_mean",
    "capped_poisson_mean",
    "capped_poisson_pmf",
    "compound_poisson_normal_moments",
    "contract_active_probability",
    "drifted_bm_hit_probability",
    "expected_regime_switches",
    "financing_survival",
    "growth_volatility_schedule",
    "haircut_mean",
    "justified_probability",
    "lognormal_mean_of_min",
    "lognormal_moments",
    "lognormal_quantile",
    "log_revenue_moments",
    "log_revenue_moments_gbm",
    "ou_factors",
    "ou_moments",
    "poisson_pmf",
    "pv_mean_ev_sales",
    "regime_entries_pmf",
    "regime_occupation",
    "regime_stationary",
    "renewed_count_pmf_vasicek",
    "simple_interest_cash",
    "switch_probability",
    "volatility_schedule",
]

BGK_BETA = float(-special.zeta(0.5) / math.sqrt(2.0 * math.pi))
"""β = −ζ(1/2)/√(2π) ≈ 0.5826 of the Broadie–Glasserman–Kou continuity correction."""



# ------------------------------------------------------------------------------------------
# lognormal


def lognormal_moments(ln_mean: float | np.ndarray, ln_var: float | np.ndarray):
    """Mean and variance of ``exp(Y)`` for ``Y ~ N(ln_mean, ln_var)``.

    Parameters
    ----------
    ln_mean, ln_var : float or ndarray
        Mean and variance of the logarithm.

    Returns
    -------
    mean, var : float or ndarray
        ``exp(m + v/2)`` and ``(exp(v) − 1)·exp(2m + v)``.

    Examples
    --------
    >>> m, v = lognormal_moments(0.0, 0.0)
    >>> float(m), float(v)
    (1.0, 0.0)
    """
    ln_mean = np.asarray(ln_mean, dtype=float)
    ln_var = np.asarray(ln_var, dtype=float)
    mean = np.exp(ln_mean + ln_var / 2.0)
    return mean, np.expm1(ln_var) * np.exp(2.0 * ln_mean + ln_var)


def lognormal_quantile(q: float | np.ndarray, ln_mean: float, ln_var: float):
    """Quantile ``exp(m + √v·Φ⁻¹(q))`` of a lognormal variable.

    Parameters
    ----------
    q : float or ndarray
        Levels in (0, 1).
    ln_mean, ln_var : float
        Mean and variance of the logarithm.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(float(lognormal_quantile(0.5, math.log(3.0), 0.2)), 12)
    3.0
    """
    return np.exp(ln_mean + math.sqrt(ln_var) * special.ndtri(np.asarray(q, dtype=float)))


def lognormal_mean_of_min(ln_mean_x: float, ln_var_x: float, ln_mean_y: float,
                          ln_var_y: float) -> float:
    """``E[min(X, Y)]`` for independent lognormal ``X`` and ``Y``.

    Parameters
    ----------
    ln_mean_x, ln_var_x, ln_mean_y, ln_var_y : float
        Log-means and log-variances (a variance may be 0: a constant).

    Returns
    -------
    float
        ``E[X] − E[(X − Y)⁺]`` with Margrabe's exchange formula
        ``E[(X − Y)⁺] = E[X]·Φ(d₁) − E[Y]·Φ(d₂)``, ``s² = v_X + v_Y``,
        ``d₁ = (ln(E[X]/E[Y]) + s²/2)/s``, ``d₂ = d₁ − s``.

    Notes
    -----
    This is the delivered commercial revenue ``min(R_T, max_share·TAM·U_TAM)`` of the market
    size cap (no contracts) when ``R_T`` is lognormal and the TAM multiplier ``U_TAM`` is
    lognormal with median 1.

    Examples
    --------
    >>> round(lognormal_mean_of_min(0.0, 0.0, 10.0, 0.0), 12)  # Y far above X
    1.0
    """
    ex = math.exp(ln_mean_x + ln_var_x / 2.0)
    ey = math.exp(ln_mean_y + ln_var_y / 2.0)
    s2 = ln_var_x + ln_var_y
    if s2 == 0.0:
        return min(ex, ey)
    s = math.sqrt(s2)
    d1 = (math.log(ex / ey) + s2 / 2.0) / s
    return ex - (ex * special.ndtr(d1) - ey * special.ndtr(d1 - s))


# ------------------------------------------------------------------------------------------
# Schwartz–Moon revenue and growth


def ou_factors(kappa: float, dt: float) -> tuple[float, float, float]:
    """The model's exact OU step factors ``(a, b, v)``.

    Parameters
    ----------
    kappa : float
        Mean-reversion speed per year (≥ 0).
    dt : float
        Step in years.

    Returns
    -------
    a, b, v : float
        ``a = e^{−κΔt}``, ``b = (1 − e^{−κΔt})/κ``, ``v = √((1 − e^{−2κΔt})/(2κ))``; the κ = 0
        limits are ``1, Δt, √Δt``.

    Examples
    --------
    >>> ou_factors(0.0, 0.25)
    (1.0, 0.25, 0.5)
    """
    if kappa == 0.0:
        return 1.0, dt, math.sqrt(dt)
    return (math.exp(-kappa * dt), -math.expm1(-kappa * dt) / kappa,
            math.sqrt(-math.expm1(-2.0 * kappa * dt) / (2.0 * kappa)))


def volatility_schedule(sigma0: float, sigma_bar: float, kappa1: float, dt: float,
                        n_steps: int) -> np.ndarray:
    """Per-step revenue volatility ``σ_k = σ̄ + (σ_0 − σ̄)·e^{−κ₁ t_k}``, k = 0 … K−1.

    Examples
    --------
    >>> volatility_schedule(0.3, 0.1, 0.0, 0.25, 2).tolist()
    [0.3, 0.3]
    """
    t = np.arange(n_steps) * dt
    return sigma_bar + (sigma0 - sigma_bar) * np.exp(-kappa1 * t)


def growth_volatility_schedule(eta0: float, kappa2: float, dt: float,
                               n_steps: int) -> np.ndarray:
    """Per-step growth volatility ``η_k = η_0·e^{−κ₂ t_k}``, k = 0 … K−1.

    Examples
    --------
    >>> growth_volatility_schedule(0.1, 0.0, 0.25, 3).tolist()
    [0.1, 0.1, 0.1]
    """
    return eta0 * np.exp(-kappa2 * np.arange(n_steps) * dt)


def _per_step(x: float | np.ndarray, n_steps: int) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        return np.full(n_steps, float(arr))
    if arr.shape != (n_steps,):
        raise ValueError(f"expected a scalar or {n_steps} per-step values, got {arr.shape}")
    return arr


def ou_moments(x0: float, x_bar: float, kappa: float, vol: float | np.ndarray, dt: float,
               n_steps: int, price_of_risk: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the model's discrete OU recursion at every step.

    The recursion (``docs/model.md`` 2.1 for the growth rate μ with ``vol = η_k``,
    ``price_of_risk = λ_μ``; 2.8 for ln M with ``vol = σ_M`` and no price of risk) is::

        x_{k+1} = x̄ + (x_k − x̄)·a − λ·vol_k·b + vol_k·v·ε_k,     ε_k ~ N(0, 1) i.i.d.

    Parameters
    ----------
    x0, x_bar : float
        Start value and long-run level.
    kappa : float
        Mean reversion per year.
    vol : float or ndarray of shape (n_steps,)
        Volatility of each step (constant or a per-step schedule).
    dt : float
    n_steps : int
    price_of_risk : float, default: 0

    Returns
    -------
    mean, var : ndarray of shape (n_steps + 1,)
        ``E[x_k] = x̄ + (x_0 − x̄)·a^k − λ·b·Σ_{i<k} a^{k−1−i}·vol_i`` and
        ``Var[x_k] = v²·Σ_{i<k} a^{2(k−1−i)}·vol_i²`` for k = 0 … K. With constant ``vol`` and
        κ > 0 the variance is ``vol²·(1 − a^{2k})/(2κ)``, the continuous-time value: the step
        is the exact OU transition.

    Examples
    --------
    >>> mean, var = ou_moments(0.5, 0.1, 1.0, 0.2, 0.25, 400)
    >>> round(float(mean[-1]), 6), round(float(var[-1]), 6)  # stationary: x̄, vol²/(2κ)
    (0.1, 0.02)
    """
    a, b, v = ou_factors(kappa, dt)
    vol = _per_step(vol, n_steps)
    mean = np.empty(n_steps + 1)
    var = np.empty(n_steps + 1)
    mean[0], var[0] = x0, 0.0
    for k in range(n_steps):
        mean[k + 1] = x_bar + (mean[k] - x_bar) * a - price_of_risk * vol[k] * b
        var[k + 1] = var[k] * a * a + (vol[k] * v) ** 2
    return mean, var


def log_revenue_moments(r0: float, mu0: float, mu_bar: float, kappa: float,
                        sigma: float | np.ndarray, eta: float | np.ndarray, rho: float,
                        dt: float, n_steps: int, lambda_r: float = 0.0,
                        lambda_mu: float = 0.0) -> tuple[float, float]:
    """Mean and variance of ``ln R_K`` under the Schwartz–Moon step equations.

    The model (``docs/model.md`` 2.1) is linear and Gaussian::

        ln R_{k+1} = ln R_k + (μ_k − λ_R σ_k − σ_k²/2)Δt + σ_k √Δt ε₁ₖ
        μ_{k+1}   = μ̄ + (μ_k − μ̄)a − λ_μ η_k b + η_k v ε₂ₖ,     corr(ε₁ₖ, ε₂ₖ) = ρ

    so ``ln R_K`` is normal. Writing ``d_k = μ_k − μ̄`` and unrolling,
    ``Σ_{k<K} d_k Δt = d_0 Δt Σ_{k<K} a^k + Σ_{i<K} w_i (η_i v ε₂ᵢ − λ_μ η_i b)`` with the weights
    ``w_i = Δt Σ_{j=0}^{K−2−i} a^j`` (the growth shock of step i first moves revenue in step
    i + 1; ``w_{K−1} = 0``). Hence::

        E[ln R_K]   = ln R_0 + KΔt μ̄ + (μ_0 − μ̄)Δt Σ_{k<K} a^k
                      − Σ_k (λ_R σ_k + σ_k²/2)Δt − λ_μ b Σ_i η_i w_i
        Var[ln R_K] = Σ_k σ_k² Δt + v² Σ_i η_i² w_i² + 2ρ v √Δt Σ_i σ_i η_i w_i

    Parameters
    ----------
    r0 : float
        ``R_0``.
    mu0, mu_bar, kappa : float
        Initial and long-run growth, mean reversion.
    sigma, eta : float or ndarray of shape (n_steps,)
        Revenue and growth volatility of each step (see :func:`volatility_schedule`,
        :func:`growth_volatility_schedule`); scalars mean κ₁ = κ₂ = 0.
    rho : float
        Correlation of the two shocks.
    dt : float
    n_steps : int
        K.
    lambda_r, lambda_mu : float, default: 0
        Market prices of risk (risk-neutral measure).

    Returns
    -------
    mean, var : float

    Examples
    --------
    >>> m, v = log_revenue_moments(1.0, 0.2, 0.2, 0.0, 0.3, 0.0, 0.0, 0.25, 8)
    >>> round(m, 12), round(v, 12)  # geometric Brownian motion: (μ − σ²/2)T, σ²T
    (0.31, 0.18)
    """
    a, b, v = ou_factors(kappa, dt)
    sigma = _per_step(sigma, n_steps)
    eta = _per_step(eta, n_steps)
    i = np.arange(n_steps)
    geometric = a ** i  # a^k, k = 0 … K−1
    # w_i = Δt Σ_{j=0}^{K−2−i} a^j  (0 for i = K−1)
    cum = np.concatenate(([0.0], np.cumsum(geometric)))  # cum[m] = Σ_{j<m} a^j
    w = dt * cum[n_steps - 1 - i]
    mean = (math.log(r0) + n_steps * dt * mu_bar + (mu0 - mu_bar) * dt * geometric.sum()
            - float(np.sum((lambda_r * sigma + sigma**2 / 2.0) * dt))
            - lambda_mu * b * float(np.sum(eta * w)))
    var = (float(np.sum(sigma**2)) * dt + v * v * float(np.sum(eta**2 * w**2))
           + 2.0 * rho * v * math.sqrt(dt) * float(np.sum(sigma * eta * w)))
    return float(mean), float(var)


def log_revenue_moments_gbm(r0: float, mu: float, sigma: float, t: float,
                            lambda_r: float = 0.0) -> tuple[float, float]:
    """Mean and variance of ``ln R_t`` for constant growth: ``ln R_0 + (μ − λ_Rσ − σ²/2)t``, σ²t.

    Examples
    --------
    >>> [round(x, 12) for x in log_revenue_moments_gbm(1.0, 0.2, 0.3, 2.0)]
    [0.31, 0.18]
    """
    return (math.log(r0) + (mu - lambda_r * sigma - sigma * sigma / 2.0) * t,
            sigma * sigma * t)


# ------------------------------------------------------------------------------------------
# macro regime: a two-state Markov chain observed at the grid times


def switch_probability(hazard: float, dt: float) -> float:
    """Per-step switch probability ``1 − e^{−hΔt}`` of an annual hazard ``h``.

    Examples
    --------
    >>> switch_probability(0.0, 0.25)
    0.0
    """
    return -math.expm1(-hazard * dt)


def regime_stationary(a: float, b: float) -> tuple[float, float]:
    """Stationary distribution ``(b, a)/(a + b)`` of the chain normal ⇄ slowdown.

    Parameters
    ----------
    a, b : float
        Per-step switch probabilities normal → slowdown and slowdown → normal.

    Returns
    -------
    (π_normal, π_slowdown)

    Examples
    --------
    >>> [round(x, 12) for x in regime_stationary(0.1, 0.3)]
    [0.75, 0.25]
    """
    return b / (a + b), a / (a + b)


def regime_occupation(a: float, b: float, p0: float, k: int | np.ndarray):
    """``P(s_k = slowdown) = π + (p_0 − π)(1 − a − b)^k``, π the stationary slowdown share.

    Parameters
    ----------
    a, b : float
        Per-step switch probabilities normal → slowdown, slowdown → normal.
    p0 : float
        ``P(s_0 = slowdown)`` (0 or 1 for a fixed initial regime).
    k : int or ndarray
        Steps.

    Examples
    --------
    >>> round(float(regime_occupation(0.1, 0.3, 0.0, 1)), 12)
    0.1
    """
    pi = a / (a + b)
    return pi + (p0 - pi) * (1.0 - a - b) ** np.asarray(k, dtype=float)


def expected_regime_switches(a: float, b: float, p0: float, n_steps: int) -> tuple[float, float]:
    """Expected numbers of switches into and out of slowdown in steps 0 … K−1.

    Returns
    -------
    entries, exits : float
        ``Σ_{k<K} (1 − p_k)·a`` and ``Σ_{k<K} p_k·b`` with ``p_k`` from
        :func:`regime_occupation`.

    Examples
    --------
    >>> expected_regime_switches(0.1, 0.3, 0.0, 1)
    (0.1, 0.0)
    """
    p = regime_occupation(a, b, p0, np.arange(n_steps))
    return float(np.sum((1.0 - p) * a)), float(np.sum(p * b))


def regime_entries_pmf(a: float, b: float, p0: float, n_steps: int) -> np.ndarray:
    """Exact distribution of the number of switches *into* slowdown in steps 0 … K−1.

    A forward recursion over (regime, count so far): a normal step switches with probability
    ``a`` and adds one entry; a slowdown step switches back with probability ``b``.

    Parameters
    ----------
    a, b : float
        Per-step switch probabilities normal → slowdown, slowdown → normal.
    p0 : float
        ``P(s_0 = slowdown)``.
    n_steps : int

    Returns
    -------
    ndarray of shape (n_steps + 1,)
        ``P(entries = m)``, m = 0 … K.

    Examples
    --------
    >>> regime_entries_pmf(0.5, 1.0, 0.0, 2).tolist()
    [0.25, 0.75, 0.0]
    """
    normal = np.zeros(n_steps + 2)
    slow = np.zeros(n_steps + 2)
    normal[0], slow[0] = 1.0 - p0, p0
    for _ in range(n_steps):
        new_normal = normal * (1.0 - a) + slow * b
        new_slow = slow * (1.0 - b)
        new_slow[1:] += normal[:-1] * a
        normal, slow = new_normal, new_slow
    return (normal + slow)[:n_steps + 1]


# ------------------------------------------------------------------------------------------
# Poisson counts


def poisson_pmf(n: int | np.ndarray, mean: float):
    """Poisson probabilities ``e^{−m} m^n / n!``.

    Examples
    --------
    >>> round(float(poisson_pmf(0, 2.0)), 6)
    0.135335
    """
    return stats.poisson.pmf(n, mean)


def capped_poisson_pmf(mean: float, cap: int) -> np.ndarray:
    """Probabilities of ``min(N, cap)``, ``N ~ Poisson(mean)``: entries 0 … cap.

    The last entry is ``P(N ≥ cap)``. A pool of ``N_max`` potential contracts won at a Poisson
    rate gives ``min(N, N_max)`` wins over the horizon (the per-step cap of 16 events aside).

    Examples
    --------
    >>> p = capped_poisson_pmf(1.0, 2)
    >>> round(float(p.sum()), 12), round(float(p[-1]), 6)
    (1.0, 0.264241)
    """
    pmf = stats.poisson.pmf(np.arange(cap + 1), mean)
    pmf[cap] = stats.poisson.sf(cap - 1, mean)
    return pmf


def capped_poisson_mean(mean: float, cap: int) -> float:
    """``E[min(N, cap)]`` for ``N ~ Poisson(mean)``.

    Examples
    --------
    >>> round(capped_poisson_mean(3.0, 1000), 9)
    3.0
    """
    return float(np.dot(np.arange(cap + 1), capped_poisson_pmf(mean, cap)))


def compound_poisson_normal_moments(mean_count: float, jump_mean: float,
                                    jump_sd: float) -> tuple[float, float]:
    """Mean and variance of ``Σ_{i≤N} Y_i``, ``N ~ Poisson(m)``, ``Y_i ~ N(μ_J, s_J²)``.

    Returns
    -------
    mean, var : float
        ``m·μ_J`` and ``m·E[Y²] = m·(μ_J² + s_J²)``.

    Examples
    --------
    >>> compound_poisson_normal_moments(2.0, 0.5, 0.0)
    (1.0, 0.5)
    """
    return mean_count * jump_mean, mean_count * (jump_mean**2 + jump_sd**2)


# ------------------------------------------------------------------------------------------
# chip supply: capacity


def haircut_mean(kind: str, low: float, high: float = 0.0) -> float:
    """``E[H]``: ``low`` (fixed) or ``(low + high)/2`` (uniform).

    Examples
    --------
    >>> haircut_mean("uniform", 0.1, 0.3)
    0.2
    """
    return float(low) if kind == "fixed" else (low + high) / 2.0


def capacity_shortfall_mean(rate: float, dt: float, n_steps: int, mean_haircut: float,
                            recovery_factor: float = 1.0) -> np.ndarray:
    """``E[1 − c_k]`` for k = 0 … K under the model's chip-supply step.

    The step (``docs/model.md`` 2.2) is ``c ← 1 − (1 − c_k)·φ`` (recovery), then
    ``c_{k+1} = c·Π_{i<N_k}(1 − H_i)`` with ``N_k`` Poisson(λΔt) capped at 16 and the ``H_i``
    i.i.d., all independent of ``c_k``. Hence, with ``D_k = 1 − c_k`` and
    ``g = E[(1 − E[H])^{min(N, 16)}]`` (≈ ``e^{−λΔt E[H]}``)::

        E[D_{k+1}] = 1 − (1 − φ·E[D_k])·g,      E[D_0] = 0

    Without recovery (φ = 1) this is ``E[c_K] = g^K ≈ e^{−λT E[H]}``, the Poisson generating
    function at ``1 − E[H]``. (The floor ``c ≥ 10⁻¹²`` is ignored.)

    Parameters
    ----------
    rate : float
        Shock intensity λ per year.
    dt : float
    n_steps : int
    mean_haircut : float
        ``E[H]``.
    recovery_factor : float, default: 1
        ``φ = e^{−Δt·ln2/τ_c}``; 1 = no recovery.

    Returns
    -------
    ndarray of shape (n_steps + 1,)

    Examples
    --------
    >>> d = capacity_shortfall_mean(1.0, 0.25, 8, 0.2)
    >>> round(float(1 - d[-1]), 6), round(math.exp(-1.0 * 2 * 0.2), 6)
    (0.67032, 0.67032)
    """
    pmf = capped_poisson_pmf(rate * dt, MAX_EVENTS_IN_STEP)
    g = float(np.dot(pmf, (1.0 - mean_haircut) ** np.arange(MAX_EVENTS_IN_STEP + 1)))
    out = np.empty(n_steps + 1)
    out[0] = 0.0
    for k in range(n_steps):
        out[k + 1] = 1.0 - (1.0 - recovery_factor * out[k]) * g
    return out


def capacity_cdf_given_shocks(x: float | np.ndarray, n: int, low: float,
                              high: float) -> np.ndarray:
    """CDF of capacity ``c_T = Π_{i≤n}(1 − H_i)`` given ``n`` shocks, no recovery, H uniform.

    ``U_i = 1 − H_i`` is uniform on ``[l, h] = [1 − high, 1 − low]``. For ``n = 1`` the CDF is
    uniform; for ``n = 2``::

        P(U₁U₂ ≤ x) = (1/(h − l)) ∫_l^h clip((x/u − l)/(h − l), 0, 1) du
                    = [(u₁ − l) + (x·ln(u₂/u₁) − l·(u₂ − u₁))/(h − l)]/(h − l)

    with ``u₁ = clip(x/h, l, h)``, ``u₂ = clip(x/l, l, h)``.

    Parameters
    ----------
    x : float or ndarray
    n : {0, 1, 2}
    low, high : float
        Haircut bounds (``low < high``).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> capacity_cdf_given_shocks([0.8, 0.85, 0.9], 1, 0.1, 0.2).round(6).tolist()
    [0.0, 0.5, 1.0]
    >>> float(capacity_cdf_given_shocks(0.81, 2, 0.1, 0.2)) == 1.0
    True
    """
    x = np.asarray(x, dtype=float)
    lo, hi = 1.0 - high, 1.0 - low
    if n == 0:
        return (x >= 1.0).astype(float)
    if n == 1:
        return np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    if n != 2:
        raise ValueError("n must be 0, 1 or 2")
    xc = np.clip(x, lo * lo, hi * hi)
    u1 = np.clip(xc / hi, lo, hi)
    u2 = np.clip(xc / lo, lo, hi)
    cdf = ((u1 - lo) + (xc * np.log(u2 / u1) - lo * (u2 - u1)) / (hi - lo)) / (hi - lo)
    return np.clip(np.where(x >= hi * hi, 1.0, np.where(x < lo * lo, 0.0, cdf)), 0.0, 1.0)


# ------------------------------------------------------------------------------------------
# contracts


def binomial_pmf(n: int, p: float) -> np.ndarray:
    """``P(M = m)``, m = 0 … n, for ``M ~ Binomial(n, p)`` (independent renewals).

    Examples
    --------
    >>> binomial_pmf(2, 0.5).round(12).tolist()
    [0.25, 0.5, 0.25]
    """
    return stats.binom.pmf(np.arange(n + 1), n, p)


def renewed_count_pmf_vasicek(n: int, p: float, rho: float) -> np.ndarray:
    """``P(M = m)`` renewals out of ``n`` decided in one step under the one-factor copula.

    Contract j renews iff ``√ρ·Z + √(1 − ρ)·ξ_j < Φ⁻¹(p)``; given the common factor Z the
    renewals are independent with ``p(Z) = Φ((Φ⁻¹(p) − √ρ Z)/√(1 − ρ))``, so (Vasicek)::

        P(M = m) = ∫ C(n, m) p(z)^m (1 − p(z))^{n−m} φ(z) dz

    integrated with :func:`scipy.integrate.quad` over the real line.

    Parameters
    ----------
    n : int
    p : float
        Renewal probability in (0, 1).
    rho : float
        Copula correlation in [0, 1).

    Returns
    -------
    ndarray of shape (n + 1,)

    Examples
    --------
    >>> np.allclose(renewed_count_pmf_vasicek(3, 0.7, 0.0), binomial_pmf(3, 0.7))
    True
    """
    if rho == 0.0:
        return binomial_pmf(n, p)
    threshold = special.ndtri(p)
    a, c = math.sqrt(rho), math.sqrt(1.0 - rho)

    def integrand(z: float, m: int) -> float:
        pz = special.ndtr((threshold - a * z) / c)
        return stats.binom.pmf(m, n, pz) * math.exp(-z * z / 2.0) / math.sqrt(2 * math.pi)

    out = np.array([integrate.quad(integrand, -np.inf, np.inf, args=(m,), epsabs=1e-13,
                                   epsrel=1e-11, limit=200)[0] for m in range(n + 1)])
    return out / out.sum()


def contract_active_probability(first_step: int, term_steps: int, p: float, n_steps: int,
                                replacement_probability: float = 0.0,
                                delay_steps: int = 1) -> np.ndarray:
    """``P(contract active at t_k)``, k = 0 … K, for a named contract (one regime).

    Exact dynamic programme over the contract's states (``docs/model.md`` 2.3): an active
    contract with its event at step ``m`` renews with probability ``p`` (next event
    ``m + L``); otherwise it is replaced with probability ``q`` (awaiting, active again at
    ``m + d`` without a decision, next event ``m + d + L``) or lost for good. The state is
    (status, next event step), a finite set, so the probabilities are exact. With ``q = 0`` the
    answer is ``p^{#renewal dates ≤ t_k}``.

    Parameters
    ----------
    first_step : int
        Step of the first renewal (≥ 1).
    term_steps : int
        L in steps.
    p : float
        Renewal probability.
    n_steps : int
        K.
    replacement_probability : float, default: 0
    delay_steps : int, default: 1

    Returns
    -------
    ndarray of shape (n_steps + 1,)

    Examples
    --------
    >>> contract_active_probability(2, 2, 0.5, 5).tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """
    states: dict[tuple[int, int], float] = {(1, first_step): 1.0}  # (1 active | 2 awaiting)
    out = np.zeros(n_steps + 1)
    out[0] = 1.0
    q = replacement_probability
    for k in range(n_steps):
        t_next = k + 1
        new: dict[tuple[int, int], float] = {}

        def put(key: tuple[int, int], prob: float, new=new) -> None:
            if prob > 0.0:
                new[key] = new.get(key, 0.0) + prob

        for (status, nxt), prob in states.items():
            if nxt != t_next:
                put((status, nxt), prob)
            elif status == 1:
                put((1, t_next + term_steps), prob * p)
                put((2, t_next + delay_steps), prob * (1.0 - p) * q)
            else:
                put((1, t_next + term_steps), prob)
        states = new
        out[t_next] = sum(prob for (status, _), prob in states.items() if status == 1)
    return out


# ------------------------------------------------------------------------------------------
# market path: first passage of a drifted Brownian motion


def drifted_bm_hit_probability(barrier: float, mu: float, sigma: float, t: float) -> float:
    """``P(min_{s≤t} (μs + σW_s) ≤ b)`` for ``b < 0`` (continuous monitoring).

    By the reflection principle with drift::

        P = Φ((b − μt)/(σ√t)) + e^{2μb/σ²}·Φ((b + μt)/(σ√t))

    Examples
    --------
    >>> p = drifted_bm_hit_probability(-0.5, 0.0, 1.0, 1.0)
    >>> round(p, 6) == round(2 * float(stats.norm.cdf(-0.5)), 6)  # 2 Φ(b/σ√t) without drift
    True
    """
    if barrier >= 0.0:
        return 1.0
    st = sigma * math.sqrt(t)
    return float(special.ndtr((barrier - mu * t) / st)
                 + math.exp(2.0 * mu * barrier / sigma**2) * special.ndtr((barrier + mu * t) / st))


def bgk_barrier_shift(sigma: float, dt: float) -> float:
    """Broadie–Glasserman–Kou shift ``β·σ·√Δt`` (β = −ζ(½)/√(2π) ≈ 0.5826).

    A barrier monitored only at the grid times is crossed less often than a continuously
    monitored one; to first order in √Δt the discrete probability equals the continuous one
    for a barrier moved *away* from the start by this amount (Broadie, Glasserman & Kou,
    *Mathematical Finance* 7, 1997).

    Examples
    --------
    >>> round(bgk_barrier_shift(1.0, 1.0), 4)
    0.5826
    """
    return BGK_BETA * sigma * math.sqrt(dt)


def barrier_hit_probability_bgk(barrier: float, mu: float, sigma: float, dt: float,
                                n_steps: int) -> float:
    """BGK approximation of ``P(min_{1≤k≤K} X_k ≤ b)``, ``X_k`` a Gaussian random walk.

    ``X_k = Σ_{i<k} (μΔt + σ√Δt·ε_i)`` is the drifted Brownian motion observed at the grid
    times; the approximation is :func:`drifted_bm_hit_probability` at the shifted barrier
    ``b − β σ √Δt`` (for a barrier below the start). Its error is ``o(√Δt)``; compare with the
    numerically exact :func:`barrier_hit_probability_discrete`.

    Examples
    --------
    >>> p_bgk = barrier_hit_probability_bgk(-0.3, 0.1, 0.4, 1 / 24, 72)
    >>> p_exact = barrier_hit_probability_discrete(-0.3, 0.1, 0.4, 1 / 24, 72)
    >>> bool(abs(p_bgk - p_exact) < 1e-3)
    True
    """
    return drifted_bm_hit_probability(barrier - bgk_barrier_shift(sigma, dt), mu, sigma,
                                      dt * n_steps)


def barrier_hit_probability_discrete(barrier: float, mu: float, sigma: float, dt: float,
                                     n_steps: int, points_per_sd: int = 40) -> float:
    """Numerically exact ``P(min_{1≤k≤K} X_k ≤ b)`` for the Gaussian random walk.

    Propagates the density of the walk killed at the barrier,
    ``f_{k+1}(y) = ∫_{x>b} f_k(x)·φ_{μΔt, σ√Δt}(y − x) dx`` on ``y > b``, with the trapezoid rule
    on grids of ``points_per_sd`` and twice as many points per step standard deviation (FFT
    convolution), Richardson-extrapolated (the density jumps at the barrier, so the trapezoid
    error is O(h²)); the remaining quadrature error is ≈ 10⁻⁶, far below Monte Carlo error.
    Reference for the BGK approximation, not a closed form.

    Examples
    --------
    >>> p = barrier_hit_probability_discrete(-1.0, 0.0, 1.0, 1.0, 1)
    >>> bool(abs(p - float(stats.norm.cdf(-1.0))) < 1e-7)
    True
    """
    coarse = _killed_walk_survival(barrier, mu, sigma, dt, n_steps, points_per_sd)
    fine = _killed_walk_survival(barrier, mu, sigma, dt, n_steps, 2 * points_per_sd)
    # the trapezoid error is O(h²) (the density jumps at the barrier): Richardson extrapolation
    return float(1.0 - (4.0 * fine - coarse) / 3.0)


def _killed_walk_survival(barrier: float, mu: float, sigma: float, dt: float, n_steps: int,
                          points_per_sd: int) -> float:
    from scipy.signal import fftconvolve

    sd = sigma * math.sqrt(dt)
    h = sd / points_per_sd
    top = max(0.0, mu * dt * n_steps) + 9.0 * sd * math.sqrt(n_steps) + sd
    y = barrier + h * np.arange(int((top - barrier) / h) + 2)
    w = np.full(y.size, h)
    w[0] = w[-1] = h / 2.0
    f = stats.norm.pdf(y, mu * dt, sd)
    kern = stats.norm.pdf(h * np.arange(-(y.size - 1), y.size), mu * dt, sd)
    for _ in range(n_steps - 1):
        f = fftconvolve(f * w, kern, mode="full")[y.size - 1:2 * y.size - 1]
    return float(np.sum(f * w))


# ------------------------------------------------------------------------------------------
# cash, discounting and the value to today's holders


def simple_interest_cash(x0: float, rf: float, dt: float, k: int) -> float:
    """Cash ``X_k = X_0 (1 + r_f Δt)^k`` with no operating flow (interest is simple per step).

    Examples
    --------
    >>> simple_interest_cash(100.0, 0.04, 0.25, 4)
    104.060401
    """
    return float(x0 * (1.0 + rf * dt) ** k)


def justified_probability(ln_mean_s: float, ln_var_s: float, exit_median: float,
                          exit_dispersion: float, v0: float, r: float, t: float,
                          cash_t: float = 0.0) -> float:
    """``P(PV ≥ V_0)`` for ``PV = e^{−rT}(M_exit·S_T + X_T)`` with lognormal ``S_T`` and ``M_exit``.

    With ``ev_sales``, annualised terminal earnings, ``revenue_timing = "end"``, no costs, no
    bankruptcy and a known terminal cash ``X_T``, ``TV = M_exit·S_T`` (``docs/model.md`` 3), so
    ``PV ≥ V_0 ⇔ ln M_exit + ln S_T ≥ ln(V_0 e^{rT} − X_T)``: the sum of two independent normals::

        P = Φ((ln M_med + E[ln S_T] − ln(V_0 e^{rT} − X_T)) / √(s_M² + Var[ln S_T]))

    (1 if ``V_0 e^{rT} ≤ X_T``).

    Examples
    --------
    >>> justified_probability(0.0, 0.1, 1.0, 0.0, 1.0, 0.0, 1.0)  # median = V_0
    0.5
    """
    target = v0 * math.exp(r * t) - cash_t
    if target <= 0.0:
        return 1.0
    sd = math.sqrt(exit_dispersion**2 + ln_var_s)
    return float(special.ndtr((math.log(exit_median) + ln_mean_s - math.log(target)) / sd))


def pv_mean_ev_sales(ln_mean_s: float, ln_var_s: float, exit_median: float,
                     exit_dispersion: float, r: float, t: float, cash_t: float = 0.0) -> float:
    """``E[PV] = e^{−rT}(M_med e^{s_M²/2}·E[S_T] + X_T)`` (as in :func:`justified_probability`).

    Examples
    --------
    >>> pv_mean_ev_sales(0.0, 0.0, 2.0, 0.0, 0.0, 1.0, 1.0)
    3.0
    """
    es = math.exp(ln_mean_s + ln_var_s / 2.0)
    return float(math.exp(-r * t) * (exit_median * math.exp(exit_dispersion**2 / 2.0) * es
                                     + cash_t))


def financing_survival(cash0: float, burn: float | np.ndarray, amount: float,
                       probability: float, n_steps: int) -> np.ndarray:
    """``P(not bankrupt by t_k)`` when a fixed burn is financed by raises (cash floor 0).

    Cash falls by a deterministic ``burn_k`` per step; when it ends a step below 0 a raise of
    ``amount`` (≥ the largest burn) is attempted and succeeds with ``probability``; a failed
    raise is bankruptcy (``docs/model.md`` 2.9 with ``cash_floor = 0``). Along the all-success
    path the number of raises needed by step k is
    ``m_k = #{j ≤ k: X_0 + m_{j−1}·A − Σ_{i<j} burn_i < 0}`` and ``P = probability^{m_k}``.

    Parameters
    ----------
    cash0 : float
    burn : float or ndarray of shape (n_steps,)
        Cash consumed in each step.
    amount : float
    probability : float
    n_steps : int

    Returns
    -------
    ndarray of shape (n_steps + 1,)

    Examples
    --------
    >>> financing_survival(1.0, 0.5, 1.0, 0.5, 4).tolist()
    [1.0, 1.0, 1.0, 0.5, 0.5]
    """
    burn = _per_step(burn, n_steps)
    cash, raises = float(cash0), 0
    out = np.ones(n_steps + 1)
    for k in range(n_steps):
        cash -= burn[k]
        if cash < 0.0:
            raises += 1
            cash += amount
        out[k + 1] = probability**raises
    return out
