"""Fixtures for the HPC tests: a small config (2 scenarios x 2 climate models, 5-degree grid)."""

from __future__ import annotations

from pathlib import Path

import pytest

from climmig.config import load_config
from climmig.hpc.site import parse_site


@pytest.fixture
def small_dict(demo_dict: dict) -> dict:
    d = dict(demo_dict)
    d["scenarios"] = ["ssp126", "ssp585"]
    d["climate_models"] = ["GFDL-ESM4", "MRI-ESM2-0"]
    d["grid"] = {"resolution": 5.0}
    d["period"] = {"historical": {"start": 2008, "end": 2022}, "projection": {"start": 2025, "end": 2040},
                   "baseline_year": 2020}
    d["horizons"] = [{"name": "near", "start": 2025, "end": 2040}]
    return d


@pytest.fixture
def small_config(small_dict: dict, write_config) -> Path:
    return write_config(small_dict, "small.yaml")


@pytest.fixture
def small_cfg(small_config: Path):
    return load_config(small_config)


@pytest.fixture
def site():
    return parse_site({
        "name": "testsite", "partition": "compute", "account": "proj123", "cores": 4, "memory": "16GB",
        "walltime": "04:00:00", "python": "/opt/venv/bin/python", "max_parallel": 3,
        "prologue": ["module load python/3.11", "source /opt/venv/bin/activate", "export OMP_NUM_THREADS=1"],
        "extra_sbatch": ["--constraint=cpu"],
    })
