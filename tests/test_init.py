"""``simval init``: a commented config, valid as written, from a few numbers."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import tomllib

import pytest

import simval
from simval.cli import main
from simval.cli_init import init
from simval.config.scaffold import IMPORTANT_DEFAULTS, Answers, parse_contract, scaffold
from simval.config.schema import CONTRACT_FIELDS, SCHEMA

FLAGS = ["--name", "Acme AI", "--currency", "USD", "--as-of", "2026-01-31",
         "--valuation", "30e9", "--revenue", "1.2e9", "--growth", "40%/yr", "--cash", "2e9"]


def test_init_from_flags_writes_a_valid_commented_config(tmp_path, capsys):
    path = tmp_path / "acme.toml"
    assert main(["init", str(path), *FLAGS, "--contract", "northwind:250e6:2027-03-31",
                 "--contract", "contoso:150e6:2026-09-30:0.8", "--chips"]) == 0
    out = capsys.readouterr().out
    assert f"config written to {path}" in out
    for keys, _ in IMPORTANT_DEFAULTS:  # says which starting values matter most
        assert keys in out
    assert "simulation.discount_rate" in out and "valuation.terminal_growth" in out
    assert main(["validate", str(path)]) == 0
    assert "valid; scenarios: base" in capsys.readouterr().out
    config = simval.load_config(path)
    assert config.warnings() == []
    base = config.base
    assert base["commercial"]["growth"] == math.log(1.4)
    assert base["commercial"]["revenue"] == pytest.approx(0.8e9)
    assert base["contracts"]["contoso"]["renewal_probability"] == 0.8
    assert base["chips"]["enabled"] is True
    text = path.read_text(encoding="utf-8")
    assert 'growth = "40%/yr"' in text and "valuation = 30e9" in text
    # every line that sets a key carries a comment
    keys = [line for line in text.splitlines() if " = " in line and not line.startswith("#")]
    assert keys and all("#" in line for line in keys)
    # every key of a section in use is there: set (at a starting value or the default), or
    # as a comment when it has no default
    raw = tomllib.loads(text)
    for section, fields in SCHEMA.items():
        if raw[section].get("enabled", True):
            for key in fields:
                assert key in raw[section] or f"# {key} = (not set)" in text, (section, key)
    for key in CONTRACT_FIELDS:
        assert key in raw["contracts"]["northwind"], key


def test_init_without_contracts_or_chips(tmp_path):
    path = tmp_path / "plain.toml"
    assert main(["init", str(path), *FLAGS]) == 0
    base = simval.load_config(path).base
    assert base["contracts"] == {} and base["chips"]["enabled"] is False
    assert base["commercial"]["revenue"] == 1.2e9


def test_init_refuses_an_existing_file(tmp_path, capsys):
    path = tmp_path / "acme.toml"
    path.write_text("# mine\n", encoding="utf-8")
    assert main(["init", str(path), *FLAGS]) == 2
    assert "exists" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "# mine\n"
    assert main(["init", str(path), *FLAGS, "--force"]) == 0
    simval.load_config(path)


@pytest.mark.parametrize(("extra", "words"), [
    (["--growth", "0.4"], "annual percentage such as 40%/yr"),
    (["--contract", "big:2e9:2027-01-01"], "must be below the total revenue"),
    (["--contract", "big:1e8:2025-01-01"], "first_renewal must be a date after company.as_of"),
    (["--as-of", "31/01/2026"], "must be a date YYYY-MM-DD"),
])
def test_init_says_what_is_wrong(tmp_path, capsys, extra, words):
    path = tmp_path / "bad.toml"
    assert main(["init", str(path), *FLAGS, *extra]) == 2
    assert words in capsys.readouterr().err
    assert not path.exists()


def test_init_names_missing_answers(tmp_path, capsys):
    assert main(["init", str(tmp_path / "x.toml"), "--name", "X"]) == 2
    err = capsys.readouterr().err
    assert "--currency" in err and "--interactive" in err


def test_init_interactive_asks_until_each_answer_parses(tmp_path, capsys):
    answers = iter(["Beta Robotics", "eur", "2026-03-31", "5e9", "1e9", "40", "25%", "3e8",
                    "fleet:2e8:2027-06-30", "y", "0.55", "", "0.25", ""])
    asked: list[str] = []

    def read(question: str) -> str:
        asked.append(question)
        return next(answers)

    args = argparse.Namespace(config=tmp_path / "beta.toml", force=False, interactive=True,
                              contracts=None, chips=None,
                              **dict.fromkeys(("name", "currency", "as_of", "valuation",
                                               "revenue", "growth", "cash", "gross_margin",
                                               "operating_margin", "target_margin",
                                               "discount_rate")))
    assert init(args, read=read) == 0
    assert sum("growth" in q for q in asked) == 2  # "40" was refused, "25%" taken
    base = simval.load_config(tmp_path / "beta.toml").base
    assert base["company"]["currency"] == "EUR"
    assert base["commercial"]["growth"] == math.log(1.25)
    assert base["contracts"]["fleet"]["revenue"] == 2e8
    assert base["costs"]["target_operating_margin"] == 0.25
    assert base["simulation"]["discount_rate"] == math.log(1.1)  # the default, "10%/yr"


def test_scaffold_runs():
    text = scaffold(Answers("Acme", "USD", dt.date(2026, 1, 31), 30e9, 1.2e9, "40%/yr", 2e9,
                            contracts=[parse_contract("a:1e8:2027-01-31")], chips=True))
    ds = simval.simulate(simval.parse_config(text), n_paths=256, keep_paths=0)
    assert 0.0 < float(ds.value_ratio.sel(scenario="base")) < 10.0


def test_a_panel_takes_company_configs_with_signals_and_weights(tmp_path):
    """A panel runs one scenario of each company: their weights and signals are left aside."""
    from simval.panel import load_panel

    as_of = dt.date(2026, 1, 31)
    a = scaffold(Answers("A", "USD", as_of, 30e9, 1.2e9, "40%/yr", 2e9, chips=True))
    b = scaffold(Answers("B", "USD", as_of, 8e9, 0.9e9, "25%/yr", 1e9, chips=True))
    a = a.replace("[scenarios.base]", "[signals.fast]\nkind = \"growth\"\n"
                  "series = \"total_revenue\"\nfrom = 2026-01-31\nto = 2027-01-31\n"
                  "at_least = 0.4\n\n[scenarios.base]\nweight = 0.7\n\n"
                  "[scenarios.slow]\nweight = 0.3\ncommercial.growth = \"20%/yr\"\n#")
    assert set(simval.parse_config(a).scenarios) == {"base", "slow"}
    (tmp_path / "a.toml").write_text(a, encoding="utf-8")
    (tmp_path / "b.toml").write_text(b, encoding="utf-8")
    (tmp_path / "panel.toml").write_text('[panel]\ncompanies = ["a.toml", "b.toml"]\n',
                                         encoding="utf-8")
    panel = load_panel(tmp_path / "panel.toml")
    assert list(panel.companies) == ["a", "b"]


def test_init_help_prints(capsys):
    """`simval init --help` (its help strings hold "%/yr", which argparse would format)."""
    from simval.cli import main

    try:
        code = main(["init", "--help"])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 0
    assert "40%/yr" in capsys.readouterr().out
