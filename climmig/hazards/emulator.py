"""Warming-level emulator: hazard indicator fields per scenario, climate model and year.

For users without CMIP6/ISIMIP scenario files, each hazard is emulated from a *baseline field* (real where
climmig bundles one) scaled by the warming of each climate model under each SSP
(:func:`climmig.hazards.warming.warming_since_baseline`), plus seeded year-to-year variability. The outputs
carry ``climmig_emulated = "true"`` and a ``climmig_emulator`` attribute describing the recipe. The
per-degree sensitivities are parameters (``HazardSpec.params``) with documented defaults; they are
order-of-magnitude choices, not fitted values.

Randomness: every dask block draws from ``numpy.random.SeedSequence([seed, key, *block_location])``, so
results are reproducible for a given seed and chunking (the pipeline fixes the chunking from the config).

:data:`EMULATOR_RECIPES` says, once per indicator, which input the emulator reads and how it builds the
indicator from it; :data:`EMULATOR_REFUSALS` explains the indicators it cannot build where there is more to
say than that.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import dask.array as dsa
import numpy as np
import xarray as xr
from scipy.special import ndtr

from climmig.hazards.indicators import convert_threshold, river_flood_depth

__all__ = [
    "EMULATOR_RECIPES",
    "EMULATOR_REFUSALS",
    "EmulatorRecipe",
    "emulate_crop_yield_loss",
    "grid_from",
    "emulate_drought_months",
    "emulate_flood_depth",
    "emulate_heat_days",
    "seeded_normal",
    "stable_key",
]

logger = logging.getLogger(__name__)

_DIMS = ("scenario", "climate_model", "year", "lat", "lon")


def stable_key(text: str) -> int:
    """A stable 32-bit integer from a string (for seeding per hazard; ``hash()`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def _block(block_info: dict | None, seed: int, key: int, dtype: Any) -> np.ndarray:
    info = block_info[None]
    loc = [int(i) for i in info["chunk-location"]]
    rng = np.random.default_rng(np.random.SeedSequence([seed, key, *loc]))
    return rng.standard_normal(info["chunk-shape"], dtype=dtype)


def seeded_normal(template: xr.DataArray, seed: int, key: int) -> xr.DataArray:
    """Standard-normal noise shaped and chunked like ``template`` (lazy, reproducible per block).

    Parameters
    ----------
    template : xr.DataArray
        Dask-backed array giving dims, coords and chunks.
    seed : int
        Run seed.
    key : int
        Stream key (e.g. :func:`stable_key` of the hazard name).

    Returns
    -------
    xr.DataArray, [1]
    """
    data = template.data
    if not isinstance(data, dsa.Array):
        data = dsa.from_array(data, chunks=-1)
    def draw(block: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        return _block(block_info, int(seed), int(key), np.float32)

    noise = dsa.map_blocks(draw, data, dtype=np.float32)
    return xr.DataArray(noise, dims=template.dims, coords=template.coords, attrs={"units": "1"})


def _template(dT: xr.DataArray, grid: xr.Dataset, chunks: dict[str, int]) -> xr.DataArray:
    """Zeros with dims (scenario, climate_model, year, lat, lon), chunked one scenario x model per block."""
    shape = tuple(dT.sizes[d] for d in _DIMS[:3]) + (grid.sizes["lat"], grid.sizes["lon"])
    ch = (1, 1, -1, chunks.get("lat", 256), chunks.get("lon", 256))
    z = dsa.zeros(shape, dtype=np.float32, chunks=ch)
    coords = {d: dT[d].values for d in _DIMS[:3]}
    coords.update(lat=grid["lat"].values, lon=grid["lon"].values)
    return xr.DataArray(z, dims=_DIMS, coords=coords)


def _per_chunk(dT: xr.DataArray) -> xr.DataArray:
    """``dT`` as a dask array with one block per (scenario, climate model).

    A baseline field (lat, lon) times a numpy ``dT`` (scenario, climate_model, year) is otherwise one block
    holding every scenario and model (10 GB at 0.25 degree for 4 x 10); per-block products keep memory
    bounded and let a SLURM task that selects one pair compute only its blocks. Values are unchanged.
    """
    return dT.chunk({"scenario": 1, "climate_model": 1, "year": -1})


def _finish(da: xr.DataArray, name: str, units: str, long_name: str, recipe: str) -> xr.DataArray:
    da = da.astype(np.float32).transpose(*_DIMS).rename(name)
    da.attrs = {"units": units, "long_name": long_name, "climmig_emulated": "true", "climmig_emulator": recipe,
                "climmig_hazard_source": f"EMULATOR FALLBACK (climmig.hazards.emulator): {recipe}",
                "cell_methods": "year: point"}
    return da


def _smooth_field(grid: xr.Dataset, seed: int, key: int, scale_cells: float) -> np.ndarray:
    """A deterministic, spatially smooth standard-normal field on the grid (Gaussian-filtered noise)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(np.random.SeedSequence([seed, key]))
    f = gaussian_filter(rng.standard_normal((grid.sizes["lat"], grid.sizes["lon"])), scale_cells, mode="wrap")
    return (f - f.mean()) / f.std()


def emulate_flood_depth(depth_sample: xr.DataArray, grid: xr.Dataset, dT: xr.DataArray, seed: int,
                        params: dict[str, Any], chunks: dict[str, int]) -> xr.DataArray:
    """Annual maximum river-flood depth, with the *depth distribution* of a real ISIMIP field.

    The bundled ISIMIP flood output covers Central Europe only. climmig does not pretend that map applies
    elsewhere: it takes the **distribution** of annual-maximum depths over the ISIMIP cells (share of cells
    flooded, depth quantiles) and transplants it onto the study area. *Where* floods occur is a seeded,
    spatially smooth susceptibility field (synthetic), persistent across years with correlation ``rho``.

    Parameters
    ----------
    depth_sample : xr.DataArray
        Real depth field (any grid), units of length; its empirical distribution is used.
    grid : xr.Dataset
        Analysis grid.
    dT : xr.DataArray
        Warming since baseline, dims (scenario, climate_model, year), K.
    seed : int
        Run seed.
    params : dict
        ``rho`` (0.8, year-to-year persistence of flood-prone cells), ``frequency_shift_per_degC`` (0.1
        standard deviations of the susceptibility index per K: more frequent floods), ``depth_change_per_degC``
        (0.05: 5 % deeper floods per K), ``pattern_scale_cells`` (3).
    chunks : dict
        Spatial chunks.

    Returns
    -------
    xr.DataArray, [m], dims (scenario, climate_model, year, lat, lon)

    Notes
    -----
    :math:`z_{c,y} = \\rho z_c + \\sqrt{1-\\rho^2}\\,\\varepsilon_{c,y} + \\phi\\,\\Delta T`,
    :math:`d_{c,y} = Q(\\Phi(z_{c,y}))\\,(1 + \\kappa\\,\\Delta T)` with :math:`Q` the ISIMIP depth quantile
    function.
    """
    rho = float(params.get("rho", 0.8))
    phi = float(params.get("frequency_shift_per_degC", 0.1))
    kappa = float(params.get("depth_change_per_degC", 0.05))
    to_m = convert_threshold(f"1 {depth_sample.attrs.get('units', 'm')}", xr.DataArray(0, attrs={"units": "m"}))
    levels = np.concatenate([np.linspace(0, 0.9, 10), np.linspace(0.9, 1.0, 1001)[1:]])
    flat = depth_sample.stack(_cell=depth_sample.dims).chunk({"_cell": -1}) * to_m
    q = flat.quantile(levels, dim="_cell", skipna=True)
    key = stable_key("flood")
    zc = _smooth_field(grid, seed, key, float(params.get("pattern_scale_cells", 3.0)))
    tmpl = _template(dT, grid, chunks)
    eps = seeded_normal(tmpl, seed, key + 1)
    z = rho * xr.DataArray(zc.astype(np.float32), dims=("lat", "lon"), coords={"lat": tmpl.lat, "lon": tmpl.lon}) \
        + np.float32(np.sqrt(1 - rho**2)) * eps + (phi * dT).astype(np.float32)
    p = ndtr(z)
    depth = xr.apply_ufunc(
        lambda pp, qq: np.interp(pp, levels, qq).astype(np.float32), p, q,
        input_core_dims=[[], ["quantile"]], dask="parallelized", output_dtypes=[np.float32],
    )
    depth = depth * (1 + kappa * dT).clip(min=0).astype(np.float32)
    recipe = (f"ISIMIP depth distribution ({depth_sample.attrs.get('climmig_catalog_id', 'input')}, Central Europe) "
              f"transplanted onto a seeded smooth susceptibility field; rho={rho}, phi={phi}/K, kappa={kappa}/K")
    return _finish(depth, "flood_depth", "m", "annual maximum river flood depth (emulated)", recipe)


def emulate_heat_days(tas_monthly: xr.DataArray, dT: xr.DataArray, thresh: str, seed: int,
                      params: dict[str, Any], chunks: dict[str, int]) -> xr.DataArray:
    """Expected days per year with daily mean temperature above ``thresh``, from monthly baseline means.

    Daily temperature in month :math:`m` is taken as normal around the baseline monthly mean (real
    GHCN-CAMS data regridded to the grid) shifted by local warming and a yearly anomaly.

    Parameters
    ----------
    tas_monthly : xr.DataArray
        Baseline monthly mean temperature on the analysis grid, dims (time, lat, lon), temperature units.
    dT : xr.DataArray
        Global warming since baseline, K, dims (scenario, climate_model, year).
    thresh : str
        Threshold with units (converted to the data's units: degC against K works).
    seed : int
        Run seed.
    params : dict
        ``land_warming_ratio`` (1.4: land warms faster than the global mean, AR6 WGI ch. 4),
        ``daily_sd`` (2.0 K within-month daily spread), ``interannual_sd`` (0.5 K).
    chunks : dict
        Spatial chunks.

    Returns
    -------
    xr.DataArray, [d], dims (scenario, climate_model, year, lat, lon)

    Notes
    -----
    :math:`H = \\frac{365}{\\sum_m n_m} \\sum_m n_m \\, \\Phi\\big((\\bar T_m + r\\Delta T + a - T^*)/\\sigma_d\\big)`;
    months missing from the baseline (GHCN file: Jan-Aug 2018) are represented by scaling to 365 days.
    """
    r = float(params.get("land_warming_ratio", 1.4))
    sd_d = float(params.get("daily_sd", 2.0))
    sd_y = float(params.get("interannual_sd", 0.5))
    thr = convert_threshold(thresh, tas_monthly, "temperature")
    # a temperature difference of 1 K is one unit in K and in degC, the only temperature units accepted here
    if str(tas_monthly.attrs.get("units")) not in ("K", "degC", "degK", "degree_Celsius", "kelvin", "celsius",
                                                   "deg_C", "C"):
        raise ValueError(f"temperature units {tas_monthly.attrs.get('units')!r}: use K or degC")
    ndays = tas_monthly["time"].dt.days_in_month.astype(np.float32)
    key = stable_key("heat")
    tmpl = _template(dT, grid_from(tas_monthly), chunks)
    anom = seeded_normal(tmpl, seed, key) * np.float32(sd_y)
    shift = (r * dT).astype(np.float32) + anom
    total = None
    for i in range(tas_monthly.sizes["time"]):
        tm = tas_monthly.isel(time=i, drop=True).astype(np.float32)
        term = ndtr((tm + shift - np.float32(thr)) / np.float32(sd_d)) * ndays[i].item()
        total = term if total is None else total + term
    days = total * np.float32(365.0 / float(ndays.sum()))
    recipe = (f"GHCN-CAMS monthly means ({tas_monthly.attrs.get('climmig_catalog_id', 'input')}) + "
              f"{r} x ECS-scaled AR6 warming + N(0,{sd_y} K) yearly anomaly; daily sd {sd_d} K")
    return _finish(days, "heat_days", "d", f"days with daily mean temperature above {thresh} (emulated)", recipe)


def grid_from(da: xr.DataArray) -> xr.Dataset:
    """The lat/lon grid of a layer (coordinates only)."""
    return xr.Dataset(coords={"lat": da["lat"].values, "lon": da["lon"].values})


def emulate_drought_months(drying: xr.DataArray, dT: xr.DataArray, thresh: str | float, seed: int,
                           params: dict[str, Any], chunks: dict[str, int]) -> xr.DataArray:
    """Expected months per year with a standardised water-balance index below ``thresh``.

    Parameters
    ----------
    drying : xr.DataArray
        Shift of the standardised index per K of global warming on the grid (negative = drying), [1/K];
        a synthetic baseline (see ``data_catalog/make_synthetic.py``) unless the user supplies one.
    dT : xr.DataArray
        Global warming since baseline, K.
    thresh : str or float
        Index threshold (e.g. -1).
    seed : int
        Run seed.
    params : dict
        ``interannual_sd`` (0.6): sd of the yearly mean of the index (persistence of droughts).
    chunks : dict
        Spatial chunks.

    Returns
    -------
    xr.DataArray, [month], dims (scenario, climate_model, year, lat, lon)

    Notes
    -----
    :math:`D = 12\\,\\Phi\\big((T^* - \\beta\\Delta T - a)/\\sqrt{1 - s^2}\\big)`, monthly index
    :math:`\\beta\\Delta T + a + e` with :math:`a \\sim N(0, s^2)` per cell-year and unit total variance at
    baseline.
    """
    s = float(params.get("interannual_sd", 0.6))
    thr = convert_threshold(thresh, xr.DataArray(0, attrs={"units": "1"}), "water-balance index")
    key = stable_key("drought")
    tmpl = _template(dT, grid_from(drying), chunks)
    a = seeded_normal(tmpl, seed, key) * np.float32(s)
    mu = (drying.astype(np.float32) * _per_chunk(dT).astype(np.float32)) + a
    months = 12.0 * ndtr((np.float32(thr) - mu) / np.float32(np.sqrt(1 - s**2)))
    recipe = (f"synthetic drying sensitivity ({drying.attrs.get('climmig_catalog_id', 'input')}) x ECS-scaled "
              f"AR6 warming + N(0,{s}) yearly anomaly")
    return _finish(months, "drought_months", "month",
                   f"months with standardised water balance below {thresh} (emulated)", recipe)


def emulate_crop_yield_loss(sensitivity: xr.DataArray, dT: xr.DataArray, seed: int, params: dict[str, Any],
                            chunks: dict[str, int]) -> xr.DataArray:
    """Relative crop-yield loss against the baseline climate.

    Parameters
    ----------
    sensitivity : xr.DataArray
        Yield loss per K of local warming on the grid, [1/K] (synthetic baseline unless supplied).
    dT : xr.DataArray
        Global warming since baseline, K.
    seed : int
        Run seed.
    params : dict
        ``land_warming_ratio`` (1.4), ``interannual_sd`` (0.06: sd of yearly yield anomalies, relative).
    chunks : dict
        Spatial chunks.

    Returns
    -------
    xr.DataArray, [1], dims (scenario, climate_model, year, lat, lon)

    Notes
    -----
    :math:`L = \\max(0, \\min(1, \\gamma\\,r\\,\\Delta T + \\sigma\\varepsilon))`. Central sensitivities of
    a few % per K for maize/sorghum follow the meta-analysis of Zhao et al. (2017) PNAS 114:9326.
    """
    r = float(params.get("land_warming_ratio", 1.4))
    sd = float(params.get("interannual_sd", 0.06))
    key = stable_key("crop")
    tmpl = _template(dT, grid_from(sensitivity), chunks)
    eps = seeded_normal(tmpl, seed, key) * np.float32(sd)
    loss = (sensitivity.astype(np.float32) * (r * _per_chunk(dT)).astype(np.float32) + eps).clip(0, 1)
    recipe = (f"synthetic yield sensitivity ({sensitivity.attrs.get('climmig_catalog_id', 'input')}) x {r} x "
              f"ECS-scaled AR6 warming + N(0,{sd}) yearly anomaly")
    return _finish(loss, "crop_yield_loss", "1", "relative crop-yield loss (emulated)", recipe)




@dataclass(frozen=True)
class EmulatorRecipe:
    """How the emulator builds one indicator: the input it reads and the function it applies.

    Attributes
    ----------
    build : callable
        ``build(baseline, grid, dT, threshold, seed, params, chunks)`` -> the indicator with dims
        (scenario, climate_model, year, lat, lon); ``threshold`` and ``params`` are the hazard spec's
        (``params`` without ``variable``).
    baseline : {"field", "sample"}
        ``"field"``: the catalog input regridded bilinearly to the analysis grid (a baseline map scaled
        by warming); ``"sample"``: the input as stored, whose value distribution is transplanted onto the
        grid (flood depth, where a map from elsewhere says nothing about the study area).
    fill_cells : int
        Cells of missing data the regridding fills from neighbours (``"field"`` only).
    """

    build: Callable[[xr.DataArray, xr.Dataset, xr.DataArray, str, int, dict[str, Any], dict[str, int]],
                    xr.DataArray]
    baseline: Literal["field", "sample"] = "field"
    fill_cells: int = 2


def _flood_depth_recipe(sample: xr.DataArray, grid: xr.Dataset, dT: xr.DataArray, threshold: str, seed: int,
                        params: dict[str, Any], chunks: dict[str, int]) -> xr.DataArray:
    depth = emulate_flood_depth(sample, grid, dT, seed, params, chunks)
    out = river_flood_depth(depth, str(params.get("protection", "0 m")))
    # river_flood_depth sets CF attrs only; the emulator flags (climmig_emulated, recipe) must survive it
    out.attrs.update({k: v for k, v in depth.attrs.items() if k.startswith("climmig_")})
    return out


#: The indicators the emulator builds, each with its recipe.
EMULATOR_RECIPES: Mapping[str, EmulatorRecipe] = MappingProxyType({
    "river_flood_depth": EmulatorRecipe(_flood_depth_recipe, baseline="sample"),
    # baseline temperature is land-only (GHCN-CAMS): fill three cells so that coastal cells get a baseline
    "heat_days": EmulatorRecipe(lambda tas, grid, dT, threshold, seed, params, chunks:
                                emulate_heat_days(tas, dT, threshold, seed, params, chunks), fill_cells=3),
    "drought_months": EmulatorRecipe(lambda drying, grid, dT, threshold, seed, params, chunks:
                                     emulate_drought_months(drying, dT, threshold, seed, params, chunks)),
    "crop_yield_loss": EmulatorRecipe(lambda sens, grid, dT, threshold, seed, params, chunks:
                                      emulate_crop_yield_loss(sens, dT, seed, params, chunks)),
})

#: Why the emulator refuses an indicator, where a pointer to the alternative helps more than "no recipe".
EMULATOR_REFUSALS: Mapping[str, str] = MappingProxyType({
    "flooded_fraction": "the emulator models flood depth; use indicator river_flood_depth (or give "
                        "flooded-fraction scenario files with source: scenario_files)",
})
