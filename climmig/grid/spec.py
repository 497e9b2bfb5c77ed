"""Regular latitude/longitude analysis grids: cell centres, bounds and areas."""

from __future__ import annotations

import logging
import math

import numpy as np
import xarray as xr

__all__ = ["EARTH_RADIUS_M", "cell_area", "edges", "grid_bounds_for", "make_grid"]

logger = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), m


def grid_bounds_for(west: float, south: float, east: float, north: float,
                    resolution: float) -> tuple[float, float, float, float]:
    """Snap a bounding box outward to multiples of ``resolution`` (so grids of one resolution nest).

    Parameters
    ----------
    west, south, east, north : float
        Box in degrees (longitudes in -180..180).
    resolution : float
        Cell size in degrees.

    Returns
    -------
    tuple of float
        ``(west, south, east, north)`` snapped outward and clipped to the globe.
    """
    def down(v: float) -> float:
        return math.floor(round(v / resolution, 9)) * resolution

    def up(v: float) -> float:
        return math.ceil(round(v / resolution, 9)) * resolution

    return (max(down(west), -180.0), max(down(south), -90.0), min(up(east), 180.0), min(up(north), 90.0))


def make_grid(west: float, south: float, east: float, north: float, resolution: float) -> xr.Dataset:
    """A regular lat/lon grid covering a box (ascending ``lat`` and ``lon``, cell centres).

    Parameters
    ----------
    west, south, east, north : float
        Box in degrees; snapped outward to ``resolution``.
    resolution : float
        Cell size in degrees.

    Returns
    -------
    xr.Dataset
        Coordinates ``lat``/``lon`` (centres, CF attrs with ``bounds``), variables ``lat_bnds``/``lon_bnds``
        (dims ``(lat|lon, nv)``) and ``cell_area`` [m2].
    """
    w, s, e, n = grid_bounds_for(west, south, east, north, resolution)
    nx = int(round((e - w) / resolution))
    ny = int(round((n - s) / resolution))
    lon_e = w + resolution * np.arange(nx + 1)
    lat_e = s + resolution * np.arange(ny + 1)
    lon = 0.5 * (lon_e[:-1] + lon_e[1:])
    lat = 0.5 * (lat_e[:-1] + lat_e[1:])
    ds = xr.Dataset(
        {
            "lat_bnds": (("lat", "nv"), np.stack([lat_e[:-1], lat_e[1:]], axis=1)),
            "lon_bnds": (("lon", "nv"), np.stack([lon_e[:-1], lon_e[1:]], axis=1)),
        },
        coords={
            "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude", "long_name": "latitude",
                                 "bounds": "lat_bnds", "axis": "Y"}),
            "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude", "long_name": "longitude",
                                 "bounds": "lon_bnds", "axis": "X"}),
        },
        attrs={"climmig_grid_resolution_deg": float(resolution), "crs": "EPSG:4326"},
    )
    ds["cell_area"] = cell_area(ds)
    return ds


def edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges of a regular 1-D coordinate from its centres (ascending or descending).

    Parameters
    ----------
    centres : numpy.ndarray
        At least two equally spaced values.

    Returns
    -------
    numpy.ndarray
        ``len(centres) + 1`` edges in the same order as ``centres``.
    """
    c = np.asarray(centres, dtype=float)
    if c.size < 2:
        raise ValueError("a coordinate needs at least two cells to infer its edges")
    mid = 0.5 * (c[:-1] + c[1:])
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def cell_area(grid: xr.Dataset | xr.DataArray) -> xr.DataArray:
    """Area of each cell on the sphere.

    Parameters
    ----------
    grid : xr.Dataset or xr.DataArray
        Anything with regular ``lat`` and ``lon`` coordinates (degrees).

    Returns
    -------
    xr.DataArray, [m2], dims (lat, lon)

    Notes
    -----
    :math:`A = R^2 \\, \\Delta\\lambda \\, (\\sin\\varphi_2 - \\sin\\varphi_1)`.
    """
    lat_e = np.deg2rad(edges(grid["lat"].values))
    lon_e = np.deg2rad(edges(grid["lon"].values))
    dsin = np.abs(np.diff(np.sin(lat_e)))
    dlon = np.abs(np.diff(lon_e))
    area = EARTH_RADIUS_M**2 * np.outer(dsin, dlon)
    return xr.DataArray(area, dims=("lat", "lon"), coords={"lat": grid["lat"], "lon": grid["lon"]},
                        attrs={"units": "m2", "standard_name": "cell_area", "long_name": "area of the grid cell"})
