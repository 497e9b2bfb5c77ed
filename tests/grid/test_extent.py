"""The study extent covers each country's main territory, not its far-off parts (issue 34)."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, box

from climmig.catalog import load_catalog
from climmig.grid.extent import main_territory_bounds
from climmig.grid.masks import boundary_region_ids

from ..conftest import CATALOG


def test_far_parts_are_left_out_and_near_islands_kept() -> None:
    mainland = box(0, 40, 10, 50)
    island = box(12, 42, 13, 43)  # 2 degrees off the coast
    overseas = box(-55, 2, -51, 6)  # an overseas department
    (w, s, e, n), dropped = main_territory_bounds([("AAA", MultiPolygon([mainland, island, overseas])),
                                                   ("BBB", box(10, 35, 20, 45))])
    assert (w, s, e, n) == (0, 35, 20, 50)
    assert dropped == {"AAA": 1}
    # a larger gap keeps it
    (w2, *_), none = main_territory_bounds([("AAA", MultiPolygon([mainland, island, overseas]))], max_gap=80)
    assert w2 == -55 and none == {}
    with pytest.raises(ValueError, match="no geometry"):
        main_territory_bounds([])


@pytest.mark.parametrize(("iso3", "west", "east"), [("FRA", -5.0, 9.6), ("RUS", 19.0, 180.0), ("FJI", 177.0, 180.0),
                                                   ("SOM", 41.0, 51.2)])
def test_natural_earth_countries_get_their_main_territory(iso3: str, west: float, east: float) -> None:
    regions = boundary_region_ids(load_catalog(CATALOG).open("natural_earth_110m_admin0"))
    sel = regions[regions["region"] == iso3]
    (w, s, e, n), dropped = main_territory_bounds(zip(sel["region"], sel.geometry, strict=True))
    assert w == pytest.approx(west, abs=1.0) and e == pytest.approx(east, abs=1.0), (w, e)
    # France loses French Guiana, Russia and Fiji the slivers east of the antimeridian; Somalia nothing
    assert (iso3 in dropped) == (iso3 != "SOM")
