"""Scenario weights: validation, the weighted mixture, and its standard error under common
random numbers (checked against the spread over seeds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import simval
from simval.config.load import ConfigError, config_from_dict
from simval.validation.configs import BASE, REAL_WORLD

# PV = e^{-rT} M S_T; the three scenarios differ only in V0, so their events are nested and
# their estimates strongly correlated under common random numbers
GBM = {"simulation": {"horizon_years": 2.0, "valuation_horizon_years": 2.0},
       "company": {"valuation": 1.1e9},
       "commercial": {"growth": 0.2, "growth_long_run": 0.2, "volatility": 0.3,
                      "volatility_long_run": 0.3}}


def _config(weights: dict[str, object]) -> simval.Config:
    valuations = {"base": 1.1e9, "high": 1.2e9, "low": 1.0e9}
    scenarios = {name: {"company": {"valuation": valuations[name]},
                        **({"weight": w} if w is not None else {})}
                 for name, w in weights.items()}
    return config_from_dict(BASE, source="weights.toml",
                            overrides=[REAL_WORLD, GBM, {"scenarios": scenarios}])


def test_weighted_numbers_are_the_weighted_sums_and_the_weights_are_normalised():
    ds = simval.simulate(_config({"base": 1.0, "high": 2.0, "low": 1.0}), n_paths=8192, seed=4)
    w = np.array([0.25, 0.5, 0.25])
    np.testing.assert_allclose(ds.scenario_weight.values, w)
    assert "sum to 4, not 1" in ds.attrs["scenario_weights_note"]
    for name in ("p_collapse", "p_bankrupt", "p_justified", "value_ratio"):
        assert float(ds[f"weighted_{name}"]) == pytest.approx(float((w * ds[name]).sum()),
                                                              rel=1e-12, abs=1e-15)
        assert float(ds[f"weighted_{name}_low"]) <= float(ds[f"weighted_{name}"]) <= \
            float(ds[f"weighted_{name}_high"])
    text = simval.headline_table(ds)
    assert "weighted  (scenario weights: base 0.25, high 0.5, low 0.25)" in text
    assert "note: scenario weights sum to 4, not 1" in text
    # weights summing to 1: no note
    ds1 = simval.simulate(_config({"base": 0.5, "high": 0.5, "low": 0.0}), n_paths=4096)
    assert "scenario_weights_note" not in ds1.attrs
    assert "weighted_p_justified" in ds1 and "p_signal" not in ds1
    # without weights: no weighted variables
    plain = simval.simulate(_config({"base": None, "high": None, "low": None}), n_paths=4096)
    assert "weighted_p_justified" not in plain and "weighted" not in \
        simval.headline_table(plain)


def test_weighted_standard_error_matches_the_spread_over_seeds():
    """The reported s.e. agrees with the standard deviation of the estimate over 40 seeds
    (chi-square bounds at 99.9%), and the naive s.e. that treats the scenarios as independent
    (sqrt(sum w_s^2 Var p_s), too small under common random numbers) is rejected."""
    cfg = _config({"base": 1.0, "high": 1.0, "low": 1.0})
    n_seeds = 40
    runs = [simval.simulate(cfg, n_paths=8192, seed=100 + s) for s in range(n_seeds)]
    lo, hi = (math.sqrt(stats.chi2.ppf(q, n_seeds - 1) / (n_seeds - 1))
              for q in (0.0005, 0.9995))
    for name in ("p_justified", "value_ratio"):
        est = np.array([float(ds[f"weighted_{name}"]) for ds in runs])
        se = math.sqrt(np.mean([float(ds[f"weighted_{name}_se"]) ** 2 for ds in runs]))
        ratio = est.std(ddof=1) / se
        assert lo < ratio < hi, (name, ratio, lo, hi)
        naive = math.sqrt(np.mean([float(((ds.scenario_weight * ds[f"{name}_se"]) ** 2).sum())
                                   for ds in runs]))
        assert not lo < est.std(ddof=1) / naive < hi, (name, est.std(ddof=1) / naive)


@pytest.mark.parametrize(("weights", "words"), [
    ({"base": 0.5, "high": None, "low": 0.5},
     "weights.toml: [scenarios.high].weight is required: weights are given for scenario"),
    ({"base": -0.5, "high": 1.0, "low": 0.5},
     "weights.toml: [scenarios.base].weight must be a number >= 0. Got -0.5 instead."),
    ({"base": "half", "high": 1.0, "low": 0.5},
     "weights.toml: [scenarios.base].weight must be a number >= 0. Got 'half' instead."),
    ({"base": 0, "high": 0, "low": 0.0}, "weights.toml: [scenarios.*].weight must not all be 0"),
])
def test_bad_weights_are_reported_with_file_and_key(weights, words):
    with pytest.raises(ConfigError) as err:
        _config(weights)
    assert words in str(err.value)


def test_weight_is_not_a_config_key():
    """``weight`` is taken out of the scenario table before it is merged onto the base: the
    scenario's values are those of the same scenario without it."""
    a = _config({"base": 0.3, "high": 0.7, "low": 0.0})
    b = _config({"base": None, "high": None, "low": None})
    assert a.scenarios == b.scenarios
    assert a.weights == {"base": 0.3, "high": 0.7, "low": 0.0} and b.weights is None
    assert a.select(["high", "base"]).weights == {"high": 0.7, "base": 0.3}
