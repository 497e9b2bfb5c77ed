"""Interrupted runs, reproducibility and exact reruns, on subprocess runs of the fast config.

The reference run ``A`` and the two partial runs come from the session fixture ``fast_runs``; the kill test
adds one more full run (a ``climmig rerun`` of ``A`` killed once in every stage and resumed).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from climmig.io.digest import content_digest, run_digests
from climmig.pipeline.runner import record_path, stage_is_current
from climmig.pipeline.stages import build_stages

from .conftest import FastRuns, climmig, finish

STAGES = build_stages()
PNG_END = b"IEND\xaeB`\x82"


def _manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def assert_nothing_half_written(run_dir: Path) -> None:
    """Every file under a final (not dot-prefixed) name is complete, and every stage record verifies."""
    for p in sorted(run_dir.rglob("*")):
        rel = p.relative_to(run_dir)
        if any(part.startswith(".") for part in rel.parts) or p.is_dir() or ".zarr" in str(rel):
            continue
        if p.suffix == ".nc":
            netCDF4.Dataset(p).close()
        elif p.suffix == ".json":
            json.loads(p.read_text())
        elif p.suffix == ".csv":
            pd.read_csv(p)
        elif p.suffix == ".png":
            assert p.read_bytes().endswith(PNG_END), f"truncated PNG {rel}"
        elif p.suffix == ".html":
            assert p.read_text().rstrip().endswith("</html>"), f"truncated report {rel}"
        elif p.suffix == ".yaml":
            assert yaml.safe_load(p.read_text())
    for z in run_dir.rglob("*.zarr"):
        if not any(part.startswith(".") for part in z.relative_to(run_dir).parts):
            xr.open_zarr(z).close()
    for stage in STAGES:
        rec = record_path(run_dir, stage.name)
        if rec.exists():
            cfg_hash = json.loads(rec.read_text())["config_sha256"]
            assert stage_is_current(run_dir, stage, cfg_hash), f"record of {stage.name} does not verify"


@pytest.mark.slow
def test_reference_run_is_complete_and_its_manifest_has_content_digests(fast_runs: FastRuns) -> None:
    m = _manifest(fast_runs.a)
    assert [s["status"] for s in m["stages"]] == ["ran"] * len(STAGES)
    assert set(m["output_digests"]) == set(m["outputs"]) and len(m["outputs"]) >= 15
    assert m["output_digests"] == run_digests(fast_runs.a, m["outputs"])
    assert_nothing_half_written(fast_runs.a)


@pytest.mark.slow
def test_localcluster_exposure_is_identical_to_threads(fast_runs: FastRuns) -> None:
    """Only the exposure stage computes with dask; on a LocalCluster it gives the same content."""
    for rel in ("exposure/exposure.nc", "exposure/exposure.zarr"):
        assert content_digest(fast_runs.local / rel) == content_digest(fast_runs.a / rel), rel


@pytest.mark.slow
def test_another_seed_changes_the_resampled_hazards(fast_runs: FastRuns) -> None:
    ea = xr.load_dataset(fast_runs.a / "exposure" / "exposure.nc")
    es = xr.load_dataset(fast_runs.seed / "exposure" / "exposure.nc")
    assert ea.attrs["climmig_seed"] != es.attrs["climmig_seed"]
    assert not np.array_equal(ea["hazard_intensity"].values, es["hazard_intensity"].values)
    np.testing.assert_array_equal(ea["population"].values, es["population"].values)  # seed-free inputs


@pytest.mark.slow
def test_sampler_draws_follow_the_seed() -> None:
    """Another seed gives other MCMC draws (nutpie, 2 chains on 2 threads). The same seed giving the same
    draws is checked on the real models by the kill test (identical fits)."""
    import pymc as pm

    from climmig.config.schema import SamplerSpec
    from climmig.mobility.fit import fit

    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("y", mu, 1.0, observed=np.array([0.3, -0.2, 1.1]))
    spec = SamplerSpec(backend="nutpie", draws=20, tune=20, chains=2)
    a, c = (fit(model, spec, random_seed=s, model_name="t").posterior["mu"].values for s in (1, 2))
    assert a.shape == c.shape == (2, 20) and not np.array_equal(a, c)


class _Watcher:
    """Reads a run's merged output line by line and notes when each stage starts."""

    def __init__(self, proc) -> None:
        self.proc, self.lines, self.started = proc, [], {}
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith("> "):
                self.started[line[2:].split(":")[0].strip()] = time.monotonic()

    def close(self) -> None:
        """After the process ended: finish reading and close the pipe."""
        self._t.join(30)
        self.proc.stdout.close()

    def wait_for(self, stage: str, timeout: float = 900) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if stage in self.started:
                return True
            if self.proc.poll() is not None:
                self._t.join(5)
                return stage in self.started
            time.sleep(0.05)
        raise TimeoutError(f"stage {stage} did not start; output:\n{''.join(self.lines)[-3000:]}")


@pytest.mark.slow
def test_run_killed_in_every_stage_resumes_to_identical_outputs(fast_runs: FastRuns, tmp_path: Path) -> None:
    """SIGKILL once inside each stage (at a random fraction of the stage's reference duration), resume with
    ``climmig run``, finish with ``climmig rerun``: outputs identical to the uninterrupted run, and nothing
    half-written under a final name after any kill."""
    ref = fast_runs.a
    seconds = {s.name: json.loads(record_path(ref, s.name).read_text())["seconds"] for s in STAGES}
    rng = np.random.default_rng(20261201)
    k = tmp_path / "K"
    kills = []
    for stage in STAGES:
        if record_path(k, stage.name).exists():
            continue  # finished before an earlier kill landed
        args = (["rerun", ref, "--output", k] if not (k / "config.yaml").exists()
                else ["run", k / "config.yaml", "--output", k])
        proc = climmig(*args, "--progress")
        w = _Watcher(proc)
        assert w.wait_for(stage.name), f"{stage.name} never started:\n{''.join(w.lines)[-3000:]}"
        delay = float(rng.uniform(0.0, 1.0)) * seconds[stage.name]
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(60)
        w.close()
        inside = not record_path(k, stage.name).exists()
        kills.append((stage.name, round(delay, 2), inside))
        assert_nothing_half_written(k)
    log = tmp_path / "final.log"
    moved = tmp_path / "elsewhere" / "catalog.yaml"  # the third party's copy of the catalog, at another path
    moved.parent.mkdir()
    shutil.copy(fast_runs.config.parent / "catalog.yaml", moved)
    finish(climmig("rerun", ref, "--output", k, "--no-progress", "--catalog", moved, log=log), log)
    assert "outputs match the manifest" in log.read_text()
    assert _manifest(k)["output_digests"] == _manifest(ref)["output_digests"]
    assert _manifest(k)["catalog_file"] == str(moved.resolve())
    assert_nothing_half_written(k)
    # most kills must land inside the stage they aimed at (short stages may finish first)
    (tmp_path / "kills.json").write_text(json.dumps(kills))
    assert sum(inside for *_, inside in kills) >= 4, kills


@pytest.mark.slow
def test_rerun_reports_an_output_that_differs(fast_runs: FastRuns, tmp_path: Path) -> None:
    """A manifest whose digest of one output does not match what the rerun produces: exit 2, file named."""
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(fast_runs.a, src)
    shutil.copytree(fast_runs.a, out)  # complete outputs: every stage is current, the rerun only re-hashes
    m = _manifest(src)
    m["output_digests"]["projection/summary.nc"] = "0" * 64
    (src / "manifest.json").write_text(json.dumps(m))
    log = tmp_path / "rerun.log"
    proc = climmig("rerun", src, "--output", out, "--no-progress", log=log)
    assert proc.wait(600) == 2
    text = log.read_text()
    assert "differs from the manifest" in text and "for 1 of" in text and "projection/summary.nc" in text
    assert "the climmig source is the same as the run's" in text and "Traceback" not in text
    m["climmig_source_sha256"] = "f" * 64  # made by other code: the message says so
    (src / "manifest.json").write_text(json.dumps(m))
    proc = climmig("rerun", src, "--output", out, "--no-progress", log=log)
    assert proc.wait(600) == 2 and "the climmig source differs from the one that made the run" in log.read_text()


def test_catalog_moved_elsewhere_keeps_the_run_identity(tmp_path: Path) -> None:
    """``--catalog`` (a third party's copy) changes where data are read, not the config hash."""
    from climmig.pipeline.run import run_pipeline

    from .fastrun import fast_config

    cfg = fast_config(tmp_path / "cfg", tmp_path / "run")
    moved = tmp_path / "copy" / "catalog.yaml"
    moved.parent.mkdir()
    shutil.copy(cfg.parent / "catalog.yaml", moved)
    run_pipeline(cfg, output=tmp_path / "a", only=["inputs"], progress=False)
    run_pipeline(cfg, output=tmp_path / "b", only=["inputs"], progress=False, catalog=moved)
    a, b = _manifest(tmp_path / "a"), _manifest(tmp_path / "b")
    assert a["config_sha256"] == b["config_sha256"] and a["inputs"] == b["inputs"]
    assert b["catalog_file"] == str(moved.resolve()) != a["catalog_file"]
    assert yaml.safe_load((tmp_path / "b" / "config.yaml").read_text())["catalog"] == str(moved.resolve())
