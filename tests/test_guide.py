"""docs/guide.md runs as written: its commands, in order, on the config its TOML blocks build.

The guide walks through one made-up company. Its blocks are replayed in document order in an
empty folder, as a reader would:

- a ```console block's ``$ simval ...`` lines are run (``python -m simval``); each must exit
  0 (or 2 after ``<!-- guide: error -->``, with the error line shown in the block on stderr).
  Output shown for ``simval validate`` must be what it prints; other output (numbers) is
  illustrative, since it depends on the model's current version.
- a ```toml block is a fragment of ``nimbus.toml``: its tables are merged onto the file
  (as a reader who pastes them would) and the file must stay valid with its research tables
  (:func:`simval.config.research.parse_research_config`). After ``<!-- guide: alternative
  -->`` it is checked the same way but not kept; after ``<!-- guide: variant NAME -->`` it is
  merged onto a copy saved as NAME and not checked (the guide shows what is wrong with it);
  after ``<!-- guide: file NAME -->`` it is the whole file NAME (a panel:
  :func:`simval.panel.load_panel`).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from simval.config.research import parse_research_config
from simval.config.tables import merge
from simval.config.toml import to_toml

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide.md"
CONFIG = "nimbus.toml"
_BLOCK = re.compile(r"(?:<!-- guide: (?P<mark>[^>]*?) -->\n)?```(?P<lang>toml|console)\n"
                    r"(?P<body>.*?)```", re.DOTALL)


def guide_blocks(text: str) -> list[tuple[str, str, str]]:
    """``(language, mark, body)`` of every toml and console block, in order."""
    return [(m.group("lang"), (m.group("mark") or "").strip(), m.group("body"))
            for m in _BLOCK.finditer(text)]


def commands(body: str) -> list[tuple[str, list[str]]]:
    """Each ``$ command`` of a console block with the output lines shown after it."""
    out: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    argv = shlex.split(command)
    assert argv[0] == "simval", f"the guide runs only simval commands: {command}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "simval", *argv[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


def _check_toml(mark: str, body: str, cwd: Path) -> None:
    if mark.startswith("file "):
        name = mark.removeprefix("file ").strip()
        (cwd / name).write_text(body, encoding="utf-8")
        if "[panel]" in body:
            from simval.panel import load_panel

            load_panel(cwd / name)
        else:
            parse_research_config(body, source=name)
        return
    path = cwd / CONFIG
    merged = merge(tomllib.loads(path.read_text(encoding="utf-8")), tomllib.loads(body))
    text = to_toml(merged)
    if mark.startswith("variant "):
        (cwd / mark.removeprefix("variant ").strip()).write_text(text, encoding="utf-8")
        return
    parse_research_config(text, source=CONFIG)
    if mark != "alternative":
        path.write_text(text, encoding="utf-8")


def test_guide_blocks_are_recognised():
    blocks = guide_blocks(GUIDE.read_text(encoding="utf-8"))
    marks = {mark for _, mark, _ in blocks}
    assert marks <= {"", "alternative", "error"} | {
        m for m in marks if m.startswith(("file ", "variant "))}
    assert sum(lang == "console" for lang, _, _ in blocks) >= 8
    assert sum(lang == "toml" for lang, _, _ in blocks) >= 10


def test_guide_documents_every_table_syntax_of_the_shipped_configs():
    """Every table header a shipped config uses (names generalised) appears in a guide block."""
    guide = "".join(body for _, _, body in guide_blocks(GUIDE.read_text(encoding="utf-8")))
    shown = {_generic(h) for h in re.findall(r"^\[([^\]]+)\]", guide, re.MULTILINE)}
    used = set()
    for path in [*(ROOT / "configs").glob("*.toml"), *(ROOT / "configs").glob("panels/*.toml")]:
        used |= {_generic(h) for h in re.findall(r"^\[([^\]]+)\]",
                                                  path.read_text(encoding="utf-8"),
                                                  re.MULTILINE)}
    assert used <= shown, sorted(used - shown)
    assert re.search(r"^[a-z_]+\.[a-z_]+(\.[a-z_]+)* = ", guide, re.MULTILINE)  # dotted keys
    assert "weight = " in guide and "points = [" in guide


def _generic(header: str) -> str:
    """``scenarios.base`` -> ``scenarios.*``; ``slowdown.contracts.x`` ->
    ``slowdown.contracts.*``."""
    parts = header.strip().split(".")
    if parts[0] in ("scenarios", "signals", "contracts"):
        return f"{parts[0]}.*"
    if parts[:2] == ["slowdown", "contracts"]:
        return "slowdown.contracts.*"
    return header.strip()


@pytest.mark.slow
def test_guide_runs_as_written(tmp_path):
    blocks = guide_blocks(GUIDE.read_text(encoding="utf-8"))
    for lang, mark, body in blocks:
        if lang == "toml":
            _check_toml(mark, body, tmp_path)
            continue
        for command, shown in commands(body):
            proc = _run(command, tmp_path)
            expected = 2 if mark == "error" else 0
            assert proc.returncode == expected, (command, proc.stdout, proc.stderr)
            if mark == "error":
                assert any(line.strip() and line.strip() in proc.stderr for line in shown), (
                    command, proc.stderr)
            elif command.startswith("simval validate"):
                printed = (proc.stderr + proc.stdout).splitlines()  # warnings first
                assert [line for line in shown if line.strip()] == printed, command
            elif command.startswith("simval init") and shown:
                assert shown[0] in proc.stdout, command


def test_links_into_the_guide_name_its_anchors():
    """model.md's key table and the README link to explanations the guide has."""
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', GUIDE.read_text(encoding="utf-8")))
    for doc in (ROOT / "docs" / "model.md", ROOT / "README.md", GUIDE):
        text = doc.read_text(encoding="utf-8")
        links = set(re.findall(r"guide\.md#([\w-]+)", text))
        links |= set(re.findall(r"\]\(#([\w-]+)\)", text)) if doc == GUIDE else set()
        assert links <= anchors, (doc.name, sorted(links - anchors))
    assert {"rates", "discounting", "terminal-value", "market-multiple"} <= anchors
