"""Why scenarios differ: the same futures with one scenario's population and income."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from climmig.displacement.model import predict_displacement
from climmig.displacement.simulate import simulate_displacement
from climmig.errors import DataError
from climmig.projection.attribution import scenario_attribution, with_reference_society

from ..mobility.test_displacement import _drivers, _fake_idata

YEARS = [2040, 2041, 2042]


@pytest.fixture
def fit_and_drivers(rng):
    inputs, _ = simulate_displacement(rng, n_countries=12, n_years=6, hazards=("flood", "storm"), n_regions=3,
                                      return_truth=True)
    idata, _ = _fake_idata(inputs, rng)
    d = _drivers(inputs, ["C00", "C01", "C02"], YEARS)
    # attrs as the exposure stage writes them
    d["population"].attrs = {"units": "1", "long_name": "people", "cell_methods": "area: sum"}
    d["gdp_per_capita"].attrs = {"units": "USD", "currency": "USD", "price_year": 2005}
    return idata, d


def test_reference_society_takes_people_and_income_only(fit_and_drivers):
    _, d = fit_and_drivers
    out = with_reference_society(d, "ssp126")
    for v in ("population", "gdp_per_capita"):
        assert out[v].dims == d[v].dims
        for sc in ("ssp126", "ssp585"):
            xr.testing.assert_equal(out[v].sel(scenario=sc, drop=True), d[v].sel(scenario="ssp126", drop=True))
    xr.testing.assert_identical(out["exposure_ratio"], d["exposure_ratio"])
    assert out.attrs["climmig_reference_society"] == "ssp126"
    with pytest.raises(DataError, match="ssp245"):
        with_reference_society(d, "ssp245")
    with pytest.raises(DataError, match="no scenario dim"):
        with_reference_society(d, "ssp126", variables=("agricultural_share",))


@pytest.mark.slow
def test_attribution_shares_the_futures_and_isolates_the_society(fit_and_drivers):
    idata, d = fit_and_drivers
    kw = {"samples": 12, "seed": 4, "years": YEARS[1:]}
    att = scenario_attribution(idata, d, reference="ssp585", **kw)
    assert att["projected"].dims == ("sample", "scenario", "climate_model")
    # the reference scenario is itself in both variants (same draws: common random numbers)
    xr.testing.assert_allclose(att["projected"].sel(scenario="ssp585"), att["reference_society"].sel(scenario="ssp585"))
    # the projected variant is the projection (summed over regions and hazards, averaged over the years)
    full = predict_displacement(idata, d, samples=12, seed=4)["displaced_persons"]
    np.testing.assert_allclose(att["projected"].values,
                               full.sel(year=YEARS[1:]).sum(("region", "hazard")).mean("year").values)
    # passing the projection's own draws gives the same result
    again = scenario_attribution(idata, d, reference="ssp585", projected=full, **kw)
    xr.testing.assert_allclose(again, att)
    # with the same climate in every scenario, the reference society leaves nothing between scenarios
    same = d.assign(exposure_ratio=d["exposure_ratio"].sel(scenario="ssp585", drop=True)
                    .broadcast_like(d["exposure_ratio"]).transpose(*d["exposure_ratio"].dims))
    e = scenario_attribution(idata, same, reference="ssp585", variable="expected_displacement", **kw)
    xr.testing.assert_allclose(e["reference_society"].sel(scenario="ssp126", drop=True),
                               e["reference_society"].sel(scenario="ssp585", drop=True))
    assert not np.allclose(e["projected"].sel(scenario="ssp126"), e["projected"].sel(scenario="ssp585"))
    # population and income of the study area per scenario
    pop = d["population"].sel(year=YEARS[1:]).sum("region").mean("year")
    xr.testing.assert_allclose(att["population"], pop.assign_attrs(att["population"].attrs))
    assert att.attrs["climmig_reference_society"] == "ssp585"
    # a population-weighted mean: population's "area: sum" must not ride along on the arithmetic
    assert "cell_methods" not in att["gdp_per_capita"].attrs
    assert att["gdp_per_capita"].attrs["long_name"] == "GDP per capita (population-weighted)"


@pytest.mark.slow
def test_change_attribution_parts_add_up_and_isolate_each_driver(fit_and_drivers):
    from climmig.projection.attribution import change_attribution

    idata, d = fit_and_drivers
    kw = {"samples": 10, "seed": 3, "today": YEARS[0], "years": YEARS[1:]}
    att = change_attribution(idata, d, **kw)
    lv, part = att["level"], att["part"]
    assert list(lv["step"].values) == ["today", "+population", "+vulnerability", "+climate"]
    # the parts add up to the change from today to the full projection
    xr.testing.assert_allclose(part.sum("component"), lv.sel(step="+climate") - lv.sel(step="today"))
    # the full step is the projection's expected rate
    full = predict_displacement(idata, d.sel(year=YEARS), samples=10, seed=3)["expected_displacement"]
    np.testing.assert_allclose(lv.sel(step="+climate").values,
                               full.sel(year=YEARS[1:]).sum(("region", "hazard")).mean("year").values, rtol=1e-10)
    # drivers that do not change over time have no part: income and shares held, exposure at 1
    from climmig.projection.attribution import VULNERABILITY_DRIVERS

    held = {v: d[v].isel(year=0, drop=True).broadcast_like(d[v]).transpose(*d[v].dims)
            for v in VULNERABILITY_DRIVERS if v in d and "year" in d[v].dims}
    flat = d.assign({**held, "exposure_ratio": xr.ones_like(d["exposure_ratio"])})
    att2 = change_attribution(idata, flat, **kw)
    np.testing.assert_allclose(att2["part"].sel(component=["vulnerability", "climate"]).values, 0.0, atol=1e-6)
    # with vulnerability held, only population and climate move
    xr.testing.assert_allclose(att2["vulnerability_held"], att2["level"].sel(step="+climate", drop=True))
    assert att.attrs["climmig_order"] == "population, vulnerability, climate"


def test_shares_on_trend_variant_moves_only_through_the_shares(fit_and_drivers):
    from climmig.projection.attribution import change_attribution, with_share_paths

    idata, d = fit_and_drivers
    kw = {"samples": 10, "seed": 3, "today": YEARS[0], "years": YEARS[1:]}
    regions = [str(r) for r in d["region"].values]
    # a path equal to the held shares: the variant is the full projection
    same = xr.Dataset({v: d[v].broadcast_like(d["population"].isel(scenario=0, climate_model=0, drop=True)
                                              if "climate_model" in d["population"].dims
                                              else d["population"].isel(scenario=0, drop=True))
                       for v in ("agricultural_share", "rural_share")})
    att = change_attribution(idata, d, share_paths=same, **kw)
    xr.testing.assert_allclose(att["shares_on_trend"], att["level"].sel(step="+climate", drop=True))
    # falling shares change the level, and only for the regions the path covers
    falling = same.copy()
    for v in falling.data_vars:
        falling[v] = falling[v] * xr.DataArray(np.linspace(1.0, 0.5, len(YEARS)), dims="year",
                                               coords={"year": YEARS})
    moved = with_share_paths(d, falling.sel(region=regions[:1]))
    assert moved["agricultural_share"].dims == d["population"].dims
    np.testing.assert_allclose(moved["agricultural_share"].sel(region=regions[0], year=YEARS[-1]),
                               0.5 * d["agricultural_share"].sel(region=regions[0]))
    np.testing.assert_allclose(moved["rural_share"].sel(region=regions[1:]),
                               d["rural_share"].sel(region=regions[1:]).broadcast_like(
                                   moved["rural_share"].sel(region=regions[1:])))
    att2 = change_attribution(idata, d, share_paths=falling, **kw)
    assert not np.allclose(att2["shares_on_trend"], att2["level"].sel(step="+climate", drop=True))
