"""Config models of the input layers: hazard indicators, livelihood layers and the climate models' warming."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from climmig import registry
from climmig.config.schema_types import SafeId, _Frozen, _hint, _unique
from climmig.indicator_table import INDICATORS, second_input_problem
from climmig.units import dimensionality, parse_quantity

__all__ = ["ClimateSpec", "HazardSpec", "LivelihoodSpec"]


class HazardSpec(_Frozen):
    """A hazard indicator computed from a catalog input (real scenario files or the warming emulator)."""

    name: SafeId
    indicator: str
    input: SafeId = Field(description="catalog id of the raw hazard input (or the emulator's baseline)")
    threshold: str = Field(description="threshold with units, e.g. '0.5 m' or '35 degC'")
    source: Literal["warming_levels", "scenario_files", "emulator"] = Field(
        default="warming_levels",
        description="warming_levels: real data scaled by each CMIP6 model's warming (AR6 ch. 12); scenario_files: "
        "the user's CMIP6/ISIMIP files; emulator: the documented fallback for places without data")
    # validated when absent too: a two-variable indicator needs its params key
    params: dict[str, float | int | str | bool] = Field(default_factory=dict, validate_default=True)

    @field_validator("indicator")
    @classmethod
    def _known_indicator(cls, v: str) -> str:
        known = list(registry.hazard_indicators())
        if v not in known:
            raise ValueError(f"unknown hazard indicator {v!r}{_hint(v, known)}; use one of {', '.join(known)}")
        return v

    @model_validator(mode="after")
    def _source_has_indicator(self) -> HazardSpec:
        layers = tuple(name for name, i in INDICATORS.items() if i.warming_levels)
        if self.source == "warming_levels" and self.indicator not in layers:
            raise ValueError(f"source warming_levels builds {', '.join(layers)} from real data, not {self.indicator}; "
                             "choose one of those indicators, or set source: scenario_files (your own files) or "
                             "source: emulator (the seeded fallback)")
        return self

    @field_validator("threshold", mode="before")
    @classmethod
    def _threshold_units(cls, v: Any, info: ValidationInfo) -> str:
        if isinstance(v, bool) or not isinstance(v, str | int | float):
            raise ValueError("threshold must be a number with units, e.g. '0.5 m'")
        text = str(v)
        try:
            parse_quantity(text)
        except ValueError as exc:
            raise ValueError(f"{exc}; write a number and a unit, e.g. '0.5 m' or '35 degC'") from None
        indicator = info.data.get("indicator")
        spec = registry.hazard_indicators().get(indicator) if indicator else None
        if spec is not None:
            want, got = spec["threshold"], dimensionality(text)
            if want != got:
                raise ValueError(
                    f"threshold {text!r} has dimension {got} but {indicator} needs {want}; "
                    f"write it like {spec['example']!r}"
                )
        return text

    @field_validator("params")
    @classmethod
    def _second_input_named(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        problem = second_input_problem(str(info.data.get("indicator")), str(info.data.get("source")), v)
        if problem:
            raise ValueError(problem)
        return v

    def second_input(self) -> tuple[str, str] | None:
        """The ``params`` key and catalog id of the indicator's second input (two-variable scenario files)."""
        second = INDICATORS[self.indicator].second_input
        if self.source != "scenario_files" or second is None:
            return None
        return second.key, str(self.params[second.key])


class LivelihoodSpec(_Frozen):
    """A livelihood layer: its kind, its baseline input and (optionally) the input that projects it."""

    name: Literal["population", "agricultural_dependency", "income", "rural_share"]
    input: SafeId | list[SafeId] = Field(
        description="catalog id, or several in priority order (population: e.g. a 1 km national grid first, "
        "then a global 1-degree grid for the other countries)"
    )
    projection: SafeId | None = None
    ssp_model: str | None = Field(default=None, description="model column of the SSP table to use")
    #: where ``ssp_model`` lacks a country: "auto" tries the documented order
    #: (climmig.livelihoods.ssp_fallback.DEFAULT_FALLBACK_ORDER, then the table's other models), a list names
    #: the user's own order, [] means no fallback (the run stops, naming the models that have the country)
    ssp_fallback: Literal["auto"] | list[str] = Field(
        default="auto", description="SSP models tried, in order, for a country the ssp_model lacks")
    min_coverage: float = Field(default=0.9, gt=0, le=1,
                                description="share of a region an input must cover to be used for it")

    @field_validator("input")
    @classmethod
    def _inputs(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list):
            if not v:
                raise ValueError("list at least one catalog id")
            _unique(v, "input")
        return v

    def inputs(self) -> list[str]:
        """The input catalog ids in priority order."""
        return [self.input] if isinstance(self.input, str) else list(self.input)


class ClimateSpec(_Frozen):
    """Where each climate model's warming comes from, and how models are placed in the AR6 ranges."""

    warming: SafeId = Field(
        default="cmip6_regional_tas",
        description="catalog id of the CMIP6 yearly temperature table (model, scenario, year, AR6 regions, world)")
    position_region: str | None = Field(
        default=None,
        description="AR6 region whose warming per K of global warming orders the models in the p10-p90 ranges "
        "(default: the AR6 region holding most of the grid's cells)")
