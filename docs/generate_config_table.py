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


def _row(key: str, f: Field) -> str:
    symbol = f"`{f.symbol}`" if f.symbol else ""
    unit = f.unit.replace("{currency}", "currency")
    unit = f"`{unit}`" if unit else ""
    return (f"| `{key}` | {symbol} | {unit} | {f.doc} | {_default(f.default)} | "
            f"{'yes' if f.per_regime else ''} |")


def table() -> str:
    """The Markdown table of every config key."""
    rows = ["| config key | symbol | unit | meaning | default | `[slowdown]` |",
            "|---|---|---|---|---|---|"]
    rows += [_row(f"{section}.{key}", f) for section, fields in SCHEMA.items()
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
