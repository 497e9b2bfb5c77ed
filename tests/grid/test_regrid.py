"""Regridding: conservation of counts, longitude/latitude conventions, intensity methods, laziness."""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from climmig.errors import DataError
from climmig.grid import cell_area, make_grid, normalize_lonlat, regrid_counts, regrid_intensity

from ..conftest import CATALOG


def _src(values: np.ndarray, lat0: float, lon0: float, res: float) -> xr.DataArray:
    ny, nx = values.shape
    return xr.DataArray(values, dims=("lat", "lon"),
                        coords={"lat": lat0 + res * (np.arange(ny) + 0.5), "lon": lon0 + res * (np.arange(nx) + 0.5)},
                        attrs={"units": "1"})


@settings(max_examples=25, deadline=None)
@given(
    src_res=st.sampled_from([0.05, 0.1, 1 / 12, 0.5, 1.0]),
    tgt_res=st.sampled_from([0.05, 0.1, 0.25, 0.5]),
    seed=st.integers(0, 2**16),
)
def test_regrid_counts_conserves_total(src_res: float, tgt_res: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    vals = rng.lognormal(3, 2, size=(int(round(2 / src_res)), int(round(3 / src_res))))
    vals[rng.random(vals.shape) < 0.1] = np.nan  # nodata counts as zero
    src = _src(vals, 10.0, 40.0, src_res)
    grid = make_grid(39.0, 9.0, 44.0, 13.0, tgt_res)  # covers the source box
    out = regrid_counts(src, grid)
    np.testing.assert_allclose(float(out.sum()), np.nansum(vals), rtol=1e-9)
    assert out.attrs["climmig_regrid_method"] == "conservative"


def test_regrid_counts_partial_overlap_hand_computed() -> None:
    # one 1-degree source cell with 100 people; target 0.5-degree cells split it four ways by area
    src = _src(np.array([[100.0]]), 0.0, 0.0, 1.0).pad(lat=(0, 1), lon=(0, 1), constant_values=0.0)
    src = src.assign_coords(lat=[0.5, 1.5], lon=[0.5, 1.5])
    grid = make_grid(0, 0, 1, 1, 0.5)
    out = regrid_counts(src, grid).values
    np.testing.assert_allclose(out.sum(), 100.0)
    # lower latitude band has (sin 0.5 - sin 0) / sin 1 of the area
    low = np.sin(np.deg2rad(0.5)) / np.sin(np.deg2rad(1.0))
    np.testing.assert_allclose(out[0], [50 * low, 50 * low])
    np.testing.assert_allclose(out[1], [50 * (1 - low), 50 * (1 - low)])


def test_longitude_0_360_and_descending_latitude_give_the_same_result(rng: np.random.Generator) -> None:
    vals = rng.random((18, 36))
    lat = -90 + 10 * (np.arange(18) + 0.5)
    lon = -180 + 10 * (np.arange(36) + 0.5)
    a = xr.DataArray(vals, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, attrs={"units": "1"})
    # the same field stored 0..360 and north-to-south (like GHCN-CAMS)
    lon360 = np.where(lon < 0, lon + 360, lon)
    order = np.argsort(lon360)
    b = xr.DataArray(vals[::-1][:, order], dims=("lat", "lon"), coords={"lat": lat[::-1], "lon": lon360[order]},
                     attrs={"units": "1"})
    grid = make_grid(-20, -10, 30, 20, 5.0)
    xr.testing.assert_allclose(regrid_counts(a, grid), regrid_counts(b, grid))
    xr.testing.assert_allclose(regrid_intensity(a, grid, "bilinear"), regrid_intensity(b, grid, "bilinear"))
    n = normalize_lonlat(b)
    assert n.lon.min() < 0 and bool((n.lat.diff("lat") > 0).all())


def test_normalize_rejects_projected_coordinates() -> None:
    da = xr.DataArray(np.zeros((2, 2)), dims=("y", "x"), coords={"y": [5e5, 6e5], "x": [1e5, 2e5]})
    with pytest.raises(DataError, match="projected"):
        normalize_lonlat(da)


def test_area_mean_ignores_missing_and_keeps_constants() -> None:
    vals = np.full((4, 4), 3.0)
    vals[0, 0] = np.nan
    src = _src(vals, 0.0, 0.0, 0.5)
    grid = make_grid(0, 0, 2, 2, 1.0)
    out = regrid_intensity(src, grid, "area_mean")
    np.testing.assert_allclose(out.values, 3.0)


def test_regridding_is_lazy(assert_lazy) -> None:
    src = _src(np.ones((40, 60)), 0.0, 0.0, 0.05).chunk({"lat": 10, "lon": 20})
    grid = make_grid(0, 0, 3, 2, 0.25)
    with assert_lazy():
        c = regrid_counts(src, grid)
        i = regrid_intensity(src, grid, "area_mean", fill_cells=1)
        b = regrid_intensity(src, grid, "bilinear")
    assert all(isinstance(x.data, dsa.Array) for x in (c, i, b))
    np.testing.assert_allclose(float(c.sum()), 40 * 60)


def test_cell_area_sums_to_sphere() -> None:
    grid = make_grid(-180, -90, 180, 90, 5.0)
    np.testing.assert_allclose(float(cell_area(grid).sum()), 4 * np.pi * 6_371_008.8**2, rtol=1e-12)


@pytest.mark.parametrize("res", [0.05, 0.25])
def test_worldpop_1km_conserved_on_analysis_grid(res: float) -> None:
    from climmig.catalog import load_catalog

    pop = load_catalog(CATALOG).open("worldpop_somalia_2020")["population"]
    grid = make_grid(40.9, -1.7, 51.5, 12.1, res)
    total = float(pop.sum())
    assert abs(float(regrid_counts(pop, grid).sum()) / total - 1) < 1e-3


def test_gpw_1deg_conserved_on_quarter_degree() -> None:
    from climmig.catalog import load_catalog

    gpw = normalize_lonlat(load_catalog(CATALOG).open("gpw_population_2020_1deg")["population"])
    box = gpw.sel(lat=slice(-5, 15), lon=slice(33, 52))
    grid = make_grid(33, -5, 52, 15, 0.25)
    assert abs(float(regrid_counts(box, grid).sum()) / float(box.sum()) - 1) < 1e-3
