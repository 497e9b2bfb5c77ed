"""Intervention kinds that lower exposure: planned relocation, flood protection, drought resilience."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from climmig.config.schema_policy import InterventionSpec
from climmig.errors import ConfigError
from climmig.interventions.state import ProjectionState
from climmig.interventions.strength import (
    _EXPOSURE_VARS,
    _hazard_factor,
    _need,
    _scaled,
    _share_effect,
    _strength,
    _with_drivers,
    coverage_share,
    target_hazards,
    timing_weight,
)

__all__ = ["drought_resilience", "flood_protection", "planned_relocation"]


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
