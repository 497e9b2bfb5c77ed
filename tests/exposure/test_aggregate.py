"""Region reductions: a hand-computed 3x3 case, monotonicity in the threshold, conservation, laziness, and the
compiled block kernel against a float64 bincount reference (fractional border cells, NaN, any chunking)."""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from climmig.exposure import region_exceedance_sums, region_sum
from climmig.exposure.kernels import BAND_CELLS, exceed_and_sum, tile_weights


def _grid_da(values: np.ndarray, lead: tuple[str, ...] = ()) -> xr.DataArray:
    ny, nx = values.shape[-2:]
    return xr.DataArray(values, dims=(*lead, "lat", "lon"), coords={"lat": np.arange(ny), "lon": np.arange(nx)})


def test_hand_computed_3x3() -> None:
    # people per cell; the middle column is split 50/50 between A (west) and B (east)
    pop = np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0], [70.0, 80.0, 90.0]])
    frac_a = np.array([[1, 0.5, 0], [1, 0.5, 0], [1, 0.5, 0]])
    w = xr.DataArray(np.stack([frac_a * pop, (1 - frac_a) * pop]), dims=("region", "lat", "lon"),
                     coords={"region": ["A", "B"], "lat": np.arange(3), "lon": np.arange(3)})
    depth = np.array([[0.0, 1.0, 0.2], [0.6, 0.4, 2.0], [np.nan, 0.7, 0.0]])
    out = region_exceedance_sums(_grid_da(depth).chunk({"lat": 2, "lon": 2}), w, 0.5).compute()
    # exposed (depth > 0.5): (0,1) 20 split 10/10; (1,0) 40 -> A; (1,2) 60 -> B; (2,1) 80 split 40/40
    np.testing.assert_allclose(out["exceedance"].values, [10 + 40 + 40, 10 + 60 + 40])
    # weighted sums: A = 0.6*40 + 0.5*(20*1 + 50*0.4 + 80*0.7); NaN contributes nothing
    np.testing.assert_allclose(out["total"].values, [0.6 * 40 + 10 * 1 + 25 * 0.4 + 40 * 0.7,
                                                     30 * 0.2 + 60 * 2.0 + 10 * 1 + 25 * 0.4 + 40 * 0.7])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), t1=st.floats(-2, 2), dt=st.floats(0, 2))
def test_exposure_is_monotone_in_threshold_and_conserves_people(seed: int, t1: float, dt: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 7, 9)).astype(np.float32)
    frac = rng.dirichlet(np.ones(3), size=(7, 9)).transpose(2, 0, 1)
    frac[frac < 0.2] = 0
    frac /= frac.sum(0)
    pop = rng.lognormal(3, 1, size=(7, 9))
    w = xr.DataArray(frac * pop, dims=("region", "lat", "lon"),
                     coords={"region": ["a", "b", "c"], "lat": np.arange(7), "lon": np.arange(9)})
    f = _grid_da(x, ("s", "y")).chunk({"lat": 4, "lon": 5})
    lo = region_exceedance_sums(f, w, t1)["exceedance"].compute()
    hi = region_exceedance_sums(f, w, t1 + dt)["exceedance"].compute()
    assert bool((hi <= lo + 1e-6).all())
    # everything exceeds -inf: the sum over regions is the grid total
    allx = region_exceedance_sums(f, w, -np.inf)["exceedance"].compute()
    np.testing.assert_allclose(allx.sum("region").values, pop.sum(), rtol=1e-5)
    ones = region_sum(_grid_da(np.ones((7, 9))), w).compute()
    np.testing.assert_allclose(float(ones.sum()), pop.sum(), rtol=1e-6)


def test_reduction_is_lazy_with_lazy_and_in_memory_weights(assert_lazy) -> None:
    f = _grid_da(np.ones((4, 6, 8), dtype=np.float32), ("year",)).chunk({"lat": 3, "lon": 4})
    wv = np.ones((2, 6, 8))
    w = xr.DataArray(wv, dims=("region", "lat", "lon"), coords={"region": ["a", "b"], "lat": np.arange(6),
                                                                  "lon": np.arange(8)})
    with assert_lazy():
        a = region_exceedance_sums(f, w, 0.5)
        b = region_exceedance_sums(f, w.chunk({"lat": 2}), 0.5)
    assert isinstance(a["exceedance"].data, dsa.Array) and isinstance(b["exceedance"].data, dsa.Array)
    xr.testing.assert_allclose(a.compute(), b.compute())


def _bincount_reference(x: np.ndarray, w: np.ndarray, thr: float) -> tuple[np.ndarray, np.ndarray]:
    """float64 reference: one np.bincount over the (region, cell) pairs of the weights per slice."""
    nreg = w.shape[0]
    flat = w.reshape(nreg, -1).astype(np.float64)
    reg, cell = np.nonzero(flat)
    ww = flat[reg, cell]
    xs = x.reshape(-1, flat.shape[1]).astype(np.float64)
    exc = np.stack([np.bincount(reg, ww * (xk[cell] > thr), nreg) for xk in xs])
    val = np.stack([np.bincount(reg, ww * np.nan_to_num(xk[cell]), nreg) for xk in xs])
    return exc.reshape(*x.shape[:-2], nreg), val.reshape(*x.shape[:-2], nreg)


def _random_case(rng: np.random.Generator, lead: tuple[int, ...], ny: int, nx: int, nreg: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Field with NaNs and ocean, weights with fractional border cells (Voronoi-like regions)."""
    x = rng.standard_normal((*lead, ny, nx)).astype(np.float32)
    x[rng.random(x.shape) < 0.02] = np.nan
    region = (np.arange(ny)[:, None] * nreg // ny + np.arange(nx)[None, :] * 3 // max(nx, 1)) % nreg
    frac = np.zeros((nreg, ny, nx))
    np.put_along_axis(frac, region[None], 1.0, axis=0)
    border = rng.random((ny, nx)) < 0.3  # share a random 0-1 fraction with the next region
    share = rng.random((ny, nx)) * border
    nxt = np.zeros_like(frac)
    np.put_along_axis(nxt, ((region + 1) % nreg)[None], 1.0, axis=0)
    frac = frac * (1 - share) + nxt * share
    pop = rng.lognormal(3, 1, size=(ny, nx)) * (rng.random((ny, nx)) > 0.3)  # 30 % ocean
    return x, (frac * pop).astype(np.float32)


@pytest.mark.parametrize(("k", "ny", "nx"), [(1, 1, 1), (3, 3, 3), (2, 1, 17), (5, 4, 16), (4, 20, 33),
                                             (3, 2, BAND_CELLS // 2 + 40)])
def test_block_kernel_matches_bincount_reference(rng: np.random.Generator, k: int, ny: int, nx: int) -> None:
    x, w = _random_case(rng, (k,), ny, nx, 4)
    tw = tile_weights(w)
    exc, val = exceed_and_sum(x.reshape(k, -1), 0.3, tw)
    ref_e, ref_v = _bincount_reference(x, w, 0.3)
    np.testing.assert_allclose(exc, ref_e, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(val, ref_v, rtol=1e-5, atol=1e-3)


def test_block_kernel_counts_split_cells_once_per_region() -> None:
    # one cell shared 0.25/0.75 between two regions, at the end of a 17-cell tile (shifted last block)
    w = np.zeros((2, 1, 17), dtype=np.float32)
    w[0, 0, :16] = 1.0
    w[0, 0, 16] = 0.25
    w[1, 0, 16] = 0.75
    x = np.full((1, 17), 2.0, dtype=np.float32)
    exc, val = exceed_and_sum(x, 1.0, tile_weights(w))
    np.testing.assert_allclose(exc, [[16.25, 0.75]])
    np.testing.assert_allclose(val, [[32.5, 1.5]])


def test_block_kernel_all_ocean_tile_gives_zeros() -> None:
    tw = tile_weights(np.zeros((3, 5, 7), dtype=np.float32))
    exc, val = exceed_and_sum(np.ones((2, 35), dtype=np.float32), 0.5, tw)
    assert tw.start.size == 0 and exc.shape == val.shape == (2, 3)
    assert not exc.any() and not val.any()


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**16), lat_chunk=st.integers(1, 6), lon_chunk=st.integers(5, 50),
       year_chunk=st.integers(1, 3), lazy_weights=st.booleans(), thr=st.floats(-1, 1))
def test_region_sums_match_reference_for_any_chunking(seed: int, lat_chunk: int, lon_chunk: int, year_chunk: int,
                                                      lazy_weights: bool, thr: float) -> None:
    rng = np.random.default_rng(seed)
    x, w = _random_case(rng, (2, 3), 6, 50, 5)
    f = _grid_da(x, ("scenario", "year")).chunk({"year": year_chunk, "lat": lat_chunk, "lon": lon_chunk})
    wda = xr.DataArray(w, dims=("region", "lat", "lon"),
                       coords={"region": list("abcde"), "lat": np.arange(6), "lon": np.arange(50)})
    if lazy_weights:
        wda = wda.chunk({"lat": 4, "lon": 32})
    out = region_exceedance_sums(f, wda, thr).compute()
    ref_e, ref_v = _bincount_reference(x, w, thr)
    np.testing.assert_allclose(out["exceedance"].values, ref_e, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(out["total"].values, ref_v, rtol=1e-4, atol=1e-2)


def test_calls_on_the_same_lazy_weights_share_the_tile_tasks() -> None:
    f = _grid_da(np.ones((4, 6, 40), dtype=np.float32), ("year",)).chunk({"year": 2, "lat": 3, "lon": 20})
    w = xr.DataArray(np.ones((2, 6, 40)), dims=("region", "lat", "lon"),
                     coords={"region": ["a", "b"], "lat": np.arange(6), "lon": np.arange(40)}).chunk({"lat": 3})
    both = xr.merge([region_exceedance_sums(f, w, 0.5).rename(exceedance="e1", total="t1"),
                     region_exceedance_sums(f * 2, w, 1.5).rename(exceedance="e2", total="t2")])
    keys = [k for k in both.__dask_graph__() if "tile_task" in str(k[0] if isinstance(k, tuple) else k)]
    assert len(keys) == 4  # 2 x 2 spatial tiles, built once for both calls
    np.testing.assert_allclose(both["e1"].values, both["e2"].values)
