r"""Hierarchical hurdle model of yearly new disaster displacement per country and hazard.

Why a hurdle: IDMC records no event for most small country-years, and when it records one the figure spans
seven orders of magnitude. A negative binomial fitted to these data needs a shape ``alpha`` of 0.01-0.08
(checked on the bundled 2008-2022 data), i.e. a nonsensical, extremely left-skewed gamma mixing
distribution, and samples badly. The data call for a hurdle: whether displacement is recorded, and how many
people when it is.

.. math::

    \Pr(y_{cth} > 0) &= \mathrm{logit}^{-1}\big(\textstyle\sum_k \delta^B_{kh} \bar x_{kc}
        + \sum_k \delta^W_{kh} (x_{kct} - \bar x_{kc}) + \kappa_h z_{ct} + v_{ch}\big) \\
    \log y_{cth} \mid y_{cth} > 0 &\sim \mathrm{SkewNormal}(\text{mean } m_{cth}, \text{scale } \tau_h,
        \text{shape } \alpha), \quad \log \tau_h = \log \tau_0 + d_h, \quad \textstyle\sum_h d_h = 0, \\
    \log \sigma^{c}_h &= \log \sigma^{c}_0 + e_h, \quad \textstyle\sum_h e_h = 0, \\
    m_{cth} &= \log P_{ct} + \textstyle\sum_k \beta^B_{kh} \bar x_{kc} + \sum_k \beta^W_{kh} (x_{kct} - \bar x_{kc})
        + u_{ch} + \varepsilon_{th}
        + \gamma_h \log E_{cth} \\
    v_{ch} &\sim \mathcal N(b_h + q_{g(c)h}, \omega^{c}_h), \quad q_{gh} \sim \mathcal N(0, \omega^{r}), \quad
    z_{ch} = (v_{ch} - b_h - q_{g(c)h}) / \omega^{c}_h \\
    u_{ch} \mid v_{ch} &\sim \mathcal N\big(a_h + r_{g(c)h} + \rho\,\sigma^{c}_h z_{ch},\;
        \sigma^{c}_h \sqrt{1 - \rho^2}\big), \quad r_{gh} \sim \mathcal N(0, \sigma^{r}), \quad
    \varepsilon_{th} \sim \mathcal N(0, \sigma^{y}_h)

``P`` is population (offset of the size part), ``z`` standardised log population (more people, more
recorded events), ``sigma^c`` the spread of country effects per hazard (pooled towards a global spread
in the same way), ``tau`` the residual scale of the log size per hazard (pooled towards a global scale so
that sparse hazards such as drought borrow strength), ``alpha`` one skewness shared by all hazards (a
year's figure sums its events, and quiet years with only small events give a longer tail below a country's
usual level: skewness -0.4 to -0.6 in the 2008-2017 residuals), ``x`` the standardised covariates (log GDP
per capita, agricultural employment share, rural share) and ``xbar_c`` their mean over the country's
calibration years (Mundlak decomposition: ``beta^B``/``delta^B`` = ``beta_between``/``occ_beta_between`` act on
differences between countries, ``beta^W``/``delta^W`` = ``beta_within``/``occ_beta_within`` on a country's
deviations from its own mean, i.e. change over time; see :func:`mundlak_parts`), ``u``/``v`` country effects per hazard partially
pooled within World Bank regions ``g`` (their means ``a_h``/``b_h`` are the hazard intercepts, so the
effects include them: the centred form of a hierarchy, which keeps intercepts and effects from trading
off) and correlated through ``rho`` (one for all hazards: a country that records a hazard more often than
its covariates predict also records larger figures; see :func:`_effect_correlation`), ``epsilon`` year-by-hazard shocks shared by all countries, ``E`` exposure relative to the baseline (1
in the historical fit unless exposure data are given, so ``gamma`` keeps its informative prior). The
linear predictor is the skew-normal's mean (:func:`skewnormal_location` gives its location ``xi``); the
expected displacement is :math:`\Pr(y>0)\,E[e^{X}]` (:func:`log_mean_exp_skewnormal`); a draw is
``Bernoulli x round(exp(SkewNormal))``.

Parameterisation (``auto``): a country's size effect ``u`` is centred when the country has at least
:data:`MIN_POSITIVE` years with positive displacement of that hazard (with a residual sd of about 2 on the
log scale, three or more figures pin the effect down more tightly than its prior, sd ~1-2, and the centred
form then mixes better), non-centred otherwise (prior-dominated effects, where the centred form makes a
funnel). The occurrence effect ``v`` is centred when the country has at least :data:`MIN_POSITIVE` years
with and without displacement (all-zero or all-positive series leave it prior-dominated). A hazard with
fewer than :data:`MIN_CENTRED_COUNTRIES` such countries (drought) is non-centred throughout: its
population scale is weakly identified, and a few centred effects then make a funnel. Each element
gets its own form through a masked mixture ``raw ~ N(where(c, loc, 0), where(c, sd, 1))``,
``effect = where(c, raw, loc + sd * raw)``. Region effects and year shocks are few and weakly informed
relative to their small prior scales (the year-shock sd of storms is ~0.2 against a residual sd of 2), so
they are always non-centred, and they sum to zero (``ZeroSumNormal``) so that they do not trade off with
the hazard intercepts; this took the intercepts' effective sample size from ~20 to the hundreds in a
300-draw test. ``parameterization: centered|noncentered`` in the config forces one form for the country
effects.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from climmig.config.schema import DistSpec
from climmig.errors import DataError
from climmig.mobility.priors import prior_rv

__all__ = [
    "COVARIATE_NAMES",
    "MIN_CENTRED_COUNTRIES",
    "MIN_POSITIVE",
    "DisplacementInputs",
    "build_displacement_model",
    "draw_skewnormal",
    "income_coefficients",
    "log_mean_exp_skewnormal",
    "mundlak_parts",
    "residual_scale_factor",
    "skewnormal_location",
    "parameterization_masks",
    "predict_displacement",
    "prepare_inputs",
]

logger = logging.getLogger(__name__)

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
        From :func:`climmig.mobility.observations.tidy_idmc`; ``not_reported`` cells are left out. Pass
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
def _rv(name: str, spec: DistSpec, dims: str | tuple[str, ...] | None = None) -> Any:
    return prior_rv(name, spec, dims)


def _mixed(name: str, loc: Any, sd: Any, centred: np.ndarray, dims: tuple[str, str], shift: Any = 0.0) -> Any:
    """Country effects ``loc + sd * z``, centred or not per element (see the module docstring).

    ``shift`` (the between-country covariate term, country x hazard) is part of the centred element's
    location (hierarchical centring: a data-rich country's total level is what the data pin down, and the
    between slopes are then a regression of those levels, not a direction every centred effect must follow).
    The recorded deterministic ``name`` is the effect net of ``shift``; the function returns the total
    ``shift + effect``.
    """
    c = pt.as_tensor_variable(centred)
    raw = pm.Normal(f"{name}_raw", mu=pt.where(c, loc + shift, 0.0), sigma=pt.where(c, sd, 1.0), dims=dims)
    total = pt.where(c, raw, loc + shift + sd * raw)
    pm.Deterministic(name, total - shift, dims=dims)
    return total


def _within_slopes(prefix: str, between: Any, spread_spec: DistSpec) -> Any:
    """Within-country slopes partially pooled to the between-country ones (non-centred):
    ``{prefix}_within = {prefix}_between + {prefix}_within_spread * {prefix}_within_offset``."""
    spread = _rv(f"{prefix}_within_spread", spread_spec)
    offset = pm.Normal(f"{prefix}_within_offset", 0.0, 1.0, dims=("covariate", "hazard"))
    return pm.Deterministic(f"{prefix}_within", between + spread * offset, dims=("covariate", "hazard"))


def _zerosum(name: str, sd: Any, dims: tuple[str, str]) -> Any:
    """Non-centred effects that sum to zero along ``dims[0]`` (so they do not trade off with intercepts)."""
    raw = pm.ZeroSumNormal(f"{name}_raw", sigma=1.0, dims=(dims[1], dims[0]))
    return pm.Deterministic(name, raw.T * sd, dims=dims)


def _hazard_factor(name: str, spec: DistSpec, n_hazards: int) -> Any:
    """Hazard factors on the log residual scale that sum to zero (so the global scale is their geometric
    mean and the two do not trade off); a single hazard gets no factor."""
    if spec.dist != "Normal" or float(spec.params.get("mu", 0.0)) != 0.0:
        from climmig.errors import ConfigError

        raise ConfigError([f"mobility -> displacement -> priors -> {name}: must be Normal with mu 0 (the "
                           "hazard factors sum to zero; only their sigma can be set)"])
    if n_hazards < 2:
        return pm.Deterministic(name, pt.zeros(n_hazards), dims="hazard")
    return pm.ZeroSumNormal(name, sigma=float(spec.params["sigma"]), dims="hazard")


#: Width (in sd of the expected log size) of the smooth hinge in :func:`residual_scale_factor`
HINGE_WIDTH = 0.25


def residual_scale_factor(mean_log_size: Any, level: Any, knot: Any, size_level: Mapping[str, float],
                          xp: Any = np) -> Any:
    r"""Factor :math:`\exp(-\lambda\, w\, \mathrm{softplus}((z - k)/w))` on the residual scale of the log size.

    :math:`z = (m - \bar m)/s` is the standardised expected log size; below the knot :math:`k` the factor is
    ~1, above it the log scale falls by :math:`\lambda \ge 0` per sd of :math:`z` (a smooth hinge of width
    :math:`w` = :data:`HINGE_WIDTH`), so the factor never exceeds 1.

    Parameters
    ----------
    mean_log_size : array-like
        Expected log size :math:`m` (the linear predictor of the size part).
    level : array-like
        :math:`\lambda` (``sigma_obs_level``, >= 0): how fast the log scale falls above the knot.
    knot : array-like
        :math:`k` (``sigma_obs_knot``), in sd of the log figures above their mean.
    size_level : mapping
        ``mean`` and ``sd`` of the fit's positive log figures (:meth:`DisplacementInputs.size_level`).
    xp : module
        ``numpy`` or ``pytensor.tensor``.

    Returns
    -------
    array-like
    """
    x = ((mean_log_size - size_level["mean"]) / size_level["sd"] - knot) / HINGE_WIDTH
    above = np.logaddexp(0.0, x) if xp is np else pt.softplus(x)
    return xp.exp(-level * HINGE_WIDTH * above)


def log_mean_exp_skewnormal(loc: Any, scale: Any, alpha: Any, xp: Any = np) -> Any:
    r"""``log E[exp(X)]`` for :math:`X \sim \mathrm{SkewNormal}(\xi, \omega, \alpha)`.

    :math:`E[e^X] = 2\,e^{\xi + \omega^2/2}\,\Phi(\delta\omega)` with
    :math:`\delta = \alpha/\sqrt{1+\alpha^2}` (the moment generating function at 1;
    Azzalini & Capitanio 2014, *The Skew-Normal and Related Families*, ch. 2); ``alpha = 0`` gives the log-normal ``xi + omega^2/2``.

    Parameters
    ----------
    loc, scale, alpha : array-like
        Location, scale and shape (numpy/xarray, or pytensor tensors with ``xp=pytensor.tensor``).
    xp : module
        ``numpy`` (default) or ``pytensor.tensor``.

    Returns
    -------
    array-like
    """
    delta = alpha / xp.sqrt(1.0 + alpha**2)
    if xp is np:
        from scipy.special import log_ndtr

        log_phi = log_ndtr(delta * scale)
    else:
        from pymc.distributions.dist_math import normal_lcdf

        log_phi = normal_lcdf(0.0, 1.0, delta * scale)
    return loc + 0.5 * scale**2 + np.log(2.0) + log_phi


def skewnormal_location(mean: Any, scale: Any, alpha: Any, xp: Any = np) -> Any:
    r"""Location :math:`\xi` of a skew-normal with the given mean: :math:`\xi = \mu - \omega\delta\sqrt{2/\pi}`.

    The model's linear predictor is the *mean* log size, not the skew-normal location: with the location as
    the predictor, a change of skewness shifts every country effect, and chains stalled along that ridge
    (R-hat 1.5 in a 2-chain test fit).

    Parameters
    ----------
    mean, scale, alpha : array-like
        Mean, scale and shape (numpy/xarray, or pytensor tensors with ``xp=pytensor.tensor``).
    xp : module
        ``numpy`` or ``pytensor.tensor``.

    Returns
    -------
    array-like
    """
    return mean - scale * (alpha / xp.sqrt(1.0 + alpha**2)) * np.sqrt(2.0 / np.pi)


def draw_skewnormal(rng: np.random.Generator, loc: np.ndarray, scale: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    r"""Skew-normal draws by the stochastic representation
    :math:`\xi + \omega(\delta|Z_0| + \sqrt{1-\delta^2}Z_1)` (Azzalini & Capitanio 2014, ch. 2).

    Parameters
    ----------
    rng : numpy.random.Generator
        Random source.
    loc, scale, alpha : numpy.ndarray
        Broadcastable parameters; the output has their broadcast shape.

    Returns
    -------
    numpy.ndarray
    """
    loc, scale, alpha = np.broadcast_arrays(loc, scale, alpha)
    delta = alpha / np.sqrt(1.0 + alpha**2)
    z0 = np.abs(rng.standard_normal(loc.shape))
    z1 = rng.standard_normal(loc.shape)
    return loc + scale * (delta * z0 + np.sqrt(1.0 - delta**2) * z1)


def _cube_arrays(inputs: DisplacementInputs) -> dict[str, np.ndarray]:
    """Per-cell inputs scattered onto the dense country x year (x hazard) cube.

    Cells without an observation keep neutral values (mean population, zero within-country covariates, unit
    exposure): they enter no likelihood. ``covariates_within`` (country, year, covariate) are the within
    parts, ``covariates_between`` (country, covariate) the between parts (:meth:`DisplacementInputs.between_within`). ``cell_idx`` is each observation's position in the flattened cube.
    """
    n_c, n_t, n_h = (len(inputs.coords[d]) for d in ("country", "year", "hazard"))
    ci, ti, hi = (np.asarray(a, np.int64) for a in (inputs.country_idx, inputs.year_idx, inputs.hazard_idx))
    lp = np.full((n_c, n_t), float(inputs.scaling["population"]["mean"]))
    lp[ci, ti] = inputs.log_population
    between, within = inputs.between_within()
    X = np.zeros((n_c, n_t, inputs.covariates.shape[1]))
    X[ci, ti] = within
    lex = np.zeros((n_c, n_t, n_h))
    lex[ci, ti, hi] = inputs.log_exposure_ratio
    return {"log_population": lp, "covariates_within": X, "covariates_between": between,
            "log_exposure_ratio": lex,
            "cell_idx": (ci * n_t + ti) * n_h + hi}


def _size_part(inputs: DisplacementInputs, priors: Mapping[str, DistSpec], log_pop: Any, X2: Any, Xb: Any,
               lex: Any,
               cells: tuple[np.ndarray, np.ndarray, np.ndarray], shape: tuple[int, int, int], occ_z: Any
               ) -> tuple[Any, Any, Any]:
    """Size part (inside the model context): residual scale and skew-normal location at ``cells`` (country,
    year and hazard positions), shape.

    ``occ_z`` are the standardised occurrence country effects (country, hazard); the size effects are drawn
    conditionally on them (see :func:`_effect_correlation`).
    """
    n_c, n_t, n_h = shape
    intercept = _rv("intercept", priors["intercept"], "hazard")
    # between-country slopes (on the country's calibration mean) and within-country slopes (on the deviation
    # from it); both per sd of the covariate across the calibration cells
    beta_between = _rv("beta_between", priors["beta_between"], ("covariate", "hazard"))
    beta_within = _within_slopes("beta", beta_between, priors["beta_within_spread"])
    sigma_region = _rv("sigma_region", priors["sigma_region"])
    # spread of country effects: global scale x hazard factor (zero-sum), like the residual scale; drought
    # (45 positive country-years in 17 countries) cannot tell its own spread from its residual scale, and
    # a free per-hazard spread mixed slowly (bulk ESS 246, R-hat 1.02 in 4 x 1000 draws)
    sigma_country_global = _rv("sigma_country_global", priors["sigma_country"])
    country_sd_hazard = _hazard_factor("sigma_country_hazard", priors["sigma_country_hazard"], n_h)
    sigma_country = pm.Deterministic("sigma_country", sigma_country_global * pt.exp(country_sd_hazard),
                                     dims="hazard")
    sigma_year = _rv("sigma_year", priors["sigma_year"], "hazard")
    # residual scale of the log size: global scale x hazard factor (zero-sum, so drought borrows strength)
    sigma_obs_global = _rv("sigma_obs_global", priors["sigma_obs"])
    obs_sd_hazard = _hazard_factor("sigma_obs_hazard", priors["sigma_obs_hazard"], n_h)
    sigma_obs = pm.Deterministic("sigma_obs", sigma_obs_global * pt.exp(obs_sd_hazard), dims="hazard")
    skew = _rv("size_skewness", priors["size_skewness"])
    gamma = _rv("exposure_elasticity", priors["exposure_elasticity"], "hazard")
    region_effect = _zerosum("region_effect", sigma_region, ("world_region", "hazard"))
    # conditional on the country's occurrence effect: u | v ~ N(a + r + rho sigma z_v, sigma sqrt(1 - rho^2))
    rho = _effect_correlation(priors["effect_correlation"])
    # the between-country covariate term enters the country level (country x hazard); country_effect is
    # recorded net of it, the returned level includes it
    country_level = _mixed("country_effect", intercept[None, :] + region_effect[inputs.country_region_idx, :]
                           + rho * sigma_country[None, :] * occ_z,
                           sigma_country[None, :] * pt.sqrt(1.0 - rho**2), inputs.centred_country,
                           ("country", "hazard"), shift=pt.dot(Xb, beta_between))
    year_shock = _zerosum("year_shock", sigma_year[None, :], ("year", "hazard"))
    level = _rv("sigma_obs_level", priors["sigma_obs_level"])
    knot = _rv("sigma_obs_knot", priors["sigma_obs_knot"])
    # the expected log size at the cells only (a fifth of the cube on the global data): the data are
    # gathered, the parameters indexed by hazard, country x hazard and year x hazard
    ci, ti, hi = (np.asarray(a, np.int64) for a in cells)
    m_cell = (log_pop.reshape((-1,))[ci * n_t + ti] + (X2[ci * n_t + ti] * beta_within.T[hi]).sum(axis=1)
              + country_level.reshape((-1,))[ci * n_h + hi] + year_shock.reshape((-1,))[ti * n_h + hi]
              + gamma[hi] * lex.reshape((-1,))[(ci * n_t + ti) * n_h + hi])
    # residual scale per hazard, falling above a knot of the expected log size (a smooth hinge, see
    # residual_scale_factor): a country-year's figure sums its events, and above some hundred thousand
    # people a year it sums many, so the log figure varies less. In 2008-2017 the sd of a country-hazard's
    # log figures is 1.6-2.1 in every band of its mean log figure up to 13 (~440k people) and 0.8-0.96 in
    # the five series above (among them China flood and storm, India flood, Philippines storm). The
    # back-test fit (2008-2017) puts the knot at 1.42 +- 0.21 sd (~390k people) and the fall at 1.04 +- 0.37
    # per sd; the CRPS of the 2018-2022 totals fell from 64,084 (one slope over the whole range) to 58,332.
    # Tried and not kept: a hinge at a fixed 100k people next to the whole-range slope (59,565; the slope
    # then came out at -0.02 +- 0.05), the skewness shrunk by the same factor (59,984), per-country factors
    # pooled with a log-normal spread (spread 0.105 +- 0.05, min ESS 505)
    tau = sigma_obs[hi] * residual_scale_factor(m_cell, level, knot, inputs.size_level(), pt)
    loc = skewnormal_location(m_cell, tau, skew, pt)
    return tau, loc, skew


def _effect_correlation(spec: DistSpec) -> Any:
    r"""Correlation :math:`\rho` of a country's size and occurrence effects (shared by all hazards).

    Countries that record displacement more often than their covariates predict also record larger figures:
    among the 2008-2017 countries with at least three figures, the fitted effects of the two parts, fitted
    independently, correlate at 0.66 (flood, 103 countries) and 0.62 (storm, 54). Without the link, a
    country that never records a hazard keeps the whole prior spread of size effects, and its predictive
    has absurd tails: with the independent parts, 0.7 % of China's 2018-2022 drought draws were positive
    and their largest was 2.6e14 people. One correlation serves all hazards: drought has no country with
    three figures to estimate its own. The prior spec is on :math:`(\rho + 1)/2` (a Beta).
    """
    if spec.dist not in ("Beta", "Fixed"):
        from climmig.errors import ConfigError

        raise ConfigError(["mobility -> displacement -> priors -> effect_correlation: must be a Beta (on "
                           "(rho + 1) / 2) or Fixed"])
    if spec.dist == "Fixed":
        return pm.Deterministic("effect_correlation", pt.as_tensor_variable(2.0 * spec.params["value"] - 1.0))
    b = pm.Beta("effect_correlation_01", **spec.params)
    return pm.Deterministic("effect_correlation", 2.0 * b - 1.0)


def _occurrence_part(inputs: DisplacementInputs, priors: Mapping[str, DistSpec], zpop: Any, X2: Any, Xb: Any,
                     cell_idx: Any, shape: tuple[int, int, int]) -> tuple[Any, Any]:
    """Occurrence part (inside the model context): per-observation logit of "some displacement recorded",
    and the standardised occurrence country effects (country, hazard). ``cell_idx`` None: the observations
    are the whole cube in its order (no gather)."""
    n_c, n_t, n_h = shape
    occ_intercept = _rv("occ_intercept", priors["occ_intercept"], "hazard")
    occ_beta_between = _rv("occ_beta_between", priors["beta_between"], ("covariate", "hazard"))
    occ_beta_within = _within_slopes("occ_beta", occ_beta_between, priors["beta_within_spread"])
    occ_pop = _rv("occ_population", priors["occ_population"], "hazard")
    occ_sigma_region = _rv("occ_sigma_region", priors["occ_sigma_region"])
    occ_sigma_country = _rv("occ_sigma_country", priors["occ_sigma_country"], "hazard")
    # reporting level: IDMC records displacement for ever more country-years as its monitoring grows (storm
    # in 25 countries in 2008, 30-54 in 2012-2016, then 70-84 a year in 2017-2022; flood 62 -> 97-119), not
    # only because hazards change. A linear trend alone overshoots such a plateau at its end: the
    # projection, which holds the level of the last calibration years, then starts above today's record.
    # Zero-sum year deviations around the trend follow the plateau (and the years with many or few events
    # worldwide); the projection holds the mean level of the last monitored years.
    trend = _rv("occ_year_trend", priors["occ_year_trend"], "hazard")
    occ_sigma_year = _rv("occ_sigma_year", priors["occ_sigma_year"], "hazard")
    occ_year = _zerosum("occ_year_effect", occ_sigma_year[None, :], ("year", "hazard"))
    ys = inputs.year_scaling()
    zyear = (np.asarray(inputs.coords["year"], float) - ys["mean"]) / ys["sd"]
    occ_region = _zerosum("occ_region_effect", occ_sigma_region, ("world_region", "hazard"))
    occ_loc = occ_intercept[None, :] + occ_region[inputs.country_region_idx, :]
    occ_shift = pt.dot(Xb, occ_beta_between)
    occ_level = _mixed("occ_country_effect", occ_loc, occ_sigma_country[None, :], inputs.centred_occurrence,
                       ("country", "hazard"), shift=occ_shift)
    logit = (pt.dot(X2, occ_beta_within).reshape((n_c, n_t, n_h)) + occ_pop[None, None, :] * zpop[:, :, None]
             + occ_level[:, None, :] + zyear[None, :, None] * trend[None, None, :] + occ_year[None, :, :])
    mask = inputs.monitored_mask()
    if not mask.all():
        logit = pt.where(mask[None, :, :], logit, LOGIT_UNMONITORED)
    logit = logit.reshape((-1,))
    return (logit if cell_idx is None else logit[cell_idx],
            (occ_level - occ_shift - occ_loc) / occ_sigma_country[None, :])


def _bernoulli_logit_logp(value: Any, logit: Any) -> Any:
    """Bernoulli log-likelihood on the logit scale, ``y * logit - softplus(logit)`` (``y`` in {0, 1})."""
    return value * logit - pt.softplus(logit)


def _bernoulli_logit_random(logit: np.ndarray, rng: np.random.Generator | None = None,
                            size: tuple[int, ...] | None = None) -> np.ndarray:
    rng = rng if rng is not None else np.random.default_rng()
    shape = size if size is not None else np.shape(logit)
    return (rng.random(shape) < 1.0 / (1.0 + np.exp(-np.asarray(logit)))).astype(np.int8)


def _bernoulli_logit(name: str, logit: Any, observed: np.ndarray, dims: str) -> Any:
    """Observed Bernoulli on the logit scale with one softplus per cell.

    ``pm.Bernoulli(logit_p=...)`` evaluates both branches of a switch on the value and checks ``0 <= p <= 1``
    on the sigmoid; its log-likelihood and gradient took about a sixth of the global model's logp-gradient.
    It is the same likelihood (a test compares it with scipy's), and it still draws in prior predictive checks.
    """
    return pm.CustomDist(name, logit, logp=_bernoulli_logit_logp, random=_bernoulli_logit_random,
                         observed=observed, dims=dims, dtype="int8")


def build_displacement_model(inputs: DisplacementInputs, priors: Mapping[str, DistSpec], *,
                             keep_rate: bool = False) -> pm.Model:
    """Build the hierarchical hurdle displacement model (pure: no sampling, no I/O).

    Parameters
    ----------
    inputs : DisplacementInputs
        From :func:`prepare_inputs` or :func:`climmig.mobility.simulate.simulate_displacement`.
    priors : mapping of str to DistSpec
        All of :data:`climmig.mobility.priors.DEFAULT_DISPLACEMENT_PRIORS` (see ``resolve_priors``).
    keep_rate : bool
        Also record the expected displacement per observation (``expected_displacement``, dims ``obs``);
        large, so off for real fits (used by consistency tests).

    Returns
    -------
    pm.Model
        Data containers ``log_population`` (country, year), ``covariates_within`` (country, year, covariate),
        (the between parts, country x covariate, are a constant of the graph),
        ``log_exposure_ratio`` (country, year, hazard), and per observation ``cell_idx`` (position in the
        flattened country x year x hazard cube), ``country_idx``, ``year_idx``, ``hazard_idx``,
        ``displacements``; size part ``intercept`` (hazard), ``beta_between`` and ``beta_within``
        (covariate, hazard; slopes on the country means and on the deviations from them), ``sigma_region``, ``sigma_country_global``, ``sigma_country_hazard`` (hazard,
        zero-sum), deterministic ``sigma_country`` (hazard), ``sigma_year`` (hazard),
        ``sigma_obs_global``, ``sigma_obs_hazard`` (hazard, zero-sum), ``size_skewness``, deterministics
        ``sigma_obs`` (hazard), ``sigma_obs_level``, ``sigma_obs_knot``, ``exposure_elasticity`` (hazard), deterministics ``region_effect``
        (world_region, hazard), ``country_effect`` (country, hazard), ``year_shock`` (year, hazard);
        occurrence part ``occ_intercept``, ``occ_beta_between``, ``occ_beta_within``, ``occ_population``, ``occ_year_trend``, ``occ_sigma_year`` (hazard),
        ``occ_year_effect`` (year, hazard; zero-sum), ``occ_sigma_region``,
        ``occ_sigma_country``, ``occ_region_effect``, ``occ_country_effect``; likelihoods ``occurred``
        (obs) and ``log_displacements`` (obs with positive displacement, dim ``positive``).
    """
    y = np.asarray(inputs.displacements, float)
    is_pos = y > 0
    pos_idx = np.flatnonzero(is_pos)
    coords = {**inputs.coords, "positive": pos_idx.tolist()}
    ps = inputs.scaling["population"]
    cube = _cube_arrays(inputs)
    cell = cube["cell_idx"]
    n_c, n_t, n_h = (len(inputs.coords[d]) for d in ("country", "year", "hazard"))
    with pm.Model(coords=coords) as model:
        # data on the dense country x year (x hazard) cube: the occurrence part is a broadcast over it, not a
        # gather (the gradients of per-cell gathers of the long format took ~80 % of a 1.8 ms logp-gradient
        # on the global data, 8775 cells); the size part gathers at the positive cells only (2012 of them)
        log_pop = pm.Data("log_population", cube["log_population"], dims=("country", "year"))
        # Mundlak decomposition: the country's calibration mean (between) and the deviation from it (within)
        X = pm.Data("covariates_within", cube["covariates_within"], dims=("country", "year", "covariate"))
        # the between parts are a constant, not pm.Data: the centred country effects' location depends on
        # them, and PyMC resamples (in posterior predictive sampling) every variable that depends on mutable
        # data, which would redraw the fitted country effects
        Xb = pt.as_tensor_variable(cube["covariates_between"])
        lex = pm.Data("log_exposure_ratio", cube["log_exposure_ratio"], dims=("country", "year", "hazard"))
        cell_idx = pm.Data("cell_idx", cell, dims="obs")
        pm.Data("country_idx", inputs.country_idx, dims="obs")
        pm.Data("year_idx", inputs.year_idx, dims="obs")
        pm.Data("hazard_idx", inputs.hazard_idx, dims="obs")
        pm.Data("displacements", y, dims="obs")
        zpop = (log_pop - ps["mean"]) / ps["sd"]
        X2 = X.reshape((n_c * n_t, X.shape[2]))

        # the two parts are linked only through the correlation of their country effects
        # every cell of the cube is observed, in cube order, in the bundled data: the gather of the per-cell
        # logits is then the identity and is skipped (with its scatter-add gradient). Measured on the global
        # 2008-2022 model (numba, fastmath off, one thread): a logp-gradient took 0.72 ms with the gather and
        # pm.Bernoulli, 0.60 ms with the one-softplus likelihood (_bernoulli_logit), 0.58 ms without the
        # gather as well, 0.55 ms with the size part computed at the positive cells only
        whole_cube = np.array_equal(cell, np.arange(n_c * n_t * n_h))
        logit_p, occ_z = _occurrence_part(inputs, priors, zpop, X2, Xb, None if whole_cube else cell_idx,
                                          (n_c, n_t, n_h))
        _bernoulli_logit("occurred", logit_p, is_pos.astype(np.int8), "obs")
        # the size part is evaluated on the positive cells only (a fifth of the cube on the global data),
        # unless the rate of every cell is recorded
        idx = (inputs.country_idx, inputs.year_idx, inputs.hazard_idx)
        size_cells = idx if keep_rate else tuple(np.asarray(a)[pos_idx] for a in idx)
        tau, loc, alpha = _size_part(inputs, priors, log_pop, X2, Xb, lex, size_cells, (n_c, n_t, n_h), occ_z)
        pm.SkewNormal("log_displacements", mu=loc[pos_idx] if keep_rate else loc,
                      sigma=tau[pos_idx] if keep_rate else tau, alpha=alpha,
                      observed=np.log(y[pos_idx]), dims="positive")
        if keep_rate:
            pm.Deterministic("expected_displacement",
                             pm.math.sigmoid(logit_p) * pt.exp(log_mean_exp_skewnormal(loc, tau, alpha, pt)),
                             dims="obs")
    return model


# ------------------------------------------------------------------------------------------ projection
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
