"""Recovery of the gravity model's parameters from simulated flows (slow: one MCMC fit)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from climmig.config.schema import SamplerSpec
from climmig.migration.model import (
    DEFAULT_MIGRATION_PRIORS,
    build_migration_model,
    fit_attrs,
    migration_inputs,
)
from climmig.mobility.fit import fit
from tests.mobility.test_migration import TRUTH, simulate_world


@pytest.mark.slow
def test_truth_inside_94_hdi() -> None:
    rng = np.random.default_rng(20261122)
    f, cov, geo, reg, (u, v) = simulate_world(rng, n=24)
    inp = migration_inputs(f, cov, geo, reg)
    model = build_migration_model(inp)
    idata = fit(model, SamplerSpec(draws=500, tune=500, chains=2), random_seed=7, model_name="recovery",
                attrs=fit_attrs(inp, DEFAULT_MIGRATION_PRIORS))
    hdi = az.hdi(idata, hdi_prob=0.94)
    outside = []
    for name, value in TRUTH.items():
        lo, hi = (float(x) for x in hdi[name].values)
        if not lo <= value <= hi:
            outside.append(f"{name}: truth {value} outside [{lo:.3f}, {hi:.3f}]")
    # country effects: most inside their 94 % HDI (they are many; allow the expected few misses)
    for var, truth in (("mig_origin_effect", u), ("mig_destination_effect", v)):
        h = hdi[var].values
        inside = np.mean((truth >= h[:, 0]) & (truth <= h[:, 1]))
        if inside < 0.8:
            outside.append(f"{var}: only {inside:.0%} of country effects inside their 94 % HDI")
    assert not outside, "\n".join(outside)
    assert float(az.rhat(idata)["mig_distance_decay"]) < 1.05
