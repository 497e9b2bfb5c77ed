"""Hazard indicators, warming-level layers from real data, scenario-file readers and the fallback emulator."""

from __future__ import annotations

from climmig.hazards.indicators import (
    INDICATOR_UNITS,
    coastal_inundation,
    convert_threshold,
    crop_yield_loss,
    drought_months,
    flooded_fraction,
    heat_days,
    river_flood_depth,
    water_stress,
)
from climmig.hazards.layers import exceedance_threshold, hazard_indicator
from climmig.hazards.scenario_files import open_scenario_files
from climmig.hazards.warming import warming_since_baseline

__all__ = [
    "INDICATOR_UNITS",
    "coastal_inundation",
    "convert_threshold",
    "crop_yield_loss",
    "drought_months",
    "exceedance_threshold",
    "flooded_fraction",
    "hazard_indicator",
    "heat_days",
    "open_scenario_files",
    "river_flood_depth",
    "warming_since_baseline",
    "water_stress",
]
