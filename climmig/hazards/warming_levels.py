"""Hazard layers by warming-level pattern scaling of real data (the route of the AR6 Interactive Atlas).

For every scenario x climate model x year the layer is built from three real ingredients:

1. **the model's own global warming** (20-year mean since 1850-1900, :mod:`climmig.hazards.cmip6_warming`);
2. **the regional change at that warming level** from the IPCC AR6 WGI Chapter-12 tables (p10/p50/p90 across
   CMIP6 models, interpolated between 1.5, 2, 3 and 4 degC and the 1995-2014 baseline; each model keeps one
   position in the p10-p90 range, :func:`climmig.hazards.cmip6_warming.model_positions`), spread in space with
   the chapter's 1-degree median-change map (regridded conservatively) or the observed pattern;
3. **observed year-to-year variability**: whole observed years resampled (seeded, the same draw for every
   scenario and model), so a drought or flood year hits the whole region at once.

Hazards (the ``indicator`` of a :class:`~climmig.config.schema.HazardSpec` with ``source: warming_levels``):

``heat_days``
    Days per year with daily maximum temperature above 35 degC (AR6 ``tx35``, ISIMIP3b bias-adjusted). The
    region's 1995-2014 level is AR6's; its pattern inside the region follows GHCN-CAMS temperatures; the change
    follows the ``tx35`` map. Variability: the model's own yearly global-mean anomaly added to its warming.
``rainfall_deficit``
    Standardised deficit of October-December rainfall (minus the SPI of the short rains, CHIRPS 1981-2020).
    The frequency of deficits beyond 1 sd changes by the ratio of AR6's droughts per decade (``DF6``, SPI-6)
    at the model's warming to the 1995-2014 value, with the ``DF6`` map's pattern. Variability: resampled
    CHIRPS years.
``flood_return_period``
    Return period (years, in the 1995-2014 climate) of each cell's largest flood of the year, from the
    Dartmouth Flood Observatory's large floods 1985-2019 (footprint discs of each event's area; DFO severity
    classes 1 / 1.5 / 2 mean recurrence 10-20 / 20-100 / over 100 years), shifted by AR6's change of the
    100-year discharge (``Q100``) through a Gumbel growth curve. Variability: resampled DFO years.
``crop_yield_loss``
    Relative maize-yield loss per country from Li et al. (2025), per SSP and 20-year period, with the model's
    position mapped onto the source's range. No year-to-year variability (period means).

Every output carries ``climmig_hazard_source`` naming its data and method.

The layers are built in one module each (:mod:`~climmig.hazards.warming_level_heat`,
:mod:`~climmig.hazards.warming_level_drought`, :mod:`~climmig.hazards.warming_level_flood`,
:mod:`~climmig.hazards.warming_level_crop`) from the shared drivers
(:mod:`~climmig.hazards.warming_level_drivers`) and grid steps (:mod:`~climmig.hazards.warming_level_grid`).
This module dispatches a hazard spec to its builder and re-exports them, so
``climmig.hazards.warming_levels`` stays the one place to import them from.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from climmig.errors import DataError
from climmig.hazards.warming_level_crop import cell_country_a2, crop_layer

# `X as X`: public names of the layers kept importable from here, though not in __all__
from climmig.hazards.warming_level_crop import crop_change as crop_change
from climmig.hazards.warming_level_drivers import DRAW_EPOCH as DRAW_EPOCH
from climmig.hazards.warming_level_drivers import (
    ClimateDrivers,
    climate_drivers,
    observed_year_draws,
    position_region,
)
from climmig.hazards.warming_level_drought import drought_layer, short_rains_spi
from climmig.hazards.warming_level_flood import DFO_CLASS_RETURN_PERIODS as DFO_CLASS_RETURN_PERIODS
from climmig.hazards.warming_level_flood import flood_footprints as flood_footprints
from climmig.hazards.warming_level_flood import flood_layer, gumbel_return_period
from climmig.hazards.warming_level_heat import heat_layer

__all__ = [
    "ClimateDrivers",
    "cell_country_a2",
    "climate_drivers",
    "crop_layer",
    "drought_layer",
    "flood_layer",
    "gumbel_return_period",
    "heat_layer",
    "observed_year_draws",
    "position_region",
    "short_rains_spi",
    "warming_level_layer",
]


def warming_level_layer(spec: Any, catalog: Any, grid: xr.Dataset, drivers: ClimateDrivers,
                        cell_country: xr.DataArray | None = None) -> xr.DataArray:
    """Dispatch a ``source: warming_levels`` hazard spec to its layer builder.

    Parameters
    ----------
    spec : HazardSpec
        ``indicator`` one of ``heat_days``, ``rainfall_deficit``, ``flood_return_period``, ``crop_yield_loss``.
    catalog : ResolvedCatalog
        Catalog.
    grid : xr.Dataset
        Analysis grid.
    drivers : ClimateDrivers
        From :func:`climate_drivers`.
    cell_country : xr.DataArray, optional
        ISO alpha-2 country per cell (crop only).

    Returns
    -------
    xr.DataArray, dims (scenario, climate_model, year, lat, lon)
    """
    params = dict(spec.params)
    # the hazard's `input` is its observed (or tabulated) record; params may name the other entries
    key = {"heat_days": "table", "rainfall_deficit": "rainfall", "flood_return_period": "floods",
           "crop_yield_loss": "crops"}.get(spec.indicator)
    if key is not None:
        params.setdefault(key, spec.input)
    if spec.indicator == "heat_days":
        from climmig.units import convert

        if abs(convert(spec.threshold, "degC") - 35.0) > 1e-6:
            raise DataError(f"hazard {spec.name}: the warming-level heat layer counts days above 35 degC (AR6 tx35);"
                            f" set threshold: '35 degC' (got {spec.threshold!r})")
        return heat_layer(catalog, grid, drivers, params)
    if spec.indicator == "rainfall_deficit":
        return drought_layer(catalog, grid, drivers, params)
    if spec.indicator == "flood_return_period":
        return flood_layer(catalog, grid, drivers, params)
    if spec.indicator == "crop_yield_loss":
        if cell_country is None:
            raise DataError("the crop layer needs the country of each cell")
        return crop_layer(catalog, grid, drivers, params, cell_country)
    raise DataError(f"hazard {spec.name}: source warming_levels has layers for heat_days, rainfall_deficit, "
                    f"flood_return_period and crop_yield_loss, not {spec.indicator}")
