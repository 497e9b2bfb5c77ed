"""Regridding onto the analysis grid: conservative for counts, a declared method for intensities.

Counts (people per cell) are redistributed by the share of each source cell's *area* that falls in each
target cell, so the total over any region covered by both grids is preserved. Intensities (depth,
temperature, indices) are not summed: they are averaged (``area_mean``) or interpolated (``bilinear``,
``nearest``). Both work on regular latitude/longitude grids and stay lazy (the weights are small numpy
matrices, the data stay dask arrays).
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import xarray as xr

from climmig.errors import DataError
from climmig.grid.lonlat import normalize_lonlat
from climmig.grid.spec import edges

__all__ = ["REGRID_METHODS", "IntensityMethod", "overlap_weights", "regrid_counts", "regrid_intensity"]

logger = logging.getLogger(__name__)

IntensityMethod = Literal["area_mean", "bilinear", "nearest"]

#: The method each kind of variable is regridded with (declared, not guessed).
REGRID_METHODS: dict[str, str] = {
    "population": "conservative",
    "flood_depth": "area_mean",
    "flooded_fraction": "area_mean",
    "air_temperature": "bilinear",
    "water_balance": "bilinear",
    "crop_yield": "bilinear",
    "elevation": "area_mean",
}


def _check_regular(values: np.ndarray, name: str) -> None:
    d = np.diff(values)
    if d.size and not np.allclose(d, d[0], rtol=1e-4, atol=1e-9):
        raise DataError(f"{name} is not regularly spaced; climmig regrids regular lat/lon grids only")


def overlap_weights(src_centres: np.ndarray, tgt_centres: np.ndarray, axis: Literal["lat", "lon"],
                    normalise: bool = True) -> np.ndarray:
    """1-D overlap matrix between source and target cells (ascending centres).

    Parameters
    ----------
    src_centres, tgt_centres : numpy.ndarray
        Regular, ascending cell centres in degrees.
    axis : {"lat", "lon"}
        Latitude overlaps are measured in :math:`\\sin\\varphi` (area on the sphere), longitude overlaps in
        degrees.
    normalise : bool
        Divide by the source cell's extent (fraction of each source cell in each target cell); otherwise
        return the overlap extent itself.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_target, n_source)``.
    """
    se = edges(src_centres)
    te = edges(tgt_centres)
    if axis == "lat":
        se = np.sin(np.deg2rad(np.clip(se, -90, 90)))
        te = np.sin(np.deg2rad(np.clip(te, -90, 90)))
    lo = np.maximum(te[:-1, None], se[None, :-1])
    hi = np.minimum(te[1:, None], se[None, 1:])
    ov = np.clip(hi - lo, 0.0, None)
    if normalise:
        ov = ov / np.diff(se)[None, :]
    return ov


def _weights(src: xr.DataArray, grid: xr.Dataset, normalise: bool) -> tuple[xr.DataArray, xr.DataArray]:
    _check_regular(src["lat"].values, "source latitude")
    _check_regular(src["lon"].values, "source longitude")
    wy = overlap_weights(src["lat"].values, grid["lat"].values, "lat", normalise)
    wx = overlap_weights(src["lon"].values, grid["lon"].values, "lon", normalise)
    if not normalise:
        wx = np.deg2rad(wx)
    return (xr.DataArray(wy, dims=("lat", "src_lat"), coords={"lat": grid["lat"].values}),
            xr.DataArray(wx, dims=("lon", "src_lon"), coords={"lon": grid["lon"].values}))


def _dot2(wy: xr.DataArray, src: xr.DataArray, wx: xr.DataArray) -> xr.DataArray:
    """Contract longitude then latitude (two small matrix products, never the 4-index einsum)."""
    tmp = xr.dot(src, wx.astype(src.dtype) if src.dtype.kind == "f" else wx, dim="src_lon")
    return xr.dot(wy.astype(tmp.dtype), tmp, dim="src_lat")


def _as_source(da: xr.DataArray) -> xr.DataArray:
    src = normalize_lonlat(da)
    drop = [c for c in src.coords if c not in src.dims]
    return src.drop_vars(drop).rename({"lat": "src_lat", "lon": "src_lon"})


def regrid_counts(da: xr.DataArray, grid: xr.Dataset) -> xr.DataArray:
    """Conservatively regrid a count (e.g. people per cell) onto ``grid``.

    Parameters
    ----------
    da : xr.DataArray
        Counts per source cell, dims ``(..., lat, lon)`` (or ``y``/``x`` in EPSG:4326); any longitude
        convention or latitude order. Missing values (nodata, ocean) count as zero.
    grid : xr.Dataset
        Target grid from :func:`climmig.grid.make_grid`.

    Returns
    -------
    xr.DataArray, [same units as ``da``], dims (..., lat, lon)
        Lazy; each target cell holds the people of the area it covers, assuming people spread evenly over
        each source cell's area. The total over source cells lying inside the grid is preserved exactly.

    Notes
    -----
    :math:`N_t = \\sum_s N_s \\, A(s \\cap t) / A(s)`, with the separable overlap of regular lat/lon cells.
    """
    src = _as_source(da)
    wy, wx = _weights(src.rename({"src_lat": "lat", "src_lon": "lon"}), grid, normalise=True)
    out = _dot2(wy, src.fillna(0).astype(np.float64), wx)  # float64: totals of millions stay exact
    out = out.transpose(*[d for d in out.dims if d not in ("lat", "lon")], "lat", "lon")
    out = out.assign_coords(lat=grid["lat"], lon=grid["lon"])
    out.attrs = {**da.attrs, "cell_methods": "area: sum (conservative regridding)",
                 "climmig_regrid_method": "conservative"}
    return out.rename(da.name)


def _fill_gaps(src: xr.DataArray, cells: int) -> xr.DataArray:
    """Fill missing source cells from neighbours up to ``cells`` cells away (lazy rolling means)."""
    out = src
    for _ in range(cells):
        nb = out.rolling(src_lat=3, src_lon=3, center=True, min_periods=1).mean()
        out = out.where(out.notnull(), nb)
    return out


def regrid_intensity(da: xr.DataArray, grid: xr.Dataset, method: IntensityMethod = "area_mean",
                     fill_cells: int = 0) -> xr.DataArray:
    """Regrid an intensity (depth, temperature, index) onto ``grid`` with a declared method.

    Parameters
    ----------
    da : xr.DataArray
        Intensity per source cell, dims ``(..., lat, lon)``; any longitude convention or latitude order.
    grid : xr.Dataset
        Target grid.
    method : {"area_mean", "bilinear", "nearest"}
        ``area_mean``: mean over the source cells overlapping each target cell, weighted by overlap area and
        ignoring missing cells (right for coarsening). ``bilinear``/``nearest``: interpolation at target
        centres (right for refining smooth fields such as temperature).
    fill_cells : int
        Before regridding, fill missing source cells from valid neighbours up to this many cells away
        (e.g. land-only temperature along a coast at a finer target resolution).

    Returns
    -------
    xr.DataArray, [same units as ``da``], dims (..., lat, lon)
        Lazy; NaN where the source has no valid cell.
    """
    src = _as_source(da)
    if fill_cells:
        src = _fill_gaps(src, fill_cells)
    if method == "area_mean":
        wy, wx = _weights(src.rename({"src_lat": "lat", "src_lon": "lon"}), grid, normalise=False)
        num = _dot2(wy, src.fillna(0), wx)
        den = _dot2(wy, src.notnull().astype(src.dtype), wx)
        out = (num / den.where(den > 0)).astype(src.dtype)
    elif method in ("bilinear", "nearest"):
        interp = "linear" if method == "bilinear" else "nearest"
        out = src.interp(src_lat=grid["lat"].values, src_lon=grid["lon"].values, method=interp)
        out = out.rename({"src_lat": "lat", "src_lon": "lon"})
    else:
        raise ValueError(f"unknown intensity regridding method {method!r}; use area_mean, bilinear or nearest")
    out = out.transpose(*[d for d in out.dims if d not in ("lat", "lon")], "lat", "lon")
    out = out.assign_coords(lat=grid["lat"], lon=grid["lon"])
    out.attrs = {**da.attrs, "climmig_regrid_method": method}
    return out.rename(da.name)
