"""Company panels: shared macro draws, own idiosyncratic draws, joint probabilities."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

import simval
from simval.panel import load_panel, simulate_panel

ROOT = Path(__file__).resolve().parents[1]

COMPANY = """
[company]
name = "{name}"
currency = "CNY"
as_of = 2026-01-01
valuation = 10e9

[simulation]
horizon_years = 2
valuation_horizon_years = 2
steps_per_year = 4
n_paths = 8192
seed = 3
keep_paths = 0
measure = "real_world"
discount_rate = 0.1

[commercial]
revenue = 1e9
growth = 0.2
growth_long_run = 0.2
volatility = {vol}
volatility_long_run = {vol}

[costs]
variable_cost_ratio = 0.5
fixed_costs = 0.0
cash = 1e9

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 10

[market]
enabled = true
long_run_multiple = 10
mean_reversion = 0.5
volatility = 0.0

[regime]
enabled = {regime}
hazard_normal_to_slowdown = 0.8
hazard_slowdown_to_normal = 0.5

[slowdown.market]
long_run_multiple = 3
"""

PANEL = """
[panel]
name = "test panel"
companies = ["a.toml", "b.toml"]
threshold = 8e9
"""


def _write(tmp_path, vol_a, vol_b, regime, extra=""):
    (tmp_path / "a.toml").write_text(COMPANY.format(name="A", vol=vol_a, regime=regime))
    (tmp_path / "b.toml").write_text(COMPANY.format(name="B", vol=vol_b, regime=regime))
    (tmp_path / "panel.toml").write_text(PANEL + extra)
    return tmp_path / "panel.toml"


def test_shipped_panel_loads_and_runs():
    ds = simulate_panel(ROOT / "configs" / "panels" / "china_ai_2025.toml", n_paths=4096)
    assert list(ds.company.values) == ["zhipu_2025", "minimax_2025", "01ai_2025"]
    last = ds.isel(time=-1)
    assert float(last.p_all_stay_above) <= float(last.p_stays_above.min())
    # the macro regime is common: every company sees the same slowdown probabilities
    np.testing.assert_array_equal(ds.p_slowdown.values[0], ds.p_slowdown.values[1])


def test_macro_only_randomness_makes_companies_move_together(tmp_path):
    """No own volatility: the regime (shared) is the only risk, so both companies breach on
    the same paths and P(all stay above) = P(each stays above)."""
    ds = simulate_panel(_write(tmp_path, 0.0, 0.0, "true"))
    stays = ds.p_stays_above.isel(time=-1).values
    assert 0.05 < stays[0] < 0.95
    assert stays[0] == stays[1] == float(ds.p_all_stay_above.isel(time=-1))


def test_own_randomness_is_independent_between_companies(tmp_path):
    """No shared driver: the joint probability is the product of the marginals (within SE)."""
    ds = simulate_panel(_write(tmp_path, 0.5, 0.5, "false"), n_paths=40_000)
    last = ds.isel(time=-1)
    a, b = last.p_stays_above.values
    joint = float(last.p_all_stay_above)
    n = ds.attrs["n_paths"]
    assert 0.2 < a < 0.95
    se = math.sqrt(a * b * (1 - a * b) / n) * 1.5  # the delta-method margin of the product
    assert abs(joint - a * b) <= 5 * se
    assert abs(joint - min(a, b)) > 5 * se  # not comonotone


def test_first_company_equals_its_single_run(tmp_path):
    panel = _write(tmp_path, 0.4, 0.3, "true")
    ds = simulate_panel(panel)
    alone = simval.simulate(tmp_path / "a.toml").sel(scenario="base")
    for name in ("p_justified", "p_collapse", "pv_mean", "p_slowdown"):
        np.testing.assert_array_equal(ds[name].sel(company="a").values, alone[name].values)


def test_panel_rejects_companies_with_different_macro(tmp_path):
    _write(tmp_path, 0.4, 0.3, "true")
    (tmp_path / "b.toml").write_text(COMPANY.format(name="B", vol=0.3, regime="false"))
    with pytest.raises(simval.ConfigError, match="regime.enabled"):
        load_panel(tmp_path / "panel.toml")
    # ... unless the panel sets it for everyone
    (tmp_path / "panel.toml").write_text(PANEL + "[shared]\nregime.enabled = true\n")
    assert load_panel(tmp_path / "panel.toml").companies["b"].base["regime"]["enabled"]


def test_panel_errors_name_the_files(tmp_path):
    (tmp_path / "panel.toml").write_text(PANEL.replace("b.toml", "missing.toml"))
    (tmp_path / "a.toml").write_text(COMPANY.format(name="A", vol=0.1, regime="true"))
    with pytest.raises(simval.ConfigError, match="missing.toml"):
        load_panel(tmp_path / "panel.toml")


# ------------------------------------------------------------------------------------------
# the panel report: the companies side by side


@pytest.fixture(scope="module")
def panel_report(tmp_path_factory):
    from simval.cli import main

    folder = tmp_path_factory.mktemp("panel_report")
    path = _write(folder, 0.4, 0.3, "true")
    out = folder / "out"
    assert main(["panel", str(path), "--paths", "4096", "--keep-paths", "20", "-o", str(out),
                 "--report"]) == 0
    return out


@pytest.mark.slow
def test_panel_report_compares_the_companies(panel_report, capsys):
    from simval.format import format_percent as _pct
    from simval.plot.panel import independence_product
    from simval.report.panel import year_ends
    from tests.test_report import _parse

    ds = simval.open_results(panel_report / "panel.nc")
    html = (panel_report / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    text = " ".join(" ".join(page.text).split())
    assert page.tags.count("h1") == 1 and "test panel, as of 2026-01-01" in text
    # headline: one column per company, the numbers of the Dataset as formatted
    rows = page.tables["headline-table"]
    assert rows[0][1:] == ["a", "b"]
    table = {row[0]: row[1:] for row in rows[1:]}
    assert table["company"] == ["A", "B"]
    assert table["V0"] == ["¥10.0B", "¥10.0B"]
    for name in ("a", "b"):
        s = ds.sel(company=name)
        i = ["a", "b"].index(name)
        assert table["P(justified: PV >= V0)"][i] == (
            f"{_pct(float(s.p_justified))} [{_pct(float(s.p_justified_low))}, "
            f"{_pct(float(s.p_justified_high))}]")
        assert table["P(bankrupt by T)"][i].startswith(_pct(float(s.p_bankrupt)))
        assert table["median PV"][i].startswith(simval.format.format_money(
            float(s.pv_quantile.sel(quantile=0.5)), "CNY"))
    # P(stays above the line) at the end of each calendar year and at the horizon
    ends = year_ends(ds)
    dates = [str(ds.time.values[i])[:10] for i in ends]
    assert dates == ["2027-01-01", "2028-01-01"]  # the turn of 2026 and of 2027 (the end)
    for i, date in zip(ends, dates, strict=True):
        label = f"P(stays above ¥8.00B through {date})"
        for j, name in enumerate(("a", "b")):
            s = ds.sel(company=name).isel(time=i)
            assert table[label][j] == (f"{_pct(float(s.p_stays_above))} "
                                       f"[{_pct(float(s.p_stays_above_low))}, "
                                       f"{_pct(float(s.p_stays_above_high))}]")
    # the joint probability, the product of the individual ones, and the words for it
    joint = page.tables["joint-table"]
    assert joint[0] == ["through", *dates]
    product = independence_product(ds)
    for k, i in enumerate(ends, start=1):
        p = ds.isel(time=i)
        assert joint[1][k] == (f"{_pct(float(p.p_all_stay_above))} "
                               f"[{_pct(float(p.p_all_stay_above_low))}, "
                               f"{_pct(float(p.p_all_stay_above_high))}]")
        assert joint[2][k] == _pct(float(product.isel(time=i)))
        assert float(product.isel(time=i)) == pytest.approx(
            float(p.p_stays_above.sel(company="a")) * float(p.p_stays_above.sel(company="b")))
    assert joint[1][0] == "P(all stay above)" and "independent" in joint[2][0]
    assert "the difference is due to the shared macro draws" in text
    last = ds.isel(time=-1)
    assert (f"all of them stay above on {_pct(float(last.p_all_stay_above))}" in text
            and f"against {_pct(float(product.isel(time=-1)))} if they were independent" in text)
    # figures: staying above the line first, then the companies side by side
    names = sorted(p.stem for p in (panel_report / "report_figures").glob("*.png"))
    assert names == ["01_stays_above", "02_company_comparison", "03_value_distribution",
                     "04_market_value_fans"]
    assert len(page.images) == 4 and '<figure id="01_stays_above">' in html
    for tag, key, value in page.urls:
        assert value.startswith(("data:", "#")), (tag, key, value[:60])
    assert "http://" not in html and "https://" not in html
    # assumptions: one column per company, the keys that differ
    rows = page.tables["panel-assumptions"]
    assert rows[0] == ["parameter", "unit", "a", "b"]
    params = {row[0]: row[2:] for row in rows[1:]}
    assert params["commercial.volatility"] == ["0.4", "0.3"]
    assert params["company.name"] == ["A", "B"]
    assert "company.valuation" not in params and "regime.enabled" not in params
    provenance = {row[0]: row[1] for row in page.tables["provenance"]}
    assert provenance["reproduce"].startswith("simval panel ")
    assert provenance["reproduce"].endswith("--paths 4096 --seed 3 --keep-paths 20")
    assert provenance["results sha256"] == simval.report.build.content.sha256_file(
        panel_report / "panel.nc")
    sha = hashlib.sha256((panel_report.parent / "b.toml").read_bytes()).hexdigest()
    assert provenance["config of b"] == f"b.toml (sha256 {sha})"  # no local paths


@pytest.mark.slow
def test_panel_report_from_saved_results_and_in_markdown(panel_report, tmp_path, capsys):
    from simval.cli import main

    # simval report on a panel file: the same page (the figures are identical bytes)
    assert main(["report", str(panel_report / "panel.nc"), "-o", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"report written to {tmp_path / 'report.html'}\n"
    for png in (panel_report / "report_figures").glob("*.png"):
        assert (tmp_path / "report_figures" / png.name).read_bytes() == png.read_bytes()
    assert main(["report", str(panel_report / "panel.nc"), "-o", str(tmp_path), "--format",
                 "md"]) == 0
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| through |" in text and "| P(all stay above) |" in text
    assert "![Staying above ¥8.00B: each company and all of them]" in text
    # simval show prints the panel table
    assert main(["show", str(panel_report / "panel.nc")]) == 0
    assert "P(every company stays above ¥8.00B" in capsys.readouterr().out
    # a report in the way is refused before simulating
    assert main(["panel", str(panel_report.parent / "panel.toml"), "--paths", "4096", "-o",
                 str(tmp_path), "--report"]) == 2
    assert "report.html exists" in capsys.readouterr().err
    assert not (tmp_path / "panel.nc").exists()


def test_panel_rebuilds_from_its_results(tmp_path):
    from simval.panel import panel_of

    ds = simulate_panel(_write(tmp_path, 0.4, 0.3, "true", extra="[shared]\n"
                                                                 "chips.enabled = false\n"),
                        n_paths=4096)
    panel = load_panel(tmp_path / "panel.toml")
    back = panel_of(ds)
    assert back.companies == panel.companies and back.shared == {"chips.enabled": False}
    assert back.threshold == 8e9 and back.scenario == "base"
    ds.attrs.pop("panel_config")
    with pytest.raises(simval.ConfigError, match="panel_config"):
        panel_of(ds)
    html = simval.report.render_html(ds)  # older results: the report says what it lacks
    assert "no assumptions table" in html
