"""Cross-border migration model: structure, prior predictive, projection contract, consistency."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr

from climmig.config.schema import BorderRegimeChange, DistSpec
from climmig.errors import ConfigError, DataError
from climmig.migration.geography import great_circle_km
from climmig.migration.model import (
    DEFAULT_MIGRATION_PRIORS,
    build_migration_model,
    fit_attrs,
    migration_inputs,
    posterior_draws,
    predict_flows,
    regime_change_effect,
    resolve_priors,
)
from climmig.migration.regimes import REGIMES, apply_regime_changes, pair_regimes

TRUTH = {
    "mig_intercept": 5.0, "mig_pop_origin": 0.6, "mig_pop_destination": 0.8, "mig_distance_decay": 1.2,
    "mig_income": 0.5, "mig_origin_income": 0.9, "mig_climate_stress": 0.3, "mig_contiguity": 1.0, "mig_regime_bilateral": 0.4,
    "mig_regime_regional": 0.9, "mig_regime_multilateral": -0.5, "mig_sigma_origin": 0.6,
    "mig_sigma_destination": 0.4, "mig_alpha": 3.0,
}


def code(i: int) -> str:
    """ISO3-shaped code of synthetic country ``i`` (XAA, XAB, ...)."""
    return f"X{chr(65 + i // 26)}{chr(65 + i % 26)}"


def simulate_world(rng: np.random.Generator, n: int = 20, truth: dict | None = None):
    """A synthetic world of ``n`` countries with covariates, geography, regimes and NB flows.

    Returns (flows DataFrame, covariates Dataset, geography Dataset, regimes (origin, destination), effects).
    """
    truth = truth or TRUTH
    iso = [code(i) for i in range(n)]
    lon, lat = rng.uniform(-20, 60, n), rng.uniform(-30, 40, n)
    pop = np.exp(rng.normal(16.5, 1.2, n))
    gdp = np.exp(rng.normal(8.5, 1.0, n))
    stress = np.exp(rng.normal(0.0, 1.2, n))
    dist = great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    contig = (dist < np.quantile(dist[dist > 0], 0.1)) & (dist > 0)
    od = ("origin", "destination")
    geo = xr.Dataset({"distance_km": (od, dist), "contiguous": (od, contig)},
                     coords={"origin": iso, "destination": iso})
    cov = xr.Dataset({"population": ("region", pop), "gdp_per_capita": ("region", gdp),
                      "climate_stress": ("region", stress)}, coords={"region": iso})
    blocs = pd.DataFrame(
        [("B", "bilateral", c, 2000) for c in iso[0:6]]
        + [("R", "regional", c, 1995) for c in iso[5:11]]
        + [("M", "multilateral", c, 1990) for c in iso[11:16]],
        columns=["bloc", "regime", "iso3", "since"])
    reg = pair_regimes(blocs, iso, [2015]).isel(year=0, drop=True)
    u = rng.normal(0, truth["mig_sigma_origin"], n)
    v = rng.normal(0, truth["mig_sigma_destination"], n)
    # the model's country effects are orthogonal to the intercept and the country covariates (see
    # build_migration_model): simulate them that way
    lp, lg, ls = np.log(pop) - np.log(pop).mean(), np.log(gdp), np.log1p(stress)

    def resid(e: np.ndarray, *cols: np.ndarray) -> np.ndarray:
        x = np.column_stack([np.ones(n), *cols])
        return e - x @ np.linalg.lstsq(x, e, rcond=None)[0]

    u, v = resid(u, lp, ls, lg), resid(v, lp, lg)
    rows = [(iso[i], iso[j]) for i in range(n) for j in range(n) if i != j]
    f = pd.DataFrame(rows, columns=["origin", "destination"])
    f["flow"] = 0.0
    inp = migration_inputs(f, cov, geo, reg)
    p = inp.pairs
    eff = dict(zip(REGIMES, [0.0, truth["mig_regime_bilateral"], truth["mig_regime_regional"],
                             truth["mig_regime_multilateral"]], strict=True))
    idx = {c: k for k, c in enumerate(iso)}
    log_mu = (truth["mig_intercept"] + u[p["origin"].map(idx)] + v[p["destination"].map(idx)]
              + truth["mig_pop_origin"] * p["log_pop_origin"] + truth["mig_pop_destination"] * p["log_pop_destination"]
              - truth["mig_distance_decay"] * p["log_distance"] + truth["mig_income"] * p["income_diff"]
              + truth["mig_origin_income"] * p["log_gdp_origin"]
              + truth["mig_climate_stress"] * p["climate_stress"] + truth["mig_contiguity"] * p["contiguous"]
              + p["regime"].map(eff))
    mu = np.exp(log_mu.to_numpy())
    a = truth["mig_alpha"]
    f["flow"] = rng.poisson(rng.gamma(a, mu / a)).astype(float)
    return f, cov, geo, reg, (u, v)


def prior_idata(model: pm.Model, inputs, draws: int = 50, seed: int = 1) -> az.InferenceData:
    """Prior draws dressed as a fit (the ``mock_sample`` idea): for structure and projection tests."""
    with model:
        pri = pm.sample_prior_predictive(draws=draws, random_seed=seed)
    idata = az.InferenceData(posterior=pri.prior, constant_data=pri.constant_data,
                             observed_data=pri.observed_data)
    idata.posterior.attrs.update(fit_attrs(inputs, DEFAULT_MIGRATION_PRIORS))
    return idata


def _drivers(cov: xr.Dataset, geo: xr.Dataset, regions: list[str], years=(2030, 2040)) -> xr.Dataset:
    scen, cms = ["ssp126", "ssp585"], ["GFDL-ESM4", "MRI-ESM2-0"]
    pop = cov["population"].sel(region=regions).expand_dims(scenario=scen, year=list(years))
    gdp = cov["gdp_per_capita"].sel(region=regions).expand_dims(scenario=scen, year=list(years))
    ratio = xr.DataArray(np.ones((2, 2, len(years), len(regions))),
                         dims=("scenario", "climate_model", "year", "region"),
                         coords={"scenario": scen, "climate_model": cms, "year": list(years), "region": regions})
    ratio.loc[{"scenario": "ssp585"}] = 2.0
    return xr.Dataset({"population": pop, "gdp_per_capita": gdp, "exposure_ratio": ratio,
                       "climate_stress": cov["climate_stress"].sel(region=regions),
                       "gdp_per_capita_baseline": cov["gdp_per_capita"].sel(region=regions),
                       "distance_km": geo["distance_km"].sel(origin=regions, destination=regions),
                       "contiguous": geo["contiguous"].sel(origin=regions, destination=regions)})


@pytest.fixture
def world(rng):
    return simulate_world(rng, n=12)


def test_builder_structure(world) -> None:
    f, cov, geo, reg, _ = world
    inp = migration_inputs(f, cov, geo, reg)
    m = build_migration_model(inp)
    assert len(inp.pairs) == 12 * 11
    assert m.named_vars_to_dims["mig_origin_effect"] == ("origin",)
    assert m.named_vars_to_dims["mig_destination_effect"] == ("destination",)
    assert m.named_vars_to_dims["mig_regime_effect"] == ("regime",)
    assert m.named_vars_to_dims["log_distance"] == ("pair",)
    assert list(m.coords["regime"]) == list(REGIMES)
    for name in ("origin_idx", "destination_idx", "log_pop_origin", "regime_idx", "climate_stress"):
        assert name in m.named_vars
    assert m.named_vars_to_dims["mig_origin_basis"] == ("origin_basis",)
    assert len(m.coords["origin_basis"]) == 12 - 4 and len(m.coords["destination_basis"]) == 12 - 3
    nc = build_migration_model(inp, parameterization="noncentered")
    assert "mig_origin_z" in nc.named_vars
    assert "mig_origin_effect" in build_migration_model(inp, parameterization="centered").named_vars


def test_prior_predictive_plausible(world) -> None:
    f, cov, geo, reg, _ = world
    inp = migration_inputs(f, cov, geo, reg)
    with build_migration_model(inp):
        pri = pm.sample_prior_predictive(draws=200, random_seed=3)
    y = pri.prior_predictive["flow"].values
    assert np.isfinite(y).all() and (y >= 0).all()
    med = np.median(y)
    assert 1 <= med <= 1e6  # hundreds-to-thousands typical bilateral five-year flows
    eff = pri.prior["mig_regime_effect"]
    assert float(np.abs(eff.sel(regime="unilateral")).max()) == 0.0


def test_priors_override_and_unknown_name() -> None:
    p = resolve_priors({"distance_decay": DistSpec(dist="Normal", params={"mu": 2.0, "sigma": 0.1})})
    assert p["distance_decay"].params["mu"] == 2.0
    assert p["income"] == DEFAULT_MIGRATION_PRIORS["income"]
    with pytest.raises(ConfigError, match="did you mean 'distance_decay'"):
        resolve_priors({"distance_decy": DistSpec(dist="Normal", params={"mu": 2.0, "sigma": 0.1})})
    assert all(s.source for s in DEFAULT_MIGRATION_PRIORS.values())


def test_inputs_reject_negative_flows(world) -> None:
    f, cov, geo, reg, _ = world
    bad = f.copy()
    bad.loc[0, "flow"] = -1
    with pytest.raises(DataError, match="negative"):
        migration_inputs(bad, cov, geo, reg)


def test_predict_flows_contract_and_consistency(world) -> None:
    f, cov, geo, reg, _ = world
    inp = migration_inputs(f, cov, geo, reg)
    model = build_migration_model(inp, store_log_mu=True)
    idata = prior_idata(model, inp, draws=40)
    regions = list(inp.countries)
    drivers = _drivers(cov, geo, regions, years=(2015,))
    regimes = reg.expand_dims(year=[2015])
    # no emigration bound here: the prior draws' flows are checked against the PyMC graph
    out = predict_flows(idata, drivers, regimes, samples=40, seed=5, max_rate=np.inf)
    assert out.attrs["climmig_capped_draws"] == "0"
    assert out["migration_flow"].dims == ("sample", "scenario", "climate_model", "year", "origin", "destination")
    assert out["internal_migration"].dims == ("sample", "scenario", "climate_model", "year", "region")
    assert out["cross_border_migration"].dims == out["internal_migration"].dims
    assert out["migration_flow"].attrs["units"] == "1" and "long_name" in out["migration_flow"].attrs
    assert bool(out["internal"].sel(origin=code(0), destination=code(0)))
    assert (out["migration_flow"] >= 0).all()
    np.testing.assert_allclose(
        out["cross_border_migration"].values,
        out["migration_flow"].where(~out["internal"]).sum("destination").values)
    # consistency with the PyMC graph: at exposure ratio 1 (ssp126) the projection's expected annual flow
    # equals exp(log_mu) / 5 of the model, draw by draw (same draws: samples == number of prior draws,
    # drawn in a seeded order)
    picked = posterior_draws(idata, 40, 5)["mig_log_mu"]  # (sample, pair)
    exp_flow = out["expected_migration_flow"].sel(scenario="ssp126", climate_model="GFDL-ESM4", year=2015)
    o = xr.DataArray(inp.pairs["origin"].to_numpy(), dims="pair")
    d = xr.DataArray(inp.pairs["destination"].to_numpy(), dims="pair")
    got = exp_flow.sel(origin=o, destination=d).transpose("sample", "pair").values
    np.testing.assert_allclose(got, np.exp(picked.values) / 5.0, rtol=1e-6)
    # doubling exposure raises emigration when the stress coefficient is positive (per draw)
    ex = out["expected_migration_flow"].where(~out["internal"]).sum("destination").isel(year=0)
    hi, lo = ex.sel(scenario="ssp585"), ex.sel(scenario="ssp126")
    sign = np.sign(hi - lo).isel(climate_model=0, origin=0).values
    beta = posterior_draws(idata, 40, 5)["mig_climate_stress"].values
    np.testing.assert_array_equal(sign, np.sign(beta))


@pytest.mark.slow
def test_emigration_bound_from_fitted_flows(world) -> None:
    from climmig.migration.model import max_emigration_rate

    f, cov, geo, reg, _ = world
    inp = migration_inputs(f, cov, geo, reg)
    idata = prior_idata(build_migration_model(inp), inp, draws=40)
    # the bound is the highest annual emigration rate of the (here simulated) observed flows, by hand
    by_origin = inp.pairs.groupby("origin")["flow"].sum()
    by_hand = by_origin / cov["population"].to_pandas().loc[by_origin.index] / 5.0
    rate, origin = max_emigration_rate(idata)
    assert origin == by_hand.idxmax()
    np.testing.assert_allclose(rate, by_hand.max(), rtol=1e-9)
    regions = list(inp.countries)
    drivers = _drivers(cov, geo, regions, years=(2015,))
    regimes = reg.expand_dims(year=[2015])
    free = predict_flows(idata, drivers, regimes, samples=40, seed=5, max_rate=np.inf)
    out = predict_flows(idata, drivers, regimes, samples=40, seed=5)
    pop = drivers["population"]
    for var in ("migration_flow", "expected_migration_flow", "typical_migration_flow"):
        total = out[var].where(~out["internal"]).sum("destination").rename(origin="region")
        assert bool((total <= rate * pop * (1 + 1e-9)).all()), var
        # internal movement and uncapped origins are untouched
        xr.testing.assert_allclose(out[var].where(out["internal"], 0), free[var].where(free["internal"], 0))
    total_free = free["migration_flow"].where(~free["internal"]).sum("destination").rename(origin="region")
    n_capped = int((total_free > rate * pop).sum())
    assert n_capped > 0  # prior draws are wild: the bound binds in some draws
    assert out.attrs["climmig_capped_draws"] == str(n_capped)
    assert out["cross_border_migration"].attrs["climmig_capped_draws"] == str(n_capped)
    assert out.attrs["climmig_capped_cells"] == str(40 * 2 * 2 * 1 * len(regions))
    assert float(out.attrs["climmig_emigration_cap_rate"]) == pytest.approx(rate, rel=1e-5)
    # the totals-only path (used by the projection and the comparison) gives the full call's totals, bound
    # included, and skips the pair matrices
    totals = predict_flows(idata, drivers, regimes, samples=40, seed=5, totals_only=True)
    assert set(totals.data_vars) == {"internal_migration", "cross_border_migration"}
    for var in totals.data_vars:
        xr.testing.assert_identical(totals[var], out[var].drop_attrs().assign_attrs(totals[var].attrs))
        assert np.array_equal(totals[var].values, out[var].values)
    assert totals.attrs["climmig_capped_draws"] == str(n_capped)
    assert totals["cross_border_migration"].attrs["climmig_capped_draws"] == str(n_capped)


def test_unseen_country_gets_hierarchical_effect(world) -> None:
    f, cov, geo, reg, _ = world
    seen = [code(i) for i in range(10)]
    sub = f[f["origin"].isin(seen) & f["destination"].isin(seen)]
    inp = migration_inputs(sub, cov, geo, reg)
    idata = prior_idata(build_migration_model(inp), inp, draws=30)
    regions = [code(i) for i in range(12)]  # code(10), code(11) unseen
    drivers = _drivers(cov, geo, regions)
    regimes = reg.expand_dims(year=[2030, 2040])
    out = predict_flows(idata, drivers, regimes, samples=30, seed=2)
    flows = out["expected_migration_flow"]
    assert np.isfinite(flows).all()
    assert float(flows.sel(origin=code(10), destination=code(0)).std("sample").isel(
        scenario=0, climate_model=0, year=0)) > 0
    again = predict_flows(idata, drivers, regimes, samples=30, seed=2)
    xr.testing.assert_identical(out["migration_flow"], again["migration_flow"])


def test_regime_change_effect_sign(world) -> None:
    f, cov, geo, reg, _ = world
    inp = migration_inputs(f, cov, geo, reg)
    idata = prior_idata(build_migration_model(inp), inp, draws=30)
    regions = list(inp.countries)
    drivers = _drivers(cov, geo, regions)
    base = reg.expand_dims(year=[2030, 2040]).copy()
    assert str(base.sel(year=2030, origin=code(0), destination=code(11)).item()) == "unilateral"
    change = BorderRegimeChange(id="fm", regime="regional", from_year=2035, countries=[code(0), code(11), "XXX"])
    changed = apply_regime_changes(base, [change])
    eff = regime_change_effect(idata, drivers, base, changed, samples=30, seed=4, max_rate=np.inf)
    diff = eff["cross_border_change"]
    assert diff.dims == ("sample", "scenario", "climate_model", "year", "region")
    np.testing.assert_allclose(diff.sel(year=2030).values, 0.0, atol=1e-9)  # before the change
    assert float(np.abs(diff.sel(year=2040, region=code(5))).max()) < 1e-9  # not a member
    # C00 and C11 were unilateral to each other and become regional: C00's emigration changes with the
    # sign of the regional effect, draw by draw
    beta = posterior_draws(idata, 30, 4)["mig_regime_regional"].values
    got = np.sign(diff.sel(year=2040, region=code(0)).isel(scenario=0, climate_model=0).values)
    np.testing.assert_array_equal(got, np.sign(beta))
    assert "quantile" in eff["cross_border_change_quantiles"].dims
    typ = eff["cross_border_change_typical"].sel(year=2040, region=code(0)).isel(scenario=0, climate_model=0)
    np.testing.assert_array_equal(np.sign(typ.values), np.sign(beta))


def test_flow_drivers_from_exposure_stage(world) -> None:
    from climmig.migration.model import flow_drivers

    _, cov, geo, _, _ = world
    regions = [code(i) for i in range(3)]
    dims5 = ("hazard", "scenario", "climate_model", "year", "region")
    coords = {"hazard": ["flood", "heat"], "scenario": ["ssp126"], "climate_model": ["GFDL-ESM4"],
              "year": [2030], "region": regions}
    exposed = xr.DataArray(np.full((2, 1, 1, 1, 3), 30.0), dims=dims5, coords=coords)
    base = xr.DataArray(np.array([[[10.0, 10.0, 0.0]], [[30.0, 30.0, 0.0]]]),
                        dims=("hazard", "climate_model", "region"),
                        coords={"hazard": coords["hazard"], "climate_model": coords["climate_model"],
                                "region": regions})
    pop0 = cov["population"].sel(region=regions)
    # the first region's population doubles by 2030: its exposed share, not its exposed count, is compared
    growth = xr.DataArray([2.0, 1.0, 1.0], dims="region", coords={"region": regions})
    pop = (pop0 * growth).expand_dims(scenario=["ssp126"], year=[2030])
    exposure = xr.Dataset({"population": pop, "gdp_per_capita": pop * 0 + 1000.0,
                           "exposed_population": exposed, "exposed_population_baseline": base,
                           "population_baseline": pop0})
    d = flow_drivers(exposure, cov, geo)
    r = d["exposure_ratio"].sel(scenario="ssp126", climate_model="GFDL-ESM4", year=2030)
    np.testing.assert_allclose(r.sel(hazard="flood").values, [1.5, 3.0, 1.0])  # zero baseline -> 1
    np.testing.assert_allclose(r.sel(hazard="heat").values, [0.5, 1.0, 1.0])
    with pytest.raises(DataError, match="population_baseline"):
        flow_drivers(exposure.drop_vars("population_baseline"), cov, geo)
    assert d["distance_km"].dims == ("origin", "destination") and d.sizes["origin"] == 3
    assert d["exposure_ratio"].attrs["units"] == "1"


def test_origin_income_acts_through_the_fit_period_income(world) -> None:
    f, cov, geo, reg, _ = world
    inp = migration_inputs(f, cov, geo, reg)
    idata = prior_idata(build_migration_model(inp), inp, draws=20)
    regions = list(inp.countries)
    drivers = _drivers(cov, geo, regions, years=(2015,))
    regimes = reg.expand_dims(year=[2015])
    kw = {"samples": 20, "seed": 3, "max_rate": np.inf}
    base = predict_flows(idata, drivers, regimes, **kw)["expected_migration_flow"]
    # projected income growth common to all countries leaves cross-border flows unchanged (the
    # differential is unchanged and the origin-income part of the origin effect is the fit period's)
    richer = predict_flows(idata, drivers.assign(gdp_per_capita=drivers["gdp_per_capita"] * 10), regimes,
                           **kw)["expected_migration_flow"]
    xr.testing.assert_allclose(richer, base)
    # a higher fit-period income of one origin scales its emigration by exp(b * dlog), draw by draw
    bumped = drivers["gdp_per_capita_baseline"].copy()
    bumped.loc[{"region": code(0)}] *= np.e
    out = predict_flows(idata, drivers.assign(gdp_per_capita_baseline=bumped), regimes, **kw)
    b = posterior_draws(idata, 20, 3)["mig_origin_income"]
    ratio = (out["expected_migration_flow"] / base).sel(origin=code(0), destination=code(1))
    np.testing.assert_allclose(ratio.isel(scenario=0, climate_model=0, year=0).values, np.exp(b.values),
                               rtol=1e-6)
    with pytest.raises(DataError, match="gdp_per_capita_baseline"):
        predict_flows(idata, drivers.drop_vars("gdp_per_capita_baseline"), regimes, **kw)
