"""Config parameters by dotted path: reading, setting (never mutating), validating a problem against a config."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from climmig.config import parse_config, science_hash
from climmig.sensitivity import (
    SensitivityError,
    apply_parameters,
    config_evaluator,
    current_values,
    get_value,
    load_problem,
    numeric_paths,
    parse_problem,
    validate_problem,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cfg(demo_dict: dict):
    return parse_config(demo_dict)


def test_paths_address_items_by_name_and_keys(cfg) -> None:
    assert get_value(cfg, "hazards.flood.threshold") == 20
    assert get_value(cfg, "hazards.heat.threshold") == 35
    assert get_value(cfg, "interventions.early_warning.effect.params.alpha") == 6  # from the evidence table
    assert get_value(cfg, "comparison.discount_rate") == 0.03
    assert get_value(cfg, "horizons.mid.start") == 2041
    assert get_value(cfg, "projection.quantiles.0") == 0.05
    paths = numeric_paths(cfg)
    assert "interventions.small_relocation.params.capacity_per_year" in paths
    assert not any(p.startswith(("compute.", "outputs.")) for p in paths)
    assert all(isinstance(get_value(cfg, p), float) for p in paths)


def test_apply_keeps_units_and_never_mutates(cfg) -> None:
    before = cfg.model_dump()
    new = apply_parameters(cfg, {"hazards.flood.threshold": 25.0, "hazards.heat.threshold": 36.5,
                                 "interventions.early_warning.effect.params.alpha": 4.25})
    assert new.hazards[0].threshold == "25 yr"
    assert new.hazards[1].threshold == "36.5 degC"
    assert new.interventions[4].effect.params["alpha"] == 4.25
    assert cfg.model_dump() == before
    assert science_hash(new) != science_hash(cfg)
    assert type(new) is type(cfg)


def test_integer_fields_are_rounded(cfg) -> None:
    new = apply_parameters(cfg, {"interventions.small_relocation.ramp_years": 4.6})
    assert new.interventions[1].ramp_years == 5


def test_invalid_value_is_a_clear_error(cfg) -> None:
    with pytest.raises(SensitivityError) as info:
        apply_parameters(cfg, {"interventions.early_warning.effect.params.alpha": -1.0})
    msg = str(info.value)
    assert "interventions.early_warning.effect.params.alpha=-1" in msg and "must be > 0" in msg
    with pytest.raises(SensitivityError, match="outside the projection period"):
        apply_parameters(cfg, {"interventions.early_warning.start_year": 2200})
    with pytest.raises(SensitivityError, match="not a finite number"):
        apply_parameters(cfg, {"comparison.discount_rate": float("nan")})


@pytest.mark.parametrize(
    ("path", "expect"),
    [
        ("hazards.flod.threshold", "hazards has no 'flod'; did you mean 'flood'?"),
        ("interventions.early_warning.effect.params.alph", "did you mean 'alpha'?"),
        ("comparison.discount_rat", "did you mean 'discount_rate'?"),
        ("zzz.discount_rate", "did you mean 'comparison.discount_rate'?"),
        ("hazards.flood", "this is a section"),
        ("hazards.flood.indicator", "not a number"),
        ("comparison.discount_rate.x", "is a value, not a section"),
        ("compute.n_workers", "cannot be varied"),
        ("mobility.displacement.priors.exposure_elasticity.params.sigma", "is empty in this config"),
    ],
)
def test_bad_paths_named_with_hints(cfg, path: str, expect: str) -> None:
    with pytest.raises(SensitivityError) as info:
        get_value(cfg, path)
    assert str(info.value).startswith(path + ":")
    assert expect in str(info.value)


def test_item_names_with_dots(demo_dict: dict) -> None:
    demo_dict["hazards"][0]["name"] = "flood.v2"
    demo_dict["mobility"]["displacement"]["hazard_layer_map"] = {"flood": "flood.v2"}
    cfg = parse_config(demo_dict)
    assert "hazards.flood.v2.threshold" in numeric_paths(cfg)
    assert apply_parameters(cfg, {"hazards.flood.v2.threshold": 30.5}).hazards[0].threshold == "30.5 yr"


def test_prior_paths_when_the_config_lists_priors(demo_dict: dict) -> None:
    demo_dict["mobility"]["displacement"]["priors"] = {
        "exposure_elasticity": {"dist": "HalfNormal", "params": {"sigma": 1.0}}}
    cfg = parse_config(demo_dict)
    path = "mobility.displacement.priors.exposure_elasticity.params.sigma"
    assert path in numeric_paths(cfg)
    new = apply_parameters(cfg, {path: 0.4})
    assert new.mobility.displacement.priors["exposure_elasticity"].params["sigma"] == 0.4


def test_demo_problem_fits_demo_config() -> None:
    from climmig.config import load_config

    cfg = load_config(REPO / "configs" / "demo.yaml")
    problem = load_problem(REPO / "configs" / "sensitivity_demo_problem.yaml")
    validate_problem(problem, cfg)
    assert 4 <= len(problem.parameters) <= 6
    assert set(current_values(cfg, problem.paths)) == set(problem.paths)


def test_validate_problem_lists_every_problem(cfg) -> None:
    problem = parse_problem({
        "n": 16,
        "parameters": [
            {"path": "hazards.flood.treshold", "bounds": [0.2, 1.0]},
            {"path": "hazards.flood.threshold", "bounds": [1, 3], "units": "d"},
            {"path": "interventions.humanitarian_cash.coverage", "bounds": [0.5, 1.5]},
            {"path": "hazards.heat.threshold", "bounds": [300, 310], "units": "K"},
            {"path": "comparison.discount_rate", "bounds": [0.0, 0.05], "units": "1"},
        ],
        "outputs": ["y"],
    })
    with pytest.raises(SensitivityError) as info:
        validate_problem(problem, cfg)
    msg = str(info.value)
    assert "hazards.flood.treshold: hazards.flood has no 'treshold'; did you mean 'threshold'?" in msg
    assert "hazards.flood.threshold: the config writes this in 'yr' but the problem gives 'd'" in msg
    assert "interventions.humanitarian_cash.coverage: the upper end of its range (1.5)" in msg
    assert "hazards.heat.threshold: the config writes this in 'degC'" in msg
    assert "discount_rate" not in msg
    ok = parse_problem({"n": 16, "outputs": ["y"], "parameters": [
        {"path": "hazards.flood.threshold", "bounds": [10, 50], "units": "year"},
        {"path": "comparison.discount_rate", "bounds": [0.0, 0.05]}]})
    validate_problem(ok, cfg)


def test_validate_checks_tails_of_unbounded_distributions(cfg) -> None:
    problem = parse_problem({"n": 16, "outputs": ["y"], "parameters": [
        {"path": "interventions.early_warning.effect.params.alpha",
         "dist": {"dist": "Normal", "params": {"mu": 3.0, "sigma": 1.0}}},
        {"path": "comparison.discount_rate", "bounds": [0.0, 0.05]}]})
    with pytest.raises(SensitivityError, match="lower end of its range"):
        validate_problem(problem, cfg)


def test_config_evaluator_passes_new_configs_and_pickles(cfg) -> None:
    import pickle

    seen = []
    evaluate = config_evaluator(cfg, lambda c: seen.append(c) or {"y": get_value(c, "comparison.discount_rate")})
    assert evaluate({"comparison.discount_rate": 0.05}) == {"y": 0.05}
    assert seen[0].comparison.discount_rate == 0.05 and cfg.comparison.discount_rate == 0.03
    again = pickle.loads(pickle.dumps(config_evaluator(cfg, science_hash)))
    assert again({"comparison.discount_rate": 0.03}) == science_hash(cfg)


# ------------------------------------------------------------------------------------------ properties
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_DEMO = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text())
_DEMO["catalog"] = str(REPO / "data_catalog" / "catalog.yaml")
_CFG = parse_config(copy.deepcopy(_DEMO))
_PATHS = numeric_paths(_CFG)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PATHS), min_size=1, max_size=12, unique=True))
def test_current_values_round_trip_to_the_same_config(paths: list[str]) -> None:
    new = apply_parameters(_CFG, current_values(_CFG, paths))
    assert science_hash(new) == science_hash(_CFG)
    assert new == _CFG


_SAFE = ["hazards.flood.threshold", "hazards.heat.threshold", "comparison.discount_rate",
         "interventions.early_warning.effect.params.alpha", "interventions.humanitarian_cash.coverage"]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(_SAFE), st.floats(0.01, 0.5, allow_nan=False))
def test_set_then_restore_gives_the_original_hash(path: str, value: float) -> None:
    changed = apply_parameters(_CFG, {path: value})
    assert get_value(changed, path) == pytest.approx(value)
    restored = apply_parameters(changed, {path: get_value(_CFG, path)})
    assert science_hash(restored) == science_hash(_CFG)
