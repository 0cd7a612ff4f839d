"""The parts of a report beyond the headline: sections made of paragraphs, tables, figures and
notes, which the HTML and Markdown renderers show the same way whatever the report's kind
(a run with its research, or a company panel).
"""

from __future__ import annotations

import dataclasses
import re

from simval.report.figures import ReportFigure

__all__ = ["Block", "Note", "Section", "Table", "figures_of", "split_cell"]


@dataclasses.dataclass(frozen=True)
class Table:
    """A table of a report section.

    Attributes
    ----------
    id : str
        HTML id (and class) of the table.
    header : list of str
        Column titles; the first column holds the row labels.
    rows : list of list of str
        Cells as text. A cell ``"value [low, high]"`` shows the value with its interval below
        it in HTML.
    caption : str
        A sentence under the table (optional).
    """

    id: str
    header: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclasses.dataclass(frozen=True)
class Note:
    """A remark the reader must not miss, e.g. research left out of the report, and why."""

    text: str


Block = str | Table | Note | ReportFigure
"""A paragraph (``str``), a table, a note or a figure."""


@dataclasses.dataclass(frozen=True)
class Section:
    """A titled part of a report, rendered in order: its blocks one after the other."""

    id: str
    title: str
    blocks: list[Block]


_INTERVAL = re.compile(r"^(.*?\S) (\[[^\[\]]*\])$")


def split_cell(value: str) -> tuple[str, str]:
    """``"+1.2 pp [+0.8, +1.6]"`` -> ``("+1.2 pp", "[+0.8, +1.6]")``; other text unchanged.

    Examples
    --------
    >>> split_cell("0.41 [0.30, 0.52]")
    ('0.41', '[0.30, 0.52]')
    >>> split_cell("commercial.growth_long_run")
    ('commercial.growth_long_run', '')
    """
    match = _INTERVAL.match(value)
    return (match.group(1), match.group(2)) if match else (value, "")


def figures_of(blocks: list[Block]) -> list[ReportFigure]:
    """The figures among ``blocks``, in order."""
    return [b for b in blocks if isinstance(b, ReportFigure)]
