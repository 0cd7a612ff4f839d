"""Signals ("what to watch"): validation, closed forms of the signal's probability and of the
headline numbers conditional on it, identity across threads and chunks, the Zhipu config."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats

import simval
from simval.config.load import ConfigError, config_from_dict
from simval.validation import closed_forms as cf
from simval.validation.configs import BASE, REAL_WORLD

ROOT = Path(__file__).resolve().parents[1]
Z = 4.0  # tolerance in reported standard errors

# constant growth mu = 0.2, sigma = 0.3, quarterly steps from 2026-01-01, 2 years; cash 0,
# variable cost ratio 1: PV = e^{-rT} M S_T, a function of terminal revenue only
GBM = {"simulation": {"horizon_years": 2.0, "valuation_horizon_years": 2.0},
       "company": {"valuation": 1.1e9},
       "commercial": {"growth": 0.2, "growth_long_run": 0.2, "volatility": 0.3,
                      "volatility_long_run": 0.3}}
GROWTH = {"kind": "growth", "series": "commercial_revenue", "from": "2026-07-01",
          "to": "2027-07-01", "at_least": 0.2}


def _config(signals: dict, extra: dict | None = None) -> simval.Config:
    import datetime as dt

    def dates(table: dict) -> dict:
        return {k: dt.date.fromisoformat(v) if k in ("from", "to", "by") and isinstance(v, str)
                else v for k, v in table.items()}

    layers = [REAL_WORLD, GBM, extra or {},
              {"signals": {name: dates(t) for name, t in signals.items()}}]
    return config_from_dict(BASE, source="signals.toml", overrides=layers)


def _z(est: float, truth: float, se: float) -> float:
    return abs(est - truth) / se


def test_growth_signal_and_conditional_justified_match_the_bivariate_normal():
    ds = simval.simulate(_config({"g": GROWTH}), n_paths=40_000, seed=3).sel(
        scenario="base", signal="g")
    # X = ln S(1.5y) - ln S(0.5y) ~ N((mu - s^2/2) 1, s^2); W = ln S_T ~ N(m_T, s^2 T);
    # Cov(X, W) = s^2 (the window lies inside [0, T])
    m_x, v_x = 0.2 - 0.045, 0.09
    m_w, v_w = cf.log_revenue_moments_gbm(1e8, 0.2, 0.3, 2.0)
    a = math.log(1.2)
    c = math.log(1.1e9 * math.exp(0.1 * 2.0) / 10.0)  # PV >= V0 <=> ln S_T >= c
    p_signal = float(special.ndtr((m_x - a) / math.sqrt(v_x)))
    p_w = float(special.ndtr((m_w - c) / math.sqrt(v_w)))
    joint = float(stats.multivariate_normal(mean=[-m_x, -m_w],
                                            cov=[[v_x, v_x], [v_x, v_w]]).cdf([-a, -c]))
    assert p_w == pytest.approx(cf.justified_probability(m_w, v_w, 10.0, 0.0, 1.1e9, 0.1, 2.0))
    given, absent = joint / p_signal, (p_w - joint) / (1 - p_signal)
    assert _z(float(ds.p_signal), p_signal, float(ds.p_signal_se)) < Z
    assert _z(float(ds.p_justified_given_signal), given,
              float(ds.p_justified_given_signal_se)) < Z
    assert _z(float(ds.p_justified_given_no_signal), absent,
              float(ds.p_justified_given_no_signal_se)) < Z
    # the wrong target (the signal independent of the outcome) is rejected
    assert _z(float(ds.p_justified_given_signal), p_w, float(ds.p_justified_given_signal_se)) > Z
    # the Clopper-Pearson interval is that of k = joint count out of n = signal count
    n_sig = round(float(ds.p_signal) * 40_000)
    k = round(float(ds.p_justified_given_signal) * n_sig)
    assert float(ds.p_justified_given_signal_low) == pytest.approx(
        stats.beta.ppf(0.025, k, n_sig - k + 1))
    # E[PV | signal] / V0: E[e^W | X >= a] = e^{m_w + v_w/2} Phi((m_x + v_x - a)/sqrt(v_x)) / P
    mean_given = (math.exp(-0.2) * 10.0 * math.exp(m_w + v_w / 2)
                  * special.ndtr((m_x + v_x - a) / math.sqrt(v_x)) / p_signal / 1.1e9)
    assert _z(float(ds.value_ratio_given_signal), mean_given,
              float(ds.value_ratio_given_signal_se)) < Z
    # the two conditionals mix back to the unconditional numbers exactly
    ds_all = simval.simulate(_config({"g": GROWTH}), n_paths=40_000, seed=3).sel(
        scenario="base")
    p = float(ds.p_signal)
    assert p * float(ds.p_justified_given_signal) + (1 - p) * float(
        ds.p_justified_given_no_signal) == pytest.approx(float(ds_all.p_justified), abs=1e-12)
    assert p * float(ds.value_ratio_given_signal) + (1 - p) * float(
        ds.value_ratio_given_no_signal) == pytest.approx(float(ds_all.value_ratio), rel=1e-12)


def test_chip_shock_and_contract_signals_match_their_closed_forms():
    extra = {"chips": {"enabled": True, "shock_rate": 0.5, "haircut_low": 0.1,
                       "haircut_high": 0.2},
             "contracts": {"city": {"revenue": 5e7, "term_years": 1.0,
                                    "first_renewal": __import__("datetime").date(2026, 7, 1),
                                    "renewal_probability": 0.7}}}
    signals = {"shock": {"kind": "chip_shock", "by": "2027-01-01"},
               "kept": {"kind": "contract", "contract": "city", "by": "2026-10-01"},
               "lost": {"kind": "contract", "contract": "city", "by": "2026-10-01",
                        "state": "lost"}}
    ds = simval.simulate(_config(signals, extra), n_paths=20_000, seed=5).sel(scenario="base")
    shock = ds.sel(signal="shock")
    # Poisson shocks at rate 0.5: P(at least one in the first year) = 1 - e^{-0.5}
    assert _z(float(shock.p_signal), 1 - math.exp(-0.5), float(shock.p_signal_se)) < Z
    assert _z(float(shock.p_signal), 1 - math.exp(-0.25), float(shock.p_signal_se)) > Z
    kept, lost = ds.sel(signal="kept"), ds.sel(signal="lost")
    assert _z(float(kept.p_signal), 0.7, float(kept.p_signal_se)) < Z
    assert float(kept.p_signal) + float(lost.p_signal) == pytest.approx(1.0, abs=1e-12)


def test_signal_counts_are_identical_across_threads_and_chunks():
    cfg = _config({"g": GROWTH, "shock": {"kind": "chip_shock", "by": "2026-10-01"}},
                  {"chips": {"enabled": True, "shock_rate": 0.5, "haircut_low": 0.1,
                             "haircut_high": 0.2}})
    a = simval.simulate(cfg, n_paths=3 * 4096 + 100, seed=1, threads=1, chunk_size=4096)
    b = simval.simulate(cfg, n_paths=3 * 4096 + 100, seed=1, threads=2)
    names = [v for v in a.data_vars if "signal" in v]
    assert len(names) >= 20
    for name in names:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


@pytest.mark.parametrize(("table", "words"), [
    ({"kind": "growth", "series": "cash", "from": "2026-07-01", "to": "2027-07-01",
      "at_least": 0.5}, "[signals.x].series must be one of"),
    ({"kind": "growth", "series": "total_revenue", "from": "2027-07-01", "to": "2027-07-01",
      "at_least": 0.5}, "[signals.x].to must be after from (2027-07-01)"),
    ({"kind": "growth", "series": "total_revenue", "from": "2026-07-01", "to": "2029-07-01",
      "at_least": 0.5}, "[signals.x].to must be a date from 2026-01-02 to the question "
                        "horizon 2028-01-01"),
    ({"kind": "growth", "series": "total_revenue", "from": "2026-07-01", "to": "2027-07-01"},
     "[signals.x].at_least is required"),
    ({"kind": "contract", "contract": "nobody", "by": "2027-01-01"},
     "[signals.x].contract must name a contract of [contracts]"),
    ({"kind": "contract", "contract": "nobody", "by": "2025-01-01"},
     "[signals.x].by must be a date from 2026-01-02"),
    ({"kind": "chip_shock", "by": "2027-01-01", "series": "capacity"},
     "[signals.x].series is not a key of a 'chip_shock' signal"),
    ({"kind": "rumour"}, "[signals.x].kind must be one of"),
])
def test_bad_signals_are_reported_with_file_and_key(table, words):
    with pytest.raises(ConfigError) as err:
        _config({"x": table})
    assert f"signals.toml: {words}" in str(err.value)


def test_a_signal_inside_a_scenario_is_refused():
    layers = [REAL_WORLD, GBM, {"scenarios": {"base": {}, "alt": {"signals": {"x": {}}}}}]
    with pytest.raises(ConfigError, match=r"\[scenarios.alt.signals\] is not a known section"):
        config_from_dict(BASE, source="signals.toml", overrides=layers)


def test_zhipu_prints_collapse_given_50_percent_growth_and_its_absence():
    cfg = simval.load_config(ROOT / "configs" / "zhipu_2026.toml").select(["base"])
    assert list(cfg.signals) == ["commercial_growth_50", "beijing_renewed"]
    cfg = copy.deepcopy(cfg)
    ds = simval.simulate(cfg, n_paths=4096, seed=2)
    text = simval.headline_table(ds)
    assert "what to watch" in text
    line = next(i for i, t in enumerate(text.splitlines()) if "50%+ commercial growth" in t)
    block = text.splitlines()[line:line + 3]
    assert "P(signal)" in block[0] and "%" in block[0]
    assert "P(collapse | signal) vs | no signal" in block[1]
    assert block[1].count("[") == 2  # two intervals
    s = ds.sel(scenario="base", signal="commercial_growth_50")
    assert 0 < float(s.p_signal) < 1
    # news of strong growth raises the model's own value of the company (the value model's
    # collapse is all but certain either way: the price is ~240x that value)
    d = float(s.value_ratio_given_signal) - float(s.value_ratio_given_no_signal)
    assert d > 5 * math.hypot(float(s.value_ratio_given_signal_se),
                              float(s.value_ratio_given_no_signal_se))
    assert float(s.p_collapse_given_signal) <= float(s.p_collapse_given_no_signal)


def test_report_has_what_to_watch_and_weighted_sections():
    from simval.report.build import render_markdown

    cfg = _config({"g": GROWTH}, {"scenarios": {"base": {"weight": 0.75},
                                                "rich": {"weight": 0.25,
                                                         "company": {"valuation": 1.2e9}}}})
    ds = simval.simulate(cfg, n_paths=4096, seed=6)
    text = render_markdown(ds)[0]
    watch = text[text.index("## What to watch"):]
    assert "| base: g | " in watch and "| rich: g | " in watch
    row = next(line for line in watch.splitlines() if line.startswith("| base: g |"))
    s = ds.sel(scenario="base", signal="g")
    assert simval.format.format_probability(s, "p_collapse_given_signal") in row
    weighted = text[text.index("## Weighted scenarios"):]
    assert "base 0.75, rich 0.25" in weighted and "| P(PV ≥ V0) |" in weighted
