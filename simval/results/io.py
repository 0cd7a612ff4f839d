"""Save and open results as netCDF (h5netcdf), atomically and without silent overwrites."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import xarray as xr

__all__ = ["ResultsExistError", "open_results", "save"]


class ResultsExistError(FileExistsError):
    """The target exists and overwriting was not asked for."""


def save(ds: xr.Dataset, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write results to a netCDF file: to a temporary file beside it, then rename.

    Parameters
    ----------
    ds : xarray.Dataset
    path : str or Path
    overwrite : bool, default: False
        Replace an existing file. Without it an existing file raises
        :class:`ResultsExistError` and is left untouched.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise ResultsExistError(f"{path} exists; pass overwrite=True (--force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def open_results(path: str | Path) -> xr.Dataset:
    """Load results written by :func:`save` fully into memory (the file is closed)."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()
