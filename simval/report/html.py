"""Render a :class:`~simval.report.content.ReportContent` as one self-contained HTML page.

Everything is inline: the style sheet, and every figure as a ``data:image/png;base64`` URI.
The page loads nothing from the network, and every text is escaped.
"""

from __future__ import annotations

import base64
from html import escape
from typing import TYPE_CHECKING

from simval.plot.style import short_label
from simval.report.content import ReportContent, split_interval
from simval.report.figures import ReportFigure
from simval.report.sections import Block, Note, Section, Table, split_cell

if TYPE_CHECKING:
    from collections.abc import Iterator


__all__ = ["to_html"]

_CSS = """
:root { color-scheme: light; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1a1a1a; background: #fff; margin: 0; line-height: 1.5; font-size: 15px; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 21px; margin: 40px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
h3 { font-size: 17px; margin: 24px 0 8px; }
p.subtitle { color: #555; margin: 0 0 16px; }
nav { font-size: 14px; color: #555; margin-bottom: 8px; }
nav a { color: #0a5a9c; margin-right: 14px; text-decoration: none; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13.5px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 5px 10px; text-align: left;
         vertical-align: top; }
th { background: #f4f6f8; font-weight: 600; }
table.headline { width: 100%; table-layout: fixed; }
table.headline th:first-child { width: 190px; }
table.headline td { font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
table.headline thead th { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
table.headline td b { font-weight: 600; }
span.ci { display: block; color: #666; font-size: 12px; }
td.key, td.mono, pre, code { font-family: "SFMono-Regular", Menlo, Consolas, "Liberation Mono",
                             monospace; font-size: 12.5px; }
td.default { color: #777; }
tr.section th { background: #e9eef3; }
figure { margin: 18px 0 30px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #333; font-size: 14px; margin-top: 6px; }
figcaption b { color: #000; }
details { margin: 8px 0 16px; }
summary { cursor: pointer; color: #0a5a9c; }
pre { background: #f7f7f7; padding: 10px 12px; overflow-x: auto; border: 1px solid #eee; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
          margin-right: 6px; vertical-align: baseline; }
p.problem, p.note { color: #a40000; }
p.note { background: #fdf3f2; border-left: 4px solid #D55E00; padding: 8px 12px; }
table.research td { font-variant-numeric: tabular-nums; }
p.caption { color: #555; font-size: 13.5px; margin-top: -8px; }
p.summary { font-size: 16px; background: #f2f6fa; border-left: 4px solid #0072B2;
            padding: 10px 14px; margin: 8px 0 0; }
table.provenance th { white-space: nowrap; }
table.differences td:first-child { width: 34%; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 8px 0;
     font-size: 14px; }
dt { font-weight: 600; }
dd { margin: 0; color: #333; }
"""


def _cell(value: str) -> str:
    main, interval = split_interval(value)
    if not interval:
        return escape(value)
    return f"<b>{escape(main)}</b> <span class=\"ci\">{escape(interval)}</span>"


def _headline(report: ReportContent, colors: dict[str, str]) -> str:
    head = "".join(
        f"<th scope=\"col\" title=\"{escape(s)}\"><span class=\"swatch\" "
        f"style=\"background:{colors.get(s, '#888')}\"></span>{escape(short_label(s))}</th>"
        for s in report.scenarios)
    body = []
    for label, values in report.headline.rows():
        cells = "".join(f"<td>{_cell(v)}</td>" for v in values)
        body.append(f"<tr><th scope=\"row\">{escape(label)}</th>{cells}</tr>")
    return (f"<table class=\"headline\" id=\"headline-table\"><thead><tr><th></th>{head}</tr>"
            f"</thead><tbody>{''.join(body)}</tbody></table>")


def _assumptions(report: ReportContent) -> str:
    if not report.assumptions:
        return (f"<p class=\"problem\">The config stored in the results could not be read by "
                f"this version of simval, so there is no assumptions table: "
                f"{escape(report.config_problem)}</p>")
    has_slow = any(r.slowdown for r in report.assumptions)
    cols = ["parameter", "symbol", "value", "unit", "meaning", "source"]
    cols += ["in a slowdown"] if has_slow else []
    rows = []
    section = None
    for r in report.assumptions:
        parts = r.key.split(".")
        sec = ".".join(parts[:2]) if parts[0] == "contracts" else parts[0]
        if sec != section:
            section = sec
            rows.append(f"<tr class=\"section\"><th colspan=\"{len(cols)}\">[{escape(sec)}]"
                        "</th></tr>")
        cells = [f"<td class=\"key\">{escape(parts[-1])}</td>",
                 f"<td class=\"mono\">{escape(r.symbol)}</td>",
                 f"<td>{escape(r.value)}</td>", f"<td class=\"mono\">{escape(r.unit)}</td>",
                 f"<td>{escape(r.meaning)}</td>",
                 f"<td class=\"{r.source}\">{escape(r.source)}</td>"]
        if has_slow:
            cells.append(f"<td>{escape(r.slowdown)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    return (f"<table class=\"assumptions\"><thead><tr>{head}</tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table>")


def _differences(report: ReportContent) -> str:
    if len(report.scenarios) == 1:
        return "<p>This run has a single scenario.</p>"
    if not report.assumptions:
        return ""
    first = report.scenarios[0]
    rows = []
    for name in report.scenarios[1:]:
        diffs = report.differences.get(name, [])
        note = report.notes.get(name, "")
        label = (f"<b>{escape(name)}</b>" + (f"<br><span class=\"ci\">{escape(note)}</span>"
                                              if note else ""))
        if not diffs:
            rows.append(f"<tr><td rowspan=\"1\">{label}</td><td colspan=\"4\">same values as "
                        f"{escape(first)}</td></tr>")
            continue
        for i, d in enumerate(diffs):
            lead = f"<td rowspan=\"{len(diffs)}\">{label}</td>" if i == 0 else ""
            rows.append(f"<tr>{lead}<td class=\"key\">{escape(d.key)}</td>"
                        f"<td>{escape(d.base)}</td><td>{escape(d.value)}</td>"
                        f"<td class=\"mono\">{escape(d.unit)}</td></tr>")
    return (f"<table class=\"differences\"><thead><tr><th>scenario</th><th>parameter</th>"
            f"<th>{escape(first)}</th><th>this scenario</th><th>unit</th></tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table>")


def _figure(f: ReportFigure, number: int) -> str:
    data = base64.b64encode(f.png).decode("ascii")
    return (f"<figure id=\"{escape(f.name)}\"><img src=\"data:image/png;base64,{data}\" "
            f"alt=\"{escape(f.title)}\"><figcaption><b>Figure {number}. {escape(f.title)}.</b> "
            f"{escape(f.caption)}</figcaption></figure>")


def _table(table: Table) -> str:
    def cell(value: str) -> str:
        main, interval = split_cell(value)
        if not interval:
            return escape(value)
        return f"<b>{escape(main)}</b> <span class=\"ci\">{escape(interval)}</span>"

    head = "".join(f"<th scope=\"col\">{escape(h)}</th>" for h in table.header)
    rows = "".join("<tr>" + "".join(
        (f"<th scope=\"row\">{escape(c)}</th>" if j == 0 else f"<td>{cell(c)}</td>")
        for j, c in enumerate(row)) + "</tr>" for row in table.rows)
    caption = f"<p class=\"caption\">{escape(table.caption)}</p>" if table.caption else ""
    return (f"<table class=\"research\" id=\"{escape(table.id)}\"><thead><tr>{head}</tr>"
            f"</thead><tbody>{rows}</tbody></table>{caption}")


def _blocks(blocks: list[Block], numbers: Iterator[int]) -> str:
    out = []
    for b in blocks:
        if isinstance(b, ReportFigure):
            out.append(_figure(b, next(numbers)))
        elif isinstance(b, Table):
            out.append(_table(b))
        elif isinstance(b, Note):
            out.append(f"<p class=\"note\">{escape(b.text)}</p>")
        else:
            out.append(f"<p>{escape(b)}</p>")
    return "\n".join(out)


def _section(section: Section, numbers: Iterator[int]) -> str:
    return (f"<h2 id=\"{escape(section.id)}\">{escape(section.title)}</h2>\n"
            + _blocks(section.blocks, numbers))


def colors_of(report: ReportContent) -> dict[str, str]:
    """Colour of each column of the headline, as in the figures."""
    from simval.plot.style import OKABE_ITO

    if report.colors:
        return dict(report.colors)
    colors = {s: OKABE_ITO[i % len(OKABE_ITO)] for i, s in enumerate(report.scenarios)}
    if report.config_text:  # the figures colour scenarios by their place in the config
        import xarray as xr

        from simval.plot.style import scenario_colors

        probe = xr.Dataset(coords={"scenario": report.scenarios},
                           attrs={"config": report.config_text})
        colors = scenario_colors(probe)
    return colors


def _assumptions_section(report: ReportContent, numbers: Iterator[int]) -> str:
    if report.assumption_blocks:
        return _blocks(report.assumption_blocks, numbers)
    return f"""<p>Read from the config stored in the results. First what each scenario changes
against {escape(report.scenarios[0])}, then every parameter of the model: its value in
{escape(report.scenarios[0])}, its unit (1 = dimensionless: a fraction or a ratio; rates are
continuously compounded per year), its meaning, whether the config sets it or it is simval's
default, and its value in the slowdown regime where that differs. Sections that no scenario
switches on show only their switch. The config's own comments, which give the source of each
value, are at the end of the report.</p>
<h3 id="scenarios">What each scenario changes</h3>
{_differences(report)}
<h3 id="parameters">Every parameter</h3>
{_assumptions(report)}"""


def to_html(report: ReportContent) -> str:
    """The HTML page of a report."""
    import itertools

    colors = colors_of(report)
    numbers = itertools.count(1)
    figures = [_figure(f, next(numbers)) for f in report.figures]
    headline_extra = _blocks(report.headline_blocks, numbers)
    sections = "\n".join(_section(sec, numbers) for sec in report.sections)
    assumptions = _assumptions_section(report, numbers)
    nav = "".join(f"<a href=\"#{escape(sec.id)}\">{escape(sec.title)}</a>"
                  for sec in report.sections)
    provenance = "".join(f"<tr><th scope=\"row\">{escape(k)}</th><td class=\"mono\">"
                         f"{escape(v)}</td></tr>" for k, v in report.provenance)
    read = "".join(f"<p>{escape(p)}</p>" for p in report.how_to_read[:-1])
    summary = escape(report.how_to_read[-1])
    glossary = "".join(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>"
                       for term, text in report.glossary)
    preamble = "<br>".join(escape(line) for line in report.headline.preamble)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(report.title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>{escape(report.title)}</h1>
<p class="subtitle">{escape(report.subtitle)}</p>
<nav><a href="#how-to-read">How to read this</a><a href="#headline">Headline</a>\
<a href="#figures">Figures</a>{nav}<a href="#assumptions">Assumptions</a>\
<a href="#provenance">Provenance</a></nav>
<p class="summary">{summary}</p>
<h2 id="how-to-read">How to read this</h2>
{read}
<details class="glossary" open><summary>Terms</summary><dl>{glossary}</dl></details>
<h2 id="headline">Headline</h2>
<p class="subtitle">{preamble}</p>
{_headline(report, colors)}
{headline_extra}
<details><summary>The same table as printed by <code>{escape(report.headline_command)}</code>\
</summary>
<pre id="headline-text">{escape(report.headline.text)}</pre></details>
<h2 id="figures">Figures</h2>
{''.join(figures)}
{sections}
<h2 id="assumptions">Assumptions</h2>
{assumptions}
<h2 id="provenance">Provenance</h2>
<table class="provenance"><tbody>{provenance}</tbody></table>
<details><summary>{escape(report.config_title)}</summary>
<pre>{escape(report.config_text)}</pre></details>
</main>
</body>
</html>
"""
