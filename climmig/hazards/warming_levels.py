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
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import ndtr, ndtri

from climmig.errors import DataError
from climmig.grid.lonlat import normalize_lonlat
from climmig.grid.regrid import regrid_intensity
from climmig.hazards import ar6
from climmig.hazards.cmip6_warming import (
    model_positions,
    regional_amplification,
    warming_anomaly,
    warming_trajectories,
)
from climmig.hazards.emulator import stable_key

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

logger = logging.getLogger(__name__)

_DIMS = ("scenario", "climate_model", "year", "lat", "lon")
#: DFO severity class -> recurrence interval bounds, years (DFO archive notes).
DFO_CLASS_RETURN_PERIODS = {1.0: (10.0, 20.0), 1.5: (20.0, 100.0), 2.0: (100.0, 300.0)}


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


def _regions(grid: xr.Dataset, catalog: Any, params: dict[str, Any]) -> xr.DataArray:
    return ar6.cell_regions(grid, catalog.open(str(params.get("regions", "ar6_reference_regions"))))


def _regional(grid: xr.Dataset, catalog: Any, params: dict[str, Any], drivers: ClimateDrivers, index: str,
              what: str) -> tuple[xr.DataArray, np.ndarray, xr.DataArray]:
    """Cell regions, each cell's index into the regions the table has, and the table of ``index`` for them."""
    cells = _regions(grid, catalog, params)
    table = catalog.open(str(params.get("table", "ar6_ch12_regional_changes")))
    names = _study_regions(cells, set(table.loc[table["index"] == index, "region"]), what)
    return cells, _region_index(cells, names), ar6.regional_levels(table, index, names, drivers.baseline_gwl)


def _region_index(cells: xr.DataArray, names: list[str]) -> np.ndarray:
    """Index into ``names`` of each cell's region (-1 outside them), dims (lat, lon)."""
    pos = {r: i for i, r in enumerate(names)}
    return np.array([pos.get(r, -1) for r in cells.values.ravel()]).reshape(cells.shape)


def _study_regions(cells: xr.DataArray, have: set[str] | None = None, what: str = "") -> list[str]:
    names = [str(r) for r in np.unique(cells.values) if r]
    if not names:
        raise DataError("no grid cell lies in an AR6 reference region")
    if have is not None:
        missing = [r for r in names if r not in have]
        if missing:
            logger.info("AR6 %s: no table values for regions %s; the layer is NaN in their cells", what, missing)
        names = [r for r in names if r in have]
        if not names:
            raise DataError(f"AR6 {what}: none of the study area's regions has table values")
    return names


def _on_cells(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``values[..., region]`` placed on the grid by region index (NaN where the index is -1)."""
    out = values[..., np.clip(idx, 0, None)]
    return np.where(idx >= 0, out, np.nan)


def _assemble(block: Any, prepare: Any, drivers: ClimateDrivers, grid: xr.Dataset) -> xr.DataArray:
    """A lazy (scenario, climate_model, year, lat, lon) array, one dask block per scenario and model.

    ``prepare()`` reads and regrids the small inputs (observed fields, maps) once, inside the graph, so that
    building a layer computes nothing; ``block(prep, i, j)`` returns the numpy array (year, lat, lon) of
    scenario ``i`` and model ``j``. Memory stays bounded by one block, on any grid.
    """
    import dask
    import dask.array as dsa

    w = drivers.warming
    ny, nlat, nlon = w.sizes["year"], grid.sizes["lat"], grid.sizes["lon"]
    prep = dask.delayed(prepare, pure=True)()
    rows = []
    for i in range(w.sizes["scenario"]):
        row = []
        for j in range(w.sizes["climate_model"]):
            d = dask.delayed(lambda p, a, b: block(p, a, b)[None, None].astype(np.float32))(prep, i, j)
            row.append(dsa.from_delayed(d, shape=(1, 1, ny, nlat, nlon), dtype=np.float32))
        rows.append(row)
    arr = dsa.concatenate([dsa.concatenate(row, axis=1) for row in rows], axis=0)
    return xr.DataArray(arr, dims=_DIMS, coords={"scenario": w["scenario"].values,
                                                 "climate_model": w["climate_model"].values,
                                                 "year": w["year"].values, "lat": grid["lat"].values,
                                                 "lon": grid["lon"].values})


def _covers(da: xr.DataArray, grid: xr.Dataset) -> bool:
    """Whether ``da``'s lat/lon box overlaps the grid (coordinates only, nothing computed)."""
    return (float(da.lat.min()) <= float(grid.lat.max()) and float(da.lat.max()) >= float(grid.lat.min())
            and float(da.lon.min()) <= float(grid.lon.max()) and float(da.lon.max()) >= float(grid.lon.min()))


def _np(da: xr.DataArray, *dims: str) -> np.ndarray:
    return np.asarray(da.transpose(*dims).values, dtype=float)


def _finish(da: xr.DataArray, name: str, units: str, long_name: str, source: str) -> xr.DataArray:
    da = da.transpose(*_DIMS).rename(name)
    da.attrs = {"units": units, "long_name": long_name, "cell_methods": "year: point",
                "climmig_emulated": "false", "climmig_hazard_source": source}
    return da


# ---------------------------------------------------------------------------------------------- drought
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


# ------------------------------------------------------------------------------------------------- heat
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


# ------------------------------------------------------------------------------------------------ flood
def gumbel_return_period(period: np.ndarray | xr.DataArray, ratio: np.ndarray | xr.DataArray,
                         cv: float) -> np.ndarray | xr.DataArray:
    """Return period of a T-year flood after discharges are multiplied by ``ratio`` (Gumbel growth curve).

    With annual maxima Gumbel-distributed with coefficient of variation ``cv``,
    :math:`Q_T/\\bar Q = 1 + cv K_T`, :math:`K_T = -\\frac{\\sqrt 6}{\\pi}(\\gamma_E + \\ln(-\\ln(1 - 1/T)))`.
    A flood of today's return period ``T`` scaled by ``ratio`` has the return period ``T'`` of today's
    climate with :math:`1 + cv K_{T'} = r (1 + cv K_T)`.

    Parameters
    ----------
    period : array-like
        Return periods (years, > 1).
    ratio : array-like
        Discharge multiplier (e.g. AR6's Q100 at the warming level over its 1995-2014 value).
    cv : float
        Coefficient of variation of annual maximum discharge.

    Returns
    -------
    array-like
        Return periods (years), at least 1.
    """
    c = np.sqrt(6.0) / np.pi
    k = -c * (0.5772156649 + np.log(-np.log1p(-1.0 / np.maximum(period, 1.0 + 1e-9))))
    k2 = (ratio * (1.0 + cv * k) - 1.0) / cv
    p_exceed = -np.expm1(-np.exp(-(k2 / c + 0.5772156649)))
    return 1.0 / np.clip(p_exceed, 1e-30, 1.0)


def _dfo_return_periods(dfo: pd.DataFrame) -> pd.DataFrame:
    """Events with a return period: severity class bounds, log-interpolated by area x duration within class."""
    df = dfo.copy()
    began = pd.to_datetime(df["Began"], errors="coerce")
    ended = pd.to_datetime(df["Ended"], errors="coerce")
    df["year"] = began.dt.year
    df["days"] = ((ended - began).dt.days + 1).clip(lower=1)
    df = df.dropna(subset=["year", "long", "lat", "Area", "Severity"])
    df = df[df["Area"] > 0]
    mag = np.log(df["Area"].astype(float) * df["days"].astype(float))
    rp = np.full(len(df), np.nan)
    for cls, (lo, hi) in DFO_CLASS_RETURN_PERIODS.items():
        sel = np.isclose(df["Severity"].astype(float), cls)
        if sel.any():
            pct = mag[sel].rank(pct=True).to_numpy()
            rp[sel] = np.exp(np.log(lo) + pct * (np.log(hi) - np.log(lo)))
    df["return_period"] = rp
    return df.dropna(subset=["return_period"])


def flood_footprints(dfo: pd.DataFrame, grid: xr.Dataset, years: range | list[int], seed: int) -> xr.DataArray:
    """Return period of each cell's largest flood per observed year, from the DFO record.

    Each DFO event covers a disc of its reported area around its centroid (great-circle distance); a cell takes
    the largest return period of the events covering it that year. DFO lists only large floods (recurrence
    of 10 years or more), so in the other years a **flood-prone** cell (one any event of the record covered)
    still has an annual maximum flood, below the 10-year flood: its non-exceedance probability is drawn
    uniformly below 0.9 (the exact conditional distribution), seeded per observed year and cell, so the same
    observed year always carries the same small floods. Cells no event of the record covered get 1 (no
    river flooding on record).

    Parameters
    ----------
    dfo : pandas.DataFrame
        DFO archive (``long, lat, Area`` [km2], ``Began, Ended, Severity``).
    grid : xr.Dataset
        Analysis grid.
    years : sequence of int
        Observed years.
    seed : int
        Run seed (the small floods of non-event years).

    Returns
    -------
    xr.DataArray, [yr], dims (obs_year, lat, lon)
    """
    ev = _dfo_return_periods(dfo)
    lat = np.deg2rad(grid["lat"].values)[:, None]
    lon = np.deg2rad(grid["lon"].values)[None, :]
    out = np.zeros((len(years), lat.shape[0], lon.shape[1]))
    pad = 10.0
    near = ev[(ev["lat"] > float(grid.lat.min()) - pad) & (ev["lat"] < float(grid.lat.max()) + pad)
              & (ev["long"] > float(grid.lon.min()) - pad) & (ev["long"] < float(grid.lon.max()) + pad)]
    yi = {int(y): i for i, y in enumerate(years)}
    for _, e in near.iterrows():
        i = yi.get(int(e["year"]))
        if i is None:
            continue
        r = np.sqrt(float(e["Area"]) / np.pi) / 6371.0
        la, lo = np.deg2rad(float(e["lat"])), np.deg2rad(float(e["long"]))
        d = 2 * np.arcsin(np.sqrt(np.sin((lat - la) / 2) ** 2 + np.cos(lat) * np.cos(la) * np.sin((lon - lo) / 2) ** 2))
        out[i] = np.where(d <= r, np.maximum(out[i], float(e["return_period"])), out[i])
    prone = (out > 0).any(axis=0)
    for i, y in enumerate(years):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), stable_key("flood-background"), int(y)]))
        small = 1.0 / (1.0 - rng.uniform(0.0, 0.9, size=prone.shape))
        out[i] = np.where(out[i] > 0, out[i], np.where(prone, small, 1.0))
    return xr.DataArray(out, dims=("obs_year", "lat", "lon"),
                        coords={"obs_year": list(years), "lat": grid["lat"].values, "lon": grid["lon"].values},
                        attrs={"units": "yr", "long_name": "return period of the year's largest flood"})


def flood_layer(catalog: Any, grid: xr.Dataset, drivers: ClimateDrivers, params: dict[str, Any]) -> xr.DataArray:
    """Return period (today's climate) of each cell's largest flood per year, shifted by AR6's Q100 change.

    Parameters
    ----------
    catalog, grid, drivers
        As in :func:`drought_layer` (entry ``floods`` default ``dfo_flood_archive``).
    params : dict
        ``flood_cv`` (0.7: coefficient of variation of annual maximum discharge, typical of semi-arid East
        African rivers), entry-id overrides.

    Returns
    -------
    xr.DataArray, [yr], dims (scenario, climate_model, year, lat, lon)
    """
    cv = float(params.get("flood_cv", 0.7))
    dfo = catalog.open(str(params.get("floods", "dfo_flood_archive")))
    record = list(range(1985, 2020))
    seed = drivers.seed
    drivers, pos, drawn = _pool_drivers(record, drivers, "flood")
    cells, idx, lv = _regional(grid, catalog, params, drivers, "Q100", "Q100 (African regions only)")
    ratio = _np(ar6.at_warming(lv, drivers.warming, drivers.position)
                / ar6.at_warming(lv, xr.DataArray(drivers.baseline_gwl), drivers.position),
                "scenario", "climate_model", "year", "region")

    def prepare() -> dict[str, np.ndarray]:
        return {"obs": flood_footprints(dfo, grid, record, seed).values[pos]}

    def block(prep: dict[str, np.ndarray], i: int, j: int) -> np.ndarray:
        r = _on_cells(ratio[i, j], idx)
        rp = np.asarray(gumbel_return_period(prep["obs"], r, cv))
        return np.where(np.isnan(r), np.nan, rp)

    rp = _assemble(block, prepare, drivers, grid)
    out = _finish(rp, "flood_return_period", "yr",
                  "return period in the 1995-2014 climate of the cell's largest flood of the year",
                  f"DFO large floods 1985-2019 (resampled years, footprint discs, severity classes as return "
                  f"periods) shifted by AR6 ch. 12 CMIP6 Q100 change at each model's warming level (Gumbel, "
                  f"cv={cv})")
    out.attrs["climmig_observed_years"] = ",".join(str(int(y)) for y in drawn)
    return out


# ------------------------------------------------------------------------------------------------- crop
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
