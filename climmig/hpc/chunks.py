"""Resumable chunked runs: one output store per chunk, skipped when already complete, merged at the end.

A chunk is one array task of a run (one ``(scenario, climate_model)`` pair, see
:func:`climmig.hpc.render.chunk_table`). :func:`run_chunk` writes ``run_dir/chunks/<i>.zarr`` (or ``.nc``)
under a temporary name and renames it into place, so a killed task leaves no half-written store; a chunk
whose store exists with the same science-config hash is skipped. :func:`merge_chunks` refuses to merge
while any chunk is missing or was made from a different config.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import xarray as xr

from climmig.errors import ClimmigError, ProvenanceMismatchError
from climmig.io import open_netcdf, open_zarr, write_netcdf, write_zarr
from climmig.provenance import provenance_attrs, update_history

__all__ = [
    "ChunkError",
    "chunk_path",
    "chunk_status",
    "merge_chunks",
    "missing_chunks",
    "run_chunk",
]

logger = logging.getLogger(__name__)

ChunkFormat = Literal["zarr", "netcdf"]
_SUFFIX = {"zarr": ".zarr", "netcdf": ".nc"}
HASH_ATTR = "climmig_config_sha256"
CHUNK_ATTR = "climmig_chunk"


class ChunkError(ClimmigError):
    """Chunks of a run are missing, or a chunk index is invalid."""


def chunk_path(run_dir: str | Path, task_index: int, fmt: ChunkFormat = "zarr") -> Path:
    """Where chunk ``task_index`` of a run is stored.

    Parameters
    ----------
    run_dir : str or Path
        Run directory.
    task_index : int
        Array task index.
    fmt : {"zarr", "netcdf"}
        Store format.

    Returns
    -------
    Path
        ``run_dir/chunks/<task_index>.zarr`` (or ``.nc``).
    """
    return Path(run_dir) / "chunks" / f"{int(task_index)}{_SUFFIX[fmt]}"


def _find(run_dir: str | Path, task_index: int) -> Path | None:
    for fmt in ("zarr", "netcdf"):
        p = chunk_path(run_dir, task_index, fmt)  # type: ignore[arg-type]
        if p.exists():
            return p
    return None


def _open(path: Path) -> xr.Dataset:
    return open_zarr(path) if path.suffix == ".zarr" else open_netcdf(path)


def chunk_status(run_dir: str | Path, task_index: int, cfg_hash: str) -> Literal["done", "missing", "stale"]:
    """State of one chunk.

    Parameters
    ----------
    run_dir : str or Path
        Run directory.
    task_index : int
        Array task index.
    cfg_hash : str
        Science-config hash the chunk must carry.

    Returns
    -------
    {"done", "missing", "stale"}
        ``stale`` when the store exists but was made from another config (or cannot be read).
    """
    path = _find(run_dir, task_index)
    if path is None:
        return "missing"
    try:
        with _open(path) as ds:
            got = ds.attrs.get(HASH_ATTR)
    except Exception as exc:  # an unreadable store counts as stale and is redone
        logger.warning("chunk %s cannot be read (%s); it will be redone", path, exc)
        return "stale"
    return "done" if got == cfg_hash else "stale"


def missing_chunks(run_dir: str | Path, n: int, cfg_hash: str) -> list[int]:
    """Indices of the chunks that still have to run (missing or stale).

    Parameters
    ----------
    run_dir : str or Path
        Run directory.
    n : int
        Number of chunks of the run.
    cfg_hash : str
        Science-config hash.

    Returns
    -------
    list of int
        Sorted indices in ``0..n-1``.
    """
    return [i for i in range(n) if chunk_status(run_dir, i, cfg_hash) != "done"]


def run_chunk(
    task_index: int,
    run_dir: str | Path,
    cfg_hash: str,
    work: Callable[[dict[str, Any]], xr.Dataset],
    *,
    chunks: Sequence[Mapping[str, Any]] | None = None,
    seed: int | None = None,
    fmt: ChunkFormat = "zarr",
    force: bool = False,
) -> Path:
    """Compute one chunk and store it atomically, unless it is already complete.

    Parameters
    ----------
    task_index : int
        Array task index (``$SLURM_ARRAY_TASK_ID``).
    run_dir : str or Path
        Run directory.
    cfg_hash : str
        Science-config hash; recorded as ``climmig_config_sha256``.
    work : callable
        ``work(chunk) -> xr.Dataset`` computes the chunk; ``chunk`` is ``chunks[task_index]`` (e.g.
        ``{"task": 3, "scenario": "ssp245", "climate_model": "MRI-ESM2-0"}``) or ``{"task": i}``.
        ``scenario``/``climate_model`` keys that are not dims of the result are added as length-1 dims,
        so :func:`merge_chunks` can combine the chunks by coordinates.
    chunks : sequence of mapping, optional
        The chunk table of the run (:func:`climmig.hpc.render.chunk_table`).
    seed : int, optional
        Recorded as ``climmig_seed``.
    fmt : {"zarr", "netcdf"}
        Store format.
    force : bool
        Recompute even if the chunk is complete.

    Returns
    -------
    Path
        The chunk's store.

    Raises
    ------
    ChunkError
        If ``task_index`` is not in the chunk table.
    """
    if chunks is not None and not 0 <= task_index < len(chunks):
        raise ChunkError(f"chunk {task_index} does not exist; this run has chunks 0..{len(chunks) - 1}")
    if task_index < 0:
        raise ChunkError(f"chunk index must be >= 0, got {task_index}")
    target = chunk_path(run_dir, task_index, fmt)
    status = chunk_status(run_dir, task_index, cfg_hash)
    if status == "done" and not force:
        logger.info("chunk %d already complete at %s; skipping", task_index, _find(run_dir, task_index))
        return _find(run_dir, task_index) or target
    if status == "stale":
        logger.warning("chunk %d was made from another config (or is unreadable); recomputing", task_index)
    _remove_leftovers(run_dir, task_index)
    info = dict(chunks[task_index]) if chunks is not None else {"task": task_index}
    with _sigterm_as_exit():
        path = _compute_and_write(task_index, run_dir, cfg_hash, work, info, seed, fmt, target)
    logger.info("wrote chunk %d to %s", task_index, path)
    return path


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM (scancel, time limit) into SystemExit so temporary stores are removed on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _remove_leftovers(run_dir: str | Path, task_index: int) -> None:
    """Remove temporary stores of this chunk left by an attempt that was killed with SIGKILL."""
    folder = Path(run_dir) / "chunks"
    if not folder.is_dir():
        return
    for pattern in (f".{task_index}.zarr.tmp-*", f".{task_index}.nc.tmp-*"):
        for p in folder.glob(pattern):
            logger.warning("removing %s, left by a killed attempt", p)
            _remove_store(p)


def _compute_and_write(task_index: int, run_dir: str | Path, cfg_hash: str,
                       work: Callable[[dict[str, Any]], xr.Dataset], info: dict[str, Any],
                       seed: int | None, fmt: ChunkFormat, target: Path) -> Path:
    ds = work(info)
    for key in ("scenario", "climate_model"):
        if key in info and key not in ds.dims:
            ds = ds.expand_dims({key: [info[key]]})
    ds = ds.copy()
    ds.attrs = {
        **ds.attrs,
        **provenance_attrs(cfg_hash, seed),
        CHUNK_ATTR: json.dumps(info, sort_keys=True, default=str),
        "history": update_history(f"chunk {task_index} of a chunked run", ds),
    }
    old = _find(run_dir, task_index)
    path = write_zarr(ds, target) if fmt == "zarr" else write_netcdf(ds, target)
    if old is not None and old != path and old.exists():
        _remove_store(old)
    return path


def _remove_store(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def merge_chunks(run_dir: str | Path, n: int, cfg_hash: str) -> xr.Dataset:
    """Combine all chunks of a run into one (lazy) dataset.

    Parameters
    ----------
    run_dir : str or Path
        Run directory.
    n : int
        Number of chunks of the run.
    cfg_hash : str
        Science-config hash every chunk must carry.

    Returns
    -------
    xr.Dataset
        Chunks combined by coordinates: variables with a ``scenario`` or ``climate_model`` dim are
        stacked, others must be equal in every chunk. The first chunk's dataset attributes (without its
        per-chunk ones), fresh provenance attributes and ``climmig_chunks`` (JSON list of each chunk's
        index and SLURM ids).

    Raises
    ------
    ChunkError
        If any chunk is missing.
    ProvenanceMismatchError
        If any chunk was made from another config.
    """
    status = {i: chunk_status(run_dir, i, cfg_hash) for i in range(n)}
    missing = [i for i, s in status.items() if s == "missing"]
    stale = [i for i, s in status.items() if s == "stale"]
    if missing:
        raise ChunkError(
            f"cannot merge {run_dir}: chunks {missing} of 0..{n - 1} are missing; resubmit them "
            "(climmig hpc submit resubmits only missing chunks)"
        )
    if stale:
        raise ProvenanceMismatchError(
            f"cannot merge {run_dir}: chunks {stale} were made from a different config (or are unreadable); "
            "resubmit them"
        )
    parts = [_open(_find(run_dir, i)) for i in range(n)]  # type: ignore[arg-type]
    records = []
    for i, ds in enumerate(parts):
        rec: dict[str, Any] = {"task": i}
        rec.update({k.removeprefix("climmig_"): v for k, v in ds.attrs.items() if k.startswith("climmig_slurm_")})
        records.append(rec)
    # "minimal": a variable without a chunk dim (e.g. a per-region share) is not stacked but must be equal
    # in every chunk; variable attributes come from the first chunk
    merged = xr.combine_by_coords(parts, combine_attrs="override", data_vars="minimal", coords="different",
                                  compat="equals", join="outer")
    if not isinstance(merged, xr.Dataset):
        merged = merged.to_dataset()
    # the on-disk encoding of the first chunk (e.g. a fixed string width '<U9') must not be reused when the
    # merged dataset is written: it would silently truncate longer labels of other chunks
    merged = merged.drop_encoding()
    # dataset attributes shared by all chunks (title, comment, ...) are kept; per-chunk ones are replaced
    shared = {k: v for k, v in parts[0].attrs.items()
              if k not in (CHUNK_ATTR, "history") and not k.startswith("climmig_slurm_")}
    merged.attrs = {
        **shared,
        **provenance_attrs(cfg_hash),
        "climmig_chunks": json.dumps(records, sort_keys=True),
        "history": update_history(f"merged {n} chunks", *parts),
    }
    return merged
