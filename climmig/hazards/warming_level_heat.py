"""The warming-level heat layer: days above 35 degC, AR6 tx35 at each model's warming, GHCN-CAMS pattern."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from scipy.special import ndtr

from climmig.grid.lonlat import normalize_lonlat
from climmig.grid.regrid import regrid_intensity
from climmig.hazards import ar6
from climmig.hazards.warming_level_drivers import ClimateDrivers
from climmig.hazards.warming_level_grid import _assemble, _finish, _np, _on_cells, _regional

__all__ = ["heat_layer"]


def _ghcn_pattern(catalog: Any, grid: xr.Dataset, params: dict[str, Any]) -> xr.DataArray:
    """Relative days above 35 degC from GHCN-CAMS monthly means (daily max ~ N(mean + offset, sd))."""
    ds = catalog.open(str(params.get("temperature", "ghcn_cams_tas_2018")))
    tas = normalize_lonlat(ds[next(iter(ds.data_vars))])
    tas = tas.sel(lat=slice(float(grid.lat.min()) - 2, float(grid.lat.max()) + 2),
                  lon=slice(float(grid.lon.min()) - 2, float(grid.lon.max()) + 2)) \
        if bool((tas.lat.diff("lat") > 0).all()) else tas
    tas = regrid_intensity(tas, grid, method="bilinear", fill_cells=3).load()
    t_c = tas - 273.15 if str(tas.attrs.get("units", "K")) in ("K", "kelvin", "degK") else tas
    offset = float(params.get("tmax_minus_tmean", 6.0))
    sd = float(params.get("daily_sd", 2.5))
    frac = xr.apply_ufunc(ndtr, (t_c + offset - 35.0) / sd).mean("time").load()
    return frac


def heat_layer(catalog: Any, grid: xr.Dataset, drivers: ClimateDrivers, params: dict[str, Any]) -> xr.DataArray:
    """Days per year with daily maximum temperature above 35 degC at each model's warming level.

    Parameters
    ----------
    catalog, grid, drivers, params
        As in :func:`drought_layer` (``map`` default ``ar6_ch12_map_tx35``; ``temperature`` the GHCN-CAMS
        entry for the baseline pattern; ``tmax_minus_tmean`` 6 K and ``daily_sd`` 2.5 K shape that pattern).

    Returns
    -------
    xr.DataArray, [d], dims (scenario, climate_model, year, lat, lon)

    Notes
    -----
    :math:`H = B_r g_c / \\bar g_r + (T_r(w + a, q) - B_r(q))\\, m_c / \\bar m_r`, clipped to [0, 365], with
    :math:`B_r` AR6's 1995-2014 regional value, :math:`g` the GHCN-CAMS pattern, :math:`T_r` the regional
    value at warming :math:`w` plus the model's yearly anomaly :math:`a`, and :math:`m` the tx35 change map.
    Where a region's pattern mean is zero the regional value is used uniformly.
    """
    cells, idx, lv = _regional(grid, catalog, params, drivers, "tx35", "tx35")
    reg = _np(ar6.at_warming(lv, drivers.warming + drivers.anomaly, drivers.position),
              "scenario", "climate_model", "year", "region")
    base = _np(ar6.at_warming(lv, xr.DataArray(drivers.baseline_gwl), drivers.position), "climate_model", "region")
    mmap = catalog.open(str(params.get("map", "ar6_ch12_map_tx35")))["tx35isimip"].squeeze(drop=True)

    def prepare() -> dict[str, np.ndarray]:
        g = _ghcn_pattern(catalog, grid, params)
        m = regrid_intensity(normalize_lonlat(mmap), grid, method="area_mean").load()
        w = np.cos(np.deg2rad(grid["lat"])) * xr.ones_like(m)
        return {"g": _relative(g, cells, w).values, "m": _relative(m.clip(min=0), cells, w).values}

    def block(prep: dict[str, np.ndarray], i: int, j: int) -> np.ndarray:
        b = _on_cells(base[j], idx)
        return np.clip(b * prep["g"] + (_on_cells(reg[i, j], idx) - b[None]) * prep["m"], 0, 365)

    heat = _assemble(block, prepare, drivers, grid)
    out = _finish(heat, "heat_days", "d", "days per year with daily maximum temperature above 35 degC",
                  "AR6 ch. 12 CMIP6 tx35 (ISIMIP3b) per warming level at each model's warming plus its yearly "
                  "anomaly; baseline pattern GHCN-CAMS 2018, change pattern AR6 tx35 map")
    return out


def _relative(field: xr.DataArray, cells: xr.DataArray, w: xr.DataArray) -> xr.DataArray:
    """``field`` divided by its weighted mean over the cell's AR6 region (1 where that mean is 0 or NaN)."""
    out = xr.ones_like(field, dtype=float)
    for r in np.unique(cells.values):
        if not r:
            continue
        msk = (cells == r) & field.notnull()
        ww = w.where(msk, 0.0)
        mean = float((field.fillna(0) * ww).sum()) / max(float(ww.sum()), 1e-12)
        if mean > 0:
            out = xr.where(msk, field / mean, out)
    return out
