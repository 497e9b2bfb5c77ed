"""IDMC's monitoring in the displacement model: unmonitored hazard-years and today's reporting level."""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr

from climmig.displacement.model import (
    REPORTING_YEARS,
    build_displacement_model,
    predict_displacement,
    prepare_inputs,
)
from climmig.mobility.priors import resolve_priors


def _table(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """6 countries x 2010-2019 x flood/drought; drought recorded nowhere before 2014; country F has no
    covariates (outside the fit) but is the only one with a drought record in 2014."""
    countries, years = list("ABCDEF"), list(range(2010, 2020))
    rows = []
    for c in countries:
        for y in years:
            rows.append({"iso3": c, "year": y, "hazard": "flood",
                         "displacements": float(rng.integers(0, 2) * 1000 + (c == "A") * 10)})
            drought = (5000.0 if (y, c) == (2014, "F") else 0.0 if y <= 2014
                       else float(rng.integers(0, 2) * 5000))
            rows.append({"iso3": c, "year": y, "hazard": "drought", "displacements": drought})
    obs = pd.DataFrame(rows)
    obs["status"] = np.where(obs["displacements"] > 0, "reported", "no_event")
    idx = pd.MultiIndex.from_product([countries[:-1], years], names=["iso3", "year"])
    cov = pd.DataFrame({"population": rng.uniform(1e6, 1e8, len(idx)),
                        "gdp_per_capita": rng.uniform(500, 40_000, len(idx)),
                        "agricultural_share": rng.uniform(0.05, 0.7, len(idx)),
                        "rural_share": rng.uniform(0.1, 0.9, len(idx)),
                        "world_region": "R1"}, index=idx)
    return obs, cov


def test_monitored_hazard_years_come_from_the_whole_table(rng) -> None:
    obs, cov = _table(rng)
    inputs = prepare_inputs(obs, cov, hazards=["flood", "drought"])
    assert "F" not in inputs.coords["country"]
    mask = inputs.monitored_mask()
    j = inputs.coords["hazard"].index("drought")
    years = inputs.coords["year"]
    # 2014 counts as monitored through F, a country outside the fit
    assert [y for y, m in zip(years, mask[:, j], strict=True) if m][0] == 2014
    assert not mask[: years.index(2014), j].any()
    assert mask[:, inputs.coords["hazard"].index("flood")].all()
    assert inputs.reporting_years()["drought"] == list(range(2015, 2020))
    assert len(inputs.reporting_years()["flood"]) == REPORTING_YEARS
    attrs = inputs.attrs()
    assert json.loads(attrs["climmig_monitored_years"])["drought"] == list(range(2014, 2020))


def test_a_hazard_never_monitored_in_the_calibration_years_is_a_clear_error(rng) -> None:
    from climmig.errors import DataError

    obs, cov = _table(rng)
    with pytest.raises(DataError, match=r"no drought displacement anywhere in 2010-2013.*mobility\.displacement"):
        prepare_inputs(obs, cov, hazards=["flood", "drought"], years=range(2010, 2014))
    # without drought the same years fit
    assert prepare_inputs(obs, cov, hazards=["flood"], years=range(2010, 2014)).coords["hazard"] == ["flood"]


@pytest.fixture(scope="module")
def fake_fit():
    """A posterior-shaped InferenceData drawn from the prior of the model on the table above."""
    obs, cov = _table(np.random.default_rng(11))
    inputs = prepare_inputs(obs, cov, hazards=["flood", "drought"])
    model = build_displacement_model(inputs, resolve_priors())
    with model:
        prior = pm.sample_prior_predictive(draws=40, random_seed=3,
                                           compile_kwargs={"mode": "FAST_COMPILE"}).prior
    post = prior.assign_attrs(**inputs.attrs())
    return inputs, az.InferenceData(posterior=post)


def _drivers(regions: list[str], years: list[int]) -> xr.Dataset:
    shape = (1, len(years), len(regions))
    coords = {"scenario": ["s"], "year": years, "region": regions}
    return xr.Dataset({
        "population": (("scenario", "year", "region"), np.full(shape, 2e7)),
        "gdp_per_capita": (("scenario", "year", "region"), np.full(shape, 3000.0)),
        "agricultural_share": ("region", np.full(len(regions), 0.3)),
        "rural_share": ("region", np.full(len(regions), 0.6)),
    }, coords=coords)


def test_unmonitored_calibration_years_predict_no_record_and_later_years_hold_todays_level(fake_fit) -> None:
    inputs, idata = fake_fit
    out = predict_displacement(idata, _drivers(["A", "B"], [2012, 2018, 2030, 2031]), samples=40, seed=0)
    d = out["expected_displacement"].sel(hazard="drought")
    assert float(d.sel(year=2012).max()) == 0.0  # drought not monitored in 2012
    assert float(d.sel(year=2018).min()) > 0.0
    assert float(out["displaced_persons"].sel(hazard="drought", year=2012).max()) == 0.0
    # in calibration years the fitted level (trend + deviation); later years centre on the mean of the last
    # five monitored years
    post = idata.posterior.stack(sample=("chain", "draw"))
    pick = np.sort(np.random.default_rng(0).choice(post.sizes["sample"], 40, replace=False))
    p = post.isel(sample=pick)
    ys = inputs.year_scaling()
    years = np.asarray(inputs.coords["year"], float)
    fitted = (p["occ_year_trend"] * xr.DataArray((years - ys["mean"]) / ys["sd"], dims="year",
                                                 coords={"year": inputs.coords["year"]})
              + p["occ_year_effect"]).transpose("sample", "year", "hazard")
    rep = out["reporting_level"]
    np.testing.assert_allclose(rep.sel(year=2018).values, fitted.sel(year=2018).values)
    for h, yrs in inputs.reporting_years().items():
        level = fitted.sel(hazard=h, year=yrs).mean("year").values
        z = (rep.sel(hazard=h, year=[2030, 2031]).values - level[:, None]) / p["occ_sigma_year"].sel(
            hazard=h).values[:, None]
        # fresh standard-normal deviations around today's level, not the trend's extrapolation
        assert abs(z.mean()) < 0.5 and 0.6 < z.std() < 1.4
