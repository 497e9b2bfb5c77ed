"""Grid-to-region reductions under dask: one kernel call per block, partial sums added by dask.

:func:`region_exceedance_sums` pairs every block of a field ``(..., lat, lon)`` with the matching block of
the region weights ``(region, lat, lon)`` (both may be lazy), turns the weight block into per-cell weights
(:func:`climmig.exposure.kernels.cell_weights`, cached per block, so blocks sharing a spatial tile reuse it) and calls
:func:`climmig.exposure.kernels.exceed_and_sum`. Each block yields a partial ``(..., region)`` sum; dask
adds the partials of all spatial tiles in a tree. Memory is bounded by the chunk size, never the input.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

import dask.array as dsa
import numpy as np
import xarray as xr

from climmig.exposure.kernels import CellWeights, cell_weights, exceed_and_sum, grid_cell_weights

__all__ = ["region_exceedance_sums", "region_sum"]

logger = logging.getLogger(__name__)

_CACHE: OrderedDict[int, tuple[np.ndarray, CellWeights]] = OrderedDict()
_LOCK = threading.Lock()
_CACHE_SIZE = 256


def _cached_lists(wblock: np.ndarray) -> CellWeights:
    key = id(wblock)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is wblock:
            _CACHE.move_to_end(key)
            return hit[1]
    lists = cell_weights(wblock)
    with _LOCK:
        _CACHE[key] = (wblock, lists)  # the strong reference keeps id(wblock) from being reused
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return lists


def _partial(block: np.ndarray, wblock: np.ndarray, thr: float) -> np.ndarray:
    nreg = wblock.shape[0]
    cw = _cached_lists(wblock)
    lead = block.shape[:-2]
    x = block.reshape(int(np.prod(lead, dtype=np.int64)), -1)
    exc, val = exceed_and_sum(x, thr, cw)
    return np.stack([exc, val], axis=-2).reshape(*lead, 1, 1, 2, nreg)


def _partial_table(block: np.ndarray, table: dict, thr: float, block_info: Any = None) -> np.ndarray:
    loc = block_info[0]["chunk-location"]
    cw = table[(loc[-2], loc[-1])]
    lead = block.shape[:-2]
    x = block.reshape(int(np.prod(lead, dtype=np.int64)), -1)
    exc, val = exceed_and_sum(x, thr, cw)
    return np.stack([exc, val], axis=-2).reshape(*lead, 1, 1, 2, cw.nreg)


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
    data = f.data if isinstance(f.data, dsa.Array) else dsa.from_array(f.data, chunks=-1)
    w = weights.transpose("region", "lat", "lon")
    if w.sizes["lat"] != f.sizes["lat"] or w.sizes["lon"] != f.sizes["lon"] or not (
            np.allclose(w["lat"].values, f["lat"].values) and np.allclose(w["lon"].values, f["lon"].values)):
        raise ValueError("weights and field are on different grids; regrid first")
    nd = data.ndim
    nreg = w.sizes["region"]
    if isinstance(w.data, dsa.Array):  # lazy weights: per-cell lists built inside each task (cached per tile)
        wdata = w.data.astype(np.float32).rechunk((-1, data.chunks[-2], data.chunks[-1]))
        ind = tuple(range(nd))
        parts = dsa.blockwise(
            _partial, ind + (nd, nd + 1), data, ind, wdata, (nd + 1, nd - 2, nd - 1),
            new_axes={nd: 2}, adjust_chunks={nd - 2: 1, nd - 1: 1}, dtype=np.float64,
            thr=float(threshold), meta=np.empty((0,) * (nd + 2), dtype=np.float64),
        )
    else:  # weights in memory: per-cell lists of every tile in one pass, shipped with the graph
        table = grid_cell_weights(np.asarray(w.data, dtype=np.float32), data.chunks[-2], data.chunks[-1])
        out_chunks = data.chunks[:-2] + ((1,) * len(data.chunks[-2]), (1,) * len(data.chunks[-1]), (2,), (nreg,))
        parts = dsa.map_blocks(_partial_table, data, table=table, thr=float(threshold), dtype=np.float64,
                               chunks=out_chunks, new_axis=[nd, nd + 1],
                               meta=np.empty((0,) * (nd + 2), dtype=np.float64))
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
