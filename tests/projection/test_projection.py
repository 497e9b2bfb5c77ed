"""Projection: posterior-predictive sampling, summaries, intervals and the variance partition."""

from __future__ import annotations

import math
from contextlib import contextmanager

import dask
import numpy as np
import pytest
import xarray as xr

from climmig.projection import (
    central_intervals,
    expected_negbin,
    horizon_mean,
    horizon_sum,
    partition_variance,
    projection_summary,
    sample_negbin,
    summarise,
)


@contextmanager
def no_compute():
    def _refuse(*args, **kwargs):
        raise AssertionError("a lazy function triggered a dask computation")

    with dask.config.set(scheduler=_refuse):
        yield


def _case(rng, n=6, scen=("ssp126", "ssp585"), models=("M1", "M2", "M3"), years=range(2025, 2031)):
    regions = ["SOM", "KEN"]
    a = xr.DataArray(rng.normal(-6, 0.3, n), dims="sample", coords={"sample": np.arange(n)})
    b = xr.DataArray(rng.normal(1.0, 0.2, n), dims="sample", coords={"sample": np.arange(n)})
    er = xr.DataArray(
        rng.uniform(0.5, 2.0, (len(scen), len(models), len(years), len(regions))),
        dims=("scenario", "climate_model", "year", "region"),
        coords={"scenario": list(scen), "climate_model": list(models), "year": list(years), "region": regions},
    )
    pop = xr.DataArray(
        rng.uniform(1e6, 1e7, (len(scen), len(years), len(regions))),
        dims=("scenario", "year", "region"),
        coords={"scenario": list(scen), "year": list(years), "region": regions},
    )
    return a, b, er, pop


def test_projection_equals_independent_per_draw_computation(rng):
    a, b, er, pop = _case(rng)
    alpha = xr.DataArray(rng.uniform(1, 5, a.sizes["sample"]), dims="sample", coords={"sample": a["sample"]})
    mu = expected_negbin(a, b, er, pop).transpose("sample", "scenario", "climate_model", "year", "region")
    mu_lazy = mu.chunk({"sample": 1})
    with no_compute():
        draws = sample_negbin(mu_lazy, alpha, seed=7)
    draws = draws.compute()
    for i in range(a.sizes["sample"]):
        ai, bi, alph = float(a[i]), float(b[i]), float(alpha[i])
        exp_i = np.empty(mu.shape[1:])
        for s, sc in enumerate(er.scenario.values):
            for m, cm in enumerate(er.climate_model.values):
                for t, yr in enumerate(er.year.values):
                    for r, rg in enumerate(er.region.values):
                        ratio = float(er.sel(scenario=sc, climate_model=cm, year=yr, region=rg))
                        people = float(pop.sel(scenario=sc, year=yr, region=rg))
                        exp_i[s, m, t, r] = math.exp(ai + bi * math.log(ratio)) * people
        np.testing.assert_allclose(mu.isel(sample=i).values, exp_i, rtol=1e-12)
        # the block of draw i is seeded by its position (i, 0, 0, 0, 0)
        gen = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(i, 0, 0, 0, 0)))
        want = gen.negative_binomial(alph, alph / (alph + exp_i))
        np.testing.assert_array_equal(draws.isel(sample=i).values, want)


def test_sampled_mean_matches_expected(rng):
    mu = xr.DataArray(np.full((4000, 3), 50.0), dims=("sample", "region"))
    x = sample_negbin(mu, 3.0, seed=1)
    assert abs(float(x.mean()) - 50.0) < 1.5
    # negative binomial variance mu + mu^2 / alpha
    assert abs(float(x.var()) / (50 + 50**2 / 3) - 1) < 0.1


def test_inversion_sampler_uses_common_random_numbers(rng):
    mu = xr.DataArray(rng.uniform(0, 1e4, (50, 20)), dims=("sample", "year"))
    lower = mu.where(mu.year >= 10, mu * 0.5)
    x = sample_negbin(mu, 2.0, seed=5, method="inversion")
    y = sample_negbin(lower, 2.0, seed=5, method="inversion")
    np.testing.assert_array_equal(x.isel(year=slice(10, None)).values, y.isel(year=slice(10, None)).values)
    assert bool((y <= x).all())
    big = sample_negbin(xr.DataArray(np.full(20000, 30.0), dims="sample"), 3.0, seed=2, method="inversion")
    assert abs(float(big.mean()) - 30) < 1.0


def test_zero_exposure_and_zero_mean(rng):
    a, b, er, pop = _case(rng, n=3)
    er = er * 0
    mu = expected_negbin(a, b, er, pop)
    assert float(abs(mu).max()) == 0.0
    assert float(sample_negbin(mu, 2.0, seed=3).max()) == 0.0
    assert float(sample_negbin(mu, 2.0, seed=3, method="inversion").max()) == 0.0


def test_intervals_nest_and_summaries_match_numpy(rng):
    da = xr.DataArray(rng.gamma(2.0, 3.0, (500, 4, 3)), dims=("sample", "year", "region"),
                      coords={"year": [2025, 2026, 2027, 2028]}, attrs={"units": "1", "long_name": "people"})
    ci = central_intervals(da, levels=(0.5, 0.9))
    assert (ci["lower"].sel(level=0.9) <= ci["lower"].sel(level=0.5)).all()
    assert (ci["upper"].sel(level=0.5) <= ci["upper"].sel(level=0.9)).all()
    assert (ci["lower"].sel(level=0.5) <= ci["median"]).all()
    assert (ci["median"] <= ci["upper"].sel(level=0.5)).all()
    s = summarise(da, [0.05, 0.5, 0.95])
    np.testing.assert_allclose(s["quantiles"].transpose("quantile", ...).values,
                               np.quantile(da.values, [0.05, 0.5, 0.95], axis=0))
    np.testing.assert_allclose(s["mean"].values, da.values.mean(axis=0))
    assert s["mean"].attrs["units"] == "1"
    with pytest.raises(ValueError, match="strictly between"):
        summarise(da, [0.0, 0.5])


def test_summaries_stay_lazy(rng):
    da = xr.DataArray(rng.normal(size=(50, 6)), dims=("sample", "year"),
                      coords={"year": np.arange(2025, 2031)}).chunk({"sample": 10})
    with no_compute():
        s = summarise(da)
        ci = central_intervals(da)
        h = horizon_mean(da, [("a", 2025, 2027)])
    assert s["quantiles"].chunks is not None and ci["lower"].chunks is not None and h.chunks is not None


def test_horizon_mean_and_sum():
    da = xr.DataArray(np.arange(6.0), dims="year", coords={"year": np.arange(2025, 2031)},
                      attrs={"units": "1", "long_name": "people"})
    m = horizon_mean(da, [("near", 2025, 2026), ("late", 2028, 2030)])
    assert m.sel(horizon="near") == 0.5 and m.sel(horizon="late") == 4.0
    assert list(m["horizon_start"].values) == [2025, 2028]
    s = horizon_sum(da, [("late", 2028, 2030)])
    assert float(s.sel(horizon="late")) == 12.0
    with pytest.raises(ValueError, match="no year"):
        horizon_mean(da, [("far", 2090, 2100)])


def test_variance_partition_sums_to_total(rng):
    n, nm, ny = 1000, 4, 5
    dims = ("sample", "scenario", "climate_model", "year")
    coords = {"scenario": ["a", "b", "c"], "climate_model": list("wxyz"), "year": np.arange(2030, 2035)}
    expected = xr.DataArray(
        np.exp(rng.normal(0, 0.2, (n, 1, 1, 1)) + np.array([0, 0.5, 1.0])[None, :, None, None]
               + rng.normal(0, 0.3, (1, 1, nm, 1)) + np.linspace(0, 1, ny)[None, None, None, :]) * 100,
        dims=dims, coords=coords, attrs={"units": "1"},
    )
    sampled = xr.DataArray(rng.poisson(expected.values).astype(float), dims=dims, coords=coords,
                           attrs={"units": "1"})
    part = partition_variance(expected, sampled)
    assert list(part["uncertainty"].values) == ["scenario", "climate_model", "parameter", "residual", "total"]
    assert part.dims == ("uncertainty", "year")
    comp = part.sel(uncertainty=["scenario", "climate_model", "parameter", "residual"]).sum("uncertainty")
    np.testing.assert_allclose(comp.values, part.sel(uncertainty="total").values, rtol=1e-10)
    np.testing.assert_allclose(part.sel(uncertainty="total").values,
                               sampled.stack(all=["sample", "scenario", "climate_model"]).var("all").values)
    # parameter + residual is the mean within-cell variance of the draws
    within = sampled.var("sample").mean(["scenario", "climate_model"])
    np.testing.assert_allclose(part.sel(uncertainty=["parameter", "residual"]).sum("uncertainty").values,
                               within.values, rtol=1e-10)
    # Poisson noise: residual variance ~ mean of the expected value
    np.testing.assert_allclose(part.sel(uncertainty="residual").values,
                               expected.mean(["sample", "scenario", "climate_model"]).values, rtol=0.25)


def test_variance_partition_isolates_each_source(rng):
    dims = ("sample", "scenario", "climate_model", "year")
    coords = {"scenario": ["a", "b"], "climate_model": ["m1", "m2"], "year": [2030]}
    only_scen = xr.DataArray(np.array([1.0, 3.0])[None, :, None, None] * np.ones((5, 2, 2, 1)), dims=dims,
                             coords=coords)
    p = partition_variance(only_scen, only_scen)
    np.testing.assert_allclose(p.sel(year=2030).values, [1.0, 0, 0, 0, 1.0], atol=1e-12)
    only_param = xr.DataArray(np.arange(5.0)[:, None, None, None] * np.ones((5, 2, 2, 1)), dims=dims,
                              coords=coords)
    p = partition_variance(only_param, only_param)
    np.testing.assert_allclose(p.sel(year=2030).values, [0, 0, 2.0, 0, 2.0], atol=1e-12)
    with pytest.raises(ValueError, match="lacks"):
        partition_variance(only_param.isel(scenario=0), only_param.isel(scenario=0))


def test_projection_summary(rng):
    a, b, er, pop = _case(rng, n=30)
    mu = expected_negbin(a, b, er, pop).transpose("sample", ...)
    x = sample_negbin(mu, 2.0, seed=1)
    s = projection_summary(mu, x, [("near", 2025, 2027), ("late", 2028, 2030)], [0.05, 0.5, 0.95])
    assert set(s["horizon_mean"].dims) == {"quantile", "scenario", "horizon", "region"}
    hm = x.sel(year=slice(2028, 2030)).mean("year").sel(scenario="ssp585", region="KEN")
    np.testing.assert_allclose(float(s["horizon_mean"].sel(quantile=0.5, scenario="ssp585", horizon="late",
                                                            region="KEN")),
                               np.quantile(hm.values.ravel(), 0.5))
    np.testing.assert_allclose(s["variance_fraction"].sel(uncertainty="total").values, 1.0)
    assert "every posterior draw with every climate model" in s.attrs["climmig_sampling_design"]


def test_horizon_partition_sums_and_averages_chance_out(rng):
    a, b, er, pop = _case(rng, n=200)
    mu = expected_negbin(a, b, er, pop).transpose("sample", ...)
    x = sample_negbin(mu, 2.0, seed=3)
    hz = [("near", 2025, 2027), ("late", 2028, 2030)]
    s = projection_summary(mu, x, hz, [0.5])
    v = s["variance_horizon"]
    assert set(v.dims) == {"uncertainty", "horizon"}
    comp = v.sel(uncertainty=["scenario", "climate_model", "parameter", "residual"]).sum("uncertainty")
    np.testing.assert_allclose(comp.values, v.sel(uncertainty="total").values, rtol=1e-10)
    # the horizon total is the variance of the all-region horizon mean, pooled over draws and cells
    hm = x.sum("region").sel(year=slice(2028, 2030)).mean("year")
    np.testing.assert_allclose(float(v.sel(uncertainty="total", horizon="late")),
                               float(hm.stack(all=["sample", "scenario", "climate_model"]).var("all")))
    # independent yearly noise over 3 years: the residual share of the horizon mean is below the yearly one
    yearly = s["variance_fraction"].sel(uncertainty="residual", year=slice(2028, 2030)).mean("year")
    assert float(s["variance_horizon_fraction"].sel(uncertainty="residual", horizon="late")) < float(yearly)


def test_headline_lines_give_the_median_and_interval_of_the_horizon_mean() -> None:
    from types import SimpleNamespace

    from climmig.projection.uncertainty import headline_lines

    years = np.arange(2081, 2101)
    # sample k has the same all-region total k * 100 in every year; other years are far off and left out
    vals = np.broadcast_to(np.arange(1, 101)[:, None, None, None, None, None] * 50.0, (100, 1, 1, 20, 2, 1))
    da = xr.DataArray(vals, dims=("sample", "scenario", "climate_model", "year", "region", "hazard"),
                      coords={"scenario": ["ssp245"], "year": years})
    late = xr.concat([da, da.assign_coords(year=years + 30) * 1e6], "year")
    (line,) = headline_lines(late, SimpleNamespace(name="late", start=2081, end=2100), ["ssp245"])
    assert line.startswith("displacement per year late (2081-2100), ssp245: median 5,050 (90 % interval")
    assert f"{np.quantile(np.arange(1, 101) * 100.0, 0.05):,.0f}" in line
