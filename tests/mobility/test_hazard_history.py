"""Historical hazard intensity (climmig.mobility.hazard_history) on small hand-built data."""

from __future__ import annotations

import json

import arviz as az
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from shapely.geometry import box

from climmig.config.schema import DistSpec
from climmig.displacement.calibration import fit_data_hash
from climmig.displacement.model import prepare_inputs
from climmig.mobility.hazard_history import (
    country_polygons,
    drought_intensity,
    elasticity_summary,
    flood_intensity,
    historical_log_exposure,
    locate_points,
    log_exposure_ratio,
    reference_intensity,
)


def _ne(rows: list[tuple[str, str, object]]) -> gpd.GeoDataFrame:
    """A Natural Earth-like table: (ISO_A3_EH, ADM0_A3, geometry)."""
    return gpd.GeoDataFrame({"ISO_A3_EH": [r[0] for r in rows], "ADM0_A3": [r[1] for r in rows]},
                            geometry=[r[2] for r in rows], crs="EPSG:4326")


@pytest.fixture
def polygons() -> gpd.GeoDataFrame:
    # AAA: 0-10E, BBB: 10-20E (both 0-10N); CCC has no ISO_A3_EH (-99) and is found by ADM0_A3
    return country_polygons(_ne([("AAA", "AAA", box(0, 0, 10, 10)), ("BBB", "BBB", box(10, 0, 20, 10)),
                                 ("-99", "CCC", box(30, 30, 40, 40))]))


def test_country_polygons_codes_and_merges() -> None:
    g = country_polygons(_ne([("SOM", "SOM", box(40, -2, 48, 5)), ("-99", "SOL", box(43, 8, 49, 11)),
                              ("-99", "KOS", box(20, 42, 21, 43)), ("-99", "ATA", box(0, -90, 10, -80)),
                              ("-99", "FRA", box(0, 43, 5, 50))]))
    assert sorted(g["iso3"]) == ["FRA", "SOM", "XKX"]  # Somaliland merged into Somalia, Antarctica dropped
    assert g.loc[g["iso3"] == "SOM", "geometry"].iloc[0].area == pytest.approx(8 * 7 + 6 * 3)


def test_point_in_polygon(polygons: gpd.GeoDataFrame) -> None:
    iso = locate_points(np.array([5.0, 15.0, 35.0, 25.0]), np.array([5.0, 1.0, 35.0, 5.0]), polygons)
    assert list(iso) == ["AAA", "BBB", "CCC", None]


def _events() -> pd.DataFrame:
    return pd.DataFrame({
        "long": [5.0, 15.0, 12.0, 25.0, 6.0],
        "lat": [5.0, 5.0, 2.0, 5.0, 6.0],  # the 4th lies in no country (offshore)
        "Area": [100.0, 10.0, 20.0, 1000.0, 50.0],
        "Began": ["2010-03-01", "2010-07-01", "2010-12-30", "2010-05-01", "2012-01-01"],
        "Ended": ["2010-03-03", "2010-07-01", "2011-01-02", "2010-05-10", "2012-01-10"],
        "Severity": [1.5, 1.0, 2.0, 2.0, 1.0],
    })


def test_flood_intensity_rule_zero_years_and_coverage(polygons: gpd.GeoDataFrame) -> None:
    fl = flood_intensity(_events(), polygons)
    # area x days (inclusive) x severity, summed per country and year begun
    assert fl[("AAA", 2010)] == pytest.approx(100 * 3 * 1.5)
    assert fl[("BBB", 2010)] == pytest.approx(10 * 1 * 1.0 + 20 * 4 * 2.0)  # spans the new year: year begun
    assert fl[("AAA", 2012)] == pytest.approx(50 * 10 * 1.0)
    # covered years without an event are zeros, not gaps; every country of the polygons is covered
    assert fl[("AAA", 2011)] == 0.0 and fl[("BBB", 2011)] == 0.0 and fl[("CCC", 2010)] == 0.0
    assert fl.attrs["covered_years"] == [2010, 2011, 2012]
    assert fl.attrs["covered_countries"] == ["AAA", "BBB", "CCC"]
    assert fl.attrs["unlocated_events"] == 1 and fl.attrs["n_events"] == 5
    assert len(fl) == 9 and not fl.isna().any()


def test_log_exposure_ratio_normalisation() -> None:
    idx = pd.MultiIndex.from_product([["AAA", "BBB"], [2008, 2009, 2010, 2011]], names=["iso3", "year"])
    inten = pd.Series([0.0, 10.0, 30.0, 1000.0, 5.0, 5.0, 5.0, 5.0], idx)
    k = 10.0
    le = log_exposure_ratio(inten, [2008, 2009, 2010], k)  # 2011 is not a calibration year
    assert sorted(set(le.index.get_level_values("year"))) == [2008, 2009, 2010]
    # ratio to the geometric mean of I + k over the country's own calibration years
    gm = np.exp(np.mean(np.log([10.0, 20.0, 40.0])))
    assert le[("AAA", 2008)] == pytest.approx(np.log(10.0 / gm))  # a zero-event year: finite, below 0
    assert le[("AAA", 2010)] == pytest.approx(np.log(40.0 / gm))
    assert le.groupby(level="iso3").mean().abs().max() < 1e-12
    assert (le.loc["BBB"] == 0).all()  # a steady country carries no within-country information
    # units do not matter: rescaling intensity and k together leaves log E unchanged
    pd.testing.assert_series_equal(le, log_exposure_ratio(inten * 1e6, [2008, 2009, 2010], k * 1e6))
    with pytest.raises(ValueError, match="k must be positive"):
        log_exposure_ratio(inten, [2008], 0.0)


def test_reference_intensity_uses_only_years_before_calibration() -> None:
    idx = pd.MultiIndex.from_product([["AAA"], [2000, 2001, 2002, 2008, 2009]], names=["iso3", "year"])
    inten = pd.Series([0.0, 4.0, 8.0, 1e9, 1e9], idx)
    assert reference_intensity(inten, 2008) == pytest.approx(6.0)  # median of the positive pre-2008 values


def test_drought_intensity_deficit_coverage_and_lag() -> None:
    lat = np.arange(0.25, 15, 0.5)
    lon = np.arange(0.25, 15, 0.5)  # the window covers AAA (0-10E) wholly, BBB (10-20E) half, DDD a sixth
    seasons = list(range(1981, 2013))
    time = pd.to_datetime([f"{y}-{m}-15" for y in seasons for m in (10, 11, 12)])
    base = np.full((len(time), lat.size, lon.size), 3.0)
    base[:, :, lon < 2] = 0.1  # a dry strip of AAA (OND is not its rainy season there): left out
    prec = xr.DataArray(base.copy(), coords={"time": time, "lat": lat, "lon": lon}, dims=("time", "lat", "lon"))
    # season 2009: rain at 40 % of normal in AAA's rainy cells; season 2010 wetter than normal
    t09 = prec["time"].dt.year == 2009
    t10 = prec["time"].dt.year == 2010
    prec = prec.where(~t09, prec * 0.4).where(~t10, prec * 1.5)
    g = country_polygons(_ne([("AAA", "AAA", box(0, 0, 10, 10)), ("BBB", "BBB", box(10, 0, 20, 10)),
                              ("DDD", "DDD", box(10, 10, 40, 15))]))
    dr = drought_intensity(prec, g, min_share=0.6)
    assert dr.attrs["covered_countries"] == ["AAA"]
    assert set(dr.attrs["excluded_countries"]) == {"BBB", "DDD"}  # only half / a sixth inside the window
    # the climatology (1981-2010) includes the anomalous seasons: deficit = 1 - P / mean(P)
    clim = 3.0 * (28 + 0.4 + 1.5) / 30
    assert dr[("AAA", 2010)] == pytest.approx(1 - 3.0 * 0.4 / clim)  # season 2009 -> displacement year 2010
    assert dr[("AAA", 2011)] == 0.0  # a wet season is no deficit (not negative)
    assert dr[("AAA", 2009)] == pytest.approx(max(0.0, 1 - 3.0 / clim))
    assert dr.attrs["covered_years"] == [y + 1 for y in seasons]
    assert dr.attrs["lag"] == 1


def _cov(countries: list[str], years: list[int]) -> pd.DataFrame:
    idx = pd.MultiIndex.from_product([countries, years], names=["iso3", "year"])
    rng = np.random.default_rng(0)
    return pd.DataFrame({"population": rng.uniform(1e6, 1e7, len(idx)),
                         "gdp_per_capita": rng.uniform(500, 5000, len(idx)),
                         "agricultural_share": 0.3, "rural_share": 0.5, "world_region": "R"}, index=idx)


def test_historical_log_exposure_feeds_the_model_and_leaves_uncovered_cells_at_one(
        polygons: gpd.GeoDataFrame) -> None:
    fl = flood_intensity(_events(), polygons)  # covers AAA, BBB, CCC in 2010-2012
    # pretend the record started earlier so that k has a reference period: pad 2009 with a positive value
    pre = pd.Series(400.0, pd.MultiIndex.from_product([["AAA"], [2009]], names=["iso3", "year"]))
    fl2 = pd.concat([pre, fl]).rename("intensity")
    fl2.attrs = fl.attrs
    years = [2010, 2011, 2012, 2013]
    obs = pd.DataFrame([(c, y, h, 100 * (1 + (y % 2)), "reported") for c in ("AAA", "BBB", "ZZZ")
                        for y in years for h in ("flood", "storm")],
                       columns=["iso3", "year", "hazard", "displacements", "status"])
    le = historical_log_exposure({"flood": fl2}, years, obs[["iso3", "year", "hazard"]])
    cov = json.loads(le.attrs["coverage"])["flood"]
    assert cov["k"] == pytest.approx(400.0)
    assert cov["covered_years"] == [2010, 2011, 2012]
    assert cov["not_covered_years"] == [2013]
    assert cov["not_covered_countries"] == ["ZZZ"]
    assert cov["n_not_covered"] == 4 + 2  # ZZZ's 4 years, AAA's and BBB's 2013 (CCC is not observed)
    assert cov["unlocated_events"] == 1
    inputs = prepare_inputs(obs, _cov(["AAA", "BBB", "ZZZ"], years), years=years, exposure_ratio=np.exp(le))
    got = pd.Series(inputs.log_exposure_ratio, index=pd.MultiIndex.from_arrays(
        [np.array(inputs.coords["country"])[inputs.country_idx], np.array(inputs.coords["year"])[inputs.year_idx],
         np.array(inputs.coords["hazard"])[inputs.hazard_idx]]))
    assert got[("AAA", 2010, "flood")] == pytest.approx(le[("AAA", 2010, "flood")])
    assert got[("AAA", 2010, "flood")] != 0.0
    assert got[("AAA", 2011, "flood")] < 0  # the zero-event year in between two event years
    assert (got.xs("storm", level=2) == 0).all()  # no record: E = 1
    assert (got.xs("ZZZ", level=0) == 0).all()  # country not covered
    assert got[("AAA", 2013, "flood")] == 0.0  # year not covered


def test_fit_data_hash_follows_the_intensity_data() -> None:
    base = fit_data_hash("obs", {"wdi": "x"}, 2022, ["flood"])
    le = pd.Series([0.1, -0.1], pd.MultiIndex.from_tuples([("AAA", 2010, "flood"), ("AAA", 2011, "flood")]))
    with_e = fit_data_hash("obs", {"wdi": "x"}, 2022, ["flood"], le, {"dfo": "a"})
    assert with_e != base
    assert fit_data_hash("obs", {"wdi": "x"}, 2022, ["flood"], le, {"dfo": "b"}) != with_e  # new file
    assert fit_data_hash("obs", {"wdi": "x"}, 2022, ["flood"], le * 2, {"dfo": "a"}) != with_e  # new rule
    assert fit_data_hash("obs", {"wdi": "x"}, 2022, ["flood"], le.copy(), {"dfo": "a"}) == with_e


def _idata(sd: dict[str, float]) -> az.InferenceData:
    rng = np.random.default_rng(1)
    hz = list(sd)
    x = np.stack([rng.normal(0.5, sd[h], (2, 2000)) for h in hz], axis=-1)
    return az.from_dict(posterior={"exposure_elasticity": x}, coords={"hazard": hz},
                        dims={"exposure_elasticity": ["hazard"]})


def test_elasticity_summary_says_prior_where_not_identified() -> None:
    priors = {"exposure_elasticity": DistSpec(dist="Normal", params={"mu": 1.0, "sigma": 0.25})}
    idata = _idata({"flood": 0.05, "storm": 0.25, "drought": 0.2})
    s = elasticity_summary(idata, priors, {"flood": "dfo_flood_archive", "drought": "chirps_short_rains"})
    s = s.set_index("hazard")
    assert s.loc["flood", "identified"] and s.loc["flood", "source"] == "dfo_flood_archive"
    assert s.loc["flood", "sd_ratio"] == pytest.approx(0.2, abs=0.01)
    assert s.loc["flood", "posterior_mean"] == pytest.approx(0.5, abs=0.01)
    assert not s.loc["drought", "identified"] and s.loc["drought", "source"] == "prior (data too weak)"
    assert not s.loc["storm", "identified"] and s.loc["storm", "source"] == "prior (no intensity data)"
    assert list(s.columns) == ["prior_mean", "prior_sd", "posterior_mean", "posterior_sd", "sd_ratio",
                               "identified", "source"]
    # without data a tight posterior is still not "identified" (nothing informed it)
    s2 = elasticity_summary(idata, priors, {}).set_index("hazard")
    assert not s2["identified"].any()
