"""The command line: exit codes, outputs, no tracebacks for a user's mistakes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simval.cli import main

ROOT = Path(__file__).resolve().parents[1]
AMAZON = ROOT / "configs" / "schwartz_moon_amazon.toml"


@pytest.mark.slow
def test_run_show_and_no_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", str(AMAZON), "--paths", "4096", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "price turns out cheap (PV >= V0)" in printed and "P(bankrupt by 2024-12-31)" in printed
    assert (out / "results.nc").exists()
    assert main(["show", str(out / "results.nc")]) == 0
    shown = capsys.readouterr().out
    assert shown.splitlines()[0] == printed.splitlines()[0]
    assert "P(collapse" in shown
    # a second run refuses to overwrite, exit 2, file untouched
    before = (out / "results.nc").stat().st_mtime_ns
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "results.nc").stat().st_mtime_ns == before
    assert main([*args, "--force"]) == 0


@pytest.mark.slow
def test_threads_give_identical_numbers(tmp_path, capsys):
    tables = []
    for threads in ("1", "2"):
        assert main(["run", str(AMAZON), "--paths", "5000", "--threads", threads,
                     "--out", str(tmp_path / threads), "--no-progress"]) == 0
        tables.append(capsys.readouterr().out.split("results written")[0])
    assert tables[0] == tables[1]


def test_validate(capsys, tmp_path):
    assert main(["validate", str(AMAZON)]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(AMAZON.read_text().replace("tax_rate = 0.35", "tax_rate = 1.35"))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "[costs].tax_rate" in err and "1.35" in err


ZHIPU = Path(__file__).resolve().parents[1] / "configs" / "zhipu_2026.toml"


@pytest.mark.parametrize(("old", "new", "key", "expected", "given"), [
    ("terminal_growth = 0.03 ", "terminal_growth = 0.2 ", "[valuation].terminal_growth",
     "below the discount rate", "0.2"),
    ("target_operating_margin = 0.25 ", "target_operating_margin = 1.2 ",
     "[costs].target_operating_margin", "a number in the range (-inf, 1)", "1.2"),
    ("sales_to_capital = 2.0 ", "sales_to_capital = -2.0 ", "[costs].sales_to_capital",
     "a number in the range (0, inf)", "-2.0"),
    ('sbc_treatment = "expense" ', 'sbc_treatment = ["expense", "dilution"] ',
     "[costs].sbc_treatment", "never several", "['expense', 'dilution']"),
], ids=["growth-at-or-above-discount", "target-margin-above-100%", "negative-sales-to-capital",
        "sbc-both-ways"])
def test_bad_valuation_input_exits_2_naming_file_key_expected_given(old, new, key, expected,
                                                                      given, tmp_path, capsys):
    text = ZHIPU.read_text()
    assert old in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(old, new, 1))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and key in err and expected in err and f"Got {given}" in err, err


@pytest.mark.parametrize("argv", [
    ["validate", "does/not/exist.toml"],
    ["show", "does/not/exist.nc"],
    ["run", "does/not/exist.toml"],
    ["run", str(AMAZON), "--paths", "0"],
    ["run", str(AMAZON), "--scenario", "nope", "--no-progress"],
    ["frobnicate"],
])
@pytest.mark.slow
def test_bad_input_exits_2_without_traceback(argv, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "simval", *argv], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()


def test_show_rejects_a_non_results_file(tmp_path, capsys):
    junk = tmp_path / "junk.nc"
    junk.write_text("not netcdf")
    assert main(["show", str(junk)]) == 2
    assert "junk.nc" in capsys.readouterr().err
