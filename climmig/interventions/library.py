"""The intervention library: one pure function per kind, each returning a modified copy of the state.

Every function has the signature ``f(state, spec, effect_draws) -> ProjectionState``. ``effect_draws``
holds one effect size per posterior sample (draw *i* goes with posterior draw *i*). An intervention acts
with strength :math:`s = e \\cdot c(r) \\cdot w(t)`: the effect :math:`e`, the coverage share :math:`c` of
the regions it reaches (optionally only where a hazard exceeds ``min_hazard``) and the timing weight
:math:`w` (0 before ``start_year``, rising linearly over ``ramp_years``, back to 0 after
``lifetime_years``). A zero effect leaves every number unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from climmig.config.schema import BorderRegimeChange, InterventionSpec
from climmig.errors import ConfigError, DataError
from climmig.indicator_table import indicators_of_onset
from climmig.interventions.state import ProjectionState

__all__ = [
    "KINDS",
    "anticipatory_cash",
    "border_regime",
    "border_regime_spec",
    "coverage_share",
    "development",
    "drought_resilience",
    "early_warning",
    "effect_array",
    "flood_protection",
    "humanitarian_relief",
    "livelihood_diversification",
    "mitigation",
    "planned_relocation",
    "social_protection",
    "target_hazards",
    "timing_weight",
]

logger = logging.getLogger(__name__)

#: What each kind's default acts on. A hazard belongs to a kind by its indicator (the ``hazard_indicator``
#: coordinate of exposure-layer drivers), else by its exact name (the displacement types flood / storm /
#: drought, or the usual layer names). Names are never matched by substring: a layer called "inundation"
#: or "riverine" is found by its indicator, and "no_flood" or "waterlogging" are not mistaken for one.
_KIND_INDICATORS: dict[str, frozenset[str]] = {"flood": indicators_of_onset("sudden"),
                                               "drought": indicators_of_onset("slow")}
_KIND_NAMES: dict[str, frozenset[str]] = {
    "flood": frozenset({"flood"}),
    "drought": frozenset({"drought", "heat", "crop"}),
}
_EXPOSURE_VARS = ("exposure_ratio", "exposed_population", "livelihood_weighted_exposure")
#: exposure variables that count people (they scale with the scenario's population)
_PEOPLE_VARS = ("exposed_population", "livelihood_weighted_exposure")


# ------------------------------------------------------------------------------------------------ helpers
def timing_weight(years: Sequence[int], spec: InterventionSpec, *, lifetime: bool = True) -> xr.DataArray:
    """Share of the full effect reached in each year.

    Parameters
    ----------
    years : sequence of int
        Projection years.
    spec : InterventionSpec
        Uses ``start_year``, ``ramp_years`` and ``lifetime_years``.
    lifetime : bool
        Set the weight back to 0 from ``start_year + lifetime_years`` on.

    Returns
    -------
    xr.DataArray, [1], dims (year)
        0 before ``start_year``; :math:`\\min(1, (t - t_0 + 1)/R)` with :math:`R` = ``ramp_years`` > 0
        (1 from the start year when :math:`R = 0`).
    """
    y = np.asarray(years, dtype=int)
    since = y - spec.start_year
    if spec.ramp_years > 0:
        w = np.clip((since + 1) / spec.ramp_years, 0.0, 1.0)
    else:
        w = (since >= 0).astype(float)
    if lifetime and spec.lifetime_years is not None:
        w = np.where(since >= spec.lifetime_years, 0.0, w)
    return xr.DataArray(w, dims="year", coords={"year": y}, name="timing_weight",
                        attrs={"long_name": f"share of full effect of {spec.id}", "units": "1"})


def target_hazards(spec: InterventionSpec, available: Sequence[str] | xr.DataArray, default: str = "all"
                   ) -> list[str]:
    """The hazards an intervention acts on, among ``available``.

    Parameters
    ----------
    spec : InterventionSpec
        ``target_hazards`` if given.
    available : sequence of str or xr.DataArray
        Hazard names present in the array being changed; a ``hazard`` coordinate (DataArray) may carry a
        ``hazard_indicator`` coordinate, which then decides the kind.
    default : {"all", "flood", "drought"}
        The kind's usual hazards when ``spec.target_hazards`` is None: those whose indicator is of that kind
        (:data:`_KIND_INDICATORS`), else whose name is exactly one of :data:`_KIND_NAMES` (``"all"``: every
        available hazard).

    Returns
    -------
    list of str
        Possibly empty.

    Raises
    ------
    ConfigError
        If ``spec.target_hazards`` names a hazard that is not available.
    """
    indicators: dict[str, str] = {}
    if isinstance(available, xr.DataArray) and "hazard_indicator" in available.coords:
        indicators = {str(h): str(i) for h, i in zip(available.values, available["hazard_indicator"].values,
                                                       strict=True)}
    avail = [str(h) for h in np.asarray(available).ravel()]
    if spec.target_hazards is not None:
        unknown = [h for h in spec.target_hazards if h not in avail]
        if unknown:
            raise ConfigError([f"intervention {spec.id}: target_hazards {unknown} are not hazards of the "
                               f"displacement model ({', '.join(avail)}); name those types (a hazard layer acts "
                               "through mobility.displacement.hazard_layer_map)"])
        return [h for h in avail if h in spec.target_hazards]
    if default in _KIND_INDICATORS:
        return [h for h in avail if (indicators[h] in _KIND_INDICATORS[default] if h in indicators
                                     else h in _KIND_NAMES[default])]
    return avail


def coverage_share(state: ProjectionState, spec: InterventionSpec, default_hazards: str = "all") -> xr.DataArray:
    """Share of each region's target population reached, before timing.

    Parameters
    ----------
    state : ProjectionState
        Current state (regions; ``hazard_intensity`` when ``spec.min_hazard`` is set).
    spec : InterventionSpec
        ``regions`` (None = all), ``coverage`` and ``min_hazard``.
    default_hazards : str
        Passed to :func:`target_hazards` to find the hazard ``min_hazard`` refers to.

    Returns
    -------
    xr.DataArray, [1]
        Dims (region), or (scenario, climate_model, year, region) when targeted by hazard level.
    """
    regions = [str(r) for r in state.drivers["region"].values]
    if spec.regions is not None:
        unknown = sorted(set(spec.regions) - set(regions))
        if unknown:
            raise ConfigError([f"intervention {spec.id}: regions {unknown} are not in the projection"])
    inside = np.array([spec.regions is None or r in spec.regions for r in regions])
    share = xr.DataArray(np.where(inside, spec.coverage, 0.0), dims="region",
                         coords={"region": state.drivers["region"].values})
    if spec.min_hazard is not None:
        if "hazard_intensity" not in state.drivers:
            raise DataError(f"intervention {spec.id}: min_hazard needs 'hazard_intensity' in the drivers")
        hi = state.drivers["hazard_intensity"]
        hz = target_hazards(spec, hi["hazard"], default_hazards)
        if not hz:
            raise ConfigError([f"intervention {spec.id}: no target hazard in hazard_intensity for min_hazard"])
        share = share * (hi.sel(hazard=hz[0], drop=True) >= spec.min_hazard)
    share.attrs = {"long_name": f"coverage share of {spec.id}", "units": "1"}
    return share


def effect_array(state: ProjectionState, effect_draws: np.ndarray | xr.DataArray) -> xr.DataArray:
    """Effect draws as a DataArray on the state's ``sample`` coordinate.

    Parameters
    ----------
    state : ProjectionState
        Supplies the ``sample`` coordinate.
    effect_draws : array-like
        One value per sample.

    Returns
    -------
    xr.DataArray, dims (sample)
    """
    if isinstance(effect_draws, xr.DataArray):
        return effect_draws
    arr = np.asarray(effect_draws, dtype=float).reshape(-1)
    if arr.size != state.n_samples:
        raise ValueError(f"got {arr.size} effect draws for {state.n_samples} samples")
    return xr.DataArray(arr, dims="sample", coords={"sample": state.samples.values}, name="effect")


def _share_effect(state: ProjectionState, spec: InterventionSpec, draws) -> xr.DataArray:
    e = effect_array(state, draws)
    bad = int(((e < 0) | (e > 1)).sum())
    if bad:
        logger.warning("%s: %d of %d effect draws outside [0, 1] were clipped", spec.id, bad, e.size)
        e = e.clip(0.0, 1.0)
    return e


def _strength(state, spec, draws, default_hazards="all", share=True) -> xr.DataArray:
    e = _share_effect(state, spec, draws) if share else effect_array(state, draws)
    return e * coverage_share(state, spec, default_hazards) * timing_weight(state.years, spec)


def _hazard_factor(arr: xr.DataArray, hazards: list[str], factor: xr.DataArray) -> xr.DataArray:
    """``factor`` on the listed hazards, 1 elsewhere."""
    if "hazard" in factor.dims:
        return factor.reindex(hazard=arr["hazard"].values, fill_value=1.0)
    on = arr["hazard"].isin(hazards)
    return xr.where(on, factor, 1.0)


def _scaled(arr: xr.DataArray, factor: xr.DataArray) -> xr.DataArray:
    out = arr * factor
    extra = [d for d in out.dims if d not in arr.dims]
    out = out.transpose(*extra, *arr.dims)
    out.name = arr.name
    out.attrs = dict(arr.attrs)
    return out


def _with_drivers(state: ProjectionState, **new: xr.DataArray) -> ProjectionState:
    drivers = state.drivers.copy()
    for k, v in new.items():
        drivers[k] = v
    return state.replace(drivers=drivers)


# ------------------------------------------------------------------------------------------------ rate kinds
def _rate_kind(state: ProjectionState, spec: InterventionSpec, draws, default_hazards: str = "all"):
    rm = state.rate_multiplier
    hz = target_hazards(spec, rm["hazard"], default_hazards)
    if not hz:
        logger.warning("%s: none of its hazards is in the rate multiplier; no effect", spec.id)
        return state
    s = _strength(state, spec, draws, default_hazards)
    return state.replace(rate_multiplier=_scaled(rm, _hazard_factor(rm, hz, 1.0 - s)))


def humanitarian_relief(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Humanitarian assistance: a share ``effect`` fewer exposed people displaced in events.

    Parameters
    ----------
    state : ProjectionState
        Current state.
    spec : InterventionSpec
        Effect: share of displacement avoided among people reached (0-1).
    effect_draws : array-like
        One effect per sample.

    Returns
    -------
    ProjectionState
        ``rate_multiplier`` times :math:`1 - s` on the target hazards.
    """
    return _rate_kind(state, spec, effect_draws)


def _warning_draws(state: ProjectionState, spec: InterventionSpec, effect_draws) -> tuple[object, xr.DataArray]:
    """The main effect draws and the evacuations per displacement without warning avoided.

    ``effect_draws`` is an array of main effects, or a mapping with ``"effect"`` and
    ``"evacuations_per_averted"``; with an array alone the latter is the median of the spec's distribution
    (1, a one-for-one conversion, when it has none).
    """
    if isinstance(effect_draws, dict):
        main = effect_draws["effect"]
        k = effect_draws.get("evacuations_per_averted")
    else:
        main, k = effect_draws, None
    if k is None:
        dist = spec.effects.get("evacuations_per_averted")
        if dist is None:
            k = np.ones(state.n_samples)
        else:
            from climmig.interventions.effects import effect_median

            k = np.full(state.n_samples, effect_median(dist))
    k = effect_array(state, k)
    if bool((k < 0).any()):
        raise ConfigError([f"intervention {spec.id}: evacuations_per_averted must not be negative"])
    return main, k


def _warning_kind(state: ProjectionState, spec: InterventionSpec, effect_draws, default_hazards: str = "all"):
    """Turn a share of displacement without warning into pre-emptive evacuation (or avoid it).

    With strength :math:`s` (effect x coverage x timing) and :math:`k` evacuations per displacement without
    warning avoided, the current displacement without warning :math:`m_u` (relative to the no-warning
    level) falls to :math:`m_u (1 - s)`, and :math:`k s m_u` evacuations are added. Recorded displacement
    therefore changes by :math:`(k - 1) s m_u` of the displacement without warning: it rises when warnings
    move more people than they spare from unwarned flight (:math:`k > 1`).
    """
    rm = state.rate_multiplier
    hz = target_hazards(spec, rm["hazard"].values, default_hazards)
    if not hz:
        logger.warning("%s: none of its hazards is in the rate multiplier; no effect", spec.id)
        return state
    main, k = _warning_draws(state, spec, effect_draws)
    s = _strength(state, spec, main, default_hazards)
    share = xr.where(rm["hazard"].isin(hz), s, 0.0)
    mu = state.unwarned_multiplier if state.unwarned_multiplier is not None else xr.ones_like(rm)
    ea = state.evacuation_added if state.evacuation_added is not None else xr.zeros_like(rm)
    removed = share * mu
    new_mu, new_ea = mu - removed, ea + k * removed
    order = [*[d for d in new_ea.dims if d not in rm.dims], *rm.dims]
    new_mu = new_mu.transpose(*[d for d in order if d in new_mu.dims]).rename("unwarned_multiplier")
    new_ea = new_ea.transpose(*order).rename("evacuation_added")
    new_mu.attrs = {"long_name": "factor on displacement without prior warning", "units": "1"}
    new_ea.attrs = {"long_name": "pre-emptive evacuations added, per displacement without warning", "units": "1"}
    return state.replace(unwarned_multiplier=new_mu, evacuation_added=new_ea)


def anticipatory_cash(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Anticipatory cash before forecast events: more pre-emptive evacuation, less flight without warning.

    Recipients of anticipatory cash were more likely to evacuate families and livestock (Pople et al. 2021);
    the kind is a warning-type change of the outcome split (:func:`early_warning`).

    Parameters
    ----------
    state, spec, effect_draws
        As for :func:`early_warning`.

    Returns
    -------
    ProjectionState
    """
    return _warning_kind(state, spec, effect_draws)


def early_warning(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Early warning: displacement without warning becomes pre-emptive evacuation, or is avoided.

    The effect is the share of displacement without prior warning avoided among the people covered;
    ``effects.evacuations_per_averted`` (:math:`k`) people are evacuated per displacement without warning
    avoided. IDMC counts evacuations as displacement, so recorded displacement rises where :math:`k > 1`
    while displacement without warning falls. Default hazards: flood and storm (sudden onset) when the
    spec gives none.

    Parameters
    ----------
    state : ProjectionState
        Current state.
    spec : InterventionSpec
        The intervention.
    effect_draws : array-like or mapping
        Main effect per sample, or ``{"effect": ..., "evacuations_per_averted": ...}``.

    Returns
    -------
    ProjectionState
        ``unwarned_multiplier`` and ``evacuation_added`` changed; the rate multiplier is unchanged.
    """
    return _warning_kind(state, spec, effect_draws)


def social_protection(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Shock-responsive social protection: lower vulnerability (rate multiplier :math:`1 - s`).

    Parameters
    ----------
    state, spec, effect_draws
        As for :func:`humanitarian_relief`.

    Returns
    -------
    ProjectionState
    """
    return _rate_kind(state, spec, effect_draws)


def livelihood_diversification(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Livelihood diversification: lower vulnerability (rate multiplier :math:`1 - s`).

    Parameters
    ----------
    state, spec, effect_draws
        As for :func:`humanitarian_relief`.

    Returns
    -------
    ProjectionState
    """
    return _rate_kind(state, spec, effect_draws)


# ------------------------------------------------------------------------------------------------ exposure kinds
def _need(state: ProjectionState, spec: InterventionSpec, *names: str) -> None:
    missing = [n for n in names if n not in state.drivers]
    if missing:
        raise DataError(f"intervention {spec.id} ({spec.kind}) needs drivers {missing}")


def _scale_exposure(state: ProjectionState, hazards: list[str], keep: xr.DataArray,
                    variables: Sequence[str] = _EXPOSURE_VARS) -> ProjectionState:
    """Multiply exposure variables by ``keep`` (share of exposure kept) on ``hazards``."""
    new = {}
    for name in variables:
        if name not in state.drivers:
            continue
        arr = state.drivers[name]
        hz = [h for h in hazards if h in set(arr["hazard"].values.tolist())]
        if not hz:
            continue
        k = keep.sel(hazard=hz) if "hazard" in keep.dims else keep
        new[name] = _scaled(arr, _hazard_factor(arr, hz, k))
    return _with_drivers(state, **new)


def planned_relocation(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Planned relocation out of the highest-hazard places at a capacity per year.

    ``params.capacity_per_year`` people per covered region per year (times the timing weight) are moved;
    the effect is the share of them no longer exposed. Relocated people are assumed to come from the cells
    exposed to every target hazard (the highest-hazard cells) and to stay moved after the programme ends
    (``lifetime_years`` stops intake only). Population totals are unchanged (moves are within the region).

    Parameters
    ----------
    state : ProjectionState
        Needs ``exposed_population``.
    spec : InterventionSpec
        ``params.capacity_per_year`` (people).
    effect_draws : array-like
        Share of relocated people no longer exposed (0-1).

    Returns
    -------
    ProjectionState
        ``exposed_population`` lowered by :math:`\\min(e K \\sum_{\\tau \\le t} w_\\tau, X_t)`, and
        ``exposure_ratio`` and ``livelihood_weighted_exposure`` by the same share.
    """
    _need(state, spec, "exposed_population")
    cap = spec.params.get("capacity_per_year")
    if isinstance(cap, bool) or not isinstance(cap, int | float) or cap <= 0:
        raise ConfigError([f"intervention {spec.id}: planned_relocation needs params.capacity_per_year > 0"])
    e = _share_effect(state, spec, effect_draws)
    reached = coverage_share(state, spec) > 0
    cumulative = float(cap) * timing_weight(state.years, spec).cumsum("year") * reached
    hz = target_hazards(spec, state.drivers["exposed_population"]["hazard"])
    exposed = state.drivers["exposed_population"].sel(hazard=hz)
    removed = np.minimum(e * cumulative, exposed)
    # share of exposure kept; 1 where nobody is exposed or the hazard has no exposure layer (NaN)
    keep = (1.0 - removed / exposed.where(exposed > 0)).fillna(1.0)
    return _scale_exposure(state, hz, keep)


def _protected_share(state: ProjectionState, spec: InterventionSpec, hz: list[str]) -> xr.DataArray | float:
    p = spec.params
    if "protected_share" in p:
        v = float(p["protected_share"])
        if not 0 <= v <= 1:
            raise ConfigError([f"intervention {spec.id}: params.protected_share must lie in [0, 1]"])
        return v
    # the design standard and the exposure threshold are in the flood indicator's units: a return period
    # (protection_level/threshold_level, e.g. 100 and 20 years) or a depth (protection_depth_m/threshold_m)
    level_key = next((k for k in ("protection_level", "protection_depth_m") if k in p), None)
    if level_key is None:
        raise ConfigError([f"intervention {spec.id}: flood_protection needs params.protection_level (design "
                           "standard in the flood indicator's units, e.g. 100 for a 100-year return period), "
                           "params.protection_depth_m (depth layers) or params.protected_share"])
    _need(state, spec, "hazard_intensity", "exposed_population", "population")
    standard = float(p[level_key])
    threshold = float(p.get("threshold_level", p.get("threshold_m", 0.5)))
    pop = state.drivers["population"]
    exposed = state.drivers["exposed_population"].sel(hazard=hz)
    depth = state.drivers["hazard_intensity"].sel(hazard=hz)
    mean_depth_exposed = (depth * pop / exposed.where(exposed > 0)).fillna(threshold)
    excess = np.maximum(mean_depth_exposed - threshold, 1e-6)
    share = xr.where(standard > threshold, 1.0 - np.exp(-(standard - threshold) / excess), 0.0)
    # no exposed people or no depth layer: no estimate, so no benefit is claimed
    known = (exposed > 0) & depth.notnull()
    return share.where(known, 0.0)


def flood_protection(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Flood protection: removes flood hazard below a design standard.

    The share of flood exposure below the standard is ``params.protected_share`` if given; otherwise it
    is estimated assuming the flood indicator above the exposure threshold (``params.threshold_level``, in
    the indicator's units, e.g. 20 for a 20-year return period; ``threshold_m`` for depth layers, default 0.5)
    is exponentially distributed with the mean of the exposed population's indicator, estimated as
    ``hazard_intensity * population / exposed_population`` (population-weighted mean over all people,
    attributed to the exposed), so :math:`p = 1 - \\exp(-(D - \\theta)/\\bar d)` with :math:`D` the design
    standard ``params.protection_level`` (or ``protection_depth_m``). Larger future floods therefore make a
    fixed standard protect less.

    Parameters
    ----------
    state : ProjectionState
        Drivers with flood ``exposure_ratio`` (and the variables above when estimating the share).
    spec : InterventionSpec
        The effect is the reliability of the protection (0-1).
    effect_draws : array-like
        One reliability per sample.

    Returns
    -------
    ProjectionState
        Flood exposure variables times :math:`1 - s p`.
    """
    hz = target_hazards(spec, state.drivers["exposure_ratio"]["hazard"], "flood")
    if not hz:
        raise ConfigError([f"intervention {spec.id}: flood_protection found no flood hazard in the drivers"])
    s = _strength(state, spec, effect_draws, "flood")
    return _scale_exposure(state, hz, 1.0 - s * _protected_share(state, spec, hz))


def drought_resilience(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Irrigation and drought-tolerant crops: cut the hazard-to-livelihood sensitivity.

    ``livelihood_weighted_exposure`` of the drought-type hazards falls by :math:`s`; because only the
    agricultural part of exposure is protected, their ``exposure_ratio`` falls by :math:`s a` with
    :math:`a` the ``agricultural_share``. Exposed people stay exposed.

    Parameters
    ----------
    state : ProjectionState
        Drivers with ``agricultural_share``.
    spec : InterventionSpec
        The effect is the share of hazard-to-livelihood sensitivity removed (0-1).
    effect_draws : array-like
        One effect per sample.

    Returns
    -------
    ProjectionState
    """
    _need(state, spec, "agricultural_share")
    s = _strength(state, spec, effect_draws, "drought")
    er_h = target_hazards(spec, state.drivers["exposure_ratio"]["hazard"], "drought")
    lw_h = (target_hazards(spec, state.drivers["livelihood_weighted_exposure"]["hazard"], "drought")
            if "livelihood_weighted_exposure" in state.drivers else [])
    if not er_h and not lw_h:
        raise ConfigError([f"intervention {spec.id}: drought_resilience found no drought-type hazard; "
                           "set target_hazards"])
    out = _scale_exposure(state, er_h, 1.0 - s * state.drivers["agricultural_share"], ("exposure_ratio",))
    return _scale_exposure(out, lw_h, 1.0 - s, ("livelihood_weighted_exposure",))


# ------------------------------------------------------------------------------------------------ long term
def mitigation(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """A lower-emission pathway: hazards move toward ``params.target_scenario`` after the start year.

    Every hazard variable :math:`x` with a ``scenario`` dim becomes :math:`x + s (x_{target} - x)`, where
    the effect is the share of the gap closed (1 = the target scenario's hazard). Population and income
    keep their own scenario (the socio-economic pathway is unchanged): counts of exposed people move toward
    the target scenario's exposed *share* of this scenario's people, and the exposure ratio is a share
    already (:func:`climmig.exposure.ratio.exposure_ratio`). Mitigation is global: ``regions``
    and ``coverage`` are ignored.

    Parameters
    ----------
    state : ProjectionState
        Drivers with a ``scenario`` dim containing the target.
    spec : InterventionSpec
        ``params.target_scenario``.
    effect_draws : array-like
        Share of the gap closed per sample.

    Returns
    -------
    ProjectionState
    """
    target = spec.params.get("target_scenario")
    scen = [str(s) for s in state.drivers["scenario"].values] if "scenario" in state.drivers.coords else []
    if target not in scen:
        raise DataError(f"intervention {spec.id}: target scenario {target!r} is not projected ({scen}); "
                        "add it to `scenarios`")
    s = _share_effect(state, spec, effect_draws) * timing_weight(state.years, spec)
    new = {}
    for name in (*_EXPOSURE_VARS, "hazard_intensity"):
        if name not in state.drivers or "scenario" not in state.drivers[name].dims:
            continue
        arr = state.drivers[name]
        hz = target_hazards(spec, arr["hazard"]) if "hazard" in arr.dims else []
        goal = arr.sel(scenario=target, drop=True)
        if name in _PEOPLE_VARS and "population" in state.drivers:
            # counts of exposed people: the target's exposed share of this scenario's people
            pop = state.drivers["population"]
            pop_t = pop.sel(scenario=target, drop=True)
            goal = (goal * pop / pop_t.where(pop_t > 0)).fillna(0.0)
        gap = goal - arr
        step = s * gap
        if "hazard" in arr.dims:
            step = step.where(arr["hazard"].isin(hz), 0.0)
        out = (arr + step).transpose(*[d for d in step.dims if d not in arr.dims], *arr.dims)
        out.attrs = dict(arr.attrs)
        new[name] = out
    return _with_drivers(state, **new)


def development(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Income growth: extra annual growth of GDP per capita in covered regions.

    Parameters
    ----------
    state : ProjectionState
        Drivers with ``gdp_per_capita``.
    spec : InterventionSpec
        The effect is the extra growth rate per year (e.g. 0.01).
    effect_draws : array-like
        One rate per sample.

    Returns
    -------
    ProjectionState
        ``gdp_per_capita`` times :math:`\\prod_{\\tau \\le t} (1 + g\\,c\\,w_\\tau)`.
    """
    _need(state, spec, "gdp_per_capita")
    g = effect_array(state, effect_draws) * coverage_share(state, spec) * timing_weight(state.years, spec)
    if bool((g <= -1).any()):
        raise ConfigError([f"intervention {spec.id}: growth effects must exceed -1"])
    factor = np.exp(np.log1p(g).cumsum("year"))
    return _with_drivers(state, gdp_per_capita=_scaled(state.drivers["gdp_per_capita"], factor))


def border_regime_spec(change: BorderRegimeChange) -> InterventionSpec:
    """Express a configured border-regime change as an intervention of kind ``border_regime``.

    Parameters
    ----------
    change : BorderRegimeChange
        From the run config.

    Returns
    -------
    InterventionSpec
        Long-term, starting at ``from_year``, acting among ``countries``.
    """
    params: dict[str, float | int | str | bool] = {"regime": change.regime}
    if change.destinations:
        params["destinations"] = ",".join(change.destinations)
    return InterventionSpec(id=change.id, evidence=change.evidence, kind="border_regime", timescale="long",
                            start_year=change.from_year, regions=list(change.countries), params=params,
                            level=change.level, financier=change.financier, good=change.good)


def border_regime(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Change the border regime between every pair of the covered countries from the start year.

    Parameters
    ----------
    state : ProjectionState
        With ``regimes`` (year, origin, destination).
    spec : InterventionSpec
        ``params.regime`` and ``regions`` (at least two); ``lifetime_years`` ends the change;
        ``params.destinations`` (comma-separated ISO3) limits it to movement into those countries.
    effect_draws : array-like
        Unused (the regime change itself is certain; its effect on flows is uncertain in the migration
        model's posterior).

    Returns
    -------
    ProjectionState
    """
    if state.regimes is None:
        raise DataError(f"intervention {spec.id}: the projection has no border regimes")
    regime = spec.params.get("regime")
    if not isinstance(regime, str):
        raise ConfigError([f"intervention {spec.id}: border_regime needs params.regime"])
    countries = spec.regions or []
    if len(countries) < 2:
        raise ConfigError([f"intervention {spec.id}: border_regime needs at least two regions"])
    reg = state.regimes
    on = timing_weight(reg["year"].values, spec.model_copy(update={"ramp_years": 0})) > 0
    pair = reg["origin"].isin(countries) & reg["destination"].isin(countries) & (
        reg["origin"] != reg["destination"])
    dest = spec.params.get("destinations")
    if isinstance(dest, str) and dest:
        # a one-sided opening: only movement into the listed destinations, from the other countries
        into = [d for d in dest.split(",") if d]
        pair = pair & reg["destination"].isin(into) & ~reg["origin"].isin(into)
    new = xr.where(on & pair, regime, reg).transpose(*reg.dims)
    new.attrs = dict(reg.attrs)
    new.name = reg.name
    return state.replace(regimes=new)


KINDS: dict[str, Callable[[ProjectionState, InterventionSpec, object], ProjectionState]] = {
    "humanitarian_relief": humanitarian_relief,
    "anticipatory_cash": anticipatory_cash,
    "planned_relocation": planned_relocation,
    "flood_protection": flood_protection,
    "drought_resilience": drought_resilience,
    "social_protection": social_protection,
    "livelihood_diversification": livelihood_diversification,
    "early_warning": early_warning,
    "mitigation": mitigation,
    "development": development,
    "border_regime": border_regime,
}
