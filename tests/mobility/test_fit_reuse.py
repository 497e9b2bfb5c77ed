"""A saved displacement fit is reused by any config with the same fit settings (issues 34, 35)."""

from __future__ import annotations

import copy

import pytest

from climmig.config import parse_config
from climmig.displacement.calibration import fit_config_hash


def _variant(demo_dict: dict, change) -> str:
    data = copy.deepcopy(demo_dict)
    change(data)
    return fit_config_hash(parse_config(data))


def test_the_fit_hash_ignores_what_the_global_fit_does_not_use(demo_dict) -> None:
    base = _variant(demo_dict, lambda d: None)
    same = [
        lambda d: d["study_area"].update(countries=["SOM", "KEN"]),
        lambda d: d.update(scenarios=["ssp245"]),
        lambda d: d["projection"].update(samples=50),
        lambda d: d["mobility"]["displacement"].update(hazard_layer_map={"flood": "flood"}),
        lambda d: d["mobility"]["gate"].update(allow_unconverged=True),
    ]
    for change in same:
        assert _variant(demo_dict, change) == base


@pytest.mark.parametrize("change", [
    lambda d: d.update(seed=d["seed"] + 1),
    lambda d: d["mobility"]["sampler"].update(draws=d["mobility"]["sampler"]["draws"] + 10),
    lambda d: d["mobility"]["displacement"].update(parameterization="noncentered"),
    lambda d: d["mobility"]["displacement"].update(hazards=["flood", "storm"],
                                                   historical_intensity={"flood": "dfo_flood_archive"}),
    lambda d: d["period"]["historical"].update(start=d["period"]["historical"]["start"] + 1),
])
def test_the_fit_hash_changes_with_what_the_fit_uses(demo_dict, change) -> None:
    assert _variant(demo_dict, change) != _variant(demo_dict, lambda d: None)
