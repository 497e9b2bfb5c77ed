"""Checkpointed execution of a run's stages.

Each stage writes its outputs atomically, then a record ``stages/<name>.json`` holding the science-config
hash, the hashes of the records of the stages it depends on, and the sha256 of every output file. A stage is
skipped on a rerun when its record matches; otherwise it (and everything downstream) runs again. A run
killed at any point therefore resumes where it stopped and ends with the same outputs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from climmig.errors import ClimmigError
from climmig.io.readers import sha256_file
from climmig.io.writers import write_json

__all__ = ["Stage", "StageResult", "execute", "record_path", "stage_is_current", "stage_seed"]

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
    """

    name: str
    func: Callable[[Any], dict[str, Any]]
    depends_on: tuple[str, ...] = ()
    description: str = ""


@dataclass
class StageResult:
    """What happened to a stage in this invocation."""

    name: str
    status: str  # "ran", "skipped"
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)


def stage_seed(seed: int, name: str) -> int:
    """A per-stage seed derived from the run seed (stable across runs, different across stages).

    Parameters
    ----------
    seed : int
        The config's seed.
    name : str
        Stage name.

    Returns
    -------
    int
        Seed in ``[0, 2**32)``.
    """
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:4], "little")


def record_path(run_dir: Path, name: str) -> Path:
    """Where a stage's completion record lives."""
    return Path(run_dir) / "stages" / f"{name}.json"


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
    p = record_path(run_dir, stage.name)
    if not p.exists():
        return False
    try:
        rec = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if rec.get("config_sha256") != cfg_hash or rec.get("upstream") != _upstream(run_dir, stage):
        return False
    for rel, digest in rec.get("outputs", {}).items():
        out = Path(run_dir) / rel
        if not out.exists():
            return False
        if verify_outputs and _tree_digest(out) != digest:
            return False
    return True


def execute(stages: Sequence[Stage], ctx: Any, *, only: Sequence[str] | None = None, force: bool = False,
            on_start: Callable[[Stage], None] | None = None,
            on_done: Callable[[Stage, StageResult], None] | None = None) -> list[StageResult]:
    """Run stages in order, skipping those whose checkpoint is current.

    Parameters
    ----------
    stages : sequence of Stage
        In dependency order.
    ctx : object
        Run context with attributes ``run_dir`` (Path) and ``cfg_hash`` (str); passed to each stage.
    only : sequence of str, optional
        Run only these stages (their upstream stages must be current or are run first).
    force : bool
        Rerun the selected stages even if current (downstream stages then rerun too).
    on_start, on_done : callable, optional
        Progress callbacks.

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
        wanted = set(names)
    forced = set(only or names) if force else set()
    results: list[StageResult] = []
    rerun: set[str] = set()
    run_dir = Path(ctx.run_dir)
    for stage in stages:
        if stage.name not in wanted:
            continue
        upstream_rerun = any(d in rerun for d in stage.depends_on)
        if stage.name not in forced and not upstream_rerun and stage_is_current(run_dir, stage, ctx.cfg_hash):
            rec = json.loads(record_path(run_dir, stage.name).read_text())
            results.append(StageResult(stage.name, "skipped", 0.0, rec.get("summary", {})))
            logger.info("stage %s is current; skipped", stage.name)
            if on_done:
                on_done(stage, results[-1])
            continue
        if on_start:
            on_start(stage)
        t0 = time.perf_counter()
        summary = stage.func(ctx) or {}
        seconds = time.perf_counter() - t0
        outputs = {rel: _tree_digest(run_dir / rel) for rel in summary.get("outputs", [])}
        record = {
            "stage": stage.name,
            "config_sha256": ctx.cfg_hash,
            "upstream": _upstream(run_dir, stage),
            "outputs": outputs,
            "summary": _jsonable(summary),
            "seconds": round(seconds, 3),
        }
        write_json(record, record_path(run_dir, stage.name))
        rerun.add(stage.name)
        results.append(StageResult(stage.name, "ran", seconds, record["summary"]))
        if on_done:
            on_done(stage, results[-1])
    return results


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
