"""The exposure ratio is the change of the exposed share: population growth is not a climate signal."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from climmig.errors import DataError
from climmig.exposure.ratio import exposure_ratio

DIMS5 = ("hazard", "scenario", "climate_model", "year", "region")
COORDS = {"hazard": ["flood", "drought"], "scenario": ["ssp126", "ssp585"], "climate_model": ["A", "B", "C"],
          "year": [2030, 2050], "region": ["DJI", "ETH", "KEN", "SOM"]}


def _exposure(share: np.ndarray, share0: np.ndarray, pop: np.ndarray, pop0: np.ndarray) -> xr.Dataset:
    """An exposure dataset from exposed shares (uniform population scaling within regions, as the stage)."""
    population = xr.DataArray(pop, dims=("scenario", "year", "region"),
                              coords={k: COORDS[k] for k in ("scenario", "year", "region")})
    population0 = xr.DataArray(pop0, dims="region", coords={"region": COORDS["region"]})
    exposed = xr.DataArray(share, dims=DIMS5, coords=COORDS) * population
    base = xr.DataArray(share0, dims=("hazard", "climate_model", "region"),
                        coords={k: COORDS[k] for k in ("hazard", "climate_model", "region")}) * population0
    return xr.Dataset({"population": population, "population_baseline": population0,
                       "exposed_population": exposed.transpose(*DIMS5), "exposed_population_baseline": base})


unit = st.floats(0.01, 1.0)
size = st.floats(1e3, 1e8)


@settings(max_examples=60, deadline=None)
@given(share=arrays(float, (2, 2, 3, 2, 4), elements=unit), share0=arrays(float, (2, 3, 4), elements=unit),
       pop=arrays(float, (2, 2, 4), elements=size), pop0=arrays(float, (4,), elements=size),
       growth=arrays(float, (2, 2, 4), elements=st.floats(0.2, 5.0)))
@pytest.mark.slow
def test_ratio_is_the_change_of_the_exposed_share_whatever_the_population(share, share0, pop, pop0, growth):
    ds = _exposure(share, share0, pop, pop0)
    r = exposure_ratio(ds)
    assert r.dims == DIMS5 and r.attrs["units"] == "1"
    expected = xr.DataArray(share, dims=DIMS5, coords=COORDS) / xr.DataArray(
        share0, dims=("hazard", "climate_model", "region"))
    np.testing.assert_allclose(r.values, expected.transpose(*DIMS5).values, rtol=1e-9)
    # more (or fewer) people with the same exposed shares: the same ratio (no double counting of growth)
    grown = _exposure(share, share0, pop * growth, pop0)
    np.testing.assert_allclose(exposure_ratio(grown).values, r.values, rtol=1e-9)


def test_ratio_is_one_without_baseline_exposure_or_people():
    rng = np.random.default_rng(0)
    share0 = rng.uniform(0.1, 0.5, (2, 3, 4))
    share0[0, :, 1] = 0.0  # nobody exposed to floods in ETH today
    pop = rng.uniform(1e5, 1e6, (2, 2, 4))
    pop[1, 1, 2] = 0.0  # nobody in KEN under ssp585 in 2050
    r = exposure_ratio(_exposure(rng.uniform(0.1, 0.5, (2, 2, 3, 2, 4)), share0, pop, rng.uniform(1e5, 1e6, 4)))
    assert bool((r.sel(hazard="flood", region="ETH") == 1.0).all())
    assert bool((r.sel(scenario="ssp585", year=2050, region="KEN") == 1.0).all())
    assert bool(np.isfinite(r).all())


def test_exposure_without_baseline_population_names_the_fix():
    rng = np.random.default_rng(1)
    ds = _exposure(rng.uniform(0.1, 0.5, (2, 2, 3, 2, 4)), rng.uniform(0.1, 0.5, (2, 3, 4)),
                   rng.uniform(1e5, 1e6, (2, 2, 4)), rng.uniform(1e5, 1e6, 4))
    with pytest.raises(DataError, match=r"population_baseline.*--stage exposure --force"):
        exposure_ratio(ds.drop_vars("population_baseline"))
