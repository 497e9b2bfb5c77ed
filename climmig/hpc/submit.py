"""Write job scripts to disk and submit them with ``sbatch`` (the only module here that runs programs).

Submitting a run resubmits only the chunks that are not complete yet, so after a failure the same command
finishes the run.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from climmig.config import RunConfig, science_hash
from climmig.hpc.chunks import missing_chunks
from climmig.hpc.commands import chunk_argv, merge_argv, run_argv
from climmig.hpc.render import HpcError, chunk_table, render_array_job, render_dask_job, render_merge_job
from climmig.hpc.site import SiteProfile
from climmig.io import write_text

__all__ = ["Submission", "render_scripts", "sbatch", "submit_run", "write_scripts"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """What :func:`submit_run` submitted."""

    array_job_id: str | None
    merge_job_id: str
    tasks: list[int] = field(default_factory=list)
    scripts: dict[str, Path] = field(default_factory=dict)


def render_scripts(cfg: RunConfig, site: SiteProfile, config_file: str | Path, run_dir: str | Path, *,
                   selftest: bool = False, tasks: list[int] | None = None,
                   depends_on: str | None = None) -> dict[str, str]:
    """Render the array, merge and dask job scripts of a run.

    Parameters
    ----------
    cfg : RunConfig
        Validated config.
    site : SiteProfile
        Cluster settings.
    config_file : str or Path
        The config file (made absolute: jobs may start in another directory).
    run_dir : str or Path
        Run directory (made absolute); logs go to ``run_dir/logs``.
    selftest : bool
        Run the self-test workload instead of ``climmig run``.
    tasks : list of int, optional
        Array tasks to include (default all).
    depends_on : str, optional
        Array job id the merge job waits for.

    Returns
    -------
    dict of str to str
        ``{"array.sbatch": ..., "merge.sbatch": ..., "dask.sbatch": ...}``.
    """
    config_file = Path(config_file).resolve()
    run_dir = Path(run_dir).resolve()
    logs = run_dir / "logs"
    n = len(chunk_table(cfg))
    return {
        "array.sbatch": render_array_job(cfg, site, chunk_argv(config_file, run_dir, selftest=selftest), n,
                                         log_dir=logs, run_dir=run_dir, tasks=tasks),
        "merge.sbatch": render_merge_job(cfg, site, merge_argv(config_file, run_dir, selftest=selftest),
                                         log_dir=logs, depends_on=depends_on),
        "dask.sbatch": render_dask_job(cfg, site, run_argv(config_file, run_dir), log_dir=logs),
    }


def write_scripts(scripts: dict[str, str], out_dir: str | Path) -> dict[str, Path]:
    """Write rendered scripts (atomically, mode 0755).

    Parameters
    ----------
    scripts : dict of str to str
        File name to text.
    out_dir : str or Path
        Target directory.

    Returns
    -------
    dict of str to Path
    """
    out: dict[str, Path] = {}
    for name, text in scripts.items():
        p = write_text(text, Path(out_dir) / name)
        p.chmod(0o755)
        out[name] = p
    return out


def sbatch(script: str | Path, *args: str, cwd: str | Path | None = None) -> str:
    """Submit a script with ``sbatch --parsable`` and return the job id.

    Parameters
    ----------
    script : str or Path
        Job script.
    *args : str
        Extra ``sbatch`` options (passed as separate arguments, never through a shell).
    cwd : str or Path, optional
        Submit directory.

    Returns
    -------
    str
        Job id.

    Raises
    ------
    HpcError
        If ``sbatch`` is missing or fails.
    """
    exe = shutil.which("sbatch")
    if exe is None:
        raise HpcError("sbatch not found: run this on a SLURM login node (or start hpc/slurm-local.sh)")
    proc = subprocess.run([exe, "--parsable", *args, str(script)], capture_output=True, text=True,
                          cwd=cwd, check=False)
    if proc.returncode != 0:
        raise HpcError(f"sbatch {script} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    job_id = proc.stdout.strip().split(";")[0]
    if not job_id.isdigit():
        raise HpcError(f"sbatch printed {proc.stdout.strip()!r}, not a job id")
    return job_id


def submit_run(cfg: RunConfig, site: SiteProfile, config_file: str | Path, run_dir: str | Path, *,
               selftest: bool = False, resubmit_all: bool = False) -> Submission:
    """Submit the chunks that are not complete as a job array, then the merge job after it.

    Parameters
    ----------
    cfg, site, config_file, run_dir, selftest
        See :func:`render_scripts`.
    resubmit_all : bool
        Submit every chunk (complete ones are still skipped by the tasks themselves).

    Returns
    -------
    Submission
        Job ids, the submitted task indices and the paths of the scripts submitted now (under
        ``run_dir/slurm``).
    """
    run_dir = Path(run_dir).resolve()
    n = len(chunk_table(cfg))
    todo = list(range(n)) if resubmit_all else missing_chunks(run_dir, n, science_hash(cfg))
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    slurm_dir = run_dir / "slurm"
    array_id: str | None = None
    submitted: dict[str, Path] = {}
    if todo:
        scripts = render_scripts(cfg, site, config_file, run_dir, selftest=selftest, tasks=todo)
        submitted.update(write_scripts({"array.sbatch": scripts["array.sbatch"]}, slurm_dir))
        array_id = sbatch(submitted["array.sbatch"], cwd=run_dir)
        logger.info("submitted array job %s with tasks %s", array_id, todo)
    else:
        logger.info("all %d chunks are complete; submitting only the merge", n)
    scripts = render_scripts(cfg, site, config_file, run_dir, selftest=selftest, tasks=todo or None,
                             depends_on=array_id)
    submitted.update(write_scripts({"merge.sbatch": scripts["merge.sbatch"]}, slurm_dir))
    merge_id = sbatch(submitted["merge.sbatch"], cwd=run_dir)
    logger.info("submitted merge job %s", merge_id)
    return Submission(array_id, merge_id, todo, submitted)
