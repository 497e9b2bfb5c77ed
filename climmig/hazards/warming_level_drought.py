"""The warming-level drought layer: the Oct-Dec rainfall deficit, its frequency scaled as AR6 DF6."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from scipy.special import ndtr, ndtri

from climmig.errors import DataError
from climmig.grid.lonlat import normalize_lonlat
from climmig.grid.regrid import regrid_intensity
from climmig.hazards import ar6
from climmig.hazards.warming_level_drivers import ClimateDrivers, _pool_drivers
from climmig.hazards.warming_level_grid import _assemble, _covers, _finish, _np, _on_cells, _regional

__all__ = ["drought_layer", "short_rains_spi"]


def short_rains_spi(prec: xr.DataArray) -> xr.DataArray:
    """Standardised index of October-December rainfall per cell and year (empirical, SPI-like).

    Each cell's yearly Oct-Dec mean rainfall is ranked over the record; the Gringorten plotting position
    ``(r - 0.44)/(n + 0.12)`` is mapped to a standard normal (ties share their mean rank), so the index has the
    standard-normal distribution whatever the rainfall distribution.

    Parameters
    ----------
    prec : xr.DataArray
        Monthly rainfall with ``time`` (Oct, Nov, Dec months), ``lat``, ``lon``.

    Returns
    -------
    xr.DataArray, [1], dims (obs_year, lat, lon)
        NaN where the cell has no data.
    """
    from scipy.stats import rankdata

    ond = prec.where(prec["time"].dt.month.isin([10, 11, 12]), drop=True)
    yearly = ond.groupby("time.year").mean("time").rename(year="obs_year").load()
    v = yearly.values
    n = v.shape[0]
    ranks = rankdata(v, axis=0, method="average")
    p = (ranks - 0.44) / (n + 0.12)
    spi = np.where(np.isnan(v), np.nan, ndtri(p))
    return yearly.copy(data=spi).assign_attrs(units="1", long_name="standardised Oct-Dec rainfall index")


def drought_layer(catalog: Any, grid: xr.Dataset, drivers: ClimateDrivers, params: dict[str, Any]) -> xr.DataArray:
    """Standardised Oct-Dec rainfall deficit (-SPI) with the frequency of deficits changed as AR6 DF6.

    Parameters
    ----------
    catalog : ResolvedCatalog
        With ``chirps_short_rains``, ``ar6_ch12_regional_changes``, ``ar6_ch12_map_df6`` and the AR6 regions
        (entry ids overridable in ``params``: ``rainfall``, ``table``, ``map``, ``regions``).
    grid : xr.Dataset
        Analysis grid.
    drivers : ClimateDrivers
        Warming, positions, seed.
    params : dict
        Entry-id overrides.

    Returns
    -------
    xr.DataArray, [1], dims (scenario, climate_model, year, lat, lon)

    Notes
    -----
    With :math:`R = \\mathrm{DF6}(w, q) / \\mathrm{DF6}(\\mathrm{baseline}, q)` in a cell, the index is shifted
    by :math:`c` so that :math:`P(\\mathrm{SPI} + c < -1) = \\Phi(-1) R`. The cell's DF6 is the regional value
    plus the map's departure from its regional mean, scaled by
    :math:`(w - w_{1995-2014}) / (w_{map} - w_{1995-2014})`.
    """
    prec = normalize_lonlat(catalog.open(str(params.get("rainfall", "chirps_short_rains")))["prec"])
    if not _covers(prec, grid):
        raise DataError("the rainfall record does not cover the study area; CHIRPS short rains cover 22-51.5E, "
                        "12S-23N (give source: emulator or another rainfall entry for other regions)")
    pool = sorted(set(int(y) for y in prec["time"].dt.year.values))
    drivers, pos, drawn = _pool_drivers(pool, drivers, "drought")
    cells, idx, lv = _regional(grid, catalog, params, drivers, "DF6", "DF6")
    reg = _np(ar6.at_warming(lv, drivers.warming, drivers.position), "scenario", "climate_model", "year", "region")
    base = _np(ar6.at_warming(lv, xr.DataArray(drivers.baseline_gwl), drivers.position), "climate_model", "region")
    dmap = catalog.open(str(params.get("map", "ar6_ch12_map_df6")))["DF6"].squeeze(drop=True)
    scale = _np((drivers.warming - drivers.baseline_gwl) / (drivers.map_gwl - drivers.baseline_gwl),
                "scenario", "climate_model", "year")
    p0 = float(ndtr(-1.0))

    def prepare() -> dict[str, np.ndarray]:
        spi_g = regrid_intensity(short_rains_spi(prec), grid, method="bilinear", fill_cells=2)
        anom = ar6.spatial_anomaly(regrid_intensity(normalize_lonlat(dmap), grid, method="area_mean").load(), cells)
        return {"obs": spi_g.values[pos], "anom": anom.values}

    def block(prep: dict[str, np.ndarray], i: int, j: int) -> np.ndarray:
        cell_df6 = _on_cells(reg[i, j], idx) + prep["anom"][None] * scale[i, j][:, None, None]
        ratio = np.clip(cell_df6 / _on_cells(base[j], idx)[None], 0.05, 0.99 / p0)
        shift = -1.0 - ndtri(p0 * ratio)
        return -(prep["obs"] + shift)

    deficit = _assemble(block, prepare, drivers, grid)
    out = _finish(deficit, "rainfall_deficit", "1", "standardised deficit of October-December rainfall (-SPI)",
                  "CHIRPS Oct-Dec rainfall 1981-2020 (resampled years) with the frequency of deficits scaled as "
                  "AR6 ch. 12 CMIP6 droughts per decade (DF6) at each model's warming level, DF6 map pattern")
    out.attrs["climmig_observed_years"] = ",".join(str(int(y)) for y in drawn)
    return out
