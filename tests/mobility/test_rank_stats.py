"""The vectorised R-hat and ESS equal ArviZ's per-quantity computation."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from climmig.mobility import rank_stats
from climmig.mobility.rank_stats import ess_bulk, ess_tail, rhat_rank


def _ar1(rng: np.random.Generator, chains: int, draws: int, phi: float) -> np.ndarray:
    e = rng.normal(size=(chains, draws))
    for t in range(1, draws):
        e[:, t] += phi * e[:, t - 1]
    return e


def _arviz(x: np.ndarray) -> dict[str, np.ndarray]:
    ds = xr.Dataset({"v": (("chain", "draw", "q"), x)})
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"rhat": az.rhat(ds)["v"].values, "bulk": az.ess(ds, method="bulk")["v"].values,
                "tail": az.ess(ds, method="tail")["v"].values}


def _mine(x: np.ndarray) -> dict[str, np.ndarray]:
    return {"rhat": rhat_rank(x), "bulk": ess_bulk(x), "tail": ess_tail(x)}


def _assert_same(x: np.ndarray) -> None:
    ref, got = _arviz(x), _mine(x)
    for key in ref:
        np.testing.assert_array_equal(np.isnan(got[key]), np.isnan(ref[key]), err_msg=key)
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-9, err_msg=key)


def test_matches_arviz_on_awkward_chains(monkeypatch) -> None:
    # antithetic, independent and strongly autocorrelated chains, a constant, ties, a stuck chain and a NaN;
    # a block smaller than the number of quantities exercises the blockwise loop
    monkeypatch.setattr(rank_stats, "_BLOCK", 7)
    rng = np.random.default_rng(3)
    chains, draws = 4, 301
    cols = [_ar1(rng, chains, draws, phi) for phi in np.linspace(-0.7, 0.98, 24)]
    cols.append(np.full((chains, draws), 2.5))
    cols.append(np.round(_ar1(rng, chains, draws, 0.5)))
    stuck = _ar1(rng, chains, draws, 0.3)
    stuck[1] = 4.0
    cols.append(stuck)
    shifted = _ar1(rng, chains, draws, 0.2)
    shifted[0] += 3.0
    cols.append(shifted)
    with_nan = _ar1(rng, chains, draws, 0.2)
    with_nan[2, 10] = np.nan
    cols.append(with_nan)
    cols.append((rng.random((chains, draws)) < 0.03).astype(float))  # rare indicator: tail ESS edge cases
    x = np.stack(cols, axis=2)
    _assert_same(x)
    got = _mine(x)
    assert np.isnan(got["rhat"][24])  # the constant: no variance at all
    assert got["bulk"][24] == 2 * chains * (draws // 2)  # the draws of the split chains
    assert got["rhat"][27] > 1.3  # the chain shifted by 3 sd is caught
    assert got["bulk"][0] > chains * draws  # antithetic draws: ESS above the number of draws
    assert np.isnan(got["bulk"][28]) and np.isnan(got["rhat"][28])


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(chains=st.integers(1, 4), draws=st.integers(4, 60), phi=st.floats(-0.9, 0.95), seed=st.integers(0, 2**16))
def test_matches_arviz_for_any_shape(chains: int, draws: int, phi: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.stack([_ar1(rng, chains, draws, phi), np.round(_ar1(rng, chains, draws, phi))], axis=2)
    _assert_same(x)


def test_tail_quantile_on_a_draw_matches_arviz() -> None:
    # 41 draws: the 95 % quantile falls on a draw; np.quantile lands on it and ArviZ's mquantiles just
    # below it, so an indicator built with np.quantile counted one draw more (tail ESS 28.6 against 38.9)
    rng = np.random.default_rng(0)
    x = np.stack([_ar1(rng, 1, 41, 0.0), np.round(_ar1(rng, 1, 41, 0.0))], axis=2)
    _assert_same(x)


@pytest.mark.parametrize(("chains", "draws", "phi", "seed"), [(2, 51, -0.5, 2), (2, 4, 0.75, 20542)])
def test_cases_hypothesis_found(chains: int, draws: int, phi: float, seed: int) -> None:
    # (2, 51, -0.5, 2): two autocorrelations of the 95 % indicator cancel to 1e-16, and np.var's rounding of
    # the between-chain variance flipped the sign of their sum (tail ESS 110.2 against ArviZ's 122.3);
    # (2, 4, 0.75, 20542): chains stuck at different integers (R-hat inf in ArviZ, NaN before)
    rng = np.random.default_rng(seed)
    _assert_same(np.stack([_ar1(rng, chains, draws, phi), np.round(_ar1(rng, chains, draws, phi))], axis=2))


def test_chains_stuck_at_different_values_have_infinite_rhat() -> None:
    # every chain constant, the chains different: the fold is constant (its R-hat is NaN), the bulk R-hat
    # infinite; the quantity must fail the gate, not drop out of it as NaN
    x = np.repeat(np.array([0.0, 1.0])[:, None, None], 8, axis=1)
    x = np.concatenate([x, np.random.default_rng(1).normal(size=(2, 8, 1))], axis=2)
    _assert_same(x)
    assert np.isinf(rhat_rank(x)[0])


def test_rejects_a_wrong_shape() -> None:
    with pytest.raises(ValueError, match="chain, draw, quantity"):
        rhat_rank(np.zeros((4, 100)))
