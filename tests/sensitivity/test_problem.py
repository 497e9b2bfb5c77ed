"""The problem spec: validation with readable errors, SALib translation, hashing, YAML loading."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from climmig.errors import ClimmigError
from climmig.sensitivity import SensitivityError, load_problem, parse_problem, problem_hash, to_salib
from climmig.sensitivity.problem import support


def _problem(**over) -> dict:
    base = {
        "method": "sobol",
        "n": 64,
        "seed": 3,
        "parameters": [
            {"path": "hazards.flood.threshold", "bounds": [0.2, 1.0], "units": "m"},
            {"path": "comparison.discount_rate", "dist": {"dist": "Triangular",
                                                          "params": {"lower": 0, "c": 0.03, "upper": 0.07}}},
        ],
        "outputs": ["displaced_persons"],
    }
    base.update(over)
    return base


def _error(data: dict) -> str:
    with pytest.raises(SensitivityError) as info:
        parse_problem(data)
    assert isinstance(info.value, ClimmigError)
    return str(info.value)


def test_valid_problem_is_frozen_and_ordered() -> None:
    p = parse_problem(_problem())
    assert p.paths == ["hazards.flood.threshold", "comparison.discount_rate"]
    assert p.parameters[0].name == "flood.threshold"
    with pytest.raises(ValidationError, match="frozen"):
        p.n = 4  # type: ignore[misc]


def test_bounds_xor_dist() -> None:
    data = _problem()
    data["parameters"][0]["dist"] = {"dist": "Uniform", "params": {"lower": 0, "upper": 1}}
    assert "give exactly one of `bounds" in _error(data)
    data = _problem()
    del data["parameters"][0]["bounds"]
    assert "give exactly one of `bounds" in _error(data)


def test_sobol_needs_power_of_two_with_suggestion() -> None:
    msg = _error(_problem(n=100))
    assert "n = 100" in msg and "use 64 or 128" in msg


def test_morris_rejects_unbounded_distribution() -> None:
    data = _problem(method="morris", n=10)
    data["parameters"][1]["dist"] = {"dist": "Normal", "params": {"mu": 0.03, "sigma": 0.01}}
    msg = _error(data)
    assert "comparison.discount_rate" in msg and "unbounded" in msg and "TruncatedNormal" in msg


def test_unknown_key_gets_did_you_mean() -> None:
    data = _problem()
    data["parameters"][0]["bonds"] = data["parameters"][0].pop("bounds")
    msg = _error(data)
    assert "parameters -> 0 -> bonds: unknown key 'bonds'; did you mean 'bounds'?" in msg
    assert "did you mean 'outputs'" in _error({**_problem(), "output": ["x"]})


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({"bounds": [1.0, 0.2]}, "lower must be less than upper"),
        ({"bounds": [0.0, math.inf]}, "finite"),
        ({"path": "hazards..threshold"}, "not a dotted path"),
    ],
)
def test_bad_parameter(change: dict, expect: str) -> None:
    data = _problem()
    data["parameters"][0].update(change)
    assert expect in _error(data)


def test_bad_distributions() -> None:
    data = _problem()
    data["parameters"][1]["dist"] = {"dist": "Triangular", "params": {"lower": 0, "upper": 1}}
    assert "missing ['c']" in _error(data)
    data["parameters"][1]["dist"] = {"dist": "LogUniform", "params": {"lower": 0, "upper": 1}}
    assert "LogUniform needs lower > 0" in _error(data)
    data["parameters"][1]["dist"] = {"dist": "Normal", "params": {"mu": 0, "sigma": -1}}
    assert "sigma must be > 0" in _error(data)


def test_duplicates_rejected() -> None:
    data = _problem(outputs=["a", "a"])
    data["parameters"].append(dict(data["parameters"][0]))
    msg = _error(data)
    assert "parameter 'hazards.flood.threshold' is listed twice" in msg
    assert "output 'a' is listed twice" in msg


def test_to_salib_translation() -> None:
    data = _problem()
    data["parameters"] += [
        {"path": "a", "dist": {"dist": "TruncatedNormal", "params": {"mu": 1, "sigma": 2, "lower": 0, "upper": 3}}},
        {"path": "b", "dist": {"dist": "LogNormal", "params": {"mu": 0, "sigma": 0.5}}},
        {"path": "c", "dist": {"dist": "LogUniform", "params": {"lower": 1, "upper": 100}}},
    ]
    sp = to_salib(parse_problem(data))
    assert sp["num_vars"] == 5
    assert sp["dists"] == ["unif", "triang", "truncnorm", "lognorm", "logunif"]
    assert sp["bounds"][0] == [0.2, 1.0]
    assert sp["bounds"][1] == pytest.approx([0, 0.07, 0.03 / 0.07])
    assert sp["bounds"][2] == [0, 3, 1, 2]


def test_support() -> None:
    p = parse_problem(_problem(parameters=[
        {"path": "a", "bounds": [1, 2]},
        {"path": "b", "dist": {"dist": "Normal", "params": {"mu": 0, "sigma": 1}}},
        {"path": "c", "dist": {"dist": "LogNormal", "params": {"mu": 0, "sigma": 1}}},
    ]))
    assert support(p.parameters[0]) == (1, 2)
    lo, hi = support(p.parameters[1])
    assert lo == pytest.approx(-3.719, abs=1e-3) and hi == pytest.approx(3.719, abs=1e-3)
    lo, hi = support(p.parameters[2])
    assert lo == pytest.approx(math.exp(-3.719), rel=1e-3)


def test_problem_hash_changes_with_content() -> None:
    a, b = parse_problem(_problem()), parse_problem(_problem(seed=4))
    assert problem_hash(a) == problem_hash(parse_problem(_problem()))
    assert problem_hash(a) != problem_hash(b) and len(problem_hash(a)) == 64


def test_load_problem_errors(tmp_path: Path) -> None:
    with pytest.raises(SensitivityError, match="not found"):
        load_problem(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: sobol\n  n: [1,\n")
    with pytest.raises(SensitivityError, match="cannot read"):
        load_problem(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(SensitivityError, match="expected a mapping"):
        load_problem(lst)
