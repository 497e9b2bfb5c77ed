"""How a warming-level layer reaches the analysis grid: cells' AR6 regions, values on cells, lazy assembly.

The layer builders share these steps: find each cell's AR6 reference region and the regions the AR6 table
has values for, place per-region values on the cells, assemble the (scenario, climate_model, year, lat,
lon) array lazily, one dask block per scenario and model, and name the output and its source.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import xarray as xr

from climmig.errors import DataError
from climmig.hazards import ar6
from climmig.hazards.warming_level_drivers import ClimateDrivers

logger = logging.getLogger(__name__)


_DIMS = ("scenario", "climate_model", "year", "lat", "lon")


def _regions(grid: xr.Dataset, catalog: Any, params: dict[str, Any]) -> xr.DataArray:
    return ar6.cell_regions(grid, catalog.open(str(params.get("regions", "ar6_reference_regions"))))


def _regional(grid: xr.Dataset, catalog: Any, params: dict[str, Any], drivers: ClimateDrivers, index: str,
              what: str) -> tuple[xr.DataArray, np.ndarray, xr.DataArray]:
    """Cell regions, each cell's index into the regions the table has, and the table of ``index`` for them."""
    cells = _regions(grid, catalog, params)
    table = catalog.open(str(params.get("table", "ar6_ch12_regional_changes")))
    names = _study_regions(cells, set(table.loc[table["index"] == index, "region"]), what)
    return cells, _region_index(cells, names), ar6.regional_levels(table, index, names, drivers.baseline_gwl)


def _region_index(cells: xr.DataArray, names: list[str]) -> np.ndarray:
    """Index into ``names`` of each cell's region (-1 outside them), dims (lat, lon)."""
    pos = {r: i for i, r in enumerate(names)}
    return np.array([pos.get(r, -1) for r in cells.values.ravel()]).reshape(cells.shape)


def _study_regions(cells: xr.DataArray, have: set[str] | None = None, what: str = "") -> list[str]:
    names = [str(r) for r in np.unique(cells.values) if r]
    if not names:
        raise DataError("no grid cell lies in an AR6 reference region")
    if have is not None:
        missing = [r for r in names if r not in have]
        if missing:
            logger.info("AR6 %s: no table values for regions %s; the layer is NaN in their cells", what, missing)
        names = [r for r in names if r in have]
        if not names:
            raise DataError(f"AR6 {what}: none of the study area's regions has table values")
    return names


def _on_cells(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``values[..., region]`` placed on the grid by region index (NaN where the index is -1)."""
    out = values[..., np.clip(idx, 0, None)]
    return np.where(idx >= 0, out, np.nan)


def _assemble(block: Any, prepare: Any, drivers: ClimateDrivers, grid: xr.Dataset) -> xr.DataArray:
    """A lazy (scenario, climate_model, year, lat, lon) array, one dask block per scenario and model.

    ``prepare()`` reads and regrids the small inputs (observed fields, maps) once, inside the graph, so that
    building a layer computes nothing; ``block(prep, i, j)`` returns the numpy array (year, lat, lon) of
    scenario ``i`` and model ``j``. Memory stays bounded by one block, on any grid.
    """
    import dask
    import dask.array as dsa

    w = drivers.warming
    ny, nlat, nlon = w.sizes["year"], grid.sizes["lat"], grid.sizes["lon"]
    prep = dask.delayed(prepare, pure=True)()
    rows = []
    for i in range(w.sizes["scenario"]):
        row = []
        for j in range(w.sizes["climate_model"]):
            d = dask.delayed(lambda p, a, b: block(p, a, b)[None, None].astype(np.float32))(prep, i, j)
            row.append(dsa.from_delayed(d, shape=(1, 1, ny, nlat, nlon), dtype=np.float32))
        rows.append(row)
    arr = dsa.concatenate([dsa.concatenate(row, axis=1) for row in rows], axis=0)
    return xr.DataArray(arr, dims=_DIMS, coords={"scenario": w["scenario"].values,
                                                 "climate_model": w["climate_model"].values,
                                                 "year": w["year"].values, "lat": grid["lat"].values,
                                                 "lon": grid["lon"].values})


def _covers(da: xr.DataArray, grid: xr.Dataset) -> bool:
    """Whether ``da``'s lat/lon box overlaps the grid (coordinates only, nothing computed)."""
    return (float(da.lat.min()) <= float(grid.lat.max()) and float(da.lat.max()) >= float(grid.lat.min())
            and float(da.lon.min()) <= float(grid.lon.max()) and float(da.lon.max()) >= float(grid.lon.min()))


def _np(da: xr.DataArray, *dims: str) -> np.ndarray:
    return np.asarray(da.transpose(*dims).values, dtype=float)


def _finish(da: xr.DataArray, name: str, units: str, long_name: str, source: str) -> xr.DataArray:
    da = da.transpose(*_DIMS).rename(name)
    da.attrs = {"units": units, "long_name": long_name, "cell_methods": "year: point",
                "climmig_emulated": "false", "climmig_hazard_source": source}
    return da
