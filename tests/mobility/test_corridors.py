"""Projection to every destination: the corridor sums equal a brute-force sum over destinations."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from climmig.migration.corridors import corridor_of, predict_corridors
from climmig.migration.gravity import design, fit_panel, gravity_draws, log_mu_draws
from tests.mobility.test_gravity import _panel


def _setup(rng: np.random.Generator):
    panel = _panel(rng, n=20)
    idata = fit_panel(panel, draws=60, seed=1)
    world = list(panel.countries)
    study = world[:2]
    n = len(world)
    lp, lg = rng.normal(15.5, 1.0, n), rng.normal(8.5, 1.0, n)
    fixed = {
        "dest_log_pop": ("world", lp), "dest_log_gdp": ("world", lg),
        "pair_log_distance": (("region", "world"), rng.uniform(6, 9.5, (2, n))),
        "pair_contiguous": (("region", "world"), (rng.random((2, n)) < 0.2).astype(float)),
        "pair_log_stock": (("region", "world"), rng.uniform(0, 10, (2, n))),
        "pair_regime": (("region", "world"), np.full((2, n), "unilateral")),
    }
    years = [2030, 2031]
    pop = xr.DataArray(np.exp(lp[:2])[None, None, :].repeat(2, axis=1), dims=("scenario", "year", "region"),
                       coords={"scenario": ["s1"], "year": years, "region": study})
    gdp = xr.DataArray(np.exp(lg[:2])[None, None, :].repeat(2, axis=1), dims=pop.dims, coords=pop.coords)
    ratio = xr.ones_like(pop).expand_dims(climate_model=["m1"]).transpose("scenario", "climate_model", "year", "region")
    drivers = xr.Dataset({"population": pop, "gdp_per_capita": gdp, "exposure_ratio": ratio,
                          "internal_exposure_ratio": ratio, "flood_rate": ("region", [0.5, 2.0]), **fixed},
                         coords={"region": study, "world": world})
    reg = xr.DataArray(np.where(np.eye(2, dtype=bool), "internal", "unilateral")[None].repeat(2, axis=0),
                       dims=("year", "origin", "destination"), coords={"year": years, "origin": study,
                                                                       "destination": study})
    return panel, idata, drivers, reg, world, study


def test_corridor_flows_equal_the_sum_over_their_destinations() -> None:
    panel, idata, drivers, reg, world, study = _setup(np.random.default_rng(8))
    corridors = {"G1": tuple(world[2:9]), "G2": tuple(world[9:12])}
    out = predict_corridors(idata, drivers, reg, samples=40, seed=3, corridors=corridors)
    exp = out["expected_corridor_flow"].isel(scenario=0, climate_model=0, year=0)
    # brute force: the destination part of log mu for origin C00 to every destination, from the model's design
    post = idata.posterior
    c = json.loads(post.attrs["gravity_centering"])
    rows = pd.DataFrame({
        "period": 1990, "origin": study[0], "destination": world, "log_pop_origin": 0.0,
        "log_pop_destination": drivers["dest_log_pop"].values, "log_gdp_origin": c["log_gdp_origin"],
        "log_gdp_destination": drivers["dest_log_gdp"].values,
        "log_distance": drivers["pair_log_distance"].values[0], "contiguous": drivers["pair_contiguous"].values[0],
        "log_stock": drivers["pair_log_stock"].values[0], "flood_stress": c["stress_mean"], "regime": "unilateral"})
    d = design(rows, [str(x) for x in post["country"].values], [int(p) for p in post["period"].values], c)
    lm = log_mu_draws(gravity_draws(idata, 40, 3), d)  # the origin part is common to every destination
    mu = np.exp(lm - lm[:, [1]])  # relative to the flow to the other study country (C01)
    labels = np.asarray(corridor_of(world, study, corridors))
    ref = exp.sel(origin=study[0], corridor=study[1]).values
    for g in ("G1", "G2", "rest_of_world"):
        brute = mu[:, labels == g].sum(axis=1)
        np.testing.assert_allclose(exp.sel(origin=study[0], corridor=g).values / ref, brute, rtol=1e-6)
    # totals: a corridor's draws sum to the origin's emigration; no flow to oneself
    tot = out["corridor_flow"].sum("corridor").rename(origin="region")
    np.testing.assert_allclose(tot, out["cross_border_migration"])
    assert float(out["corridor_flow"].sel(origin=study[0], corridor=study[0]).max()) == 0.0
    assert out.attrs["climmig_emigration_cap"] == "none"


def test_common_random_numbers_an_unchanged_origin_keeps_its_draws() -> None:
    _panel_, idata, drivers, reg, _world, study = _setup(np.random.default_rng(8))
    a = predict_corridors(idata, drivers, reg, samples=30, seed=5, totals_only=True)
    # raise the second origin's population: the first origin's draws and all internal draws of the first stay
    pop = drivers["population"].copy()
    pop.loc[{"region": study[1]}] = pop.sel(region=study[1]) * 1.5
    b = predict_corridors(idata, drivers.assign(population=pop), reg, samples=30, seed=5, totals_only=True)
    np.testing.assert_array_equal(a["internal_migration"].sel(region=study[0]),
                                  b["internal_migration"].sel(region=study[0]))
    # same uniforms for every cell: the changed projection's draws move with the unchanged one's (common
    # random numbers), so differences between options are not swamped by independent noise
    for r in study:
        x = a["cross_border_migration"].sel(region=r).values.ravel()
        y = b["cross_border_migration"].sel(region=r).values.ravel()
        assert np.corrcoef(np.argsort(np.argsort(x)), np.argsort(np.argsort(y)))[0, 1] > 0.9
