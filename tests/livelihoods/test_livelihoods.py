"""Livelihood layers: SSP interpolation, WDI covariates, prioritised population inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climmig.catalog import load_catalog
from climmig.errors import DataError
from climmig.grid import make_grid
from climmig.livelihoods import population_weights, rural_share, ssp_family, ssp_series, wdi_share

from ..conftest import CATALOG


def test_ssp_series_interpolates_between_five_year_steps() -> None:
    table = pd.DataFrame({"model": ["M", "M"], "scenario": ["SSP2", "SSP5"], "iso3": ["AAA", "AAA"],
                          "2020": [10.0, 10.0], "2025": [20.0, 30.0]})
    out = ssp_series(table, "M", ["ssp245", "ssp585"], ["AAA"], [2020, 2022, 2025], scale=1e6)
    np.testing.assert_allclose(out.sel(scenario="ssp245", region="AAA").values, [10e6, 14e6, 20e6])
    np.testing.assert_allclose(out.sel(scenario="ssp585", year=2022).values, [18e6])
    with pytest.raises(DataError, match="no SSP2 projection for BBB"):
        ssp_series(table, "M", ["ssp245"], ["BBB"], [2020])
    assert ssp_family("ssp370") == "SSP3"


def test_wdi_covariates_for_the_demo_countries() -> None:
    cat = load_catalog(CATALOG)
    countries = ["SOM", "ETH", "KEN", "DJI"]
    agri = wdi_share(cat.open("wdi_agri_employment"), countries, "agri", "WDI")
    assert bool(((agri > 0) & (agri < 1)).all()) and agri.attrs["units"] == "1"
    rural = rural_share(cat.open("wdi_rural_share"), cat.open("wdi_population"), countries)
    assert bool(((rural > 0.1) & (rural < 0.95)).all())
    assert float(rural.sel(region="ETH")) > float(rural.sel(region="DJI"))  # Djibouti is mostly urban


def test_population_inputs_used_in_priority_order(assert_lazy) -> None:
    grid = make_grid(0, 0, 2, 1, 0.5)
    # two regions: west half A, east half B
    frac = np.zeros((2, 2, 4))
    frac[0, :, :2] = 1
    frac[1, :, 2:] = 1
    fractions = xr.DataArray(frac, dims=("region", "lat", "lon"),
                             coords={"region": ["A", "B"], "lat": grid.lat.values, "lon": grid.lon.values})
    lat_f, lon_f = 0.125 + 0.25 * np.arange(4), 0.125 + 0.25 * np.arange(8)
    fine = np.full((4, 8), 1.0)
    fine[:, 4:] = np.nan  # the fine grid covers region A only
    fine_da = xr.DataArray(fine, dims=("lat", "lon"), coords={"lat": lat_f, "lon": lon_f}).chunk()
    coarse_da = xr.DataArray(np.full((2, 2), 100.0), dims=("lat", "lon"),
                             coords={"lat": [0.5, 1.5], "lon": [0.5, 1.5]}).chunk()  # row 1 lies outside the grid
    with assert_lazy():
        w, src = population_weights([fine_da, coarse_da], fractions, grid)
    assert list(src.values) == [0, 1]
    totals = w.sum(("lat", "lon")).values
    np.testing.assert_allclose(totals, [16.0, 100.0])
