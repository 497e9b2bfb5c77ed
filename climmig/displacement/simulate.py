"""Synthetic displacement data drawn from the (hurdle) displacement model itself, with known parameters (tests, docs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from climmig.displacement.model import (
    COVARIATE_NAMES,
    DisplacementInputs,
    draw_skewnormal,
    residual_scale_factor,
    skewnormal_location,
)

__all__ = ["simulate_displacement"]


def simulate_displacement(rng: np.random.Generator, *, n_countries: int = 30, n_years: int = 10,
                          hazards: tuple[str, ...] = ("flood", "storm"), n_regions: int = 3,
                          return_truth: bool = False, exposure_elasticity: Any = 1.0,
                          log_exposure_sd: Any = 0.0, within_sd: float = 0.5,
                          within_spread: float = 0.4) -> DisplacementInputs | tuple[DisplacementInputs,
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
    exposure_elasticity : float or sequence of float
        True ``gamma_h`` (per hazard, or one for all).
    log_exposure_sd : float or sequence of float
        Spread of the simulated ``log E`` per hazard: ``log E ~ N(0, sd)`` per cell, centred within each
        country-hazard (as :func:`climmig.mobility.hazard_history.log_exposure_ratio` makes it); 0 (the
        default) = ``log E = 0`` and no extra random draws.

    within_sd : float
        Spread of the covariates' within-country deviations (their between parts have sd 1); both parts have
        their own true slopes (``beta_between``/``beta_within``, ``occ_beta_between``/``occ_beta_within``).
    within_spread : float
        The true within slopes are the between slopes plus N(0, ``within_spread``) (the model's pooling).

    Returns
    -------
    DisplacementInputs or (DisplacementInputs, dict)
        Inputs in the layout of :func:`~climmig.displacement.model.prepare_inputs` (all cells observed,
        non-centred everywhere); the truth dict has every free parameter and effect of the model
        (``intercept``, ``beta_between``, ``beta_within``, ``sigma_*``, ``occ_*``, ``country_effect``, ``year_shock``, ...).
    """
    nh, nk = len(hazards), len(COVARIATE_NAMES)
    countries = [f"C{i:02d}" for i in range(n_countries)]
    years = list(range(2000, 2000 + n_years))
    regions = [f"R{i}" for i in range(n_regions)]
    creg = np.arange(n_countries) % n_regions
    truth: dict[str, Any] = {
        "intercept": rng.normal(-9.0, 0.5, nh),
        "beta_between": rng.normal(0.0, 0.4, (nk, nh)),
        "beta_within": rng.normal(0.0, 0.4, (nk, nh)),
        "sigma_region": 0.6,
        "sigma_country": np.full(nh, 1.0),
        "sigma_year": np.full(nh, 0.4),
        "sigma_obs": np.full(nh, 1.2),
        "sigma_obs_level": 0.8,
        "sigma_obs_knot": 1.0,
        "size_skewness": -1.5,
        "occ_intercept": rng.normal(0.0, 0.5, nh),
        "occ_beta_between": rng.normal(0.0, 0.4, (nk, nh)),
        "occ_beta_within": rng.normal(0.0, 0.4, (nk, nh)),
        "occ_population": np.full(nh, 0.8),
        "occ_year_trend": np.full(nh, 0.3),
        "occ_sigma_year": np.full(nh, 0.3),
        "occ_sigma_region": 0.5,
        "occ_sigma_country": np.full(nh, 0.8),
        "effect_correlation": 0.5,
    }
    # within slopes scatter around the between slopes, as the model's pooling assumes (the draws above are
    # N(0, 0.4); rescaled, so that the random stream does not depend on the spread)
    truth["beta_within_spread"] = truth["occ_beta_within_spread"] = within_spread
    truth["beta_within"] = truth["beta_between"] + truth["beta_within"] * (within_spread / 0.4)
    truth["occ_beta_within"] = truth["occ_beta_between"] + truth["occ_beta_within"] * (within_spread / 0.4)

    def zerosum(sd: Any, shape: tuple[int, int]) -> np.ndarray:
        z = rng.normal(0, 1, shape)
        return (z - z.mean(0, keepdims=True)) * sd

    truth["region_effect"] = zerosum(truth["sigma_region"], (n_regions, nh))
    z_size = rng.normal(0, 1, (n_countries, nh))
    truth["year_shock"] = zerosum(truth["sigma_year"], (n_years, nh))
    truth["occ_region_effect"] = zerosum(truth["occ_sigma_region"], (n_regions, nh))
    z_occ = rng.normal(0, 1, (n_countries, nh))
    truth["occ_country_effect"] = truth["occ_intercept"] + truth["occ_region_effect"][creg] + z_occ * \
        truth["occ_sigma_country"]
    # size effects correlated with the occurrence effects, as in the model
    rho = truth["effect_correlation"]
    truth["country_effect"] = truth["intercept"] + truth["region_effect"][creg] + truth["sigma_country"] * (
        rho * z_occ + np.sqrt(1 - rho**2) * z_size)
    ci, ti, hi = (a.ravel() for a in np.meshgrid(np.arange(n_countries), np.arange(n_years), np.arange(nh),
                                                 indexing="ij"))
    logpop_c = rng.uniform(np.log(1e6), np.log(2e8), n_countries)
    logpop = logpop_c[ci] + 0.01 * ti
    # covariates = country mean (between part, sd 1 across countries) + deviation from it (within part, sd
    # ``within_sd``, averaging exactly zero over each country's years), on the standardised scale
    between = rng.normal(0, 1, (n_countries, nk))
    dev = rng.normal(0, 1, (n_countries, n_years, nk)) * within_sd
    dev -= dev.mean(axis=1, keepdims=True)
    X_ct = between[:, None, :] + dev
    X = X_ct[ci, ti]
    Xw = dev[ci, ti]
    truth["exposure_elasticity"] = np.broadcast_to(np.asarray(exposure_elasticity, float), (nh,)).copy()
    sd_e = np.broadcast_to(np.asarray(log_exposure_sd, float), (nh,))
    lex = np.zeros(ci.size)
    if np.any(sd_e > 0):
        e = rng.normal(0, 1, (n_countries, n_years, nh)) * sd_e
        e -= e.mean(axis=1, keepdims=True)
        lex = e[ci, ti, hi]
    m = (logpop + (Xw * truth["beta_within"][:, hi].T).sum(1) + (between[ci] * truth["beta_between"][:, hi].T).sum(1)
         + truth["country_effect"][ci, hi] + truth["year_shock"][ti, hi] + truth["exposure_elasticity"][hi] * lex)
    zpop = (logpop - logpop.mean()) / logpop.std()
    zyear = (ti - np.mean(np.arange(n_years))) / (np.std(np.arange(n_years)) or 1.0)
    # drawn from a stream of its own, so that adding the reporting deviations left every other draw of a seed
    # (and the recovery tests' designs) unchanged
    z_rep = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0]).normal(0, 1, (n_years, nh))
    truth["occ_year_effect"] = (z_rep - z_rep.mean(0, keepdims=True)) * truth["occ_sigma_year"]
    logit = ((Xw * truth["occ_beta_within"][:, hi].T).sum(1)
             + (between[ci] * truth["occ_beta_between"][:, hi].T).sum(1) + truth["occ_year_trend"][hi] * zyear
             + truth["occ_year_effect"][ti, hi]
             + truth["occ_population"][hi] * zpop + truth["occ_country_effect"][ci, hi])
    event = rng.random(m.size) < 1 / (1 + np.exp(-logit))
    # the centring of the scale model is fixed in advance (the fitted data's own centring would depend on
    # the draw and so reparameterise the truth)
    level = {"mean": float(np.mean(m)), "sd": float(np.std(m))}
    tau = truth["sigma_obs"][hi] * residual_scale_factor(m, truth["sigma_obs_level"], truth["sigma_obs_knot"], level)
    alpha = truth["size_skewness"]
    size = np.maximum(np.rint(np.exp(draw_skewnormal(rng, skewnormal_location(m, tau, alpha), tau, alpha))), 1)
    y = np.where(event, size, 0)
    scaling: dict[str, dict[str, Any]] = {n: {"transform": "identity", "mean": 0.0, "sd": 1.0}
                                          for n in COVARIATE_NAMES}
    scaling["population"] = {"transform": "log", "mean": float(logpop.mean()), "sd": float(logpop.std())}
    inputs = DisplacementInputs(
        coords={"country": countries, "year": years, "hazard": list(hazards), "covariate": list(COVARIATE_NAMES),
                "world_region": regions, "obs": list(range(y.size))},
        displacements=y.astype(np.int64), log_population=logpop, log_exposure_ratio=lex,
        covariates=X, country_idx=ci, year_idx=ti, hazard_idx=hi, country_region_idx=creg,
        centred_country=np.zeros((n_countries, nh), bool), centred_occurrence=np.zeros((n_countries, nh), bool),
        scaling=scaling, covariate_between=between,
        meta={"parameterization": {"mode": "noncentered"}, "unknown_countries": []},
        size_centring=level,
    )
    return (inputs, truth) if return_truth else inputs
