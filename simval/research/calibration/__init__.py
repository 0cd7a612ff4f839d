"""Calibration of the commercial revenue process to a revenue history (``simval calibrate``).

- :mod:`~simval.research.calibration.series`: a revenue history read from CSV
  (:func:`read_revenue_csv`, :class:`RevenueSeries`);
- :mod:`~simval.research.calibration.statespace`: the discretised Schwartz–Moon process as a
  linear-Gaussian state space, a statsmodels ``MLEModel`` (:class:`SchwartzMoonRevenue`);
- :mod:`~simval.research.calibration.fit`: Kalman-filter maximum likelihood with observed
  information standard errors (:func:`calibrate`, :class:`Calibration`);
- :mod:`~simval.research.calibration.priors`: the estimates as text and as the
  ``[uncertainty.priors]`` table of a two-level run (:func:`calibration_table`,
  :func:`priors`, :func:`priors_toml`).

Importing this package imports statsmodels (``import simval`` does not).
"""

from simval.research.calibration.fit import Calibration, calibrate
from simval.research.calibration.priors import calibration_table, priors, priors_toml
from simval.research.calibration.series import RevenueSeries, read_revenue_csv, revenue_series
from simval.research.calibration.statespace import SchwartzMoonRevenue, simulate_log_revenue

__all__ = [
    "Calibration",
    "RevenueSeries",
    "SchwartzMoonRevenue",
    "calibrate",
    "calibration_table",
    "priors",
    "priors_toml",
    "read_revenue_csv",
    "revenue_series",
    "simulate_log_revenue",
]
