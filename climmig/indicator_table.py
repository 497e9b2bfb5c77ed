"""Hazard indicators: every fact about an indicator declared once.

In the manner of xclim's indicator declarations, each indicator states its output units, what its config
threshold measures, when a cell-year counts as exposed, how it is regridded, whether the bundled warming-level
layers build it, and whether it is a sudden-onset (flood-like) or slow-onset (drought-like) hazard, which
decides what interventions of each kind act on. Config validation, the layer builders, the exposure rule and
the interventions read this table; the compute functions themselves are in :mod:`climmig.hazards.indicators`.
The module imports nothing heavy, so validating a config does not load the hazard stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = ["INDICATORS", "Indicator", "SecondInput", "indicators_of_onset", "second_input_problem"]


@dataclass(frozen=True)
class SecondInput:
    """The second variable of a two-variable indicator built from scenario files.

    Attributes
    ----------
    key : str
        The ``params`` key whose value is the catalog id of the second variable (``params.<key>``).
    about : str
        What that catalog entry holds, shown in error messages.
    """

    key: str
    about: str


@dataclass(frozen=True)
class Indicator:
    """One hazard indicator.

    Attributes
    ----------
    name : str
        Indicator id (``hazards[].indicator`` in configs).
    units : str
        Units of its output (``hazard_intensity``), UDUNITS/pint syntax.
    threshold : str
        Dimensionality of its config threshold in pint syntax (``"[length]"``, ``"[]"`` dimensionless).
    example : str
        A valid threshold, shown in error messages.
    description : str
        Plain-language meaning.
    exceedance : {"threshold", "min_days", "min_months"}
        The spec field a cell-year's value must exceed to count as exposed: the threshold itself, or (heat,
        drought months) the number of days/months past the threshold.
    exceedance_units : str
        Units of that level.
    regrid : {"area_mean", "bilinear"}
        How gridded input reaches the analysis grid (area means for extensive flood fields).
    onset : {"sudden", "slow"}
        Sudden (flood-like) or slow (drought-like, livelihood) hazard: flood measures act on the sudden ones,
        drought measures on the slow ones.
    warming_levels : bool
        Built from bundled real data by warming-level scaling (``source: warming_levels``).
    second_input : SecondInput, optional
        Built from scenario files of ``input`` and a second catalog entry named in ``params``.
    """

    name: str
    units: str
    threshold: str
    example: str
    description: str
    exceedance: Literal["threshold", "min_days", "min_months"]
    exceedance_units: str
    regrid: Literal["area_mean", "bilinear"]
    onset: Literal["sudden", "slow"]
    warming_levels: bool = False
    second_input: SecondInput | None = None


_TABLE = (
    Indicator("river_flood_depth", "m", "[length]", "0.5 m", "flood depth above a protection standard",
              "threshold", "m", "area_mean", "sudden"),
    Indicator("flooded_fraction", "1", "[]", "0.1", "share of the cell flooded",
              "threshold", "1", "area_mean", "sudden"),
    Indicator("heat_days", "d", "[temperature]", "35 degC", "days with temperature above a threshold",
              "min_days", "d", "bilinear", "slow", warming_levels=True),
    Indicator("rainfall_deficit", "1", "[]", "1.0",
              "standardised deficit of seasonal rainfall (minus the SPI) above a threshold",
              "threshold", "1", "bilinear", "slow", warming_levels=True),
    Indicator("flood_return_period", "yr", "[time]", "20 yr",
              "return period (in today's climate) of the year's largest flood above a threshold",
              "threshold", "yr", "bilinear", "sudden", warming_levels=True),
    Indicator("drought_months", "month", "[]", "-1.0",
              "months with a standardised water-balance deficit below a threshold",
              "min_months", "month", "bilinear", "slow"),
    Indicator("crop_yield_loss", "1", "[]", "0.1", "relative crop-yield loss above a threshold",
              "threshold", "1", "bilinear", "slow", warming_levels=True),
    Indicator("water_stress", "1", "[]", "0.4", "withdrawal-to-availability ratio above a threshold",
              "threshold", "1", "bilinear", "slow",
              second_input=SecondInput("availability", "renewable water availability")),
    Indicator("coastal_inundation", "m", "[length]", "0 m", "sea level above ground elevation",
              "threshold", "m", "bilinear", "sudden",
              second_input=SecondInput("elevation", "ground elevation (a static DEM)")),
)

#: every indicator by name
INDICATORS: Mapping[str, Indicator] = MappingProxyType({i.name: i for i in _TABLE})


def indicators_of_onset(onset: Literal["sudden", "slow"]) -> frozenset[str]:
    """Names of the indicators of one onset (sudden: flood-like; slow: drought-like)."""
    return frozenset(i.name for i in _TABLE if i.onset == onset)


def second_input_problem(indicator: str, source: str, params: Mapping[str, object]) -> str | None:
    """What is wrong with the ``params`` key naming an indicator's second input, or ``None`` if nothing.

    Parameters
    ----------
    indicator : str
        Indicator id.
    source : str
        The hazard spec's source; only ``scenario_files`` reads a second input.
    params : mapping
        The hazard spec's params.

    Returns
    -------
    str or None
        A message naming ``params.<key>`` and what it must hold.
    """
    ind = INDICATORS.get(indicator)
    if source != "scenario_files" or ind is None or ind.second_input is None:
        return None
    second = ind.second_input
    value = params.get(second.key)
    if value is None:
        return (f"{indicator} from scenario files needs params.{second.key}: the catalog id of {second.about} "
                f"(e.g. params: {{{second.key}: my_{second.key}}})")
    if not isinstance(value, str) or isinstance(value, bool):
        return f"params.{second.key} must be a catalog id (text), not {value!r}"
    return None
