"""Config models of the policy options and their comparison: interventions, portfolios, border regimes, costs.

An intervention or border-regime change that names an ``evidence`` entry takes every field it leaves out
from the bundled evidence table (:func:`climmig.interventions.evidence_table.entry_defaults`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from climmig.config.schema_statistics import DistSpec
from climmig.config.schema_types import ISO3, SafeId, Year, _Frozen

__all__ = ["BorderRegimeChange", "ComparisonSpec", "CostSpec", "InterventionKind", "InterventionSpec", "Level",
           "Money", "PortfolioSpec"]


Money = Annotated[float, Field(ge=0)] | DistSpec
Level = Literal["unilateral", "bilateral", "regional", "multilateral"]


class CostSpec(_Frozen):
    """Cost of an intervention, split by what drives it; each part a number or a distribution.

    ``unit_cost`` is paid once per person newly covered, ``running_cost`` each year per person covered,
    ``fixed_cost`` once in the start year per covered region, ``per_activation`` per person covered each time
    the programme is triggered, ``activations_per_year`` times a year on average. Distributions are drawn
    once per posterior sample in the comparison.
    """

    unit_cost: Money = Field(default=0.0, description="one-off cost per person newly covered")
    running_cost: Money = Field(default=0.0, description="yearly cost per person covered")
    fixed_cost: Money = Field(default=0.0, description="one-off cost in the start year per covered region")
    per_activation: Money = Field(default=0.0, description="cost per person covered per activation")
    activations_per_year: Money = Field(default=0.0, description="expected activations a year")
    currency: Literal["USD", "EUR"] = "USD"
    price_year: Year = 2020
    source: str | None = None


InterventionKind = Literal[
    "humanitarian_relief",
    "anticipatory_cash",
    "planned_relocation",
    "flood_protection",
    "drought_resilience",
    "social_protection",
    "livelihood_diversification",
    "early_warning",
    "mitigation",
    "development",
    "border_regime",
]


def _with_evidence(data: Any, kind_field: str = "kind") -> Any:
    """Fill fields the config leaves out from its ``evidence`` entry (config values override)."""
    if not isinstance(data, dict) or not data.get("evidence"):
        return data
    from climmig.interventions.evidence_table import entry_defaults  # lazy: the table is package data

    return entry_defaults(str(data["evidence"]), data, kind_field=kind_field)


class InterventionSpec(_Frozen):
    """One intervention: what it is, when and where it acts, what it costs and its uncertain effect.

    With ``evidence: <entry id>`` every field left out is taken from that entry of the bundled evidence table
    (``climmig/data/intervention_evidence.yaml``); fields given in the config override the entry's.
    """

    id: SafeId
    evidence: SafeId | None = Field(default=None, description="entry of the bundled evidence table")
    kind: InterventionKind
    timescale: Literal["short", "medium", "long"]
    start_year: Year
    ramp_years: int = Field(default=0, ge=0, le=100)
    lifetime_years: int | None = Field(default=None, ge=1, le=300)
    regions: list[ISO3] | None = None
    coverage: float = Field(default=1.0, ge=0, le=1, description="share of the target population reached")
    effect: DistSpec | None = None
    effects: dict[Literal["evacuations_per_averted"], DistSpec] = Field(
        default_factory=dict, description="further effect distributions by name (warning kinds)")
    cost: CostSpec | None = None
    params: dict[str, float | int | str | bool] = Field(default_factory=dict)
    target_hazards: list[str] | None = Field(
        default=None, description="hazards the intervention acts on (default: the kind's usual hazards)"
    )
    min_hazard: float | None = Field(
        default=None,
        description="act only where the population-weighted intensity of the first target hazard is at "
        "least this (people or cells above a hazard level)",
    )
    level: Level | None = Field(default=None, description="level at which the option is agreed")
    financier: str | None = Field(default=None, description="who pays, e.g. 'study-area governments', 'donors'")
    good: Literal["public", "club", "private"] | None = Field(default=None, description="type of good")
    scenario_change: bool = Field(
        default=False, description="a change of the scenario, not a local project (default true for the "
        "mitigation and development kinds)")
    cost_share: float | None = Field(
        default=None, gt=0, le=1,
        description="share of a scenario change's cost borne locally; only then does it enter the budget ranking")
    moves: dict[str, Literal["up", "down", "either", "none"]] = Field(
        default_factory=dict, description="declared direction of each outcome")

    @model_validator(mode="before")
    @classmethod
    def _evidence(cls, data: Any) -> Any:
        data = _with_evidence(data)
        if isinstance(data, dict) and "scenario_change" not in data and data.get("kind") in (
                "mitigation", "development"):
            # a lower-emission world and faster income growth change the scenario: not local projects
            data = {**data, "scenario_change": True}
        return data


class PortfolioSpec(_Frozen):
    """A combination of interventions evaluated jointly."""

    id: SafeId
    members: list[SafeId] = Field(min_length=2)


class BorderRegimeChange(_Frozen):
    """Change the border regime between country pairs (or within a bloc) from a given year.

    With ``destinations`` only movement *into* those countries from the other listed countries changes (a
    one-sided opening, e.g. a humanitarian visa); otherwise every pair among ``countries`` changes.
    """

    id: SafeId
    evidence: SafeId | None = Field(default=None, description="entry of the bundled evidence table")
    regime: Literal["unilateral", "bilateral", "regional", "multilateral"]
    from_year: Year
    countries: list[ISO3] = Field(min_length=2, description="all pairs among these countries change")
    destinations: list[ISO3] | None = Field(
        default=None, description="only movement into these countries changes (a one-sided opening)")
    level: Level | None = None
    financier: str | None = None
    good: Literal["public", "club", "private"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _evidence(cls, data: Any) -> Any:
        return _with_evidence(data, kind_field="regime")

    @model_validator(mode="after")
    def _destinations_listed(self) -> BorderRegimeChange:
        if self.destinations is not None:
            missing = [d for d in self.destinations if d not in self.countries]
            if missing:
                raise ValueError(f"destinations {missing} must also be listed in countries")
            if len(set(self.countries) - set(self.destinations)) < 1:
                raise ValueError("a one-sided opening needs at least one origin in countries that is not a "
                                 "destination")
        return self


class ComparisonSpec(_Frozen):
    """How interventions are compared.

    Costs and benefits are discounted at the same ``discount_rate`` (undiscounted figures are reported too).
    Options are ranked at an equal ``budget`` (discounted, from the first projection year to each horizon's
    end; default: the smallest median cost among the ranked options) by the displacement they avert, measured
    as ``metric``.
    """

    discount_rate: float = Field(default=0.03, ge=0, le=0.5)
    base_year: Year = 2025
    metric: Literal["unwarned_displacement", "recorded_displacement"] = Field(
        default="unwarned_displacement",
        description="outcome ranking the options: displacement without prior warning (default) or IDMC's recorded "
        "displacement, which counts pre-emptive evacuations")
    budget: float | None = Field(default=None, gt=0, description="equal budget for the ranking (currency units)")
    count_relocations: bool = Field(
        default=True, description="count people moved by planned relocation against the displacement it averts")

    @field_validator("metric", mode="before")
    @classmethod
    def _metric(cls, v: Any) -> Any:
        if v == "displacement":
            return "recorded_displacement"
        if v == "displacement_and_migration":
            raise ValueError(
                "'displacement_and_migration' is no longer a metric: migration is partly driven by displacement, "
                "so adding the two counts people twice, and lower migration is not a benefit in itself. Use "
                "'unwarned_displacement' or 'recorded_displacement'; migration change is reported on its own")
        return v
