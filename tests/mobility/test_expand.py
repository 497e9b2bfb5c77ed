"""Constrained values and deterministics computed from the free draws (climmig.mobility.expand)."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from climmig.mobility.expand import expand_posterior, free_value_names


def _model() -> pm.Model:
    coords = {"region": ["a", "b", "c", "d"], "hazard": ["flood", "drought"]}
    with pm.Model(coords=coords) as m:
        sigma = pm.HalfNormal("sigma", 1.0)
        share = pm.Beta("share", 2.0, 3.0, dims="hazard")
        raw = pm.ZeroSumNormal("raw", sigma=1.0, dims=("region", "hazard"))
        mu = pm.Normal("mu", 0.0, 1.0, dims="hazard")
        pm.Deterministic("effect", mu[None, :] + sigma * raw * share[None, :], dims=("region", "hazard"))
        pm.Deterministic("total", pm.math.exp(mu).sum())
        pm.Normal("y", mu.sum(), 1.0, observed=np.array([0.3, -0.1]))
    return m


def _free_posterior(model: pm.Model, rng: np.random.Generator, chains: int = 2, draws: int = 7) -> xr.Dataset:
    point = model.initial_point()
    data = {n: (("chain", "draw", *[f"{n}_dim_{i}" for i in range(np.ndim(point[n]))]),
                rng.normal(size=(chains, draws, *np.shape(point[n]))))
            for n in free_value_names(model)}
    return xr.Dataset(data, coords={"chain": np.arange(chains), "draw": np.arange(draws)},
                      attrs={"model_name": "toy"})


def test_expansion_matches_pymc_point_by_point(rng) -> None:
    """Every constrained value and deterministic equals PyMC's own per-draw evaluation."""
    model = _model()
    post = _free_posterior(model, rng)
    out = expand_posterior(post, model)
    names = [v.name for v in model.unobserved_value_vars]
    assert list(out.data_vars) == names
    assert out.attrs == {"model_name": "toy"}
    assert out["effect"].dims == ("chain", "draw", "region", "hazard")
    assert list(out["region"].values) == ["a", "b", "c", "d"]
    point_fn = model.compile_fn(model.unobserved_value_vars, inputs=model.value_vars, point_fn=False,
                                mode="FAST_COMPILE")
    for c in range(post.sizes["chain"]):
        for d in range(post.sizes["draw"]):
            point = {n: post[n].values[c, d] for n in free_value_names(model)}
            want = point_fn(**point)
            for name, value in zip(names, want, strict=True):
                np.testing.assert_allclose(out[name].values[c, d], value, rtol=1e-12, atol=1e-14)
    # the constrained values obey their constraints
    assert (out["sigma"] > 0).all() and ((out["share"] > 0) & (out["share"] < 1)).all()
    np.testing.assert_allclose(out["raw"].sum("hazard"), 0.0, atol=1e-12)  # zero-sum over the last axis


def test_expansion_refuses_a_posterior_without_the_free_variables(rng) -> None:
    model = _model()
    post = _free_posterior(model, rng).drop_vars("mu")
    with pytest.raises(ValueError, match="mu"):
        expand_posterior(post, model)


@pytest.mark.slow
def test_nutpie_fit_holds_the_deterministics_and_constrained_values() -> None:
    """A nutpie fit traces only the free variables; the fit still holds everything PyMC's would."""
    from climmig.config.schema import SamplerSpec
    from climmig.mobility.fit import fit

    model = _model()
    idata = fit(model, SamplerSpec(backend="nutpie", draws=50, tune=50, chains=2), random_seed=3,
                model_name="toy")
    names = free_value_names(model) + [v.name for v in model.unobserved_value_vars
                                       if v.name not in free_value_names(model)]
    assert list(idata.posterior.data_vars) == names
    sigma = idata.posterior["sigma"]
    np.testing.assert_allclose(sigma, np.exp(idata.posterior["sigma_log__"]), rtol=1e-12)
    want = (idata.posterior["mu"] + sigma * idata.posterior["raw"] * idata.posterior["share"])
    np.testing.assert_allclose(idata.posterior["effect"], want.transpose(*idata.posterior["effect"].dims),
                               rtol=1e-12)


def test_a_value_that_depends_on_no_free_variable_is_repeated_in_every_draw(rng) -> None:
    """The displacement model's hazard factors are a constant 0 with a single hazard (observations with hazard
    'all'); the compiled expansion returns such a value unbatched, and it must fill every draw."""
    import pytensor.tensor as pt

    with pm.Model(coords={"hazard": ["all"]}) as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        d = pm.Deterministic("d", pt.zeros(1), dims="hazard")
        pm.Deterministic("level", mu + d, dims="hazard")
        pm.Normal("y", mu, 1.0, observed=np.array([0.2]))
    post = _free_posterior(model, rng, chains=2, draws=5)
    out = expand_posterior(post, model)
    assert out["d"].shape == (2, 5, 1) and float(np.abs(out["d"]).max()) == 0.0
    np.testing.assert_allclose(out["level"].values[..., 0], out["mu"].values)
