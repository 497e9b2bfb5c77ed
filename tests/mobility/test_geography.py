"""Country centroids, great-circle distances and contiguity from the bundled boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from climmig.catalog import load_catalog
from climmig.errors import DataError
from climmig.migration.geography import country_geography, great_circle_km
from tests.conftest import CATALOG


def test_great_circle_hand_computed() -> None:
    # one degree of longitude on the equator: 2*pi*R/360
    np.testing.assert_allclose(great_circle_km(0.0, 0.0, 1.0, 0.0), 2 * np.pi * 6371.0088 / 360, rtol=1e-12)
    # pole to pole: half a circumference
    np.testing.assert_allclose(great_circle_km(0.0, 90.0, 0.0, -90.0), np.pi * 6371.0088, rtol=1e-12)
    assert great_circle_km(10.0, 5.0, 10.0, 5.0) == 0.0


def test_synthetic_squares_contiguity_and_symmetry() -> None:
    import geopandas as gpd

    gdf = gpd.GeoDataFrame({"iso3": ["AAA", "BBB", "CCC"]},
                           geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 0, 6, 1)], crs="EPSG:4326")
    g = country_geography([gdf], ["AAA", "BBB", "CCC"])
    c = g["contiguous"].to_pandas()
    assert c.loc["AAA", "BBB"] and c.loc["BBB", "AAA"] and not c.loc["AAA", "CCC"] and not c.loc["AAA", "AAA"]
    d = g["distance_km"].values
    np.testing.assert_allclose(d, d.T)
    np.testing.assert_allclose(np.diag(d), 0.0)
    # centroids of the unit squares near the equator are ~1 degree (111 km) apart
    np.testing.assert_allclose(g["distance_km"].sel(origin="AAA", destination="BBB"), 111.2, rtol=0.01)
    assert g["distance_km"].attrs["units"] == "km"
    with pytest.raises(DataError, match="ZZZ"):
        country_geography([gdf], ["AAA", "ZZZ"])


def test_natural_earth_known_neighbours() -> None:
    cat = load_catalog(CATALOG)
    bounds = [cat.open("natural_earth_110m_admin0"), cat.open("natural_earth_50m_admin0")]
    iso = ["SOM", "ETH", "KEN", "DJI", "FRA", "DEU", "ESP", "HKG", "CHN", "AUS"]
    g = country_geography(bounds, iso)
    c = g["contiguous"].to_pandas()
    for a, b in [("SOM", "ETH"), ("SOM", "KEN"), ("SOM", "DJI"), ("FRA", "DEU"), ("FRA", "ESP"),
                 ("HKG", "CHN")]:
        assert c.loc[a, b], f"{a}-{b} should be contiguous"
    for a, b in [("DEU", "ESP"), ("AUS", "CHN"), ("KEN", "DJI")]:
        assert not c.loc[a, b], f"{a}-{b} should not be contiguous"
    # mainland centroid: France's centroid is in Europe (French Guiana excluded), Paris-Berlin-like distance
    assert 0 < float(g["centroid_lon"].sel(region="FRA")) < 6
    assert 500 < float(g["distance_km"].sel(origin="FRA", destination="DEU")) < 1000
