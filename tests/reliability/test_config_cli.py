"""``climmig validate`` / ``climmig run`` on fuzzed configs of four kinds the issue names: overlapping horizons,
interventions starting outside the period, unknown climate models, missing sections. Each must end in exit
code 2 with a message naming the YAML path and the fix, never a traceback (in-process CLI, so it is fast)."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from climmig import registry
from climmig.cli import main

from ..conftest import CATALOG

DEMO = yaml.safe_load((CATALOG.parents[1] / "configs" / "demo.yaml").read_text())
DEMO["catalog"] = str(CATALOG)
REQUIRED = ["run_id", "seed", "study_area", "grid", "period", "horizons", "scenarios", "climate_models", "hazards"]
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _cli(data: Any, capsys: pytest.CaptureFixture, command: str = "validate") -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "c.yaml"
        p.write_text(yaml.safe_dump(data, sort_keys=False))
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            main([command, str(p), *(["--output", str(Path(d) / "run")] if command == "run" else [])])
        err = capsys.readouterr().err
    assert "Traceback" not in err
    return int(exc.value.code), err


@pytest.mark.slow
@FUZZ
@given(a0=st.integers(2025, 2099), la=st.integers(0, 75), b_back=st.integers(0, 75), lb=st.integers(0, 75))
def test_overlapping_horizons(capsys, a0: int, la: int, b_back: int, lb: int) -> None:
    a1 = min(a0 + la, 2100)
    b0 = max(a1 - b_back, 2025)  # starts before (or when) the first one ends
    data = copy.deepcopy(DEMO)
    data["horizons"] = [{"name": "a", "start": a0, "end": a1}, {"name": "b", "start": b0, "end": min(b0 + lb, 2100)}]
    code, err = _cli(data, capsys)
    assert code == 2
    assert "horizons -> 1 -> start" in err and "order horizons in time without overlap" in err


@FUZZ
@given(i=st.integers(0, len(DEMO["interventions"]) - 1),
       year=st.one_of(st.integers(1900, 2024), st.integers(2101, 2300), st.integers(-10**6, 1899),
                      st.integers(2301, 10**6)))
@pytest.mark.slow
def test_intervention_starting_outside_the_period(capsys, i: int, year: int) -> None:
    data = copy.deepcopy(DEMO)
    data["interventions"][i]["start_year"] = year
    code, err = _cli(data, capsys)
    assert code == 2 and f"interventions -> {i} -> start_year" in err
    assert "choose a year inside it" in err or "use a larger value" in err or "use a smaller value" in err


@pytest.mark.slow
@FUZZ
@given(k=st.integers(0, 2), name=st.text(min_size=1, max_size=20).filter(lambda s: s not in registry.climate_models()))
def test_unknown_climate_model(capsys, k: int, name: str) -> None:
    data = copy.deepcopy(DEMO)
    data["climate_models"][k] = name
    code, err = _cli(data, capsys)
    assert code == 2 and f"climate_models -> {k}" in err and f"use one of {next(iter(registry.climate_models()))}" in err


@pytest.mark.parametrize("section", REQUIRED)
def test_missing_section(capsys, section: str) -> None:
    data = copy.deepcopy(DEMO)
    del data[section]
    code, err = _cli(data, capsys)
    assert code == 2 and f"{section}: Field required; add this key" in err


def test_run_refuses_a_bad_config_with_exit_code_2(capsys) -> None:
    data = copy.deepcopy(DEMO)
    data["climate_models"] = ["GFDL-ESM5"]
    code, err = _cli(data, capsys, command="run")
    assert code == 2 and "did you mean 'GFDL-ESM4'?" in err
