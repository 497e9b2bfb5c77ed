"""Global warming trajectories per SSP (IPCC AR6) and their spread across climate models (ECS).

References
----------
IPCC (2021) AR6 WGI Summary for Policymakers, Table SPM.1 (assessed warming 2021-2040, 2041-2060,
2081-2100 relative to 1850-1900) and A.1.2 (1.09 degC in 2011-2020). Meehl et al. (2020) Sci. Adv. 6,
eaba1981 (ECS of CMIP6 models). Forster et al. (2021) AR6 WGI ch. 7 (ECS best estimate 3 degC).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from climmig import registry

__all__ = ["AR6_ECS_BEST", "OBSERVED_2011_2020", "global_warming", "warming_since_baseline"]

#: AR6 best estimate of the equilibrium climate sensitivity, K.
AR6_ECS_BEST = 3.0
#: AR6 observed warming 2011-2020 relative to 1850-1900, degC (anchored at 2015.5).
OBSERVED_2011_2020 = 1.09

_PERIODS = {"warming_2021_2040": 2030.5, "warming_2041_2060": 2050.5, "warming_2081_2100": 2090.5}


def global_warming(scenarios: list[str], years: list[int] | np.ndarray) -> xr.DataArray:
    """Global surface warming per scenario and year, linearly interpolated between AR6 period means.

    Parameters
    ----------
    scenarios : list of str
        Registry scenario names (e.g. ``ssp245``).
    years : list of int
        Years.

    Returns
    -------
    xr.DataArray, [degC], dims (scenario, year)
        Relative to 1850-1900. Anchors: 1.09 at 2015.5 (observed 2011-2020) and the AR6 central
        estimates at the mid-points of 2021-2040, 2041-2060 and 2081-2100; constant beyond the last anchor.
    """
    reg = registry.scenarios()
    yrs = np.asarray(years, dtype=float)
    rows = []
    for s in scenarios:
        xs = [2015.5] + list(_PERIODS.values())
        ys = [OBSERVED_2011_2020] + [float(reg[s][k]) for k in _PERIODS]
        rows.append(np.interp(yrs, xs, ys))
    return xr.DataArray(np.array(rows), dims=("scenario", "year"),
                        coords={"scenario": list(scenarios), "year": np.asarray(years, dtype=int)},
                        attrs={"units": "degC", "long_name": "global surface warming relative to 1850-1900",
                               "references": "IPCC AR6 WGI SPM Table SPM.1 and A.1.2"})


def warming_since_baseline(scenarios: list[str], climate_models: list[str], years: list[int] | np.ndarray,
                           baseline_year: int) -> xr.DataArray:
    """Warming of each climate model since the baseline year.

    Parameters
    ----------
    scenarios, climate_models : list of str
        Registry names.
    years : list of int
        Years.
    baseline_year : int
        Present-climate year (warming 0 there).

    Returns
    -------
    xr.DataArray, [K], dims (scenario, climate_model, year)

    Notes
    -----
    :math:`\\Delta T_{s,m,y} = (G_s(y) - G_s(y_0)) \\, \\mathrm{ECS}_m / 3`: the AR6 assessed warming is the
    central estimate, and a model warms more or less in proportion to its equilibrium climate sensitivity
    relative to the AR6 best estimate (a simple pattern-free scaling; hot models such as UKESM1 are
    therefore above the assessed range, as they are in CMIP6).
    """
    g = global_warming(scenarios, years)
    g0 = global_warming(scenarios, [baseline_year]).isel(year=0, drop=True)
    ecs = xr.DataArray([float(registry.climate_models()[m]["ecs"]) for m in climate_models],
                       dims="climate_model", coords={"climate_model": list(climate_models)})
    out = (g - g0) * ecs / AR6_ECS_BEST
    out = out.transpose("scenario", "climate_model", "year")
    out.attrs = {"units": "K", "long_name": f"global warming since {baseline_year}, scaled by climate-model ECS",
                 "references": g.attrs["references"] + "; ECS from Meehl et al. 2020"}
    return out
