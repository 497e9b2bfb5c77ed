"""Between/within (Mundlak) decomposition of the displacement covariates: inputs, prediction, reporting."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climmig.displacement.model import (
    COVARIATE_NAMES,
    income_coefficients,
    mundlak_parts,
    predict_displacement,
    prepare_inputs,
)
from climmig.displacement.simulate import simulate_displacement
from climmig.errors import ConfigError
from climmig.mobility.priors import DEFAULT_DISPLACEMENT_PRIORS, resolve_priors


def _panel(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Observations and covariates of 5 countries x 6 years x 2 hazards; country E lacks two years."""
    countries, years = list("ABCDE"), list(range(2010, 2016))
    idx = pd.MultiIndex.from_product([countries, years], names=["iso3", "year"])
    n = len(idx)
    base = np.repeat(rng.uniform(500, 40_000, len(countries)), len(years))
    growth = np.tile(np.arange(len(years)), len(countries)) * np.repeat(rng.uniform(0.0, 0.08, len(countries)),
                                                                      len(years))
    cov = pd.DataFrame({"population": rng.uniform(1e6, 1e8, n), "gdp_per_capita": base * np.exp(growth),
                        "agricultural_share": rng.uniform(0.05, 0.7, n), "rural_share": rng.uniform(0.1, 0.9, n),
                        "world_region": np.repeat(["R1", "R1", "R2", "R2", "R2"], len(years))}, index=idx)
    rows = [{"iso3": c, "year": y, "hazard": h, "displacements": float(rng.integers(0, 3) * 1000),
             "status": "reported"} for c in countries for y in years for h in ("flood", "storm")
            if not (c == "E" and y in (2010, 2011))]
    obs = pd.DataFrame(rows)
    obs.loc[obs["displacements"] == 0, "status"] = "no_event"
    return obs, cov


def test_decomposition_between_constant_within_zero_mean_scaling_stored(rng) -> None:
    obs, cov = _panel(rng)
    inputs = prepare_inputs(obs, cov)
    between, within = inputs.between_within()
    ci, ti = inputs.country_idx, inputs.year_idx
    # the two parts add up to the standardised covariates
    np.testing.assert_allclose(between[ci] + within, inputs.covariates, atol=1e-12)
    # within parts average zero over each country's (observed) country-years; between parts are constant
    cy = pd.DataFrame(within).assign(c=ci, t=ti).drop_duplicates(["c", "t"])
    np.testing.assert_allclose(cy.groupby("c").mean()[list(range(3))].to_numpy(), 0.0, atol=1e-12)
    # E's mean is over its 4 observed years only
    e = inputs.coords["country"].index("E")
    log_gdp_e = np.log(cov.loc["E", "gdp_per_capita"].loc[2012:2015]).mean()
    s = inputs.scaling["gdp_per_capita"]
    assert between[e, 0] == pytest.approx((log_gdp_e - s["mean"]) / s["sd"])
    # within parts use the same sd as the between parts: (x - country mean) / sd
    o = np.flatnonzero((ci == e) & (ti == inputs.coords["year"].index(2013)))[0]
    assert within[o, 0] == pytest.approx((np.log(cov.loc[("E", 2013), "gdp_per_capita"]) - log_gdp_e) / s["sd"])
    # the fit stores the per-country means (transformed scale) and reuses the stored scaling in prediction
    means = json.loads(inputs.attrs()["climmig_covariate_country_means"])
    assert means["E"]["gdp_per_capita"] == pytest.approx(log_gdp_e)
    assert means["A"]["rural_share"] == pytest.approx(cov.loc["A", "rural_share"].mean())
    drivers = xr.Dataset({k: xr.DataArray.from_series(cov[k].rename_axis(["region", "year"]))
                          .transpose("year", "region") for k in COVARIATE_NAMES})
    b, w, new = mundlak_parts(drivers, inputs.scaling, means)
    assert new == []
    for k, name in enumerate(COVARIATE_NAMES):
        np.testing.assert_allclose(b[name].sel(region=inputs.coords["country"]).values, between[:, k], atol=1e-12)
        np.testing.assert_allclose(float(w[name].sel(region="E", year=2013)), within[o, k], atol=1e-12)
    # a country without a stored mean takes its first driver year as its between part
    b2, w2, new2 = mundlak_parts(drivers, inputs.scaling, {k: v for k, v in means.items() if k != "B"})
    assert new2 == ["B"]
    first = np.log(cov.loc[("B", 2010), "gdp_per_capita"])
    assert float(b2["gdp_per_capita"].sel(region="B")) == pytest.approx((first - s["mean"]) / s["sd"])
    assert float(w2["gdp_per_capita"].sel(region="B", year=2010)) == pytest.approx(0.0, abs=1e-12)


@pytest.fixture
def fit_and_inputs(rng):
    from tests.mobility.test_displacement import _fake_idata

    inputs = simulate_displacement(rng, n_countries=8, n_years=5, hazards=("flood", "storm"), n_regions=2)
    idata, _ = _fake_idata(inputs, rng)
    post = idata.posterior
    # no new year shocks or reporting deviations and no residual-scale hinge, so that only the covariates
    # move the rate over time
    post["sigma_year"] = xr.zeros_like(post["sigma_year"])
    post["occ_sigma_year"] = xr.zeros_like(post["occ_sigma_year"])
    post["sigma_obs_level"] = xr.zeros_like(post["sigma_obs_level"])
    return inputs, idata


def _growth_drivers(regions, gdp_path):
    years = [2030, 2060, 2090]
    gdp = xr.DataArray(np.outer(gdp_path, np.ones(len(regions))), dims=("year", "region"),
                       coords={"year": years, "region": regions})
    return xr.Dataset({"population": xr.full_like(gdp, 5e7), "gdp_per_capita": gdp,
                       "agricultural_share": xr.DataArray(np.full(len(regions), 0.3), dims="region",
                                                          coords={"region": regions}),
                       "rural_share": xr.DataArray(np.full(len(regions), 0.5), dims="region",
                                                   coords={"region": regions})})


@pytest.mark.parametrize("region", ["C01", "NEW"])
def test_growth_acts_through_the_within_slope_only(fit_and_inputs, region) -> None:
    """A hand-built posterior with within = 0 and between != 0: GDP per head growing 50x leaves projected
    displacement unchanged; with a within slope it changes by exactly exp(beta_within * d log GDP / sd)."""
    inputs, idata = fit_and_inputs
    post = idata.posterior
    post["beta_between"] = xr.full_like(post["beta_between"], -1.5)
    post["occ_beta_between"] = xr.full_like(post["occ_beta_between"], -1.0)
    post["beta_within"] = xr.zeros_like(post["beta_within"])
    post["occ_beta_within"] = xr.zeros_like(post["occ_beta_within"])
    # the simulation's scaling is the identity, so "gdp_per_capita" is the standardised log scale itself
    path = np.array([0.0, 2.0, 3.9])  # +3.9 sd, i.e. x50 for a log-GDP sd of 1
    drivers = _growth_drivers([region], path)
    flat = predict_displacement(idata, drivers, samples=20, seed=4)["expected_displacement"]
    ed = flat.isel(scenario=0, climate_model=0, region=0)
    np.testing.assert_allclose(ed.isel(year=2).values, ed.isel(year=0).values, rtol=1e-10)
    np.testing.assert_allclose(ed.isel(year=1).values, ed.isel(year=0).values, rtol=1e-10)
    # the between slope does act (on the stored mean or, for a new country, its first driver year): a
    # different level of the same path changes the level
    higher = predict_displacement(idata, _growth_drivers([region], path + 1.0), samples=20, seed=4)
    if region == "NEW":
        assert not np.allclose(higher["expected_displacement"].values, flat.values)
    else:  # a fitted country's between part is its stored calibration mean, whatever the drivers' level
        np.testing.assert_allclose(higher["expected_displacement"].values, flat.values, rtol=1e-10)

    # now a within slope on the size part only: the change over time is exp(beta_within * d x)
    post["beta_within"] = xr.full_like(post["beta_within"], 0.0)
    post["beta_within"].loc[{"covariate": "gdp_per_capita"}] = -0.4
    moving = predict_displacement(idata, drivers, samples=20, seed=4)["expected_displacement"]
    mv = moving.isel(scenario=0, climate_model=0, region=0)
    np.testing.assert_allclose((mv.isel(year=2) / mv.isel(year=0)).values, np.exp(-0.4 * 3.9), rtol=1e-10)
    # and one on the occurrence part moves it too
    post["occ_beta_within"].loc[{"covariate": "gdp_per_capita"}] = 0.7
    occ = predict_displacement(idata, drivers, samples=20, seed=4)["expected_displacement"]
    assert not np.allclose(occ.isel(year=2).values, moving.isel(year=2).values)


def test_fitted_country_between_part_is_its_stored_mean(fit_and_inputs) -> None:
    """For a fitted country the drivers' level does not re-enter through the between slope: only the deviation
    from the stored calibration mean (times the within slope) does."""
    inputs, idata = fit_and_inputs
    post = idata.posterior
    post["beta_within"] = xr.zeros_like(post["beta_within"])
    post["occ_beta_within"] = xr.zeros_like(post["occ_beta_within"])
    region = inputs.coords["country"][1]
    a = predict_displacement(idata, _growth_drivers([region], np.array([0.0, 1.0, 2.0])), samples=10, seed=1)
    b = predict_displacement(idata, _growth_drivers([region], np.array([5.0, 6.0, 7.0])), samples=10, seed=1)
    np.testing.assert_allclose(a["expected_displacement"].values, b["expected_displacement"].values, rtol=1e-10)
    # with the between slope doubled the level changes (the stored mean is not zero)
    post["beta_between"] = post["beta_between"] * 2.0
    c = predict_displacement(idata, _growth_drivers([region], np.array([0.0, 1.0, 2.0])), samples=10, seed=1)
    assert not np.allclose(c["expected_displacement"].values, a["expected_displacement"].values)


def test_income_coefficients_table(fit_and_inputs) -> None:
    _, idata = fit_and_inputs
    post = idata.posterior
    tab = income_coefficients(idata)
    assert len(tab) == 2 * len(COVARIATE_NAMES) * post.sizes["hazard"]
    row = tab[(tab["covariate"] == "gdp_per_capita") & (tab["hazard"] == "storm") & (tab["part"] == "occurrence")]
    draws_b = post["occ_beta_between"].sel(covariate="gdp_per_capita", hazard="storm").values.ravel()
    draws_w = post["occ_beta_within"].sel(covariate="gdp_per_capita", hazard="storm").values.ravel()
    assert float(row["between_mean"].iloc[0]) == pytest.approx(draws_b.mean())
    assert float(row["within_sd"].iloc[0]) == pytest.approx(draws_w.std())
    assert float(row["p_within_below_between"].iloc[0]) == pytest.approx((draws_w < draws_b).mean())
    assert set(tab["part"]) == {"size", "occurrence"}
    # the fitted spread of each part, and NaN for a fit without one
    for part, prefix in (("size", "beta"), ("occurrence", "occ_beta")):
        want = float(post[f"{prefix}_within_spread"].mean())
        np.testing.assert_allclose(tab.loc[tab["part"] == part, "within_spread"], want)
    del idata.posterior["occ_beta_within_spread"]
    tab = income_coefficients(idata)
    assert tab.loc[tab["part"] == "occurrence", "within_spread"].isna().all()
    assert tab.loc[tab["part"] == "size", "within_spread"].notna().all()


def test_within_slopes_are_pooled_to_between_and_old_beta_name_is_refused(rng) -> None:
    from climmig.config.schema import DistSpec
    from climmig.displacement.model import build_displacement_model

    w = DEFAULT_DISPLACEMENT_PRIORS["beta_within_spread"]
    assert w.dist == "HalfNormal" and "beta_within" not in DEFAULT_DISPLACEMENT_PRIORS
    with pytest.raises(ConfigError, match="beta_between"):
        resolve_priors({"beta": DEFAULT_DISPLACEMENT_PRIORS["beta_between"]})
    # a fixed spread of 0 makes the within slopes equal to the between slopes (the cross-section over time)
    inputs = simulate_displacement(rng, n_countries=6, n_years=4, hazards=("flood",), n_regions=2)
    pri = resolve_priors({"beta_within_spread": DistSpec(dist="Fixed", params={"value": 0.0})})
    model = build_displacement_model(inputs, pri)
    point = model.initial_point(random_seed=1)
    point["beta_between"] = np.array([[0.3], [-0.2], [0.1]])
    point["beta_within_offset"] = np.array([[1.0], [2.0], [-1.0]])
    outs = model.replace_rvs_by_values([model["beta_within"], model["occ_beta_within"], model["occ_beta_between"]])
    f = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    bw, obw, obb = f(point)
    np.testing.assert_allclose(bw, point["beta_between"])
    np.testing.assert_allclose(obw, obb)


def test_old_fit_without_decomposition_is_refused(fit_and_inputs) -> None:
    from climmig.errors import DataError

    _, idata = fit_and_inputs
    del idata.posterior.attrs["climmig_covariate_country_means"]
    with pytest.raises(DataError, match="refit"):
        predict_displacement(idata, _growth_drivers(["C01"], np.zeros(3)), samples=5, seed=1)
