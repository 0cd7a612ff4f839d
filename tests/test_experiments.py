"""Every experiment runs end to end (few paths) and prints its conclusion."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses, a Dask cluster or whole experiments

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("script", "args", "expect"), [
    ("bubble_or_vision.py", ["--quick"], "Conclusion:"),
    ("threshold_4b.py", ["--paths", "4096"], "Conclusion:"),
    ("schwartz_moon_amazon.py", ["--paths", "4096"], "How this compares with the paper"),
])
def test_experiment_runs(script, args, expect, tmp_path):
    out_args = ["--out", str(tmp_path)] if script != "schwartz_moon_amazon.py" else []
    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / script), *args,
                           *out_args], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert expect in proc.stdout
    if out_args:
        assert any(tmp_path.glob("*.png")) and any(tmp_path.glob("*.nc"))
