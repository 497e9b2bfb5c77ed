"""Hazard layers on the analysis grid: warming-level layers from real data, scenario files, or the fallback emulator.

:func:`hazard_indicator` returns the annual indicator of one configured hazard with dims
``(scenario, climate_model, year, lat, lon)``; :func:`exceedance_threshold` says when a cell counts as
exposed. Both are lazy. How each indicator is built is declared once per indicator, not here: scenario
files by :data:`climmig.hazards.indicators.FILE_RECIPES`, the emulator by
:data:`climmig.hazards.emulator.EMULATOR_RECIPES`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from climmig.errors import DataError
from climmig.grid.regrid import regrid_intensity
from climmig.hazards import emulator
from climmig.hazards import indicators as ind
from climmig.hazards.scenario_files import names_scenario_files, open_scenario_files
from climmig.indicator_table import INDICATORS, second_input_problem
from climmig.units import convert

__all__ = ["EXCEEDANCE", "exceedance_threshold", "hazard_indicator"]

logger = logging.getLogger(__name__)

#: When a cell-year counts as exposed, per indicator: (the spec field giving the level, its units/default).
#: For heat and drought the config threshold defines the indicator itself (a temperature, an index level);
#: exposure then needs at least ``min_days`` / ``min_months`` such days/months in the year.
EXCEEDANCE: dict[str, tuple[str, str]] = {name: (i.exceedance, i.exceedance_units)
                                          for name, i in INDICATORS.items()}
_DEFAULT_MIN = {"min_days": 10.0, "min_months": 3.0}


def exceedance_threshold(spec: Any) -> float:
    """The level the indicator must exceed (strictly) for a cell-year to count as exposed.

    Parameters
    ----------
    spec : climmig.config.schema.HazardSpec
        Hazard spec.

    Returns
    -------
    float
        In the indicator's units (:data:`climmig.hazards.indicators.INDICATOR_UNITS`). For ``heat_days``
        and ``drought_months`` a count just below ``min_days``/``min_months`` so that ``>`` means ``>=``.
    """
    field, units = EXCEEDANCE[spec.indicator]
    if field == "threshold":
        return convert(spec.threshold, units)
    return float(spec.params.get(field, _DEFAULT_MIN[field])) - 1e-6


def _bbox_subset(da: xr.DataArray, grid: xr.Dataset, margin: float = 2.0) -> xr.DataArray:
    lat0, lat1 = float(grid.lat.min()) - margin, float(grid.lat.max()) + margin
    lon0, lon1 = float(grid.lon.min()) - margin, float(grid.lon.max()) + margin
    return da.sel(lat=slice(lat0, lat1), lon=slice(lon0, lon1))


def _grid_field(catalog: Any, entry_id: str, variable: str | None, grid: xr.Dataset, method: str,
                fill_cells: int = 2) -> xr.DataArray:
    from climmig.grid.lonlat import normalize_lonlat

    ds = catalog.open(entry_id)
    var = variable or next(iter(ds.data_vars))
    da = normalize_lonlat(ds[var])
    da = _bbox_subset(da, grid)
    if da.sizes["lat"] < 2 or da.sizes["lon"] < 2:
        raise DataError(f"{entry_id} does not cover the study area (grid lat {float(grid.lat.min()):.2f}.."
                        f"{float(grid.lat.max()):.2f}, lon {float(grid.lon.min()):.2f}..{float(grid.lon.max()):.2f})")
    out = regrid_intensity(da, grid, method=method, fill_cells=fill_cells)  # type: ignore[arg-type]
    out.attrs.update(climmig_catalog_id=entry_id, units=da.attrs.get("units", "1"))
    return out


def _emulated(spec: Any, catalog: Any, grid: xr.Dataset, dT: xr.DataArray, seed: int,
              chunks: dict[str, int]) -> xr.DataArray:
    """The emulated indicator by its recipe in :data:`climmig.hazards.emulator.EMULATOR_RECIPES`.

    Raises
    ------
    DataError
        If the emulator has no recipe for the indicator (before any input is read).
    """
    recipe = emulator.EMULATOR_RECIPES.get(spec.indicator)
    if recipe is None:
        raise DataError(emulator.EMULATOR_REFUSALS.get(
            spec.indicator, f"the warming-level emulator has no recipe for {spec.indicator}; give scenario "
            "files (source: scenario_files)"))
    p = dict(spec.params)
    var = p.pop("variable", None)
    var = str(var) if var is not None else None
    if recipe.baseline == "field":
        baseline = _grid_field(catalog, spec.input, var, grid, "bilinear", fill_cells=recipe.fill_cells)
    else:
        src = catalog.open(spec.input)
        baseline = src[var or next(iter(src.data_vars))]
        baseline.attrs["climmig_catalog_id"] = spec.input
    return recipe.build(baseline, grid, dT, spec.threshold, seed, p, chunks)


def _from_files(spec: Any, catalog: Any, grid: xr.Dataset, years: list[int], chunks: dict[str, int]) -> xr.DataArray:
    """The indicator from scenario files by its recipe in :data:`climmig.hazards.indicators.FILE_RECIPES`.

    Raises
    ------
    DataError
        If no recipe builds the indicator from files (before any file is opened), or years are missing.
    """
    recipe = ind.FILE_RECIPES.get(spec.indicator)
    if recipe is None:
        # the bundled warming-level layers are indices against an observed baseline climate, which scenario
        # files do not carry
        why = ("it is an index against an observed baseline climate; use source: warming_levels"
               if INDICATORS[spec.indicator].warming_levels else
               "no recipe is declared for it in climmig.hazards.indicators.FILE_RECIPES")
        raise DataError(f"scenario files for {spec.indicator} are not supported yet: {why}")
    problem = second_input_problem(spec.indicator, spec.source, spec.params)
    if problem:
        raise DataError(f"hazard {spec.name}: {problem}")
    var = spec.params.get("variable")
    raw = open_scenario_files(catalog, spec.input, str(var) if var else None, chunks)
    raw = _bbox_subset(raw, grid)
    annual = recipe(raw, spec.threshold, spec.params, _second_opener(spec, catalog, grid, raw, chunks))
    annual = annual.assign_coords(year=("time", annual["time"].dt.year.values)).swap_dims(time="year")
    annual = annual.drop_vars("time")
    annual = _join_historical(annual)
    have = set(int(y) for y in annual["year"].values)
    missing = [y for y in years if y not in have]
    if missing:
        raise DataError(f"{spec.input} has no data for years {missing[:5]}{'...' if len(missing) > 5 else ''}")
    annual = annual.sel(year=years)
    method = INDICATORS[spec.indicator].regrid
    out = regrid_intensity(annual, grid, method=method)
    out.attrs.update(climmig_emulated="false", climmig_catalog_id=spec.input)
    return out


def _second_opener(spec: Any, catalog: Any, grid: xr.Dataset, raw: xr.DataArray,
                   chunks: dict[str, int]) -> Callable[[], xr.DataArray]:
    """``open_second()`` for a two-variable recipe: the entry named by ``params.<key>`` on ``raw``'s grid.

    The entry is static (any gridded format, e.g. a GeoTIFF DEM) or, if its file names name scenarios and
    climate models, scenario files like ``input``. It is cut to the study area and averaged onto ``raw``'s
    cells (area mean: a finer DEM becomes the mean ground height of each sea-level cell). The optional
    ``params.<key>_variable`` names its variable when the entry declares several.
    """
    def open_second() -> xr.DataArray:
        second = INDICATORS[spec.indicator].second_input
        if second is None:
            raise DataError(f"{spec.indicator} reads no second input")
        cid = str(spec.params[second.key])
        var = spec.params.get(f"{second.key}_variable")
        var = str(var) if var is not None else None
        target = xr.Dataset(coords={"lat": raw["lat"], "lon": raw["lon"]})
        if not names_scenario_files(catalog.paths(catalog.get(cid))):
            return _grid_field(catalog, cid, var, target, "area_mean")
        da = _bbox_subset(open_scenario_files(catalog, cid, var, chunks), grid)
        out = regrid_intensity(da, target, method="area_mean")
        out.attrs.update(climmig_catalog_id=cid)
        return out

    return open_second


def _join_historical(annual: xr.DataArray) -> xr.DataArray:
    """Each scenario continued backwards by the same model's ``historical`` run (CMIP6: to 2014, then ssp).

    CMIP6 and ISIMIP3b split a model's run into a historical file set and one set per scenario; a baseline
    window such as 2010-2029 spans both, so each scenario takes the historical years it lacks.
    """
    scen = [str(s) for s in annual["scenario"].values]
    if "historical" not in scen:
        return annual
    hist = annual.sel(scenario="historical", drop=True)
    others = [s for s in scen if s != "historical"]
    if not others:
        return annual
    joined = annual.sel(scenario=others).combine_first(hist.expand_dims(scenario=others))
    joined.attrs = annual.attrs
    return joined


def hazard_indicator(spec: Any, catalog: Any, grid: xr.Dataset, dT: xr.DataArray, seed: int,
                     chunks: dict[str, int] | None = None, climate: Any = None,
                     cell_country: xr.DataArray | None = None) -> xr.DataArray:
    """The annual indicator of one hazard on the analysis grid.

    Parameters
    ----------
    spec : climmig.config.schema.HazardSpec
        What to compute and from which catalog input.
    catalog : climmig.catalog.ResolvedCatalog
        Catalog.
    grid : xr.Dataset
        Analysis grid.
    dT : xr.DataArray
        Warming since baseline per (scenario, climate_model, year) (emulator); scenario files use its
        coordinates to select scenarios, models and years.
    seed : int
        Run seed (emulator variability).
    chunks : dict, optional
        Spatial chunks (``lat``/``lon``).
    climate : climmig.hazards.warming_levels.ClimateDrivers, optional
        Per-model warming for ``source: warming_levels`` (its years are the layer's years).
    cell_country : xr.DataArray, optional
        ISO alpha-2 country per cell (crop layer of ``source: warming_levels``).

    Returns
    -------
    xr.DataArray, [indicator units], dims (scenario, climate_model, year, lat, lon)
        Lazy, float32; attrs ``climmig_emulated`` ("true"/"false"), ``climmig_catalog_id`` and
        ``climmig_hazard_source`` (the data and method the layer came from).
    """
    chunks = dict(chunks or {"lat": 256, "lon": 256})
    if spec.source == "warming_levels":
        from climmig.hazards.warming_levels import warming_level_layer

        if climate is None:
            raise DataError(f"hazard {spec.name}: source warming_levels needs the climate models' warming")
        out = warming_level_layer(spec, catalog, grid, climate, cell_country)
        out.attrs["climmig_catalog_id"] = spec.input
        out.attrs["units"] = ind.INDICATOR_UNITS[spec.indicator]
        return out.astype(np.float32).rename(spec.name)
    if spec.source == "emulator":
        out = _emulated(spec, catalog, grid, dT, seed, chunks)
    else:
        out = _from_files(spec, catalog, grid, [int(y) for y in dT["year"].values], chunks)
        out = out.sel(scenario=list(dT["scenario"].values), climate_model=list(dT["climate_model"].values))
        out = out.chunk({"scenario": 1, "climate_model": 1, "year": -1, "lat": chunks.get("lat", 256),
                         "lon": chunks.get("lon", 256)})
    out = out.astype(np.float32).transpose("scenario", "climate_model", "year", "lat", "lon")
    out.attrs.setdefault("climmig_catalog_id", spec.input)
    out.attrs.setdefault("climmig_hazard_source", (
        "EMULATOR FALLBACK (climmig.hazards.emulator): baseline field scaled by each model's warming with seeded "
        f"noise; input {spec.input}" if spec.source == "emulator" else f"scenario files {spec.input}"))
    out.attrs["units"] = ind.INDICATOR_UNITS[spec.indicator]
    return out.rename(spec.name)
