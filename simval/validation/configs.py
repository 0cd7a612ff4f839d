"""The configs of the validation checks, and their simulation.

Each check isolates one component in a small config: :data:`BASE` (one company, two years, no
costs, no other driver) with the check's own tables merged on, validated by the config loader
(:func:`simval.config.load.config_from_dict`) like any TOML config. A config may have
``scenarios`` tables, which override it as in a TOML config.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any

import xarray as xr

from simval.config.load import Config, config_from_dict
from simval.simulate import simulate

__all__ = ["BASE", "check_config", "clear_cache", "simulate_check", "time_steps"]

AS_OF = dt.date(2026, 1, 1)

BASE: dict[str, dict[str, Any]] = {
    "company": {"name": "Validation", "currency": "USD", "as_of": AS_OF, "valuation": 1e9},
    "simulation": {"horizon_years": 2.0, "steps_per_year": 4},
    "commercial": {"revenue": 1e8, "growth": 0.0, "growth_long_run": 0.0},
    # variable cost ratio 1 and no fixed costs: EBITDA is 0, cash stays at X_0 (r_f = 0)
    "costs": {"variable_cost_ratio": 1.0, "fixed_costs": 0.0, "cash": 0.0},
    "valuation": {"terminal_method": "ev_sales", "exit_multiple_median": 10.0},
}
"""What every check config shares; a check's config is this with its own tables merged on.
The closed forms are of quantities at the horizon T, so every check values at its question
horizon (``valuation_horizon_years = horizon_years``, set by :func:`check_config`)."""

REAL_WORLD = {"simulation": {"measure": "real_world", "discount_rate": 0.1}}
"""The measure and discount rate of every check that does not set ``measure =
"risk_neutral"`` (which takes no discount rate)."""

GBM = {"simulation": {"horizon_years": 2.0},
       "commercial": {"growth": 0.2, "growth_long_run": 0.2, "volatility": 0.3,
                      "volatility_long_run": 0.3}}

GROWTH_OU = {"simulation": {"horizon_years": 3.0},
             "commercial": {"growth": 0.5, "growth_long_run": 0.1, "mean_reversion": 1.0,
                            "growth_volatility": 0.2, "growth_volatility_decay": 0.3}}

SM_CONST = {"simulation": {"horizon_years": 5.0},
            "commercial": {"growth": 0.4, "growth_long_run": 0.1, "mean_reversion": 0.5,
                           "volatility": 0.25, "volatility_long_run": 0.25,
                           "growth_volatility": 0.15, "correlation": 0.6}}

SM_RN = {"simulation": {"horizon_years": 5.0, "measure": "risk_neutral"},
         "commercial": {"growth": 0.5, "growth_long_run": 0.08, "mean_reversion": 0.4,
                        "volatility": 0.4, "volatility_long_run": 0.2, "volatility_decay": 0.3,
                        "growth_volatility": 0.2, "growth_volatility_decay": 0.2,
                        "correlation": -0.3, "price_of_revenue_risk": 0.1,
                        "price_of_growth_risk": 0.3},
         "costs": {"risk_free_rate": 0.03}}

REGIME = {"simulation": {"horizon_years": 5.0},
          "regime": {"enabled": True, "hazard_normal_to_slowdown": 0.5,
                     "hazard_slowdown_to_normal": 1.0},
          "scenarios": {"base": {}, "from_slowdown": {"regime": {"initial": "slowdown"}}}}

CHIP_COUNT = {"chips": {"enabled": True, "shock_rate": 1.5, "haircut_distribution": "fixed",
                        "haircut_low": 0.1}}

CHIP_UNIFORM = {"chips": {"enabled": True, "shock_rate": 1.0, "haircut_distribution": "uniform",
                          "haircut_low": 0.1, "haircut_high": 0.3}}

CHIP_RECOVERY = {"simulation": {"horizon_years": 3.0},
                 "chips": {"enabled": True, "shock_rate": 1.0,
                           "haircut_distribution": "uniform", "haircut_low": 0.1,
                           "haircut_high": 0.3, "recovery_half_life_years": 1.0}}

N_CONTRACTS = 10

RENEWALS = {"simulation": {"horizon_years": 1.0},
            "contracts": {f"c{j}": {"revenue": 1e7, "term_years": 5.0,
                                    "first_renewal": dt.date(2026, 7, 1),
                                    "renewal_probability": 0.7}
                          for j in range(N_CONTRACTS)},
            "scenarios": {"base": {}, "copula": {"renewals": {"correlation": 0.4}}}}

SURVIVAL = {"simulation": {"horizon_years": 5.0},
            "contracts": {"c": {"revenue": 1e7, "term_years": 1.0,
                                "first_renewal": dt.date(2026, 7, 1),
                                "renewal_probability": 0.8, "replacement_probability": 0.5,
                                "replacement_delay_years": 0.5}}}

PRICE = {"simulation": {"horizon_years": 3.0},
         "contracts": {"c": {"revenue": 1e7, "escalation": 0.03, "term_years": 1.0,
                             "first_renewal": dt.date(2027, 1, 1), "renewal_probability": 1.0,
                             "price_change_median": 1.05, "price_change_dispersion": 0.2}}}

POOL = 5

EXPANSION = {"simulation": {"horizon_years": 3.0},
             "expansion": {"enabled": True, "pool_size": POOL, "win_rate": 1.5,
                           "revenue_median": 1e7, "revenue_dispersion": 0.5,
                           "term_years": 10.0}}

MARKET_OU = {"simulation": {"horizon_years": 3.0},
             "market": {"enabled": True, "long_run_multiple": 5.0, "mean_reversion": 0.5,
                        "volatility": 0.4}}

CHIP_JUMPS = {"commercial": {"capacity_elasticity": 0.0},
              "chips": {"enabled": True, "shock_rate": 1.0, "haircut_distribution": "fixed",
                        "haircut_low": 0.1, "multiple_jump_median": 0.8,
                        "multiple_jump_dispersion": 0.2},
              "market": {"enabled": True, "long_run_multiple": 10.0}}

SLOW_JUMPS = {"simulation": {"horizon_years": 3.0},
              "regime": {"enabled": True, "hazard_normal_to_slowdown": 0.5,
                         "hazard_slowdown_to_normal": 1.0},
              "market": {"enabled": True, "long_run_multiple": 10.0,
                         "slowdown_jump_median": 0.7, "slowdown_jump_dispersion": 0.2}}

COLLAPSE_D = 0.3

COLLAPSE = {"simulation": {"horizon_years": 3.0, "steps_per_year": 24},
            "commercial": {"growth": 0.1, "growth_long_run": 0.1},
            "market": {"enabled": True, "long_run_multiple": 10.0, "volatility": 0.4,
                       "collapse_drawdown": COLLAPSE_D}}

JUSTIFIED = {"company": {"valuation": 6e8},
             "simulation": {"horizon_years": 3.0, "discount_rate": 0.08},
             "commercial": {"growth": 0.3, "growth_long_run": 0.1, "mean_reversion": 0.5,
                            "volatility": 0.3, "volatility_long_run": 0.3,
                            "growth_volatility": 0.1, "correlation": 0.4},
             "costs": {"cash": 2e8},
             "valuation": {"exit_multiple_median": 8.0, "exit_multiple_dispersion": 0.5}}

PV_MEAN = {"simulation": {"horizon_years": 3.0, "measure": "risk_neutral"},
           "commercial": {"growth": 0.3, "growth_long_run": 0.1, "mean_reversion": 0.5,
                          "volatility": 0.3, "volatility_long_run": 0.3,
                          "growth_volatility": 0.1, "correlation": 0.3,
                          "price_of_revenue_risk": 0.2, "price_of_growth_risk": 0.3},
           "costs": {"cash": 5e8, "risk_free_rate": 0.04},
           "valuation": {"exit_multiple_median": 8.0, "exit_multiple_dispersion": 0.2}}

TAM = 1e9

MARKET_SIZE = {**GBM,
               "market_size": {"enabled": True, "points": [[2020, TAM], [2035, TAM]],
                               "max_share": 0.15, "multiplier_dispersion": 0.3}}

FINANCING = {"simulation": {"horizon_years": 4.0},
             "costs": {"fixed_costs": 4e8, "cash": 4e8},
             "financing": {"enabled": True, "cash_floor": 0.0, "amount": 4e8,
                           "probability": 0.7}}

FULL = {
    "company": {"valuation": 50e9, "net_debt": 1e9},
    "simulation": {"horizon_years": 3.0},
    "regime": {"enabled": True, "hazard_normal_to_slowdown": 0.3,
               "hazard_slowdown_to_normal": 0.8},
    "commercial": {"revenue": 1e9, "growth": 0.4, "growth_long_run": 0.15,
                   "mean_reversion": 0.5, "volatility": 0.4, "volatility_long_run": 0.2,
                   "volatility_decay": 0.3, "growth_volatility": 0.1,
                   "growth_volatility_decay": 0.2, "correlation": 0.3},
    "contracts": {
        "city": {"revenue": 1.5e9, "escalation": 0.02, "term_years": 2.0,
                 "first_renewal": dt.date(2027, 1, 1), "renewal_probability": 0.8,
                 "price_change_median": 1.05, "price_change_dispersion": 0.1,
                 "replacement_probability": 0.3, "replacement_delay_years": 0.5},
        "ministry": {"revenue": 0.5e9, "term_years": 1.0,
                     "first_renewal": dt.date(2026, 12, 31), "renewal_probability": 0.7,
                     "capacity_elasticity": 0.5}},
    "renewals": {"correlation": 0.4},
    "expansion": {"enabled": True, "pool_size": 5, "win_rate": 1.5, "revenue_median": 0.2e9,
                  "revenue_dispersion": 0.5, "term_years": 1.0, "renewal_probability": 0.9},
    "chips": {"enabled": True, "shock_rate": 0.6, "haircut_low": 0.15, "haircut_high": 0.2,
              "recovery_half_life_years": 1.0, "cost_sensitivity": 0.3,
              "multiple_jump_median": 0.8, "multiple_jump_dispersion": 0.2},
    "market_size": {"enabled": True, "currency": "CNY", "fx_rate": 0.14,
                    "points": [[2024, 35e9], [2027, 84e9], [2030, 175e9]], "max_share": 0.2,
                    "multiplier_dispersion": 0.2},
    "costs": {"variable_cost_ratio": 0.5, "fixed_costs": 1.5e9, "fixed_cost_growth": 0.05,
              "capex_ratio": 0.05, "tax_rate": 0.25, "loss_carryforward": 1e9, "cash": 2e9,
              "risk_free_rate": 0.02},
    "financing": {"enabled": True, "cash_floor": 0.5e9, "amount": 2e9, "probability": 0.7},
    "valuation": {"exit_multiple_median": 12.0, "exit_multiple_dispersion": 0.2},
    "market": {"enabled": True, "long_run_multiple": 15.0, "mean_reversion": 0.4,
               "volatility": 0.3, "slowdown_jump_median": 0.6,
               "slowdown_jump_dispersion": 0.2, "threshold": 20e9},
    "slowdown": {"commercial": {"growth_long_run": 0.05}, "chips": {"shock_rate": 1.2},
                 "expansion": {"win_rate": 0.5}, "market": {"long_run_multiple": 8.0},
                 "financing": {"probability": 0.3},
                 "contracts": {"city": {"renewal_probability": 0.5}}},
}
"""Every driver switched on (the test suite's full config, in USD with a CNY market size)."""


# ------------------------------------------------------------------------------------------
# building and simulating a check's config


def check_config(over: dict[str, Any]) -> Config:
    """The validated config of a check: :data:`BASE`, then :data:`REAL_WORLD` unless ``over``
    sets ``measure = "risk_neutral"``, then ``over`` (nested tables), merged by the loader.

    Parameters
    ----------
    over : dict
        The check's tables, ``{section: {key: value}}``, as :mod:`tomllib` would read them.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        If the merged config is invalid.
    """
    risk_neutral = over.get("simulation", {}).get("measure") == "risk_neutral"
    layers = [over] if risk_neutral else [REAL_WORLD, over]
    horizon = over.get("simulation", {}).get("horizon_years", BASE["simulation"]["horizon_years"])
    layers.append({"simulation": {"valuation_horizon_years": horizon}})
    return config_from_dict(BASE, source="validation.toml", overrides=layers)


_RUNS: OrderedDict[tuple[str, int, int, bool], xr.Dataset] = OrderedDict()
_MAX_RUNS = 4  # the checks of one config run one after another


def simulate_check(over: dict[str, Any], n_paths: int, seed: int, keep: bool = True,
                   scenario: str = "base") -> xr.Dataset:
    """Results of one scenario of a check's config (every path kept unless ``keep`` is
    False). The last few runs are cached, so checks of the same config share a run."""
    key = (repr(over), n_paths, seed, keep)
    if key in _RUNS:
        _RUNS.move_to_end(key)
    else:
        _RUNS[key] = simulate(check_config(over), n_paths=n_paths, seed=seed,
                              keep_paths=n_paths if keep else 0)
        while len(_RUNS) > _MAX_RUNS:
            _RUNS.popitem(last=False)
    return _RUNS[key].sel(scenario=scenario)


def clear_cache() -> None:
    """Forget the cached runs of :func:`simulate_check`."""
    _RUNS.clear()


def time_steps(over: dict[str, Any]) -> tuple[float, int, int]:
    """``(Δt, steps per year, K)`` of a check's config."""
    sim = check_config(over).base["simulation"]
    n = int(sim["steps_per_year"])
    return 1.0 / n, n, round(sim["horizon_years"] * n)
