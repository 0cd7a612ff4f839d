"""Save and open results (netCDF-4 via the netCDF4 library, or Zarr), atomically, never
overwriting silently."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import xarray as xr

__all__ = ["LOCK_NAME", "OutputError", "ResultsExistError", "claim_output", "open_results",
           "prepare_folder", "save", "write_file_atomic"]

NETCDF_ENGINE = "netcdf4"
"""xarray's engine for netCDF files: Unidata's netCDF4 library. A results Dataset has some 150
variables, and h5netcdf's per-variable bookkeeping (its dimension scales, in Python) made
writing the headline job's 11 MB file take 0.45 s and reading it 0.42 s; the C library took
0.11 s and 0.05 s for the same netCDF-4 file (measured when the engine was changed; the
headline profile in ``benchmarks/results.md`` times the writing)."""

LOCK_NAME = ".simval.lock"
"""The file by which a run claims its output folder (:func:`claim_output`)."""


class ResultsExistError(FileExistsError):
    """The target exists and overwriting was not asked for."""


class OutputError(ValueError):
    """An output folder cannot be used: it is a file, lies under one, cannot be written, or
    another run is writing into it."""


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _plain_permissions(path: str | Path, folder: bool = False) -> None:
    """Give ``path`` the permissions of an ordinary file (folder) under the umask, not
    ``mkstemp``'s 0600 (``mkdtemp``'s 0700)."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


def prepare_folder(folder: str | Path) -> Path:
    """Create ``folder`` (and its parents) if needed and check that files can be written in it.

    Raises
    ------
    OutputError
        If the path is empty, is a file or lies under one, or cannot be created or written.
    """
    if str(folder).strip() == "":
        raise OutputError("the output folder is an empty name; give a folder (e.g. --out .)")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: the output folder is an existing file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a parent is a file
        raise OutputError(f"{folder}: cannot create the output folder: a part of its path is "
                          "a file") from None
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the output folder: "
                          f"{exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{folder}: the output folder cannot be written (permission denied)")
    return folder


def _lock_owner(lock: Path) -> tuple[str, int] | None:
    try:
        host, _, pid = lock.read_text().strip().partition(" ")
        return host, int(pid)
    except (OSError, ValueError):
        return None


def _stale(owner: tuple[str, int] | None) -> bool:
    """Whether the run that wrote a lock file is gone (known only on this machine)."""
    if owner is None or owner[0] != socket.gethostname():
        return False
    try:
        os.kill(owner[1], 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, another user's
        return False
    return False


@contextlib.contextmanager
def claim_output(folder: str | Path, targets: Sequence[str] = (), *,
                 overwrite: bool = False) -> Iterator[Path]:
    """Claim ``folder`` for one run, before it simulates: create it, refuse existing
    ``targets`` (file names in it) unless ``overwrite``, and hold a lock file in it
    (:data:`LOCK_NAME`, created exclusively) until the block ends, so that a second run into
    the same folder at the same time refuses instead of both writing and one result being
    lost. A lock left by a run that was killed (its process is gone) is taken over.

    Raises
    ------
    OutputError
        If the folder cannot be used (:func:`prepare_folder`) or another run holds it.
    ResultsExistError
        If a target exists and ``overwrite`` is not set.
    """
    folder = prepare_folder(folder)
    lock = folder / LOCK_NAME
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            owner = _lock_owner(lock)
            if not _stale(owner):
                who = f" (process {owner[1]} on {owner[0]})" if owner else ""
                raise OutputError(f"{folder}: another simval run is writing into this folder"
                                  f"{who}; wait for it to finish or choose another --out. "
                                  f"If no run is active, delete {lock}") from None
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
        except OSError as exc:
            raise OutputError(f"{folder}: cannot write in the output folder: "
                              f"{exc.strerror or exc}") from None
    else:  # pragma: no cover - another run took the stale lock over at the same moment
        raise OutputError(f"{folder}: another simval run is writing into this folder")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{socket.gethostname()} {os.getpid()}\n")
        if not overwrite:
            for name in targets:
                if (folder / name).exists():
                    raise ResultsExistError(f"{folder / name} exists; use --force to "
                                            "overwrite it")
        yield folder
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()


def write_file_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it and a rename, so that a
    failed write leaves no partial file; the file gets the permissions of an ordinary one
    (the umask's, not ``mkstemp``'s 0600). The folder must exist."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        _plain_permissions(tmp)
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

    Raises
    ------
    ResultsExistError
        If the target exists and ``overwrite`` is not set.
    OutputError
        If the target's folder cannot be created or written.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise ResultsExistError(f"{path} exists; pass overwrite=True (--force) to replace it")
    prepare_folder(path.parent)
    if _is_zarr(path):
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            ds.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)
            _plain_permissions(tmp, folder=True)
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
        # a netCDF file is written from this process only: bring dask-backed variables in first
        ds.compute().to_netcdf(tmp_name, engine=NETCDF_ENGINE)
        _plain_permissions(tmp_name)
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
        return xr.open_dataset(path, engine=NETCDF_ENGINE, chunks=chunks)
    with xr.open_dataset(path, engine=NETCDF_ENGINE) as ds:
        return ds.load()
