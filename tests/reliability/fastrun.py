"""A small, fast variant of ``configs/demo.yaml`` (and its catalog) for subprocess runs of ``climmig run``.

Same stages and inputs as the demo, fewer of everything: 2 scenarios x 2 climate models, 1-degree grid,
projections 2025-2044, 2 chains x 20 draws for both fits (flagged unconverged), 10 projection samples, and displacement
observations cut to 12 countries (a copy of the IDMC events table with its own sha256 in a copy of the
catalog whose other paths point at the bundled files). Used by the reliability tests and runnable by hand:
``python -m tests.reliability.fastrun OUT_DIR``.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[2]
IDMC_ID = "idmc_gidd_weather_events"
#: The demo countries and a few others with many recorded events (pooling needs several countries).
COUNTRIES = ["SOM", "ETH", "KEN", "DJI", "UGA", "SSD", "NGA", "BGD", "PAK", "MMR", "NPL", "PHL"]


def write_catalog(out: Path) -> Path:
    """A copy of the bundled catalog in ``out`` with absolute paths and a 12-country IDMC events table."""
    src = REPO / "data_catalog" / "catalog.yaml"
    data = yaml.safe_load(src.read_text())
    for e in data["entries"]:
        paths = e["path"] if isinstance(e["path"], list) else [e["path"]]
        paths = [str((src.parent / p).resolve()) for p in paths]
        e["path"] = paths if isinstance(e["path"], list) else paths[0]
        if e.get("provenance"):
            e["provenance"] = str((src.parent / e["provenance"]).resolve())
        if e["id"] == IDMC_ID:
            table = pd.read_csv(e["path"], low_memory=False)
            small = out / "idmc_events_small.csv"
            table[table["ISO3"].isin(COUNTRIES)].to_csv(small, index=False)
            e["path"] = str(small)
            e["sha256"] = {small.name: hashlib.sha256(small.read_bytes()).hexdigest()}
    target = out / "catalog.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def fast_config(out: Path, run_dir: Path, **overrides: Any) -> Path:
    """Write ``out/fast.yaml`` (and its catalog) running into ``run_dir``; ``overrides`` set top-level keys."""
    out.mkdir(parents=True, exist_ok=True)
    cfg = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text())
    cfg["catalog"] = str(write_catalog(out))
    cfg["scenarios"] = ["ssp126", "ssp585"]
    cfg["climate_models"] = ["GFDL-ESM4", "UKESM1-0-LL"]
    cfg["grid"]["resolution"] = 1.0
    cfg["period"]["projection"] = {"start": 2025, "end": 2044}
    cfg["horizons"] = [{"name": "near", "start": 2025, "end": 2034}, {"name": "mid", "start": 2035, "end": 2044}]
    cfg["mobility"]["sampler"] = {"backend": "nutpie", "draws": 20, "tune": 20, "chains": 2}
    cfg["mobility"]["gate"]["allow_unconverged"] = True
    cfg["projection"]["samples"] = 10
    # the single-period migration model on the 40-country table: the all-country fit (15-30 s) is exercised
    # once per session by tests/conftest.py::small_demo_run, not by every subprocess run here
    cfg["mobility"]["migration"].update({"flows": "abel_cohen_flows_40", "fit": "nuts", "internal_fit": "prior",
                                         "forced_displacement": "none",
                                         "sampler": {"backend": "nutpie", "draws": 20, "tune": 20, "chains": 2}})
    cfg["outputs"]["run_dir"] = str(run_dir)
    cfg.update(overrides)
    p = out / "fast.yaml"
    p.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return p


if __name__ == "__main__":
    print(fast_config(Path(sys.argv[1]), Path(sys.argv[1]) / "run"))
