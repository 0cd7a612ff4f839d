"""Generated documentation is up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_config_table_in_model_md_is_generated_from_the_schema():
    proc = subprocess.run([sys.executable, "docs/generate_config_table.py", "--check"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
