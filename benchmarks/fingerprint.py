"""Fingerprints of every output of every shipped config and panel, to check that a change which
must not change any number changes none.

Usage::

    python benchmarks/fingerprint.py > before.txt      # on the old code
    python benchmarks/fingerprint.py > after.txt       # on the new code
    diff before.txt after.txt                          # no output: bit-identical

One line per (config, antithetic, variable): a SHA-256 of the variable's bytes (NaNs included)
over every scenario, from a run of 8,192 paths (seed 7, 64 kept paths, two chunks, so the
chunked path is exercised too) — plus the panels in ``configs/panels``.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

import simval

ROOT = Path(__file__).resolve().parent.parent
N_PATHS = 8192


def _digest(values: np.ndarray) -> str:
    array = np.ascontiguousarray(values)
    if array.dtype.kind == "M":
        array = array.view("i8")
    return hashlib.sha256(array.tobytes()).hexdigest()[:16]


def _lines(label: str, ds) -> list[str]:
    return [f"{label} {name} {_digest(ds[name].values)}"
            for name in sorted(ds.variables) if ds[name].dtype.kind in "fiubM"]


def main() -> int:
    lines: list[str] = []
    for path in sorted((ROOT / "configs").glob("*.toml")):
        for antithetic in (False, True):
            ds = simval.simulate(path, n_paths=N_PATHS, seed=7, keep_paths=64,
                                 chunk_size=4096, antithetic=antithetic)
            lines += _lines(f"{path.name} antithetic={antithetic}", ds)
    from simval.panel import simulate_panel

    for path in sorted((ROOT / "configs" / "panels").glob("*.toml")):
        ds = simulate_panel(path, n_paths=N_PATHS, seed=7)
        lines += _lines(f"panels/{path.name}", ds)
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
