"""Sweeps as dimensions: grid, common random numbers, key and value errors, [sweep] tables,
the ``simval sweep`` command."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

import simval
from simval.config.address import resolve_key, value_of
from simval.config.load import ConfigError
from simval.config.override import override
from simval.config.research import load_research_config, parse_research_config
from simval.research import cli as research_cli
from simval.research.sweep import sweep, sweep_keys
from simval.research.sweep_text import sweep_table

ROOT = Path(__file__).resolve().parents[1]
ZHIPU = ROOT / "configs" / "zhipu_2026.toml"

# ev_sales with no costs: PV = e^{-rT}(M_exit S_T + X_0), as in simval.validation's
# p_justified check; two contracts so contract keys can be swept
CONFIG = """
[company]
name = "Sweepco"
currency = "USD"
as_of = 2026-01-01
valuation = 6e8

[simulation]
horizon_years = 2.0
valuation_horizon_years = 2.0
steps_per_year = 4
n_paths = 1000
seed = 5
keep_paths = 0
discount_rate = 0.08

[commercial]
revenue = 1e8
growth = 0.3
growth_long_run = 0.1
mean_reversion = 0.5
volatility = 0.3
volatility_long_run = 0.3
growth_volatility = 0.1
correlation = 0.4

[contracts.city]
revenue = 5e7
term_years = 1
first_renewal = 2026-12-31
renewal_probability = 0.8

[costs]
variable_cost_ratio = 1.0
fixed_costs = 0.0
cash = 2e8

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 8.0
exit_multiple_dispersion = 0.5

[scenarios.base]
[scenarios.rich]
valuation.exit_multiple_median = 12.0
commercial.growth = 0.5
"""

EXIT = "valuation.exit_multiple_median"
GROWTH = "commercial.growth_long_run"


@pytest.fixture(scope="module")
def config() -> simval.Config:
    return simval.parse_config(CONFIG, source="sweep.toml")


@pytest.fixture(scope="module")
def grid_ds(config):
    return sweep(config, {EXIT: [6.0, 8.0, 10.0], GROWTH: [0.05, 0.1]}, n_paths=1000,
                 keep_paths=40)


def test_grid_dims_coords_and_attrs(grid_ds):
    ds = grid_ds
    assert ds.p_justified.dims == (EXIT, GROWTH, "scenario")
    assert ds[EXIT].values.tolist() == [6.0, 8.0, 10.0]
    assert ds[GROWTH].values.tolist() == [0.05, 0.1]
    assert ds.scenario.values.tolist() == ["base", "rich"]
    assert ds.path_total_revenue.dims == (EXIT, GROWTH, "scenario", "path", "time")
    assert ds[GROWTH].attrs["units"] == "1/year"
    assert "[commercial].growth_long_run" in ds[GROWTH].attrs["description"]
    assert sweep_keys(ds) == [EXIT, GROWTH]
    assert ds.attrs["n_paths"] == 1000
    # the unswept config, readable by the loader (the report parses it back)
    assert simval.parse_config(ds.attrs["config"]).scenarios.keys() == {"base", "rich"}
    # P(justified) rises with the exit multiple at every growth, in every scenario
    assert (ds.p_justified.diff(EXIT) >= 0).all()


def test_grid_points_share_random_numbers(grid_ds):
    revenue = grid_ds.path_total_revenue
    # the exit multiple does not touch revenue: identical paths at every exit multiple
    for i in range(1, revenue.sizes[EXIT]):
        np.testing.assert_array_equal(revenue.isel({EXIT: i}).values,
                                      revenue.isel({EXIT: 0}).values)
    # long-run growth does: the paths differ, but only through the drift (same shocks), so
    # higher growth gives higher revenue on every kept path at T
    low, high = (revenue.sel({GROWTH: g}).isel(time=-1).values for g in (0.05, 0.1))
    assert (high > low).all()


def test_a_grid_point_is_the_overridden_config(config, grid_ds):
    # the base values (8, 0.1) are a grid point: in the base scenario it equals the plain run
    # bit for bit (in "rich", which sets its own exit multiple, the sweep moves it to 8)
    plain = simval.simulate(config, n_paths=1000, keep_paths=0)
    point = grid_ds.sel({EXIT: 8.0, GROWTH: 0.1})
    for name in ("p_justified", "p_collapse", "pv_mean", "pv_quantile"):
        np.testing.assert_array_equal(point[name].sel(scenario="base").values,
                                      plain[name].sel(scenario="base").values)
    assert float(point.p_justified.sel(scenario="rich")) < float(
        plain.p_justified.sel(scenario="rich"))
    moved = simval.simulate(override(config, {EXIT: 10.0, GROWTH: 0.05}), n_paths=1000,
                            keep_paths=0)
    np.testing.assert_array_equal(grid_ds.pv_mean.sel({EXIT: 10.0, GROWTH: 0.05}).values,
                                  moved.pv_mean.values)


def test_value_applies_to_base_and_to_scenarios_that_set_it(config):
    moved = override(config, {EXIT: 9.5, "commercial.growth": 0.35})
    for scenario in ("base", "rich"):  # rich sets both keys itself: the sweep moves them too
        assert value_of(moved, EXIT, scenario) == 9.5
        assert value_of(moved, "commercial.growth", scenario) == 0.35
    # a key the scenario does not set follows the base; the scenario keeps its other keys
    moved = override(config, {GROWTH: 0.2})
    assert value_of(moved, GROWTH, "rich") == 0.2
    assert value_of(moved, EXIT, "rich") == 12.0
    # contract and slowdown keys; text values from the command line are parsed by type
    moved = override(config, {"contracts.city.renewal_probability": "0.55",
                              "slowdown.commercial.growth_long_run": -0.1})
    assert value_of(moved, "contracts.city.renewal_probability") == 0.55
    assert moved.base["slowdown"]["commercial"]["growth_long_run"] == -0.1
    assert moved.base["commercial"]["growth_long_run"] == 0.1
    assert "contracts.city.renewal_probability = 0.55" in moved.source


def test_scenario_selection_is_kept(config):
    ds = sweep(config, {EXIT: [7.0, 9.0]}, n_paths=500, scenarios=["rich"])
    assert ds.scenario.values.tolist() == ["rich"]
    assert "path_pv" not in ds and "path" not in ds.dims  # keep_paths = 0: no path variables


@pytest.mark.parametrize(("key", "words"), [
    ("valuation.exit_multiple", ["'valuation.exit_multiple'", "is not a known key"]),
    ("valuations.exit_multiple_median", ["'valuations.exit_multiple_median'",
                                         "Known sections"]),
    ("contracts.town.renewal_probability", ["'contracts.town.renewal_probability'",
                                            "names no contract", "city"]),
    ("slowdown.costs.cash", ["'slowdown.costs.cash'", "not a per-regime key"]),
    ("simulation.seed", ["'simulation.seed'", "cannot be swept"]),
    ("simulation.horizon_years", ["cannot be swept", "time grid"]),
    ("market_size.points", ["cannot be swept"]),
    ("valuation", ["must be written valuation.KEY"]),
])
def test_bad_key_names_it(config, key, words):
    with pytest.raises(ConfigError) as info:
        sweep(config, {key: [1.0]}, n_paths=100)
    message = str(info.value)
    assert message.startswith("sweep.toml: ")
    for word in words:
        assert word in message


def test_bad_values_name_key_and_value_all_at_once(config):
    with pytest.raises(ConfigError) as info:
        sweep(config, {"contracts.city.renewal_probability": [0.5, 1.3, -0.2],
                       EXIT: [8.0, "abc"]}, n_paths=100)
    problems = info.value.problems
    text = "\n".join(problems)
    assert "[contracts.city].renewal_probability must be a number in the range [0, 1]. " \
           "Got 1.3 instead." in text
    assert "Got -0.2 instead." in text
    assert "[valuation].exit_multiple_median must be a number" in text and "'abc'" in text
    assert "contracts.city.renewal_probability = 1.3" in text  # the source names the sweep
    with pytest.raises(ConfigError, match="must differ"):
        sweep(config, {EXIT: [8.0, 8]}, n_paths=100)
    with pytest.raises(ConfigError, match="at least one value"):
        sweep(config, {EXIT: []}, n_paths=100)
    with pytest.raises(ConfigError, match="nothing to sweep"):
        sweep(config, {}, n_paths=100)
    # a combination the loader rejects though each value alone is valid
    chips = {"chips.enabled": [True], "chips.haircut_low": [0.3], "chips.haircut_high": [0.1]}
    with pytest.raises(ConfigError, match=r"haircut_high must be >= haircut_low"):
        sweep(config, chips, n_paths=100)


def test_sweep_table(grid_ds):
    table = sweep_table(grid_ds)
    lines = table.splitlines()
    assert EXIT in lines[0] and GROWTH in lines[0]
    rows = [line for line in lines if line.startswith("  6 ") or line.startswith("  10 ")]
    assert len(rows) == 2 * 2 * 2  # 2 exits x 2 growths x 2 scenarios
    assert all(line == line.rstrip() for line in lines)


SWEEP_TABLES = CONFIG.replace("[scenarios.base]", """# a comment that stays
[sweep]
"valuation.exit_multiple_median" = [6, 10]
commercial.growth_long_run = [0.05, 0.1]  # dotted: a nested table, flattened

[sensitivity.ranges]
"chips.shock_rate" = [0.2, 1.0]
[sensitivity.groups]
"chips.shock_rate" = "supply"

[scenarios.base]""")


def test_sweep_and_sensitivity_tables_in_the_config(tmp_path):
    path = tmp_path / "with_sweep.toml"
    path.write_text(SWEEP_TABLES)
    plain = simval.load_config(path)  # a run accepts the file and ignores the tables
    assert "sweep" not in plain.base and "sensitivity" not in plain.base
    research = load_research_config(path)
    assert research.sweep == {EXIT: [6, 10], GROWTH: [0.05, 0.1]}
    assert research.ranges == {"chips.shock_rate": (0.2, 1.0)}
    assert research.groups == {"chips.shock_rate": "supply"}
    assert "# a comment that stays" in research.config.text
    assert "[sweep]" not in research.config.text
    assert research.config.source == str(path)
    ds = sweep(path, n_paths=300, scenarios=["base"])  # the table is the default grid
    assert ds.p_justified.dims == (EXIT, GROWTH, "scenario")
    assert ds[EXIT].values.tolist() == [6.0, 10.0]  # ints of a float key become floats
    bad = SWEEP_TABLES.replace('"chips.shock_rate" = [0.2, 1.0]', '"chips.shok_rate" = [0, 1]')
    with pytest.raises(ConfigError, match=r"\[sensitivity.ranges\] key 'chips.shok_rate'"):
        parse_research_config(bad, source="bad.toml")
    # a table written as dotted keys at the top: the text is written anew, still valid
    dotted = 'sweep."chips.shock_rate" = [0.1, 0.2]\n' + CONFIG
    assert parse_research_config(dotted).sweep == {"chips.shock_rate": [0.1, 0.2]}


def test_resolve_key_fields(config):
    key = resolve_key(config, "contracts.city.renewal_probability")
    assert key.label == "[contracts.city].renewal_probability" and key.numeric
    assert resolve_key(config, "chips.enabled").field.kind == "bool"


# ------------------------------------------------------------------------------------------
# the command line


def _wired() -> bool:
    import simval.cli as cli

    parser = cli._build_parser()
    choices = [a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return any("sweep" in c for c in choices)


def run_cli(argv: list[str]) -> int:
    """``simval.cli.main`` once the research commands are wired into it; until then the
    same parse, dispatch and exit codes with :mod:`simval.research.cli` alone."""
    if _wired():
        from simval.cli import main

        return main(argv)
    return research_cli.main(argv)


@pytest.mark.slow
def test_cli_sweep_writes_and_refuses_to_overwrite(tmp_path, capsys):
    path = tmp_path / "cfg.toml"
    path.write_text(CONFIG)
    out = tmp_path / "out"
    argv = ["sweep", str(path), "--set", f"{EXIT}=6,10", "--set",
            "contracts.city.renewal_probability=0.5,0.9", "--paths", "400", "--out", str(out)]
    assert run_cli(argv) == 0
    printed = capsys.readouterr().out
    assert "P(justified)" in printed and "results written to" in printed
    ds = simval.open_results(out / "sweep.nc")
    assert ds.p_justified.dims == (EXIT, "contracts.city.renewal_probability", "scenario")
    assert ds["contracts.city.renewal_probability"].values.tolist() == [0.5, 0.9]
    before = (out / "sweep.nc").stat().st_mtime_ns
    assert run_cli(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "sweep.nc").stat().st_mtime_ns == before
    assert run_cli([*argv, "--force"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(("argv", "words"), [
    (["--set", "valuation.exit_multipl=6,10"], ["'valuation.exit_multipl'"]),
    (["--set", "contracts.city.renewal_probability=0.5,1.5"], ["renewal_probability", "1.5"]),
    (["--set", "novalues"], ["KEY=V1,V2"]),
    ([], ["nothing to sweep"]),
])
def test_cli_sweep_user_errors(tmp_path, capsys, argv, words):
    path = tmp_path / "cfg.toml"
    path.write_text(CONFIG)
    code = run_cli(["sweep", str(path), "--paths", "100", "--out", str(tmp_path), *argv])
    assert code == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err
    assert "Traceback" not in err
