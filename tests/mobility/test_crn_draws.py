"""Count draws with common random numbers: exact quantiles, right moments, draws that move only with their mean."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from climmig.migration.model import build_migration_model, migration_inputs, predict_flows
from climmig.mobility.crn_draws import EXACT_BELOW, negbin_draws, poisson_quantile
from tests.mobility.test_migration import _drivers, prior_idata, simulate_world


@settings(max_examples=200, deadline=None)
@given(lam=st.floats(0.0, EXACT_BELOW - 1e-9), u=st.floats(1e-9, 0.999999))
def test_poisson_quantile_is_exact_below_the_switch(lam: float, u: float) -> None:
    got = poisson_quantile(np.array([u]), np.array([lam]))[0]
    assert got == stats.poisson.ppf(u, lam)


@pytest.mark.slow
def test_poisson_quantile_within_one_count_above_the_switch(rng) -> None:
    for lam in (EXACT_BELOW, 120.0, 3e3, 1e6):
        u = rng.random(20000)
        diff = np.abs(poisson_quantile(u, np.full(u.shape, lam)) - stats.poisson.ppf(u, lam))
        assert diff.max() <= 1 and diff.mean() < 0.02


def test_negbin_moments(rng) -> None:
    for mu, alpha in ((0.3, 0.5), (8.0, 2.0), (400.0, 0.25), (5e4, 3.0)):
        x = negbin_draws(rng, np.full(200_000, mu), np.full(200_000, alpha))
        assert abs(x.mean() / mu - 1) < 0.03
        assert abs(x.var() / (mu + mu**2 / alpha) - 1) < 0.08
        assert np.all(x == np.round(x)) and x.min() >= 0


def test_negbin_changes_only_where_the_mean_changes_and_monotonically(rng) -> None:
    mu = rng.gamma(0.5, 2e3, (300, 40))
    alpha = np.full(mu.shape, 0.3)
    lower = mu.copy()
    lower[:, :10] *= 0.4  # a measure acting on the first ten years only
    x = negbin_draws(np.random.default_rng(3), mu, alpha)
    y = negbin_draws(np.random.default_rng(3), lower, alpha)
    np.testing.assert_array_equal(x[:, 10:], y[:, 10:])
    assert np.all(y <= x)
    # numpy's own gamma-Poisson sampler fails this: its rejection steps consume a mean-dependent stream
    r1, r2 = np.random.default_rng(3), np.random.default_rng(3)
    old_x = r1.poisson(r1.gamma(alpha, mu / alpha))
    old_y = r2.poisson(r2.gamma(alpha, lower / alpha))
    assert not np.array_equal(old_x[:, 10:], old_y[:, 10:])


def test_flows_of_untouched_years_are_identical_under_a_measure(rng) -> None:
    f, cov, geo, reg, _ = simulate_world(rng, n=8)
    inp = migration_inputs(f, cov, geo, reg)
    idata = prior_idata(build_migration_model(inp), inp, draws=30)
    regions = list(inp.countries)
    years = (2030, 2040, 2050)
    drivers = _drivers(cov, geo, regions, years=years)
    regimes = reg.expand_dims(year=list(years))
    # lower exposure in 2030 only (e.g. a protection that has worn out by 2040)
    ratio = drivers["exposure_ratio"]
    measured = drivers.assign(exposure_ratio=xr.where(ratio["year"] == 2030, ratio * 0.5, ratio))
    base = predict_flows(idata, drivers, regimes, samples=30, seed=9, totals_only=True)
    alt = predict_flows(idata, measured, regimes, samples=30, seed=9, totals_only=True)
    for v in ("cross_border_migration", "internal_migration"):
        xr.testing.assert_equal(base[v].sel(year=[2040, 2050]), alt[v].sel(year=[2040, 2050]))
    assert not base["cross_border_migration"].sel(year=2030).equals(alt["cross_border_migration"].sel(year=2030))


def test_undefined_means_stay_undefined() -> None:
    got = poisson_quantile(np.array([0.3, 0.3, 0.3]), np.array([np.nan, 0.0, 80.0]))
    assert np.isnan(got[0]) and got[1] == 0.0 and got[2] == stats.poisson.ppf(0.3, 80.0)
