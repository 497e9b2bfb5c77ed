"""Intervention kinds that act on displacement among the exposed, through the rate multiplier or its split.

Humanitarian relief, social protection and livelihood diversification lower the displacement rate; early
warning and anticipatory cash turn displacement without warning into pre-emptive evacuation (or avoid it).
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from climmig.config.schema_policy import InterventionSpec
from climmig.errors import ConfigError
from climmig.interventions.state import ProjectionState
from climmig.interventions.strength import _hazard_factor, _scaled, _strength, effect_array, target_hazards

__all__ = ["anticipatory_cash", "early_warning", "humanitarian_relief", "livelihood_diversification",
           "social_protection"]

logger = logging.getLogger(__name__)


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
