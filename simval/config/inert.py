"""Configured drivers that cannot act (MODEL.md §10.5): keys a scenario sets that no path can
feel. :meth:`simval.config.load.Config.warnings` reports them; ``simval validate`` and
``simval run`` print them.

Each check reads one validated scenario (the ``values`` of the loader) and is conservative: it
warns only when the key cannot act on any path, from the config alone.
"""

from __future__ import annotations

import itertools
from typing import Any

from simval.layout import DAYS_PER_YEAR

__all__ = ["inert_parameters"]

_SLACK = 1.1
"""Two renewals closer than this many steps may fall in one step (grid dates follow calendar
months, so a step is 28-31 days long at monthly resolution)."""


def inert_parameters(values: dict[str, Any]) -> list[str]:
    """What the scenario ``values`` configures but cannot act, one sentence each.

    Parameters
    ----------
    values : dict
        One validated scenario (:attr:`simval.config.load.Config.scenarios`).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import simval
    >>> text = '''
    ... [company]
    ... name = "X"
    ... currency = "USD"
    ... as_of = 2026-01-01
    ... valuation = 1e9
    ... [simulation]
    ... horizon_years = 2
    ... discount_rate = 0.1
    ... [commercial]
    ... revenue = 1e8
    ... growth = 0.3
    ... growth_long_run = 0.1
    ... [costs]
    ... variable_cost_ratio = 0.5
    ... fixed_costs = 0.0
    ... cash = 1e8
    ... [valuation]
    ... terminal_method = "ev_sales"
    ... exit_multiple_median = 10
    ... '''
    >>> inert_parameters(simval.parse_config(text).base)[0][:60]
    'commercial.growth_long_run (0.1) does nothing: with commerci'
    """
    return [*_growth_long_run(values), *_renewal_correlation(values),
            *_slowdown_overrides(values), *_market_model_keys(values),
            *_value_model_recovery(values)]


_MULTIPLE_ONLY = {"long_run_multiple": None, "mean_reversion": 0.0, "volatility": 0.0}
_VALUE_ONLY = {"gap_long_run": 1.0, "gap_half_life_years": None, "gap_volatility": 0.0}


def _value_model_recovery(values: dict[str, Any]) -> list[str]:
    """The value model values a bankrupt path at 0, while its PV keeps the recovery."""
    recovery = values["bankruptcy"]["recovery"]
    if values["market"]["model"] != "value" or recovery == 0.0:
        return []
    return [f"bankruptcy.recovery ({recovery:g}) is not in the value model's W: a bankrupt "
            "path's W is 0 while its PV keeps the recovered terminal value, so W_t understates "
            "E[PV] by the bankrupt paths' share and every bankruptcy counts as a fundamental "
            "collapse (set recovery = 0, or read P(company alone) as an upper bound)"]


def _market_model_keys(values: dict[str, Any]) -> list[str]:
    """Keys of the other market model: the multiple's under model = value and the gap's
    under model = multiple (a slowdown override counts too)."""
    mkt, slow = values["market"], values["slowdown"]["market"]
    unused = _MULTIPLE_ONLY if mkt["model"] == "value" else _VALUE_ONLY
    moved = [f"market.{k}" for k, default in unused.items() if mkt[k] != default]
    moved += [f"slowdown.market.{k}" for k in unused
              if k in slow and slow[k] != mkt[k]]
    if not moved:
        return []
    other = "multiple" if mkt["model"] == "value" else "value"
    return [f"{', '.join(moved)} do nothing: they belong to market.model = {other!r}, and this "
            f"scenario's market follows model = {mkt['model']!r}"]


def _growth_long_run(values: dict[str, Any]) -> list[str]:
    com, val = values["commercial"], values["valuation"]
    if com["mean_reversion"] != 0.0:
        return []
    long_run = {com["growth_long_run"], values["slowdown"]["commercial"]["growth_long_run"]}
    if long_run == {com["growth"]}:
        return []
    if val["exit_multiple_growth_slope"] != 0.0 and val["exit_reference_growth"] is None:
        return []  # it is the exit multiple's reference growth
    return [f"commercial.growth_long_run ({com['growth_long_run']:g}) does nothing: with "
            "commercial.mean_reversion = 0 expected growth never moves toward it (set "
            "mean_reversion > 0, or growth_long_run = growth)"]


def _renewal_times(contract: dict[str, Any], first_years: float, horizon: float) -> list[float]:
    """Years (from as_of) at which a named contract can come up for renewal before
    ``horizon``: ``first + a·term + b·(delay + term)``, the delay only if it can be replaced."""
    term = contract["term_years"]
    cycle = (contract["replacement_delay_years"] + term
             if contract["replacement_probability"] > 0.0 else None)
    times, frontier = set(), [first_years]
    while frontier:
        t = frontier.pop()
        if t > horizon + 1e-9 or round(t, 9) in times:
            continue
        times.add(round(t, 9))
        frontier.append(t + term)
        if cycle is not None:
            frontier.append(t + cycle)
    return sorted(times)


def _renewal_correlation(values: dict[str, Any]) -> list[str]:
    ren = values["renewals"]
    if ren["correlation"] == 0.0 or ren["budget_weight"] > 0.0:
        return []
    exp_ = values["expansion"]
    named = values["contracts"]
    if exp_["enabled"] and exp_["pool_size"] >= 1 and (exp_["pool_size"] >= 2 or named):
        return []  # won contracts renew at random steps: some may coincide
    sim = values["simulation"]
    step = 1.0 / sim["steps_per_year"]
    as_of = values["company"]["as_of"]
    times = [_renewal_times(c, (c["first_renewal"] - as_of).days / DAYS_PER_YEAR,
                            sim["valuation_horizon_years"]) for c in named.values()]
    for a, b in itertools.combinations(times, 2):
        if any(abs(s - t) < _SLACK * step for s in a for t in b):
            return []
    return [f"renewals.correlation ({ren['correlation']:g}) does nothing: no two renewals can "
            "fall in the same step, and the copula factor is drawn per step (set "
            "renewals.budget_weight > 0 for a factor shared across dates)"]


def _slowdown_overrides(values: dict[str, Any]) -> list[str]:
    reg = values["regime"]
    if reg["initial"] == "slowdown" or (reg["enabled"]
                                        and reg["hazard_normal_to_slowdown"] > 0.0):
        return []
    slow = values["slowdown"]
    moved = []
    for section, table in slow.items():
        if section == "contracts":
            for name, keys in table.items():
                moved += [f"slowdown.contracts.{name}.{k}" for k, v in keys.items()
                          if v != values["contracts"][name][k]]
        else:
            moved += [f"slowdown.{section}.{k}" for k, v in table.items()
                      if v != values[section][k]]
    if not moved:
        return []
    return [f"{', '.join(moved)} do nothing: the slowdown regime is never entered (regime "
            "off or hazard_normal_to_slowdown = 0, and initial = 'normal')"]
