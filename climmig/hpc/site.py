"""Site profiles: the SLURM and dask-jobqueue settings of one cluster (a YAML file; the package ships
``local`` and ``example-cluster`` in ``climmig/data/hpc/sites/``).

A site profile says *where* a run executes (partition, account, cores, memory, walltime, the lines that
prepare the environment of a job). It is never part of the science hash of a run. Every value that can
reach a job script is checked against a whitelist here, so no profile can inject shell commands.
"""

from __future__ import annotations

import logging
import re
import shlex
import sys
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from climmig.errors import ClimmigError
from climmig.hpc.names import SITE_FIELD_PATTERNS, check

__all__ = [
    "SiteError",
    "SiteProfile",
    "default_sites_dir",
    "load_site",
    "memory_mib",
    "parse_site",
]

logger = logging.getLogger(__name__)

#: a file path or a bare program name without shell metacharacters
_PATH = re.compile(r"^[A-Za-z0-9_./+@%=,:~-]{1,4096}$")
_WALLTIME = re.compile(r"^(\d{1,3}-)?\d{1,3}:\d{2}(:\d{2})?$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT])(i?B)?$", re.IGNORECASE)
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$")
#: one word of a prologue line or an extra sbatch option value
_WORD = re.compile(r"^[A-Za-z0-9_./+@%=,:~-]{1,4096}$")
_ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}=[A-Za-z0-9_./+@%=,:~-]{0,4096}$")
_SBATCH_OPTION = re.compile(r"^--[a-z][a-z-]{0,63}(=[A-Za-z0-9_./+@%=,:~-]{1,1024})?$")
#: commands a prologue line may start with
_PROLOGUE_COMMANDS = {"module", "ml", "source", ".", "conda", "mamba", "micromamba", "export", "spack", "umask"}
#: sbatch options a site may not set through ``extra_sbatch`` (the templates set them)
_RESERVED_OPTIONS = {"--array", "--dependency", "--output", "--error", "--job-name", "--wrap", "--chdir"}


class SiteError(ClimmigError):
    """A site profile is missing or invalid."""


def memory_mib(text: str) -> int:
    """Parse a memory size such as ``"4GB"``, ``"4GiB"``, ``"4G"`` or ``"512M"`` into MiB.

    Decimal and binary suffixes are both read as binary (as SLURM does).

    Parameters
    ----------
    text : str
        Memory size.

    Returns
    -------
    int
        Size in MiB (at least 1).

    Raises
    ------
    ValueError
        If ``text`` is not a size.
    """
    m = _MEMORY.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a memory size; write e.g. '4GB', '4GiB' or '512M'")
    value, unit = float(m.group(1)), m.group(2).upper()
    factor = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}[unit]
    return max(1, int(round(value * factor)))


def _check(regex: re.Pattern[str], what: str, value: str) -> str:
    if not regex.match(value):
        raise ValueError(
            f"{what} {value!r} contains characters that are not allowed in a job script "
            "(spaces, quotes, ';', '&', '|', '$', '`', '<', '>', ...)"
        )
    return value


def _check_prologue_line(line: str) -> str:
    try:
        words = shlex.split(line, comments=False, posix=True)
    except ValueError as exc:
        raise ValueError(f"prologue line {line!r} cannot be parsed: {exc}") from None
    if not words:
        raise ValueError("prologue lines must not be empty")
    if words[0] not in _PROLOGUE_COMMANDS:
        raise ValueError(
            f"prologue line {line!r} starts with {words[0]!r}; a prologue line must start with one of "
            f"{', '.join(sorted(_PROLOGUE_COMMANDS))}"
        )
    for w in words[1:]:
        if words[0] == "export":
            _check(_ENV_ASSIGN, "prologue export", w)
        else:
            _check(_WORD, "prologue word", w)
    # the rendered line is rebuilt from the checked words, so it means exactly what was parsed
    return shlex.join(words)


class SiteProfile(BaseModel):
    """SLURM and dask-jobqueue settings of one cluster.

    Attributes
    ----------
    name : str
        Profile name (the file stem of the profile's YAML file).
    partition, account, qos : str, optional
        SLURM partition (``-p``), account (``-A``) and QOS.
    cores : int
        CPUs per array task and per dask-jobqueue job.
    memory : str
        Memory per task / job, e.g. ``"4GB"``.
    walltime : str
        Time limit per task, ``[D-]HH:MM[:SS]``.
    prologue : list of str
        Lines run before the command in every job: ``module load ...``, ``source venv/bin/activate``,
        ``conda activate ...``, ``export NAME=value``. Each word is checked; nothing else is allowed.
    python : str, optional
        Python executable inside jobs (default: the interpreter that renders the scripts).
    interface : str, optional
        Network interface of the dask scheduler and workers (e.g. ``ib0``, or ``lo`` on one machine).
    scheduler_host : str, optional
        Host address the dask scheduler binds to (e.g. ``127.0.0.1`` in a container).
    processes : int
        Dask worker processes per dask-jobqueue job.
    max_parallel : int, optional
        Maximum simultaneously running array tasks (``--array=...%N``).
    extra_sbatch : list of str
        Further ``--option=value`` lines (e.g. ``--constraint=cpu``).
    log_directory : str, optional
        Directory for dask-jobqueue worker logs.
    merge_cores, merge_memory, merge_walltime : optional
        Resources of the merge job and of the single-job (dask) run, which fit the models and project on
        one node; default: ``cores``, ``memory``, ``walltime``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    cores: int = Field(default=1, ge=1, le=1024)
    memory: str = "4GB"
    walltime: str = "01:00:00"
    prologue: list[str] = Field(default_factory=list)
    python: str | None = None
    interface: str | None = None
    scheduler_host: str | None = None
    processes: int = Field(default=1, ge=1, le=1024)
    max_parallel: int | None = Field(default=None, ge=1, le=100_000)
    extra_sbatch: list[str] = Field(default_factory=list)
    log_directory: str | None = None
    merge_cores: int | None = Field(default=None, ge=1, le=1024)
    merge_memory: str | None = None
    merge_walltime: str | None = None

    @field_validator(*SITE_FIELD_PATTERNS)
    @classmethod
    def _names(cls, v: str | None, info: Any) -> str | None:
        return None if v is None else check(SITE_FIELD_PATTERNS[info.field_name], info.field_name, v)

    @field_validator("python", "log_directory")
    @classmethod
    def _paths(cls, v: str | None, info: Any) -> str | None:
        return None if v is None else _check(_PATH, info.field_name, v)

    @field_validator("scheduler_host")
    @classmethod
    def _host(cls, v: str | None) -> str | None:
        return None if v is None else _check(_HOST, "scheduler_host", v)

    @field_validator("walltime", "merge_walltime")
    @classmethod
    def _walltime(cls, v: str | None, info: Any) -> str | None:
        if v is not None and not _WALLTIME.match(v):
            raise ValueError(f"{info.field_name} {v!r} is not [D-]HH:MM[:SS], e.g. '02:00:00' or '1-00:00:00'")
        return v

    @field_validator("memory", "merge_memory")
    @classmethod
    def _memory(cls, v: str | None) -> str | None:
        if v is not None:
            memory_mib(v)
        return v

    @field_validator("prologue")
    @classmethod
    def _prologue(cls, v: list[str]) -> list[str]:
        return [_check_prologue_line(line) for line in v]

    @field_validator("extra_sbatch")
    @classmethod
    def _extra(cls, v: list[str]) -> list[str]:
        for opt in v:
            _check(_SBATCH_OPTION, "extra_sbatch option", opt)
            if opt.split("=", 1)[0] in _RESERVED_OPTIONS:
                raise ValueError(f"extra_sbatch may not set {opt.split('=', 1)[0]}; climmig sets it")
        return v

    @property
    def memory_mib(self) -> int:
        """Memory per task in MiB."""
        return memory_mib(self.memory)

    def for_merge(self) -> SiteProfile:
        """This profile with the merge job's resources as ``cores``, ``memory`` and ``walltime``.

        Returns
        -------
        SiteProfile
        """
        return self.model_copy(update={
            "cores": self.merge_cores or self.cores,
            "memory": self.merge_memory or self.memory,
            "walltime": self.merge_walltime or self.walltime,
        })

    @property
    def python_executable(self) -> str:
        """The Python inside jobs: ``python`` if set, else the current interpreter."""
        return self.python or sys.executable

    def dask_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`dask_jobqueue.SLURMCluster`.

        Returns
        -------
        dict
            ``cores``, ``memory``, ``processes``, ``walltime``, ``python``, and where set ``queue``,
            ``account``, ``interface``, ``job_script_prologue``, ``job_extra_directives``,
            ``scheduler_options`` and ``log_directory``.
        """
        kw: dict[str, Any] = {
            "cores": self.cores,
            "memory": f"{self.memory_mib}MiB",
            "processes": self.processes,
            "walltime": self.walltime,
            "python": self.python_executable,
        }
        if self.partition:
            kw["queue"] = self.partition
        if self.account:
            kw["account"] = self.account
        if self.interface:
            kw["interface"] = self.interface
        if self.prologue:
            kw["job_script_prologue"] = list(self.prologue)
        extra = list(self.extra_sbatch) + ([f"--qos={self.qos}"] if self.qos else [])
        if extra:
            kw["job_extra_directives"] = extra
        if self.scheduler_host:
            kw["scheduler_options"] = {"host": self.scheduler_host}
        if self.log_directory:
            kw["log_directory"] = self.log_directory
        return kw


def default_sites_dir() -> Traversable:
    """The site profiles shipped as package data, ``climmig/data/hpc/sites``.

    Returns
    -------
    importlib.resources.abc.Traversable
        A directory: a :class:`~pathlib.Path` for an installed or editable package.
    """
    return resources.files("climmig").joinpath("data/hpc/sites")


def parse_site(data: Any, source: str = "site profile") -> SiteProfile:
    """Validate a site profile given as a mapping.

    Parameters
    ----------
    data : Any
        Parsed YAML.
    source : str
        Where it came from (for error messages).

    Returns
    -------
    SiteProfile

    Raises
    ------
    SiteError
        One line per problem.
    """
    if not isinstance(data, dict):
        raise SiteError(f"{source}: a site profile must be a YAML mapping (key: value)")
    try:
        return SiteProfile(**data)
    except ValidationError as exc:
        lines = [f"{' -> '.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()]
        raise SiteError(f"invalid site profile {source}:\n" + "\n".join(f"  - {x}" for x in lines)) from None


def load_site(name_or_path: str | Path, sites_dir: str | Path | None = None) -> SiteProfile:
    """Load a site profile by name (``<sites_dir>/<name>.yaml``) or from a YAML file given by path.

    Parameters
    ----------
    name_or_path : str or Path
        A profile name or a path to a ``.yaml`` file.
    sites_dir : str or Path, optional
        Where profiles live (default: :func:`default_sites_dir`).

    Returns
    -------
    SiteProfile

    Raises
    ------
    SiteError
        If the profile does not exist or is invalid.
    """
    text = str(name_or_path)
    path: Path | Traversable
    if text.endswith((".yaml", ".yml")) or "/" in text:
        path = Path(text).expanduser()
        base: Path | Traversable = path.parent
    else:
        base = Path(sites_dir).expanduser() if sites_dir is not None else default_sites_dir()
        path = base / f"{text}.yaml"
    if not path.is_file():
        known = sorted(p.name[:-5] for p in base.iterdir() if p.name.endswith(".yaml")) if base.is_dir() else []
        raise SiteError(
            f"site profile {path} not found; known sites: {', '.join(known) or 'none'} "
            "(write one as described in hpc/README.md and pass its path)"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SiteError(f"site profile {path} is not valid YAML: {exc}") from None
    if isinstance(data, dict):
        data.setdefault("name", Path(path.name).stem)
    return parse_site(data, str(path))
