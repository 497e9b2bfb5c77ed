"""Property-based fuzzing of the config loader and CLI: a valid config or a ConfigError, never a crash."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from climmig.config import parse_config
from climmig.errors import ConfigError

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies
given, settings, HealthCheck = hypothesis.given, hypothesis.settings, hypothesis.HealthCheck

REPO = Path(__file__).resolve().parents[2]
DEMO = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text())

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["ssp999", "GFDL", "35 degC", "0.5 m", "-1", "1e400", "2100", "", "nan"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=8)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


PATHS = _paths(DEMO)


def _mutate(data: dict, path: tuple, action: str, value: Any) -> dict:
    data = copy.deepcopy(data)
    parent = data
    for p in path[:-1]:
        parent = parent[p]
    key = path[-1]
    if action == "delete":
        del parent[key]
    else:
        parent[key] = value
    return data


def _check(data: Any) -> None:
    try:
        parse_config(data)
    except ConfigError as exc:
        assert exc.errors, "a ConfigError must carry at least one message"
        for line in exc.errors:
            path, sep, msg = line.partition(": ")
            assert sep and path and msg, f"message without a path: {line!r}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), action=st.sampled_from(["delete", "set"]), value=values)
def test_mutated_demo_config_never_crashes(path: tuple, action: str, value: Any) -> None:
    _check(_mutate(DEMO, path, action, value))


@settings(max_examples=60, deadline=None)
@given(data=values)
def test_random_yaml_never_crashes(data: Any) -> None:
    _check(data)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=-(10**15), max_value=10**15), field=st.sampled_from(
    [("seed",), ("grid", "resolution"), ("mobility", "sampler", "draws"), ("projection", "samples"),
     ("period", "projection", "end"), ("interventions", 0, "start_year"), ("interventions", 0, "coverage"),
     ("comparison", "discount_rate")]))
def test_huge_and_negative_numbers(n: int, field: tuple) -> None:
    _check(_mutate(DEMO, field, "set", n))


@pytest.mark.slow
def test_cli_on_fuzzed_files(tmp_path: Path) -> None:
    """The CLI turns every bad config into exit code 2 and messages, never a traceback."""
    cases = [
        "",
        "just text",
        "- a\n- b\n",
        "run_id: [unclosed\n",
        yaml.safe_dump(_mutate(DEMO, ("scenarios",), "set", ["ssp126", 5])),
        yaml.safe_dump(_mutate(DEMO, ("horizons",), "set", [{"name": "a", "start": 2050, "end": 2040}])),
        yaml.safe_dump(_mutate(DEMO, ("hazards", 0, "threshold"), "set", {"value": 1})),
        yaml.safe_dump(_mutate(DEMO, ("study_area",), "delete", None)),
        "\x00\x01binary",
    ]
    for i, text in enumerate(cases):
        p = tmp_path / f"c{i}.yaml"
        p.write_text(text)
        r = subprocess.run([sys.executable, "-m", "climmig", "validate", str(p)], capture_output=True,
                           text=True, cwd=REPO, timeout=120)
        assert r.returncode == 2, (text, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and "error:" in r.stderr, r.stderr
