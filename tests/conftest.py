"""Shared fixtures: seeded RNG, repository paths, a temporary copy of the demo config."""

from __future__ import annotations

from pathlib import Path

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
