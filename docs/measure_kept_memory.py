"""Peak memory of the client process of ``simval run``, for the kept-path table of
docs/scaling.md.

Run from the repository root, one fresh process per measurement::

    python docs/measure_kept_memory.py KEEP_PATHS {zarr,netcdf} {dask,single} OUT_DIR

It runs ``simval run configs/zhipu_2026.toml --paths 200000 --keep-paths KEEP_PATHS`` in this
process (``--dask local:2`` for ``dask``), then prints one JSON line: the resident memory after
the imports, the peak resident memory of this process alone (``ru_maxrss`` of
``RUSAGE_SELF``: the Dask workers are other processes and do not count) and the size of the
kept-path variables written.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time

import psutil


def main(keep: str, fmt: str, mode: str, out: str) -> dict:
    import dask  # noqa: F401  (imports counted in the baseline, not in the run)
    import distributed  # noqa: F401
    import zarr  # noqa: F401

    import simval
    from simval.cli import main as cli

    before = psutil.Process().memory_info().rss
    args = ["run", "configs/zhipu_2026.toml", "--paths", "200000", "--keep-paths", keep,
            "--format", fmt, "--out", out, "--no-progress"]
    if mode == "dask":
        args += ["--dask", "local:2"]
    start = time.time()
    with contextlib.redirect_stdout(io.StringIO()):
        rc = cli(args)
    seconds = time.time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    ds = simval.open_results(f"{out}/results.{'zarr' if fmt == 'zarr' else 'nc'}", chunks={})
    kept = sum(ds[v].nbytes for v in ds.data_vars if v.startswith("path_"))
    return {"keep_paths": int(keep), "format": fmt, "mode": mode, "exit_code": rc,
            "rss_after_imports_MiB": round(before / 2**20), "peak_rss_MiB": round(peak / 2**20),
            "kept_variables_MiB": round(kept / 2**20), "seconds": round(seconds, 1)}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
