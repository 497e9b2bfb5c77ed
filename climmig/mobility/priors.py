"""Every model's default priors, and the one place a prior spec becomes a PyMC random variable.

The displacement model's table is :data:`DEFAULT_DISPLACEMENT_PRIORS`, the cross-border migration model's
:data:`DEFAULT_MIGRATION_PRIORS`, the internal migration model's :data:`DEFAULT_INTERNAL_PRIORS`; config
overrides are applied by :func:`resolve_prior_table` (or :func:`resolve_priors` for the displacement model,
which also refuses renamed priors) and :func:`prior_rv` builds the variable (:func:`prior_draws` draws from
one outside a model, through the same distribution lookup).

The models fitted without PyMC (numpy/scipy posteriors) have Normal priors given as ``(mean, sd)`` pairs:
:data:`GRAVITY_PRIORS` (the all-country Laplace gravity model, :mod:`climmig.migration.gravity`),
:data:`FORCED_PRIORS` (UNHCR forced displacement, :mod:`climmig.migration.forced`) and
:data:`INTERNAL_CLIMATE_PRIORS` (PRMN internal moves for climate reasons,
:mod:`climmig.migration.internal_climate`). PyMC is imported only when a variable is built or drawn, so those
models do not load it.

Displacement scales:

Scales: the size part's linear predictor is the log of displacements per person in a year with displacement; covariates are standardised
(log GDP per capita, agricultural employment share, rural share), so a coefficient is the change in log rate
per standard deviation of the covariate.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from climmig.config.schema_statistics import DistSpec
from climmig.errors import ConfigError

__all__ = ["DEFAULT_DISPLACEMENT_PRIORS", "DEFAULT_INTERNAL_PRIORS", "DEFAULT_MIGRATION_PRIORS", "FORCED_PRIORS",
           "GRAVITY_PERIOD_PRIOR_SD", "GRAVITY_PRIORS", "GRAVITY_PRIOR_SOURCES", "INTERNAL_CLIMATE_PRIORS",
           "prior_draws", "prior_rv", "resolve_prior_table", "resolve_priors"]

DEFAULT_DISPLACEMENT_PRIORS: Mapping[str, DistSpec] = MappingProxyType({
    # Size part: log displacements per person in a year with displacement, at average covariates. Global IDMC weather
    # displacement is ~2e7 people/yr for ~8e9 people, i.e. log(2.5e-3) ~ -6 summed over hazards; a single
    # hazard in a typical country sits 1-3 log units lower. sigma=3 covers 1e-6 .. 1e-1 per person-year.
    "intercept": DistSpec(dist="Normal", params={"mu": -8.0, "sigma": 3.0},
                          source="IDMC GRID 2023 global totals / world population"),
    # Covariate slopes, per SD of the covariate across the calibration cells (log GDP per head: sd ~1.2 log
    # units), of the size part and (same priors) of the occurrence part's logit. Each covariate is split into
    # the country's calibration mean (between part) and the deviation from it (within part, divided by the
    # same sd so the two slopes are comparable; displacement.mundlak_parts).
    # Between countries: a 1-SD difference multiplying displacement by e^{+-1} (x2.7) is already large;
    # Normal(0, 1) keeps effects weakly regularised but lets strong data speak (195 countries inform it).
    "beta_between": DistSpec(dist="Normal", params={"mu": 0.0, "sigma": 1.0}, source="weakly informative"),
    # Within countries: each within slope is centred on its between slope, with a fitted spread (one for the
    # size part, one for the occurrence part). The between-country gradient is the best prior guess of what a
    # country's own growth does, and the within variation of the calibration years (a few tenths of a log
    # unit of GDP per head, against ~1.2 between countries, and collinear with the reporting trend) informs
    # the slopes only weakly; a within slope centred at 0 instead left every within slope at its prior and
    # lost the back-test against climatology. The spread says how far the data let a country's growth act
    # differently from the cross-section: HalfNormal(0.5) per sd of the covariate, so a within slope can sit
    # ~1 sd-unit from its between slope at the prior's edge. `Fixed` 0 makes within = between.
    "beta_within_spread": DistSpec(dist="HalfNormal", params={"sigma": 0.5},
                                   source="weakly informative: within slopes partially pooled to between slopes"),
    # Spread of world-region effects around the hazard intercept (log scale). Regions differ by up to
    # ~2 log units in per-capita displacement (IDMC GRID regional totals); HalfNormal(1.5).
    "sigma_region": DistSpec(dist="HalfNormal", params={"sigma": 1.5}, source="IDMC GRID regional totals"),
    # Spread of country effects within a region, per hazard. Countries in one region can differ by several
    # log units (e.g. Philippines vs Mongolia for storms); HalfNormal(2).
    "sigma_country": DistSpec(dist="HalfNormal", params={"sigma": 2.0}, source="weakly informative"),
    # Hazard factors on that global spread (log), summing to zero like those of the residual scale below:
    # countries differ in flood, storm and drought displacement by similar orders of magnitude unless the
    # data insist otherwise (factor ~e^{+-0.5}). Only sigma can be changed (mu must stay 0).
    "sigma_country_hazard": DistSpec(dist="Normal", params={"mu": 0.0, "sigma": 0.5}, source="partial pooling"),
    # Year-to-year hazard shocks shared by all countries (global El Nino/La Nina years). IDMC weather
    # displacement totals vary by a factor ~2 between years (15-42 M), i.e. sd ~0.5 on the log scale.
    "sigma_year": DistSpec(dist="HalfNormal", params={"sigma": 0.5}, source="IDMC GIDD yearly totals 2008-2022"),
    # Residual sd of log displacement in years with displacement: a country's recorded figure varies by
    # roughly one order of magnitude between years (sd ~1-2 on the log scale); HalfNormal(2).
    # Gamma(4, 2): mean 2, 95 % in 0.5-4.4. Kept away from 0 on purpose: a figure never repeats exactly from
    # year to year, and a HalfNormal let the sparse drought series fall into a funnel at tau -> 0
    # (R-hat 1.3 and hundreds of divergences in a 2008-2017 fit).
    "sigma_obs": DistSpec(dist="Gamma", params={"alpha": 4.0, "beta": 2.0}, source="IDMC GIDD 2008-2022 spread"),
    # Hazard factors on that global residual scale (log), summing to zero over hazards (the global scale is
    # their geometric mean; free factors traded off with it and slowed mixing). Drought has ~50 positive
    # country-years, too few to estimate its own scale, so hazards differ by ~25 % unless the data insist.
    # Only sigma can be changed (mu must stay 0).
    "sigma_obs_hazard": DistSpec(dist="Normal", params={"mu": 0.0, "sigma": 0.25}, source="partial pooling"),
    # How fast the log residual scale falls per sd of the expected log size above the knot below (see
    # displacement._size_part): a year's figure sums its events, and a figure of several hundred thousand
    # people sums many, so it varies less on the log scale. If a figure summed N events of one size
    # distribution, its log sd would fall like N^-1/2, i.e. by 0.5 per log unit (1.4 per sd of the log
    # figures, 2.86 log units); larger countries also have larger events, so the fall lies between 0 and
    # that. The sign is fixed (a sum of more events never varies more; a rise without bound also let
    # E[exp(size)] overflow for new countries): HalfNormal(1), mean 0.8, 95 % below 2.
    "sigma_obs_level": DistSpec(dist="HalfNormal", params={"sigma": 1.0},
                                source="sum of N events: log sd ~ N^-1/2 (Fenton 1960); weakly informative"),
    # Knot of that hinge, in sd of the positive log figures above their mean (2008-2017: mean 8.8, sd 2.86
    # in log people). Normal(1.3, 0.5): 95 % between ~17k and ~4.5M people a year; in 2008-2017 the sd of a
    # country's log figures is flat up to ~440k people (1.6-2.1) and about halves above.
    "sigma_obs_knot": DistSpec(dist="Normal", params={"mu": 1.3, "sigma": 0.5},
                               source="IDMC GIDD 2008-2017 spread by level; weakly informative"),
    # Shape (alpha) of the skew-normal distribution of log size around its mean, shared by all hazards
    # (flood and storm gave the same value, -2.4 and -2.5, when fitted separately on 2008-2017; drought has
    # too few figures for its own). A year's
    # figure is the sum of that year's events: in quiet years only a few small events are recorded, so the
    # log figure has a longer tail below a country's typical level than above it (left skew).
    # The linear predictor is the mean of the log size (see displacement.skewnormal_location). The sign is
    # not imposed: Normal(0, 2) puts 95 % of the mass on |delta| = |alpha|/sqrt(1+alpha^2) < 0.97 either way;
    # alpha = 0 is the log-normal.
    "size_skewness": DistSpec(dist="Normal", params={"mu": 0.0, "sigma": 2.0},
                              source="weakly informative; Azzalini (2014) skew-normal"),
    # Occurrence (logit of "some displacement recorded") at average covariates and population: about a
    # quarter of country-year-hazard cells have a record (flood ~40 %, storm ~25 %, drought ~2 %);
    # Normal(-1, 2) spans 2 %-95 %.
    "occ_intercept": DistSpec(dist="Normal", params={"mu": -1.0, "sigma": 2.0},
                              source="share of IDMC country-years with a record"),
    # Larger countries record more events (more people and area exposed); a positive slope on standardised
    # log population is expected but left weakly informative.
    "occ_population": DistSpec(dist="Normal", params={"mu": 0.5, "sigma": 1.0}, source="weakly informative"),
    # Reporting trend of the occurrence part, per sd of the calibration years (~4 years for 2008-2022): IDMC
    # recorded flood displacement in 62 countries in 2008 and 104-119 a year in 2018-2022 as its monitoring
    # grew. Normal(0, 0.5) allows odds to change by a factor ~e^{+-1} over 2 sd (8 years) without imposing
    # a sign. Projections hold the reporting level (trend + year deviations) at its mean over the last five
    # monitored calibration years.
    "occ_year_trend": DistSpec(dist="Normal", params={"mu": 0.0, "sigma": 0.5},
                               source="IDMC GIDD records per year 2008-2022; weakly informative"),
    # Spread of the year deviations of the reporting level around its trend (logit scale, zero-sum over the
    # years): the number of countries with a storm record moved between 70 and 84 in 2017-2022 (about
    # +-0.15 on the logit of that share of ~195 countries) after rising from 25 in 2008; HalfNormal(0.5) leaves room for such
    # plateaus and for years with many or few events worldwide.
    "occ_sigma_year": DistSpec(dist="HalfNormal", params={"sigma": 0.5},
                               source="IDMC GIDD records per year 2008-2022; weakly informative"),
    # Correlation of a country's size and occurrence effects, as a Beta on (rho + 1) / 2 (see
    # displacement._effect_correlation): Beta(2, 2) gives rho mean 0, 95 % in -0.81..0.81 (no sign imposed;
    # the effects fitted independently on 2008-2017 correlate at 0.6-0.7).
    "effect_correlation": DistSpec(dist="Beta", params={"alpha": 2.0, "beta": 2.0},
                                   source="weakly informative; two-part models with correlated random effects"
                                          " (Olsen & Schafer 2001, JASA 96:730)"),
    # Spreads of region and country occurrence effects on the logit scale.
    "occ_sigma_region": DistSpec(dist="HalfNormal", params={"sigma": 1.5}, source="weakly informative"),
    "occ_sigma_country": DistSpec(dist="HalfNormal", params={"sigma": 2.0}, source="weakly informative"),
    # Elasticity of displacement to exposed population. Displacement-risk models that keep vulnerability
    # fixed scale displacement in proportion to the people exposed (elasticity 1): Kam et al. (2021)
    # Environ. Res. Lett. 16:044026 (river floods, CLIMADA) and IDMC's Global Disaster Displacement Risk
    # model (2017). sd 0.25 allows for vulnerability changing with exposure. Not identified by the
    # historical fit when no exposure data enter it, so the posterior equals this prior.
    "exposure_elasticity": DistSpec(dist="Normal", params={"mu": 1.0, "sigma": 0.25},
                                    source="Kam et al. 2021 ERL 16:044026; IDMC GDDRM 2017"),
})


def resolve_priors(overrides: Mapping[str, DistSpec] | None = None) -> dict[str, DistSpec]:
    """Defaults with the config's overrides (``cfg.mobility.displacement.priors``) applied.

    Parameters
    ----------
    overrides : mapping of str to DistSpec, optional
        Replacement priors by name.

    Returns
    -------
    dict of str to DistSpec
        A new dict (the defaults are never mutated).

    Raises
    ------
    ConfigError
        If an override names a prior the model does not have.
    """
    out = dict(DEFAULT_DISPLACEMENT_PRIORS)
    for name, spec in (overrides or {}).items():
        if name == "beta":
            raise ConfigError(["mobility -> displacement -> priors -> beta: the covariate slopes are split into "
                               "'beta_between' (country means) and within slopes on the deviations from them, "
                               "centred on the between slopes with spread 'beta_within_spread'; set those instead"])
        if name not in out:
            close = difflib.get_close_matches(name, list(out), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError([f"mobility -> displacement -> priors -> {name}: unknown prior{hint}; "
                               f"the displacement model has {', '.join(out)}"])
        out[name] = spec
    return out


# ------------------------------------------------------------------------------- cross-border migration
DEFAULT_MIGRATION_PRIORS: dict[str, DistSpec] = {
    # log five-year flow of a pair at mean covariates: typical bilateral 5-year flows are hundreds to
    # thousands of people; sigma 3 spans 1 to ~10^5 people
    "intercept": DistSpec(dist="Normal", params={"mu": 6.0, "sigma": 3.0},
                          source="Abel & Cohen (2019) Sci Data 6:82: bilateral 5-year flows mostly 10^1-10^5"),
    # population elasticities of gravity models of international migration lie mostly in 0.3-1.2
    "pop_origin": DistSpec(dist="Normal", params={"mu": 0.7, "sigma": 0.5},
                           source="Beine, Bertoli & Fernandez-Huertas Moraga (2016) World Economy 39:496"),
    "pop_destination": DistSpec(dist="Normal", params={"mu": 0.7, "sigma": 0.5},
                                source="Beine, Bertoli & Fernandez-Huertas Moraga (2016) World Economy 39:496"),
    # distance elasticity of bilateral migration about -1 (positive decay here), range 0.3-1.7
    "distance_decay": DistSpec(dist="Normal", params={"mu": 1.0, "sigma": 0.5},
                               source="Ramos (2016) Gravity models: a tool for migration analysis, IZA WoL 239"),
    # income differential (log GDP pc destination - origin) pulls migrants: positive, modest
    "income": DistSpec(dist="Normal", params={"mu": 0.3, "sigma": 0.5},
                       source="Mayda (2010) J Popul Econ 23:1249 (destination income pull)"),
    # origin income on top of the differential (log GDP pc of the origin, centred): the net origin-income
    # elasticity is origin_income - income. Prior mean 0.3 makes the net elasticity 0 a priori; emigration
    # rates rise with origin income up to middle incomes (the "migration hump")
    "origin_income": DistSpec(dist="Normal", params={"mu": 0.3, "sigma": 1.0},
                              source="Clemens (2014) CGD WP 359; Dao, Docquier, Parsons & Peri (2018) J Dev "
                                     "Econ 132:88 (emigration rises with origin income at low incomes)"),
    # climate stress at the origin (per SD of the index): little direct effect on international flows
    "climate_stress": DistSpec(dist="Normal", params={"mu": 0.0, "sigma": 0.5},
                               source="Beine & Parsons (2015) Scand J Econ 117:723 (no robust direct effect)"),
    # shared border: roughly doubles-to-triples flows
    "contiguity": DistSpec(dist="Normal", params={"mu": 1.0, "sigma": 0.7},
                           source="Beine et al. (2016): common-border coefficients about 0.5-1.5"),
    # border-regime effects on log flows, relative to unilateral control
    "regime_bilateral": DistSpec(dist="Normal", params={"mu": 0.3, "sigma": 0.7},
                                 source="labour-mobility agreements raise flows modestly (weakly informative)"),
    "regime_regional": DistSpec(dist="Normal", params={"mu": 0.4, "sigma": 0.7},
                                source="Ortega & Peri (2013) Migration Studies 1:47: free movement (Schengen/"
                                       "Maastricht) raised flows among members"),
    "regime_multilateral": DistSpec(dist="Normal", params={"mu": 0.3, "sigma": 1.0},
                                    source="no bundled pair has this regime: prior only (weakly informative)"),
    "sigma_origin": DistSpec(dist="HalfNormal", params={"sigma": 1.0},
                             source="weakly informative: country effects within a factor ~e^2"),
    "sigma_destination": DistSpec(dist="HalfNormal", params={"sigma": 1.0},
                                  source="weakly informative: country effects within a factor ~e^2"),
    # negative-binomial shape (variance mu + mu^2/alpha): bilateral flows are strongly over-dispersed
    "alpha": DistSpec(dist="Gamma", params={"alpha": 2.0, "beta": 1.0},
                      source="weakly informative; mean 2, allows alpha from ~0.2 to ~6"),
}


# --------------------------------------------------------------------------------------- internal migration
DEFAULT_INTERNAL_PRIORS: dict[str, DistSpec] = {
    # yearly share of people moving between admin-1-sized zones: five-year inter-regional migration
    # intensities are mostly 1-10 % (0.2-2 %/yr); median 0.8 %/yr, 95 % range ~0.17-3.8 %/yr
    "out_rate": DistSpec(dist="LogNormal", params={"mu": float(np.log(0.008)), "sigma": 0.8},
                         source="Bell et al. (2015) Popul Dev Rev 41:33, internal migration intensities "
                                "(IMAGE project)"),
    # gravity models of internal migration: destination population elasticity close to 1
    "destination_population": DistSpec(dist="Normal", params={"mu": 1.0, "sigma": 0.3},
                                       source="Poot et al. (2016) Investig Reg 36:63, gravity-model review"),
    # distance elasticity of internal migration close to -1
    "distance_decay": DistSpec(dist="Normal", params={"mu": 1.0, "sigma": 0.4},
                               source="Poot et al. (2016) Investig Reg 36:63, gravity-model review"),
    # out-migration ~ exposure_ratio^beta. beta = 0.25 means doubling exposure adds ~19 % to out-migration,
    # i.e. ~0.15 %/yr of the population at the median rate, ~4 % of it over 2025-2050: the order of the
    # World Bank Groundswell pessimistic scenarios (up to 216 million internal climate migrants by 2050,
    # ~3 % of the population of the six regions)
    "climate_elasticity": DistSpec(dist="Normal", params={"mu": 0.25, "sigma": 0.15},
                                   source="calibrated to Clement et al. (2021) Groundswell Part 2, World Bank; "
                                          "Rigaud et al. (2018) Groundswell"),
    # negative-binomial shape of zone-to-zone counts
    "alpha": DistSpec(dist="Gamma", params={"alpha": 2.0, "beta": 0.5},
                      source="weakly informative; mean 4 (moderate over-dispersion)"),
}


# ------------------------------------------------------------ models fitted without PyMC: Normal (mean, sd)
#: the all-country Laplace gravity model (climmig.migration.gravity): prior mean and sd of each coefficient
#: (weakly informative; the data dominate with ~10^5 rows)
GRAVITY_PRIORS: dict[str, tuple[float, float]] = {
    "log_pop_origin": (0.7, 1.0), "log_pop_destination": (0.7, 1.0), "log_gdp_origin": (0.0, 1.0),
    "log_gdp_origin_sq": (0.0, 1.0), "log_gdp_destination": (0.3, 1.0), "log_distance": (-1.0, 1.0),
    "contiguous": (1.0, 1.0), "log_stock": (0.5, 1.0), "climate_stress": (0.0, 1.0),
    "climate_stress_x_income": (0.0, 1.0), "regime_bilateral": (0.3, 1.0), "regime_regional": (0.4, 1.0),
    "regime_multilateral": (0.3, 1.0),
}
GRAVITY_PRIOR_SOURCES = ("population, distance, income and contiguity as the cross-border priors of "
                         "climmig.migration.model (Beine et al. 2016; Ramos 2016; Mayda 2010), sd widened to 1; "
                         "network term: Beine, Docquier & Ozden (2011) J Dev Econ 95:30 (diaspora elasticity ~0.5); "
                         "climate stress: centred on 0, either sign (Beine & Parsons 2015; Cattaneo & Peri 2016)")
#: sd of the gravity model's period effects
GRAVITY_PERIOD_PRIOR_SD = 10.0

#: UNHCR forced displacement abroad (climmig.migration.forced): mean and sd of each coefficient
FORCED_PRIORS: dict[str, tuple[float, float]] = {"log_pop": (1.0, 1.0), "log_gdp": (-0.5, 1.0),
                                                 "disaster_z": (0.0, 1.0), "disaster_z_lag": (0.0, 1.0)}

#: PRMN internal moves for climate reasons (climmig.migration.internal_climate): mean and sd of Normal
#: distributions on beta, log m (per reason) and log alpha
INTERNAL_CLIMATE_PRIORS: dict[str, tuple[float, float]] = {
    "climate_elasticity": (0.0, 1.0),        # sign free: either more moves or trapped people
    "log_rate": (float(np.log(0.02)), 2.0),  # 2 %/yr, 95 % range 0.04-100 %: weakly informative
    "log_alpha": (0.0, 1.5),
}


def resolve_prior_table(overrides: Mapping[str, DistSpec] | None, defaults: Mapping[str, DistSpec],
                        where: str) -> dict[str, DistSpec]:
    """Defaults updated with config overrides; every unknown name is refused with a hint.

    Parameters
    ----------
    overrides : mapping of str to DistSpec, optional
        From the config.
    defaults : mapping of str to DistSpec
        The model's table.
    where : str
        YAML path used in error messages (e.g. ``"mobility -> migration -> priors"``).

    Returns
    -------
    dict of str to DistSpec
        A new dict (the defaults are never mutated).

    Raises
    ------
    ConfigError
        On an unknown prior name (one line per name).
    """
    out = dict(defaults)
    errors = []
    for name, spec in (overrides or {}).items():
        if name not in defaults:
            close = difflib.get_close_matches(name, list(defaults), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(f"{where} -> {name}: unknown prior{hint}; known: {', '.join(defaults)}")
        else:
            out[name] = spec
    if errors:
        raise ConfigError(errors)
    return out


def _distribution(spec: DistSpec) -> Any:
    """The PyMC distribution class a :class:`DistSpec` names (the one lookup of a spec's distribution)."""
    import pymc as pm

    return getattr(pm, spec.dist)


def prior_rv(name: str, spec: DistSpec, dims: str | Sequence[str] | None = None) -> Any:
    """A PyMC random variable from a :class:`DistSpec`, inside a model context (``Fixed``: a constant).

    Parameters
    ----------
    name : str
        Variable name.
    spec : DistSpec
        Distribution (a PyMC distribution name, or ``Fixed`` with ``params.value``) and parameters.
    dims : str or sequence of str, optional
        Dims of the variable.

    Returns
    -------
    pytensor variable
    """
    import pymc as pm

    if spec.dist == "Fixed":
        import pytensor.tensor as pt

        model = pm.modelcontext(None)
        shape = () if dims is None else tuple(len(model.coords[d]) for d in np.atleast_1d(dims))
        return pm.Deterministic(name, pt.full(shape, spec.params["value"]), dims=dims)
    return _distribution(spec)(name, **spec.params, dims=dims)


def prior_draws(spec: DistSpec, samples: int, seed: int) -> np.ndarray:
    """Draws of a :class:`DistSpec` outside a model (``Fixed``: its value repeated).

    Parameters
    ----------
    spec : DistSpec
        The prior.
    samples : int
        Number of draws.
    seed : int
        Seed of the draws.

    Returns
    -------
    numpy.ndarray
        Shape ``(samples,)``, float.
    """
    if spec.dist == "Fixed":
        return np.full(samples, float(spec.params["value"]))
    import pymc as pm

    rv = _distribution(spec).dist(**spec.params)
    # Python linker: these are numpy draws, and the C linker would compile each one with gcc
    return np.asarray(pm.draw(rv, draws=samples, random_seed=int(seed), mode="FAST_COMPILE"),
                      dtype=float).reshape(samples)
