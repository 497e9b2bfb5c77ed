"""Region reductions: a hand-computed 3x3 case, monotonicity in the threshold, conservation, laziness."""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from climmig.exposure import region_exceedance_sums, region_sum
from climmig.exposure.kernels import _exceed_and_sum_py, cell_weights, exceed_and_sum


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


def test_compiled_kernel_matches_scipy_fallback(rng: np.random.Generator) -> None:
    x = rng.standard_normal((5, 60)).astype(np.float32)
    x[1, 3] = np.nan
    w = rng.random((4, 6, 10)).astype(np.float32)
    w[w < 0.7] = 0
    cw = cell_weights(w)
    a, b = exceed_and_sum(x, 0.3, cw), _exceed_and_sum_py(x, 0.3, cw)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-5, atol=1e-5)
