"""Interventions across timescales: what they change, when, for whom, at what cost; and their comparison."""

from __future__ import annotations

from climmig.interventions.apply import apply_intervention, apply_portfolio, draw_effects
from climmig.interventions.compare import compare_interventions, pool_samples
from climmig.interventions.costs import (
    annual_cost,
    covered_people,
    discount_factor,
    discounted_cost,
    target_population,
)
from climmig.interventions.effects import effect_rng, sample_effect
from climmig.interventions.library import KINDS, border_regime_spec, coverage_share, timing_weight
from climmig.interventions.state import ProjectionState

__all__ = [
    "KINDS",
    "ProjectionState",
    "annual_cost",
    "apply_intervention",
    "apply_portfolio",
    "border_regime_spec",
    "compare_interventions",
    "coverage_share",
    "covered_people",
    "discount_factor",
    "discounted_cost",
    "draw_effects",
    "effect_rng",
    "pool_samples",
    "sample_effect",
    "target_population",
    "timing_weight",
]
