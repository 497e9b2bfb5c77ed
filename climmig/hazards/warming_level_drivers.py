"""What drives every warming-level layer: each model's warming, its position, and the observed years drawn.

:func:`climate_drivers` gathers each scenario and model's warming and yearly anomaly, the models' positions
in the AR6 p10-p90 ranges (ordered by :func:`position_region`'s region) and the AR6 anchor warmings;
:func:`observed_year_draws` picks the observed year behind each projected year.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.hazards import ar6
from climmig.hazards.cmip6_warming import (
    model_positions,
    regional_amplification,
    warming_anomaly,
    warming_trajectories,
)
from climmig.hazards.emulator import stable_key

__all__ = ["DRAW_EPOCH", "ClimateDrivers", "climate_drivers", "observed_year_draws", "position_region"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClimateDrivers:
    """Per-model warming and what the warming-level layers share.

    Attributes
    ----------
    warming : xr.DataArray, [K], dims (scenario, climate_model, year)
        Smoothed global warming since 1850-1900 (projection and baseline-window years).
    anomaly : xr.DataArray, [K], dims (scenario, climate_model, year)
        The model's yearly global-mean anomaly around that smooth warming.
    position : xr.DataArray, [1], dims (climate_model)
        Quantile of each model in the across-model p10-p90 range.
    baseline_gwl : float
        Ensemble-median warming of 1995-2014 (where the AR6 baseline sits on the warming axis).
    map_gwl : float
        Ensemble-median warming of SSP5-8.5 2081-2100 (the warming of the AR6 change maps).
    seed : int
        Seed of the observed-year draws.
    climatology : bool
        True for the present-climate baseline: layers built on resampled observed years then use every
        observed year once, at the mean warming of ``warming``'s years (the observed climatology, free of
        sampling noise), instead of one drawn year per year.
    """

    warming: xr.DataArray
    anomaly: xr.DataArray
    position: xr.DataArray
    baseline_gwl: float
    map_gwl: float
    seed: int
    climatology: bool = False

    def select(self, years: list[int], climatology: bool = False) -> ClimateDrivers:
        """The same drivers for a subset of years (``climatology=True`` for a baseline window)."""
        return replace(self, warming=self.warming.sel(year=years), anomaly=self.anomaly.sel(year=years),
                       climatology=climatology)

    def over_pool(self, pool: list[int]) -> ClimateDrivers:
        """Climatology drivers with one "year" per observed year, at the mean warming of the window."""
        w = self.warming.mean("year")
        years = xr.DataArray(np.asarray(pool, dtype=int), dims="year")
        warm = w.expand_dims(year=len(pool)).assign_coords(year=years).transpose("scenario", "climate_model", "year")
        return replace(self, warming=warm, anomaly=xr.zeros_like(warm))


def climate_drivers(table: pd.DataFrame, scenarios: list[str], models: list[str], years: list[int], seed: int,
                    position_region: str | None = None) -> ClimateDrivers:
    """Warming per scenario, model and year, the models' positions and the AR6 anchor warmings.

    Parameters
    ----------
    table : pandas.DataFrame
        CMIP6 regional temperature table (catalog ``cmip6_regional_tas``).
    scenarios, models : list of str
        Run scenarios and climate models.
    years : list of int
        Years needed (projection and baseline window).
    seed : int
        Run seed.
    position_region : str or None
        AR6 region whose warming per K of global warming orders the models in the across-model range (a
        model that warms the region more sits higher; the same position is used for every hazard so that
        each model is one consistent storyline). None, or a region the table lacks (the bundled table has
        African regions, the Arabian Peninsula and the world only): the models are ordered by their own global
        warming in 2081-2100 (mean over ``scenarios``), so a model that warms more still sits higher. The rule
        used is recorded in ``position.attrs["climmig_position_rule"]``.

    Returns
    -------
    ClimateDrivers
    """
    w = warming_trajectories(table, scenarios, models).sel(year=years)
    a = warming_anomaly(table, scenarios, models).sel(year=years)
    if position_region is not None and position_region in table:
        pos = model_positions(regional_amplification(table, position_region, models))
        rule = f"regional warming per K of global warming over AR6 {position_region}"
    else:
        # no regional series for the study area: order by the models' own late-century global warming rather
        # than by name, so positions still follow the models' climate response
        late = warming_trajectories(table, scenarios, models).sel(year=slice(2081, 2100)).mean(("scenario", "year"))
        pos = model_positions(late)
        rule = "global warming in 2081-2100" + (
            f" (the temperature table has no region {position_region})" if position_region else "")
        logger.info("climate models placed in the AR6 ranges by their %s", rule)
    pos.attrs["climmig_position_rule"] = rule
    runs = table.groupby("model")["scenario"].apply(set)
    full = sorted(m for m, s in runs.items() if {"historical", "ssp585"} <= s)
    wall = warming_trajectories(table, ["ssp585"], full).isel(scenario=0, drop=True)
    base = float(wall.sel(year=slice(1995, 2014)).mean("year").median())
    mapg = float(wall.sel(year=slice(2081, 2100)).mean("year").median())
    return ClimateDrivers(warming=w, anomaly=a, position=pos, baseline_gwl=base, map_gwl=mapg, seed=int(seed))


#: Year from which the cycles of observed years are counted (so draws do not depend on a run's first year).
DRAW_EPOCH = 2000


def observed_year_draws(years: list[int] | np.ndarray, pool: list[int] | np.ndarray, seed: int, key: str) -> np.ndarray:
    """One observed year per target year: seeded permutations of the record, one after another.

    Target years are cut into cycles of ``len(pool)`` years counted from :data:`DRAW_EPOCH`; each cycle uses
    every observed year exactly once, in an order drawn from the seed, the hazard key and the cycle number.
    So the long-run mean is the observed climatology (no year over- or under-drawn), a drought or flood year
    still hits the whole region at once, every scenario and climate model gets the same observed weather in
    the same year (their differences are climate, not chance), and runs over different periods draw the same
    years where they overlap.

    Parameters
    ----------
    years : array-like of int
        Target years.
    pool : array-like of int
        Observed years.
    seed : int
        Run seed.
    key : str
        Hazard key.

    Returns
    -------
    numpy.ndarray of int
        Observed year used in each target year.
    """
    pool = np.asarray(sorted(int(p) for p in pool), dtype=int)
    n = len(pool)
    out = np.empty(len(years), dtype=int)
    perms: dict[int, np.ndarray] = {}
    for i, y in enumerate(years):
        cycle, pos = divmod(int(y) - DRAW_EPOCH, n)
        if cycle not in perms:
            rng = np.random.default_rng(np.random.SeedSequence([int(seed), stable_key(key), cycle + 10_000]))
            perms[cycle] = rng.permutation(pool)
        out[i] = perms[cycle][pos]
    return out


def _pool_drivers(pool: list[int], drivers: ClimateDrivers, key: str
                  ) -> tuple[ClimateDrivers, np.ndarray, np.ndarray]:
    """Drivers for a layer on resampled observed years, the positions of the years used, and those years."""
    if drivers.climatology:
        return drivers.over_pool(pool), np.arange(len(pool)), np.asarray(pool)
    drawn = observed_year_draws(drivers.warming["year"].values, pool, drivers.seed, key)
    return drivers, np.array([pool.index(int(y)) for y in drawn]), drawn


def position_region(grid: xr.Dataset, catalog: Any, table: pd.DataFrame,
                    regions: str = "ar6_reference_regions") -> str | None:
    """The AR6 region holding most grid cells among the regions the temperature table has.

    Parameters
    ----------
    grid : xr.Dataset
        Analysis grid.
    catalog : ResolvedCatalog
        With the AR6 region vertices.
    table : pandas.DataFrame
        CMIP6 regional temperature table (its region columns).
    regions : str
        Catalog id of the AR6 region vertices.

    Returns
    -------
    str or None
        None when no grid cell lies in a region of the table (models are then ordered by name).
    """
    cells = ar6.cell_regions(grid, catalog.open(regions))
    names, counts = np.unique(cells.values, return_counts=True)
    ranked = [str(n) for _, n in sorted(zip(-counts, names, strict=True)) if n and n in table.columns]
    return ranked[0] if ranked else None
