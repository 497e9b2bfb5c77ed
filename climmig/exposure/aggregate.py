"""Grid-to-region reductions under dask: region weights as sparse per-block lists, one kernel per block.

:func:`region_exceedance_sums` maps :func:`climmig.exposure.kernels.exceed_and_sum` over the dask blocks
of a field ``(..., lat, lon)``; each block yields a partial ``(..., region)`` sum and dask adds the partials
of all spatial blocks (a tree reduction). Memory is bounded by the chunk size, never the input size.
"""

from __future__ import annotations

import logging
from typing import Any

import dask.array as dsa
import numpy as np
import xarray as xr

from climmig.exposure.kernels import exceed_and_sum

__all__ = ["block_weight_table", "region_exceedance_sums", "region_sum"]

logger = logging.getLogger(__name__)


def block_weight_table(weights: np.ndarray, lat_chunks: tuple[int, ...], lon_chunks: tuple[int, ...]
                       ) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per spatial block, the weights in compressed-sparse-row form by cell.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(region, lat, lon)`` weights (e.g. fraction x population).
    lat_chunks, lon_chunks : tuple of int
        Dask chunk sizes of the field along lat and lon.

    Returns
    -------
    dict
        ``(iy, ix) -> (ptr, region_index, weight)`` with ``ptr`` of length ``cells_in_block + 1`` (cells in
        C order of ``(lat, lon)``) and float32 weights.
    """
    table = {}
    y0 = 0
    for iy, ny in enumerate(lat_chunks):
        x0 = 0
        for ix, nx in enumerate(lon_chunks):
            blk = weights[:, y0:y0 + ny, x0:x0 + nx].reshape(weights.shape[0], -1)  # (R, C)
            reg, cell = np.nonzero(blk)
            order = np.lexsort((reg, cell))
            reg, cell = reg[order], cell[order]
            ptr = np.zeros(ny * nx + 1, dtype=np.int64)
            np.add.at(ptr, cell + 1, 1)
            ptr = np.cumsum(ptr)
            table[(iy, ix)] = (ptr, reg.astype(np.int64), blk[reg, cell].astype(np.float32))
            x0 += nx
        y0 += ny
    return table


def _partial(block: np.ndarray, table: dict, thr: float, nreg: int, block_info: Any = None) -> np.ndarray:
    loc = block_info[0]["chunk-location"]
    ptr, ridx, w = table[(loc[-2], loc[-1])]
    lead = block.shape[:-2]
    x = block.reshape(int(np.prod(lead, dtype=np.int64)), -1)
    exc, val = exceed_and_sum(x, thr, ptr, ridx, w, nreg)
    out = np.stack([exc, val], axis=-2).reshape(*lead, 1, 1, 2, nreg)
    return out


def region_exceedance_sums(field: xr.DataArray, weights: xr.DataArray, threshold: float) -> xr.Dataset:
    """Weighted exceedance and weighted sum of a gridded field per region (lazy).

    Parameters
    ----------
    field : xr.DataArray
        Dims ``(..., lat, lon)``, dask-backed (numpy is wrapped in one chunk).
    weights : xr.DataArray
        Dims ``(region, lat, lon)`` with the same lat/lon as ``field``; in memory (numpy). Typically
        fraction of the cell in the region x people in the cell.
    threshold : float
        Strict exceedance level in the units of ``field``.

    Returns
    -------
    xr.Dataset
        ``exceedance`` (:math:`\\sum_c w_{rc}[x > t]`) and ``total`` (:math:`\\sum_c w_{rc} x`, NaN as 0),
        dims ``(..., region)``, float64, lazy.
    """
    lead = [d for d in field.dims if d not in ("lat", "lon")]
    f = field.transpose(*lead, "lat", "lon")
    data = f.data if isinstance(f.data, dsa.Array) else dsa.from_array(f.data, chunks=-1)
    w = weights.transpose("region", "lat", "lon")
    if not (np.array_equal(w["lat"].values, f["lat"].values) and np.array_equal(w["lon"].values, f["lon"].values)):
        raise ValueError("weights and field are on different grids; regrid first")
    table = block_weight_table(np.asarray(w.values), data.chunks[-2], data.chunks[-1])
    nreg = w.sizes["region"]
    nd = data.ndim
    out_chunks = data.chunks[:-2] + ((1,) * len(data.chunks[-2]), (1,) * len(data.chunks[-1]), (2,), (nreg,))
    parts = dsa.map_blocks(_partial, data, table=table, thr=float(threshold), nreg=nreg, dtype=np.float64,
                           chunks=out_chunks, new_axis=[nd, nd + 1],
                           meta=np.empty((0,) * (nd + 2), dtype=np.float64))
    summed = parts.sum(axis=(nd - 2, nd - 1), split_every=8)
    coords = {d: f[d] for d in lead if d in f.coords}
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
