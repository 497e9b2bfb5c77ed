"""Water stress and coastal inundation from scenario files plus a second catalog entry (``params.<key>``).

Small files on a 1-degree source grid (the second input on a finer 0.5-degree grid, constant within each
1-degree cell so the area mean is known exactly), written to ``tmp_path`` with a tiny catalog; the layer is
compared with the formula computed by hand, and the second input is given in other units than the first.
"""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from climmig.catalog import load_catalog
from climmig.config import load_config, parse_config
from climmig.errors import ConfigError, DataError
from climmig.grid import make_grid
from climmig.hazards import hazard_indicator

_GRID = make_grid(44.0, 1.0, 46.0, 3.0, 1.0)  # cell centres lat 1.5, 2.5; lon 44.5, 45.5
_YEARS = [2030, 2031]
_DT = xr.DataArray(np.zeros((1, 1, 2)), dims=("scenario", "climate_model", "year"),
                   coords={"scenario": ["ssp126"], "climate_model": ["GFDL-ESM4"], "year": _YEARS})
_LAT, _LON = np.arange(0.5, 4.0), np.arange(43.5, 47.0)  # the first variable's 1-degree grid, 4 x 4 cells


def _entry(entry_id: str, path: str, fmt: str, variable: str, units: str) -> dict:
    return {"id": entry_id, "title": "t", "format": fmt, "path": path, "crs": "EPSG:4326", "license": "x",
            "citation": "x", "source": "test", "variables": {variable: {"units": units}}}


def _catalog(tmp_path: Path, entries: list[dict]):
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump({"entries": entries}))
    return load_catalog(tmp_path / "catalog.yaml")


def _scenario_file(tmp_path: Path, variable: str, units: str, freq: str, rng: np.random.Generator,
                   scale: float) -> xr.DataArray:
    """One scenario file (GFDL-ESM4, ssp126, 2030-2031) of random values; returns the values written."""
    time = pd.date_range("2030-01-01", "2031-12-31", freq=freq)
    da = xr.DataArray(scale * rng.uniform(0.5, 1.5, (time.size, _LAT.size, _LON.size)),
                      dims=("time", "lat", "lon"), coords={"time": time, "lat": _LAT, "lon": _LON},
                      name=variable, attrs={"units": units})
    da.to_dataset().to_netcdf(tmp_path / f"{variable}_gfdl-esm4_ssp126_2030_2031.nc")
    return da


def _fine(coarse: np.ndarray) -> np.ndarray:
    """A 0.5-degree field constant within each 1-degree cell of ``coarse`` (its area mean is ``coarse``)."""
    return np.repeat(np.repeat(coarse, 2, axis=0), 2, axis=1)


_FINE_LAT, _FINE_LON = np.arange(0.25, 4.0, 0.5), np.arange(43.25, 47.0, 0.5)


def _spec(indicator: str, threshold: str, params: dict) -> types.SimpleNamespace:
    return types.SimpleNamespace(name="h", indicator=indicator, input="first", threshold=threshold,
                                 source="scenario_files", params=params)


def _on_grid(expected: xr.DataArray) -> np.ndarray:
    """The hand-computed yearly field at the analysis grid's cells (same centres as the source cells)."""
    return expected.sel(lat=_GRID.lat, lon=_GRID.lon).transpose("time", "lat", "lon").values


@pytest.mark.parametrize("availability_varies", [False, True], ids=["static", "scenario_files"])
def test_water_stress_from_files_is_withdrawal_over_availability(tmp_path: Path, availability_varies: bool) -> None:
    rng = np.random.default_rng(3)
    withdrawal = _scenario_file(tmp_path, "withdrawal", "km3 yr-1", "MS", rng, 1.0)
    if availability_varies:  # the same model and scenario's runoff, matched year by year
        qtot = _scenario_file(tmp_path, "qtot", "m3 yr-1", "MS", rng, 5e9)
        availability: xr.DataArray = qtot.resample(time="YS").mean()
        entry = _entry("avail", "qtot_*.nc", "netcdf", "qtot", "m3 yr-1")
    else:
        values = rng.uniform(2e9, 8e9, (_LAT.size, _LON.size))  # m3/yr: withdrawal is ~ 0.1 to 0.8 of it
        # the file's first variable is another one: params.availability_variable picks qtot
        xr.Dataset({"discharge": (("lat", "lon"), _fine(values) / 7, {"units": "m3 yr-1"}),
                    "qtot": (("lat", "lon"), _fine(values), {"units": "m3 yr-1"})},
                   coords={"lat": _FINE_LAT, "lon": _FINE_LON}).to_netcdf(tmp_path / "availability.nc")
        availability = xr.DataArray(values, dims=("lat", "lon"), coords={"lat": _LAT, "lon": _LON})
        entry = _entry("avail", "availability.nc", "netcdf", "qtot", "m3 yr-1")
        entry["variables"]["discharge"] = {"units": "m3 yr-1"}
    cat = _catalog(tmp_path, [_entry("first", "withdrawal_*.nc", "netcdf", "withdrawal", "km3 yr-1"), entry])
    params = {"availability": "avail", "availability_variable": "qtot"}
    out = hazard_indicator(_spec("water_stress", "0.4", params), cat, _GRID, _DT, seed=1)
    assert out.attrs["units"] == "1"
    by_hand = withdrawal.resample(time="YS").mean() * 1e9 / availability  # km3 -> m3
    np.testing.assert_allclose(out.sel(scenario="ssp126", climate_model="GFDL-ESM4").values,
                               _on_grid(by_hand), rtol=1e-5)


def test_coastal_inundation_from_files_is_sea_level_above_a_geotiff_dem(tmp_path: Path) -> None:
    rioxarray = pytest.importorskip("rioxarray")  # noqa: F841 - registers .rio
    rng = np.random.default_rng(4)
    sea_level = _scenario_file(tmp_path, "sea_level", "m", "D", rng, 1.0)  # 0.5 to 1.5 m
    elevation = rng.uniform(0.0, 300.0, (_LAT.size, _LON.size))  # cm: some cells above every sea level
    elevation[0, 1] = 500.0
    dem = xr.DataArray(_fine(elevation)[::-1], dims=("y", "x"), coords={"y": _FINE_LAT[::-1], "x": _FINE_LON})
    dem.rio.write_crs("EPSG:4326").rio.to_raster(tmp_path / "dem.tif")
    cat = _catalog(tmp_path, [_entry("first", "sea_level_*.nc", "netcdf", "sea_level", "m"),
                              _entry("dem", "dem.tif", "geotiff", "elevation", "cm")])
    out = hazard_indicator(_spec("coastal_inundation", "0 m", {"elevation": "dem"}), cat, _GRID, _DT, seed=1)
    assert out.attrs["units"] == "m"
    z = xr.DataArray(elevation / 100.0, dims=("lat", "lon"), coords={"lat": _LAT, "lon": _LON})
    by_hand = (sea_level.resample(time="YS").max() - z).clip(min=0)
    got = out.sel(scenario="ssp126", climate_model="GFDL-ESM4").values
    np.testing.assert_allclose(got, _on_grid(by_hand), rtol=1e-5, atol=1e-6)
    assert (got == 0).any() and (got > 0).any()


def test_a_missing_second_input_is_refused_before_any_file_is_read() -> None:
    with pytest.raises(DataError, match=r"water_stress from scenario files needs params\.availability"):
        hazard_indicator(_spec("water_stress", "0.4", {}), None, _GRID, _DT, seed=1)


def _two_variable_hazard(demo_dict: dict, params: dict | None) -> dict:
    demo_dict["hazards"][0].update(indicator="coastal_inundation", threshold="0.5 m", source="scenario_files",
                                   params=params)
    if params is None:
        del demo_dict["hazards"][0]["params"]
    return demo_dict


@pytest.mark.parametrize("params", [None, {}, {"min_days": 3}], ids=["no_params", "empty", "other_key"])
def test_config_without_the_params_key_names_the_field(demo_dict: dict, params: dict | None) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_two_variable_hazard(demo_dict, params))
    assert len(info.value.errors) == 1
    err = info.value.errors[0]
    assert err.startswith("hazards -> 0 -> params:") and "needs params.elevation" in err, err
    demo_dict["hazards"][0]["source"] = "emulator"  # the emulator reads no second input
    parse_config(demo_dict)


def test_a_params_catalog_id_missing_from_the_catalog_is_reported(demo_dict: dict, write_config) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(_two_variable_hazard(demo_dict, {"elevation": "copernicus_dem_90"})))
    assert any(e.startswith("hazards -> 0 -> params -> elevation: 'copernicus_dem_90' is not in the catalog")
               for e in info.value.errors), info.value.errors
