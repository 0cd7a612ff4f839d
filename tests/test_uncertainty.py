"""Priors ([uncertainty]) and the two-level run (simval.simulate_draws, run --draws)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats

import simval
from simval.cli import main
from simval.config.uncertainty import draw_values, read_uncertainty
from simval.results.draws import headline_estimates
from simval.stats.draws import crossed_estimate, draw_spread_estimate
from simval.validation import closed_forms as cf
from tests.conftest import FULL_CONFIG

# The one-lognormal reduction (ev_sales, no operating cash flow, known cash X = 2e8, constant
# growth): P(PV >= V0) = Phi((ln M + E ln S_T - ln(V0 e^{rT} - X)) / sd(ln S_T)); a normal
# prior N(MU, S^2) on the growth rate adds S^2 T^2 to the variance of ln S_T.
MU, S, SIGMA, T = 0.2, 0.25, 0.2, 3.0
REDUCTION = f"""
[company]
name = "Two-level closed form"
currency = "USD"
as_of = 2026-01-01
valuation = 2.0e9

[simulation]
horizon_years = {T}
valuation_horizon_years = {T}
steps_per_year = 4
seed = 5
keep_paths = 0
discount_rate = 0.08

[commercial]
revenue = 1e8
growth = {MU}
growth_long_run = {MU}
volatility = {SIGMA}
volatility_long_run = {SIGMA}

[costs]
variable_cost_ratio = 1.0
fixed_costs = 0.0
cash = 2e8

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 8.0

[uncertainty]
draws = 256
method = "sobol"
paths_per_draw = 2048

[uncertainty.priors]
"commercial.growth" = {{ dist = "normal", mean = {MU}, sd = {S} }}
"""

PRIORS = """
[uncertainty]
draws = 4
paths_per_draw = 512
correlations = [["commercial.growth", "commercial.growth_long_run", 0.5]]

[uncertainty.priors]
"commercial.growth" = { dist = "normal", mean = 0.4, sd = 0.05 }
"commercial.growth_long_run" = { dist = "triangular", low = 0.05, mode = 0.1, high = 0.2 }
"contracts.city.renewal_probability" = { dist = "beta", a = 17, b = 3 }
"chips.shock_rate" = { dist = "lognormal", median = 0.4, sigma = 0.3 }
"""


@pytest.fixture(scope="module")
def reduction():
    return simval.simulate_draws(simval.parse_config(REDUCTION, source="reduction.toml")).sel(
        scenario="base")


def test_predictive_justified_matches_the_closed_form(reduction):
    m, v = cf.log_revenue_moments_gbm(1e8, MU, SIGMA, T)
    truth = cf.justified_probability(m, v + S**2 * T**2, 8.0, 0.0, 2.0e9, 0.08, T, 2e8)
    wrong = cf.justified_probability(m, v, 8.0, 0.0, 2.0e9, 0.08, T, 2e8)  # prior sd ignored
    est, se = float(reduction.p_justified), float(reduction.p_justified_se)
    assert abs(est - truth) <= 4 * se
    assert abs(est - wrong) > 4 * se
    # the predictive number is the mean over draws of each draw's probability
    assert est == pytest.approx(float(reduction.p_justified_by_draw.mean()), abs=1e-12)
    # each draw's own probability: its closed form at the drawn growth
    mu = reduction.parameter_value.sel(parameter="commercial.growth").values
    per_draw = [cf.justified_probability(cf.log_revenue_moments_gbm(1e8, g, SIGMA, T)[0], v,
                                         8.0, 0.0, 2.0e9, 0.08, T, 2e8) for g in mu]
    gap = reduction.p_justified_by_draw.values - np.array(per_draw)
    n_draws = mu.size
    paths = reduction.attrs["n_paths"] // n_draws
    assert np.abs(gap).max() < 5.5 * math.sqrt(0.25 / paths)  # the largest s.e., 256 draws
    # the spread across draws is the parameters', the rest Monte Carlo
    var_p = float(reduction.p_justified_var_parameter)
    var_mc = float(reduction.p_justified_var_mc)
    assert var_p > 10 * var_mc
    # var_p differs from the true values' sample variance by the noise's variance (at most
    # var_mc) and twice the covariance of the true values with the noise, which common
    # random numbers keep from averaging out over draws: by Cauchy-Schwarz at most
    # 2 sqrt(var_p var_mc)
    tolerance = 2 * math.sqrt(var_p * var_mc) + var_mc
    assert abs(var_p - np.var(per_draw, ddof=1)) < tolerance


def test_draws_follow_the_prior(reduction):
    mu = reduction.parameter_value.sel(parameter="commercial.growth").values
    assert stats.kstest(mu, stats.norm(MU, S).cdf).pvalue > 0.01
    assert str(reduction.prior.sel(parameter="commercial.growth").values) == \
        f"normal(mean={MU:g}, sd={S:g})"


def _full(extra: str = PRIORS) -> simval.Config:
    return simval.parse_config(FULL_CONFIG + extra, source="full.toml")


def test_draws_share_their_paths_and_seed():
    config = _full()
    one = simval.simulate_draws(config, keep_paths=8, threads=1)
    again = simval.simulate_draws(config, keep_paths=8, threads=2)
    import xarray as xr

    xr.testing.assert_identical(one, again)
    # the first draw's kept paths are the paths of a one-level run at the drawn values
    values = dict(zip(one.parameter.values, one.parameter_value.isel(draw=0).values,
                      strict=True))
    from simval.config.uncertainty import config_for_draw

    unc = read_uncertainty(config)
    single = simval.simulate(config_for_draw(config, values, unc), n_paths=512, keep_paths=8)
    np.testing.assert_array_equal(one.path_pv.values, single.path_pv.values)
    np.testing.assert_array_equal(one.p_collapse_by_draw.isel(draw=0).values,
                                  single.p_collapse.values)
    other = simval.simulate_draws(config, keep_paths=0, seed=8)
    assert not np.array_equal(other.parameter_value.values, one.parameter_value.values)


def test_dataset_has_the_draw_dimension_for_every_headline_estimate():
    ds = simval.simulate_draws(_full(), keep_paths=0, draws=3)
    assert ds.sizes["draw"] == 3 and ds.attrs["draws"] == 3
    assert ds.attrs["n_paths"] == 3 * 512
    for name in ("p_justified", "p_collapse", "p_bankrupt", "value_ratio", "pv_mean"):
        assert ds[f"{name}_by_draw"].dims == ("scenario", "draw")
        assert ds[f"{name}_band"].dims == ("scenario", "band")
        assert (ds[f"{name}_low"] <= ds[name]).all() and (ds[name] <= ds[f"{name}_high"]).all()
    assert set(ds.parameter.values) == {"commercial.growth", "commercial.growth_long_run",
                                        "contracts.city.renewal_probability",
                                        "chips.shock_rate"}
    assert "weighted_p_collapse" not in ds  # no [weights]: no weighted mixture
    text = simval.headline_table(ds)
    assert "parameter uncertainty  (3 draws of commercial.growth" in text
    assert "3 parameter draws x 512 paths per scenario" in text


def test_scenario_overrides_apply_on_top_of_each_draw():
    from simval.config.uncertainty import config_for_draw

    config = _full()
    unc = read_uncertainty(config)
    drawn = config_for_draw(config, {"chips.shock_rate": 0.123}, unc)
    assert drawn.scenarios["base"]["chips"]["shock_rate"] == 0.123
    assert drawn.scenarios["harsh_chips"]["chips"]["shock_rate"] == 1.5


def test_rank_correlation_and_reproducible_draws():
    unc = read_uncertainty(_full(), draws=512)
    a, b = draw_values(unc, 3), draw_values(unc, 3)
    np.testing.assert_array_equal(a, b)
    rho = stats.spearmanr(a[:, 0], a[:, 1]).statistic
    # Fisher's z of a Spearman correlation: variance about 1.06 / (n - 3)
    assert abs(math.atanh(rho) - math.atanh(0.5)) < 5 * math.sqrt(1.06 / (a.shape[0] - 3))
    lhs = read_uncertainty(_full(PRIORS.replace("draws = 4", 'draws = 8\nmethod = "lhs"')))
    assert lhs.method == "lhs" and draw_values(lhs, 1).shape == (8, 4)


@pytest.mark.parametrize(("prior", "message"), [
    ('"commercial.nope" = { dist = "normal", mean = 0, sd = 1 }', "is not a known key"),
    ('"contracts.city.renewal_probability" = { dist = "normal", mean = 0.9, sd = 0.1 }',
     "leaves the key's valid range [0, 1]"),
    ('"chips.shock_rate" = { dist = "uniform", low = -0.1, high = 1 }',
     "leaves the key's valid range"),
    ('"chips.shock_rate" = { dist = "gamma", a = 2 }', "dist must be one of"),
    ('"chips.shock_rate" = { dist = "uniform", low = 1 }', "is missing high"),
    ('"chips.shock_rate" = { dist = "triangular", low = 1, mode = 0.5, high = 2 }',
     "needs low <= mode <= high"),
    ('"company.valuation" = { dist = "lognormal", median = 1e9, sigma = 0.1 }',
     "cannot have a prior"),
    ('"chips.enabled" = { dist = "uniform", low = 0, high = 1 }', "not a number"),
    ('"simulation.seed" = { dist = "uniform", low = 0, high = 1 }', "cannot be swept"),
])
def test_bad_prior_names_the_file_and_the_key(prior, message):
    config = _full(f"[uncertainty]\n[uncertainty.priors]\n{prior}\n")
    with pytest.raises(simval.ConfigError) as err:
        read_uncertainty(config)
    text = str(err.value)
    assert text.startswith("full.toml: [uncertainty.priors]") and message in text


def test_bad_table_settings():
    base = '[uncertainty.priors]\n"chips.shock_rate" = { dist = "uniform", low = 0.1, high = 1 }\n'
    for setting, message in (("draws = 1", "[uncertainty].draws must be a whole number >= 2"),
                             ('method = "halton"', "[uncertainty].method must be one of"),
                             ("paths = 4", "[uncertainty].paths is not a known key")):
        with pytest.raises(simval.ConfigError, match=re.escape(message)):
            read_uncertainty(_full(f"[uncertainty]\n{setting}\n{base}"))
    with pytest.raises(simval.ConfigError, match="positive definite"):
        read_uncertainty(_full(PRIORS.replace(
            '0.5]]', '0.9], ["commercial.growth", "chips.shock_rate", 0.9], '
                     '["commercial.growth_long_run", "chips.shock_rate", -0.9]]')))
    with pytest.raises(simval.ConfigError, match="has no prior"):
        read_uncertainty(_full(PRIORS.replace('"commercial.growth_long_run", 0.5',
                                              '"market.volatility", 0.5')))


def test_priors_breaking_a_cross_key_rule_are_reported():
    # renewals.correlation is 0.4: a budget weight of 0.8 leaves no idiosyncratic part
    config = _full('[uncertainty.priors]\n"renewals.budget_weight" = '
                   '{ dist = "uniform", low = 0.7, high = 0.9 }\n')
    with pytest.raises(simval.ConfigError, match="at the priors' medians the config is "
                                                 "invalid"):
        read_uncertainty(config)


def test_research_tools_ignore_the_uncertainty_table():
    config = _full()
    ds = simval.simulate(config, n_paths=512, keep_paths=0)
    assert "draw" not in ds.dims
    from simval.config.override import override

    moved = override(config, {"chips.shock_rate": 0.9})
    assert moved.uncertainty == config.uncertainty


def test_cli_draws(tmp_path, capsys):
    path = tmp_path / "full.toml"
    path.write_text(FULL_CONFIG + PRIORS)
    assert main(["run", str(path), "--draws", "3", "--paths", "512", "--keep-paths", "0",
                 "--scenario", "base", "-o", str(tmp_path / "out"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "parameter uncertainty  (3 draws" in out
    ds = simval.open_results(tmp_path / "out" / "results.nc")
    assert ds.sizes["draw"] == 3
    assert main(["show", str(tmp_path / "out" / "results.nc")]) == 0
    assert "parameter uncertainty" in capsys.readouterr().out
    # a plain run of the same config is one-level
    assert main(["run", str(path), "--paths", "512", "--keep-paths", "0", "--scenario", "base",
                 "-o", str(tmp_path / "plain"), "--no-progress"]) == 0
    assert "parameter uncertainty" not in capsys.readouterr().out
    # enabled = true runs two-level without --draws
    path.write_text(FULL_CONFIG + PRIORS.replace("draws = 4", "draws = 2\nenabled = true"))
    assert main(["run", str(path), "--paths", "512", "--keep-paths", "0", "--scenario", "base",
                 "-o", str(tmp_path / "enabled"), "--no-progress"]) == 0
    assert "parameter uncertainty  (2 draws" in capsys.readouterr().out


def test_cli_errors_exit_2(tmp_path, capsys):
    plain = tmp_path / "plain.toml"
    plain.write_text(FULL_CONFIG)
    assert main(["run", str(plain), "--draws", "8", "-o", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert f"{plain}: a two-level run (8 draws) needs the parameters' priors" in err
    bad = tmp_path / "bad.toml"
    bad.write_text(FULL_CONFIG + '[uncertainty.priors]\n"contracts.city.renewal_probability" '
                                 '= { dist = "normal", mean = 0.9, sd = 0.1 }\n')
    assert main(["run", str(bad), "-o", str(tmp_path / "b")]) == 2
    assert f"{bad}: [uncertainty.priors] 'contracts.city.renewal_probability'" in \
        capsys.readouterr().err
    assert main(["validate", str(bad)]) == 2
    good = tmp_path / "good.toml"
    good.write_text(FULL_CONFIG + PRIORS)
    assert main(["run", str(good), "--draws", "1", "-o", str(tmp_path / "c")]) == 2
    assert "--draws must be a whole number >= 2" in capsys.readouterr().err
    assert main(["run", str(good), "--draws", "4", "--precision", "0.01",
                 "-o", str(tmp_path / "d")]) == 2
    assert "--precision applies to a one-level run" in capsys.readouterr().err


def test_headline_estimates_are_generic():
    ds = simval.simulate_draws(_full(FULL_CONFIG_SIGNAL + PRIORS), draws=2, keep_paths=0,
                               scenarios=["base"])
    names = headline_estimates(ds)
    assert "p_signal" in names and "p_signal_by_draw" in ds
    assert ds.p_signal_by_draw.dims == ("scenario", "signal", "draw")


FULL_CONFIG_SIGNAL = """
[signals.city_kept]
kind = "contract"
contract = "city"
by = 2027-12-31
state = "active"
label = "city contract kept"
"""


def test_crossed_estimate_against_independent_replications():
    """Reported s.e. of the mixture estimator = its spread over replications, with the
    paths common to the draws (the part a spread across draws alone would miss)."""
    rng = np.random.default_rng(1)
    d, b, reps = 16, 8, 2000
    means, variances, naive = [], [], []
    for _ in range(reps):
        theta = rng.normal(size=(d, 1))
        omega = rng.normal(size=(1, b))
        y = 0.3 * theta + 0.5 * omega + 0.2 * rng.normal(size=(d, b))
        means.append(y.mean())
        variances.append(crossed_estimate(y).se ** 2)
        naive.append(np.std(y.mean(axis=1), ddof=1) / math.sqrt(d))
    truth = 0.3**2 / d + 0.5**2 / b + 0.2**2 / (d * b)  # Var of the grand mean
    variances = np.array(variances)
    # the reported variance is unbiased for it (5 s.e. of its mean over the replications),
    # and so is the replications' own spread (a sample variance: relative s.e. sqrt(2 / n))
    assert abs(variances.mean() - truth) < 5 * variances.std() / math.sqrt(reps)
    assert abs(np.var(means, ddof=1) - truth) < 5 * truth * math.sqrt(2 / (reps - 1))
    spread = np.std(means)
    assert np.mean(naive) < 0.7 * spread  # the spread across draws misses the common noise
    est = draw_spread_estimate(np.array([0.1, 0.2, 0.3]), np.array([0.01, 0.01, np.nan]))
    assert est.var_mc == pytest.approx(1e-4)


def test_research_commands_say_they_ignore_the_priors(tmp_path, capsys):
    path = tmp_path / "full.toml"
    path.write_text(FULL_CONFIG + PRIORS)
    assert main(["sweep", str(path), "--set", "chips.shock_rate=0.2,0.8", "--paths", "512",
                 "--scenario", "base", "--out", str(tmp_path / "sweep")]) == 0
    err = capsys.readouterr().err
    assert f"{path}: [uncertainty] is ignored: sweep moves the config's own values" in err


@pytest.mark.slow
def test_report_of_a_two_level_run(tmp_path):
    from simval.report.build import collect

    ds = simval.simulate_draws(_full(), draws=3, keep_paths=20, scenarios=["base", "harsh_chips"])
    report = collect(ds)
    section = next(s for s in report.sections if s.id == "parameter-uncertainty")
    table = next(b for b in section.blocks if hasattr(b, "rows"))
    assert table.rows[1][0] == "base: P(collapse)"
    assert [f.name for f in report.all_figures() if "parameter_draws" in f.name]
    assert "3 parameter draws × 512 paths per scenario" in report.subtitle
    assert report.headline.scenarios["base"]  # the headline still parses


@pytest.mark.parametrize("spec", [
    {"dist": "uniform", "low": -0.2, "high": 0.5},
    {"dist": "loguniform", "low": 0.01, "high": 3.0},
    {"dist": "normal", "mean": 0.4, "sd": 0.1},
    {"dist": "lognormal", "median": 17.5, "sigma": 0.3},
    {"dist": "beta", "a": 17.0, "b": 3.0, "low": 0.0, "high": 1.0},
    {"dist": "beta", "a": 2.0, "b": 5.0, "low": 0.2, "high": 0.9},
    {"dist": "triangular", "low": 0.05, "mode": 0.15, "high": 0.3},
    {"dist": "triangular", "low": 0.0, "mode": 0.0, "high": 1.0},
])
def test_validation_quantiles_are_the_scipy_distributions(spec):
    from simval.config.address import resolve_key
    from simval.config.uncertainty import TAIL, Prior

    params = {k: v for k, v in spec.items() if k != "dist"}
    prior = Prior(resolve_key(_full(), "commercial.growth"), spec["dist"], params)
    frozen = prior.frozen()
    for u in (TAIL, 0.01, 0.3, 0.5, 0.9, 1 - TAIL):
        assert prior.quantile(u) == pytest.approx(float(frozen.ppf(u)), rel=1e-9, abs=1e-12)
