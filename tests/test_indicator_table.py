"""Every fact about a hazard indicator is declared once (climmig.indicator_table) and read from there."""

from __future__ import annotations

from climmig import registry
from climmig.hazards.indicators import INDICATOR_UNITS
from climmig.hazards.layers import EXCEEDANCE
from climmig.indicator_table import INDICATORS, indicators_of_onset
from climmig.interventions.library import _KIND_INDICATORS
from climmig.units import dimensionality


def test_views_of_the_table_agree_with_it() -> None:
    assert set(INDICATOR_UNITS) == set(EXCEEDANCE) == set(registry.hazard_indicators()) == set(INDICATORS)
    for name, ind in INDICATORS.items():
        assert INDICATOR_UNITS[name] == ind.units and EXCEEDANCE[name] == (ind.exceedance, ind.exceedance_units)
        # the example threshold in error messages is itself valid
        assert dimensionality(ind.example) == ind.threshold, name
    assert _KIND_INDICATORS["flood"] == indicators_of_onset("sudden")
    assert _KIND_INDICATORS["drought"] == indicators_of_onset("slow")
    assert indicators_of_onset("sudden") | indicators_of_onset("slow") == set(INDICATORS)
    assert {n for n, i in INDICATORS.items() if i.warming_levels} == {
        "heat_days", "rainfall_deficit", "flood_return_period", "crop_yield_loss"}
