"""Atomic writers: every output is written under a temporary name and renamed into place.

A run killed at any moment therefore leaves either the previous complete file or none, never a
half-written one. Writers refuse to proceed (with a clear :class:`~climmig.errors.ClimmigError`) when the
output directory cannot be written.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from climmig.errors import ClimmigError

__all__ = ["atomic_path", "write_json", "write_netcdf", "write_text", "write_zarr"]


class OutputError(ClimmigError):
    """An output cannot be written (read-only directory, full disk, ...)."""


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling path; on success rename it onto ``target`` (file or directory).

    Parameters
    ----------
    target : str or Path
        Final location.

    Yields
    ------
    Path
        Where to write. Removed if the block raises.

    Raises
    ------
    OutputError
        If the directory is not writable or the disk is full.
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output directory {target.parent}: {exc.strerror}") from None
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        if target.is_dir() and not target.is_symlink():
            old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        _remove(tmp)
        raise OutputError(f"cannot write {target}: {_reason(exc, target.parent)}; earlier outputs are unchanged"
                          ) from None
    except BaseException:
        _remove(tmp)
        raise


#: Below this many free bytes a failed write is reported as a full disk, whatever errno the library gave
#: (HDF5 reports a full disk as "Permission denied").
_FULL_BELOW = 64 << 10


def _reason(exc: OSError, directory: Path) -> str:
    """Why a write failed, in words: a full disk is named as such even when the library's errno is not ENOSPC."""
    if exc.errno == errno.EROFS:
        return exc.strerror or "read-only file system"
    try:
        st = os.statvfs(directory)
        free = st.f_bavail * st.f_frsize
    except OSError:
        free = None
    low = free is not None and free < _FULL_BELOW
    if exc.errno == errno.ENOSPC or low:
        return "the disk is full" + (f" ({free} bytes free)" if low else "")
    return exc.strerror or str(exc)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _encoding(ds: xr.Dataset, compress: bool, engine: str) -> dict[str, dict[str, Any]]:
    enc: dict[str, dict[str, Any]] = {}
    for name, var in ds.data_vars.items():
        e: dict[str, Any] = {}
        if compress and var.dtype.kind in "fiu" and engine == "netcdf":
            e.update(zlib=True, complevel=4)
        if var.dtype.kind == "f":
            e["_FillValue"] = np.nan if engine == "netcdf" else None
        enc[str(name)] = e
    return enc


def write_netcdf(ds: xr.Dataset, target: str | Path, compress: bool = True) -> Path:
    """Write a dataset to NetCDF-4 atomically.

    Parameters
    ----------
    ds : xr.Dataset
        Dataset (lazy or in memory); computed while writing.
    target : str or Path
        Final file name.
    compress : bool
        zlib level 4 on numeric variables.

    Returns
    -------
    Path
        ``target``.
    """
    target = Path(target)
    with atomic_path(target) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=_encoding(ds, compress, "netcdf"))
    return target


def write_zarr(ds: xr.Dataset, target: str | Path, compute: bool = True) -> Path:
    """Write a dataset to a Zarr store atomically (written to a temporary store, then renamed).

    Parameters
    ----------
    ds : xr.Dataset
        Dataset, typically dask-backed; chunks are kept.
    target : str or Path
        Final store path.
    compute : bool
        Compute now (True) or only write metadata.

    Returns
    -------
    Path
        ``target``.
    """
    target = Path(target)
    clean = ds.copy()
    for v in clean.variables.values():
        v.encoding.pop("chunks", None)
        v.encoding.pop("preferred_chunks", None)
        v.encoding.pop("compressor", None)
        v.encoding.pop("compressors", None)
    with atomic_path(target) as tmp:
        clean.to_zarr(tmp, mode="w", compute=compute, consolidated=True)
    return target


def write_text(text: str, target: str | Path) -> Path:
    """Write text atomically.

    Parameters
    ----------
    text : str
        Content.
    target : str or Path
        Final file name.

    Returns
    -------
    Path
    """
    target = Path(target)
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    return target


def write_json(obj: Any, target: str | Path) -> Path:
    """Write JSON (indented, sorted keys) atomically.

    Parameters
    ----------
    obj : Any
        JSON-serialisable object.
    target : str or Path
        Final file name.

    Returns
    -------
    Path
    """
    return write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", target)
