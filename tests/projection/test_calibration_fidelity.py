"""One driver construction: projections start from the calibration's own covariates (issue 30).

The projection's population and GDP per head are SSP paths anchored to the WDI record of the last calibration
year (:func:`climmig.livelihoods.anchor.anchor_to_record`), so projecting that year must reproduce the fitted
model's in-sample expected displacement.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from climmig.catalog import load_catalog
from climmig.config import load_config, parse_config
from climmig.exposure import build_exposure
from climmig.livelihoods.anchor import anchor_to_record
from climmig.mobility.covariates import load_covariates

from ..conftest import CATALOG

DEMO_COUNTRIES = ["DJI", "ETH", "KEN", "SOM"]


def test_anchor_keeps_growth_and_meets_the_record() -> None:
    years = [2020, 2022, 2030]
    proj = xr.DataArray(np.array([[[10.0, 20.0], [11.0, 22.0], [15.0, 40.0]],
                                  [[10.0, 20.0], [11.0, 22.0], [13.0, 30.0]]]),
                        dims=("scenario", "year", "region"),
                        coords={"scenario": ["a", "b"], "year": years, "region": ["X", "Y"]})
    out = anchor_to_record(proj, pd.Series({"X": 22.0, "Y": np.nan}), 2022, "people")
    np.testing.assert_allclose(out.sel(year=2022, region="X"), 22.0)
    np.testing.assert_allclose((out / proj).sel(region="X"), 2.0)  # growth rates unchanged
    np.testing.assert_allclose(out.sel(region="Y"), proj.sel(region="Y"))  # no record: unanchored
    assert json.loads(out.attrs["climmig_anchor_factors"]) == {"a/X": 2.0, "a/Y": 1.0, "b/X": 2.0, "b/Y": 1.0}
    with pytest.raises(ValueError, match="anchor year 2019"):
        anchor_to_record(proj, pd.Series({"X": 1.0}), 2019, "people")


@pytest.fixture(scope="module")
def anchor_exposure():
    """The demo's exposure with a projection that starts in the last calibration year (2022)."""
    data = yaml.safe_load((CATALOG.parents[1] / "configs" / "demo.yaml").read_text())
    data.update(catalog=str(CATALOG), scenarios=["ssp245", "ssp585"], climate_models=["MIROC6"],
                grid={"resolution": 1.0}, period={**data["period"], "projection": {"start": 2022, "end": 2024}},
                horizons=[{"name": "now", "start": 2022, "end": 2024}], interventions=[], portfolios=[],
                border_regimes=[])
    cfg = parse_config(data)
    return cfg, build_exposure(cfg, load_catalog(CATALOG)).compute()


@pytest.mark.slow
def test_projection_drivers_equal_the_calibration_covariates_in_the_last_calibration_year(anchor_exposure) -> None:
    cfg, ds = anchor_exposure
    last = cfg.period.historical.end
    cov = load_covariates(load_catalog(CATALOG), DEMO_COUNTRIES, [last]).xs(last, level="year")
    for name in ("population", "gdp_per_capita", "agricultural_share", "rural_share"):
        got = ds[name].sel(year=last) if "year" in ds[name].dims else ds[name]
        want = cov[name].reindex([str(r) for r in ds.region.values]).to_numpy()
        np.testing.assert_allclose(got.transpose(..., "region").values, np.broadcast_to(want, got.shape), rtol=1e-6,
                                   err_msg=name)
    assert ds["gdp_per_capita"].attrs["price_year"] == last
    # after the anchor year the SSP's growth, not its level, carries the path
    assert bool((ds["population"].sel(year=2024) > ds["population"].sel(year=last)).all())


@pytest.mark.slow
def test_projecting_the_last_calibration_year_reproduces_the_in_sample_predictive(small_demo_run,
                                                                                anchor_exposure) -> None:
    """The projection path (anchored drivers -> predict_displacement) against the fitted PyMC graph."""
    import pymc as pm

    from climmig.displacement.lifecycle import DisplacementModel
    from climmig.displacement.model import build_displacement_model, predict_displacement
    from climmig.mobility.priors import resolve_priors
    from climmig.projection.drivers import displacement_drivers

    cfg = load_config(small_demo_run)
    model = DisplacementModel(cfg)
    cal = model.calibrate(load_catalog(CATALOG), path=model.default_path(small_demo_run.parent / "run" / "fits"),
                          reuse=True).calibration()
    assert cal.reused
    inputs = cal.inputs
    last = cfg.period.historical.end
    _, ds = anchor_exposure
    hazards = list(inputs.coords["hazard"])
    drivers = displacement_drivers(ds, hazards, {}).sel(year=[last], scenario=["ssp245"])
    # the historical exposure of the last year (DFO and CHIRPS do not cover 2022: E = 1 in the fit too)
    t = inputs.coords["year"].index(last)
    for c in DEMO_COUNTRIES:
        ci = inputs.coords["country"].index(c)
        cells = (inputs.country_idx == ci) & (inputs.year_idx == t)
        np.testing.assert_allclose(inputs.log_exposure_ratio[cells], 0.0)
    drivers = drivers.assign(exposure_ratio=xr.ones_like(drivers["exposure_ratio"]))
    n = cal.idata.posterior.sizes["chain"] * cal.idata.posterior.sizes["draw"]
    ours = predict_displacement(cal.idata, drivers, samples=n, seed=0)["expected_displacement"]
    model = build_displacement_model(inputs, resolve_priors(cfg.mobility.displacement.priors), keep_rate=True)
    with model:
        graph = pm.sample_posterior_predictive(cal.idata, var_names=["expected_displacement"], random_seed=1,
                                               progressbar=False).posterior_predictive["expected_displacement"]
    s_idx = np.sort(np.random.default_rng(0).choice(n, size=n, replace=False))
    g = graph.stack(sample=("chain", "draw")).transpose("obs", "sample").values[:, s_idx]
    checked = 0
    for c in DEMO_COUNTRIES:
        ci = inputs.coords["country"].index(c)
        for h, hazard in enumerate(hazards):
            obs = np.flatnonzero((inputs.country_idx == ci) & (inputs.year_idx == t) & (inputs.hazard_idx == h))
            if len(obs) == 0:
                continue
            mine = ours.sel(region=c, hazard=hazard, year=last).squeeze().values
            np.testing.assert_allclose(mine, g[obs[0]], rtol=1e-5, err_msg=f"{c} {hazard}")
            checked += 1
    assert checked >= 8


@pytest.mark.slow
def test_the_fit_reproduces_each_demo_record_in_sample(small_demo_run) -> None:
    """The in-sample predictive of each demo country's 2008-2022 mean holds IDMC's record (issue 30)."""
    from climmig.displacement.calibration import load_observations

    run = small_demo_run.parent / "run"
    table = pd.read_csv(run / "fits" / "displacement_in_sample.csv")
    assert set(table["region"]) == set(DEMO_COUNTRIES)
    cfg = load_config(small_demo_run)
    obs, _ = load_observations(cfg, load_catalog(CATALOG))
    for row in table.itertuples():
        cells = obs[(obs["iso3"] == row.region) & (obs["hazard"] == row.hazard) & obs["year"].between(2008, 2022)
                    & (obs["status"] != "not_reported")]
        assert row.record_mean == pytest.approx(cells["displacements"].mean(), rel=1e-3, abs=0.01)
        recorded = int((cells["displacements"] > 0).sum())
        if recorded >= 5:
            # the record is a typical draw of the fitted model, not in a tail
            assert 0.05 <= row.record_percentile <= 0.95, row
            assert row.in_sample_lower <= row.record_mean <= row.in_sample_upper, row
    # and the report's comparison carries these columns
    rc = pd.read_csv(run / "report_record_comparison.csv")
    assert {"in_sample_mean", "in_sample_median", "record_percentile"} <= set(rc.columns)
