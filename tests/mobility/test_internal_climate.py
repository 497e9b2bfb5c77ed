"""Internal moves for climate reasons: PRMN series, importance-sampling fit (recovery), carried posterior."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from climmig.errors import DataError
from climmig.migration.internal_climate import (
    elasticity_table,
    fit_internal_climate,
    internal_draws_with_climate_posterior,
    prmn_yearly,
)


def _series(rng: np.random.Generator, beta: float, n_years: int = 30, alpha: float = 3.0) -> pd.DataFrame:
    rows = []
    for reason, m in (("drought", 0.02), ("flood", 0.01)):
        for k in range(n_years):
            ler = rng.normal(0, 0.6)
            pop = 1.5e7 * (1.03**k)
            mu = pop * m * np.exp(beta * ler)
            rows.append({"reason": reason, "year": 2000 + k, "moves": float(rng.poisson(rng.gamma(alpha, mu / alpha))),
                         "population": pop, "log_exposure_ratio": ler})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("beta", [0.8, -0.5])
def test_fit_recovers_the_climate_elasticity_of_either_sign(beta: float) -> None:
    fit = fit_internal_climate(_series(np.random.default_rng(4), beta), draws=2000, proposals=200_000, seed=1,
                               min_ess=200)
    lo, hi = np.quantile(fit["climate_elasticity"], [0.005, 0.995])
    assert lo <= beta <= hi
    assert hi - lo < 1.5  # the data narrow the N(0, 1) prior
    r_lo, r_hi = np.quantile(fit["rate_drought"], [0.005, 0.995])
    assert r_lo <= 0.02 <= r_hi
    tab = elasticity_table(fit)
    assert set(tab["distribution"]) == {"prior", "posterior"}


def test_held_out_years_fall_in_the_predictive_interval() -> None:
    s = _series(np.random.default_rng(9), 0.6)
    train, test = s[s["year"] < 2024], s[s["year"] >= 2024]
    fit = fit_internal_climate(train, draws=2000, proposals=200_000, seed=2, min_ess=200)
    rng = np.random.default_rng(3)
    inside = []
    for row in test.itertuples(index=False):
        mu = row.population * fit[f"rate_{row.reason}"].values * np.exp(fit["climate_elasticity"].values
                                                                         * row.log_exposure_ratio)
        a = fit["alpha"].values
        y = rng.poisson(rng.gamma(a, mu / a))
        lo, hi = np.quantile(y, [0.05, 0.95])
        inside.append(lo <= row.moves <= hi)
    assert np.mean(inside) >= 0.75


def test_low_effective_sample_size_is_refused() -> None:
    with pytest.raises(DataError, match="effective sample size"):
        fit_internal_climate(_series(np.random.default_rng(1), 0.5, n_years=60), proposals=2000, seed=1,
                             min_ess=1000)


def test_posterior_elasticity_replaces_the_prior_only_for_the_elasticity() -> None:
    fit = fit_internal_climate(_series(np.random.default_rng(4), 0.8), draws=500, proposals=100_000, seed=1,
                               min_ess=100)
    prior = internal_draws_with_climate_posterior(None, 300, 5)
    post = internal_draws_with_climate_posterior(fit, 300, 5)
    np.testing.assert_array_equal(prior["out_rate"], post["out_rate"])
    assert set(np.round(post["climate_elasticity"].values, 12)) <= set(np.round(fit["climate_elasticity"].values, 12))
    assert "PRMN" in post.attrs["climmig_internal_source"]


def test_prmn_yearly_keeps_complete_years_and_climate_reasons() -> None:
    df = pd.DataFrame({"year": [2016] * 12 + [2017], "month": list(range(1, 13)) + [1],
                       "reason": ["drought"] * 6 + ["flood"] * 3 + ["conflict"] * 3 + ["drought"],
                       "individuals": [10] * 13})
    out = prmn_yearly(df)
    assert list(out.index) == [2016]
    assert out.loc[2016, "drought"] == 60 and out.loc[2016, "flood"] == 30
