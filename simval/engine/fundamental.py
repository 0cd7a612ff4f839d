"""W_k, the model's own value of the company at each time, by least-squares Monte Carlo.

Longstaff and Schwartz (2001) estimate a conditional expectation along simulated paths by
regressing realised discounted cash flows on functions of the state; Gamba (2003) applied it
to Schwartz–Moon firms. Here a pilot sample of paths, on random streams of its own (no path of
the main run is looked at), regresses at every time t_k the realised value of today's holders'
claim carried to t_k, ``PV / (D(t_k) h_k)``, on the basis of the state at t_k
(:data:`simval.layout.BASIS_NAMES`), over the paths solvent at t_k. The main run evaluates the
fit in the kernel (``W_k = h_k max(beta_k . f(state_k), 0)``), so its statistics stay streamed
and its results identical across threads, chunks and machines.

The market value dilutes today's holders (SBC paid in shares, raises at the market value),
and the price of new shares depends on the value being estimated. The pilot breaks the circle
by pricing new shares at today's multiple of sales, V_0 S_k / S_0 (the market path off), so
its fit does not depend on the gap B; the main run issues them at B_k W_k / h_k. A raise priced
below (above) the pilot's price moves value from (to) today's holders: that transfer is in
each path's PV, so E[PV] equals W_0 only when the two prices agree (no raise, no SBC paid in
shares, or B at the pilot's multiple). The tower property E[D(t) W_t] = W_0 holds exactly
then. (Pricing the pilot's new shares at its own fit instead, iterated to a fixed point, was
tried: zero is always a fixed point — a fit clipped at 0 prices a raise at 0, which wipes out
the holders and confirms the 0 — and the iteration fell into it on the harsher scenarios.)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from simval import layout
from simval.engine import kernels
from simval.engine.runner import ChunkBuffers, Keys
from simval.model.params import KernelParams

__all__ = ["PILOT_CHUNK", "ValueFunction", "fit_value_function",
           "pilot_keys"]

PILOT_SALT = 0x50494C4F
"""Mixed into the seed for the pilot's keys ("PILO"): its paths share no draw with the run's."""

PILOT_CHUNK = 4096
"""Pilot paths simulated at a time (the design array is the pilot's largest)."""


@dataclasses.dataclass(frozen=True)
class ValueFunction:
    """The fitted W_k of one scenario.

    Attributes
    ----------
    coefficients : ndarray, shape (K + 1, N_BASIS)
        beta_k on the basis of :data:`simval.layout.BASIS_NAMES`, per share outstanding at t_k.
    r2 : ndarray, shape (K + 1,)
        In-sample R^2 of each time's regression (NaN where the state does not vary: t_0).
    n_solvent : ndarray of int, shape (K + 1,)
        Pilot paths solvent at each time (the regression's sample).
    n_paths : int
        Pilot paths.
    start_value : float
        W_0 on the pilot: the mean of the fitted value at t_0, E[PV] within the pilot's error.
    gram : ndarray, shape (K + 1, N_BASIS, N_BASIS)
        X'X of each time's regression (for the standard error of a fitted value).
    residual_variance : ndarray, shape (K + 1,)
        The regression's residual variance at each time.
    """

    coefficients: np.ndarray
    r2: np.ndarray
    n_solvent: np.ndarray
    n_paths: int
    start_value: float
    gram: np.ndarray
    residual_variance: np.ndarray

    def standard_error(self, k: int, basis: np.ndarray) -> np.ndarray:
        """Standard error of the fitted value per share at the states ``basis`` (rows of
        the basis of :data:`simval.layout.BASIS_NAMES`) at time ``k``: the residual
        variance times ``x' (X'X)^+ x`` (homoscedastic least squares)."""
        inverse = np.linalg.pinv(self.gram[k], rcond=1e-12)
        quadratic = np.einsum("ij,jk,ik->i", np.atleast_2d(basis), inverse,
                              np.atleast_2d(basis))
        return np.sqrt(np.maximum(quadratic, 0.0) * self.residual_variance[k])


def pilot_keys(seed: int, company: int = 0) -> Keys:
    """The pilot's keys: its own ``(key0, key1)`` per company and macro keys shared by the
    companies of a panel, none equal to a run's (:func:`simval.engine.runner.run_keys`)."""
    own = np.random.SeedSequence([seed, company, PILOT_SALT]).generate_state(2, dtype=np.uint64)
    macro = np.random.SeedSequence([seed, PILOT_SALT]).generate_state(2, dtype=np.uint64)
    return np.uint64(own[0]), np.uint64(own[1]), np.uint64(macro[0]), np.uint64(macro[1])


def fit_value_function(params: KernelParams, values: dict[str, Any], seed: int, *,
                       company: int = 0, n_paths: int | None = None
                       ) -> tuple[KernelParams, ValueFunction | None]:
    """Fit W_k for one scenario and return its parameters with the fit in them.

    Parameters
    ----------
    params : KernelParams
        From :func:`simval.model.params.build_kernel_params`.
    values : dict
        The scenario's validated config (``market.pilot_paths``).
    seed : int
        The run's seed; the pilot draws from :func:`pilot_keys` of it.
    company : int, default: 0
        The company's index in a panel.
    n_paths : int, optional
        Pilot paths (default: ``market.pilot_paths``).

    Returns
    -------
    params : KernelParams
        ``params`` with ``value.value_coefficients`` set (unchanged without the value model).
    fit : ValueFunction or None
        None without the value model (``market.model = "multiple"``).

    Raises
    ------
    ValueError
        If the model values the company at zero at t_0 (then B_0 = V_0 / W_0 is undefined).
    """
    if not params.value.value_model:
        return params, None
    n = int(values["market"]["pilot_paths"] if n_paths is None else n_paths)
    keys = pilot_keys(seed, company)
    path = params.path._replace(antithetic=False)
    first = params._replace(path=path._replace(market_enabled=False),
                            value=params.value._replace(value_model=False, record_state=True))
    fit = _fit(first, keys, n)
    if not fit.start_value > 0.0:
        raise ValueError("the model values the company at zero at t_0 (every pilot path's "
                         "present value is 0), so the price-to-value gap B_0 = V_0 / W_0 is "
                         "undefined: use market.model = \"multiple\"")
    return params._replace(value=params.value._replace(
        value_coefficients=fit.coefficients)), fit


def _fit(params: KernelParams, keys: Keys, n_paths: int) -> ValueFunction:
    """One pass: simulate the pilot in chunks, accumulate the normal equations of every
    time's regression, solve them."""
    times = params.n_steps + 1
    nb = layout.N_BASIS
    gram = np.zeros((times, nb, nb))
    moment = np.zeros((times, nb))
    y_sum = np.zeros(times)
    y_sq = np.zeros(times)
    count = np.zeros(times, dtype=np.int64)
    discount = params.path.discount
    buffers: ChunkBuffers | None = None
    rows_x = np.empty((min(PILOT_CHUNK, n_paths), nb))
    rows_y = np.empty(min(PILOT_CHUNK, n_paths))
    for path0 in range(0, n_paths, PILOT_CHUNK):
        n = min(PILOT_CHUNK, n_paths - path0)
        if buffers is None or buffers.n_paths != n:
            buffers = ChunkBuffers(params, n)
        chunk = buffers.simulate(params, keys, path0)
        pv = chunk.scalars[layout.SCALAR_PV]
        design = buffers.design
        for k in range(times):
            # x is C-contiguous (paths, basis): the layout BLAS is handed fixes the order of
            # its sums, so another (np.compress gives the transpose) changes the fit's last bits
            m = kernels.solvent_rows(design, pv, k, discount[k], rows_x, rows_y)
            x = rows_x[:m]
            y = rows_y[:m]
            gram[k] += x.T @ x
            moment[k] += x.T @ y
            y_sum[k] += y.sum()
            y_sq[k] += y @ y
            count[k] += y.size
    coefficients = np.zeros((times, nb))
    r2 = np.full(times, np.nan)
    residual_variance = np.full(times, np.nan)
    for k in range(times):
        if count[k] < 2 * nb:  # too few solvent paths for the basis: their mean alone
            coefficients[k, 0] = y_sum[k] / count[k] if count[k] else 0.0
            continue
        scale = np.sqrt(np.diag(gram[k]))
        scale[scale == 0.0] = 1.0
        scaled = gram[k] / np.outer(scale, scale)
        beta = np.linalg.lstsq(scaled, moment[k] / scale, rcond=1e-12)[0] / scale
        coefficients[k] = beta
        total = y_sq[k] - y_sum[k] ** 2 / count[k]
        residual = y_sq[k] - 2.0 * beta @ moment[k] + beta @ gram[k] @ beta
        residual_variance[k] = max(residual, 0.0) / max(count[k] - nb, 1)
        if total > 1e-12 * max(y_sq[k], 1e-300):
            r2[k] = 1.0 - max(residual, 0.0) / total
    start = coefficients[0] @ gram[0, 0] / count[0] if count[0] else 0.0
    return ValueFunction(coefficients, r2, count, n_paths, float(start), gram,
                         residual_variance)
