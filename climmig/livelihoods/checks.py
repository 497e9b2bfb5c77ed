"""Plausibility checks of population-count grids, kept lazy: they raise when the data are computed.

NaN means "no data" (the reader masks nodata as NaN) and is handled by the coverage rule of
:func:`climmig.livelihoods.population_weights`. A negative count, an infinite count or a density no place
on Earth has is not "no data" but a broken file, and a run must stop rather than project from it.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from climmig.errors import DataError

__all__ = ["MAX_PEOPLE_PER_KM2", "checked_population_counts"]

#: Highest plausible density of a grid cell. The densest 1 km cells on Earth hold about 1e5 people
#: (WorldPop, Dhaka and Manila); anything denser is a units or file error.
MAX_PEOPLE_PER_KM2 = 2e5
_KM_PER_DEG = 111.32


def _spacing(values: np.ndarray) -> float:
    d = np.abs(np.diff(np.asarray(values, dtype=float)))
    return float(np.median(d)) if d.size else 1.0


def _check_block(block: xr.DataArray, name: str, dlat: float, dlon: float) -> xr.DataArray:
    v = np.asarray(block.values, dtype=float)
    if np.isinf(v).any():
        raise DataError(f"population input {name} has infinite counts; fix the file (or mask them as nodata)")
    if (v < 0).any():
        i = np.unravel_index(np.nanargmin(v), v.shape)
        raise DataError(
            f"population input {name} has negative counts (e.g. {v[i]:g} at lat "
            f"{float(block['lat'][i[0]]):.3f}, lon {float(block['lon'][i[1]]):.3f}); a count cannot be negative: "
            "fix the file, or set those cells to its nodata value")
    area = (dlat * _KM_PER_DEG) * (dlon * _KM_PER_DEG) * np.cos(np.deg2rad(np.asarray(block["lat"].values)))
    density = v / np.maximum(area, 1e-9)[:, None]
    if np.nanmax(density, initial=0.0) > MAX_PEOPLE_PER_KM2:
        i = np.unravel_index(np.nanargmax(density), v.shape)
        raise DataError(
            f"population input {name} has {v[i]:.3g} people in one cell at lat {float(block['lat'][i[0]]):.3f}, "
            f"lon {float(block['lon'][i[1]]):.3f} ({density[i]:.3g} per km2, more than {MAX_PEOPLE_PER_KM2:g}); "
            "check the file's units (people per cell, not per km2 or in another scale)")
    return block


def checked_population_counts(da: xr.DataArray, name: str) -> xr.DataArray:
    """The same counts, checked for negative, infinite and implausibly dense cells when computed.

    Parameters
    ----------
    da : xr.DataArray
        People per cell with ascending ``lat`` and ``lon`` coordinates in degrees (after
        :func:`climmig.grid.lonlat.normalize_lonlat`); dask-backed or in memory.
    name : str
        Catalog id, for messages.

    Returns
    -------
    xr.DataArray
        ``da`` unchanged in value; dask-backed inputs stay lazy and the check runs per chunk at compute time.

    Raises
    ------
    DataError
        (In memory: now; dask-backed: when computed.) Negative or infinite counts, or a cell above
        :data:`MAX_PEOPLE_PER_KM2`.
    """
    if "lat" not in da.dims or "lon" not in da.dims or da.ndim != 2:
        raise DataError(f"population input {name} must be a 2-D lat/lon grid, got dims {tuple(da.dims)}")
    da = da.transpose("lat", "lon")
    dlat, dlon = _spacing(da["lat"].values), _spacing(da["lon"].values)
    if da.chunks is None:
        return _check_block(da, name, dlat, dlon)
    return xr.map_blocks(_check_block, da, args=(name, dlat, dlon), template=da)
