"""The intervention library: one pure function per kind, each returning a modified copy of the state.

Every function has the signature ``f(state, spec, effect_draws) -> ProjectionState``. ``effect_draws``
holds one effect size per posterior sample (draw *i* goes with posterior draw *i*). An intervention acts
with strength :math:`s = e \\cdot c(r) \\cdot w(t)`: the effect :math:`e`, the coverage share :math:`c` of
the regions it reaches (optionally only where a hazard exceeds ``min_hazard``) and the timing weight
:math:`w` (0 before ``start_year``, rising linearly over ``ramp_years``, back to 0 after
``lifetime_years``). A zero effect leaves every number unchanged.

The kinds live in modules by what they act on and are re-exported here with :data:`KINDS`, so
``climmig.interventions.library`` stays the one place to import them from:
:mod:`~climmig.interventions.rate_kinds` (displacement among the exposed),
:mod:`~climmig.interventions.exposure_kinds` (exposure) and :mod:`~climmig.interventions.long_term_kinds`
(the scenario and border regimes); :mod:`~climmig.interventions.strength` computes the strength and
applies it.
"""

from __future__ import annotations

from collections.abc import Callable

from climmig.config.schema_policy import InterventionSpec
from climmig.interventions.exposure_kinds import drought_resilience, flood_protection, planned_relocation
from climmig.interventions.long_term_kinds import border_regime, border_regime_spec, development, mitigation
from climmig.interventions.rate_kinds import (
    anticipatory_cash,
    early_warning,
    humanitarian_relief,
    livelihood_diversification,
    social_protection,
)
from climmig.interventions.state import ProjectionState

# `X as X`: the kinds' hazard indicators stay importable from here
from climmig.interventions.strength import _KIND_INDICATORS as _KIND_INDICATORS
from climmig.interventions.strength import coverage_share, effect_array, target_hazards, timing_weight

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
