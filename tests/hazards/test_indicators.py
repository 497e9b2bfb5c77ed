"""Hazard indicators: hand-computed cases, NaN, units (degC thresholds against K data), dask and numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climmig.errors import DataError
from climmig.hazards import (
    coastal_inundation,
    convert_threshold,
    crop_yield_loss,
    drought_months,
    heat_days,
    river_flood_depth,
    water_stress,
)


def _daily(values: list[float], units: str, chunks: bool) -> xr.DataArray:
    vals = np.array(values + [0.0] * (365 - len(values)))
    da = xr.DataArray(vals, dims="time", coords={"time": pd.date_range("2001-01-01", periods=365)},
                      attrs={"units": units})
    return da.chunk({"time": -1}) if chunks else da


@pytest.mark.parametrize("use_dask", [False, True])
def test_heat_days_hand_computed_and_degc_threshold_against_kelvin(use_dask: bool, assert_lazy) -> None:
    t_c = [30, 36, 37, 20, 40]
    da_k = _daily([t + 273.15 for t in t_c], "K", use_dask)
    da_k[5:] = 273.15
    with assert_lazy():
        out = heat_days(da_k, thresh="35 degC")
    assert out.attrs["units"] == "d"
    assert int(out.isel(time=0)) == 3
    # the same data in degC with a threshold in K
    da_c = _daily(t_c, "degC", use_dask)
    assert int(heat_days(da_c, thresh="308.15 K").isel(time=0)) == 3


def test_heat_days_all_nan_year_is_nan() -> None:
    da = _daily([np.nan] * 365, "degC", False)
    assert np.isnan(float(heat_days(da, "35 degC").isel(time=0)))


@pytest.mark.parametrize(("units", "offset", "dtype"), [("degC", 0.0, "f8"), ("K", 273.15, "f4")])
def test_heat_days_is_a_strict_count_that_skips_missing_days(units: str, offset: float, dtype: str) -> None:
    """The definition docs/hazards.md compares with xclim: ``>`` (not ``>=``), missing days not counted, a
    year with no data NaN (xclim's tx_days_above gives 0 there), against a plain numpy count."""
    rng = np.random.default_rng(0)
    time = pd.date_range("2001-01-01", "2002-12-31")
    vals = rng.normal(33.0, 3.0, (time.size, 3)).round(0)  # many days at exactly 35 degC
    vals[40:50, 0] = np.nan
    vals[:365, 2] = np.nan
    da = xr.DataArray((vals + offset).astype(dtype), dims=("time", "cell"), coords={"time": time},
                      attrs={"units": units}).chunk({"time": -1})
    data = da.values
    thr = data.dtype.type(35.0 + offset)
    expected = np.array([[np.nan if np.isnan(data[time.year == y, c]).all() else (data[time.year == y, c] > thr).sum()
                          for c in range(3)] for y in (2001, 2002)])
    assert (data == thr).any()
    np.testing.assert_array_equal(heat_days(da, "35 degC").values, expected)


def test_river_flood_depth_above_protection_with_unit_conversion() -> None:
    d = xr.DataArray([0.2, 0.6, 1.5, np.nan], dims="x", attrs={"units": "m"})
    out = river_flood_depth(d, protection="50 cm")
    np.testing.assert_allclose(out.values[:3], [0.0, 0.1, 1.0])
    assert np.isnan(out.values[3]) and out.attrs["units"] == "m"
    d_cm = d * 100
    d_cm.attrs["units"] = "cm"
    np.testing.assert_allclose(river_flood_depth(d_cm, "0.5 m").values[:3], [0.0, 0.1, 1.0])


def test_drought_months_counts_months_below_threshold() -> None:
    idx = xr.DataArray([-1.5, -0.5, -2.0, 0.3] + [0.0] * 8, dims="time",
                       coords={"time": pd.date_range("2001-01-01", periods=12, freq="MS")}, attrs={"units": "1"})
    assert int(drought_months(idx, -1.0).isel(time=0)) == 2
    assert drought_months(idx, -1.0).attrs["units"] == "month"


def test_crop_water_coastal_hand_cases() -> None:
    y = xr.DataArray([1.0, 2.0, 3.0], dims="x", attrs={"units": "t/ha"})
    ref = xr.DataArray([2.0, 2.0, 2.0], dims="x", attrs={"units": "t/ha"})
    np.testing.assert_allclose(crop_yield_loss(y, ref).values, [0.5, 0.0, 0.0])
    w = xr.DataArray([1.0, 4.0], dims="x", attrs={"units": "km3"})
    a = xr.DataArray([10.0, 0.0], dims="x", attrs={"units": "km3"})
    out = water_stress(w, a)
    np.testing.assert_allclose(out.values[0], 0.1)
    assert np.isnan(out.values[1])
    z = xr.DataArray([0.5, 2.0, np.nan], dims="x", attrs={"units": "m"})
    np.testing.assert_allclose(coastal_inundation(z, "1.2 m").values[:2], [0.7, 0.0])


def test_threshold_dimension_mismatch_is_a_clear_error() -> None:
    d = xr.DataArray([1.0], dims="x", attrs={"units": "m"})
    with pytest.raises(DataError, match="threshold"):
        convert_threshold("35 degC", d)
    with pytest.raises(DataError, match="no units"):
        convert_threshold("1 m", xr.DataArray([1.0], dims="x"))
