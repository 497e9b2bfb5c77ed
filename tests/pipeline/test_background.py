"""Background stages: a stage run in a second process overlaps the stages after it, is recorded like any
other, and passes its errors on."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from climmig.errors import ClimmigError, DataError
from climmig.io.writers import write_text
from climmig.pipeline import Stage, execute


@dataclass(frozen=True)
class Ctx:
    run_dir: Path
    cfg_hash: str
    progress: bool = True
    fail: str = ""


# stage functions live at module level: a spawned process must be able to import them
def stage_a(ctx: Ctx) -> dict:
    write_text("1", ctx.run_dir / "a.txt")
    return {"outputs": ["a.txt"]}


def stage_m(ctx: Ctx) -> dict:
    """Waits for the output of ``d``, which comes after it in stage order: only an overlap lets it finish."""
    if ctx.fail == "m":
        raise DataError("flows table has no rows")
    if ctx.fail == "m-exit":
        os._exit(3)
    deadline = time.monotonic() + 60
    while not (ctx.run_dir / "d.txt").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("d never ran while m was running")
        time.sleep(0.05)
    write_text(f"{os.getpid()} {ctx.progress}", ctx.run_dir / "m.txt")
    return {"outputs": ["m.txt"], "pid": os.getpid()}


def stage_d(ctx: Ctx) -> dict:
    if ctx.fail == "d":
        raise DataError("no observations")
    write_text(str(os.getpid()), ctx.run_dir / "d.txt")
    return {"outputs": ["d.txt"]}


def stage_p(ctx: Ctx) -> dict:
    m = (ctx.run_dir / "m.txt").read_text()
    d = (ctx.run_dir / "d.txt").read_text()
    write_text(f"{m}|{d}", ctx.run_dir / "p.txt")
    return {"outputs": ["p.txt"]}


def _stages() -> list[Stage]:
    return [Stage("a", stage_a), Stage("m", stage_m, ("a",)), Stage("d", stage_d, ("a",)),
            Stage("p", stage_p, ("m", "d"))]


@pytest.mark.slow
def test_background_stage_overlaps_and_is_recorded(tmp_path: Path) -> None:
    res = execute(_stages(), Ctx(tmp_path, "h1"), background=["m"])
    assert [(r.name, r.status) for r in res] == [("a", "ran"), ("m", "ran"), ("d", "ran"), ("p", "ran")]
    pid_m, progress_m = (tmp_path / "m.txt").read_text().split()
    assert int(pid_m) != os.getpid() and progress_m == "False"  # a second process, without progress bars
    assert int((tmp_path / "d.txt").read_text()) == os.getpid()
    assert (tmp_path / "stages" / "m.json").exists()
    # the record makes it current like any other stage
    again = execute(_stages(), Ctx(tmp_path, "h1"), background=["m"])
    assert [r.status for r in again] == ["skipped"] * 4


def test_without_background_the_same_stages_run_in_order(tmp_path: Path) -> None:
    # in order, m would wait for d forever: this is what the background run avoids
    (tmp_path / "d.txt").write_text("pre-existing")
    res = execute(_stages(), Ctx(tmp_path, "h1"))
    assert [r.name for r in res] == ["a", "m", "d", "p"]
    assert int((tmp_path / "m.txt").read_text().split()[0]) == os.getpid()


@pytest.mark.slow
def test_background_error_reaches_the_caller(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="flows table has no rows"):
        execute(_stages(), Ctx(tmp_path, "h1", fail="m"), background=["m"])
    assert not (tmp_path / "stages" / "m.json").exists()
    assert not (tmp_path / "stages" / "p.json").exists()


@pytest.mark.slow
def test_dead_background_process_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ClimmigError, match=r"stage m died in its background process \(exit code 3\)"):
        execute(_stages(), Ctx(tmp_path, "h1", fail="m-exit"), background=["m"])


@pytest.mark.slow
def test_foreground_failure_keeps_the_background_work(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("from an earlier run")  # lets m finish although d fails
    with pytest.raises(DataError, match="no observations"):
        execute(_stages(), Ctx(tmp_path, "h1", fail="d"), background=["m"])
    assert (tmp_path / "stages" / "m.json").exists()
    res = execute(_stages(), Ctx(tmp_path, "h1"), background=["m"])
    assert [(r.name, r.status) for r in res] == [("a", "skipped"), ("m", "skipped"), ("d", "ran"),
                                                 ("p", "ran")]


def stage_sleep(ctx: Ctx) -> dict:
    write_text(str(os.getpid()), ctx.run_dir / "child.pid")
    time.sleep(120)
    return {"outputs": []}


def stage_wait(ctx: Ctx) -> dict:
    time.sleep(120)
    return {"outputs": []}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its new parent) counts as gone
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux /proc")
def test_killed_run_takes_its_background_stage_with_it(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from climmig.pipeline import Stage, execute; "
            "from tests.pipeline.test_background import Ctx, stage_sleep, stage_wait; "
            "execute([Stage('s', stage_sleep), Stage('w', stage_wait)], Ctx(Path(sys.argv[1]), 'h'), "
            "background=['s'])")
    parent = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=Path(__file__).parents[2])
    pid_file = tmp_path / "child.pid"
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline and parent.poll() is None:
        time.sleep(0.05)
    assert pid_file.exists(), "the background stage never started"
    child = int(pid_file.read_text())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def stage_spawns(ctx: Ctx) -> dict:
    """A stage that starts processes of its own, as the exposure stage's dask LocalCluster does."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        value = pool.apply(os.getpid)
    write_text(str(value), ctx.run_dir / "pool.txt")
    return {"outputs": ["pool.txt"]}


@pytest.mark.slow
def test_background_stage_may_start_processes(tmp_path: Path) -> None:
    res = execute([Stage("p", stage_spawns), Stage("a", stage_a)], Ctx(tmp_path, "h"), background=["p"])
    assert [(r.name, r.background) for r in res] == [("p", True), ("a", False)]
    assert int((tmp_path / "pool.txt").read_text()) != os.getpid()


def stage_warn(ctx: Ctx) -> dict:
    """Issues an ignored and a shown warning and logs at INFO and WARNING, reporting what got through."""
    import logging
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.warn("library noise the parent ignores", UserWarning, stacklevel=1)
        warnings.warn("a warning the user should see", UserWarning, stacklevel=1)
    root = logging.getLogger()
    return {"outputs": [], "warnings": [str(w.message) for w in seen], "level": root.level,
            "format": next((h.formatter._fmt for h in root.handlers if h.formatter), None)}


@pytest.mark.slow
def test_background_process_warns_and_logs_like_its_parent(tmp_path: Path) -> None:
    import logging
    import warnings

    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("CHILD-TEST %(message)s"))
    old_level, old_handlers = root.level, root.handlers[:]
    root.handlers[:] = [handler]  # as the CLI configures it (pytest adds its own handlers)
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")  # shown ones are recorded, not swallowed by the registry
            warnings.filterwarnings("ignore", message="library noise")
            res = execute([Stage("w", stage_warn)], Ctx(tmp_path, "h"), background=["w"])
    finally:
        root.handlers[:] = old_handlers
        root.setLevel(old_level)
    summary = res[0].summary
    assert res[0].background
    assert summary["warnings"] == ["a warning the user should see"]
    assert summary["level"] == logging.ERROR and summary["format"] == "CHILD-TEST %(message)s"
