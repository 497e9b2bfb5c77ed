"""One table of country codes between Natural Earth and the statistics (IDMC, SSP, WDI)."""

from __future__ import annotations

from climmig.countries import NATURAL_EARTH_TO_STATISTICS, natural_earth_code, statistics_code
from climmig.grid.masks import MERGED_UNITS


def test_codes_round_trip_where_a_country_is_renamed_and_merge_where_merged() -> None:
    assert statistics_code("KOS") == "XKX" and natural_earth_code("XKX") == "KOS"
    assert statistics_code("SOL") == "SOM" and natural_earth_code("SOM") == "SOM"  # merged: no inverse
    assert statistics_code("CYN") == "CYP" and statistics_code("KEN") == "KEN"
    assert natural_earth_code("KEN") == "KEN"
    # the grid's merge table is the same declaration, not a copy
    assert MERGED_UNITS is NATURAL_EARTH_TO_STATISTICS
