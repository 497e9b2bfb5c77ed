"""The warming-level flood layer: DFO flood footprints as return periods, shifted by AR6's Q100 change."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.hazards import ar6
from climmig.hazards.emulator import stable_key
from climmig.hazards.warming_level_drivers import ClimateDrivers, _pool_drivers
from climmig.hazards.warming_level_grid import _assemble, _finish, _np, _on_cells, _regional

__all__ = ["DFO_CLASS_RETURN_PERIODS", "flood_footprints", "flood_layer", "gumbel_return_period"]


#: DFO severity class -> recurrence interval bounds, years (DFO archive notes).
DFO_CLASS_RETURN_PERIODS = {1.0: (10.0, 20.0), 1.5: (20.0, 100.0), 2.0: (100.0, 300.0)}


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
