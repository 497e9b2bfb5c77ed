"""Apply interventions (alone or jointly as a portfolio) to a projection state."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from climmig.config.schema_policy import InterventionSpec
from climmig.interventions.effects import effect_rng, sample_effect
from climmig.interventions.library import KINDS
from climmig.interventions.state import ProjectionState
from climmig.provenance import canonical_json

__all__ = ["apply_intervention", "apply_portfolio", "draw_effects", "draw_extra_effects"]

logger = logging.getLogger(__name__)

# kinds whose effect defaults to 1 (the full change) when no distribution is given
_CERTAIN_BY_DEFAULT = {"mitigation", "border_regime"}


def draw_effects(specs: Sequence[InterventionSpec], n: int, seed: int) -> dict[str, np.ndarray]:
    """Effect draws for each intervention, one per posterior sample.

    Each intervention draws from a stream keyed by its kind and effect distribution (not by its id or
    position), so adding or removing an intervention does not change the others' draws, a portfolio uses
    exactly its members' draws, and variants of one intervention (e.g. at different coverage) share their
    effect draws: their comparison is not blurred by effect noise. Interventions of the same kind with
    the same effect distribution thus have fully correlated effects (one evidence base).

    Parameters
    ----------
    specs : sequence of InterventionSpec
        Interventions.
    n : int
        Number of posterior samples.
    seed : int
        Run seed.

    Returns
    -------
    dict of str to numpy.ndarray
        Intervention id to draws of shape ``(n,)``.
    """
    out = {}
    for spec in specs:
        if spec.effect is None and spec.kind not in _CERTAIN_BY_DEFAULT:
            logger.warning("%s has no effect distribution; assuming a certain effect of 1", spec.id)
        key = spec.kind + ":" + (canonical_json(spec.effect) if spec.effect is not None else "none")
        out[spec.id] = sample_effect(spec.effect, n, effect_rng(seed, key))
    return out


def draw_extra_effects(specs: Sequence[InterventionSpec], n: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Draws of each intervention's further named effects (``spec.effects``), one per posterior sample.

    Streams are keyed like :func:`draw_effects` (kind, name and distribution), so variants share draws.

    Parameters
    ----------
    specs : sequence of InterventionSpec
        Interventions.
    n : int
        Number of posterior samples.
    seed : int
        Run seed.

    Returns
    -------
    dict
        Intervention id to {effect name: draws of shape ``(n,)``}; empty for interventions without any.
    """
    return {spec.id: {name: sample_effect(d, n, effect_rng(seed, f"{spec.kind}:{name}:{canonical_json(d)}"))
                      for name, d in spec.effects.items()} for spec in specs}


def apply_intervention(state: ProjectionState, spec: InterventionSpec, effect_draws,
                       extra: Mapping[str, np.ndarray] | None = None) -> ProjectionState:
    """Apply one intervention.

    Parameters
    ----------
    state : ProjectionState
        State to modify (not changed).
    spec : InterventionSpec
        The intervention; its ``kind`` selects the function in
        :data:`climmig.interventions.library.KINDS`.
    effect_draws : array-like
        One effect per sample.
    extra : mapping, optional
        Further named effect draws (:func:`draw_extra_effects`); warning kinds use
        ``evacuations_per_averted``.

    Returns
    -------
    ProjectionState
        A modified copy.
    """
    if extra:
        effect_draws = {"effect": effect_draws, **extra}
    return KINDS[spec.kind](state, spec, effect_draws)


def apply_portfolio(
    state: ProjectionState, specs: Sequence[InterventionSpec], draws: Mapping[str, np.ndarray],
    extra: Mapping[str, Mapping[str, np.ndarray]] | None = None,
) -> ProjectionState:
    """Apply several interventions jointly (in the order given), each on the result of the previous.

    Effects compose (e.g. two rate multipliers multiply), so a portfolio's benefit is not the sum of its
    members' benefits where they overlap.

    Parameters
    ----------
    state : ProjectionState
        Baseline.
    specs : sequence of InterventionSpec
        Members.
    draws : mapping
        Effect draws by intervention id (from :func:`draw_effects`).
    extra : mapping, optional
        Further named effect draws by intervention id (from :func:`draw_extra_effects`).

    Returns
    -------
    ProjectionState
    """
    for spec in specs:
        state = apply_intervention(state, spec, draws[spec.id], (extra or {}).get(spec.id))
    return state
