"""Bad input data: each case ends in a correct result or a clear error (see docs/reliability.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from climmig.catalog import load_catalog
from climmig.config.schema import HazardSpec
from climmig.displacement.observations import tidy_idmc
from climmig.errors import CatalogError, DataError
from climmig.grid import make_grid, normalize_lonlat, regrid_counts, regrid_intensity
from climmig.hazards import hazard_indicator
from climmig.livelihoods import ssp_series, wdi_share
from climmig.livelihoods.checks import checked_population_counts
from climmig.mobility.covariates import build_covariates, wdi_long

from ..catalog.test_catalog import _grid_catalog


# ------------------------------------------------------------------------------------------------ units
@pytest.mark.parametrize(("file_units", "catalog_units"), [
    ("K", "degC"), ("thousands of people", "people"), ("kg m-2 s-1", "mm/day"), ("mm/day", "kg m-2 s-1")])
def test_units_differing_from_the_catalog_are_refused_naming_both(tmp_path, file_units, catalog_units) -> None:
    cat = _grid_catalog(tmp_path, units=catalog_units, file_units=file_units, crs="EPSG:4326")
    with pytest.raises(CatalogError) as exc:
        load_catalog(cat).open("t")
    msg = str(exc.value)
    assert repr(file_units) in msg and repr(catalog_units) in msg and "convert the file or correct the catalog" in msg


def _ssp(unit: str | None) -> pd.DataFrame:
    df = pd.DataFrame({"model": ["M"], "scenario": ["SSP2"], "iso3": ["AAA"], "2020": [5.0], "2025": [6.0]})
    if unit is not None:
        df["unit"] = unit
    return df


def test_ssp_units_are_read_from_the_table() -> None:
    """People vs thousands vs millions of people: the table's Unit column decides, or the run stops."""
    for unit, factor in [("million", 1e6), ("thousand", 1e3), ("thousand people", 1e3), ("people", 1.0)]:
        out = ssp_series(_ssp(unit), "M", ["ssp245"], ["AAA"], [2020])
        assert float(out.squeeze()) == 5.0 * factor, unit
    with pytest.raises(DataError, match=r"is in 'thousand' \(x1000\) but x1e\+06 was expected"):
        ssp_series(_ssp("thousand"), "M", ["ssp245"], ["AAA"], [2020], scale=1e6)
    with pytest.raises(DataError, match="cannot read the SSP unit 'lakh'"):
        ssp_series(_ssp("lakh"), "M", ["ssp245"], ["AAA"], [2020])
    mixed = pd.concat([_ssp("million"), _ssp("thousand").assign(iso3="BBB")])
    with pytest.raises(DataError, match="mixes units"):
        ssp_series(mixed, "M", ["ssp245"], ["AAA"], [2020])


# ------------------------------------------------------------------------------------------- population
def _pop(values: np.ndarray, res: float = 0.01) -> xr.DataArray:
    ny, nx = values.shape
    return xr.DataArray(values, dims=("lat", "lon"),
                        coords={"lat": 2.0 + res * np.arange(ny), "lon": 45.0 + res * np.arange(nx)}).chunk(2)


@pytest.mark.parametrize(("bad", "match"), [(-3.0, "negative counts"), (np.inf, "infinite counts"),
                                            (5e7, "check the file's units")])
def test_negative_infinite_and_absurd_population_stop_the_run_when_computed(bad, match) -> None:
    vals = np.full((4, 4), 100.0)
    vals[1, 2] = bad
    checked = checked_population_counts(_pop(vals), "pop_grid")  # lazy: nothing raised yet
    with pytest.raises(DataError, match=match) as exc:
        checked.compute()
    assert "pop_grid" in str(exc.value)


def test_nan_population_is_nodata_and_passes_unchanged() -> None:
    vals = np.full((4, 4), 100.0)
    vals[0, :] = np.nan
    out = checked_population_counts(_pop(vals), "pop_grid").compute()
    np.testing.assert_array_equal(out.values, vals)
    # a 1 km cell of 50,000 people (dense city) is plausible
    checked_population_counts(_pop(np.full((2, 2), 5e4)), "pop_grid").compute()


# ------------------------------------------------------------------------------------- lon/lat layouts
def test_descending_latitude_and_0_360_longitude_match_a_hand_computed_reference() -> None:
    """1-degree counts stored north-to-south and 0..360 across the prime meridian, summed onto 2-degree
    cells: each target cell holds the sum of its four source cells."""
    lat = np.array([1.5, 0.5, -0.5, -1.5])  # descending
    lon = np.array([0.5, 1.5, 358.5, 359.5])  # 0..360, the seam at 0 in the middle of the study area
    vals = np.arange(16, dtype=float).reshape(4, 4) + 1.0
    src = xr.DataArray(vals, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, attrs={"units": "1"})
    grid = make_grid(-2.0, -2.0, 2.0, 2.0, 2.0)
    out = regrid_counts(src, grid).transpose("lat", "lon")
    assert list(out["lat"].values) == [-1.0, 1.0] and list(out["lon"].values) == [-1.0, 1.0]
    south, north = vals[2:], vals[:2]  # rows at lat < 0 and > 0
    west, east = slice(2, 4), slice(0, 2)  # lon 358.5, 359.5 (= -1.5, -0.5) and 0.5, 1.5
    ref = [[south[:, west].sum(), south[:, east].sum()], [north[:, west].sum(), north[:, east].sum()]]
    np.testing.assert_allclose(out.values, ref)
    mean = regrid_intensity(src, grid, method="area_mean").transpose("lat", "lon")
    w = np.cos(np.deg2rad(lat))[:, None] * np.ones((1, 4))  # area weight of each source cell

    def wmean(rows: slice, cols: slice) -> float:
        return float((vals[rows, cols] * w[rows, cols]).sum() / w[rows, cols].sum())

    ref_mean = [[wmean(slice(2, 4), west), wmean(slice(2, 4), east)],
                [wmean(slice(0, 2), west), wmean(slice(0, 2), east)]]
    np.testing.assert_allclose(mean.values, ref_mean, rtol=1e-4)
    n = normalize_lonlat(src)
    assert list(n["lon"].values) == [-1.5, -0.5, 0.5, 1.5] and list(n["lat"].values) == [-1.5, -0.5, 0.5, 1.5]


# ------------------------------------------------------------------------------ scenario files: time
def _scenario_catalog(tmp_path, files: dict[str, xr.Dataset]):
    for name, ds in files.items():
        ds.to_netcdf(tmp_path / name)
    entry = {"id": "tas_files", "title": "t", "format": "netcdf", "path": "*.nc", "license": "CC0",
             "citation": "test", "source": "test", "variables": {"tas": {"units": "K"}}}
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump({"entries": [entry]}))
    return load_catalog(tmp_path / "catalog.yaml")


def _daily_tas(calendar: str, years: list[int], hot: dict[int, int], units: str = "K") -> xr.Dataset:
    """Daily tas at 300 K (26.85 degC) with ``hot[year]`` days at 310 K, on a 3x3 one-degree grid."""
    time = xr.date_range(f"{years[0]}-01-01", f"{years[-1]}-12-30", freq="D", calendar=calendar,
                         use_cftime=calendar != "standard")
    time = time[np.isin([t.year for t in time], years)]
    data = np.full((len(time), 3, 3), 300.0)
    for y, n in hot.items():
        idx = np.flatnonzero([t.year == y for t in time])[:n]
        data[idx] = 310.0
    if units == "degC":
        data = data - 273.15
    return xr.Dataset({"tas": (("time", "lat", "lon"), data, {"units": units})},
                      coords={"time": time, "lat": [1.5, 2.5, 3.5], "lon": [44.5, 45.5, 46.5]})


def _heat_spec() -> HazardSpec:
    return HazardSpec(name="heat", indicator="heat_days", input="tas_files", threshold="30 degC",
                      source="scenario_files")


def _heat(cat, years: list[int]) -> xr.DataArray:
    grid = make_grid(45.0, 2.0, 46.0, 3.0, 0.5)
    # scenario files take only the scenarios, models and years from dT
    dT = xr.DataArray(np.zeros((1, 1, len(years))), dims=("scenario", "climate_model", "year"),
                      coords={"scenario": ["ssp126"], "climate_model": ["GFDL-ESM4"], "year": years})
    return hazard_indicator(_heat_spec(), cat, grid, dT, seed=1).compute()


@pytest.mark.parametrize("calendar", ["noleap", "360_day", "standard"])
def test_non_standard_calendars_give_hand_counted_heat_days(tmp_path, calendar) -> None:
    cat = _scenario_catalog(tmp_path, {"tas_gfdl-esm4_ssp126_2030_2031.nc":
                                       _daily_tas(calendar, [2030, 2031], {2030: 40, 2031: 7})})
    out = _heat(cat, [2030, 2031])
    assert list(out["year"].values) == [2030, 2031]
    np.testing.assert_array_equal(np.unique(out.sel(year=2030).values), [40.0])
    np.testing.assert_array_equal(np.unique(out.sel(year=2031).values), [7.0])


def test_scenario_files_in_degc_and_kelvin_give_the_same_heat_days(tmp_path) -> None:
    """The threshold is converted to the file's own units, so either is counted correctly."""
    (tmp_path / "k").mkdir()
    (tmp_path / "c").mkdir()
    k = _heat(_scenario_catalog(tmp_path / "k", {"tas_gfdl-esm4_ssp126_2030.nc":
                                                 _daily_tas("noleap", [2030], {2030: 12})}), [2030])
    c = _heat(_scenario_catalog(tmp_path / "c", {"tas_gfdl-esm4_ssp126_2030.nc":
                                                 _daily_tas("noleap", [2030], {2030: 12}, units="degC")}), [2030])
    xr.testing.assert_equal(k, c)
    assert float(k.max()) == 12.0


def test_missing_years_in_scenario_files_are_named(tmp_path) -> None:
    cat = _scenario_catalog(tmp_path, {"tas_gfdl-esm4_ssp126_2030.nc": _daily_tas("noleap", [2030], {})})
    with pytest.raises(DataError, match=r"tas_files has no data for years \[2031\]"):
        _heat(cat, [2030, 2031])


def test_duplicated_years_in_scenario_files_are_refused(tmp_path) -> None:
    """Two files covering the same year (a re-download next to the original): an error, not double counts."""
    cat = _scenario_catalog(tmp_path, {
        "tas_gfdl-esm4_ssp126_2030_2031.nc": _daily_tas("noleap", [2030, 2031], {2030: 5}),
        "tas_gfdl-esm4_ssp126_2031_2032.nc": _daily_tas("noleap", [2031, 2032], {2031: 5})})
    with pytest.raises(CatalogError, match="repeat time steps") as exc:
        _heat(cat, [2030, 2031])
    assert "tas_gfdl-esm4_ssp126_2031_2032.nc" in str(exc.value)


# ------------------------------------------------------------------------------------------ tables
def test_duplicated_country_rows_in_ssp_and_wdi_tables_are_refused() -> None:
    dup = pd.concat([_ssp("million"), _ssp("million").assign(**{"2020": 7.0})])
    with pytest.raises(DataError, match="2 rows for SSP2 AAA"):
        ssp_series(dup, "M", ["ssp245"], ["AAA"], [2020])
    wdi = pd.DataFrame({"iso3": ["AAA", "AAA"], "2019": [40.0, 45.0]})
    with pytest.raises(DataError, match="2 rows for AAA"):
        wdi_share(wdi, ["AAA"], "share", "test")
    with pytest.raises(DataError, match="duplicated country-years"):
        wdi_long(wdi, "population")


def _wdi(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"iso3": list(values), "Indicator Code": "X", "2015": list(values.values()),
                         "2016": list(values.values())})


def test_country_in_idmc_but_not_in_wdi_is_dropped_and_named(caplog) -> None:
    """IDMC records a territory WDI has no population for: it leaves the fit with a warning, not a crash."""
    tables = {"population": _wdi({"AAA": 1e6}), "gdp_per_capita": _wdi({"AAA": 1000.0, "BBB": 900.0}),
              "agricultural_share": _wdi({"AAA": 40.0}), "rural_share": _wdi({"AAA": 60.0})}
    regions = pd.Series({"AAA": "Africa", "BBB": "Africa"}, name="world_region")
    out = build_covariates(tables, ["AAA", "BBB"], [2015, 2016], regions)
    assert out.attrs["dropped"] == ["BBB"]
    assert set(out.index.get_level_values("iso3")) == {"AAA"}
    assert "no WDI population for BBB" in caplog.text


def test_study_country_missing_from_wdi_is_a_clear_error() -> None:
    wdi = pd.DataFrame({"iso3": ["AAA"], "2019": [40.0]})
    with pytest.raises(DataError, match="no row for BBB"):
        wdi_share(wdi, ["AAA", "BBB"], "share", "test")


def test_idmc_blank_figure_is_not_reported_and_zero_is_an_observation() -> None:
    events = pd.DataFrame({"iso3": ["AAA", "AAA", "BBB"], "year": [2010, 2011, 2010],
                           "hazard_type": ["Flood", "Flood", "Flood"],
                           "Disaster Internal Displacements (Raw)": [np.nan, 0.0, 500.0]})
    out = tidy_idmc(events, "gidd-events", hazards=["flood"]).set_index(["iso3", "year"])
    assert out.loc[("AAA", 2010), "status"] == "not_reported" and np.isnan(out.loc[("AAA", 2010), "displacements"])
    assert out.loc[("AAA", 2011), "status"] == "reported" and out.loc[("AAA", 2011), "displacements"] == 0.0
    assert out.loc[("BBB", 2011), "status"] == "no_event" and out.loc[("BBB", 2011), "displacements"] == 0.0


def test_empty_study_area_is_a_clear_error() -> None:
    """A bounding box over the open Pacific: no region, so no run (exit code 2 from the CLI)."""
    from climmig.config import parse_config
    from climmig.exposure.build import build_grid_and_masks

    from ..conftest import CATALOG

    data = yaml.safe_load((CATALOG.parents[1] / "configs" / "demo.yaml").read_text())
    data["study_area"] = {"bbox": {"west": -150.0, "south": -10.0, "east": -140.0, "north": 0.0}}
    with pytest.raises(DataError, match=r"study area is empty.*study_area.bbox"):
        build_grid_and_masks(parse_config(data), load_catalog(CATALOG))


def test_crs_differing_from_the_catalog_is_refused(tmp_path) -> None:
    """A grid written in UTM while the catalog says EPSG:4326: an error naming both, never a silent misplacement."""
    import rioxarray  # noqa: F401

    ds = xr.Dataset({"tas": (("y", "x"), np.full((2, 3), 300.0), {"units": "K"})},
                    coords={"y": [1.1e6, 1.0e6], "x": [5.0e5, 6.0e5, 7.0e5]}).rio.write_crs("EPSG:32638")
    ds.to_netcdf(tmp_path / "t.nc")
    entry = {"id": "t", "title": "t", "format": "netcdf", "path": "t.nc", "license": "CC0", "citation": "t",
             "source": "t", "crs": "EPSG:4326", "variables": {"tas": {"units": "K"}}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"entries": [entry]}))
    with pytest.raises(CatalogError, match=r"the file's CRS \(EPSG:32638\) differs from the catalog's \(EPSG:4326\)"):
        load_catalog(tmp_path / "c.yaml").open("t")


class _ScaledPopulation:
    """A catalog whose population grids are in thousands of people (everything else delegated)."""

    def __init__(self, catalog, ids: list[str], factor: float) -> None:
        self._catalog, self._ids, self._factor = catalog, set(ids), factor

    def __getattr__(self, name):
        return getattr(self._catalog, name)

    def open(self, entry_id: str, *args, **kwargs):
        obj = self._catalog.open(entry_id, *args, **kwargs)
        if entry_id in self._ids:
            obj = obj.map(lambda v: (v * self._factor).assign_attrs(v.attrs), keep_attrs=True)
        return obj


@pytest.mark.slow
def test_population_grid_in_thousands_gives_the_same_exposure(demo_dict) -> None:
    """Gridded population only distributes each country's SSP total over its cells, so a grid in thousands
    of people (declared as people) gives the same people and exposure: its scale cancels per country."""
    from climmig.config import parse_config
    from climmig.exposure import build_exposure

    from ..conftest import CATALOG

    d = dict(demo_dict)
    d.update(scenarios=["ssp245"], climate_models=["GFDL-ESM4"], grid={"resolution": 1.0},
             period={"historical": {"start": 2008, "end": 2022}, "projection": {"start": 2025, "end": 2026},
                     "baseline_year": 2020},
             horizons=[{"name": "near", "start": 2025, "end": 2026}], interventions=[], portfolios=[],
             border_regimes=[], hazards=d["hazards"][:1])
    d["mobility"] = {**d["mobility"], "displacement": {**d["mobility"]["displacement"],
                                                       "hazard_layer_map": {"flood": "flood"}}}
    cfg = parse_config(d)
    cat = load_catalog(CATALOG)
    pop_ids = next(lv for lv in cfg.livelihoods if lv.name == "population").inputs()
    keep = ["population", "exposed_population", "exposed_population_baseline"]
    ref = build_exposure(cfg, cat)[keep].compute()
    scaled = build_exposure(cfg, _ScaledPopulation(cat, pop_ids, 1e-3))[keep].compute()
    assert float(ref["population"].sum()) > 1e7
    xr.testing.assert_allclose(ref, scaled, rtol=1e-5)
