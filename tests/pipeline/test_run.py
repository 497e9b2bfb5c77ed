"""`climmig run` / `climmig rerun` plumbing: manifest, resolved config, checkpoint reuse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from climmig.errors import ProvenanceMismatchError
from climmig.pipeline.run import run_pipeline

REPO = Path(__file__).resolve().parents[2]


def test_run_writes_manifest_and_reuses_checkpoints(tmp_path: Path) -> None:
    out = tmp_path / "run"
    s1 = run_pipeline(REPO / "configs" / "demo.yaml", output=out, only=["inputs"], progress=False)
    assert [r.status for r in s1.results] == ["ran"]
    m = json.loads((out / "manifest.json").read_text())
    assert m["config_sha256"] and m["seed"] == 20261122
    assert m["inputs"]["worldpop_somalia_2020"]["som_ppp_2020_1km_Aggregated_UNadj.tif"].startswith("0966b9ca")
    assert "inputs.json" in m["outputs"]
    s2 = run_pipeline(REPO / "configs" / "demo.yaml", output=out, only=["inputs"], progress=False)
    assert [r.status for r in s2.results] == ["skipped"]


def test_rerun_refuses_edited_config(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_pipeline(REPO / "configs" / "demo.yaml", output=out, only=["inputs"], progress=False)
    cfg = out / "config.yaml"
    cfg.write_text(cfg.read_text().replace("seed: 20261122", "seed: 1"))
    m = json.loads((out / "manifest.json").read_text())
    with pytest.raises(ProvenanceMismatchError, match="edited"):
        run_pipeline(cfg, output=tmp_path / "again", expect_hash=m["config_sha256"], progress=False)


@pytest.mark.slow
def test_unknown_stage_is_a_clean_cli_error(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "climmig", "run", "configs/demo.yaml", "--output",
                        str(tmp_path / "x"), "--stage", "exposur"], cwd=REPO, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2 and "unknown stage" in r.stderr and "Traceback" not in r.stderr
