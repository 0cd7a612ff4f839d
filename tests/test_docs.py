"""Generated documentation is up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_config_table_in_model_md_is_generated_from_the_schema():
    proc = subprocess.run([sys.executable, "docs/generate_config_table.py", "--check"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_readme_benchmark_figures_are_those_of_results_json():
    """The README's benchmark paragraph is written by benchmarks/run.py from results.json."""
    import importlib.util
    import json

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("simval_benchmarks", root / "benchmarks"
                                                  / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    results = json.loads((root / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    readme = (root / "README.md").read_text(encoding="utf-8")
    start = readme.index(bench.README_START) + len(bench.README_START)
    shown = readme[start:readme.index(bench.README_END)].split()
    assert shown == bench.readme_headline(results).split()
