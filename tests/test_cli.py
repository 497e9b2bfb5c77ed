"""The CLI: exit code 2 and no traceback for bad input; readable output for good input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "climmig", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_validate_demo() -> None:
    r = run("validate", "configs/demo.yaml")
    assert r.returncode == 0, r.stderr
    assert "demo-horn-of-africa" in r.stdout


def test_validate_bad_config_exit_2_no_traceback(tmp_path: Path, demo_dict: dict) -> None:
    demo_dict["scenarios"] = ["ssp999"]
    demo_dict["grid"]["resolutoin"] = 1
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(demo_dict))
    r = run("validate", str(p))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr + r.stdout
    assert "scenarios -> 0: unknown scenario 'ssp999'" in r.stderr
    assert "grid -> resolutoin: unknown key 'resolutoin'; did you mean 'resolution'?" in r.stderr


def test_validate_missing_file() -> None:
    r = run("validate", "configs/nope.yaml")
    assert r.returncode == 2 and "file not found" in r.stderr and "Traceback" not in r.stderr


def test_schema_is_json() -> None:
    r = run("schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    assert "run_id" in schema["properties"]


def test_catalog_list_and_show() -> None:
    r = run("catalog", "list")
    assert r.returncode == 0 and "worldpop_somalia_2020" in r.stdout
    r = run("catalog", "show", "ghcn_cams_tas_2018")
    assert r.returncode == 0 and "air" in r.stdout
    r = run("catalog", "show", "ghcn_cams_tas_2019")
    assert r.returncode == 2 and "did you mean 'ghcn_cams_tas_2018'" in r.stderr


def test_import_has_no_side_effects(tmp_path: Path) -> None:
    code = ("import logging, os, sys; before=set(os.listdir('.')); import climmig, climmig.config, "
            "climmig.catalog, climmig.io, climmig.cli; "
            "assert set(os.listdir('.'))==before; assert not logging.getLogger().handlers; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert r.stdout.strip() == "ok", r.stderr


def test_compare_rejects_unknown_scenario_and_horizon(tmp_path: Path) -> None:
    # checked before anything runs: no run directory is created
    r = run("compare", "configs/demo.yaml", "--scenario", "ssp999", "--output", str(tmp_path / "run"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "'ssp999' is not one of the config's scenarios" in r.stderr and "--scenario" in r.stderr
    r = run("compare", "configs/demo.yaml", "--horizon", "never", "--output", str(tmp_path / "run"))
    assert r.returncode == 2 and "'never' is not one of the config's horizons" in r.stderr
    assert not (tmp_path / "run").exists()
