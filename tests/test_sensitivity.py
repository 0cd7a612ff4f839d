"""Sensitivity: the tornado against a closed form, paired standard errors, Sobol' indices
through SALib (Ishigami's analytic indices, then simval runs), what explains collapse, plots,
the ``simval sensitivity`` command."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from SALib.analyze import sobol as salib_analyze
from SALib.sample import sobol as salib_sample
from SALib.test_functions import Ishigami

import simval
from simval.config.load import ConfigError
from simval.config.override import override
from simval.research import cli as research_cli
from simval.research.sensitivity import (
    SimvalModel,
    default_group,
    explain_collapse,
    sobol,
    sobol_indices,
    sobol_table,
    tornado,
    tornado_table,
)
from simval.validation import closed_forms as cf
from tests.conftest import CLOSED_FORM  # noqa: E402

EXIT = "valuation.exit_multiple_median"
RANGES = {
    EXIT: (6.0, 10.0),
    "company.valuation": (5e8, 7e8),
    "commercial.growth_long_run": (0.05, 0.15),
    "valuation.exit_multiple_dispersion": (0.3, 0.7),
    "market.volatility": (0.1, 0.5),  # the market path is off: no effect at all
}


def closed_form(multiple=8.0, dispersion=0.5, v0=6e8, growth_long_run=0.1):
    """(P(justified), E[PV]/V0) of CLOSED_FORM with some inputs moved."""
    m, v = cf.log_revenue_moments(1e8, 0.3, growth_long_run, 0.5, 0.3, 0.1, 0.4, 0.25, 12)
    return (cf.justified_probability(m, v, multiple, dispersion, v0, 0.08, 3.0, 2e8),
            cf.pv_mean_ev_sales(m, v, multiple, dispersion, 0.08, 3.0, 2e8) / v0)


MOVES = {  # input -> closed-form arguments at its low and high value
    EXIT: ({"multiple": 6.0}, {"multiple": 10.0}),
    "company.valuation": ({"v0": 5e8}, {"v0": 7e8}),
    "commercial.growth_long_run": ({"growth_long_run": 0.05}, {"growth_long_run": 0.15}),
    "valuation.exit_multiple_dispersion": ({"dispersion": 0.3}, {"dispersion": 0.7}),
}


@pytest.fixture(scope="module")
def config() -> simval.Config:
    return simval.parse_config(CLOSED_FORM, source="closed_form.toml")


@pytest.fixture(scope="module")
def tornado_ds(config):
    return tornado(config, RANGES, n_paths=4000, seed=3)


def test_tornado_layout(tornado_ds):
    ds = tornado_ds
    assert ds.delta_p_justified.dims == ("input", "side")
    assert ds.input.values.tolist() == list(RANGES)
    assert ds.side.values.tolist() == ["low", "high"]
    np.testing.assert_array_equal(ds.value.values, np.array(list(RANGES.values())))
    assert ds.base_value.sel(input=EXIT) == 8.0
    assert ds.group.values.tolist() == ["multiples", "company", "growth", "multiples",
                                        "multiples"]
    for o in ("p_justified", "p_collapse", "value_ratio"):
        for suffix in ("", "_se", "_low", "_high", "_se_independent"):
            assert f"delta_{o}{suffix}" in ds
        np.testing.assert_allclose(ds[o] - ds[f"{o}_base"], ds[f"delta_{o}"], atol=1e-12)
    table = tornado_table(ds)
    assert EXIT in table and "pp [" in table


def test_tornado_matches_the_closed_form(tornado_ds):
    ds = tornado_ds
    base = closed_form()
    for key, sides in MOVES.items():
        for side, kwargs in zip(("low", "high"), sides, strict=True):
            truth = closed_form(**kwargs)
            point = ds.sel(input=key, side=side)
            for j, o in enumerate(("p_justified", "value_ratio")):
                change = truth[j] - base[j]
                est, se = float(point[f"delta_{o}"]), float(point[f"delta_{o}_se"])
                assert se > 0
                assert abs(est - change) <= 4.5 * se, (key, side, o, est, change, se)
                assert np.sign(est) == np.sign(change)
    # wrong target, which the check must be able to reject: the exit-multiple dispersion's
    # effect on E[PV] without the lognormal mean factor e^{s^2/2} (none: the median is fixed)
    point = ds.sel(input="valuation.exit_multiple_dispersion", side="high")
    assert abs(float(point.delta_value_ratio) - 0.0) > 4.5 * float(point.delta_value_ratio_se)


def test_an_input_without_effect_changes_nothing(tornado_ds):
    point = tornado_ds.sel(input="market.volatility")
    for o in ("p_justified", "p_collapse", "value_ratio"):
        assert (point[f"delta_{o}"] == 0).all() and (point[f"delta_{o}_se"] == 0).all()


def test_paired_standard_errors(config, tornado_ds):
    # smaller than the independent-runs error wherever the input matters
    ds = tornado_ds.sel(input=list(MOVES))
    for o in ("p_justified", "value_ratio"):
        assert (ds[f"delta_{o}_se"] < 0.75 * ds[f"delta_{o}_se_independent"]).all()
    # exactly sd(d)/sqrt(n) of the per-path differences of two kept-path runs
    runs = [simval.simulate(c, n_paths=4000, seed=3, keep_paths=4000).isel(scenario=0)
            for c in (config, override(config, {EXIT: 10.0}))]
    d = (runs[1].path_pv.values >= 6e8).astype(float) - (runs[0].path_pv.values >= 6e8)
    assert float(tornado_ds.delta_p_justified.sel(input=EXIT, side="high")) == pytest.approx(
        d.mean(), abs=1e-15)
    assert float(tornado_ds.delta_p_justified_se.sel(input=EXIT, side="high")) == \
        pytest.approx(d.std(ddof=1) / math.sqrt(4000), rel=1e-12)
    # and they are right: over independent seeds the changes scatter as the paired error says,
    # far less than the independent-runs error
    deltas, paired, independent = [], [], []
    for seed in range(12):
        t = tornado(config, {EXIT: (6.0, 10.0)}, n_paths=1000, seed=100 + seed)
        point = t.sel(input=EXIT, side="high")
        deltas.append(float(point.delta_value_ratio))
        paired.append(float(point.delta_value_ratio_se))
        independent.append(float(point.delta_value_ratio_se_independent))
    spread = float(np.std(deltas, ddof=1))
    assert 0.5 * np.mean(paired) < spread < 1.8 * np.mean(paired)
    assert spread < 0.5 * np.mean(independent)


def test_tornado_range_errors(config):
    with pytest.raises(ConfigError) as info:
        tornado(config, {"chips.shok_rate": (0.1, 0.2), EXIT: (10.0, 6.0),
                         "chips.enabled": (0, 1), "company.valuation": (-1.0, 5e8)},
                n_paths=100)
    text = str(info.value)
    assert "'chips.shok_rate'" in text
    assert "low < high" in text
    assert "a range needs a numeric key" in text
    assert "[company].valuation must be a number in the range (0, inf). Got -1.0" in text
    with pytest.raises(ConfigError, match="no input ranges"):
        tornado(config, {}, n_paths=100)
    with pytest.raises(ConfigError, match="no scenario named 'nope'"):
        tornado(config, {EXIT: (6.0, 10.0)}, n_paths=100, scenario="nope")


def test_default_groups():
    assert default_group("commercial.growth_long_run") == "growth"
    assert default_group("contracts.beijing.renewal_probability") == "contracts"
    assert default_group("expansion.win_rate") == "contracts"
    assert default_group("chips.shock_rate") == "chips"
    assert default_group("regime.hazard_normal_to_slowdown") == "regime"
    assert default_group("slowdown.chips.shock_rate") == "regime"
    assert default_group("market.long_run_multiple") == "multiples"
    assert default_group("valuation.exit_multiple_median") == "multiples"
    assert default_group("costs.fixed_costs") == "costs"


# ------------------------------------------------------------------------------------------
# Sobol' indices


ISHIGAMI_BOUNDS = {f"x{i}": (-math.pi, math.pi) for i in (1, 2, 3)}


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices of the Ishigami function (Ishigami & Homma
    1990; SALib's docstring gives S1 = 0.3139, 0.4424, 0)."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / total, np.array([v1 + v13, v2, v13]) / total


def ishigami_model(values: dict[str, float]) -> dict[str, float]:
    """SALib's Ishigami test function, called point by point like a simval run."""
    x = np.array([[values["x1"], values["x2"], values["x3"]]])
    return {"y": float(Ishigami.evaluate(x)[0])}


def test_ishigami_through_the_wrapper():
    s1, st = ishigami_indices()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)  # the docstring's values
    ds = sobol_indices(ishigami_model, ISHIGAMI_BOUNDS, n_base=1024, seed=7,
                       num_resamples=100)
    assert ds.first_order.dims == ("output", "input")
    assert ds.sizes["run"] == 1024 * (3 + 2)
    est1 = ds.first_order.sel(output="y").values
    est_t = ds.total.sel(output="y").values
    conf1 = ds.first_order_conf.sel(output="y").values
    conf_t = ds.total_conf.sel(output="y").values
    assert (np.abs(est1 - s1) <= 2 * conf1 + 0.01).all(), (est1, s1, conf1)
    assert (np.abs(est_t - st) <= 2 * conf_t + 0.01).all(), (est_t, st, conf_t)
    assert (conf1 < 0.15).all() and (conf_t < 0.15).all()
    # wrong target that the check must reject: x1 and x2 swapped
    assert not (np.abs(est1 - s1[[1, 0, 2]]) <= 2 * conf1 + 0.01).all()
    # the wrapper only maps rows to calls: identical to SALib on the same sample and seed
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"],
               "bounds": [[-math.pi, math.pi]] * 3}
    x = salib_sample.sample(problem, 1024, calc_second_order=False, seed=7)
    np.testing.assert_array_equal(ds.sample.values, x)
    direct = salib_analyze.analyze(problem, Ishigami.evaluate(x), calc_second_order=False,
                                   num_resamples=100, seed=7)
    np.testing.assert_allclose(est1, direct["S1"], rtol=1e-12)
    np.testing.assert_allclose(est_t, direct["ST"], rtol=1e-12)
    np.testing.assert_allclose(ds.first_order_low.sel(output="y"), est1 - direct["S1_conf"],
                               rtol=1e-12)


def test_ishigami_grouped():
    s1, st = ishigami_indices()
    ds = sobol_indices(ishigami_model, ISHIGAMI_BOUNDS, n_base=1024, seed=3,
                       groups={"x1": "a", "x3": "a", "x2": "b"}, num_resamples=100)
    assert ds.first_order.dims == ("output", "group")
    assert ds.group.values.tolist() == ["a", "b"]
    assert ds.input_group.values.tolist() == ["a", "b", "a"]
    assert ds.sizes["run"] == 1024 * (2 + 2)
    truth = np.array([s1[0] + s1[2] + (st[2] - s1[2]), s1[1]])  # {x1, x3} with their interaction
    est = ds.first_order.sel(output="y").values
    conf = ds.first_order_conf.sel(output="y").values
    assert (np.abs(est - truth) <= 2 * conf + 0.01).all(), (est, truth, conf)


def test_sobol_indices_argument_errors():
    with pytest.raises(ValueError, match="power of 2"):
        sobol_indices(ishigami_model, ISHIGAMI_BOUNDS, n_base=100)
    with pytest.raises(ValueError, match="low < high"):
        sobol_indices(ishigami_model, {"x1": (1.0, 1.0)}, n_base=8)
    with pytest.raises(ValueError, match="returns no z"):
        sobol_indices(ishigami_model, ISHIGAMI_BOUNDS, n_base=8, outputs=["z"])


@pytest.mark.slow
def test_sobol_on_simval_runs(config):
    ranges = {EXIT: (6.0, 10.0), "commercial.growth_long_run": (0.0, 0.2),
              "market.volatility": (0.1, 0.5)}
    ds = sobol(config, ranges, n_base=8, n_paths=500, seed=1, num_resamples=50)
    assert ds.first_order.dims == ("output", "input")
    assert ds.output.values.tolist() == ["p_justified", "value_ratio"]
    assert ds.sizes["run"] == 8 * (3 + 2)
    assert ds.attrs["n_paths"] == 500 and ds.attrs["seed"] == 1
    for var in ("first_order", "total"):
        est, conf = ds[var].values, ds[f"{var}_conf"].values
        assert np.isfinite(est).all() and (conf >= 0).all()
        assert ((est - conf <= 1) & (est + conf >= 0)).all()  # intervals meet [0, 1]
    # an input that changes nothing has total index exactly 0 (common random numbers)
    assert (ds.total.sel(input="market.volatility") == 0).all()
    assert (ds.total.sel(input=EXIT) > 0.2).all()
    assert (ds.mc_noise_share >= 0).all()
    # every run is a simval run on the same seed: row 0 reproduces through SimvalModel
    model = SimvalModel(config, n_paths=500, seed=1)
    row = dict(zip(ranges, ds.sample.isel(run=0).values.tolist(), strict=True))
    assert model(row)["p_justified"] == float(ds.model_output.isel(run=0)
                                              .sel(output="p_justified"))
    # per driver group
    grouped = sobol(config, ranges, n_base=8, n_paths=300, seed=1, groups=True,
                    num_resamples=20)
    assert grouped.group.values.tolist() == ["multiples", "growth"]
    table = sobol_table(grouped)
    assert "P(justified" in table and "multiples" in table


# ------------------------------------------------------------------------------------------
# what explains collapse

# collapse is driven by chip shocks: each halves delivered revenue and cuts the multiple to
# 40%, so V falls to 20% of its level, the collapse line (d = 0.8), at about one shock
CHIPS = """
[company]
name = "Chipco"
currency = "USD"
as_of = 2026-01-01
valuation = 1e9

[simulation]
horizon_years = 2.0
valuation_horizon_years = 2.0
steps_per_year = 4
seed = 3
discount_rate = 0.1

[commercial]
revenue = 1e8
growth = 0.2
growth_long_run = 0.2
volatility = 0.2
volatility_long_run = 0.2

[chips]
enabled = true
shock_rate = 0.4
haircut_distribution = "fixed"
haircut_low = 0.5
multiple_jump_median = 0.45
multiple_jump_dispersion = 0.2

[market]
enabled = true
long_run_multiple = 10.0
volatility = 0.1

[costs]
variable_cost_ratio = 0.5
fixed_costs = 0.0
cash = 1e8

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 10.0
"""


def test_explain_collapse_by_chips():
    ds = simval.simulate(simval.parse_config(CHIPS), n_paths=4000, keep_paths=4000)
    table = explain_collapse(ds, "base")
    assert list(table.index) == ["chip_shocks", "contracts_lost", "contracts_won",
                                 "slowdown_share", "revenue_growth"]
    n_c, n_n = table.attrs["n_collapsed"], table.attrs["n_not_collapsed"]
    assert n_c + n_n == 4000 and n_c > 100 and n_n > 100
    assert n_c / 4000 == pytest.approx(float(ds.p_collapse.sel(scenario="base")), abs=1e-12)
    shocks = table.loc["chip_shocks"]
    assert shocks.collapsed > 1.0 > shocks.not_collapsed
    assert shocks.difference > 10 * shocks.difference_se
    growth = table.loc["revenue_growth"]
    assert growth.collapsed < growth.not_collapsed
    # the numbers are the plain conditional means and their standard errors
    s = ds.sel(scenario="base")
    collapsed = np.isfinite(s.path_collapse_time.values)
    x = s.path_chip_shocks.values[collapsed]
    assert shocks.collapsed == pytest.approx(x.mean())
    assert shocks.collapsed_se == pytest.approx(x.std(ddof=1) / math.sqrt(x.size))
    revenue = s.path_total_revenue.values
    g = np.log(revenue[:, -1] / revenue[:, 0]) / 2.0
    assert growth.not_collapsed == pytest.approx(g[~collapsed].mean())
    assert (table.loc[["contracts_lost", "contracts_won", "slowdown_share"],
                      ["collapsed", "not_collapsed"]] == 0).all().all()
    with pytest.raises(ValueError, match="keep_paths"):
        explain_collapse(simval.simulate(simval.parse_config(CHIPS), n_paths=100,
                                         keep_paths=0))
    with pytest.raises(ValueError, match="no scenario 'nope'"):
        explain_collapse(ds, "nope")


# ------------------------------------------------------------------------------------------
# plots, imports, command line


def test_plots(tornado_ds):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simval.plot.sensitivity import sobol_indices as plot_sobol
    from simval.plot.sensitivity import tornado as plot_tornado

    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5))
    ax = plot_tornado(tornado_ds, ax=left)
    assert ax is left
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1].startswith(EXIT)  # the largest swing on top
    assert "percentage points" in ax.get_xlabel()
    assert len(ax.patches) == 2 * len(RANGES)
    ax = plot_tornado(tornado_ds, output="value_ratio", ax=right)
    assert "E[PV] / V0" in ax.get_xlabel()
    plt.close(fig)
    ds = sobol_indices(ishigami_model, ISHIGAMI_BOUNDS, n_base=64, num_resamples=20)
    ax = plot_sobol(ds, output="y")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x1", "x2", "x3"]
    assert len(ax.patches) == 6 and "Sobol' index" in ax.get_ylabel()
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="no output"):
        plot_tornado(tornado_ds, output="nope")


@pytest.mark.slow
def test_imports_stay_light():
    code = ("import sys, simval.research, simval.plot.sensitivity; "
            "print('matplotlib' in sys.modules, 'SALib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


@pytest.mark.slow
def test_cli_sensitivity(tmp_path, capsys):
    path = tmp_path / "cf.toml"
    path.write_text(CLOSED_FORM)
    out = tmp_path / "out"
    argv = ["sensitivity", str(path), "--range", f"{EXIT}=6,10", "--range",
            "commercial.growth_long_run=0.05,0.15", "--method", "both", "--paths", "300",
            "--n-base", "4", "--out", str(out)]
    assert run_cli(argv) == 0
    printed = capsys.readouterr().out
    assert "tornado" in printed and "Sobol'" in printed
    t = simval.open_results(out / "tornado.nc")
    assert t.input.values.tolist() == [EXIT, "commercial.growth_long_run"]
    s = simval.open_results(out / "sobol.nc")
    assert s.sizes["run"] == 4 * 4
    assert run_cli(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert run_cli(["sensitivity", str(path), "--out", str(out)]) == 2
    assert "no input ranges" in capsys.readouterr().err
    assert run_cli([*argv[:-2], "--n-base", "6", "--out", str(tmp_path / "x")]) == 2
    assert "power of 2" in capsys.readouterr().err


def run_cli(argv: list[str]) -> int:
    """``simval.cli.main`` once the research commands are wired into it, else the research
    commands alone (same exit codes)."""
    import argparse

    import simval.cli

    parser = simval.cli._build_parser()
    wired = any("sensitivity" in a.choices for a in parser._actions
                if isinstance(a, argparse._SubParsersAction))
    return simval.cli.main(argv) if wired else research_cli.main(argv)
