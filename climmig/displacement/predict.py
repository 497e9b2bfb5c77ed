"""Posterior predictive projection of the displacement model for new drivers (:func:`predict_displacement`),
and the between/within income coefficients of a fit (:func:`income_coefficients`).

Vectorised over posterior samples with numpy; the expressions are the model's
(:mod:`climmig.displacement.model`), through the same helpers (:mod:`climmig.displacement.skewnormal`,
:func:`climmig.displacement.inputs.mundlak_parts`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.displacement.inputs import COVARIATE_NAMES, mundlak_parts, transform_covariates
from climmig.displacement.skewnormal import (
    draw_skewnormal,
    log_mean_exp_skewnormal,
    residual_scale_factor,
    skewnormal_location,
)
from climmig.errors import DataError

__all__ = ["income_coefficients", "predict_displacement"]

logger = logging.getLogger(__name__)


def _posterior_samples(idata: Any, samples: int, rng: np.random.Generator) -> xr.Dataset:
    post = idata.posterior.stack(sample=("chain", "draw"))
    n = post.sizes["sample"]
    if samples > n:
        raise DataError(f"asked for {samples} posterior samples but the fit has only {n}; lower "
                        "projection.samples")
    pick = np.sort(rng.choice(n, size=samples, replace=False))
    sub = post.isel(sample=pick)
    return sub.drop_vars(["chain", "draw", "sample"]).assign_coords(sample=np.arange(samples))


def predict_displacement(idata: Any, drivers: xr.Dataset, *, samples: int, seed: int,
                         rate_multiplier: xr.DataArray | float | None = None) -> xr.Dataset:
    """Posterior predictive displacement for new drivers, vectorised over posterior samples.

    Parameters
    ----------
    idata : az.InferenceData
        A displacement fit (its attrs hold the covariate scaling and country regions).
    drivers : xr.Dataset
        ``population`` (scenario, year, region), ``gdp_per_capita`` (scenario, year, region),
        ``agricultural_share`` and ``rural_share`` (region; fractions) and ``exposure_ratio`` (hazard,
        scenario, climate_model, year, region; 1 = baseline exposure; hazards it lacks get 1). ``region``
        holds ISO3 codes; an optional ``world_region`` coord on ``region`` places countries the fit has not
        seen in their region (otherwise they get the global distribution of country effects).
    samples : int
        Posterior draws to use (drawn without replacement with ``seed``).
    seed : int
        Seed of the draw selection, new year shocks, new country effects and the hurdle noise.
    rate_multiplier : xr.DataArray or float, optional
        Multiplies the expected rate (interventions); broadcastable to the output, may have ``sample``.

    Returns
    -------
    xr.Dataset
        ``expected_displacement`` and ``displaced_persons`` (sample, scenario, climate_model, year, region,
        hazard), ``year_shock`` and ``reporting_level`` (sample, year, hazard), ``country_effect`` and ``occ_country_effect``
        (sample, region, hazard). Years inside the calibration period use their fitted shock; later years a
        new draw from N(0, sigma_year), shared by all regions, scenarios and climate models of one sample.
        The occurrence part's reporting level is treated alike (see :func:`_reporting`): later years hold
        the mean level of the last monitored calibration years. Regions the fit has not seen draw their two effects jointly, with the fitted correlation.

    Covariates enter as in the fit (:func:`mundlak_parts`): the between slopes act on the country's stored
    calibration mean, the within slopes on the driver's deviation from it; a country the fit has not seen
    takes its first driver year as its between part. ``country_effect``/``occ_country_effect`` are net of the
    between-country covariate term.
    """
    rng = np.random.default_rng(seed)
    attrs = idata.posterior.attrs
    if "beta_between" not in idata.posterior or "climmig_covariate_country_means" not in attrs:
        raise DataError("this displacement fit predates the between/within (Mundlak) decomposition of the "
                        "covariates (no beta_between or climmig_covariate_country_means); refit it")
    if "occ_year_effect" not in idata.posterior or "climmig_reporting_years" not in attrs:
        raise DataError("this displacement fit predates the reporting level with year deviations and "
                        "monitored hazard-years (no occ_year_effect or climmig_reporting_years); refit it")
    scaling = json.loads(attrs["climmig_covariate_scaling"])
    country_means = json.loads(attrs["climmig_covariate_country_means"])
    country_region = json.loads(attrs["climmig_country_region"])
    post = _posterior_samples(idata, samples, rng)
    hazards = [str(h) for h in post["hazard"].values]
    regions = [str(r) for r in drivers["region"].values]
    years = drivers["year"]

    # covariates (standardised exactly as in the fit), split into the country's calibration mean (between
    # part, stored in the fit) and the deviation from it (within part): growth over time acts through the
    # within slopes only
    xs = transform_covariates(drivers, {"population": scaling["population"]})
    between, within, _ = mundlak_parts(drivers, scaling, country_means)

    def linear(prefix: str) -> Any:
        return sum(within[k] * post[f"{prefix}_within"].sel(covariate=k, drop=True)
                   + between[k] * post[f"{prefix}_between"].sel(covariate=k, drop=True) for k in COVARIATE_NAMES)

    lin = linear("beta")
    occ = post["occ_population"] * xs["population"] + linear("occ_beta")

    # country effects: fitted ones, or drawn from the country's region (or all regions) for new countries
    known = set(str(c) for c in post["country"].values)
    unknown = [r for r in regions if r not in known]
    wr = drivers["world_region"].to_series().astype(str) if "world_region" in drivers.coords else None

    # a new country's occurrence effect z_v and size effect (correlated with it, as in the fit); in a region
    # the fit has not seen, its region effects are drawn too (independently for the two parts)
    shape = (len(unknown), samples, len(hazards))
    z_occ, z_size, z_reg = rng.standard_normal(shape), rng.standard_normal(shape), rng.standard_normal((2, *shape))
    rho = post["effect_correlation"]
    seen_regions = set(str(g) for g in post["world_region"].values)

    def effects(name: str, icpt: str, region_name: str, sd_c: str, sd_r: str, part: int) -> xr.DataArray:
        ce = post[name].reindex(country=regions).rename(country="region")
        if unknown:
            new = []
            for i, r in enumerate(unknown):
                g = str(wr[r]) if wr is not None else country_region.get(r)
                zr = xr.DataArray(z_reg[part, i], dims=("sample", "hazard"))
                loc = (post[icpt] + post[region_name].sel(world_region=g, drop=True) if g in seen_regions
                       else post[icpt] + post[sd_r] * zr)
                zo = xr.DataArray(z_occ[i], dims=("sample", "hazard"))
                z = zo if part == 1 else rho * zo + np.sqrt(1 - rho**2) * xr.DataArray(z_size[i],
                                                                                      dims=("sample", "hazard"))
                new.append((loc + post[sd_c] * z).expand_dims(region=[r]))
            ce = ce.fillna(xr.concat(new, dim="region").reindex(region=regions))
        return ce.transpose("sample", "region", "hazard")

    ce = effects("country_effect", "intercept", "region_effect", "sigma_country", "sigma_region", 0)
    occ_ce = effects("occ_country_effect", "occ_intercept", "occ_region_effect", "occ_sigma_country",
                     "occ_sigma_region", 1)
    if unknown:
        logger.info("no fitted country effect for %s; drawn from their region", ", ".join(unknown))

    # year shocks: fitted inside the calibration period, new draws after it
    z = xr.DataArray(rng.standard_normal((samples, years.size, len(hazards))), dims=("sample", "year", "hazard"),
                     coords={"year": years.values, "hazard": hazards})
    shock = post["sigma_year"] * z
    fitted = post["year_shock"].reindex(year=years.values)
    shock = fitted.fillna(shock).transpose("sample", "year", "hazard")
    reporting, monitored = _reporting(post, attrs, years, rng)
    occ = occ + reporting

    exposure = drivers["exposure_ratio"] if "exposure_ratio" in drivers else xr.DataArray(1.0)
    if "hazard" in exposure.dims:
        exposure = exposure.reindex(hazard=hazards, fill_value=1.0)
    with np.errstate(divide="ignore"):  # an exposure ratio of 0 (no one exposed): log 0 = -inf, rate 0
        log_exposure = np.log(exposure)
    m = (np.log(drivers["population"]) + lin + ce + shock + post["exposure_elasticity"] * log_exposure)
    p_event = monitored / (1.0 + np.exp(-(occ + occ_ce)))
    tau = post["sigma_obs"] * residual_scale_factor(m, post["sigma_obs_level"], post["sigma_obs_knot"],
                                                    json.loads(attrs["climmig_size_level"]))
    skew = post["size_skewness"]
    m = skewnormal_location(m, tau, skew)
    mu = p_event * np.exp(log_mean_exp_skewnormal(m, tau, skew))
    if rate_multiplier is not None:
        mu = mu * rate_multiplier
        m = m + np.log(rate_multiplier)
    dims = ("sample", "scenario", "climate_model", "year", "region", "hazard")

    def full(da: xr.DataArray) -> xr.DataArray:
        for d in ("scenario", "climate_model"):
            if d not in da.dims:
                da = da.expand_dims({d: drivers[d].values if d in drivers.coords else ["none"]})
        return da.transpose(*dims)

    mu, m = full(mu), full(m)
    p_event = full(p_event.broadcast_like(mu))
    tau = full(tau.broadcast_like(mu)).values
    skew = full(skew.broadcast_like(mu)).values
    event = rng.random(mu.shape) < p_event.values
    size = np.rint(np.exp(draw_skewnormal(rng, m.values, tau, skew)))
    draws = np.where(event, size, 0.0)
    out = xr.Dataset(
        {
            "expected_displacement": mu.assign_attrs(
                units="1", long_name="expected new disaster displacements per year (people)"),
            "displaced_persons": (dims, draws, {
                "units": "1",
                "long_name": "new disaster displacements per year (people), posterior predictive draw"}),
            "year_shock": shock.assign_attrs(units="1", long_name="year-by-hazard shock on the log rate"),
            "reporting_level": reporting.assign_attrs(
                units="1", long_name="reporting level of the occurrence logit (trend + year deviation)"),
            "country_effect": ce.assign_attrs(units="1", long_name="country effect on the log size (fitted, or "
                                                                  "drawn for regions the fit has not seen)"),
            "occ_country_effect": occ_ce.assign_attrs(units="1", long_name="country effect on the logit of "
                                                                          "occurrence (fitted or drawn)"),
        },
        attrs={"climmig_model_name": "displacement_hurdle_skewnormal",
               "climmig_unknown_regions": json.dumps(unknown),
               "climmig_sampling_design": "posterior draws without replacement; hurdle noise per cell"},
    )
    return out


def _reporting(post: xr.Dataset, attrs: Mapping[str, Any], years: xr.DataArray, rng: np.random.Generator
               ) -> tuple[xr.DataArray, xr.DataArray]:
    """Reporting level of the occurrence logit (sample, year, hazard) and the monitored mask (year, hazard).

    Calibration years take their fitted level (trend + year deviation) and mask; later years hold the mean
    fitted level over each hazard's last monitored calibration years (today's monitoring, never
    extrapolated) plus a new year deviation drawn from N(0, occ_sigma_year), shared by all regions,
    scenarios and climate models of one sample, as the size part's year shocks are.
    """
    ys = json.loads(attrs["climmig_year_scaling"])
    cal_years = post["occ_year_effect"]["year"]
    fitted = (post["occ_year_trend"] * (cal_years.astype(float) - ys["mean"]) / ys["sd"]
              + post["occ_year_effect"])
    level = xr.concat([fitted.sel(hazard=h, year=yrs).mean("year")
                       for h, yrs in json.loads(attrs["climmig_reporting_years"]).items()], dim="hazard")
    level = level.reindex(hazard=post["hazard"].values)
    z = xr.DataArray(rng.standard_normal((post.sizes["sample"], years.size, post.sizes["hazard"])),
                     dims=("sample", "year", "hazard"), coords={"year": years.values})
    new = level + post["occ_sigma_year"] * z
    reporting = fitted.reindex(year=years.values).fillna(new).transpose("sample", "year", "hazard")
    monitored_years = json.loads(attrs["climmig_monitored_years"])
    cal = set(int(y) for y in cal_years.values)
    mask = xr.DataArray(np.array([[int(y) not in cal or int(y) in monitored_years.get(str(h), [])
                                   for h in post["hazard"].values] for y in years.values], float),
                        dims=("year", "hazard"), coords={"year": years.values, "hazard": post["hazard"].values})
    return reporting, mask


def income_coefficients(idata: Any) -> pd.DataFrame:
    """Between- and within-country slopes of every covariate, per hazard and part, from a fit's posterior.

    Parameters
    ----------
    idata : az.InferenceData
        A displacement fit (with ``beta_between``/``beta_within`` and ``occ_beta_between``/``occ_beta_within``).

    Returns
    -------
    pandas.DataFrame
        One row per covariate x hazard x part (``size``: log displacement in a year with displacement;
        ``occurrence``: logit of a record), columns ``covariate``, ``hazard``, ``part``, ``between_mean``,
        ``between_sd``, ``within_mean``, ``within_sd`` (per sd of the covariate across the calibration cells),
        ``difference_mean``/``difference_sd`` (within - between, the contextual effect with its sign reversed)
        and ``p_within_below_between`` (posterior probability that the within slope is the smaller),
        ``within_spread`` (posterior mean of the part's ``*_within_spread``: how far the within slopes may sit
        from the between slopes; NaN if the fit has none) and ``covariate_sd``. For ``gdp_per_capita`` the slopes
        divided by ``covariate_sd`` (the sd of log GDP per head) are elasticities
        per log unit of income.
    """
    post = idata.posterior
    scaling = json.loads(post.attrs.get("climmig_covariate_scaling", "{}"))
    rows = []
    for part, prefix in (("size", "beta"), ("occurrence", "occ_beta")):
        b = post[f"{prefix}_between"]
        w = post[f"{prefix}_within"]
        spread = float(post[f"{prefix}_within_spread"].mean()) if f"{prefix}_within_spread" in post else np.nan
        for k in b["covariate"].values:
            for h in b["hazard"].values:
                bb = b.sel(covariate=k, hazard=h).values.ravel()
                ww = w.sel(covariate=k, hazard=h).values.ravel()
                rows.append({"covariate": str(k), "hazard": str(h), "part": part,
                             "between_mean": float(bb.mean()), "between_sd": float(bb.std()),
                             "within_mean": float(ww.mean()), "within_sd": float(ww.std()),
                             "difference_mean": float((ww - bb).mean()), "difference_sd": float((ww - bb).std()),
                             "p_within_below_between": float((ww < bb).mean()),
                             "within_spread": spread,
                             "covariate_sd": float(scaling.get(str(k), {}).get("sd", np.nan))})
    return pd.DataFrame(rows)
