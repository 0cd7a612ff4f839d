"""Regenerate the config-key table of docs/model.md from simval/config/schema.py.

Run ``python docs/generate_config_table.py``; ``--check`` exits 1 if the table is stale.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

from simval.config.schema import CONTRACT_FIELDS, REQUIRED, SCHEMA, Field

DOC = Path(__file__).with_name("model.md")
START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"


def _default(d: object) -> str:
    if d is REQUIRED:
        return "required"
    if d is None:
        return "—"
    if isinstance(d, Enum):
        return f"`{d.value}`"
    if isinstance(d, bool):
        return f"`{str(d).lower()}`"
    if isinstance(d, float):
        return f"`{d:g}`"
    return f"`{d}`"


GUIDE = "guide.md"
"""The user's guide, which explains each conditionally required key (docs/guide.md)."""

GUIDE_ANCHORS = {
    "company": "company", "simulation": "discounting", "costs": "operating-model",
    "valuation": "terminal-value", "market": "market-multiple", "market_size": "market-size",
    "expansion": "expansion", "financing": "financing",
}
"""Section -> the anchor of the guide's explanation of its conditionally required keys."""


def _default_cell(section: str, f: Field) -> str:
    if f.required_when:
        return (f"required when {f.required_when} "
                f"([guide]({GUIDE}#{GUIDE_ANCHORS[section]}))")
    return _default(f.default)


def _unit_cell(f: Field) -> str:
    unit = f.unit.replace("{currency}", "currency")
    unit = f"`{unit}`" if unit else ""
    if f.compounding == "continuous":
        unit += f' continuous, or `"40%/yr"` ([rates]({GUIDE}#rates))'
    elif f.compounding == "annual":
        unit += f' annual, or `"3%/yr"` ([rates]({GUIDE}#rates))'
    return unit


def _row(key: str, f: Field, section: str = "contracts") -> str:
    symbol = f"`{f.symbol}`" if f.symbol else ""
    return (f"| `{key}` | {symbol} | {_unit_cell(f)} | {f.doc} | {_default_cell(section, f)} | "
            f"{'yes' if f.per_regime else ''} |")


def table() -> str:
    """The Markdown table of every config key."""
    rows = ["| config key | symbol | unit | meaning | default | `[slowdown]` |",
            "|---|---|---|---|---|---|"]
    rows += [_row(f"{section}.{key}", f, section) for section, fields in SCHEMA.items()
             for key, f in fields.items()]
    rows += [_row(f"contracts.<name>.{key}", f) for key, f in CONTRACT_FIELDS.items()]
    return "\n".join(rows)


def render(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in argv:
        if new != text:
            print(f"{DOC} is stale: run python docs/generate_config_table.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
