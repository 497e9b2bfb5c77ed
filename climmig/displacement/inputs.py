"""Inputs of the displacement model: the long-format arrays (:class:`DisplacementInputs`), covariate
scaling and the Mundlak split into between- and within-country parts, and the centred/non-centred masks.

The model itself is in :mod:`climmig.displacement.model`, its projection in
:mod:`climmig.displacement.predict`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError

__all__ = ["COVARIATE_NAMES", "LOGIT_UNMONITORED", "MIN_CENTRED_COUNTRIES", "MIN_POSITIVE", "REPORTING_YEARS",
           "DisplacementInputs", "mundlak_parts", "parameterization_masks", "prepare_inputs",
           "transform_covariates"]


#: covariate -> transform before standardising
COVARIATE_NAMES: dict[str, Literal["log", "identity"]] = {
    "gdp_per_capita": "log",
    "agricultural_share": "identity",
    "rural_share": "identity",
}
MIN_POSITIVE = 3
#: a hazard's country effects are centred only if at least this many countries qualify
MIN_CENTRED_COUNTRIES = 10
#: calibration years whose mean reporting level the projection holds (today's monitoring): the last five
#: monitored years, so that one unusual year does not set the level of every projected year
REPORTING_YEARS = 5
#: logit of a record in a hazard-year IDMC did not monitor: no chance of a record (the likelihood of its
#: zero is 1 and its gradient vanishes)
LOGIT_UNMONITORED = -40.0


@dataclass(frozen=True)
class DisplacementInputs:
    """Arrays and coords of the displacement model (long format over observed cells ``obs``).

    Attributes
    ----------
    coords : dict
        ``country``, ``year``, ``hazard``, ``covariate``, ``world_region``, ``obs``.
    displacements, log_population, log_exposure_ratio : numpy.ndarray
        Per observation.
    covariates : numpy.ndarray
        (obs, covariate), standardised.
    country_idx, year_idx, hazard_idx : numpy.ndarray
        Integer positions of each observation.
    country_region_idx : numpy.ndarray
        World region of each country.
    centred_country, centred_occurrence : numpy.ndarray
        Parameterisation masks of the size and occurrence country effects (country x hazard).
    scaling : dict
        Covariate -> {"transform", "mean", "sd"}; ``population`` (log, standardised) is the occurrence
        part's size term.
    size_centring : dict, optional
        Fixed centring of the expected log size (see :meth:`size_level`); simulations set it.
    covariate_between : numpy.ndarray, optional
        (country, covariate): the **between** part of each covariate, the country's mean of the transformed
        covariate over its calibration years, standardised with ``scaling`` (:func:`prepare_inputs` sets it).
        The **within** part of an observation is ``covariates -
        covariate_between[country_idx]`` (its deviation from that mean, divided by the same sd). Default:
        the mean of ``covariates`` over each country's observed years.
    monitored : numpy.ndarray, optional
        (year, hazard) bool: whether IDMC monitored the hazard that year, i.e. recorded it in at least one
        country of the world (:func:`prepare_inputs` sets it). An unmonitored hazard-year (drought before
        2017) holds no information on displacement: the model gives it no chance of a record instead of
        reading its zeros as years without displacement. Default: every year monitored.
    """

    coords: dict[str, list[Any]]
    displacements: np.ndarray
    log_population: np.ndarray
    log_exposure_ratio: np.ndarray
    covariates: np.ndarray
    country_idx: np.ndarray
    year_idx: np.ndarray
    hazard_idx: np.ndarray
    country_region_idx: np.ndarray
    centred_country: np.ndarray
    centred_occurrence: np.ndarray
    scaling: dict[str, dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    size_centring: dict[str, float] | None = None
    covariate_between: np.ndarray | None = None
    monitored: np.ndarray | None = None

    def monitored_mask(self) -> np.ndarray:
        """(year, hazard) bool: hazard-years IDMC monitored (see ``monitored``)."""
        shape = (len(self.coords["year"]), len(self.coords["hazard"]))
        return np.ones(shape, bool) if self.monitored is None else np.asarray(self.monitored, bool)

    def reporting_years(self) -> dict[str, list[int]]:
        """Per hazard, the last :data:`REPORTING_YEARS` monitored calibration years: projections hold the
        occurrence part's reporting level at its mean over these years (today's monitoring)."""
        mask = self.monitored_mask()
        years = [int(y) for y in self.coords["year"]]
        return {str(h): [y for y, m in zip(years, mask[:, j], strict=True) if m][-REPORTING_YEARS:]
                for j, h in enumerate(self.coords["hazard"])}

    def between_within(self) -> tuple[np.ndarray, np.ndarray]:
        """Mundlak decomposition of the standardised covariates: ``between`` (country, covariate), the
        country means, and ``within`` (obs, covariate), each observation's deviation from its country's mean
        (so ``covariates = between[country_idx] + within``)."""
        X = np.asarray(self.covariates, float)
        ci = np.asarray(self.country_idx, np.int64)
        if self.covariate_between is not None:
            between = np.asarray(self.covariate_between, float)
        else:
            n_c = len(self.coords["country"])
            # one value per country-year (an observation per hazard repeats it)
            _, first = np.unique(ci * (int(np.max(self.year_idx, initial=0)) + 1) + np.asarray(self.year_idx),
                                 return_index=True)
            between = np.zeros((n_c, X.shape[1]))
            counts = np.bincount(ci[first], minlength=n_c).astype(float)
            for k in range(X.shape[1]):
                between[:, k] = np.bincount(ci[first], X[first, k], n_c) / np.maximum(counts, 1.0)
        return between, X - between[ci]

    def country_means(self) -> dict[str, dict[str, float]]:
        """Per-country calibration means of the transformed covariates (log GDP per capita, shares), on the
        scale of the raw transformed values (``between * sd + mean``): what prediction takes as a known
        country's between part."""
        between, _ = self.between_within()
        names = list(self.coords["covariate"])
        return {str(c): {n: float(between[i, k] * self.scaling[n]["sd"] + self.scaling[n]["mean"])
                         for k, n in enumerate(names)} for i, c in enumerate(self.coords["country"])}

    def size_level(self) -> dict[str, float]:
        """Centring (``mean``, ``sd``) of the expected log size in the residual-scale model
        (``sigma_obs_level``, ``sigma_obs_knot``): ``size_centring`` if given, else the mean and sd of the log positive figures."""
        if self.size_centring is not None:
            return dict(self.size_centring)
        y = np.asarray(self.displacements, float)
        ly = np.log(y[y > 0]) if (y > 0).any() else np.zeros(1)
        return {"mean": float(ly.mean()), "sd": float(ly.std()) or 1.0}

    def year_scaling(self) -> dict[str, float]:
        """Standardisation of the calibration years for the reporting trend of the occurrence part
        (``mean``, ``sd``, ``last``: projections hold the trend at the last calibration year)."""
        yrs = np.asarray(self.coords["year"], float)
        return {"mean": float(yrs.mean()), "sd": float(yrs.std()) or 1.0, "last": float(yrs.max())}

    def attrs(self) -> dict[str, str]:
        """Attributes a fit needs for projection (covariate scaling, country regions), as JSON text."""
        regions = self.coords["world_region"]
        return {
            "climmig_covariate_scaling": json.dumps(self.scaling, sort_keys=True),
            "climmig_covariate_country_means": json.dumps(self.country_means(), sort_keys=True),
            "climmig_size_level": json.dumps(self.size_level(), sort_keys=True),
            "climmig_year_scaling": json.dumps(self.year_scaling(), sort_keys=True),
            "climmig_reporting_years": json.dumps(self.reporting_years(), sort_keys=True),
            "climmig_monitored_years": json.dumps(
                {str(h): [int(y) for y, m in zip(self.coords["year"], self.monitored_mask()[:, j], strict=True)
                          if m] for j, h in enumerate(self.coords["hazard"])}, sort_keys=True),
            "climmig_model_form": "hurdle_skewnormal",
            "climmig_country_region": json.dumps(
                {c: regions[int(i)] for c, i in zip(self.coords["country"], self.country_region_idx,
                                                    strict=True)}, sort_keys=True),
            "climmig_parameterization": json.dumps(self.meta.get("parameterization", {}), sort_keys=True),
        }


def transform_covariates(cov: pd.DataFrame | xr.Dataset, scaling: Mapping[str, Mapping[str, Any]]
                         ) -> dict[str, Any]:
    """Apply the stored transforms and standardisation to raw covariates.

    Parameters
    ----------
    cov : pandas.DataFrame or xr.Dataset
        Columns/variables named as in :data:`COVARIATE_NAMES`.
    scaling : mapping
        From :attr:`DisplacementInputs.scaling`.

    Returns
    -------
    dict
        Covariate name -> standardised values (same type as the inputs' columns).
    """
    out = {}
    for name, s in scaling.items():
        v = cov[name]
        v = np.log(v) if s["transform"] == "log" else v
        out[name] = (v - s["mean"]) / s["sd"]
    return out


def mundlak_parts(drivers: xr.Dataset, scaling: Mapping[str, Mapping[str, Any]],
                  country_means: Mapping[str, Mapping[str, float]]
                  ) -> tuple[dict[str, xr.DataArray], dict[str, xr.DataArray], list[str]]:
    """Between and within parts of the drivers' covariates, standardised as in the fit.

    A country the fit has seen takes its stored calibration mean (``climmig_covariate_country_means``) as its
    between part; its within part is the driver's deviation from that mean. A country the fit has not seen
    has no calibration mean: its between part is its own value at the **first driver year** (averaged over
    any scenario dimension, so every scenario shares it), and every change after that year goes through the
    within coefficient, as it does for the fitted countries.

    Parameters
    ----------
    drivers : xr.Dataset
        Raw covariates named as in :data:`COVARIATE_NAMES`, each with a ``region`` dim (ISO3 codes) and
        optionally ``year``, ``scenario``.
    scaling : mapping
        The fit's ``climmig_covariate_scaling``.
    country_means : mapping
        The fit's ``climmig_covariate_country_means`` (iso3 -> covariate -> mean of the transformed
        covariate over the calibration years).

    Returns
    -------
    (dict, dict, list)
        Covariate -> between part (``region``), covariate -> within part (the driver's dims), and the regions
        without a stored mean.
    """
    regions = [str(r) for r in drivers["region"].values]
    new = [r for r in regions if r not in country_means]
    between, within = {}, {}
    for name in COVARIATE_NAMES:
        s = scaling[name]
        v = drivers[name]
        v = np.log(v) if s["transform"] == "log" else v
        stored = xr.DataArray([country_means[r][name] if r in country_means else np.nan for r in regions],
                              dims="region", coords={"region": drivers["region"].values})
        if new:
            first = v.sortby("year").isel(year=0, drop=True) if "year" in v.dims else v
            first = first.mean([d for d in first.dims if d != "region"]) if first.ndim > 1 else first
            stored = stored.fillna(first.drop_vars([c for c in first.coords if c != "region"]))
        between[name] = (stored - s["mean"]) / s["sd"]
        within[name] = (v - stored) / s["sd"]
    return between, within, new


def parameterization_masks(positive: pd.DataFrame, countries: Sequence[str], years: Sequence[int],
                           hazards: Sequence[str], regions: Sequence[str], country_region: Sequence[str],
                           mode: Literal["auto", "centered", "noncentered"] = "auto"
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Which effects are centred (see the module docstring).

    Parameters
    ----------
    positive : pandas.DataFrame
        Observed cells with columns ``iso3``, ``year``, ``hazard`` and boolean ``positive``.
    countries, years, hazards, regions : sequence
        Coordinates.
    country_region : sequence of str
        World region of each country.
    mode : {"auto", "centered", "noncentered"}
        ``auto`` applies the data rule; the others force one form everywhere.

    Returns
    -------
    tuple of numpy.ndarray
        Boolean masks (country, hazard) of the size and the occurrence country effects.
    """
    shapes = ((len(countries), len(hazards)), (len(countries), len(hazards)))
    if mode != "auto":
        return tuple(np.full(s, mode == "centered") for s in shapes)  # type: ignore[return-value]

    def count(df: pd.DataFrame, by: str, index: Sequence[Any]) -> pd.DataFrame:
        return df.groupby([by, "hazard"]).size().unstack("hazard").reindex(index=index, columns=hazards).fillna(0)

    pos = positive[positive["positive"]]
    neg = positive[~positive["positive"]]
    n_ch = count(pos, "iso3", countries)
    z_ch = count(neg, "iso3", countries)
    size = n_ch.to_numpy() >= MIN_POSITIVE
    occ = np.minimum(n_ch.to_numpy(), z_ch.to_numpy()) >= MIN_POSITIVE
    # centring needs the population scale of the effects to be well identified too: a hazard with only a
    # few data-rich countries (drought) has a weakly identified sigma_country that can get small, and its
    # few centred effects then form a funnel (4 divergences, all at sigma_country[drought] ~ 0.37, in a
    # 2008-2022 fit); such a hazard is non-centred throughout
    size[:, size.sum(0) < MIN_CENTRED_COUNTRIES] = False
    occ[:, occ.sum(0) < MIN_CENTRED_COUNTRIES] = False
    return size, occ


def prepare_inputs(observations: pd.DataFrame, covariates: pd.DataFrame, *,
                   hazards: Sequence[str] | None = None, years: Sequence[int] | None = None,
                   exposure_ratio: pd.Series | None = None,
                   parameterization: Literal["auto", "centered", "noncentered"] = "auto") -> DisplacementInputs:
    """Join the tidy observations with the covariates into model inputs.

    Parameters
    ----------
    observations : pandas.DataFrame
        From :func:`climmig.displacement.observations.tidy_idmc`; ``not_reported`` cells are left out. Pass
        every country IDMC reports on (not only the study countries): a hazard-year is *monitored* if it has
        a record in any of them.
    covariates : pandas.DataFrame
        From :func:`climmig.mobility.covariates.build_covariates` (index ``iso3, year``).
    hazards : sequence of str, optional
        Hazards to model (default: those in the observations).
    years : sequence of int, optional
        Calibration years (default: all observed).
    exposure_ratio : pandas.Series, optional
        Exposure relative to the baseline by (``iso3``, ``year``, ``hazard``); default 1 everywhere.
    parameterization : {"auto", "centered", "noncentered"}
        See :func:`parameterization_masks`.

    Returns
    -------
    DisplacementInputs
        ``meta["unknown_countries"]`` lists observed countries without covariates (not modelled).
    """
    obs = observations[observations["status"] != "not_reported"]
    if hazards is not None:
        obs = obs[obs["hazard"].isin(list(hazards))]
    if years is not None:
        obs = obs[obs["year"].isin([int(y) for y in years])]
    # hazard-years IDMC monitored: a record in at least one country of the whole table (before the table is
    # restricted to countries with covariates)
    monitored_pairs = set(map(tuple, obs.loc[obs["displacements"] > 0, ["year", "hazard"]]
                              .astype({"year": int}).itertuples(index=False, name=None)))
    known = set(covariates.index.get_level_values("iso3"))
    unknown = sorted(set(obs["iso3"]) - known)
    obs = obs[obs["iso3"].isin(known)]
    if obs.empty:
        raise DataError("no observations left to fit (after removing not-reported cells and countries "
                        "without covariates)")
    countries = sorted(obs["iso3"].unique())
    yrs = sorted(int(y) for y in obs["year"].unique())
    hz = [h for h in (hazards or sorted(obs["hazard"].unique())) if h in set(obs["hazard"])]
    never = [h for h in hz if not any((y, h) in monitored_pairs for y in yrs)]
    if never:
        # the model would learn nothing on these hazards, and a projection has no reporting level to hold
        raise DataError(f"IDMC recorded no {', '.join(never)} displacement anywhere in {yrs[0]}-{yrs[-1]} "
                        "(its event data hold drought only from 2017): drop it from mobility.displacement."
                        "hazards, or let the calibration period reach a year with such records")
    cov = covariates.reindex(pd.MultiIndex.from_arrays([obs["iso3"], obs["year"]]))
    scaling = {}
    for name, tf in COVARIATE_NAMES.items():
        v = cov[name].to_numpy(float)
        v = np.log(v) if tf == "log" else v
        sd = float(np.std(v)) or 1.0
        scaling[name] = {"transform": tf, "mean": float(np.mean(v)), "sd": sd}
    lp = np.log(cov["population"].to_numpy(float))
    pop_scaling = {"transform": "log", "mean": float(lp.mean()), "sd": float(lp.std()) or 1.0}
    xs = transform_covariates(cov, scaling)
    X = np.column_stack([np.asarray(xs[n], float) for n in COVARIATE_NAMES])
    # between part: each country's mean over its calibration (observed) country-years, standardised with the
    # same scaling; the within part is the remainder (see DisplacementInputs.between_within)
    cy = pd.DataFrame(X, columns=list(COVARIATE_NAMES)).assign(iso3=obs["iso3"].to_numpy(),
                                                                 year=obs["year"].to_numpy())
    between = (cy.drop_duplicates(["iso3", "year"]).groupby("iso3")[list(COVARIATE_NAMES)].mean()
               .reindex(countries).to_numpy(float))
    region_of = covariates["world_region"].groupby(level="iso3").first().reindex(countries)
    regions = sorted(region_of.unique())
    ci = pd.Index(countries).get_indexer(obs["iso3"])
    ti = pd.Index(yrs).get_indexer(obs["year"])
    hi = pd.Index(hz).get_indexer(obs["hazard"])
    lex = np.zeros(len(obs))
    if exposure_ratio is not None:
        e = exposure_ratio.reindex(pd.MultiIndex.from_arrays([obs["iso3"], obs["year"], obs["hazard"]]))
        lex = np.log(e.fillna(1.0).to_numpy(float))
    y = obs["displacements"].to_numpy(float)
    pos = obs.assign(positive=y > 0)[["iso3", "year", "hazard", "positive"]]
    cm, om = parameterization_masks(pos, countries, yrs, hz, regions, list(region_of),
                                            parameterization)
    return DisplacementInputs(
        coords={"country": countries, "year": yrs, "hazard": hz, "covariate": list(COVARIATE_NAMES),
                "world_region": regions, "obs": list(range(len(obs)))},
        displacements=np.round(y).astype(np.int64),
        log_population=np.log(cov["population"].to_numpy(float)),
        log_exposure_ratio=lex,
        covariates=X,
        country_idx=ci, year_idx=ti, hazard_idx=hi,
        country_region_idx=pd.Index(regions).get_indexer(region_of),
        centred_country=cm, centred_occurrence=om,
        scaling={**scaling, "population": pop_scaling},
        covariate_between=between,
        monitored=np.array([[(y, h) in monitored_pairs for h in hz] for y in yrs], bool),
        meta={"unknown_countries": unknown,
              "parameterization": {"mode": parameterization,
                                   "centred_country_share": float(cm.mean()),
                                   "centred_occurrence_share": float(om.mean())}},
    )


# ------------------------------------------------------------------------------------------ the model
