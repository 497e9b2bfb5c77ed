"""The warming-level crop layer: Li et al. (2025) yield change per country, and the country of each cell."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError
from climmig.hazards.warming_level_drivers import ClimateDrivers
from climmig.hazards.warming_level_grid import _finish

__all__ = ["cell_country_a2", "crop_change", "crop_layer"]


_LI_SCENARIOS = {"ssp126": "SSP1-RCP2.6", "ssp245": "SSP2-RCP4.5", "ssp585": "SSP5-RCP8.5"}


def crop_change(table: pd.DataFrame, countries_a2: list[str], scenarios: list[str], crop: str = "Maize"
                ) -> xr.DataArray:
    """Li et al. (2025) yield change (%) as (country, scenario, period_mid, bound) with bound lwr/med/upr."""
    rows = table[table["crop"] == crop]
    if rows.empty:
        raise DataError(f"the crop-yield table has no crop {crop!r} (it has {sorted(table['crop'].unique())})")
    mids = [2030.5, 2050.5, 2070.5, 2090.5]
    periods = ["2021-2040", "2041-2060", "2061-2080", "2081-2100"]
    out = np.full((len(countries_a2), len(scenarios), len(mids), 3), np.nan)
    for i, c in enumerate(countries_a2):
        for j, s in enumerate(scenarios):
            if s not in _LI_SCENARIOS:
                raise DataError(f"the crop-yield table covers {sorted(_LI_SCENARIOS)}, not {s}")
            sub = rows[(rows["ISO_A2"] == c) & (rows["scenario"] == _LI_SCENARIOS[s])].set_index("period")
            if sub.empty:
                continue
            out[i, j] = sub.reindex(periods)[["lwr", "med", "upr"]].to_numpy(float)
    return xr.DataArray(out, dims=("country", "scenario", "period_mid", "bound"),
                        coords={"country": countries_a2, "scenario": scenarios, "period_mid": mids,
                                "bound": ["lwr", "med", "upr"]}, attrs={"units": "%"})


def crop_layer(catalog: Any, grid: xr.Dataset, drivers: ClimateDrivers, params: dict[str, Any],
               cell_country: xr.DataArray) -> xr.DataArray:
    """Relative crop-yield loss per cell from Li et al. (2025) per country, SSP and period.

    The model's position ``q`` picks a point of the source's range: ``1 - q`` (a model that warms the region
    more loses more) is mapped piecewise-linearly onto lower bound (0.1), median (0.5) and upper bound (0.9).
    Between period mid-points (2030.5 ... 2090.5) the change is interpolated linearly, from 0 at 2005 (the
    centre of the studies' 1995-2014 baseline) and held after 2090.5.

    Parameters
    ----------
    catalog, grid, drivers
        As in :func:`drought_layer` (entry ``crops`` default ``crop_yield_change_li2025``; ``crop`` default
        ``Maize``).
    params : dict
        Overrides.
    cell_country : xr.DataArray
        ISO 3166 alpha-2 code of the country of each cell (dims lat, lon; "" outside).

    Returns
    -------
    xr.DataArray, [1], dims (scenario, climate_model, year, lat, lon)
        NaN in cells whose country the table lacks.
    """
    table = catalog.open(str(params.get("crops", "crop_yield_change_li2025")))
    countries = sorted(c for c in np.unique(cell_country.values) if c)
    scen = [str(s) for s in drivers.warming["scenario"].values]
    ch = crop_change(table, countries, scen, str(params.get("crop", "Maize")))
    q = 1.0 - drivers.position
    w_lo = ((0.5 - q) / 0.4).clip(0, 1)
    w_hi = ((q - 0.5) / 0.4).clip(0, 1)
    wq = xr.concat([w_lo, 1 - w_lo - w_hi, w_hi], dim="bound").assign_coords(bound=["lwr", "med", "upr"])
    pct = (ch * wq).sum("bound", min_count=1)  # (country, scenario, period_mid, climate_model)
    x = np.concatenate([[2005.0], ch["period_mid"].values])
    years = drivers.warming["year"].values.astype(float)

    def interp(v: np.ndarray) -> np.ndarray:
        return np.interp(years, x, np.concatenate([[0.0], v])) if np.isfinite(v).all() else np.full(len(years), np.nan)

    yearly = xr.apply_ufunc(interp, pct, input_core_dims=[["period_mid"]], output_core_dims=[["year"]],
                            vectorize=True).assign_coords(year=drivers.warming["year"].values)
    loss = (-yearly / 100.0).clip(0, 1)
    idx = xr.DataArray(np.array([countries.index(c) if c in countries else -1 for c in cell_country.values.ravel()])
                       .reshape(cell_country.shape), dims=cell_country.dims, coords=cell_country.coords)
    cell = loss.isel(country=idx.clip(min=0)).where(idx >= 0)
    cell = cell.transpose("scenario", "climate_model", "year", "lat", "lon").chunk(
        {"scenario": 1, "climate_model": 1, "year": -1})
    return _finish(cell, "crop_yield_loss", "1", f"relative {params.get('crop', 'Maize').lower()} yield loss",
                   "Li et al. (2025) country yield change per SSP and 20-year period (range mapped to each model's "
                   "position); no year-to-year variability")


def cell_country_a2(fractions: xr.DataArray, boundaries: Any) -> xr.DataArray:
    """ISO 3166 alpha-2 code of the country holding the largest share of each cell.

    Parameters
    ----------
    fractions : xr.DataArray
        Region fractions (region, lat, lon) with a ``country`` (ISO3) coordinate.
    boundaries : geopandas.GeoDataFrame
        Natural Earth-style boundaries with ``ISO_A3_EH``/``ISO_A2_EH`` (or ``ISO_A3``/``ISO_A2``) columns.

    Returns
    -------
    xr.DataArray, dims (lat, lon)
        "" where no region covers the cell or the country has no alpha-2 code in the boundaries.
    """
    a3 = next((c for c in ("ISO_A3_EH", "ISO_A3", "ADM0_A3") if c in boundaries.columns), None)
    a2 = next((c for c in ("ISO_A2_EH", "ISO_A2") if c in boundaries.columns), None)
    lookup = {} if a3 is None or a2 is None else {
        str(k): str(v) for k, v in zip(boundaries[a3], boundaries[a2], strict=True) if str(v) not in ("-99", "nan")}
    best = fractions.fillna(0).argmax("region").values
    covered = (fractions.fillna(0).sum("region") > 0).values
    iso3 = np.asarray(fractions["country"].values).astype(str)
    codes = np.array([lookup.get(c, "") for c in iso3] + [""])
    out = np.where(covered, codes[best], "")
    return xr.DataArray(out.astype(str), dims=("lat", "lon"),
                        coords={"lat": fractions["lat"].values, "lon": fractions["lon"].values})
