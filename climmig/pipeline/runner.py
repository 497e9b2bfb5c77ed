"""Checkpointed execution of a run's stages.

Each stage writes its outputs atomically, then a record ``stages/<name>.json`` holding the science-config
hash, the stage's version, the hashes of the records of the stages it depends on, and the sha256 of every output file. A stage is
skipped on a rerun when its record matches; otherwise it (and everything downstream) runs again. A run
killed at any point therefore resumes where it stopped and ends with the same outputs.

Stages named in ``background`` run in a second (spawned) process as soon as the stages they depend on are
complete, alongside the stages after them, until a stage that needs them; their records are written by the
main process, as for any other stage. A stage in a background process computes exactly what it would
compute in the main one (its seed comes from the config, not from the order of execution).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import multiprocessing
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from climmig.errors import ClimmigError
from climmig.io.readers import sha256_file
from climmig.io.writers import write_json
from climmig.provenance import stage_seed  # re-exported: the one seed rule lives beside the hashes

__all__ = ["Stage", "StageResult", "execute", "read_record", "record_path", "stage_is_current", "stage_seed",
           "stage_summary"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    """One step of a run.

    Parameters
    ----------
    name : str
        Stage name (``exposure``, ``fit``, ...).
    func : callable
        ``func(ctx) -> dict[str, Any]``: does the work, writes its outputs atomically under ``ctx.run_dir``
        and returns a summary (JSON-serialisable) that must include ``"outputs"``: the list of files or
        stores it wrote, relative to the run directory.
    depends_on : tuple of str
        Stages whose outputs this one reads.
    description : str
        Shown in progress output.
    version : int
        Version of what the stage writes. A record of another version is not current, so a climmig release
        that changes a stage's outputs (a new variable, a corrected formula) recomputes that stage, and
        everything downstream, in existing run directories instead of reusing the old outputs.
    on_demand : bool
        Run only when asked for by name (``only``), never as part of a whole run: outputs a command needs that
        a run does not (e.g. the figures of ``climmig compare``). Recorded like every stage's.
    """

    name: str
    func: Callable[[Any], dict[str, Any]]
    depends_on: tuple[str, ...] = ()
    description: str = ""
    version: int = 1
    on_demand: bool = False


@dataclass
class StageResult:
    """What happened to a stage in this invocation (``background``: it ran in a second process)."""

    name: str
    status: str  # "ran", "skipped"
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)
    background: bool = False


def record_path(run_dir: Path, name: str) -> Path:
    """Where a stage's completion record lives."""
    return Path(run_dir) / "stages" / f"{name}.json"


def read_record(run_dir: str | Path, name: str) -> dict[str, Any] | None:
    """A stage's completion record, or None if the stage has not completed in ``run_dir``.

    The record format is the runner's own; other modules read records only through this function and
    :func:`stage_summary`.

    Parameters
    ----------
    run_dir : str or Path
        The run directory.
    name : str
        Stage name.

    Returns
    -------
    dict or None
        ``stage``, ``config_sha256``, ``stage_version``, ``upstream``, ``outputs`` (relative path -> sha256),
        ``summary`` (what the stage returned) and ``seconds``.

    Raises
    ------
    ClimmigError
        If the record exists but is not valid JSON (a damaged run directory).
    """
    p = record_path(Path(run_dir), name)
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ClimmigError(f"the record of stage {name} ({p}) is unreadable ({exc}); delete it and rerun "
                           "`climmig run` to recompute the stage") from None


def stage_summary(run_dir: str | Path, name: str) -> dict[str, Any]:
    """What a completed stage returned (its record's ``summary``).

    Parameters
    ----------
    run_dir : str or Path
        The run directory.
    name : str
        Stage name.

    Returns
    -------
    dict

    Raises
    ------
    ClimmigError
        If the stage has no record in ``run_dir``.
    """
    rec = read_record(run_dir, name)
    if rec is None:
        raise ClimmigError(f"{run_dir} has no completed {name} stage; run `climmig run CONFIG` (with this "
                           "directory as its run directory) first")
    return dict(rec.get("summary", {}))


def _tree_digest(path: Path) -> str:
    """sha256 of a file, or of a directory tree (sorted relative names and file digests)."""
    if path.is_file():
        return sha256_file(path)
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        h.update(str(p.relative_to(path)).encode())
        h.update(sha256_file(p).encode())
    return h.hexdigest()


def _record_digest(run_dir: Path, name: str) -> str | None:
    p = record_path(run_dir, name)
    if not p.exists():
        return None
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _upstream(run_dir: Path, stage: Stage) -> dict[str, str | None]:
    return {dep: _record_digest(run_dir, dep) for dep in stage.depends_on}


def stage_is_current(run_dir: Path, stage: Stage, cfg_hash: str, verify_outputs: bool = True) -> bool:
    """Whether a stage's record matches the config, its upstream records and its output files.

    Parameters
    ----------
    run_dir : Path
        The run directory.
    stage : Stage
        The stage.
    cfg_hash : str
        Science-config hash of the current run.
    verify_outputs : bool
        Re-hash the outputs (slower, catches edited or truncated files).

    Returns
    -------
    bool
    """
    try:
        rec = read_record(run_dir, stage.name)
    except ClimmigError:  # a damaged record is not current: the stage runs again and rewrites it
        return False
    if rec is None:
        return False
    if rec.get("config_sha256") != cfg_hash or rec.get("upstream") != _upstream(run_dir, stage):
        return False
    if rec.get("stage_version", 1) != stage.version:
        return False
    for rel, digest in rec.get("outputs", {}).items():
        out = Path(run_dir) / rel
        if not out.exists():
            return False
        if verify_outputs and _tree_digest(out) != digest:
            return False
    return True


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a killed run must not leave a fit running)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # no prctl: the process ends on its own when its stage is done
            pass


def _process_setup() -> dict[str, Any]:
    """What a spawned process needs to warn and log as this one does (it starts with Python's defaults)."""
    root = logging.getLogger()
    fmt = next((h.formatter._fmt for h in root.handlers if h.formatter is not None), None)
    return {"warning_filters": list(warnings.filters), "log_level": root.level, "log_format": fmt}


def _apply_setup(setup: dict[str, Any]) -> None:
    warnings.filters[:] = setup["warning_filters"]
    if setup["log_format"] is not None:
        logging.basicConfig(level=setup["log_level"], format=setup["log_format"])
    else:
        logging.getLogger().setLevel(setup["log_level"])


def _child(func: Callable[[Any], dict[str, Any]], ctx: Any, conn: Any, setup: dict[str, Any]) -> None:
    """Body of a background process: run one stage and send back its summary or its error."""
    _die_with_parent()
    _apply_setup(setup)
    t0 = time.perf_counter()
    try:
        summary = func(ctx) or {}
        conn.send(("ok", summary, time.perf_counter() - t0))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the parent
        try:
            conn.send(("error", exc, traceback.format_exc()))
        except Exception:  # noqa: BLE001 - the exception itself does not pickle
            conn.send(("error", ClimmigError(f"{type(exc).__name__}: {exc}"), traceback.format_exc()))
    finally:
        conn.close()


class _Background:
    """One stage running in a spawned process (its state: the process and the pipe it reports through)."""

    def __init__(self, stage: Stage, ctx: Any) -> None:
        mp = multiprocessing.get_context("spawn")
        self.stage = stage
        self._conn, child_conn = mp.Pipe(duplex=False)
        # no progress bars from a second process: they would interleave with the main one's
        child_ctx = replace(ctx, progress=False) if hasattr(ctx, "__dataclass_fields__") else ctx
        # not a daemon: a stage may start processes of its own (the exposure stage's dask LocalCluster); the
        # runner always waits for it or stops it, and on Linux it dies with its parent (_die_with_parent)
        self._proc = mp.Process(target=_child, args=(stage.func, child_ctx, child_conn, _process_setup()),
                                name=f"climmig-{stage.name}", daemon=False)
        self._proc.start()
        child_conn.close()

    def result(self) -> tuple[dict[str, Any], float]:
        """Wait for the stage; return its summary and its own wall time, or raise its error."""
        try:
            msg = self._conn.recv()
        except EOFError:
            self._proc.join()
            raise ClimmigError(f"stage {self.stage.name} died in its background process (exit code "
                               f"{self._proc.exitcode}); rerun, or set compute.background_stages: false to "
                               "run every stage in one process") from None
        self._proc.join()
        if msg[0] == "error":
            logger.debug("stage %s failed in its background process:\n%s", self.stage.name, msg[2])
            raise msg[1]
        return msg[1], msg[2]

    def stop(self) -> None:
        """Terminate the process if it is still running (after a failure elsewhere)."""
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join()
        self._conn.close()


def execute(stages: Sequence[Stage], ctx: Any, *, only: Sequence[str] | None = None, force: bool = False,
            on_start: Callable[[Stage], None] | None = None,
            on_done: Callable[[Stage, StageResult], None] | None = None,
            background: Sequence[str] = ()) -> list[StageResult]:
    """Run stages in order, skipping those whose checkpoint is current.

    Parameters
    ----------
    stages : sequence of Stage
        In dependency order.
    ctx : object
        Run context with attributes ``run_dir`` (Path) and ``cfg_hash`` (str); passed to each stage.
    only : sequence of str, optional
        Run only these stages (their upstream stages must be current or are run first). Without it, every
        stage but the on-demand ones.
    force : bool
        Rerun the selected stages even if current (downstream stages then rerun too).
    on_start, on_done : callable, optional
        Progress callbacks.
    background : sequence of str
        Stages that may run in a second process, started as soon as their upstream stages are complete
        (``ctx`` and the stage functions must then pickle). The results list stays in stage order.

    Returns
    -------
    list of StageResult

    Raises
    ------
    ClimmigError
        If ``only`` names an unknown stage.
    """
    names = [s.name for s in stages]
    if only:
        unknown = [n for n in only if n not in names]
        if unknown:
            raise ClimmigError(f"unknown stage(s) {unknown}; stages are: {', '.join(names)}")
        wanted: set[str] = set()
        by_name = {s.name: s for s in stages}

        def need(n: str) -> None:
            if n in wanted:
                return
            wanted.add(n)
            for d in by_name[n].depends_on:
                need(d)

        for n in only:
            need(n)
    else:
        wanted = {s.name for s in stages if not s.on_demand}
    forced = set(only or wanted) if force else set()
    results: dict[str, StageResult] = {}
    rerun: set[str] = set()
    run_dir = Path(ctx.run_dir)
    todo = [s for s in stages if s.name in wanted]
    pending: dict[str, _Background] = {}

    def record(stage: Stage, summary: dict[str, Any], seconds: float, in_background: bool = False) -> None:
        outputs = {rel: _tree_digest(run_dir / rel) for rel in summary.get("outputs", [])}
        rec = {
            "stage": stage.name,
            "config_sha256": ctx.cfg_hash,
            "stage_version": stage.version,
            "upstream": _upstream(run_dir, stage),
            "outputs": outputs,
            "summary": _jsonable(summary),
            "seconds": round(seconds, 3),
        }
        write_json(rec, record_path(run_dir, stage.name))
        rerun.add(stage.name)
        results[stage.name] = StageResult(stage.name, "ran", seconds, rec["summary"], in_background)
        if on_done:
            on_done(stage, results[stage.name])

    def finish(name: str) -> None:
        job = pending.pop(name)
        summary, seconds = job.result()
        record(job.stage, summary, seconds, in_background=True)

    def current(stage: Stage) -> bool:
        upstream_rerun = any(d in rerun for d in stage.depends_on)
        if stage.name not in forced and not upstream_rerun and stage_is_current(run_dir, stage, ctx.cfg_hash):
            rec = read_record(run_dir, stage.name) or {}
            results[stage.name] = StageResult(stage.name, "skipped", 0.0, rec.get("summary", {}))
            logger.info("stage %s is current; skipped", stage.name)
            if on_done:
                on_done(stage, results[stage.name])
            return True
        return False

    def launch_ready() -> None:
        # start every background stage whose upstream stages are all complete (not pending, not to do)
        for stage in todo:
            if (stage.name in background and stage.name not in results and stage.name not in pending
                    and all(d in results or d not in wanted for d in stage.depends_on)):
                if not current(stage):
                    if on_start:
                        on_start(stage)
                    pending[stage.name] = _Background(stage, ctx)

    try:
        for stage in todo:
            launch_ready()
            if stage.name in results or stage.name in pending:
                continue
            for dep in stage.depends_on:
                if dep in pending:
                    finish(dep)
            if current(stage):
                continue
            if on_start:
                on_start(stage)
            t0 = time.perf_counter()
            summary = stage.func(ctx) or {}
            record(stage, summary, time.perf_counter() - t0)
        for name in list(pending):
            finish(name)
    except Exception:
        # a failed stage does not throw away a background stage's work: let it finish and record it
        for name in list(pending):
            try:
                finish(name)
            except Exception as exc:  # noqa: BLE001 - the first error is the one to report
                logger.warning("background stage %s failed too: %s", name, exc)
        raise
    finally:
        for job in pending.values():
            job.stop()
    return [results[s.name] for s in todo if s.name in results]


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float | int | str | bool) or obj is None:
        return obj
    try:
        return float(obj)
    except (TypeError, ValueError):
        return str(obj)
