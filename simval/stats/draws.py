"""Error of a two-level estimate: outer parameter draws crossed with inner paths common to
every draw (MODEL.md 11).

A per-draw estimate ``x_d`` (a probability or a mean over the draw's paths) is the value of
the draw's parameters plus Monte Carlo noise; the predictive (mixture) estimate is their mean
over draws. Because every draw runs on the same paths (common random numbers), the noise of
two draws is correlated, so the spread of ``x_d`` across draws alone misses the noise common
to all of them. :func:`crossed_estimate` splits the paths into independent batches and reads
the two-way layout (draw x batch) as a crossed random-effects design;
:func:`draw_spread_estimate` is the conservative bound for estimates without batch data.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["DrawSplit", "crossed_estimate", "draw_spread_estimate"]


class DrawSplit(NamedTuple):
    """What the draws of one estimate say.

    Attributes
    ----------
    se : float
        Standard error of the predictive estimate (the mean over draws): parameter spread
        and Monte Carlo noise together.
    var_parameter : float
        Variance across draws of the draw's true value (the parameter part of a per-draw
        estimate's variance).
    var_mc : float
        Monte Carlo variance of one draw's estimate (its paths' part).
    """

    se: float
    var_parameter: float
    var_mc: float


def crossed_estimate(y: np.ndarray) -> DrawSplit:
    """Variance of the grand mean of ``y[d, b]``, the mean of batch ``b`` of paths under draw
    ``d``, batches independent and common to every draw.

    With ``y_db = mu + r_d + c_b + e_db`` (draw, batch and interaction effects: the Hoeffding
    decomposition of a function of independent draws and paths), the mean squares of the
    two-way layout estimate ``s_r^2 = (MS_row - MS_res) / B``, ``s_c^2 = (MS_col - MS_res) /
    D`` and ``s_e^2 = MS_res`` (each floored at 0), and::

        Var(mean) = s_r^2 / D + s_c^2 / B + s_e^2 / (D B)
        var_parameter = s_r^2,  var_mc = (s_c^2 + s_e^2) / B

    Draws from a scrambled Sobol' sequence or a Latin hypercube vary less than independent
    ones, so the draw term is then conservative. NaN from fewer than two draws or batches.

    Examples
    --------
    >>> y = np.array([[0.1, 0.3], [0.5, 0.7]])   # two draws, two batches, no interaction
    >>> est = crossed_estimate(y)
    >>> round(est.var_parameter, 6), round(est.var_mc, 6), round(est.se**2, 6)
    (0.08, 0.01, 0.05)
    """
    y = np.asarray(y, dtype=float)
    d, b = y.shape
    if d < 2 or b < 2 or not np.all(np.isfinite(y)):
        return DrawSplit(np.nan, np.nan, np.nan)
    grand = y.mean()
    row, col = y.mean(axis=1), y.mean(axis=0)
    ms_row = b * np.sum((row - grand) ** 2) / (d - 1)
    ms_col = d * np.sum((col - grand) ** 2) / (b - 1)
    resid = y - row[:, None] - col[None, :] + grand
    ms_res = np.sum(resid**2) / ((d - 1) * (b - 1))
    s_r = max((ms_row - ms_res) / b, 0.0)
    s_c = max((ms_col - ms_res) / d, 0.0)
    var = s_r / d + s_c / b + ms_res / (d * b)
    return DrawSplit(float(np.sqrt(var)), float(s_r), float((s_c + ms_res) / b))


def draw_spread_estimate(x: np.ndarray, se: np.ndarray) -> DrawSplit:
    """The same from per-draw estimates ``x_d`` and their Monte Carlo standard errors
    ``se_d`` alone (no batch data), conservatively.

    ``var_mc`` is the mean of ``se_d^2`` and ``var_parameter = max(S^2 - var_mc, 0)`` with
    ``S^2`` the sample variance of ``x_d``; the predictive estimate's variance is taken as
    ``S^2 / D + var_mc``, its upper bound when the noise of different draws is correlated
    (common random numbers) at any level up to 1. Draws with a NaN estimate are left out.

    Examples
    --------
    >>> est = draw_spread_estimate(np.array([0.2, 0.4]), np.array([0.0, 0.0]))
    >>> round(est.se**2, 6), round(est.var_parameter, 6)
    (0.01, 0.02)
    """
    x, se = np.asarray(x, dtype=float), np.asarray(se, dtype=float)
    ok = np.isfinite(x)
    x, se = x[ok], se[ok]
    if x.size < 2:
        return DrawSplit(np.nan, np.nan, np.nan)
    s2 = float(np.var(x, ddof=1))
    var_mc = float(np.nanmean(se**2)) if np.isfinite(se).any() else 0.0
    return DrawSplit(float(np.sqrt(s2 / x.size + var_mc)), max(s2 - var_mc, 0.0), var_mc)
