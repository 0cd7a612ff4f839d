"""Render a :class:`~simval.report.content.ReportContent` as Markdown with PNG files beside it."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from simval.report.content import ReportContent
from simval.report.figures import ReportFigure
from simval.report.sections import Block, Note, Table

if TYPE_CHECKING:
    from collections.abc import Iterator


__all__ = ["to_markdown"]


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


def _figure(f: ReportFigure, number: int, figure_dir: str) -> list[str]:
    return [f"![{f.title}]({figure_dir}/{f.name}.png)", "",
            f"**Figure {number}. {f.title}.** {f.caption}", ""]


def _blocks(blocks: list[Block], numbers: Iterator[int], figure_dir: str) -> list[str]:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, ReportFigure):
            out += _figure(b, next(numbers), figure_dir)
        elif isinstance(b, Table):
            out += _table(b.header, b.rows)
            out += ["", f"_{b.caption}_", ""] if b.caption else [""]
        elif isinstance(b, Note):
            out += [f"> **Note:** {b.text}", ""]
        else:
            out += [b, ""]
    return out


def to_markdown(report: ReportContent, figure_dir: str) -> str:
    """The Markdown text of a report; figures are linked as ``figure_dir/NAME.png``."""
    numbers = itertools.count(1)
    out = [f"# {report.title}", "", f"_{report.subtitle}_", "", f"> {report.how_to_read[-1]}",
           "", "## How to read this", ""]
    for paragraph in report.how_to_read[:-1]:
        out += [paragraph, ""]
    out += [f"- **{term}**: {text}" for term, text in report.glossary]
    out.append("")
    out += ["## Headline", ""]
    out += [line + "  " for line in report.headline.preamble]
    out.append("")
    out += _table(["", *report.scenarios],
                  [[label, *values] for label, values in report.headline.rows()])
    out.append("")
    out += _blocks(report.headline_blocks, numbers, figure_dir)
    out += [f"As printed by `{report.headline_command}`:", "", "```",
            report.headline.text.rstrip("\n"), "```", "", "## Figures", ""]
    for f in report.figures:
        out += _figure(f, next(numbers), figure_dir)
    for section in report.sections:
        out += [f"## {section.title}", ""]
        out += _blocks(section.blocks, numbers, figure_dir)
    out += ["## Assumptions", ""]
    if report.assumption_blocks:
        out += _blocks(report.assumption_blocks, numbers, figure_dir)
    elif not report.assumptions:
        out += ["The config stored in the results could not be read by this version of "
                f"simval, so there is no assumptions table: {report.config_problem}", ""]
    else:
        out += [f"Every parameter of the model, read from the config stored in the results: "
                f"its value in the first scenario ({report.scenarios[0]}), its unit (1 = "
                "dimensionless: a fraction or a ratio; rates are continuously compounded per "
                "year), its meaning, whether the config sets it or it is simval's default, and "
                "its value in the slowdown regime where that differs. Sections that no "
                "scenario switches on show only their switch.", ""]
        has_slow = any(r.slowdown for r in report.assumptions)
        header = ["parameter", "symbol", "value", "unit", "meaning", "source"]
        header += ["in a slowdown"] if has_slow else []
        rows = []
        for r in report.assumptions:
            row = [f"`{r.key}`", f"`{r.symbol}`" if r.symbol else "", r.value,
                   f"`{r.unit}`" if r.unit else "", r.meaning, r.source]
            rows.append(row + ([r.slowdown] if has_slow else []))
        out += _table(header, rows)
        out += ["", "### What each scenario changes", ""]
        if len(report.scenarios) == 1:
            out += ["This run has a single scenario.", ""]
        else:
            first = report.scenarios[0]
            rows = []
            for name in report.scenarios[1:]:
                diffs = report.differences.get(name, [])
                if not diffs:
                    rows.append([f"**{name}**", f"same values as {first}", "", "", ""])
                rows += [[f"**{name}**" if i == 0 else "", f"`{d.key}`", d.base, d.value,
                          f"`{d.unit}`" if d.unit else ""] for i, d in enumerate(diffs)]
            out += _table(["scenario", "parameter", first, "this scenario", "unit"], rows)
            out.append("")
            out += [f"- **{name}**: {note}" for name, note in report.notes.items()
                    if name != first]
            out.append("")
    out += ["## Provenance", ""]
    out += _table(["", ""], [[k, f"`{v}`"] for k, v in report.provenance])
    out += ["", f"<details><summary>{report.config_title}</summary>",
            "", "```toml", report.config_text.rstrip("\n"), "```", "", "</details>", ""]
    return "\n".join(out)
