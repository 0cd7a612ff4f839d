"""simval report: a self-contained HTML page (and Markdown) whose numbers are simval show's."""

from __future__ import annotations

import base64
import dataclasses
import re
import subprocess
import sys
import warnings
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import simval  # noqa: E402
from simval.cli import main  # noqa: E402
from simval.config.schema import SCHEMA  # noqa: E402
from simval.report import build  # noqa: E402
from simval.report.figures import ReportFigure  # noqa: E402
from tests.conftest import CLOSED_FORM  # noqa: E402
from tests.test_plot import EDGE_CONFIG  # noqa: E402


class _Page(HTMLParser):
    """Collects what the tests look at: every URL-bearing attribute, images, tables, text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.images: list[str] = []
        self.tags: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.pre: dict[str, str] = {}
        self.text: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._pre: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for key in ("src", "href", "action", "data", "poster", "srcset"):
            if key in attrs:
                self.urls.append((tag, key, attrs[key] or ""))
        if tag == "img":
            self.images.append(attrs.get("src") or "")
        if tag == "table":
            self._table = attrs.get("id") or attrs.get("class") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "pre":
            self._pre = attrs.get("id") or f"pre{len(self.pre)}"
            self.pre[self._pre] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "pre":
            self._pre = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._pre is not None:
            self.pre[self._pre] += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _show_blocks(text: str) -> dict[str, dict[str, str]]:
    """``simval show`` output -> {scenario: {label: value}}."""
    out: dict[str, dict[str, str]] = {}
    current = None
    lines = text.splitlines()
    for line in lines[lines.index("") + 1:]:  # after the preamble
        if not line.strip():
            continue
        if not line.startswith("  "):
            name, _, v0 = line.partition("  V0 = ")
            current = out[name] = {"V0": v0}
        else:
            label, value = re.match(r"^  ( {0,2}\S.*?)\s{2,}(\S.*)$", line).groups()
            current[label.strip()] = value  # a table's rows are indented further
    return out


@pytest.fixture(scope="session")
def results_file(full_config, tmp_path_factory):
    ds = simval.simulate(full_config, n_paths=8192, keep_paths=30)  # two blocks
    return simval.save(ds, tmp_path_factory.mktemp("run") / "results.nc")


@pytest.fixture(scope="session")
def html_report(results_file):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["report", str(results_file)]) == 0
    return results_file.parent / "report.html"


@pytest.mark.slow
def test_report_writes_html_and_pngs_beside_the_results(html_report):
    out = html_report.parent
    pngs = sorted((out / "report_figures").glob("*.png"))
    assert [p.name for p in pngs][:3] == ["01_scenario_comparison.png",
                                          "02_value_distribution.png", "03_survival.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    page = _parse(html_report.read_text(encoding="utf-8"))
    # every figure is embedded, as the very PNG written beside the page
    assert len(page.images) == len(pngs) >= 8
    embedded = [base64.b64decode(src.split(",", 1)[1]) for src in page.images]
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert embedded == [p.read_bytes() for p in pngs]


def test_html_report_needs_no_network(html_report):
    html = html_report.read_text(encoding="utf-8")
    page = _parse(html)
    for tag, key, value in page.urls:
        assert value.startswith(("data:", "#")), (tag, key, value[:60])
    assert not {"script", "link", "iframe", "object", "embed"} & set(page.tags)
    assert "url(" not in html and "@import" not in html
    assert "http://" not in html and "https://" not in html


def test_html_headline_is_exactly_what_simval_show_prints(html_report, results_file, capsys):
    assert main(["show", str(results_file)]) == 0
    shown = capsys.readouterr().out
    page = _parse(html_report.read_text(encoding="utf-8"))
    assert page.pre["headline-text"] == shown
    rows = page.tables["headline-table"]
    scenarios = rows[0][1:]
    expected = _show_blocks(shown)
    assert scenarios == list(expected)
    table = {row[0]: dict(zip(scenarios, row[1:], strict=True)) for row in rows[1:]}
    for name, block in expected.items():
        for label, value in block.items():
            assert table[label][name] == value, (name, label)
    # the title names the company, the as-of date and the currency
    ds = simval.open_results(results_file)
    text = " ".join(page.text)
    assert f"{ds.attrs['company']}, as of {ds.attrs['as_of']}" in text
    assert "money in CNY" in text


def test_html_report_explains_and_documents(html_report, results_file):
    ds = simval.open_results(results_file)
    page = _parse(html_report.read_text(encoding="utf-8"))
    text = " ".join(" ".join(page.text).split())
    assert "How to read this" in text and "E[PV]/V0 is the mean value to today" in text
    assert "P(justified) is the share of futures in which today" in text
    assert "Figure 1." in text and "Figure 8." in text
    # provenance: seed, paths, versions, config hash
    provenance = {row[0]: row[1] for row in page.tables["provenance"]}
    assert provenance["seed"] == str(ds.attrs["seed"])
    assert provenance["paths per scenario"] == f"{ds.attrs['n_paths']:,}"
    assert provenance["config sha256"].startswith(ds.attrs["config_sha256"])
    assert "matches the stored config text" in provenance["config sha256"]
    assert f"numba {ds.attrs['numba_version']}" in provenance["run made with"]
    assert f"matplotlib {matplotlib.__version__}" in provenance["report made with"]
    assert provenance["results sha256"] == build.content.sha256_file(results_file)
    assert provenance["reproduce"].endswith(f"--paths {ds.attrs['n_paths']} --seed "
                                            f"{ds.attrs['seed']} --keep-paths 30")


def test_assumptions_table_has_every_parameter_with_value_and_unit(html_report):
    page = _parse(html_report.read_text(encoding="utf-8"))
    rows = page.tables["assumptions"]
    header = rows[0]
    assert header[:6] == ["parameter", "symbol", "value", "unit", "meaning", "source"]
    sections, params, section = {}, {}, None
    for row in rows[1:]:
        if len(row) == 1:
            section = row[0].strip("[]")
            sections[section] = []
            continue
        sections[section].append(row[0])
        params[f"{section}.{row[0]}"] = dict(zip(header, row, strict=True))
    for name, fields in SCHEMA.items():  # every section of the full config is switched on
        assert sections[name] == list(fields), name
    assert {"contracts.city", "contracts.ministry"} <= set(sections)
    assert params["company.valuation"]["value"] == "¥50.0B"
    assert params["company.valuation"]["unit"] == "CNY"
    assert params["commercial.revenue"]["unit"] == "CNY/year"
    # a continuous rate also as its annual percentage, exp(0.4) - 1
    assert params["commercial.growth"]["value"] == "0.4/yr continuous (49.2%/yr annual)"
    assert params["commercial.growth"]["unit"] == "1/year"
    assert params["market_size.fx_rate"]["unit"] == "CNY per USD"
    assert params["market_size.points"]["value"] == "2024: $5.00B, 2027: $12.0B, 2030: $25.0B"
    assert (params["commercial.growth_long_run"]["in a slowdown"]
            == "0.05/yr continuous (5.13%/yr annual)")
    assert params["contracts.city.renewal_probability"]["in a slowdown"] == "0.5"
    assert params["bankruptcy.recovery"]["source"] == "default"
    assert params["simulation.n_paths"]["value"] == "6,000 (this run: 8,192)"


def test_scenario_differences(html_report):
    page = _parse(html_report.read_text(encoding="utf-8"))
    rows = page.tables["differences"]
    assert rows[0] == ["scenario", "parameter", "base", "this scenario", "unit"]
    assert ["harsh_chips", "chips.shock_rate", "0.6", "1.5", "1/year"] in rows
    assert ["calm_market", "market.volatility", "0.3", "0.1", "1/sqrt(year)"] in rows


@pytest.mark.slow
def test_markdown_report(results_file, tmp_path, capsys):
    out = tmp_path / "memo"
    assert main(["report", str(results_file), "-o", str(out), "--format", "md"]) == 0
    assert capsys.readouterr().out == f"report written to {out / 'report.md'}\n"
    text = (out / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) >= 8 and all((out / link).is_file() for link in links)
    assert main(["show", str(results_file)]) == 0
    shown = capsys.readouterr().out
    assert f"```\n{shown.rstrip()}\n```" in text
    assert "| `company.valuation` |" in text and "## How to read this" in text
    assert "http" not in text


@pytest.mark.slow
def test_existing_report_is_not_overwritten(results_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(build, "report_figures", lambda ds: [])  # figures: tested above
    args = ["report", str(results_file), "-o", str(tmp_path)]
    assert main(args) == 0
    report = tmp_path / "report.html"
    report.write_text("an earlier report")
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert report.read_text() == "an earlier report"
    assert main([*args, "--force"]) == 0
    assert report.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.slow
def test_a_figure_with_other_contents_is_not_overwritten(results_file, tmp_path, monkeypatch,
                                                         capsys):
    png = b"\x89PNG\r\n\x1a\n..."
    monkeypatch.setattr(build, "report_figures",
                        lambda ds: [ReportFigure("03_survival", "t", "c", png)])
    figure = tmp_path / "report_figures" / "03_survival.png"
    figure.parent.mkdir()
    figure.write_bytes(b"someone else's figure")
    assert main(["report", str(results_file), "-o", str(tmp_path)]) == 2
    assert "03_survival.png" in capsys.readouterr().err
    assert figure.read_bytes() == b"someone else's figure"
    assert not (tmp_path / "report.html").exists()
    figure.write_bytes(png)  # the same figure is no conflict
    assert main(["report", str(results_file), "-o", str(tmp_path)]) == 0
    stale = tmp_path / "report_figures" / "07_old.png"
    stale.write_bytes(png)  # a figure of an earlier report goes with --force
    assert main(["report", str(results_file), "-o", str(tmp_path), "--force"]) == 0
    assert not stale.exists() and figure.read_bytes() == png


@pytest.mark.slow
def test_run_with_report(full_config, tmp_path, capsys):
    config = tmp_path / "full.toml"
    config.write_text(full_config.text)
    out = tmp_path / "out"
    args = ["run", str(config), "--paths", "4096", "--out", str(out), "--no-progress",
            "--scenario", "base", "--report"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert f"report written to {out / 'report.html'}" in printed
    page = _parse((out / "report.html").read_text(encoding="utf-8"))
    provenance = {row[0]: row[1] for row in page.tables["provenance"]}
    assert provenance["reproduce"].endswith("--scenario base")
    # a report in the way is refused before simulating: results stay as they were
    (out / "results.nc").unlink()
    assert main(args) == 2
    assert "report.html exists" in capsys.readouterr().err
    assert not (out / "results.nc").exists()


@pytest.mark.slow
def test_report_of_the_edge_cases(tmp_path):
    """No kept paths, no market size, no threshold, P(justified) = 0, all paths bankrupt."""
    ds = simval.simulate(simval.parse_config(EDGE_CONFIG, source="edge.toml"), n_paths=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = simval.report.write_report(ds, tmp_path, format="html")
    names = [p.stem for p in (tmp_path / "report_figures").glob("*.png")]
    assert not any("sample_paths" in n or "market_share" in n or "convergence" in n
                   for n in names)
    html = path.read_text(encoding="utf-8")
    page = _parse(html)
    assert len(page.images) == len(names)
    headline = page.tables["headline-table"]
    assert not any(row[0].startswith("P(V_T") for row in headline)
    # V0 differs between scenarios, so does the collapse level: the row is generic and each
    # cell names its level
    shown = _show_blocks(simval.headline_table(ds))
    collapse = next(row for row in headline if row[0].startswith("P(collapse"))
    assert collapse[0] == f"P(collapse: V <= level by {str(ds.time.values[-1])[:10]})"
    for name, cell in zip(headline[0][1:], collapse[1:], strict=True):
        label = next(k for k in shown[name] if k.startswith("P(collapse"))
        level = label.split("<= ")[1].split(" by")[0]
        assert cell == f"{shown[name][label]} (level {level})"
    assert "<dt>threshold B</dt>" not in html  # no threshold: not among the terms either
    assert "<dt>collapse</dt>" in html


def test_report_when_the_stored_config_no_longer_validates(results_file, tmp_path,
                                                          monkeypatch):
    monkeypatch.setattr(build, "report_figures", lambda ds: [])  # figures are tested above
    ds = simval.open_results(results_file)
    ds.attrs["config"] = ds.attrs["config"].replace("[company]", "[company]\nnew_key = 1")
    html = simval.report.render_html(ds)
    assert "could not be read by this version of simval" in html
    assert "DOES NOT match the stored config text" in html
    assert "new_key" in html  # the text itself is still shown


@pytest.mark.slow
def test_bad_input_exits_2_without_traceback(tmp_path, capsys):
    proc = subprocess.run([sys.executable, "-m", "simval", "report", "missing.nc"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "missing.nc" in proc.stderr
    junk = tmp_path / "junk.nc"
    junk.write_text("not netcdf")
    assert main(["report", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "not a simval results file" in err
    assert main(["report", str(junk), "--format", "pdf"]) == 2  # argparse: usage, exit 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err


def test_accessor_writes_the_report(results_file, tmp_path, monkeypatch):
    monkeypatch.setattr(build, "report_figures", lambda ds: [])
    ds = simval.open_results(results_file)
    path = ds.simval.report(tmp_path, format="md")
    assert path == tmp_path / "report.md" and path.read_text().startswith("# Testco, as of")


# ------------------------------------------------------------------------------------------
# research in the report: what matters most, what the price implies

EXIT = "valuation.exit_multiple_median"
RESEARCH_CONFIG = CLOSED_FORM + """
[market_size]
enabled = true
points = [[2026, 1e10], [2030, 2e10]]

[implied.reference]
by = "the memo"
market_share = 0.25
"""
RANGES = ["--range", f"{EXIT}=6,10", "--range", "commercial.growth_long_run=0.05,0.15"]


@pytest.fixture(scope="module")
def research_run(tmp_path_factory):
    """A run with its tornado, Sobol' indices and an implied result beside it, all made by
    the command line, and its report without the research for comparison."""
    folder = tmp_path_factory.mktemp("research")
    config = folder / "cf.toml"
    config.write_text(RESEARCH_CONFIG)
    out = folder / "out"
    assert main(["run", str(config), "--paths", "4096", "--keep-paths", "10", "--out",
                 str(out), "--no-progress"]) == 0
    assert main(["report", str(out / "results.nc"), "-o", str(folder / "plain")]) == 0
    assert main(["sensitivity", str(config), *RANGES, "--method", "both", "--paths", "400",
                 "--n-base", "4", "--seed", "3", "--out", str(out)]) == 0
    assert main(["implied", str(config), "--solve", EXIT, "--target", "p_justified=0.5",
                 "--paths", "1000", "--seed", "2", "--out", str(out)]) == 0
    return out


def _images(path) -> int:
    return path.read_text(encoding="utf-8").count("data:image/png;base64,")


@pytest.mark.slow
def test_report_picks_up_the_research_beside_the_results(research_run, capsys):
    from simval.research.implied import describe, load_result

    out = research_run
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["report", str(out / "results.nc")]) == 0
    printed = capsys.readouterr().out
    implied_file = out / "implied_valuation_exit_multiple_median_p_justified_0_5.json"
    assert printed.splitlines() == [
        f"research included: {out / 'tornado.nc'}, {out / 'sobol.nc'}, {implied_file}",
        f"report written to {out / 'report.html'}"]
    html = (out / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    # two more figures than the report without research: the tornado and the Sobol' indices
    plain = out.parent / "plain" / "report.html"
    assert _images(out / "report.html") == _images(plain) + 2 == len(page.images)
    assert 'id="what-matters-most"' in html and 'id="what-the-price-implies"' in html
    assert '<figure id="09_tornado">' in html and '<figure id="10_sobol">' in html
    names = sorted(p.name for p in (out / "report_figures").glob("*.png"))
    assert names[-2:] == ["09_tornado.png", "10_sobol.png"]
    for tag, key, value in page.urls:
        assert value.startswith(("data:", "#")), (tag, key, value[:60])
    assert "http://" not in html and "https://" not in html
    # the tornado table: two rows per input, each change as in tornado.nc
    t = simval.open_results(out / "tornado.nc")
    rows = page.tables["tornado-table"]
    assert rows[0] == ["input", "moved to", "Δ P(justified)", "Δ P(collapse)", "Δ E[PV]/V0"]
    assert len(rows) == 1 + 2 * t.sizes["input"]
    high = t.sel(input=EXIT, side="high")
    row = rows[2]
    assert row[:2] == ["", "high: 10"]
    d, lo, hi = (float(high[f"delta_p_justified{s}"]) for s in ("", "_low", "_high"))
    assert row[2] == f"{100 * d:+.2f} pp [{100 * lo:+.2f}, {100 * hi:+.2f}]"
    d, lo, hi = (float(high[f"delta_value_ratio{s}"]) for s in ("", "_low", "_high"))
    assert row[4] == f"{d:+.3g} [{lo:+.3g}, {hi:+.3g}]"
    assert rows[3][:2] == ["commercial.growth_long_run", "low: 5% a year"]
    # the driver named is the top bar of the tornado, computed from the data
    swing = abs(t.delta_p_justified).max("side")
    top = str(swing.idxmax("input").values)
    assert top == EXIT  # the exit multiple moves P(justified) far more than growth here
    text = " ".join(" ".join(page.text).split())
    assert f"inputs moved one at a time over their ranges, {top} moves P(justified) most" in text
    # the Sobol' table: S1 and ST with their bootstrap intervals, as in sobol.nc
    s = simval.open_results(out / "sobol.nc")
    rows = page.tables["sobol-table"]
    assert rows[0] == ["input", "S1 of P(justified)", "ST of P(justified)",
                       "S1 of E[PV]/V0", "ST of E[PV]/V0"]
    p = s.sel(output="p_justified", input=EXIT)
    assert rows[1][:3] == [EXIT, f"{float(p.first_order):.3f} [{float(p.first_order_low):.3f}, "
                                 f"{float(p.first_order_high):.3f}]",
                           f"{float(p.total):.3f} [{float(p.total_low):.3f}, "
                           f"{float(p.total_high):.3f}]"]
    assert "explains the largest share of the variance of P(justified)" in text
    # the implied result in words, with the memo's assumption from the config
    result = load_result(implied_file)
    sentence = describe(result)
    assert sentence.endswith("The memo assumed a 25% share of the 2029 market.")
    assert sentence in text
    rows = page.tables["implied-table"]
    assert rows[1][0] == EXIT and rows[1][3] == "8"
    assert rows[1][2] == f"{result.value:.4g} [{result.low:.4g}, {result.high:.4g}]"
    # the column of the source's assumption shows the one the sentence above mentions
    assert rows[0][4] == "assumed by the source"
    assert rows[1][4] == "a 25% share of the 2029 market (the memo)"
    # the provenance names each file, relative to the report, with its hash
    provenance = {row[0]: row[1] for row in page.tables["provenance"]}
    assert provenance["tornado"] == (f"tornado.nc (sha256 "
                                     f"{build.content.sha256_file(out / 'tornado.nc')})")
    assert provenance["sobol"].startswith("sobol.nc (sha256 ")
    assert provenance[f"implied {EXIT} (p_justified=0.5)"].startswith(implied_file.name)
    assert str(out) not in text


@pytest.mark.slow
def test_no_research_and_research_named_on_the_command_line(research_run, tmp_path, capsys):
    out = research_run
    plain = out.parent / "plain" / "report.html"
    assert main(["report", str(out / "results.nc"), "-o", str(tmp_path / "a"),
                 "--no-research"]) == 0
    assert capsys.readouterr().out == f"report written to {tmp_path / 'a' / 'report.html'}\n"
    html = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert _images(tmp_path / "a" / "report.html") == _images(plain)
    assert "What matters most" not in html and "What the price implies" not in html
    assert "tornado.nc" not in html
    # a file named explicitly is included, even with --no-research; the others are not
    (tmp_path / "elsewhere").mkdir()
    other = tmp_path / "elsewhere" / "t.nc"
    other.write_bytes((out / "tornado.nc").read_bytes())
    assert main(["report", str(out / "results.nc"), "-o", str(tmp_path / "b"),
                 "--no-research", "--tornado", str(other)]) == 0
    html = (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
    assert _images(tmp_path / "b" / "report.html") == _images(plain) + 1
    assert "09_tornado" in html and "Sobol" not in html and "What the price implies" not in html
    assert "../elsewhere/t.nc (sha256" in html and str(other) not in html  # relative
    # a file that is not there, or not of its kind, is an error (exit 2)
    assert main(["report", str(out / "results.nc"), "-o", str(tmp_path / "c"), "--sobol",
                 str(tmp_path / "missing.nc")]) == 2
    assert "missing.nc: no such sobol results file" in capsys.readouterr().err
    assert main(["report", str(out / "results.nc"), "-o", str(tmp_path / "c"), "--sobol",
                 str(other)]) == 2
    assert "not a simval sobol results file" in capsys.readouterr().err


@pytest.mark.slow
def test_research_of_another_config_or_scenario_is_left_out(research_run, tmp_path, capsys):
    from simval.research.implied import load_result
    from simval.research.sensitivity import tornado

    out = research_run
    ds = simval.open_results(out / "results.nc")
    other = simval.parse_config(RESEARCH_CONFIG.replace("valuation = 6e8", "valuation = 7e8"),
                                source="other.toml")
    simval.save(tornado(other, {EXIT: (6.0, 10.0)}, n_paths=200, seed=1),
                tmp_path / "other_tornado.nc")
    implied = next(out.glob("implied_*.json"))
    result = load_result(implied)
    moved = dataclasses.replace(result, scenario="bull")  # a scenario this run does not have
    html = simval.report.render_html(ds, tornado=tmp_path / "other_tornado.nc",
                                     sobol=out / "sobol.nc", implied=[implied, moved])
    page = _parse(html)
    text = " ".join(" ".join(page.text).split())
    assert ("other_tornado.nc is left out: it was computed from another config: "
            "company.valuation is $700M there, $600M here.") in text
    assert (f"The implied result for {EXIT} (p_justified=0.5) is left out: its scenario "
            "'bull' is not in this run (base).") in text
    assert "09_tornado" not in html and "09_sobol" in html  # the Sobol' indices belong
    assert len(page.images) == _images(out.parent / "plain" / "report.html") + 1
    assert len(page.tables["implied-table"]) == 2  # header and the one that belongs
    provenance = {row[0]: row[1] for row in page.tables["provenance"]}
    assert provenance["tornado (left out)"].endswith("$600M here")
    # the command line says it too
    capsys.readouterr()
    assert main(["report", str(out / "results.nc"), "-o", str(tmp_path / "r"), "--tornado",
                 str(tmp_path / "other_tornado.nc")]) == 0
    err = capsys.readouterr().err
    assert "simval: note: tornado is left out of the report:" in err and "$700M there" in err
    # research matched by its assumptions: comments and research tables do not matter
    from simval.report.research import mismatch

    config = build.config_of(ds)
    assert mismatch(ds, config, RESEARCH_CONFIG.replace("[market_size]",
                                                        "# a comment\n[market_size]"),
                    "base") == ""
    assert "n_paths" not in mismatch(ds, config, RESEARCH_CONFIG.replace(
        "keep_paths = 0", "keep_paths = 5"), "base")


@pytest.mark.slow
def test_markdown_report_with_research(research_run, tmp_path):
    out = research_run
    text, files = simval.report.render_markdown(
        simval.open_results(out / "results.nc"), tornado=out / "tornado.nc",
        sobol=out / "sobol.nc", implied=sorted(out.glob("implied_*.json")))
    assert "## What matters most" in text and "## What the price implies" in text
    assert "report_figures/09_tornado.png" in files and "report_figures/10_sobol.png" in files
    assert "**Figure 10. Sobol' indices" in text
    assert "| input | moved to | Δ P(justified) |" in text
    assert "The memo assumed a 25% share of the 2029 market." in text


@pytest.mark.slow
def test_run_with_report_includes_the_research_in_its_folder(research_run, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("tornado.nc", "sobol.nc"):
        (out / name).write_bytes((research_run / name).read_bytes())
    config = research_run.parent / "cf.toml"
    assert main(["run", str(config), "--paths", "4096", "-o", str(out), "--no-progress",
                 "--report"]) == 0
    printed = capsys.readouterr().out
    assert f"research included: {out / 'tornado.nc'}, {out / 'sobol.nc'}" in printed
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "What matters most" in html and "What the price implies" not in html
