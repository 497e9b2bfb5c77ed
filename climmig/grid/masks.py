"""Region masks: the fraction of each grid cell that belongs to each region (admin-0 or finer).

Fractions are the exact shares of each cell's area inside each polygon (exactextract's coverage fractions,
on the grid's lon/lat cells). Cells with some land are then normalised so their fractions sum to one
(people in a coastal cell live on its land part), and cells touched by no polygon at all (coarse
coastlines, small islands) go to the nearest region, so the sum over regions equals the grid total.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from climmig.countries import NATURAL_EARTH_TO_STATISTICS
from climmig.errors import DataError

__all__ = ["MERGED_UNITS", "boundary_region_ids", "region_fractions"]

logger = logging.getLogger(__name__)

#: Natural Earth units that statistics (IDMC, SSP, WDI) report under another code (climmig.countries).
MERGED_UNITS: Mapping[str, str] = NATURAL_EARTH_TO_STATISTICS

_COUNTRY_FIELDS = ("iso3", "ISO3", "ISO_A3", "GID_0", "adm0_a3", "ADM0_A3", "shapeGroup")
_NAME_FIELDS = ("NAME", "NAME_EN", "ADMIN", "name", "NAME_1", "shapeName")


def _iso3_column(gdf: Any) -> Any:
    """ISO3 per feature from Natural Earth columns (``ISO_A3`` is -99 for France, Norway, Somaliland...)."""
    out = None
    for col in ("ISO_A3", "ISO_A3_EH", "ADM0_A3"):
        if col in gdf.columns:
            vals = gdf[col].astype(str)
            vals = vals.where(vals.str.fullmatch(r"[A-Z]{3}"))
            out = vals if out is None else out.fillna(vals)
    if out is None:
        raise DataError("the boundary file has no ISO3 column (ISO_A3, ISO_A3_EH or ADM0_A3); set "
                        "study_area.region_id_field to the column holding region ids")
    if "ADM0_A3" in gdf.columns:
        # ADM0_A3 says which unit a feature is (SOL for Somaliland even though ISO_A3_EH is -99)
        adm = gdf["ADM0_A3"].astype(str)
        out = out.where(~adm.isin(list(MERGED_UNITS)), adm.map(dict(MERGED_UNITS)))
    return out


def boundary_region_ids(boundaries: Any, id_field: str = "iso3") -> Any:
    """One (multi)polygon per region id, with a readable name.

    Parameters
    ----------
    boundaries : geopandas.GeoDataFrame
        Admin-0 (Natural Earth) or finer boundaries in EPSG:4326.
    id_field : str
        Column with region ids. ``"iso3"`` on a Natural Earth file is derived from ``ISO_A3`` /
        ``ISO_A3_EH`` / ``ADM0_A3``, and units reported as part of another country (Somaliland -> SOM) are
        merged into it.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``region``, ``region_name``, ``country`` (ISO3 of the country a finer region belongs to,
        from an ``iso3``/``GID_0``/``ADM0_A3``/``shapeGroup`` column; the region itself for admin-0) and
        ``geometry``; one row per region.

    Raises
    ------
    DataError
        If ``id_field`` is missing or the file is not in a geographic CRS.
    """
    gdf = boundaries
    if gdf.crs is not None and not gdf.crs.is_geographic:
        gdf = gdf.to_crs("EPSG:4326")
    if id_field in gdf.columns:
        ids = gdf[id_field].astype(str)
    elif id_field == "iso3":
        ids = _iso3_column(gdf)
    else:
        raise DataError(f"boundary file has no column {id_field!r} (it has {list(gdf.columns)[:15]}...)")
    name_col = next((c for c in _NAME_FIELDS if c in gdf.columns), None)
    work = gdf.assign(region=ids, region_name=gdf[name_col].astype(str) if name_col else ids)
    work = work[work["region"].notna()]
    dissolved = work.dissolve(by="region", aggfunc={"region_name": "first"}).reset_index()
    for unit, into in MERGED_UNITS.items():  # keep the recognised country's name after a merge
        if "ADM0_A3" in gdf.columns and name_col and (gdf["ADM0_A3"] == into).any():
            dissolved.loc[dissolved["region"] == into, "region_name"] = \
                str(gdf.loc[gdf["ADM0_A3"] == into, name_col].iloc[0])
        del unit
    if id_field == "iso3":
        dissolved["country"] = dissolved["region"]
    else:  # admin-1 or finer: the country each region belongs to, if the file says
        ccol = next((c for c in _COUNTRY_FIELDS if c in gdf.columns), None)
        if ccol is not None:
            country = work.groupby("region")[ccol].first()
            dissolved["country"] = dissolved["region"].map(country).astype(str)
        else:
            dissolved["country"] = dissolved["region"]
    return dissolved[["region", "region_name", "country", "geometry"]]


def region_fractions(boundaries: Any, grid: xr.Dataset, id_field: str = "iso3",
                     assign_uncovered: bool = True) -> xr.DataArray:
    """Fraction of each cell belonging to each region.

    Parameters
    ----------
    boundaries : geopandas.GeoDataFrame
        Region polygons (see :func:`boundary_region_ids`).
    grid : xr.Dataset
        Analysis grid (regular ``lat``/``lon`` cell centres).
    id_field : str
        Region id column.
    assign_uncovered : bool
        Give cells that no polygon touches to the nearest region (so no people are lost on coarse
        coastlines).

    Returns
    -------
    xr.DataArray, [1], dims (region, lat, lon)
        Fractions in [0, 1] summing to one over regions in every cell (to zero only if
        ``assign_uncovered`` is false and no polygon touches the cell); coordinate ``region_name``.
        Regions are all those touching the grid, not only the study area's, so border cells split
        correctly. Coordinate ``land_fraction`` (lat, lon) is the share of each cell inside any polygon.
    """
    import shapely

    regions = boundary_region_ids(boundaries, id_field)
    lat_e = _edges(grid["lat"].values)
    lon_e = _edges(grid["lon"].values)
    box = shapely.box(lon_e.min(), lat_e.min(), lon_e.max(), lat_e.max())
    regions = regions[regions.intersects(box)].reset_index(drop=True)
    if regions.empty:
        raise DataError(f"the study area is empty: no boundary polygon intersects the analysis grid (lon "
                        f"{lon_e.min():g}..{lon_e.max():g}, lat {lat_e.min():g}..{lat_e.max():g}); move "
                        "study_area.bbox over land or list study_area.countries")
    coverage = _coverage(regions, lat_e, lon_e)
    total = coverage.sum(axis=0)
    frac = np.divide(coverage, total, out=np.zeros_like(coverage), where=total > 0)
    if assign_uncovered and np.any(total == 0):
        frac = _nearest_region(frac, total == 0, regions, grid)
    out = xr.DataArray(
        frac, dims=("region", "lat", "lon"),
        coords={"region": regions["region"].to_numpy(dtype=str), "lat": grid["lat"].values,
                "lon": grid["lon"].values, "region_name": ("region", regions["region_name"].to_numpy(dtype=str)),
                "country": ("region", regions["country"].to_numpy(dtype=str)),
                "land_fraction": (("lat", "lon"), np.clip(total, 0, 1))},
        attrs={"units": "1", "long_name": "fraction of the cell belonging to the region",
               "climmig_mask_method": "exact cell coverage (exactextract), normalised over land"
                                      + ("; uncovered cells to nearest region" if assign_uncovered else "")},
    )
    return out


def _coverage(regions: Any, lat_e: np.ndarray, lon_e: np.ndarray) -> np.ndarray:
    """(region, lat, lon) share of each cell's area inside each region's polygon, in the grid's lat order."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    ny, nx = lat_e.size - 1, lon_e.size - 1
    src = NumPyRasterSource(np.zeros((ny, nx), dtype=np.float32), float(lon_e.min()), float(lat_e.min()),
                            float(lon_e.max()), float(lat_e.max()))
    table = exact_extract(src, regions[["region", "geometry"]], ["cell_id", "coverage"], include_cols=["region"],
                          output="pandas")
    if list(table["region"]) != list(regions["region"]):
        raise DataError("exactextract returned the regions in another order than it was given them")
    out = np.zeros((len(regions), ny, nx), dtype=np.float64)
    for i, (cells, cov) in enumerate(zip(table["cell_id"], table["coverage"], strict=True)):
        row, col = np.divmod(np.asarray(cells, dtype=np.int64), nx)
        out[i, row, col] = cov
    # raster rows run from north to south
    if lat_e[-1] > lat_e[0]:
        out = out[:, ::-1, :]
    if lon_e[-1] < lon_e[0]:
        out = out[:, :, ::-1]
    return np.ascontiguousarray(out)


def _edges(c: np.ndarray) -> np.ndarray:
    from climmig.grid.spec import edges

    return edges(c)


def _nearest_region(frac: np.ndarray, empty: np.ndarray, regions: Any, grid: xr.Dataset) -> np.ndarray:
    import shapely

    iy, ix = np.nonzero(empty)
    pts = shapely.points(grid["lon"].values[ix], grid["lat"].values[iy])
    tree = shapely.STRtree(list(regions.geometry))
    nearest = tree.nearest(pts)
    frac = frac.copy()
    frac[nearest, iy, ix] = 1.0
    return frac
