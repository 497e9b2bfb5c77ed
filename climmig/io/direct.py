"""Direct reads of uncompressed Zarr v3 chunks into numpy arrays, with kernel read-ahead hints.

For an array whose only codec is the ``bytes`` serializer (no compressor, filter, transpose or sharding) in
native byte order, a chunk file holds exactly the chunk's C-order bytes, so it can be read with one
``readinto`` into the array the task returns. Compared with zarr-python's reader (measured on a 5.87 GiB
store of 28 MB chunks, 4 dask threads, 2 cores) this removes a temporary ``bytes`` object, one copy of the
chunk and the hand-offs through zarr's event-loop thread: 0.61 -> 0.38 CPU-s per GB with the files in the
page cache (1.65 -> 2.6 GB/s for the exposure reduction).

With the files not in the page cache, :class:`ChunkPrefetcher` asks the kernel to start reading the next
few chunk files (``posix_fadvise(POSIX_FADV_WILLNEED)``) in the direction the reads go, so the disk works
while the dask threads compute or wait for a CPU. The hints fill the page cache (reclaimable), not the
process's memory, and reach at most ``window`` chunk files ahead of the latest read of each array.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from pathlib import Path
from typing import Any

import dask.array as dsa
import numpy as np
import xarray as xr
import zarr
from dask.base import tokenize
from zarr.codecs import BytesCodec

__all__ = ["ChunkPrefetcher", "DirectChunkArray", "direct_dask_array", "direct_readable", "with_direct_reads"]

_HAS_FADVISE = hasattr(os, "posix_fadvise") and hasattr(os, "POSIX_FADV_WILLNEED")


def _advise_willneed(path: str) -> None:
    """Ask the kernel to read ``path`` into the page cache in the background (no-op if it is missing)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    except OSError:
        pass
    finally:
        os.close(fd)


class ChunkPrefetcher:
    """Read-ahead hints for the chunk files of one array, following the direction of the reads.

    Chunks are numbered in C order of the chunk grid. When chunk ``i`` is read just after its neighbour
    ``i + 1`` (or ``i - 1``), the reads go down (or up) the grid, and the next ``window`` chunk files in that
    direction are hinted to the kernel with ``POSIX_FADV_WILLNEED``. Any other order gives no hints, so a
    random or partial access pattern costs nothing extra.

    Parameters
    ----------
    paths : callable
        ``paths(i)`` gives the file of chunk ``i``.
    nchunks : int
        Chunks in the grid.
    window : int
        Chunk files hinted ahead of the latest read (0: no hints).
    """

    def __init__(self, paths: Any, nchunks: int, window: int) -> None:
        self._paths = paths
        self._nchunks = int(nchunks)
        self.window = int(window)
        self._init_state()

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._recent: deque[int] = deque(maxlen=16)  # chunks read lately
        self._advised: deque[int] = deque(maxlen=4 * max(self.window, 1))  # chunks hinted lately

    def __getstate__(self) -> dict[str, Any]:
        return {"_paths": self._paths, "_nchunks": self._nchunks, "window": self.window}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_state()

    def ahead(self, index: int) -> list[int]:
        """Record that chunk ``index`` is read; the chunks to hint now (not hinted lately).

        Parameters
        ----------
        index : int
            C-order number of the chunk being read.

        Returns
        -------
        list of int
            Chunk numbers, nearest first.
        """
        if self.window <= 0:
            return []
        with self._lock:
            step = -1 if index + 1 in self._recent else 1 if index - 1 in self._recent else 0
            self._recent.append(index)
            if step == 0:
                return []
            todo = [j for j in range(index + step, index + step * (self.window + 1), step)
                    if 0 <= j < self._nchunks and j not in self._advised and j not in self._recent]
            self._advised.extend(todo)
        return todo

    def touch(self, index: int) -> None:
        """Record a read of chunk ``index`` and hint the chunk files ahead of it to the kernel.

        Parameters
        ----------
        index : int
            C-order number of the chunk being read.
        """
        if not _HAS_FADVISE:
            return
        for j in self.ahead(index):
            _advise_willneed(self._paths(j))


class _ChunkPaths:
    """Picklable ``i -> chunk file`` of one array (C-order chunk number to path)."""

    def __init__(self, root: str, grid: tuple[int, ...], encoding: Any) -> None:
        self.root, self.grid, self.encoding = root, grid, encoding

    def __call__(self, index: int) -> str:
        coords = tuple(int(c) for c in np.unravel_index(index, self.grid)) if self.grid else ()
        return os.path.join(self.root, *self.encoding.encode_chunk_key(coords).split("/"))


def _readinto_exact(path: str, buf: np.ndarray) -> bool:
    """Fill ``buf`` from ``path``; False if the file does not exist (chunk never written)."""
    view = memoryview(buf.reshape(-1).view(np.uint8))
    try:
        fh = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return False
    with fh:
        got = 0
        while got < view.nbytes:
            n = fh.readinto(view[got:])
            if not n:
                break
            got += n
        if got != view.nbytes or fh.read(1):
            raise ValueError(f"chunk file {path} does not hold {view.nbytes} bytes (uncompressed chunk expected)")
    return True


class DirectChunkArray:
    """Array-like over an uncompressed Zarr v3 array that reads whole chunks straight from their files.

    Indexing accepts only chunk-aligned slices of one chunk (as :func:`dask.array.from_array` passes them
    with the array's own chunks); see :func:`direct_dask_array`.

    Parameters
    ----------
    root : str
        Directory of the array (holding its ``zarr.json``).
    arr : zarr.Array
        The array (checked with :func:`direct_readable`).
    prefetch : int
        Chunk files hinted to the kernel ahead of the reads (:class:`ChunkPrefetcher`; 0: none).
    """

    def __init__(self, root: str, arr: zarr.Array, prefetch: int) -> None:
        self.shape = tuple(arr.shape)
        self.dtype = np.dtype(arr.dtype)
        self.ndim = len(self.shape)
        self.chunk_shape = tuple(arr.chunks)
        self.fill_value = arr.fill_value
        self.grid = tuple(-(-s // c) for s, c in zip(self.shape, self.chunk_shape, strict=True))
        self.paths = _ChunkPaths(root, self.grid, arr.metadata.chunk_key_encoding)
        self.prefetcher = ChunkPrefetcher(self.paths, int(np.prod(self.grid, dtype=np.int64)), prefetch)

    def _chunk_coords(self, key: tuple[slice, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Chunk coordinates and extent of a chunk-aligned key."""
        key = key if isinstance(key, tuple) else (key,)
        if len(key) != self.ndim or not all(isinstance(k, slice) and k.step in (None, 1) for k in key):
            raise IndexError(f"DirectChunkArray takes one chunk-aligned slice per dim, got {key!r}")
        coords, extent = [], []
        for k, size, c in zip(key, self.shape, self.chunk_shape, strict=True):
            start, stop, _ = k.indices(size)
            if start % c or stop != min(start + c, size):
                raise IndexError(f"slice {k} is not one chunk of {c}")
            coords.append(start // c)
            extent.append(stop - start)
        return tuple(coords), tuple(extent)

    def __getitem__(self, key: tuple[slice, ...]) -> np.ndarray:
        coords, extent = self._chunk_coords(key)
        index = int(np.ravel_multi_index(coords, self.grid)) if self.ndim else 0
        self.prefetcher.touch(index)
        out = np.empty(self.chunk_shape, dtype=self.dtype)
        if not _readinto_exact(self.paths(index), out):
            out.fill(self.fill_value)
        if extent != self.chunk_shape:  # edge chunk: stored at full chunk size
            out = np.ascontiguousarray(out[tuple(slice(0, e) for e in extent)])
        return out


def direct_readable(arr: zarr.Array) -> bool:
    """Whether :class:`DirectChunkArray` can read ``arr``'s chunk files as raw bytes.

    Parameters
    ----------
    arr : zarr.Array
        An array of a local store.

    Returns
    -------
    bool
        True for a Zarr v3 array with a regular chunk grid, numeric dtype and ``bytes`` as its only codec,
        in native byte order.
    """
    meta = arr.metadata
    if meta.zarr_format != 3 or len(meta.codecs) != 1 or not isinstance(meta.codecs[0], BytesCodec):
        return False
    dtype = np.dtype(arr.dtype)
    if dtype.kind not in "biuf" or dtype.hasobject or not hasattr(meta.chunk_grid, "chunk_shape"):
        return False
    endian = meta.codecs[0].endian
    return dtype.itemsize == 1 or endian is None or endian.value == ("little" if np.little_endian else "big")


def direct_dask_array(root: str | Path, arr: zarr.Array, prefetch: int = 4) -> dsa.Array:
    """Dask array over ``arr`` (its own chunks) whose tasks read the chunk files directly.

    Parameters
    ----------
    root : str or Path
        Directory of the array.
    arr : zarr.Array
        Array accepted by :func:`direct_readable`.
    prefetch : int
        Chunk files hinted to the kernel ahead of the reads (0: none).

    Returns
    -------
    dask.array.Array
        Same values as reading ``arr`` with zarr-python.
    """
    src = DirectChunkArray(str(root), arr, prefetch)
    stamp = os.stat(os.path.join(str(root), "zarr.json")).st_mtime_ns
    name = "open_zarr-direct-" + tokenize(os.path.abspath(root), stamp, src.shape, src.dtype.str, src.chunk_shape,
                                          prefetch)
    return dsa.from_array(src, chunks=src.chunk_shape, name=name, lock=False, asarray=False, fancy=False,
                          meta=np.empty((0,) * src.ndim, dtype=src.dtype))


def _decodes_unchanged(var: xr.Variable, arr: zarr.Array) -> bool:
    """Whether xarray's decoding leaves the stored values as they are (no scaling, masking or dtype change)."""
    enc = var.encoding
    if np.dtype(var.dtype) != np.dtype(arr.dtype) or tuple(var.shape) != tuple(arr.shape):
        return False
    if any(k in enc or k in var.attrs for k in ("scale_factor", "add_offset", "missing_value")):
        return False
    fill = enc.get("_FillValue")
    return fill is None or (np.dtype(var.dtype).kind == "f" and bool(np.isnan(fill)))


def with_direct_reads(ds: xr.Dataset, path: str | Path, prefetch: int = 4) -> xr.Dataset:
    """Replace the lazy data variables of a dataset opened from a local Zarr store by direct chunk reads.

    Variables that do not qualify (compressed, filtered, sharded, Zarr v2, decoded by xarray, or not
    dask-backed) keep zarr-python's reader. Chunking is unchanged: if ``ds`` was opened with other chunks
    than the store's, the direct array is rechunked to them.

    Parameters
    ----------
    ds : xr.Dataset
        Dataset from :func:`xarray.open_zarr` on ``path``, not indexed since.
    path : str or Path
        The store (a local directory).
    prefetch : int
        Chunk files hinted to the kernel ahead of the reads, per array (0: none).

    Returns
    -------
    xr.Dataset
        Same values, dims, coords, attrs and encoding.
    """
    root = Path(path)
    if not root.is_dir():
        return ds
    group = zarr.open_group(str(root), mode="r")
    out = ds.copy()
    for name, var in ds.data_vars.items():
        if not isinstance(var.data, dsa.Array) or not (root / str(name) / "zarr.json").is_file():
            continue
        arr = group[str(name)]
        if not isinstance(arr, zarr.Array) or not direct_readable(arr) or not _decodes_unchanged(var.variable, arr):
            continue
        data = direct_dask_array(root / str(name), arr, prefetch)
        if data.chunks != var.data.chunks:
            data = data.rechunk(var.data.chunks)
        out[name] = var.copy(data=data)
    return out
