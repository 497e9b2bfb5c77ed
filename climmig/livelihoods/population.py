"""Baseline population per region and cell from one or several gridded inputs in priority order.

Several inputs (e.g. WorldPop 1 km for Somalia, GPW 1 degree for everyone else) are combined per region:
each region takes the first input that covers at least ``min_coverage`` of its area. Everything stays lazy:
the choice is made with dask arithmetic, not by computing coverage first.
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from climmig.grid.regrid import regrid_counts, regrid_intensity

__all__ = ["population_weights", "scale_to_projection"]

logger = logging.getLogger(__name__)


def population_weights(inputs: list[xr.DataArray], fractions: xr.DataArray, grid: xr.Dataset,
                       min_coverage: float = 0.9) -> tuple[xr.DataArray, xr.DataArray]:
    """People per (region, cell) at baseline: fraction of the cell in the region x people in the cell.

    Parameters
    ----------
    inputs : list of xr.DataArray
        Population-count grids (people per cell), highest priority first; any resolution/convention.
    fractions : xr.DataArray
        Region fractions ``(region, lat, lon)`` on ``grid``.
    grid : xr.Dataset
        Analysis grid.
    min_coverage : float
        Share of a region's area an input must have data for to be used for that region.

    Returns
    -------
    tuple of xr.DataArray
        ``weights`` [1], dims (region, lat, lon), lazy; and ``source_index`` (region): the index of the input
        used per region (-1 if none covers it).
    """
    # land area only: cells the masks gave to a region although no polygon touches them (sea) do not count
    land = fractions["land_fraction"] if "land_fraction" in fractions.coords else 1.0
    area = grid["cell_area"] * land
    region_area = (fractions * area).sum(("lat", "lon"))
    chosen = xr.zeros_like(region_area, dtype=bool)
    weights = None
    source = xr.full_like(region_area, -1, dtype=np.int64)
    for i, pop in enumerate(inputs):
        counts = regrid_counts(pop, grid)
        valid = regrid_intensity(pop.notnull().astype(np.float32), grid, method="area_mean").fillna(0)
        cov = (fractions * valid * area).sum(("lat", "lon")) / region_area
        use = (cov >= min_coverage) & ~chosen
        term = fractions * counts * use
        weights = term if weights is None else weights + term
        source = xr.where(use, i, source)
        chosen = chosen | use
    assert weights is not None
    weights = weights.transpose("region", "lat", "lon")
    weights.attrs = {"units": "1", "long_name": "baseline people of the region in the cell",
                     "cell_methods": "area: sum"}
    source.attrs = {"long_name": "index of the population input used for the region (-1: none)"}
    return weights.rename("population_weights"), source.rename("population_source")


def scale_to_projection(baseline_total: xr.DataArray, projected: xr.DataArray) -> xr.DataArray:
    """Factor turning baseline people into projected people, per region, scenario and year.

    Parameters
    ----------
    baseline_total : xr.DataArray
        Baseline people per region (sum of the weights).
    projected : xr.DataArray
        Projected people per (scenario, year, region), e.g. SSP country totals.

    Returns
    -------
    xr.DataArray, [1], dims (scenario, year, region)
        NaN for regions with no baseline population.
    """
    return projected / baseline_total.where(baseline_total > 0)
