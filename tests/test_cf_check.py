"""The CF helper the output tests use finds what it is meant to find."""

from __future__ import annotations

import numpy as np
import xarray as xr

from tests.cf_check import cf_problems


def _good() -> xr.Dataset:
    ds = xr.Dataset(
        {"people": (("region", "year"), np.ones((2, 3)), {"units": "1", "long_name": "people",
                                                          "cell_methods": "area: sum"})},
        coords={"region": ["A", "B"], "year": [2020, 2021, 2022],
                "region_name": ("region", ["a", "b"])},
        attrs={"Conventions": "CF-1.11"})
    ds["people"].attrs["coordinates"] = "region_name"
    return ds


def test_a_good_dataset_passes() -> None:
    assert cf_problems(_good()) == []


def test_each_rule_is_enforced() -> None:
    ds = _good()
    ds.attrs = {}
    ds["people"].attrs = {"cell_methods": "summed up"}
    ds["lat"] = ("lat", [1.0], {"units": "degrees"})
    found = " | ".join(cf_problems(ds, "f"))
    for needle in ("Conventions", "without units", "no long_name", "malformed cell_methods", "latitude units"):
        assert needle in found, (needle, found)
