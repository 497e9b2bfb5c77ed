"""Warming of each climate model since the run's baseline year (from its own CMIP6 trajectory).

The trajectories come from :mod:`climmig.hazards.cmip6_warming` (AR6 conventions: 1850-1900 reference,
20-year means). The warming-level emulator (the documented fallback for places without hazard data) and
the scenario-file reader use the change since the baseline year.
"""

from __future__ import annotations

import xarray as xr

__all__ = ["warming_since_baseline"]


def warming_since_baseline(warming: xr.DataArray, baseline_year: int) -> xr.DataArray:
    """Warming of each model since the baseline year.

    Parameters
    ----------
    warming : xr.DataArray, [K]
        Smoothed warming since 1850-1900, dims (scenario, climate_model, year), covering ``baseline_year``
        (:func:`climmig.hazards.cmip6_warming.warming_trajectories`).
    baseline_year : int
        Present-climate year (warming 0 there).

    Returns
    -------
    xr.DataArray, [K], dims (scenario, climate_model, year)
    """
    if baseline_year not in set(int(y) for y in warming["year"].values):
        raise ValueError(f"the warming trajectories do not cover the baseline year {baseline_year}")
    out = (warming - warming.sel(year=baseline_year, drop=True)).transpose("scenario", "climate_model", "year")
    out.attrs = {"units": "K", "long_name": f"global warming since {baseline_year} (20-year means, per model)"}
    return out
