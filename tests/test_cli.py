"""The CLI: exit code 2 and no traceback for bad input; readable output for good input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "climmig", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
def test_validate_demo() -> None:
    r = run("validate", "configs/demo.yaml")
    assert r.returncode == 0, r.stderr
    assert "demo-horn-of-africa" in r.stdout


@pytest.mark.slow
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


@pytest.mark.slow
def test_validate_missing_file() -> None:
    r = run("validate", "configs/nope.yaml")
    assert r.returncode == 2 and "file not found" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_schema_is_json() -> None:
    r = run("schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    assert "run_id" in schema["properties"]


@pytest.mark.slow
def test_catalog_list_and_show() -> None:
    r = run("catalog", "list")
    assert r.returncode == 0 and "worldpop_somalia_2020" in r.stdout
    r = run("catalog", "show", "ghcn_cams_tas_2018")
    assert r.returncode == 0 and "air" in r.stdout
    r = run("catalog", "show", "ghcn_cams_tas_2019")
    assert r.returncode == 2 and "did you mean 'ghcn_cams_tas_2018'" in r.stderr


@pytest.mark.slow
def test_import_has_no_side_effects(tmp_path: Path) -> None:
    code = ("import logging, os, sys; before=set(os.listdir('.')); import climmig, climmig.config, "
            "climmig.catalog, climmig.io, climmig.cli; "
            "assert set(os.listdir('.'))==before; assert not logging.getLogger().handlers; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert r.stdout.strip() == "ok", r.stderr


@pytest.mark.slow
def test_compare_rejects_unknown_scenario_and_horizon(tmp_path: Path) -> None:
    # checked before anything runs: no run directory is created
    r = run("compare", "configs/demo.yaml", "--scenario", "ssp999", "--output", str(tmp_path / "run"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "'ssp999' is not one of the config's scenarios" in r.stderr and "--scenario" in r.stderr
    r = run("compare", "configs/demo.yaml", "--horizon", "never", "--output", str(tmp_path / "run"))
    assert r.returncode == 2 and "'never' is not one of the config's horizons" in r.stderr
    assert not (tmp_path / "run").exists()


def test_library_noise_is_quiet_but_other_warnings_show() -> None:
    import warnings

    from climmig.cli import LIBRARY_NOISE, quiet_library_warnings

    samples = {
        "arviz": "\nArviZ is undergoing a major refactor to improve flexibility and extensibility",
        "pytensor.link.c.cmodule": "PyTensor could not link to a BLAS installation. Operations that might ...",
        "zarr.api.asynchronous": "Consolidated metadata is currently not part in the Zarr format 3 specification.",
    }
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        quiet_library_warnings()
        for (category, _msg, _mod), (module, text) in zip(LIBRARY_NOISE, samples.items(), strict=True):
            warnings.warn_explicit(text, category, f"{module}.py", 1, module=module)
        # the same texts from elsewhere, and other warnings from these libraries, still show
        warnings.warn_explicit(samples["pytensor.link.c.cmodule"], UserWarning, "climmig/x.py", 1,
                               module="climmig.projection")
        warnings.warn_explicit("fit has 3 divergences", UserWarning, "arviz.py", 1, module="arviz")
    assert [str(w.message) for w in seen] == [samples["pytensor.link.c.cmodule"], "fit has 3 divergences"]


@pytest.mark.slow
def test_cli_hides_the_arviz_import_notice(tmp_path: Path) -> None:
    import os

    # ArviZ prints its notice once a day, stamped in the user's cache directory: give each run a fresh one
    def python(*args: str, cache: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / cache)}
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120, env=env)

    shown = python("-W", "always", "-c", "import arviz", cache="a")
    if "ArviZ is undergoing" not in shown.stderr:
        pytest.skip("this ArviZ prints no notice on import")
    r = python("-c", "import sys, warnings; warnings.simplefilter('always'); "
               "from climmig.cli import quiet_library_warnings; quiet_library_warnings(); import arviz", cache="b")
    assert r.returncode == 0, r.stderr
    assert "ArviZ is undergoing" not in r.stderr


def test_repeated_log_notes_are_printed_once(capsys) -> None:
    import logging

    from climmig.cli import _OncePerMessage

    log = logging.getLogger("climmig.test_once")
    handler = logging.StreamHandler()
    handler.addFilter(_OncePerMessage())
    log.addHandler(handler)
    log.propagate = False
    try:
        for _ in range(3):
            log.warning("no WDI value for %s in 2015-2019; using its latest earlier value", "VEN")
        log.warning("no WDI value for %s in 2015-2019; using its latest earlier value", "SOM")
        log.error("no WDI value for %s in 2015-2019; using its latest earlier value", "SOM")
    finally:
        log.removeHandler(handler)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["no WDI value for VEN in 2015-2019; using its latest earlier value",
                     "no WDI value for SOM in 2015-2019; using its latest earlier value",
                     "no WDI value for SOM in 2015-2019; using its latest earlier value"]
