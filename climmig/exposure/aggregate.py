"""Grid-to-region reductions under dask: one kernel call per block, partial sums added by dask.

:func:`region_exceedance_sums` turns each spatial tile of the region weights ``(region, lat, lon)`` into
16-cell block weights once per compute (:func:`climmig.exposure.kernels.tile_weights`, one dask task per
tile, shared by every block of the field on that tile and by every call on the same weights in one
compute), then calls :func:`climmig.exposure.kernels.exceed_and_sum` on each block of the field
``(..., lat, lon)``. Each block yields a partial ``(..., region)`` sum; dask adds the partials of all spatial
tiles in a tree. Memory is bounded by the chunk size, never the input. Fields chunked along the leading
dims with whole lat/lon tiles of 28-84 MB per chunk run fastest.
"""

from __future__ import annotations

import logging
from typing import Any

import dask.array as dsa
import numpy as np
import xarray as xr

from climmig.exposure.kernels import TileWeights, exceed_and_sum, tile_weights

__all__ = ["region_exceedance_sums", "region_sum"]

logger = logging.getLogger(__name__)


def _tile_task(wblocks: list[np.ndarray]) -> np.ndarray:
    """(1, 1) object array holding the block weights of one ``(region, lat, lon)`` tile.

    The region chunks come as a list (``blockwise(concatenate=False)``): with one chunk, as the caller
    arranges, the weights are not copied (``map_blocks(drop_axis=...)`` would concatenate, i.e. copy).
    """
    wblock = wblocks[0] if len(wblocks) == 1 else np.concatenate(wblocks, axis=0)
    out = np.empty((1, 1), dtype=object)
    out[0, 0] = tile_weights(wblock)
    return out


def _partial(block: np.ndarray, tiles: np.ndarray, thr: float) -> np.ndarray:
    tw: TileWeights = tiles[0, 0]
    lead = block.shape[:-2]
    x = block.reshape(int(np.prod(lead, dtype=np.int64)), -1)
    exc, val = exceed_and_sum(x, thr, tw)
    return np.stack([exc, val], axis=-2).reshape(*lead, 1, 1, 2, tw.nreg)


def _tiles(w: xr.DataArray, lat_chunks: tuple[int, ...], lon_chunks: tuple[int, ...]) -> dsa.Array:
    """Object dask array ``(lat tiles, lon tiles)`` of :class:`TileWeights` (lazy for lazy weights)."""
    shape = (len(lat_chunks), len(lon_chunks))
    if isinstance(w.data, dsa.Array):
        wdata = w.data.rechunk((-1, lat_chunks, lon_chunks))
        return dsa.blockwise(_tile_task, (1, 2), wdata, (0, 1, 2), concatenate=False, adjust_chunks={1: 1, 2: 1},
                             dtype=object, meta=np.empty((0, 0), dtype=object))
    # weights in memory: build the tiles now (no dask compute), wrap them without copying or hashing the weights
    wv = np.asarray(w.data)
    table = np.empty(shape, dtype=object)
    y = np.concatenate([[0], np.cumsum(lat_chunks)])
    x = np.concatenate([[0], np.cumsum(lon_chunks)])
    for iy in range(shape[0]):
        for ix in range(shape[1]):
            table[iy, ix] = tile_weights(wv[:, y[iy]:y[iy + 1], x[ix]:x[ix + 1]])
    return dsa.from_array(table, chunks=1, name=False, meta=np.empty((0, 0), dtype=object))


def region_exceedance_sums(field: xr.DataArray, weights: xr.DataArray, threshold: float) -> xr.Dataset:
    """Weighted exceedance and weighted sum of a gridded field per region (lazy).

    Parameters
    ----------
    field : xr.DataArray
        Dims ``(..., lat, lon)`` (dask-backed or numpy).
    weights : xr.DataArray
        Dims ``(region, lat, lon)`` on the same lat/lon (dask-backed or numpy), e.g. fraction of the cell in
        the region x people in the cell. Rechunked to the field's spatial chunks.
    threshold : float
        Strict exceedance level in the units of ``field`` (``inf``: sums only).

    Returns
    -------
    xr.Dataset
        ``exceedance`` (:math:`\\sum_c w_{rc}[x_c > t]`) and ``total`` (:math:`\\sum_c w_{rc} x_c`, NaN
        contributes nothing), dims ``(..., region)``, float64, lazy.
    """
    lead = [d for d in field.dims if d not in ("lat", "lon")]
    f = field.transpose(*lead, "lat", "lon")
    data = f.data if isinstance(f.data, dsa.Array) else dsa.from_array(f.data, chunks=-1, name=False)
    w = weights.transpose("region", "lat", "lon")
    if w.sizes["lat"] != f.sizes["lat"] or w.sizes["lon"] != f.sizes["lon"] or not (
            np.allclose(w["lat"].values, f["lat"].values) and np.allclose(w["lon"].values, f["lon"].values)):
        raise ValueError("weights and field are on different grids; regrid first")
    nd = data.ndim
    tiles = _tiles(w, data.chunks[-2], data.chunks[-1])
    ind = tuple(range(nd))
    parts = dsa.blockwise(
        _partial, ind + (nd, nd + 1), data, ind, tiles, (nd - 2, nd - 1),
        new_axes={nd: 2, nd + 1: w.sizes["region"]}, adjust_chunks={nd - 2: 1, nd - 1: 1}, dtype=np.float64,
        align_arrays=False, thr=float(threshold), meta=np.empty((0,) * (nd + 2), dtype=np.float64),
    )
    summed = parts.sum(axis=(nd - 2, nd - 1), split_every=8)
    coords: dict[str, Any] = {d: f[d] for d in lead if d in f.coords}
    coords["region"] = w["region"]
    for c in w.coords:
        if c not in ("lat", "lon", "region") and w[c].dims == ("region",):
            coords[c] = w[c]
    dims = (*lead, "region")
    return xr.Dataset({"exceedance": (dims, summed[..., 0, :]), "total": (dims, summed[..., 1, :])}, coords=coords)


def region_sum(field: xr.DataArray, weights: xr.DataArray) -> xr.DataArray:
    """Weighted sum per region, :math:`\\sum_c w_{rc} x_c` (lazy; NaN contributes nothing).

    Parameters
    ----------
    field : xr.DataArray
        Dims ``(..., lat, lon)``.
    weights : xr.DataArray
        Dims ``(region, lat, lon)``.

    Returns
    -------
    xr.DataArray
        Dims ``(..., region)``, float64.
    """
    return region_exceedance_sums(field, weights, np.inf)["total"]
