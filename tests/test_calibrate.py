"""simval calibrate: the state space is the kernel's revenue step, maximum likelihood recovers
known parameters, its intervals cover at their nominal rate, and the shipped histories
calibrate."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtri

import simval
from simval.config.override import override
from simval.research.calibration import (
    SchwartzMoonRevenue,
    calibrate,
    calibration_table,
    priors,
    priors_toml,
    read_revenue_csv,
    revenue_series,
    simulate_log_revenue,
)
from simval.research.calibration.statespace import PARAMETERS
from simval.research.cli import main as research_main

ROOT = Path(__file__).resolve().parents[1]
DATA = sorted((ROOT / "data").glob("*.csv"))
TRUTH = {"growth_long_run": 0.15, "mean_reversion": 1.0, "volatility": 0.04,
         "growth_volatility": 0.2}


def _quarters(n: int) -> list[dt.date]:
    """Quarter ends from 31 March 2000."""
    out = []
    for k in range(n):
        year, q = 2000 + k // 4, k % 4
        month = 3 * (q + 1)
        day = 31 if month in (3, 12) else 30
        out.append(dt.date(year, month, day))
    return out


def _synthetic(rng: np.random.Generator, n: int, **truth):
    y, mu = simulate_log_revenue(rng, n, growth=0.6, **truth)
    return revenue_series(_quarters(n), np.exp(y) * 0.25), mu


def test_state_space_is_the_kernels_revenue_step():
    """The transition of one quarter is the kernel's (params.py's OU factors, Euler log step)."""
    from simval.model.params import build_kernel_params, make_time_grid

    values = simval.load_config(ROOT / "configs" / "schwartz_moon_amazon.toml").base
    kernel = build_kernel_params(values, make_time_grid(values)).path
    com = values["commercial"]
    model = SchwartzMoonRevenue(np.zeros(10), dt=1 / values["simulation"]["steps_per_year"])
    params = np.array([com["growth_long_run"], com["mean_reversion"], 0.2, 0.3, 0.5, 0.0])
    model.update(params)
    a, dt_ = model["transition"][1, 1], model.dt
    assert dt_ == 0.25 and a == pytest.approx(kernel.mu_decay, rel=1e-14)
    assert model["transition"][0, 1] == dt_
    assert model["state_cov"][1, 1] == pytest.approx((0.3 * kernel.mu_vol_factor) ** 2,
                                                     rel=1e-12)
    assert model["state_cov"][0, 0] == pytest.approx(0.2 ** 2 * dt_)
    assert model["state_cov"][0, 1] == pytest.approx(0.5 * 0.2 * math.sqrt(dt_) * 0.3
                                                     * kernel.mu_vol_factor)
    assert model["state_intercept"][0] == pytest.approx(-0.5 * 0.2 ** 2 * dt_)
    assert model["state_intercept"][1] == pytest.approx(com["growth_long_run"] * (1 - a))


def test_shipped_histories_read_with_their_source_and_unit():
    assert len(DATA) >= 2
    for path in DATA:
        series = read_revenue_csv(path)
        assert series.currency == "USD" and series.unit == 1e6 and series.period_months == 3
        assert series.source and len(series) >= 16
        assert np.all(series.revenue > 0)


@pytest.mark.parametrize(("rows", "message"), [
    ("2020-03-31,1\n2020-06-30,2\n2020-12-31,3\n2021-03-31,4", "not regular"),
    ("2020-03-31,1\n2020-06-30,-2\n2020-09-30,3", "positive"),
    ("2020-06-30,1\n2020-03-31,2", "increase"),
])
def test_bad_histories_are_refused(tmp_path, rows, message):
    path = tmp_path / "bad.csv"
    path.write_text("# currency: USD\ndate,revenue\n" + rows + "\n")
    with pytest.raises(ValueError, match=message):
        read_revenue_csv(path)


def test_a_long_series_recovers_the_parameters():
    """200 quarters simulated from known parameters: every parameter, the speed of reversion
    included, is estimated within 4 standard errors of the truth, with small errors."""
    series, mu = _synthetic(np.random.default_rng(11), 200, **TRUTH)
    cal = calibrate(series, identify=False)
    assert cal.held.keys() == {"correlation", "measurement_noise"}
    se = cal.se
    for name, true in [*TRUTH.items(), ("growth", mu[-1])]:
        assert abs(cal.value(name) - true) < 4 * se[name], (name, cal.value(name), se[name])
    assert se["volatility"] < 0.2 * TRUTH["volatility"]
    assert se["growth_long_run"] < 0.05


def _coverage(reps: int, n: int, confidence: float, sd_factors: tuple[float, ...],
              fixed: dict | None, seed: int) -> dict[float, dict[str, float]]:
    """Per factor f, per key: the share of ``reps`` synthetic histories of ``n`` quarters whose
    prior's central ``confidence`` interval with its sd times f (normal, or log-normal on the
    log scale) covers the truth, with the parameters ``fixed`` held at their true values."""
    z = float(ndtri(0.5 + confidence / 2))
    rng = np.random.default_rng(seed)
    hits: dict[float, dict[str, int]] = {f: {} for f in sd_factors}
    for _ in range(reps):
        series, mu = _synthetic(rng, n, **TRUTH)
        cal = calibrate(series, identify=False, fixed=fixed)
        for key, prior in priors(cal).items():
            name = key.split(".")[1]
            true = mu[-1] if name == "growth" else TRUTH[name]
            if prior["dist"] == "normal":
                error, sd = abs(prior["mean"] - true), prior["sd"]
            else:
                error, sd = abs(math.log(true / prior["median"])), prior["sigma"]
            for f in sd_factors:
                hits[f][key] = hits[f].get(key, 0) + bool(error <= z * f * sd)
    return {f: {k: v / reps for k, v in h.items()} for f, h in hits.items()}


def _within(rate: float, nominal: float, reps: int, k: float = 4.0) -> bool:
    return abs(rate - nominal) <= k * math.sqrt(nominal * (1 - nominal) / reps)


def test_intervals_cover_the_truth_at_their_nominal_rate():
    """Over 200 replications of 25 years of quarters the 90% intervals of the priors (estimate
    ± z s.e. from the observed information; the growth rate's from the filter plus the
    parameters' uncertainty) cover the true values at 90% within 4 binomial sd; the same
    intervals with the s.e. halved (a wrong target) undercover and are rejected."""
    reps, nominal = 200, 0.90
    rates = _coverage(reps, 100, nominal, (1.0, 0.5),
                      fixed={"mean_reversion": TRUTH["mean_reversion"]}, seed=2026)
    assert set(rates[1.0]) == {"commercial.growth", "commercial.growth_long_run",
                               "commercial.volatility", "commercial.growth_volatility"}
    for key, rate in rates[1.0].items():
        assert _within(rate, nominal, reps), (key, rate)
    for key, rate in rates[0.5].items():
        assert not _within(rate, nominal, reps), (key, rate)


@pytest.mark.slow
def test_intervals_cover_with_every_parameter_free():
    """As above with the reversion speed estimated too, on 50 years of quarters (shorter
    histories do not identify it; 100 replications, about a minute and a half on two cores)."""
    reps, nominal = 100, 0.90
    rates = _coverage(reps, 200, nominal, (1.0, 0.5), fixed=None, seed=7)
    assert "commercial.mean_reversion" in rates[1.0]
    for key, rate in rates[1.0].items():
        assert _within(rate, nominal, reps), (key, rate)
    for key, rate in rates[0.5].items():
        assert not _within(rate, nominal, reps), (key, rate)


@pytest.mark.parametrize("path", DATA, ids=[p.stem for p in DATA])
def test_shipped_histories_calibrate(path):
    cal = calibrate(path)
    for name in cal.names:
        assert math.isfinite(cal.value(name)) and 0 < cal.se[name] < math.inf, name
    assert -0.5 < cal.growth < 1.5 and cal.revenue > 1e9
    table = tomllib.loads(priors_toml(cal))
    assert set(table["uncertainty"]["priors"]) == {f"commercial.{n}" for n in cal.names}
    text = calibration_table(cal)
    assert "commercial.growth_long_run" in text and "held" in text


def test_with_a_config_the_unidentified_are_held_at_its_values():
    config = override(simval.load_config(ROOT / "configs" / "zhipu_2026.toml"),
                      {"commercial.correlation": 0.3})  # not the fallback 0
    cal = calibrate(ROOT / "data" / "palantir.csv", config=config)
    assert cal.estimates["correlation"] == config.base["commercial"]["correlation"] == 0.3
    assert any("not identified" in why for why in cal.held.values())
    for name, why in cal.held.items():
        if "not identified" in why:
            assert cal.estimates[name] == config.base["commercial"][name]
    assert any("currency" in note or "CNY" in note for note in cal.notes)


def test_fixed_and_free():
    cal = calibrate(ROOT / "data" / "datadog.csv",
                    fixed={"commercial.mean_reversion": 1.0, "growth_volatility": 0.2},
                    free=["measurement_noise"], identify=False)
    assert cal.estimates["mean_reversion"] == 1.0 and cal.estimates["growth_volatility"] == 0.2
    assert "measurement_noise" in cal.names and "mean_reversion" not in cal.names
    assert "commercial.measurement_noise" not in priors(cal)
    with pytest.raises(ValueError, match="not a parameter"):
        calibrate(ROOT / "data" / "datadog.csv", fixed={"commercial.revenue": 1.0})


def test_table_of_an_estimate_far_below_its_standard_error():
    """Held only where the user says, datadog's volatility goes to about 2.5e-5 with an s.e.
    of 0.04: its log-normal interval is [0, inf], not an overflow."""
    cal = calibrate(ROOT / "data" / "datadog.csv", fixed={"mean_reversion": 1.0},
                    free=["measurement_noise"], identify=False)
    assert cal.se["volatility"] > 1000 * cal.estimates["volatility"]
    row = next(line for line in calibration_table(cal).splitlines()
               if line.startswith("commercial.volatility"))
    assert "[0, inf]" in row


def test_cli_writes_a_priors_table_that_parses(tmp_path, capsys):
    out = tmp_path / "priors.toml"
    csv = str(ROOT / "data" / "datadog.csv")
    assert research_main(["calibrate", csv, "--out", str(out), "--config",
                          str(ROOT / "configs" / "zhipu_2026.toml")]) == 0
    printed = capsys.readouterr().out
    assert "commercial.volatility" in printed and "priors written to" in printed
    table = tomllib.loads(out.read_text())["uncertainty"]
    assert table["priors"], table
    for key, prior in table["priors"].items():
        assert key.startswith("commercial.") and key.split(".")[1] in (*PARAMETERS, "growth")
        if prior["dist"] == "normal":
            assert set(prior) == {"dist", "mean", "sd"} and prior["sd"] > 0
        else:
            assert prior["dist"] == "lognormal" and set(prior) == {"dist", "median", "sigma"}
            assert prior["median"] > 0 and prior["sigma"] > 0
    for a, b, r in table.get("correlations", []):
        assert a in table["priors"] and b in table["priors"] and -1 <= r <= 1
    assert research_main(["calibrate", csv, "--out", str(out)]) == 2  # exists: --force
    assert research_main(["calibrate", csv, "--out", str(out), "--force"]) == 0
    assert research_main(["calibrate", csv, "--fix", "commercial.mean_reversion=0.5"]) == 0
    assert '[uncertainty.priors]' in capsys.readouterr().out


@pytest.mark.slow
def test_experiment_calibrates_and_writes_a_config(tmp_path):
    """experiments/calibrated_valuation.py runs; its config parses, carries the dynamics'
    priors, and is a valid config once its [uncertainty] tables are taken out."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / "calibrated_valuation.py"),
                           "--draws", "4", "--paths", "512", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Conclusion:" in proc.stdout
    path = tmp_path / "zhipu_2026_calibrated.toml"
    text = path.read_text()
    table = tomllib.loads(text)["uncertainty"]
    assert table["draws"] == 4 and "commercial.volatility" in table["priors"]
    assert "commercial.growth" not in table["priors"]
    plain = text[:text.index("\n# simval calibrate")]
    simval.parse_config(plain)
