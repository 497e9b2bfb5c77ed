"""Displacement model: structure, prior predictive, parameterisation rule, covariates, vectorised prediction."""

from __future__ import annotations

import json
import math

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr

from climmig.config.schema import DistSpec
from climmig.displacement.model import (
    build_displacement_model,
    parameterization_masks,
    predict_displacement,
)
from climmig.displacement.simulate import simulate_displacement
from climmig.errors import ConfigError
from climmig.mobility.covariates import build_covariates, wdi_long, world_regions
from climmig.mobility.priors import DEFAULT_DISPLACEMENT_PRIORS, resolve_priors

FREE = ["intercept", "beta_between", "beta_within", "sigma_region", "sigma_country", "sigma_year", "sigma_obs_global", "sigma_obs_hazard",
        "sigma_obs_level", "sigma_obs_knot", "size_skewness",
        "exposure_elasticity",
        "occ_intercept", "occ_beta_between", "occ_beta_within", "occ_population", "occ_year_trend", "occ_sigma_year", "occ_sigma_region", "occ_sigma_country"]


@pytest.fixture
def sim(rng):
    return simulate_displacement(rng, n_countries=12, n_years=6, hazards=("flood", "storm"), n_regions=3,
                                 return_truth=True)


def test_structure_names_dims_coords(sim) -> None:
    inputs, _ = sim
    model = build_displacement_model(inputs, resolve_priors())
    for name in FREE:
        assert name in model.named_vars, name
    dims = model.named_vars_to_dims
    assert dims["beta_between"] == dims["beta_within"] == ("covariate", "hazard")
    assert dims["occ_beta_between"] == dims["occ_beta_within"] == ("covariate", "hazard")
    assert dims["country_effect"] == ("country", "hazard")
    assert dims["region_effect"] == ("world_region", "hazard")
    assert dims["year_shock"] == dims["occ_year_effect"] == ("year", "hazard")
    assert dims["occurred"] == ("obs",)
    assert dims["log_displacements"] == ("positive",)
    for data in ("log_population", "covariates_within", "log_exposure_ratio", "country_idx", "year_idx", "hazard_idx"):
        assert data in model.named_vars
    assert list(model.coords["hazard"]) == ["flood", "storm"]
    assert len(model.coords["positive"]) == int((inputs.displacements > 0).sum())
    assert len(model.coords["country"]) == 12


@pytest.mark.slow
def test_prior_predictive_is_plausible(sim) -> None:
    inputs, _ = sim
    model = build_displacement_model(inputs, resolve_priors())
    with model:
        pp = pm.sample_prior_predictive(draws=200, random_seed=1)
    occ = pp.prior_predictive["occurred"].values
    assert set(np.unique(occ)) <= {0, 1}
    share = occ.mean()
    assert 0.05 < share < 0.95  # neither all zero nor all events
    logy = pp.prior_predictive["log_displacements"].values
    assert np.isfinite(logy).all()
    # per-person displacement in an event year: median between 1e-7 and 1e-1 of the population
    per_person = np.median(logy - inputs.log_population[inputs.displacements > 0])
    assert np.log(1e-7) < per_person < np.log(1e-1)


@pytest.mark.slow
def test_zero_sum_effects_and_config_overrides(sim) -> None:
    inputs, _ = sim
    pri = resolve_priors({"sigma_obs": DistSpec(dist="Gamma", params={"alpha": 8.0, "beta": 4.0})})
    assert pri["sigma_obs"].params["alpha"] == 8.0
    assert DEFAULT_DISPLACEMENT_PRIORS["sigma_obs"].dist == "Gamma"  # defaults untouched
    with pytest.raises(ConfigError, match="did you mean 'sigma_ob"):
        resolve_priors({"sigma_ob": DistSpec(dist="HalfNormal", params={"sigma": 0.5})})
    model = build_displacement_model(inputs, pri)
    with model:
        pp = pm.sample_prior_predictive(draws=20, random_seed=2, var_names=["region_effect", "year_shock"])
    np.testing.assert_allclose(pp.prior["region_effect"].sum("world_region"), 0, atol=1e-8)
    np.testing.assert_allclose(pp.prior["year_shock"].sum("year"), 0, atol=1e-8)


def test_parameterization_rule() -> None:
    from climmig.displacement.model import MIN_CENTRED_COUNTRIES

    # flood: A* have 6 positive years (all), B* 3 positive and 3 zero, C all zero; enough data-rich countries
    # (2 x MIN_CENTRED_COUNTRIES) for the rule to apply. drought: only A0 and B0 qualify -> all non-centred
    k = MIN_CENTRED_COUNTRIES
    names = [f"A{i}" for i in range(k)] + [f"B{i}" for i in range(k)] + ["C"]
    flags = {"A": [True] * 6, "B": [True, True, True, False, False, False], "C": [False] * 6}
    rows = []
    for c in names:
        for t in range(6):
            rows.append({"iso3": c, "year": t, "hazard": "flood", "positive": flags[c[0]][t]})
            rows.append({"iso3": c, "year": t, "hazard": "drought",
                         "positive": flags[c[0]][t] if c in ("A0", "B0") else False})
    cells = pd.DataFrame(rows)
    hz = ["flood", "drought"]
    size, occ = parameterization_masks(cells, names, list(range(6)), hz, ["R"], ["R"] * len(names))
    assert size[:, 0].tolist() == [True] * (2 * k) + [False]
    assert occ[:, 0].tolist() == [False] * k + [True] * k + [False]
    assert not size[:, 1].any() and not occ[:, 1].any()  # too few data-rich countries for drought
    forced = parameterization_masks(cells, names, list(range(6)), hz, ["R"], ["R"] * len(names),
                                    mode="noncentered")
    assert not any(m.any() for m in forced)


def test_covariates_wide_wdi_aggregates_regions_and_gaps() -> None:
    wide = pd.DataFrame({"iso3": ["AAA", "WLD", "BBB"], "country_name": ["a", "World", "b"],
                         "2010": [10.0, 50.0, None], "2011": [None, 51.0, None], "2012": [30.0, 52.0, 40.0]})
    s = wdi_long(wide, "gdp_per_capita")
    assert "WLD" not in s.index.get_level_values("iso3")  # aggregate dropped
    pop = pd.DataFrame({"iso3": ["AAA"] * 3 + ["BBB"] * 3 + ["CCC"] * 3, "year": [2010, 2011, 2012] * 3,
                        "population": [1e6, 1.1e6, 1.2e6, 2e6, 2e6, 2e6, np.nan, np.nan, np.nan]})
    share = pd.DataFrame({"iso3": ["AAA", "BBB"], "2010": [50.0, 20.0], "2011": [50.0, 20.0]})
    regions = world_regions(["AAA", "BBB", "CCC", "XKX"], [pd.DataFrame({
        "ISO_A3_EH": ["AAA", "BBB", "-99"], "ADM0_A3": ["AAA", "BBB", "KOS"],
        "REGION_WB": ["R1", "R1", "Europe & Central Asia"]})])
    assert regions["XKX"] == "Europe & Central Asia" and regions["CCC"] == "Unknown"
    cov = build_covariates({"population": pop, "gdp_per_capita": wide, "agricultural_share": share,
                            "rural_share": share}, ["AAA", "BBB", "CCC"], [2010, 2011, 2012], regions)
    assert cov.attrs["dropped"] == ["CCC"]  # no population: cannot carry the offset
    assert cov.loc[("AAA", 2011), "gdp_per_capita"] == pytest.approx(20.0)  # interpolated
    assert cov.loc[("BBB", 2010), "gdp_per_capita"] == pytest.approx(40.0)  # carried backward
    assert cov.loc[("AAA", 2012), "agricultural_share"] == pytest.approx(0.5)  # percent -> fraction, ffill


@pytest.mark.parametrize(("loc", "scale", "alpha"), [(1.0, 0.5, 0.0), (0.0, 2.0, -3.0), (-2.0, 1.2, 2.5)])
def test_skewnormal_mean_of_exp_and_draws(loc, scale, alpha) -> None:
    from scipy import integrate, stats

    from climmig.displacement.model import draw_skewnormal, log_mean_exp_skewnormal, skewnormal_location

    dist = stats.skewnorm(alpha, loc=loc, scale=scale)
    ref, _ = integrate.quad(lambda x: np.exp(x) * dist.pdf(x), loc - 12 * scale, loc + 12 * scale)
    assert np.exp(log_mean_exp_skewnormal(loc, scale, alpha)) == pytest.approx(ref, rel=1e-7)
    x = draw_skewnormal(np.random.default_rng(0), np.full(40_000, loc), scale, alpha)
    assert stats.kstest(x, dist.cdf).pvalue > 0.001
    assert skewnormal_location(dist.mean(), scale, alpha) == pytest.approx(loc, abs=1e-12)


def test_single_hazard_has_no_residual_factor(rng) -> None:
    inputs = simulate_displacement(rng, n_countries=6, n_years=5, hazards=("all",), n_regions=2)
    model = build_displacement_model(inputs, resolve_priors())
    assert "sigma_obs_hazard" not in [v.name for v in model.free_RVs]
    with pytest.raises(ConfigError, match="sigma_obs_hazard"):
        build_displacement_model(inputs, resolve_priors({"sigma_obs_hazard": DistSpec(
            dist="Normal", params={"mu": 0.3, "sigma": 0.25})}))


# ------------------------------------------------------------------------------------------ prediction
def _fake_idata(inputs, rng, chains=2, draws=30):
    """A posterior-shaped InferenceData drawn from the prior (stands in for a fit)."""
    model = build_displacement_model(inputs, resolve_priors())
    with model:
        prior = pm.sample_prior_predictive(draws=chains * draws, random_seed=rng).prior
    post = prior.isel(chain=0).drop_vars("chain")
    post = post.assign_coords(draw=np.arange(chains * draws))
    stacked = {}
    for v in post.data_vars:
        arr = post[v].values.reshape((chains, draws) + post[v].shape[1:])
        stacked[v] = xr.DataArray(arr, dims=("chain", "draw") + post[v].dims[1:],
                                  coords={d: post[v][d] for d in post[v].dims[1:]})
    ds = xr.Dataset(stacked)
    ds.attrs.update(inputs.attrs())
    ds.attrs["climmig_country_region"] = json.dumps(
        {c: inputs.coords["world_region"][int(i)] for c, i in zip(inputs.coords["country"],
                                                                    inputs.country_region_idx, strict=True)})
    return az.InferenceData(posterior=ds), model


def _drivers(inputs, regions, years):
    rng = np.random.default_rng(5)
    nr, ny = len(regions), len(years)
    pop = xr.DataArray(rng.uniform(1e6, 1e8, (2, ny, nr)), dims=("scenario", "year", "region"),
                       coords={"scenario": ["ssp126", "ssp585"], "year": years, "region": regions})
    gdp = xr.DataArray(np.exp(rng.normal(0, 1, (2, ny, nr))), dims=("scenario", "year", "region"),
                       coords=pop.coords)
    ag = xr.DataArray(rng.normal(0, 1, nr), dims="region", coords={"region": regions})
    ru = xr.DataArray(rng.normal(0, 1, nr), dims="region", coords={"region": regions})
    er = xr.DataArray(rng.uniform(0.5, 2.0, (1, 2, 3, ny, nr)),
                      dims=("hazard", "scenario", "climate_model", "year", "region"),
                      coords={"hazard": ["flood"], "scenario": ["ssp126", "ssp585"],
                              "climate_model": ["m1", "m2", "m3"], "year": years, "region": regions})
    return xr.Dataset({"population": pop, "gdp_per_capita": gdp, "agricultural_share": ag, "rural_share": ru,
                       "exposure_ratio": er})


def _independent_expected(idata, drivers, s_idx, shocks, scaling, level, ysc, reporting):
    """Per-draw, per-cell loop written independently of predict_displacement (pure numpy)."""
    post = idata.posterior.stack(sample=("chain", "draw"))
    means = json.loads(idata.posterior.attrs["climmig_covariate_country_means"])
    hazards = list(post.hazard.values)
    out = {}
    for k, s in enumerate(s_idx):
        p = post.isel(sample=s)
        for sc in drivers.scenario.values:
            for cm in drivers.climate_model.values:
                for y in drivers.year.values:
                    for r in drivers.region.values:
                        for j, h in enumerate(hazards):
                            pop = float(drivers.population.sel(scenario=sc, year=y, region=r))
                            gdp = float(drivers.gdp_per_capita.sel(scenario=sc, year=y, region=r))
                            log_gdp = scaling["gdp_per_capita"]["transform"] == "log"
                            x = {"gdp_per_capita": np.log(gdp) if log_gdp else gdp,
                                 "agricultural_share": float(drivers.agricultural_share.sel(region=r)),
                                 "rural_share": float(drivers.rural_share.sel(region=r))}
                            # Mundlak parts: the stored calibration mean of a known country, the deviation
                            # from it
                            xm = means[r]
                            zb = {c: (xm[c] - scaling[c]["mean"]) / scaling[c]["sd"] for c in x}
                            zw = {c: (x[c] - xm[c]) / scaling[c]["sd"] for c in x}
                            er = float(drivers.exposure_ratio.sel(hazard=h, scenario=sc, climate_model=cm, year=y,
                                                                  region=r)) if h == "flood" else 1.0
                            m = (np.log(pop)
                                 + sum(zw[c] * float(p.beta_within.sel(covariate=c, hazard=h))
                                       + zb[c] * float(p.beta_between.sel(covariate=c, hazard=h)) for c in x)
                                 + float(p.country_effect.sel(country=r, hazard=h)) + shocks[k, list(
                                     drivers.year.values).index(y), j]
                                 + float(p.exposure_elasticity.sel(hazard=h)) * np.log(er))
                            zp = (np.log(pop) - scaling["population"]["mean"]) / scaling["population"]["sd"]
                            lg = (float(p.occ_population.sel(hazard=h)) * zp
                                  + reporting[k, list(drivers.year.values).index(y), j]
                                  + sum(zw[c] * float(p.occ_beta_within.sel(covariate=c, hazard=h))
                                        + zb[c] * float(p.occ_beta_between.sel(covariate=c, hazard=h)) for c in x)
                                  + float(p.occ_country_effect.sel(country=r, hazard=h)))
                            # hinge: w * log(1 + e^((z - knot)/w)), w = 0.25
                            zk = ((m - level["mean"]) / level["sd"] - float(p.sigma_obs_knot)) / 0.25
                            tau = float(p.sigma_obs.sel(hazard=h)) * math.exp(
                                -float(p.sigma_obs_level) * 0.25 * math.log1p(math.exp(zk)))
                            a = float(p.size_skewness)
                            d = a / math.sqrt(1 + a * a)
                            xi = m - tau * d * math.sqrt(2 / math.pi)  # m is the mean of the log size
                            mean_size = 2 * math.exp(xi + tau**2 / 2) * 0.5 * math.erfc(-d * tau / math.sqrt(2))
                            out[(k, sc, cm, y, r, h)] = mean_size / (1 + math.exp(-lg))
    return out


@pytest.mark.slow
def test_predict_matches_independent_per_draw_computation(sim, rng) -> None:
    inputs, _ = sim
    idata, _ = _fake_idata(inputs, rng)
    regions = inputs.coords["country"][:3]
    drivers = _drivers(inputs, regions, [2030, 2031])
    out = predict_displacement(idata, drivers, samples=5, seed=3)
    assert out["expected_displacement"].dims == ("sample", "scenario", "climate_model", "year", "region", "hazard")
    assert out["displaced_persons"].dims == out["expected_displacement"].dims
    assert out["displaced_persons"].attrs["units"] == "1"
    assert (out["displaced_persons"] >= 0).all()
    # recover which posterior draws were used (same seeded choice), then recompute cell by cell
    n = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    s_idx = np.sort(np.random.default_rng(3).choice(n, size=5, replace=False))
    ref = _independent_expected(idata, drivers, s_idx, out["year_shock"].values, inputs.scaling,
                                inputs.size_level(), inputs.year_scaling(), out["reporting_level"].values)
    got = out["expected_displacement"]
    for (k, sc, cm, y, r, h), v in ref.items():
        np.testing.assert_allclose(float(got.sel(sample=k, scenario=sc, climate_model=cm, year=y, region=r,
                                                 hazard=h)), v, rtol=1e-9)
    # future years get fresh shocks, one per sample, year and hazard
    assert not np.allclose(out["year_shock"].isel(year=0), out["year_shock"].isel(year=1))
    # and a reporting level = the mean fitted level of the last five calibration years + a fresh deviation
    post = idata.posterior.stack(sample=("chain", "draw")).isel(sample=s_idx)
    ysc = inputs.year_scaling()
    years = np.asarray(inputs.coords["year"], float)
    fitted = (post["occ_year_trend"].transpose("sample", "hazard").values[:, None, :]
              * ((years - ysc["mean"]) / ysc["sd"])[None, :, None]
              + post["occ_year_effect"].transpose("sample", "year", "hazard").values)
    level = fitted[:, -5:, :].mean(axis=1)
    z = (out["reporting_level"].values - level[:, None, :]) / post["occ_sigma_year"].transpose(
        "sample", "hazard").values[:, None, :]
    assert np.all(np.abs(z) < 6) and not np.allclose(z[:, 0], z[:, 1])


def test_predict_agrees_with_the_pymc_graph_in_sample(sim, rng) -> None:
    inputs, _ = sim
    idata, _ = _fake_idata(inputs, rng)
    model = build_displacement_model(inputs, resolve_priors(), keep_rate=True)
    with model:
        graph = pm.sample_posterior_predictive(idata, var_names=["expected_displacement"], random_seed=1,
                                               progressbar=False).posterior_predictive["expected_displacement"]
    # drivers reproducing the first country's in-sample covariates (identity scaling in the simulation)
    years = inputs.coords["year"]
    c = 0
    sel = inputs.country_idx == c
    regions = [inputs.coords["country"][c]]
    first = {}
    for o in np.flatnonzero(sel):
        first[(inputs.year_idx[o], inputs.hazard_idx[o])] = o
    pop = np.array([np.exp(inputs.log_population[first[(t, 0)]]) for t in range(len(years))])
    X = np.array([inputs.covariates[first[(t, 0)]] for t in range(len(years))])
    drivers = xr.Dataset({
        "population": (("year", "region"), pop[:, None]),
        "gdp_per_capita": (("year", "region"), X[:, 0][:, None]),  # identity scaling in the simulation
        "agricultural_share": (("year", "region"), X[:, 1][:, None]),
        "rural_share": (("year", "region"), X[:, 2][:, None]),
    }, coords={"year": years, "region": regions})
    n = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    out = predict_displacement(idata, drivers, samples=n, seed=0)
    ours = out["expected_displacement"].isel(scenario=0, climate_model=0, region=0)
    s_idx = np.sort(np.random.default_rng(0).choice(n, size=n, replace=False))
    g = graph.stack(sample=("chain", "draw")).transpose("obs", "sample").values[:, s_idx]
    for (t, h), o in first.items():
        # rtol 1e-6: PyMC's normal_lcdf and scipy's log_ndtr differ by ~1e-8 (different approximations)
        np.testing.assert_allclose(ours.isel(year=t, hazard=h).values, g[o], rtol=1e-6)


@pytest.mark.slow
def test_rate_multiplier_and_new_countries(sim, rng) -> None:
    inputs, _ = sim
    idata, _ = _fake_idata(inputs, rng)
    drivers = _drivers(inputs, ["C00", "NEW"], [2040])
    base = predict_displacement(idata, drivers, samples=10, seed=1)
    half = predict_displacement(idata, drivers, samples=10, seed=1, rate_multiplier=0.5)
    np.testing.assert_allclose(half["expected_displacement"], 0.5 * base["expected_displacement"])
    mult = xr.DataArray(np.zeros(10), dims="sample")
    zero = predict_displacement(idata, drivers, samples=10, seed=1, rate_multiplier=mult)
    assert float(zero["displaced_persons"].sum()) == 0
    assert json.loads(base.attrs["climmig_unknown_regions"]) == ["NEW"]
    assert np.isfinite(base["expected_displacement"].sel(region="NEW")).all()
    with pytest.raises(Exception, match="only"):
        predict_displacement(idata, drivers, samples=10_000, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("rho", [0.9, 0.0])
def test_new_countries_draw_correlated_effects(sim, rng, rho) -> None:
    """A country the fit has not seen draws its size and occurrence effects with the fitted correlation."""
    inputs, _ = sim
    idata, _ = _fake_idata(inputs, rng)
    post = idata.posterior
    idata.posterior["effect_correlation"] = xr.full_like(post["effect_correlation"], rho)
    new = [f"N{i:03d}" for i in range(150)]
    g = inputs.coords["world_region"][0]
    drivers = _drivers(inputs, new, [2040]).assign_coords(world_region=("region", [g] * len(new)))
    out = predict_displacement(idata, drivers, samples=60, seed=2)
    ps = post.stack(sample=("chain", "draw"))
    n = ps.sizes["sample"]
    pick = np.sort(np.random.default_rng(2).choice(n, size=60, replace=False))
    ps = ps.isel(sample=pick).drop_vars(["sample", "chain", "draw"]).assign_coords(sample=np.arange(60))

    def standardised(effect, icpt, region, sd):
        loc = ps[icpt] + ps[region].sel(world_region=g, drop=True)
        return ((out[effect].drop_vars([c for c in out[effect].coords if c not in out[effect].dims])
                 - loc) / ps[sd]).transpose("sample", "region", "hazard").values

    zs = standardised("country_effect", "intercept", "region_effect", "sigma_country")
    zo = standardised("occ_country_effect", "occ_intercept", "occ_region_effect", "occ_sigma_country")
    for h in range(zs.shape[2]):
        r = np.corrcoef(zs[..., h].ravel(), zo[..., h].ravel())[0, 1]
        assert abs(r - rho) < 0.05, (h, r)  # 9000 pairs: sampling sd of r below 0.011
        assert abs(zs[..., h].std() - 1) < 0.05 and abs(zo[..., h].std() - 1) < 0.05


@pytest.mark.slow
def test_model_signature_tracks_structure(sim, rng) -> None:
    from climmig.displacement.calibration import model_signature

    inputs, _ = sim
    a = model_signature(build_displacement_model(inputs, resolve_priors()))
    assert a == model_signature(build_displacement_model(inputs, resolve_priors()))
    other = simulate_displacement(rng, n_countries=12, n_years=6, hazards=("flood",), n_regions=3)
    assert model_signature(build_displacement_model(other, resolve_priors())) != a
    fixed = resolve_priors({"size_skewness": DistSpec(dist="Fixed", params={"value": 0.0})})
    assert model_signature(build_displacement_model(inputs, fixed)) != a  # a parameter became a constant


@pytest.mark.slow
@pytest.mark.parametrize("case", ["missing-cells", "whole-cube", "unmonitored"])
def test_cube_likelihood_equals_a_long_format_computation(sim, case) -> None:
    """The model computes on the dense country x year x hazard cube; with cells missing (not reported: the
    occurrence logits are gathered), with every cell observed (no gather) and with hazard-years IDMC did not
    monitor (no chance of a record: they add nothing), its likelihood equals a per-observation scipy
    computation from the same parameter values."""
    missing = case == "missing-cells"
    import dataclasses

    from scipy import stats

    from climmig.displacement.model import _cube_arrays, skewnormal_location

    full, _ = sim
    n = len(full.coords["obs"])
    assert np.array_equal(_cube_arrays(full)["cell_idx"], np.arange(n))  # the simulation fills the cube
    keep = np.flatnonzero(np.arange(n) % 7 != 3) if missing else np.arange(n)  # drop every 7th cell
    # covariate_between=None: the between parts are then the means over each country's observed years
    inputs = dataclasses.replace(
        full, coords={**full.coords, "obs": list(range(keep.size))}, covariate_between=None,
        **{k: getattr(full, k)[keep] for k in ("displacements", "log_population", "log_exposure_ratio",
                                               "covariates", "country_idx", "year_idx", "hazard_idx")})
    if case == "unmonitored":
        # storm not monitored in the first three years: no records there
        mon = np.ones((len(inputs.coords["year"]), 2), bool)
        mon[:3, 1] = False
        gone = ~mon[inputs.year_idx, inputs.hazard_idx]
        inputs = dataclasses.replace(inputs, monitored=mon,
                                     displacements=np.where(gone, 0, inputs.displacements))
    model = build_displacement_model(inputs, resolve_priors())
    rng = np.random.default_rng(5)
    point = {k: v + rng.normal(0, 0.3, size=np.shape(v)) for k, v in model.initial_point().items()}
    got = model.compile_logp(vars=[model["occurred"], model["log_displacements"]])(point)
    names = ["beta_between", "beta_within", "occ_beta_between", "occ_beta_within", "country_effect", "year_shock",
             "exposure_elasticity", "occ_population", "occ_year_trend", "occ_year_effect", "occ_country_effect", "sigma_obs", "sigma_obs_level", "sigma_obs_knot",
             "size_skewness"]
    # every free and deterministic quantity as a function of the value variables (as in a trace)
    outs = model.unobserved_value_vars
    values = dict(zip([o.name for o in outs], model.compile_fn(outs, on_unused_input="ignore")(point),
                      strict=True))
    v = {n: values[n] for n in names}
    c, t, h = inputs.country_idx, inputs.year_idx, inputs.hazard_idx
    # the Mundlak parts computed here from the raw standardised covariates: per-country means over the
    # country's years, and the deviations from them
    X = inputs.covariates
    cy = pd.DataFrame(X).assign(c=c, t=t).drop_duplicates(["c", "t"])  # one row per observed country-year
    Xb = cy.groupby("c")[list(range(X.shape[1]))].mean().reindex(range(len(inputs.coords["country"]))).to_numpy()
    Xw = X - Xb[c]
    m = (inputs.log_population + np.einsum("ok,ko->o", Xw, v["beta_within"][:, h])
         + np.einsum("ok,ko->o", Xb[c], v["beta_between"][:, h]) + v["country_effect"][c, h]
         + v["year_shock"][t, h] + v["exposure_elasticity"][h] * inputs.log_exposure_ratio)
    ps = inputs.scaling["population"]
    ys = inputs.year_scaling()
    logit = (np.einsum("ok,ko->o", Xw, v["occ_beta_within"][:, h])
             + np.einsum("ok,ko->o", Xb[c], v["occ_beta_between"][:, h]) + v["occ_population"][h]
             * (inputs.log_population - ps["mean"]) / ps["sd"] + v["occ_country_effect"][c, h]
             + v["occ_year_trend"][h] * (np.asarray(inputs.coords["year"], float)[t] - ys["mean"]) / ys["sd"]
             + v["occ_year_effect"][t, h])
    y = inputs.displacements
    pos = y > 0
    lv = inputs.size_level()
    hinge = 0.25 * np.log1p(np.exp(((m - lv["mean"]) / lv["sd"] - float(v["sigma_obs_knot"])) / 0.25))
    tau = v["sigma_obs"][h] * np.exp(-float(v["sigma_obs_level"]) * hinge)
    a = float(v["size_skewness"])
    on = inputs.monitored_mask()[t, h]
    want = (stats.bernoulli.logpmf(pos[on], 1 / (1 + np.exp(-logit[on]))).sum()
            + stats.skewnorm.logpdf(np.log(y[pos]), a, loc=skewnormal_location(m[pos], tau[pos], a),
                                    scale=tau[pos]).sum())
    np.testing.assert_allclose(got, want, rtol=1e-9)
    if case == "unmonitored":
        assert (~on).sum() > 0
