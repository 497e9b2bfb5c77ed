"""Shared fixtures: seeded RNG, repository paths, a temporary copy of the demo config."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "data_catalog" / "catalog.yaml"
DEMO = REPO / "configs" / "demo.yaml"


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator; tests never touch global random state."""
    return np.random.default_rng(20261122)


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def demo_dict() -> dict:
    """The demo config as a dict, with the catalog path made absolute."""
    data = yaml.safe_load(DEMO.read_text())
    data["catalog"] = str(CATALOG)
    return data


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a config dict to a YAML file under tmp_path and return its path."""

    def _write(data: dict, name: str = "cfg.yaml") -> Path:
        p = tmp_path / name
        p.write_text(yaml.safe_dump(data, sort_keys=False))
        return p

    return _write


# --- a reduced demo run shared by the sensitivity and notebook tests (issue 9) ------------------------------------
def reduced_demo_config(data: dict, run_dir: Path) -> dict:
    """The demo config made cheap for tests: 2 scenarios x 2 climate models, short chains, few samples."""
    data = {**data, "catalog": str(CATALOG), "scenarios": ["ssp126", "ssp585"],
            "climate_models": ["GFDL-ESM4", "UKESM1-0-LL"], "outputs": {"run_dir": str(run_dir)}}
    data["mobility"] = {**data["mobility"], "sampler": {"backend": "nutpie", "draws": 100, "tune": 100, "chains": 2},
                        "gate": {**data["mobility"]["gate"], "allow_unconverged": True}}
    data["projection"] = {**data["projection"], "samples": 40}
    return data


def _run_small_demo(root: Path) -> Path:
    from climmig.pipeline.run import run_pipeline
    from tests.config.trace import ReadTrace

    cfg = reduced_demo_config(yaml.safe_load(DEMO.read_text()), root / "run")
    # every stage in this process, so that the trace sees which config fields each stage reads
    cfg["compute"] = {**cfg.get("compute", {}), "background_stages": False}
    path = root / "small_demo.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    trace = ReadTrace()
    with trace.installed():
        run_pipeline(path, progress=False)
    trace.save(root / "config_reads.json")
    return path


def once_per_session(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], Any]) -> Path:
    """A directory filled by ``make(directory)`` once per test session, also across pytest-xdist workers.

    Without xdist it is a new temporary directory. Under xdist the workers share it (for runs that their users
    only read, or rerun with every stage current): the first worker to take the lock fills it, the others wait
    and reuse it.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        root = tmp_path_factory.mktemp(name)
        make(root)
        return root
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp().parent / name
    with FileLock(f"{root}.lock"):
        done = root / "complete"
        if not done.exists():
            root.mkdir(exist_ok=True)
            make(root)
            done.write_text("")
    return root


@pytest.fixture(scope="session")
def small_demo_reads(small_demo_run: Path) -> dict[str, list[str]]:
    """Config fields the reduced demo run read (path without list indices -> stages that read it)."""
    import json

    from tests.config.trace import schema_path

    out: dict[str, set[str]] = {}
    for path, stages in json.loads((small_demo_run.parent / "config_reads.json").read_text()).items():
        out.setdefault(schema_path(path), set()).update(stages)
    return {k: sorted(v) for k, v in out.items()}


@pytest.fixture(scope="session")
def small_demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Config file of a reduced demo that has been run once per test session (its run dir is ``run/`` beside it)."""
    return once_per_session(tmp_path_factory, "small_demo", _run_small_demo) / "small_demo.yaml"


def pytest_configure(config: pytest.Config) -> None:
    # Fits shared between runs (climmig.mobility.fit_cache) would let one test's fit serve another's (and
    # a developer's ~/.cache serve a test): every test fits for itself, also in the runs it starts as
    # subprocesses, unless it points the cache at its own directory.
    os.environ["CLIMMIG_FIT_CACHE"] = "off"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--walk", action="store_true", default=False,
                     help="also run the schema's effect walk (tests/config/test_schema_effects.py; ~6 min on 2 cores)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--walk"):
        return
    skip = pytest.mark.skip(reason="the schema's effect walk runs with --walk (a stage rerun per config field)")
    for item in items:
        if "walk" in item.keywords:
            item.add_marker(skip)
