"""Interventions across timescales: what they change, when, for whom, at what cost; and their comparison."""

from __future__ import annotations

from climmig.interventions.apply import apply_intervention, apply_portfolio, draw_effects, draw_extra_effects
from climmig.interventions.compare import (
    compare_interventions,
    cost_effectiveness_frontier,
    in_budget_ranking,
    pool_samples,
)
from climmig.interventions.costs import (
    annual_cost,
    cost_draws,
    covered_people,
    discount_factor,
    discounted_cost,
    people_relocated,
    target_population,
)
from climmig.interventions.effects import effect_rng, sample_effect
from climmig.interventions.evidence import evacuation_share_draws, evidence_table
from climmig.interventions.library import KINDS
from climmig.interventions.long_term_kinds import border_regime_spec
from climmig.interventions.outcomes import OUTCOMES, outcome_parts
from climmig.interventions.state import ProjectionState
from climmig.interventions.strength import coverage_share, timing_weight

__all__ = [
    "KINDS",
    "OUTCOMES",
    "cost_draws",
    "cost_effectiveness_frontier",
    "draw_extra_effects",
    "evacuation_share_draws",
    "evidence_table",
    "in_budget_ranking",
    "outcome_parts",
    "people_relocated",
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
