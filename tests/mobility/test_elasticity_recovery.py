"""Recovery of the exposure elasticity gamma from data simulated with a known gamma and a known log E."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from climmig.config.schema import SamplerSpec
from climmig.mobility.displacement import build_displacement_model
from climmig.mobility.fit import fit
from climmig.mobility.hazard_history import elasticity_summary
from climmig.mobility.priors import resolve_priors
from climmig.mobility.simulate import simulate_displacement


@pytest.mark.slow
def test_gamma_recovered_where_log_e_varies_and_prior_kept_where_not() -> None:
    # flood: log E varies within countries (sd 1, about the spread of the DFO index), true gamma 0.4 (far from
    # the prior mean 1, i.e. 2.4 prior sds away); storm: log E = 0, so gamma can only keep its prior
    rng = np.random.default_rng(11)
    inputs, truth = simulate_displacement(rng, n_countries=40, n_years=10, hazards=("flood", "storm"),
                                          n_regions=3, return_truth=True, exposure_elasticity=[0.4, 1.0],
                                          log_exposure_sd=[1.0, 0.0])
    assert np.std(inputs.log_exposure_ratio[inputs.hazard_idx == 0]) > 0.8
    priors = resolve_priors()
    model = build_displacement_model(inputs, priors)
    idata = fit(model, SamplerSpec(backend="nutpie", draws=400, tune=400, chains=2), random_seed=5,
                model_name="gamma_recovery")
    hdi = az.hdi(idata.posterior["exposure_elasticity"], hdi_prob=0.94)["exposure_elasticity"]
    lo, hi = (float(hdi.sel(hazard="flood", hdi="lower")), float(hdi.sel(hazard="flood", hdi="higher")))
    assert lo <= 0.4 <= hi, (lo, hi)
    assert not lo <= 1.0 <= hi, (lo, hi)  # the prior mean is rejected: the data, not the prior, speak
    s = elasticity_summary(idata, priors, {"flood": "simulated"}).set_index("hazard")
    assert s.loc["flood", "sd_ratio"] <= 0.5, s
    assert s.loc["flood", "identified"] and s.loc["flood", "source"] == "simulated"
    # storm had no exposure variation: its posterior is its prior (sd ratio near 1), and the summary says so
    assert 0.85 <= s.loc["storm", "sd_ratio"] <= 1.15, s
    assert abs(s.loc["storm", "posterior_mean"] - 1.0) < 0.1, s
    assert not s.loc["storm", "identified"] and s.loc["storm", "source"].startswith("prior")
