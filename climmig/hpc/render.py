"""Pure rendering of SLURM job scripts from the ``string.Template`` files shipped in ``climmig/data/hpc/templates/``.

Nothing here submits or writes anything: every function returns the text of a script, so the scripts can be
snapshot-tested without a scheduler (as dask-jobqueue tests ``job_script()``). Every value that reaches a
script is either checked against a whitelist (names, paths in ``#SBATCH`` lines, job ids) or quoted with
:func:`shlex.quote` (words of the command); anything else raises :class:`HpcError`.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from climmig import __version__
from climmig.config import RunConfig, science_hash
from climmig.errors import ClimmigError
from climmig.hpc.commands import Word, shell_command
from climmig.hpc.names import SITE_FIELD_PATTERNS, SLURM_NAME
from climmig.hpc.site import SiteProfile

__all__ = [
    "HpcError",
    "array_spec",
    "chunk_table",
    "default_templates_dir",
    "render_array_job",
    "render_dask_job",
    "render_merge_job",
]

logger = logging.getLogger(__name__)

_SBATCH_PATH = re.compile(r"^[A-Za-z0-9_./+@=,:~-]{1,4096}$")
_JOB_ID = re.compile(r"^\d{1,12}(_\d{1,9})?$")


class HpcError(ClimmigError):
    """A job script cannot be rendered or submitted (unsafe value, missing template, sbatch failure)."""


def default_templates_dir() -> Traversable:
    """The job templates shipped as package data, ``climmig/data/hpc/templates``.

    Returns
    -------
    importlib.resources.abc.Traversable
        A directory: a :class:`~pathlib.Path` for an installed or editable package.
    """
    return resources.files("climmig").joinpath("data/hpc/templates")


def _safe(regex: re.Pattern[str], what: str, value: str) -> str:
    if not regex.match(value):
        raise HpcError(
            f"{what} {value!r} cannot go into a job script: it contains spaces, quotes or shell "
            "metacharacters (';', '&', '|', '$', '`', '<', '>', newline, ...); rename it"
        )
    return value


def chunk_table(cfg: RunConfig) -> list[dict[str, int | str]]:
    """The independent chunks of a run: one per (scenario, climate_model), scenario-major.

    Parameters
    ----------
    cfg : RunConfig
        Validated config.

    Returns
    -------
    list of dict
        ``{"task": i, "scenario": s, "climate_model": m}``; ``task`` is the SLURM array index.
    """
    out: list[dict[str, int | str]] = []
    for s in cfg.scenarios:
        for m in cfg.climate_models:
            out.append({"task": len(out), "scenario": s, "climate_model": m})
    return out


def array_spec(tasks: Sequence[int], max_parallel: int | None = None) -> str:
    """SLURM ``--array`` value for a set of task indices, with ranges compressed.

    Parameters
    ----------
    tasks : sequence of int
        Task indices (any order, no duplicates needed).
    max_parallel : int, optional
        Throttle (``%N``).

    Returns
    -------
    str
        E.g. ``"0-8"``, ``"2,5-6%4"``.

    Raises
    ------
    HpcError
        If ``tasks`` is empty or has negative indices.
    """
    idx = sorted(set(int(t) for t in tasks))
    if not idx:
        raise HpcError("no array tasks to submit")
    if idx[0] < 0:
        raise HpcError(f"array task indices must be >= 0, got {idx[0]}")
    parts: list[str] = []
    start = prev = idx[0]
    for i in [*idx[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    spec = ",".join(parts)
    return f"{spec}%{max_parallel}" if max_parallel else spec


def _template(name: str, templates_dir: str | Path | None) -> string.Template:
    base = Path(templates_dir) if templates_dir is not None else default_templates_dir()
    path = base / name
    if not path.is_file():
        raise HpcError(f"job template {name} not found in {base}; pass templates_dir, a directory holding "
                       "array.sbatch, merge.sbatch and dask.sbatch (the package's own are in climmig/data/hpc/templates)")
    return string.Template(path.read_text(encoding="utf-8"))


def _directives(site: SiteProfile, extra: Sequence[str] = ()) -> str:
    lines = []
    if site.partition:
        lines.append(f"#SBATCH --partition={_safe(SITE_FIELD_PATTERNS['partition'], 'partition', site.partition)}")
    if site.account:
        lines.append(f"#SBATCH --account={_safe(SITE_FIELD_PATTERNS['account'], 'account', site.account)}")
    if site.qos:
        lines.append(f"#SBATCH --qos={_safe(SITE_FIELD_PATTERNS['qos'], 'qos', site.qos)}")
    for opt in [*site.extra_sbatch, *extra]:
        lines.append(f"#SBATCH {opt}")
    return "\n".join(lines)


def _common(cfg: RunConfig, site: SiteProfile, log_dir: str | Path, job_name: str | None,
            suffix: str) -> dict[str, str]:
    run_id = _safe(SLURM_NAME, "run_id", cfg.run_id)
    name = job_name or f"climmig-{run_id}-{suffix}"
    return {
        "run_id": run_id,
        "version": __version__,
        "site": _safe(SITE_FIELD_PATTERNS["name"], "site name", site.name),
        "cfg_hash": science_hash(cfg),
        "job_name": _safe(SLURM_NAME, "job name", name),
        "cores": str(site.cores),
        "mem": f"{site.memory_mib}M",
        "walltime": site.walltime,
        "log_dir": _safe(_SBATCH_PATH, "log directory", str(log_dir)),
        "prologue": "\n".join(site.prologue),
    }


def render_array_job(
    cfg: RunConfig,
    site: SiteProfile,
    command: Sequence[Word],
    n_tasks: int,
    *,
    log_dir: str | Path,
    run_dir: str | Path = "",
    tasks: Sequence[int] | None = None,
    job_name: str | None = None,
    templates_dir: str | Path | None = None,
) -> str:
    """Render the job-array script: task ``i`` runs ``command`` with ``$SLURM_ARRAY_TASK_ID = i``.

    Parameters
    ----------
    cfg : RunConfig
        Validated run config.
    site : SiteProfile
        Cluster settings.
    command : sequence of str or TASK_ID
        Words after ``python -m climmig`` (see :mod:`climmig.hpc.commands`).
    n_tasks : int
        Number of chunks of the run (``len(chunk_table(cfg))``).
    log_dir : str or Path
        Directory for the tasks' ``%x_%A_%a.out`` logs.
    run_dir : str or Path
        Run directory (only shown in a comment).
    tasks : sequence of int, optional
        Submit only these indices (e.g. the missing chunks); default all ``0..n_tasks-1``.
    job_name : str, optional
        Default ``climmig-<run_id>-chunks``.
    templates_dir : str or Path, optional
        Default :func:`default_templates_dir`.

    Returns
    -------
    str
        The script.

    Raises
    ------
    HpcError
        If a value is unsafe or ``tasks`` lies outside ``0..n_tasks-1``.
    """
    if n_tasks < 1:
        raise HpcError("a job array needs at least one task")
    todo = list(range(n_tasks)) if tasks is None else list(tasks)
    bad = [t for t in todo if not 0 <= t < n_tasks]
    if bad:
        raise HpcError(f"array tasks {bad} lie outside 0..{n_tasks - 1}")
    table = chunk_table(cfg)
    rows = [
        f"#   {r['task']}: {_safe(SLURM_NAME, 'scenario', str(r['scenario']))} "
        f"{_safe(SLURM_NAME, 'climate model', str(r['climate_model']))}"
        for r in table
    ] if len(table) == n_tasks else [f"#   0..{n_tasks - 1}: see climmig.hpc.chunk_table"]
    values = _common(cfg, site, log_dir, job_name, "chunks")
    values.update(
        array=array_spec(todo, site.max_parallel),
        directives=_directives(site),
        chunk_table="\n".join(rows),
        command=shell_command(site.python_executable, command),
        run_dir=_safe(_SBATCH_PATH, "run directory", str(run_dir)) if run_dir else "RUN_DIR",
    )
    return _template("array.sbatch", templates_dir).substitute(values)


def render_merge_job(
    cfg: RunConfig,
    site: SiteProfile,
    command: Sequence[Word],
    *,
    log_dir: str | Path,
    depends_on: str | None = None,
    job_name: str | None = None,
    templates_dir: str | Path | None = None,
) -> str:
    """Render the merge job, which runs once every array task has succeeded.

    Its resources are the site's ``merge_cores``/``merge_memory``/``merge_walltime`` where set.

    Parameters
    ----------
    cfg, site, command, log_dir, job_name, templates_dir
        See :func:`render_array_job`.
    depends_on : str, optional
        Job id of the array; adds ``#SBATCH --dependency=afterok:<id>`` and ``--kill-on-invalid-dep=yes``.
        Without it, pass ``--dependency`` to ``sbatch`` yourself.

    Returns
    -------
    str
        The script.
    """
    extra = []
    if depends_on is not None:
        extra = [f"--dependency=afterok:{_safe(_JOB_ID, 'job id', str(depends_on))}", "--kill-on-invalid-dep=yes"]
    values = _common(cfg, site.for_merge(), log_dir, job_name, "merge")
    values.update(
        directives=_directives(site, extra),
        command=shell_command(site.python_executable, command),
    )
    return _template("merge.sbatch", templates_dir).substitute(values)


def render_dask_job(
    cfg: RunConfig,
    site: SiteProfile,
    command: Sequence[Word],
    *,
    log_dir: str | Path,
    job_name: str | None = None,
    templates_dir: str | Path | None = None,
) -> str:
    """Render a single job that runs a whole run, its dask cluster chosen by ``cfg.compute``.

    With ``compute.backend: slurm`` the job drives a dask-jobqueue ``SLURMCluster`` that submits the worker
    jobs; with ``local`` it runs a ``LocalCluster`` on the job's own cores.

    Parameters
    ----------
    cfg, site, command, log_dir, job_name, templates_dir
        See :func:`render_array_job`.

    Returns
    -------
    str
        The script.
    """
    values = _common(cfg, site.for_merge(), log_dir, job_name, "dask")
    values.update(
        backend=cfg.compute.backend,
        directives=_directives(site),
        command=shell_command(site.python_executable, command),
    )
    return _template("dask.sbatch", templates_dir).substitute(values)
