"""The command lines that job scripts run: kept here, in one place, so they are easy to change.

A command is a list of words after ``python -m climmig``; :func:`shell_command` quotes every word with
:func:`shlex.quote`, except :data:`TASK_ID`, which becomes ``"${SLURM_ARRAY_TASK_ID}"``.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

__all__ = ["TASK_ID", "Word", "chunk_argv", "merge_argv", "run_argv", "shell_command"]


class _TaskId:
    """Placeholder for the array task index of the running SLURM task."""

    shell = '"${SLURM_ARRAY_TASK_ID}"'

    def __repr__(self) -> str:
        return "TASK_ID"


TASK_ID = _TaskId()
Word = str | _TaskId


def chunk_argv(config: str | Path, run_dir: str | Path, *, selftest: bool = False) -> list[Word]:
    """Words of the command one array task runs.

    Parameters
    ----------
    config : str or Path
        Run config file (absolute path recommended: jobs may start elsewhere).
    run_dir : str or Path
        Run directory; chunks go to ``run_dir/chunks/``.
    selftest : bool
        Use the built-in self-test workload instead of the run's exposure stage.

    Returns
    -------
    list
        ``hpc chunk CONFIG --chunk $SLURM_ARRAY_TASK_ID --output RUN_DIR [--selftest]``.
    """
    return ["hpc", "chunk", str(config), "--chunk", TASK_ID, "--output", str(run_dir),
            *(["--selftest"] if selftest else [])]


def merge_argv(config: str | Path, run_dir: str | Path, *, selftest: bool = False) -> list[Word]:
    """Words of the command the merge job runs.

    Parameters
    ----------
    config, run_dir, selftest
        See :func:`chunk_argv`.

    Returns
    -------
    list
        ``hpc merge CONFIG --output RUN_DIR [--selftest]``: merges the chunks and runs the other stages.
    """
    return ["hpc", "merge", str(config), "--output", str(run_dir), *(["--selftest"] if selftest else [])]


def run_argv(config: str | Path, run_dir: str | Path) -> list[Word]:
    """Words of a whole run in one job (the dask-jobqueue template).

    Parameters
    ----------
    config, run_dir
        See :func:`chunk_argv`.

    Returns
    -------
    list
        ``run CONFIG --output RUN_DIR``.
    """
    return ["run", str(config), "--output", str(run_dir)]


def shell_command(python: str, argv: Sequence[Word]) -> str:
    """Render ``python -m climmig ARGV`` as one safely quoted shell command line.

    Parameters
    ----------
    python : str
        Python executable.
    argv : sequence of str or TASK_ID
        Words after ``python -m climmig``.

    Returns
    -------
    str
        The command line; every word is quoted, so no value can inject shell syntax.
    """
    words = [shlex.quote(python), "-m", "climmig"]
    for w in argv:
        words.append(w.shell if isinstance(w, _TaskId) else shlex.quote(str(w)))
    return " ".join(words)
