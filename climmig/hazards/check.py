"""What the warming-level layers say per AR6 region and warming level, in the units of the AR6 tables.

:func:`layer_at_levels` builds a layer at fixed global warming levels (no year-to-year anomaly, every observed
year once) over one AR6 region and converts it back to the quantity the Chapter-12 table gives, so that the
layer can be set beside the table's p10/p50/p90: days above 35 degC for ``heat_days``, droughts per decade for
``rainfall_deficit`` (the baseline value times the change of the frequency of deficits beyond 1 sd) and the
100-year discharge for ``flood_return_period`` (the baseline value times the discharge ratio implied by the
return periods of the recorded large floods through the Gumbel growth curve). Used by the tests and by ``docs/hazards.md``'s figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from climmig.grid import make_grid
from climmig.hazards import ar6
from climmig.hazards.warming_level_drivers import ClimateDrivers, climate_drivers
from climmig.hazards.warming_level_drought import drought_layer
from climmig.hazards.warming_level_flood import flood_layer
from climmig.hazards.warming_level_heat import heat_layer

__all__ = ["INDEX_OF", "REGION_BOXES", "layer_at_levels"]

#: AR6 table index behind each warming-level indicator.
INDEX_OF = {"heat_days": "tx35", "rainfall_deficit": "DF6", "flood_return_period": "Q100"}
#: Bounding boxes (west, south, east, north) of the Horn's AR6 regions (vertices of the Atlas table).
REGION_BOXES = {"NEAF": (27.0, 2.3, 53.0, 15.0), "SEAF": (27.0, -10.0, 46.5, 2.3)}


def _drivers_at(levels: Sequence[float], base: ClimateDrivers) -> ClimateDrivers:
    lv = [float(x) for x in levels]
    models = list(base.position["climate_model"].values)
    w = xr.DataArray(np.broadcast_to(np.asarray(lv)[:, None, None], (len(lv), len(models), 1)).copy(),
                     dims=("scenario", "climate_model", "year"),
                     coords={"scenario": [f"{x:g}" for x in lv], "climate_model": models, "year": [2000]})
    return ClimateDrivers(warming=w, anomaly=xr.zeros_like(w), position=base.position,
                          baseline_gwl=base.baseline_gwl, map_gwl=base.map_gwl, seed=base.seed, climatology=True)


def layer_at_levels(indicator: str, catalog: Any, models: Sequence[str], levels: Sequence[float], region: str,
                    resolution: float = 0.5, seed: int = 1, params: dict[str, Any] | None = None) -> xr.DataArray:
    """A layer's regional value at fixed warming levels, per climate model, in the AR6 table's units.

    Parameters
    ----------
    indicator : str
        ``heat_days``, ``rainfall_deficit`` or ``flood_return_period``.
    catalog : ResolvedCatalog
        The bundled catalog (or one with the same entries).
    models : sequence of str
        CMIP6 models (their positions in the across-model range come from ``region``'s warming).
    levels : sequence of float
        Global warming levels, K since 1850-1900.
    region : str
        ``NEAF`` or ``SEAF`` (a key of :data:`REGION_BOXES`).
    resolution : float
        Grid resolution, degrees.
    seed : int
        Seed of the observed-year draws (the climatology uses every observed year, so results do not depend
        on it except through the small floods of non-event years).
    params : dict, optional
        Layer parameters.

    Returns
    -------
    xr.DataArray, dims (climate_model, gwl)
        tx35 days per year, DF6 droughts per decade or Q100 (discharge per drainage area) implied by the
        layer, cos(latitude)-weighted over the region's cells.
    """
    params = dict(params or {})
    table_t = catalog.open("cmip6_regional_tas")
    # positions in the across-model range ordered by the models' warming of this region
    base = climate_drivers(table_t, ["ssp585"], list(models), [2020], seed, region)
    grid = make_grid(*REGION_BOXES[region], resolution)
    cells = ar6.cell_regions(grid, catalog.open("ar6_reference_regions"))
    w = (np.cos(np.deg2rad(grid["lat"])) * xr.ones_like(cells, dtype=float)).where(cells == region, 0.0)
    all_levels = [base.baseline_gwl, *levels]
    drv = _drivers_at(all_levels, base)
    coords = {"gwl": [float(x) for x in levels]}

    def regional(field: xr.DataArray) -> xr.DataArray:
        ww = w.where(field.notnull(), 0.0)
        return (field.fillna(0) * ww).sum(("lat", "lon")) / ww.sum(("lat", "lon"))

    index = INDEX_OF[indicator]
    table = catalog.open("ar6_ch12_regional_changes")
    lv = ar6.regional_levels(table, index, [region], base.baseline_gwl)
    base_value = ar6.at_warming(lv, xr.DataArray(base.baseline_gwl), base.position).isel(region=0, drop=True)
    if indicator == "heat_days":
        out = regional(heat_layer(catalog, grid, drv, params).isel(year=0, drop=True).load())
        out = out.isel(scenario=slice(1, None))
    elif indicator == "rainfall_deficit":
        freq = regional((drought_layer(catalog, grid, drv, params) > 1.0).mean("year").load())
        out = base_value * freq.isel(scenario=slice(1, None)) / freq.isel(scenario=0, drop=True)
    elif indicator == "flood_return_period":
        cv = float(params.get("flood_cv", 0.7))
        rp = flood_layer(catalog, grid, drv, params).load()
        c = np.sqrt(6.0) / np.pi

        def growth(t: xr.DataArray) -> xr.DataArray:
            return 1.0 + cv * (-c * (0.5772156649 + np.log(-np.log1p(-1.0 / t))))

        flooded = rp.isel(scenario=0, drop=True) >= 10.0  # recorded large floods (small ones: growth near 0)
        ratio = (growth(rp.isel(scenario=slice(1, None))) / growth(rp.isel(scenario=0, drop=True))).where(flooded)
        out = base_value * regional(ratio.mean("year"))
    else:
        raise ValueError(f"no AR6 table behind {indicator!r}; use one of {sorted(INDEX_OF)}")
    out = out.rename(scenario="gwl").assign_coords(coords).transpose("climate_model", "gwl")
    out.attrs = {"index": index, "region": region, "long_name": f"{indicator} layer as AR6 {index} over {region}"}
    return out
