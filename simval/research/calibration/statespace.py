"""The Schwartz–Moon revenue process as a linear-Gaussian state space (statsmodels ``MLEModel``).

State ``α_k = (ln R_k, μ_k)`` at the end of period k, observed through ``ln R_k`` (plus optional
measurement noise). One period of length Δt is the kernel's step (``_revenue_step`` in
:mod:`simval.engine.kernels`, ``docs/model.md`` §2.1) with constant σ and η, no market price of
risk and one regime::

    ln R_{k+1} = ln R_k + (μ_k − σ²/2)·Δt + σ·√Δt·ε₁
    μ_{k+1}    = μ̄ + (μ_k − μ̄)·a + η·v·ε₂,      ε₂ = ρ·ε₁ + √(1−ρ²)·ε₂'
    y_k        = ln R_k + h·ε₃
    a = e^{−κΔt},  v = √((1 − e^{−2κΔt})/(2κ))   (a = 1, v = √Δt at κ = 0)

so the transition matrix is ``[[1, Δt], [0, a]]``, the state intercept
``(−σ²Δt/2, μ̄(1 − a))`` and the state disturbance covariance
``[[σ²Δt, ρσ√Δt·ηv], [ρσ√Δt·ηv, η²v²]]``. The initial state is diffuse (nothing is assumed about
the revenue or its growth before the first observation).
"""

from __future__ import annotations

import numpy as np
from statsmodels.tsa.statespace.mlemodel import MLEModel

__all__ = ["PARAMETERS", "POSITIVE", "SchwartzMoonRevenue", "simulate_log_revenue"]

PARAMETERS = ("growth_long_run", "mean_reversion", "volatility", "growth_volatility",
              "correlation", "measurement_noise")
"""The model's parameters in order, named as the keys of ``[commercial]`` (``mu_bar``, ``kappa``,
``sigma``, ``eta``, ``rho``) and ``measurement_noise`` (``h``, the sd of log revenue's
measurement error, which no config key holds)."""

POSITIVE = ("mean_reversion", "volatility", "growth_volatility", "measurement_noise")
"""The parameters that are positive (optimised on the log scale)."""

_KAPPA_SMALL = 1e-10


def _decay(kappa, dt: float):
    """``(a, v²)`` of the exact OU step of length ``dt``; the κ → 0 limit below 1e-10."""
    if abs(np.real(kappa)) < _KAPPA_SMALL:
        return 1.0 + 0.0 * kappa, dt + 0.0 * kappa
    return np.exp(-kappa * dt), -np.expm1(-2.0 * kappa * dt) / (2.0 * kappa)


class SchwartzMoonRevenue(MLEModel):
    """Log revenue run-rate with a latent, mean-reverting expected growth rate.

    Parameters
    ----------
    log_revenue : array_like
        ``ln R_k``, the log annualised run-rate at the end of each period.
    dt : float
        Period length in years (0.25 for quarters).
    """

    def __init__(self, log_revenue, dt: float = 0.25):
        super().__init__(np.asarray(log_revenue, dtype=float), k_states=2, k_posdef=2)
        self.dt = float(dt)
        self["design"] = np.array([[1.0, 0.0]])
        self["selection"] = np.eye(2)
        self.ssm.initialize_diffuse()

    @property
    def param_names(self) -> list[str]:
        return list(PARAMETERS)

    @property
    def start_params(self) -> np.ndarray:
        y = np.asarray(self.endog, dtype=float).ravel()
        steps = np.diff(y) / self.dt
        recent = steps[-max(1, min(4, len(steps))):]
        noise = np.std(np.diff(steps)) * self.dt if len(steps) > 2 else 0.05
        guess = {"growth_long_run": float(np.mean(recent)), "mean_reversion": 0.5,
                 "volatility": max(float(noise) / np.sqrt(self.dt) / 2, 0.02),
                 "growth_volatility": 0.1, "correlation": 0.0, "measurement_noise": 0.01}
        return np.array([guess[name] for name in PARAMETERS])

    def transform_params(self, unconstrained):
        u = np.asarray(unconstrained)
        out = u.copy()
        for i, name in enumerate(PARAMETERS):
            if name in POSITIVE:
                out[i] = np.exp(u[i])
            elif name == "correlation":
                out[i] = np.tanh(u[i])
        return out

    def untransform_params(self, constrained):
        p = np.asarray(constrained)
        out = p.copy()
        for i, name in enumerate(PARAMETERS):
            if name in POSITIVE:
                out[i] = np.log(np.maximum(np.real(p[i]), 1e-300) + 0 * p[i])
            elif name == "correlation":
                out[i] = np.arctanh(np.clip(np.real(p[i]), -1 + 1e-12, 1 - 1e-12) + 0 * p[i])
        return out

    def update(self, params, **kwargs):
        params = super().update(params, **kwargs)
        mu_bar, kappa, sigma, eta, rho, noise = params
        dt = self.dt
        a, v2 = _decay(kappa, dt)
        dtype = np.result_type(params, float)
        cross = rho * sigma * np.sqrt(dt) * eta * np.sqrt(v2)
        self["transition"] = np.array([[1.0, dt], [0.0, a]], dtype=dtype)
        self["state_intercept"] = np.array([-0.5 * sigma * sigma * dt, mu_bar * (1.0 - a)],
                                           dtype=dtype)
        self["state_cov"] = np.array([[sigma * sigma * dt, cross], [cross, eta * eta * v2]],
                                     dtype=dtype)
        self["obs_cov"] = np.array([[noise * noise]], dtype=dtype)


def simulate_log_revenue(rng: np.random.Generator, n: int, *, growth: float,
                         growth_long_run: float, mean_reversion: float, volatility: float,
                         growth_volatility: float, correlation: float = 0.0,
                         measurement_noise: float = 0.0, log_revenue: float = 0.0,
                         dt: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``n`` observations of the state space (for tests and coverage checks).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the shocks.
    n : int
        Number of periods observed.
    growth, log_revenue : float
        ``μ`` and ``ln R`` at the first observation.
    growth_long_run, mean_reversion, volatility, growth_volatility, correlation,
    measurement_noise : float
        The parameters (:data:`PARAMETERS`).
    dt : float
        Period length in years.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The observed log revenue ``y_k`` and the true growth ``μ_k``, each of length ``n``.
    """
    a, v2 = _decay(mean_reversion, dt)
    e = rng.standard_normal((n, 3))
    y = np.empty(n)
    mu = np.empty(n)
    ln_r, m = log_revenue, growth
    for k in range(n):
        y[k] = ln_r + measurement_noise * e[k, 2]
        mu[k] = m
        e1 = e[k, 0]
        e2 = correlation * e1 + np.sqrt(1.0 - correlation ** 2) * e[k, 1]
        ln_r += (m - 0.5 * volatility ** 2) * dt + volatility * np.sqrt(dt) * e1
        m = growth_long_run + (m - growth_long_run) * a + growth_volatility * np.sqrt(v2) * e2
    return y, mu
