"""Run-config validation: every error names its YAML path and the fix."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from climmig.config import load_config, parse_config, science_hash
from climmig.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted(p for p in (REPO / "configs").glob("*.yaml") if not p.name.endswith("_problem.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_validates(path: Path) -> None:
    cfg = load_config(path)
    assert cfg.run_id


def _errors(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.errors


def test_misspelt_key_gets_did_you_mean(demo_dict: dict) -> None:
    demo_dict["hazards"][1]["treshold"] = demo_dict["hazards"][1].pop("threshold")
    errs = _errors(demo_dict)
    assert any(e.startswith("hazards -> 1 -> treshold: unknown key") and "did you mean 'threshold'" in e
               for e in errs), errs


def test_top_level_typo(demo_dict: dict) -> None:
    demo_dict["scenarois"] = demo_dict.pop("scenarios")
    errs = _errors(demo_dict)
    assert any("scenarois" in e and "did you mean 'scenarios'" in e for e in errs)
    assert any(e.startswith("scenarios:") and "add this key" in e for e in errs)


def test_wrong_type_names_path_and_fix(demo_dict: dict) -> None:
    demo_dict["mobility"]["sampler"]["draws"] = "many"
    errs = _errors(demo_dict)
    assert errs == ["mobility -> sampler -> draws: Input should be a valid integer, unable to parse string "
                    "as an integer (got 'many'); write a whole number"]


def test_unknown_scenario(demo_dict: dict) -> None:
    demo_dict["scenarios"] = ["ssp126", "ssp458"]
    errs = _errors(demo_dict)
    assert len(errs) == 1 and errs[0].startswith("scenarios -> 1: unknown scenario 'ssp458'")
    assert "use one of" in errs[0]


def test_unknown_climate_model(demo_dict: dict) -> None:
    demo_dict["climate_models"] = ["GFDL-ESM5"]
    errs = _errors(demo_dict)
    assert "did you mean 'GFDL-ESM4'" in errs[0]


def test_threshold_with_wrong_units(demo_dict: dict) -> None:
    demo_dict["hazards"][0]["threshold"] = "35 degC"
    errs = _errors(demo_dict)
    assert errs[0].startswith("hazards -> 0 -> threshold:")
    assert "[time]" in errs[0] and "'20 yr'" in errs[0]


def test_threshold_not_a_quantity(demo_dict: dict) -> None:
    demo_dict["hazards"][1]["threshold"] = "hot"
    errs = _errors(demo_dict)
    assert errs[0].startswith("hazards -> 1 -> threshold:")


def test_reversed_year_range(demo_dict: dict) -> None:
    demo_dict["period"]["projection"] = {"start": 2100, "end": 2025}
    errs = _errors(demo_dict)
    assert any(e.startswith("period -> projection:") and "swap them" in e for e in errs)


def test_overlapping_horizons_and_intervention_outside_period(demo_dict: dict) -> None:
    demo_dict["horizons"][1]["start"] = 2035
    demo_dict["interventions"][0]["start_year"] = 2200
    errs = _errors(demo_dict)
    assert any(e.startswith("horizons -> 1 -> start:") for e in errs), errs
    assert any(e.startswith("interventions -> 0 -> start_year:") for e in errs), errs


def test_unknown_literal_gets_hint(demo_dict: dict) -> None:
    demo_dict["mobility"]["sampler"]["backend"] = "nutpi"
    errs = _errors(demo_dict)
    assert "did you mean 'nutpie'" in errs[0] and errs[0].startswith("mobility -> sampler -> backend")


def test_prior_params_checked(demo_dict: dict) -> None:
    demo_dict["interventions"][0]["effect"] = {"dist": "Beta", "params": {"mu": 1, "sigma": 2}}
    errs = _errors(demo_dict)
    assert errs[0].startswith("interventions -> 0 -> effect:") and "missing ['alpha', 'beta']" in errs[0]


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(["a", "b"])
    assert "YAML mapping" in info.value.errors[0]


def test_yaml_syntax_error(tmp_path: Path) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text("run_id: x\nseed: [1, 2\n")
    with pytest.raises(ConfigError) as info:
        load_config(p)
    assert "line" in info.value.errors[0]


def test_missing_catalog_id(demo_dict: dict, write_config) -> None:
    demo_dict["hazards"][0]["input"] = "isimip_flood_depth_2001"
    with pytest.raises(ConfigError) as info:
        load_config(write_config(demo_dict))
    assert info.value.errors[0].startswith("hazards -> 0 -> input: 'isimip_flood_depth_2001' is not in the catalog")
    assert "did you mean 'isimip_flood_depth_2000'" in info.value.errors[0]


def test_config_is_frozen(demo_dict: dict) -> None:
    cfg = parse_config(demo_dict)
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError on frozen assignment
        cfg.seed = 3  # type: ignore[misc]


def test_science_hash_ignores_site_settings(demo_dict: dict) -> None:
    a = parse_config(demo_dict)
    other = copy.deepcopy(demo_dict)
    other["compute"] = {"backend": "local", "n_workers": 8}
    other["outputs"] = {"run_dir": "/elsewhere"}
    b = parse_config(other)
    assert science_hash(a) == science_hash(b)
    other["seed"] = 7
    assert science_hash(parse_config(other)) != science_hash(a)


def test_migration_sampler_defaults_to_the_shared_sampler_and_can_be_overridden() -> None:
    from climmig.config.schema import MobilitySpec

    shared = MobilitySpec.model_validate({"sampler": {"draws": 700}})
    assert shared.migration_sampler.draws == 700
    own = MobilitySpec.model_validate({"sampler": {"draws": 700}, "migration": {"sampler": {"draws": 300}}})
    assert own.migration_sampler.draws == 300
    assert own.sampler.draws == 700  # the displacement fit keeps the shared settings


def test_historical_intensity_hazard_without_index_is_rejected(demo_dict: dict) -> None:
    demo_dict["mobility"]["displacement"]["historical_intensity"] = {"flood": "dfo_flood_archive",
                                                                     "storm": "dfo_flood_archive"}
    errs = _errors(demo_dict)
    assert len(errs) == 1
    assert errs[0].startswith("mobility -> displacement -> historical_intensity")
    assert "no historical intensity index exists for 'storm'" in errs[0]
    assert "Remove the 'storm' key" in errs[0]


def test_historical_intensity_hazard_must_be_modelled(demo_dict: dict) -> None:
    demo_dict["mobility"]["displacement"]["hazards"] = ["flood", "storm"]
    demo_dict["mobility"]["displacement"]["historical_intensity"] = {"flood": "dfo_flood_archive",
                                                                     "drought": "chirps_short_rains"}
    errs = _errors(demo_dict)
    assert len(errs) == 1
    assert "historical_intensity lists ['drought']" in errs[0]
    assert "add it to hazards or remove the key" in errs[0]


def test_historical_intensity_catalog_ids_checked(demo_dict: dict, write_config) -> None:
    demo_dict["mobility"]["displacement"]["historical_intensity"] = {"flood": "dfo_flood_archiv"}
    with pytest.raises(ConfigError) as info:
        load_config(write_config(demo_dict))
    assert info.value.errors[0].startswith(
        "mobility -> displacement -> historical_intensity -> flood: 'dfo_flood_archiv' is not in the catalog")
    assert "did you mean 'dfo_flood_archive'" in info.value.errors[0]


def test_historical_intensity_default_is_off_and_demo_sets_it(demo_dict: dict) -> None:
    cfg = parse_config(demo_dict)
    assert cfg.mobility.displacement.historical_intensity == {"flood": "dfo_flood_archive",
                                                              "drought": "chirps_short_rains"}
    del demo_dict["mobility"]["displacement"]["historical_intensity"]
    assert parse_config(demo_dict).mobility.displacement.historical_intensity == {}


def test_warming_levels_source_names_its_indicators(demo_dict: dict) -> None:
    demo_dict["hazards"][2]["indicator"] = "drought_months"
    demo_dict["hazards"][2]["threshold"] = "-1.0"
    errs = _errors(demo_dict)
    assert errs[0].startswith("hazards -> 2")
    assert "rainfall_deficit" in errs[0] and "source: emulator" in errs[0]
    demo_dict["hazards"][2]["source"] = "emulator"
    parse_config(demo_dict)  # the fallback emulator has a drought_months recipe
