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

from collections.abc import Mapping
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from climmig.config.schema_statistics import DistSpec
from climmig.displacement.inputs import (
    COVARIATE_NAMES,
    LOGIT_UNMONITORED,
    MIN_CENTRED_COUNTRIES,
    MIN_POSITIVE,
    REPORTING_YEARS,
    DisplacementInputs,
    mundlak_parts,
    parameterization_masks,
    prepare_inputs,
    transform_covariates,
)
from climmig.displacement.predict import income_coefficients, predict_displacement
from climmig.displacement.skewnormal import (
    HINGE_WIDTH,
    draw_skewnormal,
    log_mean_exp_skewnormal,
    residual_scale_factor,
    skewnormal_location,
)
from climmig.mobility.priors import prior_rv

# the model is built here; its inputs, skew-normal helpers and projection live in their own modules and are
# re-exported, so ``climmig.displacement.model`` stays the one place to import the displacement model from
__all__ = [
    "COVARIATE_NAMES",
    "HINGE_WIDTH",
    "LOGIT_UNMONITORED",
    "MIN_CENTRED_COUNTRIES",
    "MIN_POSITIVE",
    "REPORTING_YEARS",
    "DisplacementInputs",
    "build_displacement_model",
    "draw_skewnormal",
    "income_coefficients",
    "log_mean_exp_skewnormal",
    "mundlak_parts",
    "parameterization_masks",
    "predict_displacement",
    "prepare_inputs",
    "residual_scale_factor",
    "skewnormal_location",
    "transform_covariates",
]


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
        From :func:`prepare_inputs` or :func:`climmig.displacement.simulate.simulate_displacement`.
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
        # logits is then the identity and is skipped, and with it its scatter-add gradient, one of the
        # costliest parts of a logp-gradient (benchmarks/bench_displacement_fit.py measures the kernel)
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
