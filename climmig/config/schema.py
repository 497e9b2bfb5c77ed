"""Pydantic models of a climmig run configuration.

Every model is frozen and rejects unknown keys. Cross-field rules are model validators whose messages start
with ``@<yaml path>:`` so that :mod:`climmig.config.load` can report the exact YAML path of the problem.

The *science* part of the config (everything except ``compute`` and ``outputs``) is what
:func:`science_hash` hashes into provenance: changing where a run writes or how many workers it uses does
not change its identity.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from climmig import registry
from climmig.indicator_table import INDICATORS
from climmig.provenance import config_hash
from climmig.units import dimensionality, parse_quantity

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

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ISO3 = re.compile(r"^[A-Z]{3}$")
MIN_YEAR, MAX_YEAR = 1900, 2300


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _hint(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _safe_id(value: str) -> str:
    if not _SAFE_ID.match(value):
        raise ValueError(
            f"{value!r} is not a safe identifier; use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def _iso3(value: str) -> str:
    if not _ISO3.match(value):
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-3 code; write three capital letters, e.g. 'SOM'")
    return value


def _known_scenario(value: str) -> str:
    known = list(registry.scenarios())
    if value not in known:
        raise ValueError(f"unknown scenario {value!r}{_hint(value, known)}; use one of {', '.join(known)}")
    return value


def _known_climate_model(value: str) -> str:
    known = list(registry.climate_models())
    if value not in known:
        raise ValueError(
            f"unknown climate model {value!r}{_hint(value, known)}; use one of {', '.join(known)}"
        )
    return value


SafeId = Annotated[str, AfterValidator(_safe_id)]
ISO3 = Annotated[str, AfterValidator(_iso3)]
Scenario = Annotated[str, AfterValidator(_known_scenario)]
ClimateModel = Annotated[str, AfterValidator(_known_climate_model)]
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]


def _unique(values: list[Any], what: str) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{what} {v!r} is listed twice; list each once")
        seen.add(v)


# --------------------------------------------------------------------------------------------- space/time
class BBox(_Frozen):
    """A longitude/latitude bounding box in degrees (WGS84)."""

    west: float = Field(ge=-180, le=360)
    south: float = Field(ge=-90, le=90)
    east: float = Field(ge=-180, le=360)
    north: float = Field(ge=-90, le=90)

    @model_validator(mode="after")
    def _ordered(self) -> BBox:
        if self.west >= self.east:
            raise ValueError(f"west ({self.west}) must be less than east ({self.east}); swap them")
        if self.south >= self.north:
            raise ValueError(f"south ({self.south}) must be less than north ({self.north}); swap them")
        return self


class StudyArea(_Frozen):
    """Where the run projects: a list of countries, or a bounding box (then all countries inside it)."""

    countries: list[ISO3] | None = None
    bbox: BBox | None = None
    boundaries: SafeId = "natural_earth_110m_admin0"
    region_id_field: str = "iso3"

    @model_validator(mode="after")
    def _one_of(self) -> StudyArea:
        if (self.countries is None) == (self.bbox is None):
            raise ValueError("give exactly one of `countries` (ISO3 list) or `bbox`")
        if self.countries is not None:
            if not self.countries:
                raise ValueError("`countries` is empty; list at least one ISO3 code")
            _unique(self.countries, "country")
        return self


class GridSpec(_Frozen):
    """The analysis grid: regular latitude/longitude cells of ``resolution`` degrees."""

    resolution: float = Field(gt=0, le=5, description="cell size in degrees")
    crs: Literal["EPSG:4326"] = "EPSG:4326"


class YearRange(_Frozen):
    """An inclusive range of years."""

    start: Year
    end: Year

    @model_validator(mode="after")
    def _ordered(self) -> YearRange:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}; swap them")
        return self

    def years(self) -> list[int]:
        """All years in the range."""
        return list(range(self.start, self.end + 1))


class PeriodSpec(_Frozen):
    """The historical (calibration) period and the projection period."""

    historical: YearRange
    projection: YearRange
    baseline_year: Year = 2020

    @model_validator(mode="after")
    def _order(self) -> PeriodSpec:
        if self.projection.start <= self.historical.start:
            raise ValueError(
                f"@period -> projection -> start: projection starts ({self.projection.start}) before the "
                f"historical period ({self.historical.start}); projections must come after it"
            )
        return self


class HorizonSpec(_Frozen):
    """An evaluation horizon: a named period over which results are averaged."""

    name: SafeId
    start: Year
    end: Year

    @model_validator(mode="after")
    def _ordered(self) -> HorizonSpec:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}; swap them")
        return self


# --------------------------------------------------------------------------------------------- layers
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
    params: dict[str, float | int | str | bool] = Field(default_factory=dict)

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


# --------------------------------------------------------------------------------------------- statistics
_DIST_PARAMS: dict[str, set[str]] = {
    "Normal": {"mu", "sigma"},
    "HalfNormal": {"sigma"},
    "LogNormal": {"mu", "sigma"},
    "Exponential": {"lam"},
    "Gamma": {"alpha", "beta"},
    "Beta": {"alpha", "beta"},
    "Uniform": {"lower", "upper"},
    "StudentT": {"nu", "mu", "sigma"},
    "HalfStudentT": {"nu", "sigma"},
    "TruncatedNormal": {"mu", "sigma", "lower", "upper"},
    "Triangular": {"lower", "c", "upper"},
    "Fixed": {"value"},
}


class DistSpec(_Frozen):
    """A probability distribution by name and parameters (a prior, or an uncertain effect size)."""

    dist: Literal[
        "Normal", "HalfNormal", "LogNormal", "Exponential", "Gamma", "Beta", "Uniform", "StudentT",
        "HalfStudentT", "TruncatedNormal", "Triangular", "Fixed",
    ]
    params: dict[str, float]
    source: str | None = Field(default=None, description="where the default comes from")

    @model_validator(mode="after")
    def _params_match(self) -> DistSpec:
        want = _DIST_PARAMS[self.dist]
        got = set(self.params)
        if got != want:
            missing, extra = sorted(want - got), sorted(got - want)
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if extra:
                parts.append(f"unexpected {extra}")
            raise ValueError(f"{self.dist} takes parameters {sorted(want)}: {', '.join(parts)}")
        for k in ("sigma", "lam", "alpha", "beta", "nu"):
            if k in self.params and not self.params[k] > 0:
                raise ValueError(f"{self.dist} parameter {k} must be > 0, got {self.params[k]}")
        lo, hi = self.params.get("lower"), self.params.get("upper")
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(f"lower ({lo}) must be less than upper ({hi})")
        if self.dist == "Triangular" and not (lo <= self.params["c"] <= hi):
            raise ValueError("Triangular mode c must lie between lower and upper")
        return self


class SamplerSpec(_Frozen):
    """MCMC settings."""

    backend: Literal["nutpie", "pymc"] = "nutpie"
    draws: int = Field(default=1000, ge=10, le=100_000)
    tune: int = Field(default=1000, ge=10, le=100_000)
    chains: int = Field(default=4, ge=1, le=64)
    cores: int | None = Field(default=None, ge=1, le=1024)
    target_accept: float = Field(default=0.9, gt=0.5, lt=1.0)
    #: nutpie's mass matrix: ``low_rank`` (diagonal plus low-rank corrections learnt from the draws and
    #: gradients during tuning) or ``diagonal``. On the global displacement fit, ``low_rank`` doubled the
    #: minimum bulk ESS (362 -> 712 in 4 x 1000 draws) for 30 % more sampling time. PyMC's NUTS ignores it.
    mass_matrix: Literal["low_rank", "diagonal"] = "low_rank"
    #: Largest NUTS tree depth (at most ``2**max_tree_depth - 1`` leapfrog steps per draw), as Stan's and
    #: PyMC's ``max_treedepth``; 10 is their default. It bounds the long trajectories of early tuning, when
    #: the mass matrix is still the identity: on the global displacement fit a chain's first 100 tuning
    #: iterations took 15,556 leapfrog steps at depth 10 and 5,403 at depth 7, while its draws stop at depth
    #: 5 (31 steps) by themselves. Draws that hit the limit are counted in the diagnostics
    #: (``tree_depth_hits``). PyMC's NUTS also caps its first 200 tuning iterations at depth 8.
    max_tree_depth: int = Field(default=10, ge=2, le=15, description=(
        "largest NUTS tree depth (at most 2**depth - 1 leapfrog steps per draw); lower it to bound the long "
        "trajectories of early tuning"))


class GateSpec(_Frozen):
    """Convergence gate: projections refuse a fit that fails it unless ``allow_unconverged``."""

    r_hat_max: float = Field(default=1.01, gt=1.0, le=2.0)
    ess_min: float = Field(default=400, ge=1)
    max_divergences: int = Field(default=0, ge=0)
    allow_unconverged: bool = False


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
    #: network term), fitted by a Laplace approximation (climmig.mobility.gravity; ~40 s on the full table);
    #: ``nuts``: the single-period PyMC gravity model (climmig.mobility.migration), for small tables
    fit: Literal["laplace", "nuts"] = "laplace"
    stocks: SafeId = "undesa_bilateral_stock"
    #: Abel & Cohen estimate modelled: ``da_pb_closed`` (total, the authors' preferred) or its outward part
    flow_measure: Literal["da_pb_closed", "da_pb_closed_outward"] = "da_pb_closed"
    #: named destination corridors (name -> ISO3 list) replacing climmig.mobility.corridors.DEFAULT_CORRIDORS;
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


class ProjectionSpec(_Frozen):
    """How posterior draws are combined with climate models and scenarios."""

    samples: int = Field(default=400, ge=10, le=100_000, description="posterior draws used")
    pairing: Literal["cross", "permutation"] = "cross"
    quantiles: list[float] = Field(default_factory=lambda: [0.05, 0.25, 0.5, 0.75, 0.95])

    @field_validator("quantiles")
    @classmethod
    def _q(cls, v: list[float]) -> list[float]:
        if any(not 0 < q < 1 for q in v):
            raise ValueError("quantiles must lie strictly between 0 and 1")
        return sorted(set(v))


# --------------------------------------------------------------------------------------------- policy
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


# --------------------------------------------------------------------------------------------- where/how
class ComputeSpec(_Frozen):
    """Where the work runs (site settings; not part of the science hash)."""

    backend: Literal["threads", "local", "scheduler", "slurm"] = "threads"
    n_workers: int = Field(default=2, ge=1, le=10_000)
    threads_per_worker: int = Field(default=1, ge=1, le=256)
    memory_limit: str = "4GiB"
    scheduler_address: str | None = None
    site: SafeId | None = None
    chunks: dict[str, int] = Field(default_factory=lambda: {"lat": 256, "lon": 256})
    background_stages: bool = Field(default=True, description=(
        "run the exposure and the migration fit in a second process while the displacement fit compiles and "
        "samples (compilation is single-threaded, so on 2 cores the stages overlap); false runs every stage "
        "in turn in one process"))

    @model_validator(mode="after")
    def _needs(self) -> ComputeSpec:
        if self.backend == "scheduler" and not self.scheduler_address:
            raise ValueError("backend 'scheduler' needs `scheduler_address`, e.g. 'tcp://10.0.0.1:8786'")
        if self.backend == "slurm" and not self.site:
            raise ValueError("backend 'slurm' needs `site`, the name of a profile in climmig/data/hpc/sites/")
        return self


class OutputSpec(_Frozen):
    """Where a run writes (not part of the science hash). Every run writes the same files (README lists them)."""

    run_dir: str = "runs/${run_id}"


class ClimateSpec(_Frozen):
    """Where each climate model's warming comes from, and how models are placed in the AR6 ranges."""

    warming: SafeId = Field(
        default="cmip6_regional_tas",
        description="catalog id of the CMIP6 yearly temperature table (model, scenario, year, AR6 regions, world)")
    position_region: str | None = Field(
        default=None,
        description="AR6 region whose warming per K of global warming orders the models in the p10-p90 ranges "
        "(default: the AR6 region holding most of the grid's cells)")


# --------------------------------------------------------------------------------------------- the run
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
