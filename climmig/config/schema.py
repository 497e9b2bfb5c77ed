"""Pydantic models of a climmig run configuration.

Every model is frozen and rejects unknown keys. Cross-field rules are model validators whose messages start
with ``@<yaml path>:`` so that :mod:`climmig.config.load` can report the exact YAML path of the problem.

The *science* part of the config (everything except ``compute`` and ``outputs``) is what
:func:`science_hash` hashes into provenance: changing where a run writes or how many workers it uses does
not change its identity.

This module holds the whole run (:class:`RunConfig`, with the rules that span its sections) and its hash.
The sections' models live in modules by subject and are re-exported here, so ``climmig.config.schema``
stays the one place to import them from: :mod:`~climmig.config.schema_types` (base model, field types),
:mod:`~climmig.config.schema_space_time`, :mod:`~climmig.config.schema_layers`,
:mod:`~climmig.config.schema_statistics`, :mod:`~climmig.config.schema_mobility`,
:mod:`~climmig.config.schema_policy` and :mod:`~climmig.config.schema_site`.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator, model_validator

from climmig import registry
from climmig.config.schema_layers import ClimateSpec, HazardSpec, LivelihoodSpec

# `X as X`: public names of the schema kept importable from here, though not in __all__
from climmig.config.schema_mobility import HISTORICAL_INTENSITY_HAZARDS as HISTORICAL_INTENSITY_HAZARDS
from climmig.config.schema_mobility import DisplacementSpec, MigrationSpec, MobilitySpec
from climmig.config.schema_policy import (
    BorderRegimeChange,
    ComparisonSpec,
    CostSpec,
    InterventionSpec,
    PortfolioSpec,
)
from climmig.config.schema_policy import InterventionKind as InterventionKind
from climmig.config.schema_policy import Level as Level
from climmig.config.schema_policy import Money as Money
from climmig.config.schema_site import ComputeSpec, OutputSpec
from climmig.config.schema_space_time import BBox, GridSpec, HorizonSpec, PeriodSpec, StudyArea, YearRange
from climmig.config.schema_statistics import DistSpec, GateSpec, ProjectionSpec, SamplerSpec
from climmig.config.schema_types import ISO3 as ISO3
from climmig.config.schema_types import MAX_YEAR as MAX_YEAR
from climmig.config.schema_types import MIN_YEAR as MIN_YEAR
from climmig.config.schema_types import ClimateModel, SafeId, Scenario, _Frozen, _hint, _unique
from climmig.config.schema_types import Year as Year
from climmig.provenance import config_hash

__all__ = [
    "BBox",
    "BorderRegimeChange",
    "ClimateSpec",
    "ComparisonSpec",
    "ComputeSpec",
    "CostSpec",
    "DisplacementSpec",
    "DistSpec",
    "GateSpec",
    "GridSpec",
    "HazardSpec",
    "HorizonSpec",
    "InterventionSpec",
    "LivelihoodSpec",
    "MigrationSpec",
    "MobilitySpec",
    "OutputSpec",
    "PeriodSpec",
    "ProjectionSpec",
    "RunConfig",
    "SamplerSpec",
    "StudyArea",
    "YearRange",
    "science_hash",
]


class RunConfig(_Frozen):
    """A whole climmig run, as read from one YAML file."""

    run_id: SafeId
    description: str = ""
    seed: int = Field(ge=0, le=2**32 - 1)
    catalog: str = "../data_catalog/catalog.yaml"
    study_area: StudyArea
    grid: GridSpec
    period: PeriodSpec
    horizons: list[HorizonSpec] = Field(min_length=1)
    scenarios: list[Scenario] = Field(min_length=1)
    climate_models: list[ClimateModel] = Field(min_length=1)
    climate: ClimateSpec = Field(default_factory=ClimateSpec)
    hazards: list[HazardSpec] = Field(min_length=1)
    livelihoods: list[LivelihoodSpec] = Field(default_factory=list)
    mobility: MobilitySpec = Field(default_factory=MobilitySpec)
    projection: ProjectionSpec = Field(default_factory=ProjectionSpec)
    interventions: list[InterventionSpec] = Field(default_factory=list)
    portfolios: list[PortfolioSpec] = Field(default_factory=list)
    border_regimes: list[BorderRegimeChange] = Field(default_factory=list)
    comparison: ComparisonSpec = Field(default_factory=ComparisonSpec)
    compute: ComputeSpec = Field(default_factory=ComputeSpec)
    outputs: OutputSpec = Field(default_factory=OutputSpec)

    @field_validator("scenarios", "climate_models")
    @classmethod
    def _unique_names(cls, v: list[str], info: ValidationInfo) -> list[str]:
        _unique(v, info.field_name.rstrip("s").replace("_", " "))
        return v

    @model_validator(mode="after")
    def _cross_field(self) -> RunConfig:
        problems: list[str] = []
        proj = self.period.projection
        # horizons inside the projection period, ordered, not overlapping
        names = [h.name for h in self.horizons]
        for i, h in enumerate(self.horizons):
            if h.start < proj.start or h.end > proj.end:
                problems.append(
                    f"@horizons -> {i}: horizon {h.name} ({h.start}-{h.end}) lies outside the projection "
                    f"period {proj.start}-{proj.end}; move it inside or extend period.projection"
                )
            if i and h.start <= self.horizons[i - 1].end:
                problems.append(
                    f"@horizons -> {i} -> start: horizon {h.name} starts ({h.start}) before the previous one "
                    f"ends ({self.horizons[i - 1].end}); order horizons in time without overlap"
                )
        if len(set(names)) != len(names):
            problems.append("@horizons: horizon names must be unique")
        hz_names = [h.name for h in self.hazards]
        for i, n in enumerate(hz_names):
            if hz_names.index(n) != i:
                problems.append(f"@hazards -> {i} -> name: hazard name {n!r} is used twice; rename one")
        lv = [x.name for x in self.livelihoods]
        for i, n in enumerate(lv):
            if lv.index(n) != i:
                problems.append(f"@livelihoods -> {i} -> name: livelihood {n!r} is listed twice")
        for dh, layer in self.mobility.displacement.hazard_layer_map.items():
            if layer not in hz_names:
                problems.append(
                    f"@mobility -> displacement -> hazard_layer_map -> {dh}: {layer!r} is not a configured "
                    f"hazard{_hint(layer, hz_names)}; use one of {', '.join(hz_names)}"
                )
        ids = [iv.id for iv in self.interventions]
        for i, iv in enumerate(self.interventions):
            if ids.index(iv.id) != i:
                problems.append(f"@interventions -> {i} -> id: intervention id {iv.id!r} is used twice")
            if not proj.start <= iv.start_year <= proj.end:
                problems.append(
                    f"@interventions -> {i} -> start_year: {iv.start_year} is outside the projection period "
                    f"{proj.start}-{proj.end}; choose a year inside it"
                )
            types = self.mobility.displacement.hazards
            for j, th in enumerate(iv.target_hazards or []):
                if th not in types:
                    problems.append(
                        f"@interventions -> {i} -> target_hazards -> {j}: {th!r} is not a displacement hazard "
                        f"type{_hint(th, list(types))}; use one of {', '.join(types)} (a hazard layer acts "
                        "through mobility.displacement.hazard_layer_map)")
            if iv.kind == "mitigation":
                target = iv.params.get("target_scenario")
                if not isinstance(target, str) or target not in registry.scenarios():
                    problems.append(
                        f"@interventions -> {i} -> params -> target_scenario: mitigation needs a known "
                        f"target scenario, e.g. 'ssp126'"
                    )
            if self.study_area.countries is not None and iv.regions:
                for j, r in enumerate(iv.regions):
                    if r not in self.study_area.countries:
                        problems.append(
                            f"@interventions -> {i} -> regions -> {j}: {r} is not in study_area.countries"
                        )
        for i, pf in enumerate(self.portfolios):
            for j, m in enumerate(pf.members):
                if m not in ids:
                    problems.append(
                        f"@portfolios -> {i} -> members -> {j}: {m!r} is not an intervention id{_hint(m, ids)}"
                    )
            if pf.id in ids:
                problems.append(f"@portfolios -> {i} -> id: {pf.id!r} is already an intervention id")
        for i, br in enumerate(self.border_regimes):
            if not proj.start <= br.from_year <= proj.end:
                problems.append(
                    f"@border_regimes -> {i} -> from_year: {br.from_year} is outside the projection period "
                    f"{proj.start}-{proj.end}"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def years(self) -> list[int]:
        """Projection years."""
        return self.period.projection.years()


def science_hash(cfg: RunConfig) -> str:
    """SHA-256 of the science part of a config (all but ``compute``, ``outputs``, ``description``, ``catalog``).

    The catalog *path* is a site setting; the identity of the data is recorded separately, as the sha256 of
    every input file (``inputs.json`` in the run directory), and stage checkpoints depend on it.

    Parameters
    ----------
    cfg : RunConfig
        Validated config.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    return config_hash(cfg.model_dump(mode="json", exclude={"compute", "outputs", "description", "catalog"}))
