"""Longitude/latitude conventions: rename x/y, move 0..360 longitudes to -180..180, sort latitudes."""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from climmig.errors import DataError

__all__ = ["normalize_lonlat"]

logger = logging.getLogger(__name__)

_LAT_NAMES = ("lat", "latitude", "y")
_LON_NAMES = ("lon", "longitude", "x")


def normalize_lonlat(obj: xr.Dataset | xr.DataArray) -> xr.Dataset | xr.DataArray:
    """Put a geographic layer in climmig's convention: dims ``lat``/``lon``, lon in -180..180, both ascending.

    Parameters
    ----------
    obj : xr.Dataset or xr.DataArray
        Layer with lat/lon (or ``latitude``/``longitude``, or ``y``/``x`` in a geographic CRS) coordinates.

    Returns
    -------
    xr.Dataset or xr.DataArray
        Same data, lazily reindexed (no computation); ``lon`` attrs say ``degrees_east``.

    Raises
    ------
    DataError
        If no latitude/longitude coordinates are found or they are outside the valid ranges.
    """
    lat = next((n for n in _LAT_NAMES if n in obj.dims), None)
    lon = next((n for n in _LON_NAMES if n in obj.dims), None)
    if lat is None or lon is None:
        raise DataError(f"no latitude/longitude dimensions in a layer with dims {tuple(obj.dims)}")
    out = obj.rename({lat: "lat", lon: "lon"}) if (lat, lon) != ("lat", "lon") else obj
    lons = np.asarray(out["lon"].values, dtype=float)
    lats = np.asarray(out["lat"].values, dtype=float)
    if np.nanmax(np.abs(lats)) > 90.0:
        raise DataError("latitudes beyond +-90 degrees: is this layer in a projected CRS? reproject to EPSG:4326")
    if np.nanmin(lons) < -180.0 or np.nanmax(lons) > 360.0:
        raise DataError("longitudes outside -180..360 degrees: is this layer in a projected CRS?")
    if np.nanmax(lons) > 180.0:
        logger.info("converting 0..360 longitudes to -180..180")
        out = out.assign_coords(lon=((lons + 180.0) % 360.0) - 180.0)
    if not np.all(np.diff(out["lon"].values) > 0):
        out = out.sortby("lon")
    if not np.all(np.diff(out["lat"].values) > 0):
        out = out.sortby("lat")
    out["lat"].attrs.update(units="degrees_north", standard_name="latitude", long_name="latitude")
    out["lon"].attrs.update(units="degrees_east", standard_name="longitude", long_name="longitude")
    return out
