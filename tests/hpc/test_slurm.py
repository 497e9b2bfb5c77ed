"""End-to-end tests on a real SLURM cluster (``bash hpc/slurm-local.sh start`` as root starts one).

Skipped, with the reason, when ``sinfo`` is missing or no node is idle. They submit the self-test workload
as a job array plus a merge job, kill one array task, resubmit, and check that only the missing chunk was
redone and that the merged result equals the single-process computation; and they run a computation on
dask-jobqueue ``SLURMCluster`` workers through :func:`climmig.compute.get_client`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import xarray as xr

from climmig.config import science_hash
from climmig.hpc import chunk_status, chunk_table, missing_chunks
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


def test_job_array_kill_resubmit_merge(slurm, small_config, small_cfg, tmp_path):
    from climmig.hpc.selftest import compute_selftest_reference

    site = load_site("local")
    run = tmp_path / "run"
    h, n = science_hash(small_cfg), len(chunk_table(small_cfg))

    first = submit_run(small_cfg, site, small_config, run, selftest=True)
    assert first.array_job_id and first.tasks == list(range(n))
    # kill array task 0 while it runs (scancel sends SIGTERM, then SIGKILL)
    killed = 0
    task = f"{first.array_job_id}_{killed}"
    deadline = time.monotonic() + 60
    while _squeue_state(task) != "RUNNING":
        assert time.monotonic() < deadline, f"task {task} never ran"
        time.sleep(0.1)
    subprocess.run(["scancel", task], check=True)
    _wait([first.array_job_id, first.merge_job_id])

    assert missing_chunks(run, n, h) == [killed], sorted(p.name for p in (run / "logs").iterdir())
    assert not (run / "selftest.zarr").exists()  # the merge never ran: its dependency failed
    assert _job_state(first.merge_job_id) in {"CANCELLED", "UNKNOWN"}
    done = [i for i in range(n) if i != killed]
    before = {i: xr.open_zarr(run / "chunks" / f"{i}.zarr").attrs["climmig_slurm_job_id"] for i in done}

    second = submit_run(small_cfg, site, small_config, run, selftest=True)
    assert second.tasks == [killed]
    assert f"#SBATCH --array={killed}\n" in (run / "slurm" / "array.sbatch").read_text()
    _wait([second.array_job_id, second.merge_job_id])
    assert _job_state(second.merge_job_id) in {"COMPLETED", "UNKNOWN"}
    logs = "\n".join(p.read_text() for p in sorted((run / "logs").iterdir()))
    assert (run / "selftest.zarr").exists(), logs
    # no temporary store of the killed attempt is left behind
    assert [p.name for p in (run / "chunks").iterdir() if p.name.startswith(".")] == []

    # only the missing chunk was redone; the others keep the provenance of the first array
    for i in done:
        attrs = xr.open_zarr(run / "chunks" / f"{i}.zarr").attrs
        assert attrs["climmig_slurm_job_id"] == before[i]
        assert attrs["climmig_slurm_array_job_id"] == first.array_job_id
    redone = xr.open_zarr(run / "chunks" / f"{killed}.zarr").attrs
    assert redone["climmig_slurm_array_job_id"] == second.array_job_id
    assert redone["climmig_slurm_array_task_id"] == str(killed)
    assert all(chunk_status(run, i, h) == "done" for i in range(n))

    merged = xr.open_zarr(run / "selftest.zarr").load()
    assert merged.attrs["climmig_config_sha256"] == h
    assert merged.attrs["climmig_slurm_job_id"] == second.merge_job_id
    xr.testing.assert_equal(merged.drop_attrs(), compute_selftest_reference(small_cfg).drop_attrs())


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
