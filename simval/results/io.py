"""Save and open results (netCDF via h5netcdf, or Zarr), atomically, never overwriting
silently."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import xarray as xr

__all__ = ["ResultsExistError", "open_results", "save", "write_file_atomic"]


class ResultsExistError(FileExistsError):
    """The target exists and overwriting was not asked for."""


def write_file_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it and a rename, so that a
    failed write leaves no partial file; the file gets the permissions of an ordinary one
    (the umask's, not ``mkstemp``'s 0600). The folder must exist."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _is_zarr(path: Path) -> bool:
    return path.suffix == ".zarr"


def save(ds: xr.Dataset, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write results to ``path``: netCDF, or a Zarr store when the name ends in ``.zarr``.

    The data are written to a temporary file (or folder) beside the target, then renamed, so
    a failed or interrupted write leaves nothing half-written.

    Dask-backed variables (the kept paths of a run with ``client=``) are written to a Zarr
    store chunk by chunk, by the workers that hold them: they never pass through this
    process, so its memory does not grow with ``keep_paths``. The workers must see the
    target's folder (always true of a local cluster; on several machines, a shared
    filesystem), and the client of the run must still be up. A netCDF file is written from
    this process, so dask-backed variables are first loaded into its memory.

    Parameters
    ----------
    ds : xarray.Dataset
    path : str or Path
    overwrite : bool, default: False
        Replace an existing target. Without it an existing target raises
        :class:`ResultsExistError` and is left untouched.

    Returns
    -------
    Path
        The written file or store.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise ResultsExistError(f"{path} exists; pass overwrite=True (--force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    if _is_zarr(path):
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            ds.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)
            if path.exists():
                shutil.rmtree(path)
            os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        # h5netcdf is written from this process only: bring dask-backed variables in first
        ds.compute().to_netcdf(tmp_name, engine="h5netcdf")
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def open_results(path: str | Path, *, chunks: dict | None = None) -> xr.Dataset:
    """Open results written by :func:`save`.

    Parameters
    ----------
    path : str or Path
        A netCDF file or a ``.zarr`` store.
    chunks : dict, optional
        Open lazily with these dask chunks (e.g. ``{"path": 10_000}``) instead of loading
        everything into memory.
    """
    path = Path(path)
    if _is_zarr(path):
        ds = xr.open_zarr(path, chunks=chunks)
        return ds if chunks is not None else ds.load()
    if chunks is not None:
        return xr.open_dataset(path, engine="h5netcdf", chunks=chunks)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()
