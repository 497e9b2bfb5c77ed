"""End-to-end tests on a real SLURM cluster (``bash hpc/slurm-local.sh start`` as root starts one).

Skipped, with the reason, when ``sinfo`` is missing or no node is idle. They submit the (reduced) demo as a
job array of exposure chunks plus an ``afterok`` merge job, kill one array task, resubmit, and check that
only the killed chunk was redone and that the merged outputs equal a single-machine ``climmig run`` of the
same config and seed; and they run a computation on dask-jobqueue ``SLURMCluster`` workers through
:func:`climmig.compute.get_client`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import xarray as xr

from climmig.config import load_config, science_hash
from climmig.hpc import chunk_path, chunk_table, missing_chunks
from climmig.hpc.site import load_site
from climmig.hpc.submit import submit_run

pytestmark = pytest.mark.slurm
REPO = Path(__file__).resolve().parents[2]
_USABLE = {"idle", "mixed"}


def _sinfo_states() -> tuple[list[str], str]:
    try:
        r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=15, check=False)
    except subprocess.TimeoutExpired:
        return [], "sinfo timed out"
    if r.returncode != 0:
        return [], f"sinfo failed: {r.stderr.strip()[:200]}"
    return [s.rstrip("*~#$@") for s in r.stdout.split()], ""


@pytest.fixture(scope="module")
def slurm():
    """Skip unless a SLURM cluster with an idle node answers; jobs import this checkout of climmig."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        pytest.skip("no SLURM here (sinfo/sbatch not found); start one with `sudo bash hpc/slurm-local.sh start`")
    states, problem = _sinfo_states()
    if problem:
        pytest.skip(f"no usable SLURM cluster ({problem}); start one with `sudo bash hpc/slurm-local.sh start`")
    if not _USABLE & set(states):
        pytest.skip(f"SLURM answers but no node is idle (sinfo node states: {states or 'none'})")
    old = os.environ.get("PYTHONPATH")
    # jobs inherit the submitting environment (--export=ALL): make them import the climmig under test
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), *([old] if old else [])])
    yield
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


def _wait(job_ids: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    ids = ",".join(j for j in job_ids if j)
    while time.monotonic() < deadline:
        r = subprocess.run(["squeue", "-h", "-j", ids, "-o", "%i %T"], capture_output=True, text=True, check=False)
        if r.returncode != 0 or not r.stdout.strip():  # unknown ids: long gone
            return
        time.sleep(0.5)
    subprocess.run(["scancel", *ids.split(",")], check=False)
    pytest.fail(f"jobs {ids} did not finish within {timeout} s")


def _squeue_state(job: str) -> str:
    r = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True, check=False)
    return r.stdout.strip()


def _job_state(job_id: str) -> str:
    r = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True, check=False)
    for word in r.stdout.split():
        if word.startswith("JobState="):
            return word.split("=", 1)[1]
    return "UNKNOWN"


_VOLATILE = ("history", "climmig_chunks")


def _assert_same_content(a: Path, b: Path) -> None:
    """Same values, dims, coords and attributes (except history and SLURM ids); CSVs byte for byte."""
    if a.suffix == ".csv":
        assert a.read_bytes() == b.read_bytes(), a.name
        return
    engine = "zarr" if a.suffix == ".zarr" else None
    with xr.open_dataset(a, engine=engine) as x, xr.open_dataset(b, engine=engine) as y:
        xr.testing.assert_equal(x, y)
        for v in x.variables:
            assert x[v].attrs == y[v].attrs, (a.name, v)
        keep = [k for k in {*x.attrs, *y.attrs} if k not in _VOLATILE and not k.startswith("climmig_slurm_")]
        assert {k: x.attrs.get(k) for k in keep} == {k: y.attrs.get(k) for k in keep}, a.name


def _outputs(run: Path, stage: str) -> list[str]:
    return list(json.loads((run / "stages" / f"{stage}.json").read_text())["outputs"])


@pytest.mark.slow
def test_demo_job_array_kill_resubmit_merge_equals_single_machine(slurm, small_demo_run, tmp_path):
    """(a) array + afterok merge of the (reduced) demo equals `climmig run`; (c) a killed task is redone alone.

    The single-machine reference is the session's reduced demo run (``small_demo_run``, the same config
    file), so its fits are not computed a second time here.
    """
    config = small_demo_run
    cfg = load_config(config)
    h, n = science_hash(cfg), len(chunk_table(cfg))
    ref, run = config.parent / "run", tmp_path / "chunked"
    first = submit_run(cfg, load_site("local"), config, run)
    assert first.array_job_id and first.tasks == list(range(n))
    killed = 0
    task = f"{first.array_job_id}_{killed}"
    deadline = time.monotonic() + 120
    while _squeue_state(task) != "RUNNING":
        assert time.monotonic() < deadline, f"task {task} never ran"
        time.sleep(0.2)
    time.sleep(1.0)  # inside Python by now; a chunk takes several seconds
    subprocess.run(["scancel", task], check=True)
    _wait([first.array_job_id, first.merge_job_id], timeout=300)
    assert missing_chunks(run, n, h) == [killed]
    assert _job_state(first.merge_job_id) in {"CANCELLED", "UNKNOWN"}  # afterok never satisfied
    assert not (run / "stages").exists()  # the merge never ran
    assert [p.name for p in (run / "chunks").iterdir() if p.name.startswith(".")] == []  # no half store
    done = [i for i in range(n) if i != killed]
    before = {i: xr.load_dataset(chunk_path(run, i, "netcdf")).attrs["climmig_slurm_job_id"] for i in done}
    # the fits do not depend on the exposure: reuse the single-machine ones (same config) so that the merge
    # job does not spend minutes on them again; it still merges exposure and runs every later stage
    for stage in ("inputs", "fit_displacement", "fit_migration"):
        for rel in [f"stages/{stage}.json", *_outputs(ref, stage)]:
            (run / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ref / rel, run / rel)

    second = submit_run(cfg, load_site("local"), config, run)
    assert second.tasks == [killed]
    assert f"#SBATCH --array={killed}\n" in (run / "slurm" / "array.sbatch").read_text()
    _wait([second.array_job_id, second.merge_job_id], timeout=600)
    logs = "\n".join(p.read_text()[-2000:] for p in sorted((run / "logs").iterdir()))
    assert (run / "manifest.json").exists(), logs
    assert _job_state(second.merge_job_id) in {"COMPLETED", "UNKNOWN"}

    # only the killed chunk was redone; every chunk records the SLURM job that made it
    for i in done:
        assert xr.load_dataset(chunk_path(run, i, "netcdf")).attrs["climmig_slurm_job_id"] == before[i]
    redone = xr.load_dataset(chunk_path(run, killed, "netcdf")).attrs
    assert redone["climmig_slurm_array_job_id"] == second.array_job_id
    assert redone["climmig_slurm_array_task_id"] == str(killed)
    exposure = xr.load_dataset(run / "exposure" / "exposure.nc").attrs
    assert exposure["climmig_slurm_job_id"] == second.merge_job_id
    assert [r["task"] for r in json.loads(exposure["climmig_chunks"])] == list(range(n))

    ran = {s["name"]: s["status"] for s in json.loads((run / "manifest.json").read_text())["stages"]}
    assert ran == {"inputs": "skipped", "exposure": "skipped", "fit_displacement": "skipped",
                   "fit_migration": "skipped", "projection": "ran", "interventions": "ran", "report": "ran"}
    compared = []
    for stage in ("exposure", "projection", "interventions", "report"):
        for rel in _outputs(ref, stage):
            assert (run / rel).exists(), rel
            if rel.endswith((".nc", ".zarr", ".csv")):
                _assert_same_content(ref / rel, run / rel)
                compared.append(rel)
    assert {"exposure/exposure.nc", "projection/projection.nc", "interventions/comparison.nc"} <= set(compared)


@pytest.mark.slow
def test_slurmcluster_through_get_client(slurm, small_cfg, tmp_path):
    pytest.importorskip("dask_jobqueue")
    from climmig.compute import get_client
    from climmig.config.schema import ComputeSpec
    from climmig.hpc.selftest import compute_selftest_chunk, compute_selftest_reference

    site = load_site("local").model_copy(update={"log_directory": str(tmp_path)})
    cpus = subprocess.run(["sinfo", "-h", "-o", "%c"], capture_output=True, text=True, check=False).stdout.split()
    n_jobs = 2 if cpus and int(cpus[0].rstrip("+")) >= 2 else 1  # more 1-CPU jobs than CPUs would stay pending
    spec = ComputeSpec(backend="slurm", site="local", n_workers=n_jobs)
    with get_client(spec, site, wait_for_workers=True, timeout=90) as client:
        job_ids = set(client.run(lambda: os.environ.get("SLURM_JOB_ID")).values())
        assert len(job_ids) == n_jobs and None not in job_ids  # each worker runs inside its own SLURM job
        futures = [client.submit(compute_selftest_chunk, small_cfg, r["scenario"], r["climate_model"], pure=False)
                   for r in chunk_table(small_cfg)]
        parts = client.gather(futures)
    combined = xr.combine_by_coords(parts, combine_attrs="drop_conflicts")
    xr.testing.assert_equal(combined.drop_attrs(), compute_selftest_reference(small_cfg).drop_attrs())
    assert any(p.suffix == ".out" for p in tmp_path.iterdir())  # worker logs went to the site's directory
