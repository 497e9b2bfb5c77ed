"""Tiny synthetic drivers and a simple outcome function for intervention tests."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from climmig.interventions import ProjectionState
from climmig.projection import expected_negbin, sample_negbin

YEARS = list(range(2025, 2036))
REGIONS = ["SOM", "KEN", "ETH"]
SCEN = ["ssp126", "ssp585"]
MODELS = ["GFDL-ESM4", "UKESM1-0-LL"]
HAZARDS = ["flood", "storm", "drought", "heat"]
ER_HAZARDS = ["flood", "storm", "drought"]
N = 40


def make_drivers(rng: np.random.Generator) -> xr.Dataset:
    """Drivers as merged by the pipeline: one `hazard` dim, NaN where a hazard has no such variable."""
    ny, nr = len(YEARS), len(REGIONS)
    dims = ("hazard", "scenario", "climate_model", "year", "region")
    coords = {"hazard": HAZARDS, "scenario": SCEN, "climate_model": MODELS, "year": YEARS, "region": REGIONS}
    trend = np.linspace(1.0, 1.6, ny)[None, None, :, None]
    scen_f = np.array([0.8, 1.3])[:, None, None, None]
    model_f = rng.uniform(0.8, 1.2, (1, 2, 1, nr))
    er = np.full((4, 2, 2, ny, nr), np.nan)
    er[0] = scen_f * trend * model_f
    er[1] = 1.0
    er[2] = scen_f * np.sqrt(trend) * np.ones((1, 2, 1, nr))
    pop = np.array([15e6, 50e6, 110e6])[None, None, :] * np.linspace(1, 1.2, ny)[None, :, None] * np.ones((2, 1, 1))
    exposed = np.full_like(er, np.nan)
    exposed[0] = 0.05 * er[0] * pop[:, None]
    exposed[3] = 0.1 * (scen_f * trend * model_f) * pop[:, None]
    depth = np.full_like(er, np.nan)
    depth[0] = 0.06 * er[0]
    depth[3] = 20 * scen_f * trend * np.ones((1, 2, 1, nr))
    ag = np.array([0.6, 0.5, 0.7])
    return xr.Dataset(
        {
            "exposure_ratio": (dims, er, {"units": "1", "long_name": "exposure relative to baseline"}),
            "population": (("scenario", "year", "region"), pop, {"units": "1", "long_name": "people"}),
            "gdp_per_capita": (("scenario", "year", "region"),
                               np.array([500.0, 2000.0, 1000.0])[None, None, :] * np.ones((2, ny, 1)),
                               {"units": "USD", "long_name": "GDP per capita"}),
            "agricultural_share": (("region",), ag, {"units": "1"}),
            "rural_share": (("region",), np.array([0.55, 0.7, 0.8]), {"units": "1"}),
            "exposed_population": (dims, exposed, {"units": "1", "long_name": "exposed people"}),
            "livelihood_weighted_exposure": (dims, exposed * ag, {"units": "1"}),
            "hazard_intensity": (dims, depth, {"units": "indicator units"}),
        },
        coords=coords,
    )


@pytest.fixture
def drivers(rng) -> xr.Dataset:
    return make_drivers(rng)


def make_regimes() -> xr.DataArray:
    data = np.full((len(YEARS), 3, 3), "unilateral", dtype=object)
    return xr.DataArray(data, dims=("year", "origin", "destination"),
                        coords={"year": YEARS, "origin": REGIONS, "destination": REGIONS}, name="regime")


@pytest.fixture
def regimes() -> xr.DataArray:
    return make_regimes()


FRICTION = {"unilateral": 1.0, "bilateral": 1.3, "regional": 1.8, "multilateral": 2.0}


def make_outcome_fn(rng: np.random.Generator, noise: bool = True, seed: int = 99):
    """Displacement (negative binomial, docs/interfaces.md section 2) and toy migration, fixed draws."""
    s = {"sample": np.arange(N)}
    a = xr.DataArray(rng.normal(-7.0, 0.2, N), dims="sample", coords=s)
    b = xr.DataArray(rng.normal(1.0, 0.1, N), dims="sample", coords=s)
    c = xr.DataArray(rng.normal(-0.3, 0.05, N), dims="sample", coords=s)
    alpha = xr.DataArray(rng.uniform(2, 4, N), dims="sample", coords=s)

    def outcome_fn(state: ProjectionState) -> xr.Dataset:
        d = state.drivers
        gdp = d["gdp_per_capita"] / d["gdp_per_capita"].isel(year=0)
        er = d["exposure_ratio"].sel(hazard=ER_HAZARDS)
        mu = expected_negbin(a, b, er, d["population"], state.rate_multiplier) * gdp**c
        mu = mu.transpose("sample", "scenario", "climate_model", "year", "region", "hazard")
        disp = sample_negbin(mu, alpha, seed, method="inversion") if noise else mu
        factor = xr.apply_ufunc(np.vectorize(lambda r: FRICTION[r], otypes=[float]), state.regimes)
        open_share = factor.mean("destination").rename(origin="region")
        lwe = d["livelihood_weighted_exposure"].sum("hazard")
        cross = (1e-3 * lwe * open_share * np.exp(b - 1.0)).transpose("sample", ...)
        internal = (5e-3 * lwe * np.exp(b - 1.0)).transpose("sample", ...)
        for v in (disp, cross, internal):
            v.attrs["units"] = "1"
        return xr.Dataset({"displaced_persons": disp, "cross_border_migration": cross,
                           "internal_migration": internal})

    return outcome_fn


@pytest.fixture
def outcome_fn(rng):
    return make_outcome_fn(rng)


@pytest.fixture
def expected_fn(rng):
    return make_outcome_fn(rng, noise=False)


@pytest.fixture
def state(drivers, regimes) -> ProjectionState:
    return ProjectionState.baseline(drivers, N, regimes=regimes, hazards=ER_HAZARDS)
