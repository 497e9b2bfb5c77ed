"""The vectorised R-hat and ESS equal ArviZ's, quantity by quantity."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from climmig.mobility.mcmc_stats import ess_bulk, ess_tail, rhat_rank


def _ar1(rng: np.random.Generator, chains: int, draws: int, k: int, phi: np.ndarray) -> np.ndarray:
    x = np.empty((chains, draws, k))
    x[:, 0] = rng.standard_normal((chains, k))
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + rng.standard_normal((chains, k))
    return x


def _arviz(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ds = az.convert_to_dataset(x)  # variable "x" with dims (chain, draw, x_dim_0)
    return (az.rhat(ds)["x"].values, az.ess(ds, method="bulk")["x"].values,
            az.ess(ds, method="tail")["x"].values)


def _check(x: np.ndarray) -> None:
    r, eb, et = _arviz(x)
    np.testing.assert_allclose(rhat_rank(x), r, rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(ess_bulk(x), eb, rtol=1e-8, equal_nan=True)
    np.testing.assert_allclose(ess_tail(x), et, rtol=1e-8, equal_nan=True)


def test_matches_arviz_on_autocorrelated_chains() -> None:
    rng = np.random.default_rng(0)
    phi = np.linspace(-0.5, 0.99, 40)  # from anti-correlated to very sticky chains
    x = _ar1(rng, 4, 301, 40, phi)  # odd number of draws: the split drops the middle one
    x[1, :, 5] += 3.0  # one chain stuck elsewhere: R-hat far above 1
    _check(x)
    assert rhat_rank(x)[5] > 1.1


def test_matches_arviz_with_ties_constants_and_bad_values() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 200, 6))
    x[:, :, 0] = np.round(x[:, :, 0])  # many ties (average ranks)
    x[:, :, 1] = 2.5  # constant: ESS is the number of draws, R-hat undefined
    x[2, 17, 2] = np.nan
    x[0, 3, 3] = np.inf
    x[:, :, 4] = (x[:, :, 4] > 1.2).astype(float)  # indicator
    _check(x)
    assert np.isnan(rhat_rank(x)[2]) and np.isnan(ess_bulk(x)[2])  # NaN draws; an infinite one is ranked


def test_one_chain_has_ess_but_no_rhat() -> None:
    x = _ar1(np.random.default_rng(2), 1, 120, 3, np.array([0.0, 0.5, 0.9]))
    assert np.isnan(rhat_rank(x)).all()
    np.testing.assert_allclose(ess_bulk(x), _arviz(x)[1], rtol=1e-8)


@settings(max_examples=25, deadline=None)
@given(chains=st.integers(2, 5), draws=st.integers(4, 60), seed=st.integers(0, 2**31 - 1),
       phi=st.floats(-0.9, 0.99))
def test_matches_arviz_for_any_shape(chains: int, draws: int, seed: int, phi: float) -> None:
    x = _ar1(np.random.default_rng(seed), chains, draws, 3, np.array([phi, 0.0, -phi / 2]))
    _check(x)


@pytest.mark.parametrize("shape", [(2, 3, 2), (1, 2, 1)])
def test_too_few_draws_give_nan(shape: tuple[int, int, int]) -> None:
    x = np.random.default_rng(3).standard_normal(shape)
    assert np.isnan(rhat_rank(x)).all() and np.isnan(ess_bulk(x)).all() and np.isnan(ess_tail(x)).all()
