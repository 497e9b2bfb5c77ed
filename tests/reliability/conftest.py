"""Session-scoped runs of the fast config, shared by the reliability tests (each costs a subprocess run).

``fast_runs`` starts three runs at once (they are independent and mostly single-threaded):

* ``A``: the whole fast config, threads backend, uninterrupted (the reference);
* ``L``: the exposure stage of the same config on a dask ``LocalCluster`` (2 worker processes);
* ``S``: the exposure stage with another seed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import once_per_session
from .fastrun import REPO, fast_config


def climmig(*args: str | Path, log: Path | None = None) -> subprocess.Popen:
    """Start ``python -m climmig ARGS`` in its own process group, stdout and stderr merged (into ``log``, or
    a pipe to read from)."""
    cmd = [sys.executable, "-m", "climmig", *map(str, args)]
    kw = {"cwd": REPO, "stderr": subprocess.STDOUT, "text": True, "start_new_session": True,
          "env": {**os.environ, "PYTHONUNBUFFERED": "1"}}
    if log is None:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, **kw)
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, stdout=out, **kw)


def finish(proc: subprocess.Popen, log: Path, timeout: float = 1500) -> None:
    """Wait for a run started with a log file and fail with the log's tail if it did not succeed."""
    rc = proc.wait(timeout=timeout)
    assert rc == 0, f"{proc.args} exited {rc}:\n{log.read_text()[-4000:]}"


@dataclass(frozen=True)
class FastRuns:
    """Where the shared runs are."""

    base: Path
    config: Path
    a: Path
    local: Path
    seed: Path


def _start_fast_runs(base: Path) -> FastRuns:
    cfg = fast_config(base / "cfg", base / "A")
    cfg_local = fast_config(base / "cfg_local", base / "L",
                            compute={"backend": "local", "n_workers": 2, "threads_per_worker": 1})
    cfg_seed = fast_config(base / "cfg_seed", base / "S", seed=20261123)
    jobs = [
        (climmig("run", cfg, "--no-progress", log=base / "A.log"), base / "A.log"),
        (climmig("run", cfg_local, "--no-progress", "--stage", "exposure", log=base / "L.log"), base / "L.log"),
        (climmig("run", cfg_seed, "--no-progress", "--stage", "exposure", log=base / "S.log"), base / "S.log"),
    ]
    for proc, log in jobs:
        finish(proc, log)
    return FastRuns(base=base, config=cfg, a=base / "A", local=base / "L", seed=base / "S")


@pytest.fixture(scope="session")
def fast_runs(tmp_path_factory: pytest.TempPathFactory) -> FastRuns:
    base = once_per_session(tmp_path_factory, "fastruns", _start_fast_runs)
    return FastRuns(base=base, config=base / "cfg" / "fast.yaml", a=base / "A", local=base / "L", seed=base / "S")
