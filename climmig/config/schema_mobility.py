"""Config models of the mobility models: event displacement, migration, and their sampler and gate."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from climmig.config.schema_statistics import DistSpec, GateSpec, SamplerSpec
from climmig.config.schema_types import SafeId, _Frozen, _hint, _unique

__all__ = ["HISTORICAL_INTENSITY_HAZARDS", "DisplacementSpec", "MigrationSpec", "MobilitySpec"]


#: hazards with a historical intensity index (climmig.mobility.hazard_history) -> the record it needs
HISTORICAL_INTENSITY_HAZARDS: dict[str, str] = {
    "flood": "DFO flood event archive, e.g. dfo_flood_archive",
    "drought": "CHIRPS Oct-Dec rainfall grid, e.g. chirps_short_rains",
}


class DisplacementSpec(_Frozen):
    """Event-displacement model: observations, hazards modelled, priors, parameterisation."""

    observations: SafeId = "idmc_gidd_weather_events"
    observation_format: Literal["gidd-country-year", "gidd-events", "hdx-events", "auto"] = "auto"
    hazards: list[Literal["flood", "storm", "drought"]] = Field(
        default_factory=lambda: ["flood", "storm", "drought"]
    )
    priors: dict[str, DistSpec] = Field(default_factory=dict)
    parameterization: Literal["auto", "centered", "noncentered"] = "auto"
    hazard_layer_map: dict[str, str] = Field(
        default_factory=dict, description="displacement hazard -> config hazard name driving its change"
    )
    #: hazard -> catalog id of its historical intensity record (flood: a DFO-format event archive; drought:
    #: a CHIRPS-format Oct-Dec rainfall grid). Each listed hazard's exposure elasticity is then learnt from
    #: the calibration years (climmig.mobility.hazard_history); unlisted hazards keep log E = 0 (their prior)
    historical_intensity: dict[str, SafeId] = Field(
        default_factory=dict, description="displacement hazard -> catalog id of its historical intensity record"
    )

    @field_validator("hazards")
    @classmethod
    def _unique_hazards(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("list at least one hazard (flood, storm, drought)")
        _unique(v, "hazard")
        return v

    @field_validator("historical_intensity")
    @classmethod
    def _intensity_hazards(cls, v: dict[str, str]) -> dict[str, str]:
        for hazard in v:
            if hazard not in HISTORICAL_INTENSITY_HAZARDS:
                known = ", ".join(f"{h} ({d})" for h, d in HISTORICAL_INTENSITY_HAZARDS.items())
                raise ValueError(
                    f"mobility.displacement.historical_intensity: no historical intensity index exists for "
                    f"{hazard!r}{_hint(hazard, list(HISTORICAL_INTENSITY_HAZARDS))}; the hazards that have one "
                    f"are {known}. Remove the {hazard!r} key (its exposure elasticity then keeps its prior)")
        return v

    @model_validator(mode="after")
    def _intensity_modelled(self) -> DisplacementSpec:
        extra = [h for h in self.historical_intensity if h not in self.hazards]
        if extra:
            raise ValueError(
                f"mobility.displacement.historical_intensity lists {extra} but mobility.displacement.hazards "
                f"({self.hazards}) does not model {'it' if len(extra) == 1 else 'them'}: add "
                f"{'it' if len(extra) == 1 else 'them'} to hazards or remove the key")
        return self


class MigrationSpec(_Frozen):
    """Origin-destination migration model (gravity type with border-regime frictions)."""

    flows: SafeId = "abel_cohen_flows_2022"
    regimes: SafeId = "border_regimes"
    #: ``laplace``: the all-country negative-binomial GLMM over every period of ``flows`` (with ``stocks`` as the
    #: network term), fitted by a Laplace approximation (climmig.migration.gravity; ~40 s on the full table);
    #: ``nuts``: the single-period PyMC gravity model (climmig.migration.model), for small tables
    fit: Literal["laplace", "nuts"] = "laplace"
    stocks: SafeId = "undesa_bilateral_stock"
    #: Abel & Cohen estimate modelled: ``da_pb_closed`` (total, the authors' preferred) or its outward part
    flow_measure: Literal["da_pb_closed", "da_pb_closed_outward"] = "da_pb_closed"
    #: named destination corridors (name -> ISO3 list) replacing climmig.migration.corridors.DEFAULT_CORRIDORS;
    #: every other country outside the study area is "rest_of_world"
    corridors: dict[str, list[str]] = Field(default_factory=dict)
    #: internal moves for climate reasons: ``prmn`` fits the climate elasticity on UNHCR PRMN (Somalia) and
    #: carries its posterior as the informed prior of every country; ``prior``: the literature priors only
    internal_fit: Literal["prmn", "prior"] = "prmn"
    #: cross-border forced displacement (refugees and asylum seekers) fitted on UNHCR corridors; ``none`` skips it
    forced_displacement: Literal["unhcr", "none"] = "unhcr"
    priors: dict[str, DistSpec] = Field(default_factory=dict)
    internal_priors: dict[str, DistSpec] = Field(default_factory=dict)
    internal_flows: SafeId | None = Field(default=None, description="catalog id of an internal OD table")
    #: sampler settings of the migration fits (cross-border and internal); default ``mobility.sampler``.
    #: On the demo, 4 x 500 draws saved nothing against 4 x 1000 (31 s vs 28-39 s: compilation dominates)
    #: and failed the gate once (R-hat 1.011), so the demo leaves it unset
    sampler: SamplerSpec | None = None


class MobilitySpec(_Frozen):
    """Both mobility models, the sampler and the convergence gate."""

    displacement: DisplacementSpec = Field(default_factory=DisplacementSpec)
    migration: MigrationSpec = Field(default_factory=MigrationSpec)
    sampler: SamplerSpec = Field(default_factory=SamplerSpec)
    gate: GateSpec = Field(default_factory=GateSpec)

    @property
    def migration_sampler(self) -> SamplerSpec:
        """Sampler of the migration fits: ``migration.sampler`` if set, else ``sampler``."""
        return self.migration.sampler or self.sampler
