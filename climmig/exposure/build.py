"""Build the exposure dataset of a run (section 1 of ``docs/interfaces.md``), lazily.

Exposure of region :math:`r` to hazard :math:`h` under scenario :math:`s`, climate model :math:`m`, year
:math:`y`:

.. math::

    E_{hsmyr} = f_{syr} \\sum_c w_{rc} \\, [I_{hsmyc} > t_h], \\qquad
    f_{syr} = P^{SSP}_{s,y,c(r)} / \\sum_{r' \\in c(r)} \\sum_c w_{r'c}

with :math:`w_{rc}` the baseline people of region :math:`r` in cell :math:`c` (fractional mask x population
grid) and :math:`f` the SSP scaling of the region's country. Because the scaling is uniform within a
country, it factors out of the cell sum, and the expensive part is one sparse reduction per hazard.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError
from climmig.exposure.aggregate import region_exceedance_sums
from climmig.grid import make_grid, region_fractions
from climmig.grid.extent import main_territory_bounds
from climmig.grid.lonlat import normalize_lonlat
from climmig.grid.masks import boundary_region_ids
from climmig.hazards import INDICATOR_UNITS, exceedance_threshold, hazard_indicator, warming_since_baseline
from climmig.hazards.emulator import stable_key
from climmig.hazards.warming_level_crop import cell_country_a2
from climmig.hazards.warming_level_drivers import ClimateDrivers, climate_drivers, position_region
from climmig.livelihoods import population_weights, rural_share, scale_to_projection, ssp_series, wdi_share
from climmig.livelihoods.anchor import anchor_to_record
from climmig.livelihoods.checks import checked_population_counts

__all__ = ["BASELINE_WINDOW", "ExposureLayers", "build_exposure", "build_grid_and_masks", "exposure_layers",
           "hazard_exposure", "hazard_fields", "ssp_provenance"]

logger = logging.getLogger(__name__)

#: Years around ``period.baseline_year`` averaged for the present-climate baseline exposure.
BASELINE_WINDOW = (-10, 9)


def _livelihood(cfg: Any, name: str) -> Any:
    spec = next((lv for lv in cfg.livelihoods if lv.name == name), None)
    if spec is None:
        raise DataError(f"the config has no `{name}` livelihood; add it under livelihoods")
    return spec


def build_grid_and_masks(cfg: Any, catalog: Any) -> tuple[xr.Dataset, xr.DataArray, list[str]]:
    """The analysis grid, the fractional region masks and the study regions.

    Parameters
    ----------
    cfg : climmig.config.schema.RunConfig
        Run config.
    catalog : climmig.catalog.ResolvedCatalog
        Catalog holding ``cfg.study_area.boundaries``.

    Returns
    -------
    tuple
        ``(grid, fractions, study_regions)``; ``fractions`` covers every region touching the grid.
    """
    sa = cfg.study_area
    boundaries = catalog.open(sa.boundaries)
    regions = boundary_region_ids(boundaries, sa.region_id_field)
    if sa.countries is not None:
        countries = set(sa.countries)
        sel = regions[regions["country"].isin(countries) | regions["region"].isin(countries)]
        missing = countries - set(sel["country"]) - set(sel["region"])
        if missing:
            raise DataError(f"countries {sorted(missing)} are not in the boundary file {sa.boundaries}")
        (w, s, e, n), _ = main_territory_bounds(zip(sel["region"], sel.geometry, strict=True))
    else:
        b = sa.bbox
        w, s, e, n = b.west, b.south, b.east, b.north
        if e > 180:
            raise DataError("study_area.bbox: give longitudes in -180..180")
    grid = make_grid(w, s, e, n, cfg.grid.resolution)
    fractions = region_fractions(boundaries, grid, sa.region_id_field)
    if sa.countries is not None:
        study = [str(r) for r, c in zip(fractions["region"].values, fractions["country"].values, strict=True)
                 if r in sa.countries or c in sa.countries]
    else:
        weight = fractions.sum(("lat", "lon")).values
        study = [str(r) for r, v in zip(fractions["region"].values, weight, strict=True) if v > 0]
    return grid, fractions, study


def _population_inputs(cfg: Any, catalog: Any, spec: Any, grid: xr.Dataset) -> list[xr.DataArray]:
    out = []
    pad = 2.0
    for entry in spec.inputs():
        ds = catalog.open(entry)
        da = normalize_lonlat(ds[next(iter(ds.data_vars))])
        da = da.sel(lat=slice(float(grid.lat.min()) - pad, float(grid.lat.max()) + pad),
                    lon=slice(float(grid.lon.min()) - pad, float(grid.lon.max()) + pad))
        out.append(checked_population_counts(da, entry))
    return out


def _country_scaling(weights: xr.DataArray, projected: xr.DataArray) -> xr.DataArray:
    """Per region: projected country people / baseline country people (lazy)."""
    base = weights.sum(("lat", "lon"))
    country = np.asarray(weights["country"].values).astype(str)
    same = xr.DataArray((country[:, None] == country[None, :]).astype(float), dims=("region", "other"))
    base_c = xr.dot(same, base.rename(region="other"), dim="other")  # people of the region's country
    proj = projected.sel(region=list(country)).assign_coords(region=weights["region"].values)
    return scale_to_projection(base_c.assign_coords(region=weights["region"].values), proj)


@dataclass(frozen=True)
class ExposureLayers:
    """The threshold-independent inputs of a run's exposure: grid, people per region and cell, SSP scaling.

    Built once by :func:`exposure_layers`; :func:`hazard_fields` and :func:`hazard_exposure` then give the
    exposure to one hazard, so a threshold can be changed without rebuilding anything else (sensitivity).

    Attributes
    ----------
    grid : xr.Dataset
        Analysis grid.
    study : list of str
        Study regions.
    weights : xr.DataArray, [1], dims (region, lat, lon)
        Baseline people of each study region in each cell (coords ``country``, ``region_name``).
    source : xr.DataArray
        Index of the population input used per region (all regions touching the grid).
    base_r : xr.DataArray, [1], dims (region)
        Baseline people per region (``weights`` summed over cells).
    factor : xr.DataArray, [1], dims (scenario, year, region)
        SSP population of the region's country relative to its baseline people (projection and baseline years).
    factor0 : xr.DataArray, [1], dims (region)
        ``factor`` in the baseline year, averaged over scenarios.
    projected : xr.DataArray, [1], dims (scenario, year, region)
        SSP population per country (``region`` holds country codes).
    countries : list of str
        Countries of the study regions.
    years : list of int
        Projection years.
    baseline_year : int
        ``period.baseline_year``.
    window : list of int
        Years of the present-climate baseline (``BASELINE_WINDOW`` around ``period.baseline_year``).
    dT : xr.DataArray, [K], dims (scenario, climate_model, year)
        Warming since the baseline year (projection years).
    chunks : dict
        Spatial chunks from ``compute.chunks``.
    climate : ClimateDrivers
        Each model's warming since 1850-1900 over the baseline window and the projection years, its yearly
        anomaly and position in the across-model ranges (warming-level layers).
    cell_country : xr.DataArray
        ISO 3166 alpha-2 code of the country holding most of each cell ("" where none).
    record : pandas.DataFrame
        The calibration's covariates in its last year (:func:`calibration_record`), to which population and
        GDP per head are anchored.
    """

    grid: xr.Dataset
    study: list[str]
    weights: xr.DataArray
    source: xr.DataArray
    base_r: xr.DataArray
    factor: xr.DataArray
    factor0: xr.DataArray
    projected: xr.DataArray
    countries: list[str]
    years: list[int]
    baseline_year: int
    window: list[int]
    dT: xr.DataArray
    chunks: dict[str, int]
    climate: ClimateDrivers
    cell_country: xr.DataArray
    record: pd.DataFrame


def exposure_layers(cfg: Any, catalog: Any) -> ExposureLayers:
    """The threshold-independent layers of a run's exposure (lazy where large).

    Parameters
    ----------
    cfg : climmig.config.schema.RunConfig
        Validated run config.
    catalog : climmig.catalog.ResolvedCatalog
        Catalog with the boundaries, population grids and SSP tables the config names.

    Returns
    -------
    ExposureLayers
    """
    grid, fractions, study = build_grid_and_masks(cfg, catalog)
    chunks = {k: v for k, v in cfg.compute.chunks.items() if k in ("lat", "lon")}
    pop_spec = _livelihood(cfg, "population")
    weights_all, source = population_weights(_population_inputs(cfg, catalog, pop_spec, grid), fractions, grid,
                                             pop_spec.min_coverage)
    weights = weights_all.sel(region=study).chunk({"region": -1, **chunks})
    weights = weights.assign_coords(country=("region", fractions["country"].sel(region=study).values),
                                    region_name=("region", fractions["region_name"].sel(region=study).values))
    countries = sorted(set(str(c) for c in weights["country"].values))
    years = cfg.years()
    y0 = cfg.period.baseline_year
    anchor = cfg.period.historical.end
    ssp_years = sorted(set(years) | {y0, anchor})
    pop_table = catalog.open(pop_spec.projection or "ssp_population")
    record = calibration_record(catalog, countries, anchor)
    projected = anchor_to_record(ssp_series(pop_table, pop_spec.ssp_model, list(cfg.scenarios), countries, ssp_years,
                                            fallback=pop_spec.ssp_fallback),
                                 record["population"], anchor, "population")
    factor = _country_scaling(weights, projected)  # (scenario, year, region)
    window = list(range(y0 + BASELINE_WINDOW[0], y0 + BASELINE_WINDOW[1] + 1))
    table = catalog.open(cfg.climate.warming)
    region = cfg.climate.position_region or position_region(grid, catalog, table)
    climate = climate_drivers(table, list(cfg.scenarios), list(cfg.climate_models),
                              sorted(set(years) | set(window)), cfg.seed, region)
    dT = warming_since_baseline(climate.warming, y0).sel(year=years)
    return ExposureLayers(grid=grid, study=study, weights=weights, source=source,
                          base_r=weights.sum(("lat", "lon")), factor=factor,
                          factor0=factor.sel(year=y0).mean("scenario"), projected=projected, countries=countries,
                          years=years, baseline_year=y0, window=window, dT=dT, chunks=chunks, climate=climate,
                          cell_country=cell_country_a2(fractions, catalog.open(cfg.study_area.boundaries)),
                          record=record)


def hazard_fields(spec: Any, layers: ExposureLayers, catalog: Any, seed: int) -> tuple[xr.DataArray, xr.DataArray]:
    """The indicator of one hazard on the grid, projected and in the present-climate baseline window (lazy).

    Parameters
    ----------
    spec : climmig.config.schema.HazardSpec
        The hazard (its ``threshold`` is not used here).
    layers : ExposureLayers
        From :func:`exposure_layers`.
    catalog : climmig.catalog.ResolvedCatalog
        Catalog with the hazard's input.
    seed : int
        Run seed.

    Returns
    -------
    tuple of xr.DataArray, [indicator units]
        ``(field, field0)``, dims (scenario, climate_model, year, lat, lon); ``field0`` covers the baseline
        window (scenario ``present`` for emulated hazards).
    """
    if spec.source == "warming_levels":
        # the baseline is the observed climatology at the window's warming (every observed year once)
        field = hazard_indicator(spec, catalog, layers.grid, layers.dT, seed, layers.chunks,
                                 climate=layers.climate.select(layers.years), cell_country=layers.cell_country)
        field0 = hazard_indicator(spec, catalog, layers.grid, layers.dT, seed, layers.chunks,
                                  climate=layers.climate.select(layers.window, climatology=True),
                                  cell_country=layers.cell_country)
        return field, field0
    field = hazard_indicator(spec, catalog, layers.grid, layers.dT, seed, layers.chunks)
    dT = layers.dT
    if spec.source == "emulator":
        dT0 = xr.zeros_like(dT.isel(scenario=[0], year=[0]).reindex(year=layers.window, fill_value=0.0))
        dT0 = dT0.assign_coords(scenario=["present"])
        field0 = hazard_indicator(spec, catalog, layers.grid, dT0, seed ^ stable_key("baseline"), layers.chunks)
    else:
        dTw = warming_since_baseline(layers.climate.warming, layers.baseline_year).sel(year=layers.window)
        field0 = hazard_indicator(spec, catalog, layers.grid, dTw, seed, layers.chunks)
    return field, field0


def hazard_exposure(field: xr.DataArray, field0: xr.DataArray, layers: ExposureLayers, threshold: float
                    ) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Exposure to one hazard at a threshold (lazy when the inputs are).

    Parameters
    ----------
    field, field0 : xr.DataArray
        From :func:`hazard_fields` (or the same fields loaded into memory).
    layers : ExposureLayers
        From :func:`exposure_layers`.
    threshold : float
        Exceedance level in the indicator's units (:func:`~climmig.hazards.exceedance_threshold`).

    Returns
    -------
    tuple of xr.DataArray
        ``exposed`` [1] (scenario, climate_model, year, region): people where the indicator exceeds the
        threshold; ``intensity`` (same dims): population-weighted mean indicator; ``baseline`` [1]
        (climate_model, region): people exposed in the present climate (baseline-window mean).
    """
    sums = region_exceedance_sums(field, layers.weights, threshold)
    exposed = sums["exceedance"] * layers.factor.sel(year=layers.years)
    intensity = sums["total"] / layers.base_r.where(layers.base_r > 0)
    sums0 = region_exceedance_sums(field0, layers.weights, threshold)
    baseline = sums0["exceedance"].mean(("scenario", "year")) * layers.factor0
    return exposed, intensity, baseline


def calibration_record(catalog: Any, countries: list[str], year: int) -> pd.DataFrame:
    """The displacement model's calibration covariates (WDI) per country in one year, imputed values removed.

    Parameters
    ----------
    catalog : ResolvedCatalog
        Catalog with the WDI entries (:func:`climmig.mobility.covariates.load_covariates`).
    countries : list of str
        ISO3 codes.
    year : int
        The last calibration year.

    Returns
    -------
    pandas.DataFrame
        Index ``iso3``; ``population``, ``gdp_per_capita``, ``agricultural_share`` and ``rural_share`` (NaN where
        WDI has no value and the calibration imputes one), and ``imputed_<name>`` holding those imputed values
        (the world-region median the calibration uses; NaN where WDI has the value).
    """
    from climmig.mobility.covariates import load_covariates

    cov = load_covariates(catalog, countries, [year]).xs(year, level="year")
    names = ["population", "gdp_per_capita", "agricultural_share", "rural_share"]
    out = cov[names].copy()
    for name in names:
        flag = f"imputed_{name}"
        imputed = cov[flag].astype(bool) if flag in cov else pd.Series(False, index=cov.index)
        out[flag] = cov[name].where(imputed)
        out.loc[imputed, name] = np.nan
    return out


def _stand_ins(record: pd.DataFrame, name: str) -> dict[str, float]:
    """The calibration's imputed values of one share (for countries WDI has no value for)."""
    col = record.get(f"imputed_{name}")
    return {} if col is None else {str(c): float(v) for c, v in col.dropna().items()}


def _log_stand_ins(da: xr.DataArray, what: str) -> None:
    if da.attrs.get("climmig_stand_in"):
        # a country WDI has no value for in any year (e.g. Micronesia or Grenada for agriculture) takes the
        # value the calibration imputes for it, so the projection starts where the calibration's covariates do
        logger.warning("%s: no WDI value in any year for %s; using the calibration's world-region median",
                       what, da.attrs["climmig_stand_in"])


def build_exposure(cfg: Any, catalog: Any) -> xr.Dataset:
    """The exposure dataset of a run: people exposed per hazard, region, scenario, climate model and year.

    Parameters
    ----------
    cfg : climmig.config.schema.RunConfig
        Validated run config (study area, grid, period, scenarios, climate models, hazards, livelihoods,
        seed, compute chunks).
    catalog : climmig.catalog.ResolvedCatalog
        Catalog with every input the config names.

    Returns
    -------
    xr.Dataset
        Lazy (dask) dataset with the variables, dims and units of section 1 of ``docs/interfaces.md``:
        ``population``, ``exposed_population``, ``livelihood_weighted_exposure``, ``hazard_intensity``,
        ``exposed_population_baseline``, ``population_baseline``, ``gdp_per_capita``, ``agricultural_share``, ``rural_share``.
        Coordinates ``region_name``, ``hazard`` (+ ``hazard_indicator``, ``hazard_threshold``,
        ``hazard_units``, ``hazard_emulated``). Attrs ``climmig_emulated``, ``climmig_inputs``.

    Raises
    ------
    DataError
        Missing livelihood, country not in the boundaries/SSP/WDI tables, inputs not covering the area.
    """
    layers = exposure_layers(cfg, catalog)
    weights, factor, base_r, projected = layers.weights, layers.factor, layers.base_r, layers.projected
    countries, years, y0, window = layers.countries, layers.years, cfg.period.baseline_year, layers.window
    pop_spec = _livelihood(cfg, "population")
    population = (factor.sel(year=years) * base_r).transpose("scenario", "year", "region")
    exposed, intensity, baseline, meta = [], [], [], []
    inputs: dict[str, str] = {}
    for spec in cfg.hazards:
        field, field0 = hazard_fields(spec, layers, catalog, cfg.seed)
        thr = exceedance_threshold(spec)
        hz_exposed, hz_intensity, hz_baseline = hazard_exposure(field, field0, layers, thr)
        exposed.append(hz_exposed)
        intensity.append(hz_intensity)
        baseline.append(hz_baseline)
        meta.append((spec.name, spec.indicator, spec.threshold, INDICATOR_UNITS[spec.indicator],
                     field.attrs.get("climmig_emulated", "false"), field.attrs.get("climmig_hazard_source", "")))
        inputs[spec.input] = field.attrs.get("climmig_catalog_id", spec.input)
        logger.info("hazard %s: %s > %s", spec.name, spec.indicator, thr)
    hz = xr.Variable("hazard", [m[0] for m in meta])
    hcoords = {"hazard": [m[0] for m in meta],
               "hazard_indicator": ("hazard", [m[1] for m in meta]),
               "hazard_threshold": ("hazard", [m[2] for m in meta]),
               "hazard_units": ("hazard", [m[3] for m in meta]),
               "hazard_emulated": ("hazard", [m[4] for m in meta]),
               "hazard_source": ("hazard", [m[5] for m in meta])}
    exposed_da = xr.concat(exposed, dim=hz, coords="minimal").assign_coords(hcoords)
    exposed_da = exposed_da.transpose("hazard", "scenario", "climate_model", "year", "region")
    intensity_da = xr.concat(intensity, dim=hz, coords="minimal").assign_coords(hcoords)
    intensity_da = intensity_da.transpose("hazard", "scenario", "climate_model", "year", "region")
    baseline_da = xr.concat(baseline, dim=hz, coords="minimal").assign_coords(hcoords)
    baseline_da = baseline_da.transpose("hazard", "climate_model", "region")

    agri_spec = _livelihood(cfg, "agricultural_dependency")
    agri_c = wdi_share(catalog.open(agri_spec.inputs()[0]), countries, "share of employment in agriculture",
                       f"{agri_spec.inputs()[0]} (latest year)", stand_in=_stand_ins(layers.record, "agricultural_share"))
    _log_stand_ins(agri_c, "share of employment in agriculture")
    agri = _per_region(_held_at_record(agri_c, layers.record["agricultural_share"]), weights)
    rural_spec = _livelihood(cfg, "rural_share")
    rural_tab = catalog.open(rural_spec.inputs()[0])
    code = str(rural_tab["Indicator Code"].iloc[0]) if "Indicator Code" in rural_tab.columns else ""
    total_pop = None if code.endswith(".ZS") else catalog.open(rural_spec.projection or "wdi_population")
    rural_c = rural_share(rural_tab, total_pop, countries, stand_in=_stand_ins(layers.record, "rural_share"))
    _log_stand_ins(rural_c, "rural population share")
    rural = _per_region(_held_at_record(rural_c, layers.record["rural_share"]), weights)
    income_spec = _livelihood(cfg, "income")
    anchor = cfg.period.historical.end
    gdp = ssp_series(catalog.open(income_spec.projection or "ssp_gdp_ppp"), income_spec.ssp_model,
                     list(cfg.scenarios), countries, sorted(set(years) | {anchor}), scale=1e9,
                     fallback=income_spec.ssp_fallback)
    pop_table = catalog.open(pop_spec.projection or "ssp_population")
    pop_ssp = ssp_series(pop_table, pop_spec.ssp_model, list(cfg.scenarios), countries,
                         sorted(set(years) | {anchor}), fallback=pop_spec.ssp_fallback)
    ssp_attrs = ssp_provenance(pop_ssp, gdp, pop_table, list(cfg.scenarios), y0)
    # SSP growth of GDP per head from the calibration's own level (WDI, current USD of the anchor year)
    gdppc_c = anchor_to_record(gdp / pop_ssp, layers.record["gdp_per_capita"], anchor, "GDP per capita")
    gdppc = _per_region(gdppc_c.sel(year=years), weights)

    ds = xr.Dataset(
        {
            "population": population.assign_attrs(
                units="1", long_name=f"people (SSP population growth from the {anchor} WDI level, aggregated with "
                "fractional masks)", cell_methods="area: sum",
                climmig_anchor_factors=projected.attrs.get("climmig_anchor_factors", ""),
                climmig_ssp_models=pop_ssp.attrs["climmig_ssp_models"]),
            "exposed_population": exposed_da.assign_attrs(
                units="1", long_name="people in cells where the hazard indicator exceeds its threshold",
                cell_methods="area: sum"),
            "livelihood_weighted_exposure": (exposed_da * agri).transpose(*exposed_da.dims).assign_attrs(
                units="1", long_name="exposed people x share of employment in agriculture",
                cell_methods="area: sum"),
            "hazard_intensity": intensity_da.assign_attrs(
                long_name="population-weighted mean hazard indicator", cell_methods="area: mean (weighted by people)",
                **_units_attr(meta)),
            "exposed_population_baseline": baseline_da.assign_attrs(
                units="1", long_name=f"people exposed in the present climate ({window[0]}-{window[-1]} mean, "
                f"{y0} population)", cell_methods="year: mean area: sum"),
            "population_baseline": (layers.factor0 * base_r).drop_vars("year", errors="ignore").assign_attrs(
                units="1", long_name=f"people in {y0} (the population of exposed_population_baseline)",
                cell_methods="area: sum"),
            "gdp_per_capita": gdppc.transpose("scenario", "year", "region").assign_attrs(
                units="USD", currency="USD", price_year=anchor,
                long_name=f"GDP per capita: WDI level of {anchor} (current USD) grown at the SSP's real PPP rates",
                climmig_anchor_factors=gdppc_c.attrs.get("climmig_anchor_factors", ""),
                climmig_ssp_models=gdp.attrs["climmig_ssp_models"],
                climmig_ssp_population_models=pop_ssp.attrs["climmig_ssp_models"]),
            "agricultural_share": agri.assign_attrs(units="1", long_name="share of employment in agriculture",
                                                    climmig_stand_in=agri_c.attrs.get("climmig_stand_in", "")),
            "rural_share": rural.assign_attrs(units="1", long_name="rural population share",
                                              climmig_stand_in=rural_c.attrs.get("climmig_stand_in", "")),
        },
        coords={"region_name": weights["region_name"], "country": weights["country"]},
    )
    ds["year"].attrs.update(long_name="year", units="1")
    ds["population_source"] = layers.source.sel(region=layers.study).assign_attrs(
        long_name="index into climmig_population_inputs of the grid used per region", units="1")
    emulated = any(m[4] == "true" for m in meta)
    ds.attrs.update(
        climmig_emulated="true" if emulated else "false",
        climmig_population_inputs=", ".join(pop_spec.inputs()),
        climmig_grid_resolution_deg=float(cfg.grid.resolution),
        climmig_baseline_window=f"{window[0]}-{window[-1]}",
        climmig_hazard_inputs=", ".join(f"{k}" for k in inputs),
        climmig_hazard_sources="; ".join(f"{m[0]}: {m[5]}" for m in meta),
        title=f"climmig exposure: {cfg.run_id}",
        **ssp_attrs,
    )
    if emulated:
        ds.attrs["comment"] = ("Hazards marked hazard_emulated=true come from the fallback emulator "
                               "(climmig.hazards.emulator): baseline fields scaled by each model's warming with "
                               "seeded variability, not from hazard data; see hazard_source.")
    return ds


def ssp_provenance(population: xr.DataArray, income: xr.DataArray, population_table: pd.DataFrame,
                   scenarios: list[str], base_year: int) -> dict[str, str]:
    """Record, log (once) and check the SSP models the population and income series came from.

    Parameters
    ----------
    population, income : xr.DataArray
        :func:`~climmig.livelihoods.ssp_series` outputs (attrs ``climmig_ssp_model``, ``climmig_ssp_models``,
        ``climmig_ssp_fallback``).
    population_table : pandas.DataFrame
        The SSP population table (all models), to compare each income model's own population with the
        population series used.
    scenarios : list of str
        Run scenarios.
    base_year : int
        Year in which the two models' populations are compared (``period.baseline_year``).

    Returns
    -------
    dict of str to str
        Dataset attrs: ``climmig_ssp_population_model(s)``, ``climmig_ssp_income_model(s)``,
        ``climmig_ssp_fallback`` (empty if every country has the requested models) and
        ``climmig_ssp_population_income_gap`` (countries whose two models differ by more than
        :data:`~climmig.livelihoods.ssp_fallback.POPULATION_INCOME_TOLERANCE` in ``base_year``; empty if none).
    """
    from climmig.livelihoods.ssp import ssp_family
    from climmig.livelihoods.ssp_fallback import POPULATION_INCOME_TOLERANCE, population_income_mismatch

    def models(da: xr.DataArray) -> dict[str, str]:
        text = da.attrs.get("climmig_ssp_models", "")
        return dict(part.split(": ", 1) for part in text.split(", ")) if text else {}

    fallback = "; ".join(x for x in (population.attrs.get("climmig_ssp_fallback", ""),
                                     income.attrs.get("climmig_ssp_fallback", "")) if x)
    if fallback:
        # once per exposure build: the series are read more than once, the fallback is reported here only
        logger.warning("SSP series fallback (the requested model lacks these countries): %s", fallback)
    gaps = population_income_mismatch(population_table, models(population), models(income),
                                      sorted({ssp_family(s) for s in scenarios}), base_year)
    gap_text = ", ".join(f"{c}: {g:.1%}" if np.isfinite(g) else f"{c}: not comparable"
                         for c, g in sorted(gaps.items()))
    if gaps:
        logger.warning("GDP per head mixes a population and an income series from SSP models whose %d "
                       "populations differ by more than %.0f %% (or cannot be compared): %s", base_year,
                       POPULATION_INCOME_TOLERANCE * 100, gap_text)
    return {"climmig_ssp_population_model": population.attrs.get("climmig_ssp_model", ""),
            "climmig_ssp_population_models": population.attrs.get("climmig_ssp_models", ""),
            "climmig_ssp_income_model": income.attrs.get("climmig_ssp_model", ""),
            "climmig_ssp_income_models": income.attrs.get("climmig_ssp_models", ""),
            "climmig_ssp_fallback": fallback,
            "climmig_ssp_population_income_gap": gap_text}


def _units_attr(meta: list[tuple[str, str, str, str, str, str]]) -> dict[str, str]:
    units = {m[3] for m in meta}
    if len(units) == 1:
        return {"units": units.pop()}
    return {"climmig_units_by_hazard": "; ".join(f"{m[0]}: {m[3]}" for m in meta),
            "comment": "units differ by hazard: see the hazard_units coordinate"}


def _held_at_record(latest: xr.DataArray, record: pd.Series) -> xr.DataArray:
    """A share held fixed over the projection at the calibration's last-year value (the latest value where the
    calibration has none): no SSP path exists for it in the bundled data, and starting elsewhere than the
    calibration's covariates would shift every projection."""
    rec = record.reindex([str(r) for r in latest["region"].values]).to_numpy(float)
    out = latest.copy(data=np.where(np.isfinite(rec), rec, latest.values))
    out.attrs = dict(latest.attrs)
    out.attrs["climmig_held_at"] = "the calibration's value in its last year (WDI), held fixed"
    return out


def _per_region(country_values: xr.DataArray, weights: xr.DataArray) -> xr.DataArray:
    """Country values broadcast to the regions of that country."""
    country = weights["country"].values
    out = country_values.sel(region=country).assign_coords(region=weights["region"].values)
    if "source_year" in out.coords:
        years = np.asarray(out["source_year"].values)
        out.attrs["climmig_source_years"] = ", ".join(
            f"{r}: {y}" for r, y in zip(out["region"].values, years, strict=True))
    return out.drop_vars([c for c in out.coords if c not in out.dims])


