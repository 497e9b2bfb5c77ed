"""Posterior predictive flows of the single-period cross-border migration model: draws, drivers, flows
between regions under border regimes, regime effects and frictions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError
from climmig.exposure.ratio import exposure_ratio
from climmig.migration.inputs import (
    MODEL_NAME,
    _stress_transform,
)
from climmig.migration.regimes import REGIMES, regime_codes
from climmig.mobility.crn_draws import negbin_draws

__all__ = ["flow_drivers", "max_emigration_rate", "posterior_draws", "predict_flows", "regime_change_effect",
           "regime_frictions", "regime_scenario_summary"]

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------ draws

def posterior_draws(idata: Any, samples: int, seed: int) -> xr.Dataset:
    """A seeded subset of posterior draws, stacked on ``sample``.

    Parameters
    ----------
    idata : az.InferenceData
        A migration fit.
    samples : int
        Number of draws (drawn with replacement only if the posterior has fewer).
    seed : int
        Seed of the selection.

    Returns
    -------
    xr.Dataset
        Posterior variables with a ``sample`` dim (0..samples-1).
    """
    post = idata.posterior.stack(sample=("chain", "draw"))
    n = post.sizes["sample"]
    rng = np.random.default_rng(seed)
    pick = rng.choice(n, size=samples, replace=samples > n)
    out = post.isel(sample=pick).drop_vars(["sample", "chain", "draw"], errors="ignore")
    out = out.assign_coords(sample=np.arange(samples))
    return out.transpose("sample", ...)


def _effects_for(draws: xr.Dataset, var: str, sigma: str, dim: str, regions: Sequence[str],
                 rng: np.random.Generator) -> xr.DataArray:
    """Fitted effects for seen regions; draws from N(0, sigma) (per posterior draw) for unseen ones."""
    eff = draws[var]
    seen = [str(r) for r in eff[dim].values]
    regions = [str(r) for r in regions]
    new = [r for r in regions if r not in seen]
    if new:
        z = rng.standard_normal((draws.sizes["sample"], len(new)))
        extra = xr.DataArray(z * draws[sigma].values[:, None], dims=("sample", dim), coords={dim: new})
        eff = xr.concat([eff.transpose("sample", dim), extra], dim=dim)
    return eff.sel({dim: regions})


def _stress_z(rate: xr.DataArray, centering: Mapping[str, float]) -> xr.DataArray:
    return (_stress_transform(rate) - centering["stress_mean"]) / centering["stress_sd"]


def _exposure_ratio(drivers: xr.Dataset) -> xr.DataArray:
    if "exposure_ratio" not in drivers:
        return xr.DataArray(1.0)
    er = drivers["exposure_ratio"]
    return er.mean("hazard") if "hazard" in er.dims else er


def flow_drivers(exposure: xr.Dataset, covariates: xr.Dataset, geography: xr.Dataset) -> xr.Dataset:
    """Drivers of :func:`predict_flows` from the exposure stage (``docs/interfaces.md`` section 1).

    Parameters
    ----------
    exposure : xr.Dataset
        With ``population`` and ``gdp_per_capita`` (scenario, year, region), ``exposed_population``
        (hazard, scenario, climate_model, year, region), ``exposed_population_baseline`` (hazard,
        climate_model, region) and ``population_baseline`` (region).
    covariates : xr.Dataset
        ``climate_stress`` (region), the baseline weather-displacement rate, and ``gdp_per_capita`` (region),
        the fit period's GDP per capita in the fit's units (:func:`country_covariates`).
    geography : xr.Dataset
        ``distance_km`` and ``contiguous`` (origin, destination).

    Returns
    -------
    xr.Dataset
        ``population``, ``gdp_per_capita``, ``exposure_ratio`` (hazard, scenario, climate_model, year,
        region; the share of people exposed relative to the baseline,
        :func:`climmig.exposure.ratio.exposure_ratio`; 1 where the baseline exposure is 0), ``climate_stress``, ``gdp_per_capita_baseline``,
        ``distance_km``, ``contiguous``.
    """
    regions = [str(r) for r in exposure["region"].values]
    ratio = exposure_ratio(exposure)
    return xr.Dataset({
        "population": exposure["population"],
        "gdp_per_capita": exposure["gdp_per_capita"],
        "exposure_ratio": ratio,
        "climate_stress": covariates["climate_stress"].sel(region=regions),
        "gdp_per_capita_baseline": covariates["gdp_per_capita"].sel(region=regions),
        "distance_km": geography["distance_km"].sel(origin=regions, destination=regions),
        "contiguous": geography["contiguous"].sel(origin=regions, destination=regions),
    })


def _as_od(da: xr.DataArray, which: str) -> xr.DataArray:
    return da.rename(region=which)


def _expected_log_flow(draws: xr.Dataset, drivers: xr.Dataset, regimes: xr.DataArray,
                       centering: Mapping[str, float], rng: np.random.Generator) -> xr.DataArray:
    regions = [str(r) for r in drivers["population"]["region"].values]
    eff_o = _effects_for(draws, "mig_origin_effect", "mig_sigma_origin", "origin", regions, rng)
    eff_d = _effects_for(draws, "mig_destination_effect", "mig_sigma_destination", "destination", regions, rng)
    lp = np.log(drivers["population"]) - centering["log_pop"]
    lg = np.log(drivers["gdp_per_capita"])
    rate = drivers["climate_stress"] * _exposure_ratio(drivers)
    stress = _stress_z(rate, centering)
    ldist = np.log(drivers["distance_km"].where(drivers["distance_km"] > 0, 1.0)) - centering["log_distance"]
    codes = xr.DataArray(regime_codes(regimes), dims=regimes.dims, coords=regimes.coords)
    reg_eff = draws["mig_regime_effect"].isel(regime=codes.clip(min=0))
    # The origin-income term is part of the (time-invariant) origin effect: it predicts an origin's
    # propensity to emigrate from its fit-period income, a cross-sectional association. Projected income
    # growth acts through the income differential only, as before (fits made before the term have none).
    origin_term = xr.DataArray(0.0)
    if "mig_origin_income" in draws:
        if "gdp_per_capita_baseline" not in drivers:
            raise DataError("the migration drivers lack gdp_per_capita_baseline (region), the fit period's GDP "
                            "per capita; build them with climmig.migration.model.flow_drivers")
        lg0 = np.log(drivers["gdp_per_capita_baseline"]) - centering["log_gdp"]
        origin_term = draws["mig_origin_income"] * _as_od(lg0, "origin")
    return (draws["mig_intercept"] + eff_o + eff_d
            + draws["mig_pop_origin"] * _as_od(lp, "origin")
            + draws["mig_pop_destination"] * _as_od(lp, "destination")
            - draws["mig_distance_decay"] * ldist
            + draws["mig_income"] * (_as_od(lg, "destination") - _as_od(lg, "origin"))
            + origin_term
            + draws["mig_climate_stress"] * _as_od(stress, "origin")
            + draws["mig_contiguity"] * drivers["contiguous"].astype(float)
            + reg_eff)


def _gamma_median_ratio(alpha: xr.DataArray) -> xr.DataArray:
    """Median / mean of a gamma distribution with shape ``alpha`` (the NB mixing distribution)."""
    from scipy import stats

    return xr.apply_ufunc(lambda a: stats.gamma.ppf(0.5, a) / a, alpha)


def max_emigration_rate(idata: Any) -> tuple[float, str]:
    """Highest annual cross-border emigration rate of any origin in the fitted flows (the physical bound).

    Parameters
    ----------
    idata : az.InferenceData
        A migration fit with ``constant_data`` (``origin_idx``, ``log_pop_origin``), ``observed_data``
        (``flow``) and the attrs ``migration_centering`` and ``migration_period_years``.

    Returns
    -------
    rate : float, [yr-1]
        Max over fitted origins of (people emigrating to the other fitted countries over the period) /
        (population x period length).
    origin : str
        The origin with that rate.

    Raises
    ------
    DataError
        If the fit lacks the observed flows or the data containers.
    """
    groups = set(idata.groups())
    if not {"constant_data", "observed_data"} <= groups or "flow" not in idata.observed_data:
        raise DataError("the migration fit has no observed flows/constant data to derive the emigration "
                        "bound from; refit it with `climmig fit-migration`")
    attrs = idata.posterior.attrs
    centering = json.loads(attrs["migration_centering"])
    period = float(attrs.get("migration_period_years", 5.0))
    cd = idata.constant_data
    frame = pd.DataFrame({"origin": cd["origin_idx"].values, "flow": idata.observed_data["flow"].values,
                          "pop": np.exp(cd["log_pop_origin"].values + centering["log_pop"])})
    by = frame.groupby("origin").agg(flow=("flow", "sum"), pop=("pop", "first"))
    rate = by["flow"] / by["pop"] / period
    k = int(rate.idxmax())
    names = idata.posterior["origin"].values if "origin" in idata.posterior.coords else None
    return float(rate.max()), str(names[k]) if names is not None else str(k)


def _cap_emigration(flow: xr.DataArray, cross: xr.DataArray, cap: xr.DataArray) -> tuple[xr.DataArray, int]:
    """Scale each origin's cross-border flows down so their total stays within ``cap``; count capped cells."""
    total = flow.where(cross, 0.0).sum("destination")
    factor = xr.where(total > cap, cap / total.where(total > 0, 1.0), 1.0)
    out = xr.where(cross, flow * factor, flow).transpose(*flow.dims)
    out.attrs = flow.attrs
    return out, int((factor < 1).sum())


def predict_flows(idata: Any, drivers: xr.Dataset, regimes: xr.DataArray, *, samples: int, seed: int,
                  internal: xr.Dataset | None = None, max_rate: float | None = None,
                  totals_only: bool = False, corridors: Mapping[str, Sequence[str]] | None = None) -> xr.Dataset:
    """Project annual migration flows between regions from posterior draws (vectorised).

    Parameters
    ----------
    idata : az.InferenceData
        A fit of :func:`build_migration_model` (attrs ``migration_centering``, ``migration_period_years``).
    drivers : xr.Dataset
        ``population`` and ``gdp_per_capita`` (scenario, year, region), ``climate_stress`` (region;
        baseline weather-displacement per 1000 people per year), optional ``exposure_ratio`` ([hazard,]
        scenario, climate_model, year, region; averaged over ``hazard``; scales the stress rate),
        ``gdp_per_capita_baseline`` (region; the fit period's GDP per capita, in the fit's units: it sets
        the origin-income part of the origin effect, held fixed over time), ``distance_km`` and
        ``contiguous`` (origin, destination). See :func:`flow_drivers`.
    regimes : xr.DataArray
        Regime names (year, origin, destination), e.g. after
        :func:`climmig.migration.regimes.apply_regime_changes`.
    samples : int
        Posterior draws used.
    seed : int
        Seed of the draw selection, unseen-country effects and count noise.
    internal : xr.Dataset, optional
        Internal-migration parameter draws (``out_rate`` [yr-1], ``climate_elasticity``, ``alpha``; dim
        ``sample``), e.g. :func:`climmig.migration.internal.internal_parameter_draws`. Default: drawn from the
        default internal priors.
    max_rate : float, optional
        Bound on an origin's annual cross-border emigration as a share of its population [yr-1]. Default:
        the highest rate of any origin in the fitted flows (:func:`max_emigration_rate`). Where a draw's
        total exceeds it, the origin's cross-border flows are scaled down to the bound.
    totals_only : bool
        Return only the per-region totals ``internal_migration`` and ``cross_border_migration`` (equal to
        those of a full call with the same arguments), skipping the pair matrices' expected and typical
        flows and their bounds; the comparison of interventions needs only the totals.
    corridors : mapping of str to sequence of str, optional
        Named destination corridors of the all-country model (default
        :data:`climmig.migration.corridors.DEFAULT_CORRIDORS`).

    A fit of the all-country gravity model (:mod:`climmig.migration.gravity`) is projected by
    :func:`climmig.migration.corridors.predict_corridors` instead (flows to every destination, no cap;
    ``drivers`` from :func:`climmig.migration.run.projection_flow_drivers`).

    Returns
    -------
    xr.Dataset
        ``migration_flow`` and ``expected_migration_flow`` [people yr-1] (sample, scenario, climate_model,
        year, origin, destination), internal movement on the diagonal; ``internal`` (origin, destination);
        ``internal_migration`` and ``cross_border_migration`` (emigration) [people yr-1] (sample, scenario,
        climate_model, year, region); ``typical_migration_flow`` (as ``migration_flow``): the median of each
        pair's predictive distribution. Each period's flow (5 years for Abel & Cohen) is drawn once and
        spread evenly over its years. With the strongly over-dispersed fitted flows (shape ~0.24) the
        mean of a pair's flow is far above its median: report medians and intervals, not means.

    Notes
    -----
    Countries absent from the fit get their covariates' prediction plus residual origin/destination effects
    drawn from :math:`N(0, \\sigma)` with the posterior draw's :math:`\\sigma` (the hierarchical prior).
    The emigration bound applies to ``migration_flow``, ``expected_migration_flow`` and
    ``typical_migration_flow`` separately; the numbers of capped (sample, scenario, climate_model, year,
    origin) cells are in the attrs ``climmig_capped_draws``, ``climmig_capped_expected`` and
    ``climmig_capped_typical`` (also on ``cross_border_migration``), with ``climmig_capped_cells`` (the
    number of such cells), the bound ``climmig_emigration_cap_rate`` and its source.
    """
    from climmig.migration.gravity import is_gravity_fit
    from climmig.migration.internal import expected_internal_migration, internal_parameter_draws

    if is_gravity_fit(idata):
        # the all-country model: flows to every destination, grouped in corridors, no emigration cap
        from climmig.migration.corridors import DEFAULT_CORRIDORS, predict_corridors

        return predict_corridors(idata, drivers, regimes, samples=samples, seed=seed, internal=internal,
                                 totals_only=totals_only, corridors=corridors or DEFAULT_CORRIDORS)
    rng = np.random.default_rng(seed)
    attrs = idata.posterior.attrs
    centering = json.loads(attrs["migration_centering"])
    period = float(attrs.get("migration_period_years", 5.0))
    draws = posterior_draws(idata, samples, seed)
    regions = [str(r) for r in drivers["population"]["region"].values]
    regimes = regimes.sel(origin=regions, destination=regions)
    log_mu = _expected_log_flow(draws, drivers, regimes, centering, rng)
    dims = ("sample", "scenario", "climate_model", "year", "origin", "destination")
    log_mu = log_mu.transpose(*[d for d in dims if d in log_mu.dims])
    cross = np.exp(log_mu) / period
    internal_mask = xr.DataArray(np.equal.outer(regions, regions), dims=("origin", "destination"),
                                 coords={"origin": regions, "destination": regions})
    cross = cross.where(~internal_mask, 0.0)
    if internal is None:
        internal = internal_parameter_draws(None, samples, seed)
    internal = internal.assign_coords(sample=np.arange(samples))
    inner = expected_internal_migration(internal, drivers["population"], _exposure_ratio(drivers))
    diag = inner.rename(region="origin") * internal_mask
    expected = (cross + diag).transpose(*[d for d in dims if d in cross.dims or d in diag.dims])
    # a period's flow is drawn once and spread evenly over its years (flows are persistent between years)
    scale = xr.where(internal_mask, 1.0, period)
    alpha_x = draws["mig_alpha"].broadcast_like(cross).transpose(*expected.dims)
    alpha_i = (internal["alpha"]).broadcast_like(expected).transpose(*expected.dims)
    alpha = xr.where(internal_mask, alpha_i, alpha_x).transpose(*expected.dims)
    mu = (expected * scale).transpose(*expected.dims).to_numpy()
    draws_np = negbin_draws(rng, np.maximum(mu, 1e-12), alpha.to_numpy())
    draws_np[mu <= 0] = 0.0
    flow = expected.copy(data=draws_np) / scale
    if max_rate is None:
        max_rate, cap_from = max_emigration_rate(idata)
        cap_source = (f"highest annual emigration rate in the fitted flows ({cap_from}: {max_rate:.4f} of the "
                      "population per year)")
    else:
        cap_source = "given by the caller"
    cap = (max_rate * drivers["population"]).rename(region="origin")
    cross_mask = ~internal_mask
    flow, n_flow = _cap_emigration(flow, cross_mask, cap)
    n_cells = int(np.prod([flow.sizes[d] for d in flow.dims if d != "destination"]))
    if n_flow:
        logger.info("emigration bound (%.4f of the population per year) capped %d of %d draws of origin totals",
                    max_rate, n_flow, n_cells)
    cap_attrs = {"climmig_emigration_cap_rate": f"{max_rate:.6g}", "climmig_emigration_cap_source": cap_source,
                 "climmig_capped_draws": str(n_flow), "climmig_capped_cells": str(n_cells)}
    ds_attrs = {"climmig_model_name": str(attrs.get("model_name", MODEL_NAME)), "climmig_seed": str(seed),
                "climmig_sampling_design": "posterior draws chosen by seeded choice; same draws for every "
                                           "scenario, climate model and year",
                "climmig_regime_changes": regimes.attrs.get("climmig_regime_changes", "")}
    totals = xr.Dataset({
        "internal_migration": flow.where(internal_mask).sum("destination").rename(origin="region").assign_attrs(
            units="1", long_name="people moving between zones inside the region in the year"),
        "cross_border_migration": flow.where(cross_mask).sum("destination").rename(origin="region").assign_attrs(
            units="1", long_name="people emigrating from the region to the other regions in the year")})
    if totals_only:
        totals["cross_border_migration"].attrs.update(cap_attrs)
        return totals.assign_attrs({**cap_attrs, **ds_attrs})
    # the ratio depends on the shapes only (one per sample and flow type): computed on those, then broadcast
    # (the gamma quantile over every cell took ~1.5 s per call in the demo's intervention comparison)
    ratio = xr.where(internal_mask, _gamma_median_ratio(internal["alpha"]), _gamma_median_ratio(draws["mig_alpha"]))
    typical = (expected * ratio).transpose(*expected.dims)
    expected, n_exp = _cap_emigration(expected, cross_mask, cap)
    typical, n_typ = _cap_emigration(typical, cross_mask, cap)
    cap_attrs.update({"climmig_capped_expected": str(n_exp), "climmig_capped_typical": str(n_typ)})
    typical.attrs = {"units": "1", "long_name": "median of the predictive distribution of people migrating "
                                               "from origin to destination in the year (gamma part)"}
    unit = {"units": "1", "cell_methods": "time: sum (per year)"}
    flow.attrs = {**unit, "long_name": "people migrating from origin to destination in the year"}
    expected.attrs = {**unit, "long_name": "expected people migrating from origin to destination in the year"}
    ds = xr.Dataset({"migration_flow": flow, "expected_migration_flow": expected,
                     "typical_migration_flow": typical})
    ds["internal"] = internal_mask.assign_attrs(long_name="origin and destination are the same region")
    ds["internal_migration"] = totals["internal_migration"]
    ds["cross_border_migration"] = totals["cross_border_migration"].assign_attrs(cap_attrs)
    ds.attrs = {**cap_attrs, **ds_attrs}
    return ds


def regime_change_effect(idata: Any, drivers: xr.Dataset, base: xr.DataArray, changed: xr.DataArray, *,
                         samples: int, seed: int, max_rate: float | None = None) -> xr.Dataset:
    """Change in expected cross-border flows caused by a border-regime change (same draws, same seed).

    Parameters
    ----------
    idata : az.InferenceData
        Migration fit.
    drivers : xr.Dataset
        As for :func:`predict_flows`.
    base, changed : xr.DataArray
        Regimes without and with the change (year, origin, destination).
    samples, seed : int
        As for :func:`predict_flows`.
    max_rate : float, optional
        Emigration bound, as for :func:`predict_flows` (default: from the fit). Draws at the bound with and
        without the change show no change.

    Returns
    -------
    xr.Dataset
        ``cross_border_change`` [people yr-1] (sample, scenario, climate_model, year, region): expected
        emigration with the change minus without; ``cross_border_change_quantiles`` along ``quantile``
        (0.05, 0.5, 0.95); ``cross_border_change_typical``: the same for the pairs' predictive medians
        (less dominated by the heavy right tail of over-dispersed flows).
    """
    a = predict_flows(idata, drivers, base, samples=samples, seed=seed, max_rate=max_rate)
    b = predict_flows(idata, drivers, changed, samples=samples, seed=seed, max_rate=max_rate)
    mask = ~a["internal"]
    diff = (b["expected_migration_flow"].where(mask).sum("destination")
            - a["expected_migration_flow"].where(mask).sum("destination")).rename(origin="region")
    diff.attrs = {"units": "1", "long_name": "change in expected cross-border emigration (people per year)"}
    q = diff.quantile([0.05, 0.5, 0.95], dim="sample")
    q.attrs = {**diff.attrs, "long_name": diff.attrs["long_name"] + ", posterior quantiles"}
    typ = (b["typical_migration_flow"].where(mask).sum("destination")
           - a["typical_migration_flow"].where(mask).sum("destination")).rename(origin="region")
    typ.attrs = {"units": "1", "long_name": "change in typical (predictive-median) cross-border emigration "
                                            "(people per year)"}
    return xr.Dataset({"cross_border_change": diff, "cross_border_change_quantiles": q,
                       "cross_border_change_typical": typ})


def regime_frictions(idata: Any, hdi_prob: float = 0.9) -> pd.DataFrame:
    """Posterior of the border-regime effects (log flow relative to unilateral) and flow multipliers.

    Parameters
    ----------
    idata : az.InferenceData
        Migration fit.
    hdi_prob : float
        Interval probability.

    Returns
    -------
    pandas.DataFrame
        One row per regime: ``mean``, ``hdi_low``, ``hdi_high`` (log effect) and ``multiplier_*``
        (:math:`e^\\rho`, the factor on flows relative to unilateral control), ``n_pairs`` observed.
    """
    import arviz as az

    eff = idata.posterior["mig_regime_effect"]
    hdi = az.hdi(eff, hdi_prob=hdi_prob)["mig_regime_effect"]
    rows = []
    n_obs = {}
    if "constant_data" in idata.groups() and "regime_idx" in idata.constant_data:
        codes = idata.constant_data["regime_idx"].values
        n_obs = {r: int((codes == k).sum()) for k, r in enumerate(REGIMES)}
    for r in REGIMES:
        m = float(eff.sel(regime=r).mean())
        lo, hi = (float(v) for v in hdi.sel(regime=r).values)
        rows.append({"regime": r, "mean": m, "hdi_low": lo, "hdi_high": hi, "multiplier_mean": float(
            np.exp(eff.sel(regime=r)).mean()), "multiplier_low": np.exp(lo), "multiplier_high": np.exp(hi),
            "n_pairs": n_obs.get(r, 0)})
    return pd.DataFrame(rows).set_index("regime")


def regime_scenario_summary(idata: Any, covariates: xr.Dataset, geography: xr.Dataset,
                            regime_table: pd.DataFrame, countries: Sequence[str], changes: Sequence[Any], *,
                            samples: int, seed: int) -> pd.DataFrame:
    """Change in expected cross-border emigration from border-regime changes, at today's covariates.

    The drivers are held at the fitted period's population, GDP and climate stress (exposure ratio 1), so
    the table isolates the regime effect; full projections use :func:`regime_change_effect` with the
    exposure stage's drivers.

    Parameters
    ----------
    idata : az.InferenceData
        Migration fit.
    covariates, geography : xr.Dataset
        From :func:`load_flow_data`.
    regime_table : pandas.DataFrame
        The bloc table.
    countries : sequence of str
        Regions to report.
    changes : sequence of BorderRegimeChange
        The config's ``border_regimes``.
    samples, seed : int
        Posterior draws and seed.

    Returns
    -------
    pandas.DataFrame
        Per region (and ``total``): ``baseline`` (typical emigration to the other listed regions: sum of
        the pairs' predictive medians, people per year, posterior median), ``change_median``, ``change_q05``, ``change_q95`` (people per year) and
        ``relative_median`` (change / baseline), after the last change's ``from_year``.
    """
    from climmig.migration.regimes import apply_regime_changes, pair_regimes

    regions = list(countries)
    year = max(int(c.from_year) for c in changes)
    base = pair_regimes(regime_table, regions, [year])
    changed = apply_regime_changes(base, changes)
    drivers = xr.Dataset({
        "population": covariates["population"].sel(region=regions),
        "gdp_per_capita": covariates["gdp_per_capita"].sel(region=regions),
        "gdp_per_capita_baseline": covariates["gdp_per_capita"].sel(region=regions),
        "climate_stress": covariates["climate_stress"].sel(region=regions),
        "distance_km": geography["distance_km"].sel(origin=regions, destination=regions),
        "contiguous": geography["contiguous"].sel(origin=regions, destination=regions),
    })
    a = predict_flows(idata, drivers, base, samples=samples, seed=seed)
    b = predict_flows(idata, drivers, changed, samples=samples, seed=seed)
    mask = ~a["internal"]
    ea = a["typical_migration_flow"].where(mask).sum("destination").isel(year=0).rename(origin="region")
    eb = b["typical_migration_flow"].where(mask).sum("destination").isel(year=0).rename(origin="region")
    ea = xr.concat([ea, ea.sum("region").expand_dims(region=["total"])], dim="region")
    eb = xr.concat([eb, eb.sum("region").expand_dims(region=["total"])], dim="region")
    diff = eb - ea
    q = diff.quantile([0.05, 0.5, 0.95], dim="sample")
    return pd.DataFrame({
        "baseline": ea.median("sample").to_pandas(),
        "change_median": q.sel(quantile=0.5).to_pandas(),
        "change_q05": q.sel(quantile=0.05).to_pandas(),
        "change_q95": q.sel(quantile=0.95).to_pandas(),
        "relative_median": (diff / ea).median("sample").to_pandas(),
    })
