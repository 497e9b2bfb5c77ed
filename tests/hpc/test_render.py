"""Rendering of SLURM job scripts: snapshots, chunk table, array specs, and injection safety."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from climmig import __version__
from climmig.config import parse_config, science_hash
from climmig.hpc import (
    TASK_ID,
    HpcError,
    array_spec,
    chunk_argv,
    chunk_table,
    merge_argv,
    render_array_job,
    render_dask_job,
    render_merge_job,
    run_argv,
    shell_command,
)
from climmig.hpc.site import SiteError, parse_site

SNAPSHOTS = Path(__file__).parent / "snapshots"
CONFIG, RUN = "/data/cfg.yaml", "/scratch/run"


@pytest.fixture
def snap_cfg(small_dict):
    return parse_config({**small_dict, "run_id": "snap-run"})


def _check_snapshot(name: str, text: str, cfg) -> None:
    normalised = text.replace(science_hash(cfg), "@CFG_HASH@").replace(f"climmig {__version__}", "climmig @VERSION@")
    path = SNAPSHOTS / name
    if os.environ.get("CLIMMIG_UPDATE_SNAPSHOTS"):
        path.write_text(normalised)
    assert normalised == path.read_text()


def test_array_job_snapshot(snap_cfg, site):
    text = render_array_job(snap_cfg, site, chunk_argv(CONFIG, RUN), 4, log_dir=f"{RUN}/logs", run_dir=RUN)
    assert "#SBATCH --array=0-3%3" in text
    assert "#SBATCH --account=proj123" in text
    assert "#SBATCH --partition=compute" in text
    assert "#SBATCH --mem=16384M" in text
    assert '--chunk "${SLURM_ARRAY_TASK_ID}"' in text
    _check_snapshot("array.sbatch", text, snap_cfg)


def test_merge_job_snapshot(snap_cfg, site):
    text = render_merge_job(snap_cfg, site, merge_argv(CONFIG, RUN), log_dir=f"{RUN}/logs", depends_on="4242")
    assert "#SBATCH --dependency=afterok:4242" in text
    assert f"-m climmig hpc merge {CONFIG} --output {RUN}" in text
    _check_snapshot("merge.sbatch", text, snap_cfg)


def test_merge_job_gets_the_merge_resources(snap_cfg, site):
    big = site.model_copy(update={"merge_cores": 8, "merge_memory": "64GB", "merge_walltime": "12:00:00"})
    merge = render_merge_job(snap_cfg, big, merge_argv(CONFIG, RUN), log_dir=f"{RUN}/logs")
    array = render_array_job(snap_cfg, big, chunk_argv(CONFIG, RUN), 4, log_dir=f"{RUN}/logs")
    assert "#SBATCH --cpus-per-task=8\n" in merge and "#SBATCH --mem=65536M\n" in merge
    assert "#SBATCH --time=12:00:00\n" in merge
    assert "#SBATCH --cpus-per-task=4\n" in array and "#SBATCH --time=04:00:00\n" in array


def test_dask_job_snapshot(snap_cfg, site):
    text = render_dask_job(snap_cfg, site, run_argv(CONFIG, RUN), log_dir=f"{RUN}/logs")
    assert "--array" not in text and "--dependency" not in text
    _check_snapshot("dask.sbatch", text, snap_cfg)


def test_sbatch_directives_come_before_commands(snap_cfg, site):
    text = render_array_job(snap_cfg, site, chunk_argv(CONFIG, RUN), 4, log_dir=f"{RUN}/logs")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    first_cmd = next(i for i, ln in enumerate(lines) if not ln.startswith("#"))
    assert all(not ln.startswith("#SBATCH") for ln in lines[first_cmd:])


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not available")
def test_rendered_scripts_are_valid_bash(snap_cfg, site, tmp_path):
    for text in (
        render_array_job(snap_cfg, site, chunk_argv(CONFIG, RUN), 4, log_dir=RUN),
        render_merge_job(snap_cfg, site, merge_argv(CONFIG, RUN), log_dir=RUN, depends_on="1"),
        render_dask_job(snap_cfg, site, run_argv(CONFIG, RUN), log_dir=RUN),
    ):
        p = tmp_path / "job.sh"
        p.write_text(text)
        assert subprocess.run(["bash", "-n", str(p)], capture_output=True).returncode == 0


def test_chunk_table_is_scenario_major(small_cfg):
    table = chunk_table(small_cfg)
    assert [(r["task"], r["scenario"], r["climate_model"]) for r in table] == [
        (0, "ssp126", "GFDL-ESM4"), (1, "ssp126", "MRI-ESM2-0"),
        (2, "ssp585", "GFDL-ESM4"), (3, "ssp585", "MRI-ESM2-0"),
    ]


def test_demo_has_fifteen_chunks(demo_dict):
    cfg = parse_config(demo_dict)
    assert len(chunk_table(cfg)) == len(cfg.scenarios) * len(cfg.climate_models) == 15


@pytest.mark.parametrize("tasks, throttle, spec", [
    ([0, 1, 2, 3, 4, 5, 6, 7, 8], None, "0-8"),
    ([3], None, "3"),
    ([5, 2, 6, 0], 4, "0,2,5-6%4"),
    ([1, 1, 2], None, "1-2"),
])
def test_array_spec(tasks, throttle, spec):
    assert array_spec(tasks, throttle) == spec


def test_array_spec_rejects_empty():
    with pytest.raises(HpcError):
        array_spec([])


def test_only_missing_tasks_are_rendered(small_cfg, site):
    text = render_array_job(small_cfg, site, chunk_argv(CONFIG, RUN), 4, log_dir=RUN, tasks=[1, 3])
    assert "#SBATCH --array=1,3%3" in text
    with pytest.raises(HpcError, match="outside"):
        render_array_job(small_cfg, site, chunk_argv(CONFIG, RUN), 4, log_dir=RUN, tasks=[4])


def test_malicious_paths_are_quoted_in_the_command():
    evil_cfg = "/tmp/a b;touch /tmp/pwned #/cfg.yaml"
    evil_run = "/tmp/$(reboot)/`id`/run"
    line = shell_command("/opt/py thon", chunk_argv(evil_cfg, evil_run))
    words = shlex.split(line)
    assert words == ["/opt/py thon", "-m", "climmig", "hpc", "chunk", evil_cfg, "--chunk", "${SLURM_ARRAY_TASK_ID}",
                     "--output", evil_run]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not available")
def test_quoted_command_does_not_execute_injected_code(tmp_path):
    marker = tmp_path / "pwned"
    evil = f"x; touch {marker}; $(touch {marker}) `touch {marker}`"
    line = shell_command("printf", [TASK_ID, evil]).replace(" -m climmig", "")
    out = subprocess.run(["bash", "-c", line.replace("printf", "printf '%s\\n'", 1)], capture_output=True,
                         text=True, env={"SLURM_ARRAY_TASK_ID": "7", "PATH": os.environ["PATH"]})
    assert out.stdout.splitlines() == ["7", evil]
    assert not marker.exists()


def test_unsafe_log_dir_is_rejected(small_cfg, site):
    with pytest.raises(HpcError, match="log directory"):
        render_array_job(small_cfg, site, chunk_argv(CONFIG, RUN), 4, log_dir="/tmp/my logs")
    with pytest.raises(HpcError, match="log directory"):
        render_merge_job(small_cfg, site, merge_argv(CONFIG, RUN), log_dir="/tmp/x\n#SBATCH --wrap=id")


def test_unsafe_dependency_is_rejected(small_cfg, site):
    with pytest.raises(HpcError, match="job id"):
        render_merge_job(small_cfg, site, merge_argv(CONFIG, RUN), log_dir=RUN, depends_on="1 --wrap=id")


def test_site_bypassing_validation_is_still_rejected(small_cfg, site):
    # a SiteProfile built without validation (model_construct) must not reach a script either
    evil = site.model_construct(**{**site.model_dump(), "partition": "debug; rm -rf /"})
    with pytest.raises(HpcError, match="partition"):
        render_array_job(small_cfg, evil, chunk_argv(CONFIG, RUN), 4, log_dir=RUN)


def test_site_with_metacharacters_is_rejected_with_a_clear_error():
    from climmig.errors import ClimmigError

    with pytest.raises(ClimmigError, match="partition .*not allowed in a job script"):
        parse_site({"name": "x", "partition": "debug; rm -rf /"})



# SLURM takes a list of partitions (the job runs in the first that can start it), but one account and one qos
_ACCEPTED = {"partition": {"cpu", "cpu,gpu", "gpu.large+1,cpu-2"}, "account": {"cpu"}, "qos": {"cpu"}}


@pytest.mark.parametrize("value", ["cpu", "cpu,gpu", "gpu.large+1,cpu-2", "cpu,", ",cpu", "cpu,,gpu", "cpu, gpu",
                                   "-cpu", "cpu;gpu", "c" * 129])
@pytest.mark.parametrize("field", sorted(_ACCEPTED))
def test_a_name_the_profile_accepts_renders_and_no_other(snap_cfg, site, field, value):
    # the profile and the renderer read one declaration (climmig.hpc.names): no value may pass one and fail
    # the other, as partition: "cpu,gpu" once did
    try:
        profile = parse_site({**site.model_dump(), field: value})
    except SiteError as exc:
        assert value not in _ACCEPTED[field], str(exc)
        unchecked = site.model_copy(update={field: value})  # skips validation: the renderer must refuse it too
        with pytest.raises(HpcError, match=field):
            render_array_job(snap_cfg, unchecked, chunk_argv(CONFIG, RUN), 4, log_dir=f"{RUN}/logs")
        return
    assert value in _ACCEPTED[field]
    text = render_array_job(snap_cfg, profile, chunk_argv(CONFIG, RUN), 4, log_dir=f"{RUN}/logs")
    assert f"#SBATCH --{field}={value}\n" in text
