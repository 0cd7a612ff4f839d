"""Bad input and faults (issue 15): every ordinary mistake exits 2 with a message and no
traceback, a run claims its output folder, numbers beyond what was measured are never shown
as measured, and the report page says what it shows."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

import simval  # noqa: E402
from simval.cli import _build_parser, main  # noqa: E402
from simval.engine.histogram import VALUE_GRID  # noqa: E402
from simval.format import format_money  # noqa: E402
from simval.results.io import LOCK_NAME, OutputError, claim_output  # noqa: E402
from simval.results.summary import format_quantile  # noqa: E402
from simval.stats.distribution import histogram_quantiles  # noqa: E402
from simval.stats.probabilities import binomial_estimate  # noqa: E402
from tests.conftest import CLOSED_FORM  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _config(tmp_path: Path, text: str = CLOSED_FORM, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(*argv: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simval", *argv], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small run saved to results.nc."""
    ds = simval.simulate(simval.parse_config(CLOSED_FORM), n_paths=300, keep_paths=5)
    return simval.save(ds, tmp_path_factory.mktemp("saved") / "results.nc")


# ------------------------------------------------------------------ places that cannot be used

@pytest.mark.parametrize("where", ["file", "under_file", "unwritable", "empty"])
@pytest.mark.parametrize("command", ["run", "panel", "sweep", "report"])
def test_an_output_place_that_cannot_be_used_exits_2(where, command, tmp_path, saved, capsys):
    config = _config(tmp_path)
    (tmp_path / "afile").write_text("x")
    out = {"file": str(tmp_path / "afile"), "under_file": str(tmp_path / "afile" / "sub"),
           "unwritable": "/proc/simval-cannot-write-here", "empty": ""}[where]
    argv = {"run": ["run", str(config), "--paths", "100", "--no-progress", "--out", out],
            "panel": ["panel", str(ROOT / "configs" / "panels" / "china_ai_2025.toml"),
                      "--paths", "100", "--out", out],
            "sweep": ["sweep", str(config), "--set", "commercial.growth=0.1,0.2", "--paths",
                      "100", "--out", out],
            "report": ["report", str(saved), "-o", out]}[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err
    if where != "empty":
        assert out in err
    else:
        assert "empty name" in err
    assert not (tmp_path / "afile").is_dir()


def test_save_refuses_a_folder_that_is_a_file(tmp_path, saved):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="is an existing file, not a folder"):
        simval.save(simval.open_results(saved), tmp_path / "afile" / "results.nc")


def test_results_files_get_the_users_umask(tmp_path, saved):
    ds = simval.open_results(saved)
    previous = os.umask(0o022)
    try:
        path = simval.save(ds, tmp_path / "r.nc")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


# ------------------------------------------------------------------ files that are not results

def _other_results(saved: Path, folder: Path) -> dict[str, Path]:
    ds = simval.open_results(saved)
    sweep = ds.expand_dims(commercial__growth=[0.1, 0.2])
    sweep.attrs["sweep_keys"] = '["commercial__growth"]'
    tornado = xr.Dataset({"delta_p_justified": ("input", [0.1])},
                         coords={"input": ["commercial.growth"]}, attrs=dict(ds.attrs))
    sobol = xr.Dataset({"first_order": ("input", [0.5])},
                       coords={"input": ["commercial.growth"]}, attrs={"n_base": 64})
    out = {}
    for name, data in (("sweep.nc", sweep), ("tornado.nc", tornado), ("sobol.nc", sobol)):
        out[name] = simval.save(data, folder / name)
    damaged = bytearray(saved.read_bytes())
    for i in range(4000, len(damaged) - 100, 997):
        damaged[i] ^= 0xFF
    (folder / "damaged.nc").write_bytes(bytes(damaged))
    out["damaged.nc"] = folder / "damaged.nc"
    (folder / "implied_x.json").write_text("{}")
    out["implied_x.json"] = folder / "implied_x.json"
    out["a folder"] = folder
    return out


@pytest.mark.parametrize("command", ["show", "report"])
def test_show_and_report_refuse_the_files_beside_the_results(command, saved, tmp_path, capsys):
    for name, path in _other_results(saved, tmp_path).items():
        argv = [command, str(path)] + (["-o", str(tmp_path / "rep")] if command == "report"
                                       else [])
        assert main(argv) == 2, name
        err = capsys.readouterr().err
        assert str(path) in err and "Traceback" not in err, (name, err)
    kinds = {"sweep.nc": "simval sweep", "tornado.nc": "tornado",
             "sobol.nc": "Sobol' indices", "damaged.nc": "damaged"}
    for name, kind in kinds.items():
        assert main(["show", str(tmp_path / name)]) == 2
        assert kind in capsys.readouterr().err, name


# ------------------------------------------------------------------ command-line numbers

def test_whole_numbers_on_the_command_line(tmp_path, capsys):
    parser = _build_parser()
    args = parser.parse_args(["run", "c.toml", "--paths", "1e4", "--keep-paths", "2e2",
                              "--seed", "12"])
    assert (args.paths, args.keep_paths, args.seed) == (10_000, 200, 12)
    for value in ("1.5", "1e4.5", "many", "nan", "inf"):
        assert main(["run", "c.toml", "--paths", value]) == 2
        err = capsys.readouterr().err
        assert "must be a whole number" in err and value in err
        assert "_positive" not in err and "invalid" not in err
    assert main(["run", "c.toml", "--precision", "x"]) == 2
    assert "_probability_width" not in capsys.readouterr().err


@pytest.mark.parametrize("command", [["run", "CONFIG", "--no-progress"],
                                     ["sweep", "CONFIG", "--set", "commercial.growth=0.1,0.2"],
                                     ["sensitivity", "CONFIG"],
                                     ["panel", str(ROOT / "configs/panels/china_ai_2025.toml")]])
def test_a_seed_the_config_would_refuse_is_refused_up_front(command, tmp_path, capsys):
    config = _config(tmp_path)
    argv = [str(config) if a == "CONFIG" else a for a in command]
    for seed in (str(2**63), "1e19"):
        assert main([*argv, "--seed", seed, "--out", str(tmp_path / "o")]) == 2
        assert "must be a whole number in [0, 2**63 - 1]" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing simulated, nothing written
    assert main([*argv[:2], "--seed", str(2**63 - 1), "--paths", "0"]) == 2  # the cap itself
    assert "2**63" not in capsys.readouterr().err  # passes; --paths 0 is what fails


def test_keep_paths_max_paths_and_out_are_checked_before_simulating(tmp_path, capsys):
    config = _config(tmp_path)
    out = tmp_path / "o"
    base = ["run", str(config), "--no-progress", "--out", str(out)]
    assert main([*base, "--paths", "100", "--keep-paths", "200"]) == 2
    assert "--keep-paths (200) must be at most the paths per scenario (100" in \
        capsys.readouterr().err
    assert main([*base, "--keep-paths", "200000"]) == 2  # against the config's n_paths
    assert "simulation.n_paths" in capsys.readouterr().err
    assert main([*base, "--paths", "100", "--max-paths", "200"]) == 2
    assert "--max-paths caps the paths of a --precision run" in capsys.readouterr().err
    assert main(["run", str(config), "--out", ""]) == 2
    assert "empty name" in capsys.readouterr().err
    assert main(["sweep", str(config), "--set", "commercial.growth=0.1,0.2", "--paths", "10",
                 "--keep-paths", "20", "--out", str(out)]) == 2
    assert "--keep-paths (20)" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_a_scheduler_that_is_not_there_exits_2(tmp_path):
    config = _config(tmp_path)
    proc = _run("run", str(config), "--paths", "100", "--scheduler", "tcp://127.0.0.1:9",
                "--out", "o", cwd=tmp_path,
                env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cannot reach a Dask scheduler" in proc.stderr and "tcp://127.0.0.1:9" in proc.stderr
    assert not (tmp_path / "o" / "results.nc").exists()


# ------------------------------------------------------------------ claiming the output folder

def test_a_run_refuses_a_folder_another_run_holds(tmp_path, capsys):
    config = _config(tmp_path)
    out = tmp_path / "o"
    with claim_output(out, ["results.nc"]):
        assert (out / LOCK_NAME).read_text().split() == [socket.gethostname(), str(os.getpid())]
        assert main(["run", str(config), "--paths", "100", "--no-progress", "--out",
                     str(out)]) == 2
        err = capsys.readouterr().err
        assert "another simval run is writing into this folder" in err
        assert not (out / "results.nc").exists()
    assert not (out / LOCK_NAME).exists()  # released
    assert main(["run", str(config), "--paths", "100", "--no-progress", "--out", str(out)]) == 0
    assert not (out / LOCK_NAME).exists()
    capsys.readouterr()


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (out / LOCK_NAME).write_text(f"{socket.gethostname()} {dead}\n")
    with claim_output(out, ["results.nc"]):
        assert (out / LOCK_NAME).read_text().split()[1] == str(os.getpid())
    (out / LOCK_NAME).write_text("another-machine 1\n")  # not known to be gone: kept
    with pytest.raises(OutputError, match="process 1 on another-machine"), \
            claim_output(out, ["results.nc"]):
        pass
    assert (out / LOCK_NAME).exists()


def test_the_claim_is_released_when_the_run_fails(tmp_path):
    out = tmp_path / "o"
    with pytest.raises(RuntimeError), claim_output(out):
        raise RuntimeError("a failed run")
    assert not (out / LOCK_NAME).exists()
    (out / "results.nc").write_text("x")
    with pytest.raises(simval.ResultsExistError), claim_output(out, ["results.nc"]):
        pass
    assert not (out / LOCK_NAME).exists()


@pytest.mark.slow
def test_two_runs_into_one_folder_at_the_same_time(tmp_path):
    """Two real processes, both without --force: one writes, the other refuses (exit 2);
    never two 'results written' with one result lost."""
    config = _config(tmp_path)
    argv = [sys.executable, "-m", "simval", "run", str(config), "--paths", "60000",
            "--keep-paths", "0", "--no-progress", "--out", "o"]
    procs = [subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    written = [out for code, out, _ in results if code == 0]
    refused = [err for code, _, err in results if code == 2][0]
    assert "results written to" in written[0]
    assert "Traceback" not in refused
    assert "another simval run is writing into this folder" in refused or "exists" in refused
    ds = simval.open_results(tmp_path / "o" / "results.nc")
    assert ds.attrs["n_paths"] == 60000
    assert not (tmp_path / "o" / LOCK_NAME).exists()
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["results.nc"]  # nothing half-written


# ------------------------------------------------------------------ numbers not measured

def test_a_quantile_beyond_the_grid_is_out_of_range_not_the_edge():
    counts = np.zeros(VALUE_GRID.n_bins, dtype=np.int64)
    counts[-1] = 90  # beyond the top edge
    counts[VALUE_GRID.bins(np.array([1e3]))[0]] = 10  # about 1e3
    est = histogram_quantiles(counts, VALUE_GRID, probs=(0.05, 0.5, 0.95))
    assert 900 < est.value[0] < 1100
    assert np.isnan(est.value[1:]).all()
    assert (est.high[1:] == np.inf).all()
    below = counts[::-1].copy()  # mirrored: beyond the bottom edge
    est = histogram_quantiles(below, VALUE_GRID, probs=(0.05, 0.5, 0.95))
    assert np.isnan(est.value[:2]).all() and (est.low[:2] == -np.inf).all()


def test_long_horizons_print_out_of_range_not_the_grids_edge(tmp_path, capsys):
    text = CLOSED_FORM.replace("horizon_years = 3.0", "horizon_years = 100.0").replace(
        "steps_per_year = 4", "steps_per_year = 1").replace("growth_long_run = 0.1",
                                                            "growth_long_run = 0.6")
    config = _config(tmp_path, text)
    assert main(["run", str(config), "--paths", "200", "--no-progress", "--out",
                 str(tmp_path / "o")]) == 0
    printed = capsys.readouterr().out
    edge = re.escape(format_money(VALUE_GRID.edge, "USD"))  # 2**60: $1152922T
    assert re.search(rf"median revenue at \S+ +> {edge}/year", printed)
    assert re.search(rf"PV quantiles 5/25/50/75/95% +> {edge} / > {edge}", printed)
    assert "999" not in printed
    ds = simval.open_results(tmp_path / "o" / "results.nc")
    assert np.isnan(ds.terminal_revenue_quantile.sel(quantile=0.5)).all()
    assert "beyond the edge" in ds.terminal_revenue_quantile.attrs["out_of_range"]
    assert format_quantile(ds.isel(scenario=0), "pv_quantile", 0.5, "USD") == \
        f"> {format_money(VALUE_GRID.edge, 'USD')}"


def test_absurd_multiples_are_refused_and_overflow_stops_the_run(tmp_path, capsys):
    config = _config(tmp_path, CLOSED_FORM.replace("exit_multiple_median = 8.0",
                                                   "exit_multiple_median = 1e300"))
    assert main(["validate", str(config)]) == 2
    assert "[valuation].exit_multiple_median must be a number in the range (0, 1000]" in \
        capsys.readouterr().err
    text = CLOSED_FORM.replace("horizon_years = 3.0", "horizon_years = 100.0").replace(
        "steps_per_year = 4", "steps_per_year = 1").replace("growth = 0.3", "growth = 5.0"
                                                            ).replace("growth_long_run = 0.1",
                                                                      "growth_long_run = 5.0")
    config = _config(tmp_path, text, "huge.toml")
    assert main(["run", str(config), "--paths", "200", "--no-progress", "--out",
                 str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "the simulation overflowed" in err and "nothing was written" in err
    assert not (tmp_path / "o" / "results.nc").exists()


def test_a_standard_error_needs_two_paths(tmp_path, capsys):
    assert np.isnan(binomial_estimate(1, 1).se) and np.isfinite(binomial_estimate(1, 2).se)
    config = _config(tmp_path)
    assert main(["run", str(config), "--paths", "1", "--keep-paths", "1", "--no-progress",
                 "--out", str(tmp_path / "o")]) == 0
    printed = capsys.readouterr().out
    assert "± n/a (1 s.e.;" in printed and "± 0 " not in printed
    ds = simval.open_results(tmp_path / "o" / "results.nc")
    assert np.isnan(ds.pv_mean_se).all() and np.isnan(ds.p_justified_se).all()


# ------------------------------------------------------------------ configs

def test_a_config_without_a_base_scenario_says_so(tmp_path, capsys):
    text = CLOSED_FORM + "\n[scenarios.stress]\ncommercial.growth = 0.1\n"
    config = _config(tmp_path, text)
    assert main(["validate", str(config)]) == 0
    err = capsys.readouterr().err
    assert "there is no [scenarios.base]" in err and "'stress'" in err
    assert not [w for w in simval.parse_config(CLOSED_FORM).warnings()  # no [scenarios]:
                if "scenarios.base" in w]  # base implied


def test_a_byte_order_mark_is_dropped(tmp_path, capsys):
    config = tmp_path / "bom.toml"
    config.write_bytes(b"\xef\xbb\xbf" + CLOSED_FORM.encode())
    assert main(["validate", str(config)]) == 0
    assert simval.load_config(config).text == CLOSED_FORM
    capsys.readouterr()


# ------------------------------------------------------------------ the Python API

@pytest.mark.parametrize("kwargs, error, words", [
    ({"n_paths": 1.5}, ValueError, "n_paths must be a whole number; got 1.5"),
    ({"n_paths": "100"}, TypeError, "n_paths must be a whole number; got '100'"),
    ({"n_paths": True}, TypeError, "n_paths"),
    ({"n_paths": 0}, ValueError, "n_paths must be at least 1"),
    ({"seed": 2**63}, ValueError, "seed must be at least 0, at most"),
    ({"seed": -1}, ValueError, "seed must be at least 0"),
    ({"keep_paths": 2.5}, ValueError, "keep_paths"),
    ({"scenarios": "base"}, TypeError, "scenarios must be a list of scenario names, e.g. "
                                       "['base']"),
    ({"scenarios": [1]}, TypeError, "scenarios"),
    ({"max_paths": 100}, ValueError, "max_paths caps the paths of a precision run"),
    ({"precision": "0.01"}, TypeError, "precision"),
])
def test_simulate_names_the_argument_it_refuses(kwargs, error, words):
    with pytest.raises(error) as info:
        simval.simulate(simval.parse_config(CLOSED_FORM), **kwargs)
    assert words in str(info.value)


def test_whole_floats_are_accepted_by_the_api():
    ds = simval.simulate(simval.parse_config(CLOSED_FORM), n_paths=100.0, keep_paths=np.int64(2),
                         scenarios=("base",))
    assert ds.attrs["n_paths"] == 100 and ds.sizes["path"] == 2


def test_panel_and_research_apis_check_their_arguments():
    from simval.research.sensitivity import sobol, tornado
    from simval.research.sweep import sweep

    panel = ROOT / "configs" / "panels" / "china_ai_2025.toml"
    with pytest.raises(ValueError, match="n_paths must be a whole number"):
        simval.simulate_panel(panel, n_paths=1.5)
    with pytest.raises(TypeError, match="seed must be a whole number"):
        simval.simulate_panel(panel, seed="3")
    config = simval.parse_config(CLOSED_FORM)
    with pytest.raises(TypeError, match="scenarios must be a list of scenario names"):
        sweep(config, {"commercial.growth": [0.1, 0.2]}, n_paths=100, scenarios="base")
    with pytest.raises(ValueError, match="n_paths must be a whole number"):
        sweep(config, {"commercial.growth": [0.1, 0.2]}, n_paths=100.5)
    with pytest.raises(ValueError, match="n_paths must be a whole number"):
        tornado(config, {"commercial.growth": (0.1, 0.2)}, n_paths=10.5)
    with pytest.raises(TypeError, match="scenario must be the name of one scenario"):
        tornado(config, {"commercial.growth": (0.1, 0.2)}, n_paths=100, scenario=["base"])
    with pytest.raises(TypeError, match="n_paths must be a whole number"):
        sobol(config, {"commercial.growth": (0.1, 0.2)}, n_paths="100")


# ------------------------------------------------------------------ the time grid

def test_whole_months_from_a_month_end_land_on_month_ends():
    from simval.model.params import make_time_grid
    from simval.report.panel import year_ends

    text = CLOSED_FORM.replace("as_of = 2026-01-01", "as_of = 2025-06-30")
    grid = make_time_grid(simval.parse_config(text).base)
    dates = [str(d)[:10] for d in grid.dates[:5]]
    assert dates == ["2025-06-30", "2025-09-30", "2025-12-31", "2026-03-31", "2026-06-30"]
    ds = xr.Dataset(coords={"time": grid.dates})
    assert [dates[i] for i in year_ends(ds) if i < 5] == ["2025-12-31"]
    grid = make_time_grid(simval.parse_config(CLOSED_FORM).base)  # the 1st: whole months
    assert [str(d)[:10] for d in grid.dates[:3]] == ["2026-01-01", "2026-04-01", "2026-07-01"]


def test_time_axes_tick_at_years():
    from matplotlib.figure import Figure

    from simval.plot import style as _style

    for years, expected in ((3, {"2026", "2027", "2028"}), (1, None)):
        ax = Figure().subplots()
        t = np.array(["2025-06-30", f"{2025 + years}-06-30"], dtype="datetime64[ns]")
        ax.plot(t, [0, 1])
        ax.set_xlim(t[0], t[-1])
        _style.date_axis(ax.xaxis)
        ax.figure.canvas.draw()
        labels = [lab.get_text() for lab in ax.get_xticklabels() if lab.get_text()]
        if expected is not None:
            assert expected <= set(labels) and all(lab.isdigit() for lab in labels), labels
        else:  # under two years: months between the years
            assert any(not lab.isdigit() for lab in labels), labels


# ------------------------------------------------------------------ names in figures and tables

def test_long_names_are_shortened_and_fonts_fall_back(monkeypatch):
    from simval.plot import style as _style

    assert _style.short_label("a" * 40) == "a" * 23 + "…"
    assert _style.short_label("智谱" * 20, 10) == "智谱智谱…"
    assert _style.text_font("MiniMax") == (None, "")
    monkeypatch.setattr(_style, "cjk_family", lambda: None)
    families, note = _style.text_font("智谱华章")
    assert families is None and "No installed font can draw '智谱华章'" in note
    monkeypatch.setattr(_style, "cjk_family", lambda: "Noto Sans CJK SC")
    families, note = _style.text_font("智谱华章")
    assert families[-1] == "Noto Sans CJK SC" and note == ""


def test_the_tornado_sentence_says_when_nothing_beats_the_noise():
    from simval.report.research import tornado_sentences

    sides = ["low", "high"]
    zeros = np.zeros((1, 2))

    def tornado(low: float, high: float) -> xr.Dataset:
        data = {}
        for o in ("p_justified", "p_collapse"):
            data[f"delta_{o}"] = (("input", "side"), zeros + 0.001)
            data[f"delta_{o}_low"] = (("input", "side"), zeros + low)
            data[f"delta_{o}_high"] = (("input", "side"), zeros + high)
            data[o] = (("input", "side"), zeros + 0.003)
            data[f"{o}_base"] = 0.002
        return xr.Dataset(data, coords={"input": ["commercial.growth"], "side": sides,
                                        "value": (("input", "side"), [[0.1, 0.2]])})

    text = tornado_sentences(tornado(-0.002, 0.004))
    assert "no input moves P(justified) beyond the Monte Carlo noise" in text
    assert "No input moves P(collapse) beyond the Monte Carlo noise" in text
    assert "moves P(justified) most" not in text
    text = tornado_sentences(tornado(0.0005, 0.004))
    assert "commercial.growth moves P(justified) most" in text


# ------------------------------------------------------------------ the report page

@pytest.mark.slow
def test_report_page_reproduction_provenance_and_names(tmp_path, capsys):
    from tests.test_report import _parse

    text = (CLOSED_FORM.replace('name = "Closed form"', 'name = "北京智谱华章科技股份有限公司 '
                                'with a very long English name after it"')
            + "\n[scenarios.a_very_long_scenario_name_for_the_stressed_case]\n"
              "commercial.growth = 0.1\n[scenarios.calm]\n")
    config = _config(tmp_path, text)
    out = tmp_path / "o"
    assert main(["run", str(config), "--paths", "300", "--keep-paths", "5", "--no-progress",
                 "--out", str(out), "--report"]) == 0
    err = capsys.readouterr().err
    assert "there is no [scenarios.base]" in err
    html = (out / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    provenance = {row[0]: row[1] for row in page.tables["provenance"]}
    # the stored config beside the report, and the reproduce line runs it
    assert (out / "config.toml").read_text(encoding="utf-8") == text
    assert provenance["reproduce"].startswith("simval run config.toml --paths 300 --seed 11")
    assert provenance["config file"] == "c.toml (unchanged since the run)"
    assert provenance["results file"] == "results.nc"
    assert provenance["run date"][:2] == "20" and "T" in provenance["run date"]
    assert str(tmp_path) not in html  # no local paths on a shared page
    assert (out / "results.nc").stat().st_mode & 0o777 == 0o666 & ~_umask()  # not 0600
    # no base scenario: the page says which scenario is the reference
    joined = " ".join(" ".join(page.text).split())
    assert ("This run has no scenario named base: "
            "a_very_long_scenario_name_for_the_stressed_case, its first scenario, is the "
            "reference") in joined
    # long names: shortened in the table head, the full name in a tooltip and the captions
    assert ('title="a_very_long_scenario_name_for_the_stressed_case"' in html
            and ">a_very_long_scenario_na…</th>" in html)
    assert "Full names: a_very_long_scenario_na… = a_very_long_scenario_name_for_the_stressed" \
           "_case." in joined
    # the config file edited after the run: the page says so, and reproduces from the copy
    config.write_text(text.replace("growth = 0.3", "growth = 0.35"), encoding="utf-8")
    changed = hashlib.sha256(config.read_text().encode()).hexdigest()
    assert main(["report", str(out / "results.nc"), "--force"]) == 0
    page = _parse((out / "report.html").read_text(encoding="utf-8"))
    provenance = {row[0]: row[1] for row in page.tables["provenance"]}
    assert provenance["config file"] == (f"c.toml (CHANGED since the run: the file's sha256 is "
                                         f"now {changed}; it no longer holds the config of "
                                         "this run, use the stored config)")
    assert (out / "config.toml").read_text(encoding="utf-8") == text
    capsys.readouterr()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
