"""Region masks: ISO3 handling of Natural Earth, fractional coverage, conservation, finer boundaries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from climmig.catalog import load_catalog
from climmig.grid import boundary_region_ids, make_grid, region_fractions

from ..conftest import CATALOG


def _ne():
    return load_catalog(CATALOG).open("natural_earth_110m_admin0")


def test_natural_earth_iso3_fallbacks_and_somaliland() -> None:
    regions = boundary_region_ids(_ne())
    ids = set(regions["region"])
    assert {"FRA", "NOR", "SOM", "ETH", "KEN", "DJI"} <= ids  # ISO_A3 is -99 for France and Norway
    assert "SOL" not in ids and "-99" not in ids
    som = regions.set_index("region").loc["SOM"]
    assert som["region_name"] == "Somalia"
    # Somaliland's polygon (north of ~8N, west of ~49E) is part of SOM
    assert som.geometry.contains(shapely.Point(44.0, 9.5))


def test_fractions_split_border_cells_and_sum_to_one() -> None:
    grid = make_grid(33, -5, 52, 15, 0.5)
    fr = region_fractions(_ne(), grid)
    total = fr.sum("region")
    np.testing.assert_allclose(total.values, 1.0, atol=1e-12)
    split = ((fr > 0) & (fr < 1)).any("region")
    assert int(split.sum()) > 20  # border and coastal cells are fractional
    assert 0 < float(fr["land_fraction"].min()) or float(fr["land_fraction"].min()) == 0


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_sum_over_regions_equals_grid_total(seed: int) -> None:
    grid = make_grid(36, -2, 48, 10, 1.0)
    fr = region_fractions(_ne(), grid)
    pop = np.random.default_rng(seed).lognormal(5, 2, size=(grid.sizes["lat"], grid.sizes["lon"]))
    np.testing.assert_allclose(float((fr * pop).sum()), pop.sum(), rtol=1e-12)


def test_finer_boundaries_with_custom_id_field() -> None:
    # two "admin-1" halves of a square country
    gdf = gpd.GeoDataFrame(
        {"GID_1": ["XXX.1", "XXX.2"], "GID_0": ["XXX", "XXX"], "NAME_1": ["West", "East"]},
        geometry=[shapely.box(0, 0, 1, 2), shapely.box(1, 0, 2, 2)], crs="EPSG:4326")
    grid = make_grid(0, 0, 2, 2, 0.5)
    fr = region_fractions(gdf, grid, id_field="GID_1")
    assert list(fr.region.values) == ["XXX.1", "XXX.2"]
    assert list(fr["country"].values) == ["XXX", "XXX"]
    np.testing.assert_allclose(fr.sel(region="XXX.1").sel(lon=0.25).values, 1.0)
    np.testing.assert_allclose(fr.sum("region").values, 1.0)


def test_fractions_are_exact_cell_coverage() -> None:
    """A triangle over half of one cell and a quarter strip of another: exact shares, not sampled ones."""
    gdf = gpd.GeoDataFrame(
        {"iso3": ["AAA", "BBB"], "NAME": ["Triangle", "Strip"]},
        geometry=[shapely.Polygon([(0, 0), (1, 0), (0, 1)]), shapely.box(1.0, 0.0, 1.25, 1.0)], crs="EPSG:4326")
    grid = make_grid(0, 0, 2, 2, 1.0)
    fr = region_fractions(gdf, grid, assign_uncovered=False)
    land = fr["land_fraction"]
    assert float(land.sel(lat=0.5, lon=0.5)) == pytest.approx(0.5, abs=1e-12)
    assert float(land.sel(lat=0.5, lon=1.5)) == pytest.approx(0.25, abs=1e-12)
    assert float(land.sel(lat=1.5, lon=0.5)) == 0.0
    # normalised over land: the cell's people all belong to the one region there
    assert float(fr.sel(region="AAA", lat=0.5, lon=0.5)) == pytest.approx(1.0)
    assert float(fr.sel(region="BBB", lat=0.5, lon=0.5)) == 0.0
