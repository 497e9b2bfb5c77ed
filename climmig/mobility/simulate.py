"""Synthetic displacement data drawn from the model itself, with known parameters (tests, docs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from climmig.mobility.displacement import COVARIATE_NAMES, DisplacementInputs

__all__ = ["simulate_displacement"]


def simulate_displacement(rng: np.random.Generator, *, n_countries: int = 30, n_years: int = 10,
                          hazards: tuple[str, ...] = ("flood", "storm"), n_regions: int = 3,
                          return_truth: bool = False) -> DisplacementInputs | tuple[DisplacementInputs,
                                                                                    dict[str, Any]]:
    """Simulate inputs and counts from the displacement model's generative process.

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeded generator.
    n_countries, n_years, n_regions : int
        Panel size.
    hazards : tuple of str
        Hazard names.
    return_truth : bool
        Also return the true parameter values.

    Returns
    -------
    DisplacementInputs or (DisplacementInputs, dict)
        Inputs in the layout of :func:`~climmig.mobility.displacement.prepare_inputs` (all cells observed,
        non-centred everywhere); the truth dict has ``intercept``, ``beta``, ``sigma_region``,
        ``sigma_country``, ``sigma_year``, ``alpha``, ``country_effect``, ``year_shock``.
    """
    nh, nk = len(hazards), len(COVARIATE_NAMES)
    countries = [f"C{i:02d}" for i in range(n_countries)]
    years = list(range(2000, 2000 + n_years))
    regions = [f"R{i}" for i in range(n_regions)]
    creg = np.arange(n_countries) % n_regions
    truth: dict[str, Any] = {
        "intercept": rng.normal(-9.0, 1.0, nh),
        "beta": rng.normal(0.0, 0.4, (nk, nh)),
        "sigma_region": 0.6,
        "sigma_country": np.full(nh, 1.0),
        "sigma_year": np.full(nh, 0.4),
        "alpha": np.full(nh, 1.5),
    }
    truth["region_effect"] = rng.normal(0, truth["sigma_region"], (n_regions, nh))
    truth["country_effect"] = truth["region_effect"][creg] + rng.normal(0, 1, (n_countries, nh)) * \
        truth["sigma_country"]
    truth["year_shock"] = rng.normal(0, 1, (n_years, nh)) * truth["sigma_year"]
    ci, ti, hi = (a.ravel() for a in np.meshgrid(np.arange(n_countries), np.arange(n_years), np.arange(nh),
                                                 indexing="ij"))
    logpop_c = rng.uniform(np.log(1e6), np.log(2e8), n_countries)
    logpop = logpop_c[ci] + 0.01 * ti
    X_ct = rng.normal(0, 1, (n_countries, n_years, nk))
    X = X_ct[ci, ti]
    eta = (logpop + truth["intercept"][hi] + (X * truth["beta"][:, hi].T).sum(1)
           + truth["country_effect"][ci, hi] + truth["year_shock"][ti, hi])
    mu = np.exp(eta)
    a = truth["alpha"][hi]
    y = rng.poisson(rng.gamma(a, mu / a))
    inputs = DisplacementInputs(
        coords={"country": countries, "year": years, "hazard": list(hazards), "covariate": list(COVARIATE_NAMES),
                "world_region": regions, "obs": list(range(y.size))},
        displacements=y.astype(np.int64), log_population=logpop, log_exposure_ratio=np.zeros(y.size),
        covariates=X, country_idx=ci, year_idx=ti, hazard_idx=hi, country_region_idx=creg,
        centred_country=np.zeros((n_countries, nh), bool), centred_region=np.zeros((n_regions, nh), bool),
        centred_year=np.zeros((n_years, nh), bool),
        scaling={n: {"transform": "identity", "mean": 0.0, "sd": 1.0} for n in COVARIATE_NAMES},
        meta={"parameterization": {"mode": "noncentered"}, "unknown_countries": []},
    )
    return (inputs, truth) if return_truth else inputs
