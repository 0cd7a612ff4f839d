"""Sweeps in reports: the figure, the section, ``simval report`` and ``simval sweep --report``."""

from __future__ import annotations

import math

import matplotlib
import pytest

matplotlib.use("Agg")

import simval  # noqa: E402
from simval.cli import main  # noqa: E402
from simval.report.build import collect  # noqa: E402
from simval.report.sweep import sweep_sentences, sweep_table  # noqa: E402
from simval.research.sweep import sweep  # noqa: E402
from tests.test_sweep import CONFIG, EXIT  # noqa: E402

GROWTH = "commercial.growth"


@pytest.fixture(scope="module")
def config():
    return simval.parse_config(CONFIG, source="sweep.toml")


@pytest.fixture(scope="module")
def swept(config):
    return sweep(config, {EXIT: [6.0, 10.0], GROWTH: ["20%/yr", "40%/yr"]}, n_paths=400)


@pytest.fixture(scope="module")
def run(config):
    return simval.simulate(config, n_paths=400, keep_paths=10)


def test_rates_swept_as_percentages_are_numbers_with_their_compounding(swept):
    assert swept[GROWTH].values.tolist() == [math.log(1.2), math.log(1.4)]
    assert swept[GROWTH].attrs["compounding"] == "continuous"


@pytest.mark.parametrize("output", ["p_justified", "p_collapse", "value_ratio"])
def test_sweep_figure_has_a_line_per_scenario_and_other_value(swept, output):
    ax = simval.plot.sweep(swept, GROWTH, output=output)
    assert len(ax.get_lines()) >= 4  # 2 scenarios x 2 exit multiples (and their bars)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["20%/yr", "40%/yr"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "base: valuation.exit_multiple_median = 6" in legend
    import matplotlib.pyplot as plt

    plt.close("all")


def test_sweep_figure_says_what_is_wrong(swept):
    with pytest.raises(ValueError, match="was not swept"):
        simval.plot.sweep(swept, "chips.shock_rate")
    with pytest.raises(ValueError, match="unknown output"):
        simval.plot.sweep(swept, output="nope")


def test_sweep_table_and_sentences(swept, config):
    table = sweep_table(swept, config)
    assert table.header == ["scenario", EXIT, GROWTH, "P(justified)", "P(collapse)",
                            "E[PV]/V0"]
    assert len(table.rows) == 2 * 2 * 2
    assert table.rows[0][0] == "base" and table.rows[1][0] == ""
    assert table.rows[0][2].endswith("(20%/yr)")
    assert all("[" in cell for row in table.rows for cell in row[3:])  # intervals
    text = sweep_sentences(swept, config)
    assert text.startswith(f"Sweep of {EXIT}, {GROWTH} over 4 grid points (400 paths each")
    assert "P(justified)" in text and "E[PV]/V0" in text


def test_a_run_report_includes_a_matching_sweep(run, swept):
    report = collect(run, sweep=swept)
    section = next(s for s in report.sections if s.id == "sweep")
    assert any(getattr(b, "name", "").endswith("_sweep") for b in section.blocks)
    assert ("sweep", "given in Python") in report.provenance


def test_a_sweep_of_another_config_is_left_out(run, config):
    other = simval.parse_config(CONFIG.replace("valuation = 6e8", "valuation = 7e8"))
    foreign = sweep(other, {EXIT: [6.0, 10.0]}, n_paths=200, scenarios=["base"])
    report = collect(run, sweep=foreign)
    section = next(s for s in report.sections if s.id == "sweep")
    assert "is left out: it was computed from another config" in section.blocks[0].text
    assert [k for k, _ in report.left_out()] == ["sweep"]


@pytest.mark.slow
def test_cli_report_and_sweep_report(tmp_path, capsys):
    path = tmp_path / "cfg.toml"
    path.write_text(CONFIG)
    out = tmp_path / "out"
    argv = ["sweep", str(path), "--set", f"{GROWTH}=20%/yr,40%/yr", "--paths", "300",
            "--out", str(out), "--report"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "report written to" in printed
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="sweep">Along the swept inputs</h2>' in html and "sweep-table" in html
    assert (out / "results.nc").is_file() and (out / "sweep.nc").is_file()
    assert main(argv) == 2  # refuses to overwrite
    assert "--force" in capsys.readouterr().err
    # simval report finds the sweep beside the results; or is given one; or is told where
    assert main(["report", str(out / "results.nc"), "--out", str(tmp_path / "r1")]) == 0
    assert "sweep-table" in (tmp_path / "r1" / "report.html").read_text(encoding="utf-8")
    assert main(["report", str(out / "results.nc"), "--no-research", "--sweep",
                 str(out / "sweep.nc"), "--out", str(tmp_path / "r2")]) == 0
    assert "sweep-table" in (tmp_path / "r2" / "report.html").read_text(encoding="utf-8")
    assert main(["report", str(out / "sweep.nc"), "--out", str(tmp_path / "r3")]) == 2
    assert "--sweep" in capsys.readouterr().err
    # --report DIR puts the report elsewhere
    assert main([*argv[:-1], "--report", str(tmp_path / "elsewhere"), "--force"]) == 0
    assert (tmp_path / "elsewhere" / "report.html").is_file()
