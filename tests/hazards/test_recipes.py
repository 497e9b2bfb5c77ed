"""Every indicator of the table is built by a declared recipe or refused with a clear error, for each source.

Water stress and coastal inundation from scenario files plus a second catalog entry are checked against hand
computations on small files written to ``tmp_path``.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climmig.errors import DataError
from climmig.grid import make_grid
from climmig.hazards import hazard_indicator
from climmig.hazards.emulator import EMULATOR_RECIPES, EMULATOR_REFUSALS
from climmig.hazards.indicators import FILE_RECIPES
from climmig.indicator_table import INDICATORS

from ..cf_check import _CELL_METHOD

#: a plausible scenario-file variable per recipe: units and time step
_FILE_INPUT = {
    "heat_days": ("K", "D", 303.0),
    "drought_months": ("1", "MS", -0.8),
    "river_flood_depth": ("cm", "D", 40.0),
    "flooded_fraction": ("1", "D", 0.2),
    "crop_yield_loss": ("t ha-1", "MS", 3.0),
    "water_stress": ("km3 yr-1", "MS", 0.5),
    "coastal_inundation": ("m", "D", 1.0),
}
#: the static second variable of the two-variable recipes: units and value
_SECOND_INPUT = {"water_stress": ("m3 yr-1", 2e9), "coastal_inundation": ("cm", 80.0)}

_GRID = make_grid(44.0, 1.0, 46.0, 3.0, 1.0)
_DT = xr.DataArray(np.zeros((1, 1, 1)), dims=("scenario", "climate_model", "year"),
                   coords={"scenario": ["ssp126"], "climate_model": ["GFDL-ESM4"], "year": [2030]})


def _spec(name: str, source: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(name="h", indicator=name, input="absent", threshold=INDICATORS[name].example,
                                 source=source, params={})


def _raw(name: str) -> xr.DataArray:
    units, freq, value = _FILE_INPUT[name]
    time = pd.date_range("1991-01-01", "2031-12-31", freq=freq)
    rng = np.random.default_rng(0)
    vals = value * (1 + 0.3 * rng.standard_normal((time.size, 2, 2)))
    vals[:, 1, 1] = np.nan
    return xr.DataArray(vals, dims=("time", "lat", "lon"), coords={"time": time, "lat": [1.5, 2.5], "lon": [44.5, 45.5]},
                        attrs={"units": units}).chunk({"time": -1})


def test_recipes_name_only_indicators_of_the_table() -> None:
    assert set(FILE_RECIPES) <= set(INDICATORS)
    assert set(EMULATOR_RECIPES) <= set(INDICATORS)
    assert not set(EMULATOR_REFUSALS) & set(EMULATOR_RECIPES)


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_every_indicator_has_a_file_recipe_or_the_clear_error(name: str, assert_lazy) -> None:
    if name not in FILE_RECIPES:
        # refused before any file is opened: the catalog is never touched
        with pytest.raises(DataError, match=f"scenario files for {name} are not supported yet: .*"
                                            "use source: warming_levels"):
            hazard_indicator(_spec(name, "scenario_files"), None, _GRID, _DT, seed=1)
        return
    raw = _raw(name)

    def open_second() -> xr.DataArray:
        units, value = _SECOND_INPUT[name]
        return xr.full_like(raw.isel(time=0, drop=True), value).assign_attrs(units=units)

    with assert_lazy():
        out = FILE_RECIPES[name](raw, INDICATORS[name].example, {}, open_second)
    # one value per year, in the table's units, with the CF attributes the outputs rely on
    assert list(out["time"].dt.year.values) == list(range(1991, 2032))
    assert out.attrs["units"] == INDICATORS[name].units
    assert out.attrs["long_name"] and _CELL_METHOD.match(out.attrs["cell_methods"])
    values = out.values
    assert np.isnan(values[:, 1, 1]).all() and np.isfinite(values[:, 0, 0]).all()


@pytest.mark.parametrize("name", sorted(set(INDICATORS) - set(EMULATOR_RECIPES)))
def test_indicators_without_an_emulator_recipe_get_the_clear_error(name: str) -> None:
    expected = EMULATOR_REFUSALS.get(name, f"the warming-level emulator has no recipe for {name}")
    with pytest.raises(DataError) as exc:
        hazard_indicator(_spec(name, "emulator"), None, _GRID, _DT, seed=1)
    assert expected in str(exc.value)
