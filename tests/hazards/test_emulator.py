"""Warming trajectories, the warming-level emulator and the scenario-file reader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from climmig.catalog import load_catalog
from climmig.grid import make_grid
from climmig.hazards import open_scenario_files, warming_since_baseline
from climmig.hazards.cmip6_warming import warming_trajectories
from climmig.hazards.emulator import emulate_drought_months, emulate_flood_depth, emulate_heat_days
from climmig.hazards.scenario_files import group_scenario_files

from ..conftest import CATALOG


def _warming(scenarios, models):
    table = load_catalog(CATALOG).open("cmip6_regional_tas")
    return warming_trajectories(table, scenarios, models)


def test_warming_since_baseline_is_zero_at_baseline_and_follows_each_model() -> None:
    w = _warming(["ssp585"], ["GFDL-ESM4", "UKESM1-0-LL"])
    dT = warming_since_baseline(w, 2020).sel(year=[2020, 2060, 2100])
    np.testing.assert_allclose(dT.sel(year=2020).values, 0.0)
    # UKESM1 (a high-sensitivity model) warms far more than GFDL-ESM4 in its own runs
    assert float(dT.sel(climate_model="UKESM1-0-LL", year=2100).squeeze()) > \
        1.5 * float(dT.sel(climate_model="GFDL-ESM4", year=2100).squeeze())
    with pytest.raises(ValueError, match="baseline year 1700"):
        warming_since_baseline(w, 1700)


@pytest.fixture
def small():
    grid = make_grid(40, 0, 44, 4, 0.5)
    dT = warming_since_baseline(_warming(["ssp126", "ssp585"], ["GFDL-ESM4", "UKESM1-0-LL"]), 2020
                                ).sel(year=list(range(2020, 2101, 20)))
    return grid, dT


def test_emulators_are_lazy_seeded_and_flagged(small, assert_lazy) -> None:
    grid, dT = small
    cat = load_catalog(CATALOG)
    depth = cat.open("isimip_flood_depth_2000")["flddph"]
    tas = xr.DataArray(np.full((3, grid.sizes["lat"], grid.sizes["lon"]), 303.0, dtype=np.float32),
                       dims=("time", "lat", "lon"),
                       coords={"time": pd.date_range("2018-01-01", periods=3, freq="MS"), "lat": grid.lat.values,
                               "lon": grid.lon.values}, attrs={"units": "K"})
    drying = xr.DataArray(np.full((grid.sizes["lat"], grid.sizes["lon"]), -0.2), dims=("lat", "lon"),
                          coords={"lat": grid.lat.values, "lon": grid.lon.values}, attrs={"units": "K-1"})
    with assert_lazy():
        f1 = emulate_flood_depth(depth, grid, dT, 7, {}, {})
        h1 = emulate_heat_days(tas, dT, "35 degC", 7, {}, {})
        d1 = emulate_drought_months(drying, dT, -1.0, 7, {}, {})
    for out in (f1, h1, d1):
        assert out.dims == ("scenario", "climate_model", "year", "lat", "lon")
        assert out.attrs["climmig_emulated"] == "true"
    f2 = emulate_flood_depth(depth, grid, dT, 7, {}, {})
    xr.testing.assert_equal(f1.compute(), f2.compute())
    assert not f1.equals(emulate_flood_depth(depth, grid, dT, 8, {}, {}))
    # more warming: more heat days and drought months on average (same noise stream)
    hm = h1.mean(("lat", "lon", "climate_model")).compute()
    assert float(hm.sel(scenario="ssp585", year=2100)) > float(hm.sel(scenario="ssp585", year=2020))
    dm = d1.mean(("lat", "lon", "climate_model", "scenario")).compute()
    assert float(dm.sel(year=2100)) > float(dm.sel(year=2020))
    # 30 degC monthly mean (303 K ~ 29.85 degC), daily sd 2 K: P(T > 35 degC) ~ 0.5 %; x 365 days
    assert 0 < float(hm.sel(scenario="ssp126", year=2020)) < 15


def test_flood_depth_distribution_comes_from_isimip(small) -> None:
    grid, dT = small
    depth = load_catalog(CATALOG).open("isimip_flood_depth_2000")["flddph"]
    out = emulate_flood_depth(depth, grid, dT.isel(year=[0]), 1, {}, {}).compute()
    share_src = float((depth > 0).sum() / depth.notnull().sum())
    share_out = float((out > 0).mean())
    assert 0.0 <= share_out < 10 * share_src + 0.05
    assert float(out.max()) <= float(depth.max()) + 1e-6


def _write_files(tmp_path, lon360: bool):
    lat = np.array([2.5, 1.5, 0.5])  # descending, like many model files
    lon = np.array([40.5, 41.5]) + (0 if not lon360 else 0)
    files = []
    for scen in ("ssp126", "ssp585"):
        for tag in ("gfdl-esm4", "mri-esm2-0"):
            for years in ((2020, 2021), (2022, 2023)):
                t = pd.date_range(f"{years[0]}-01-01", f"{years[1]}-12-31", freq="D")
                v = np.full((t.size, 3, 2), 300.0 + (5 if scen == "ssp585" else 0), dtype=np.float32)
                ds = xr.Dataset({"tas": (("time", "lat", "lon"), v, {"units": "K"})},
                                coords={"time": t, "lat": lat, "lon": lon})
                name = f"{tag}_r1i1p1f1_w5e5_{scen}_tas_global_daily_{years[0]}_{years[1]}.nc"
                ds.to_netcdf(tmp_path / name)
                files.append(name)
    cat = {"entries": [{"id": "isimip_tas", "title": "t", "format": "netcdf", "path": "*_tas_*.nc",
                        "crs": "EPSG:4326", "license": "x", "citation": "x", "source": "test",
                        "variables": {"tas": {"units": "K"}}}]}
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(cat))
    return load_catalog(tmp_path / "catalog.yaml"), files


def test_open_scenario_files_stacks_scenarios_and_models(tmp_path) -> None:
    cat, files = _write_files(tmp_path, False)
    groups = group_scenario_files(sorted(tmp_path.glob("*.nc")))
    assert set(groups) == {("ssp126", "GFDL-ESM4"), ("ssp126", "MRI-ESM2-0"), ("ssp585", "GFDL-ESM4"),
                           ("ssp585", "MRI-ESM2-0")}
    da = open_scenario_files(cat, "isimip_tas")
    assert da.dims == ("scenario", "climate_model", "time", "lat", "lon")
    assert da.sizes["time"] == 4 * 365 + 1  # 2020 is a leap year
    assert bool((da.lat.diff("lat") > 0).all())
    assert float(da.sel(scenario="ssp585").mean()) == pytest.approx(305.0)
