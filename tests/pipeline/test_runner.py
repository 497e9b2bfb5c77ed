"""Checkpointing: stages rerun only when their config, upstream or outputs change."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from climmig.errors import ClimmigError
from climmig.io.writers import write_text
from climmig.pipeline import Stage, execute, stage_seed


@dataclass
class Ctx:
    run_dir: Path
    cfg_hash: str
    value: int = 1


def _stages(calls: list[str]) -> list[Stage]:
    def a(ctx: Ctx) -> dict:
        calls.append("a")
        write_text(str(ctx.value), ctx.run_dir / "a.txt")
        return {"outputs": ["a.txt"], "value": ctx.value}

    def b(ctx: Ctx) -> dict:
        calls.append("b")
        v = int((ctx.run_dir / "a.txt").read_text()) * 10
        write_text(str(v), ctx.run_dir / "b.txt")
        return {"outputs": ["b.txt"]}

    return [Stage("a", a), Stage("b", b, depends_on=("a",))]


def test_second_run_skips_everything(tmp_path: Path) -> None:
    calls: list[str] = []
    ctx = Ctx(tmp_path, "h1")
    r1 = execute(_stages(calls), ctx)
    r2 = execute(_stages(calls), ctx)
    assert [r.status for r in r1] == ["ran", "ran"]
    assert [r.status for r in r2] == ["skipped", "skipped"]
    assert calls == ["a", "b"]
    assert r2[0].summary["value"] == 1


def test_config_change_reruns(tmp_path: Path) -> None:
    calls: list[str] = []
    execute(_stages(calls), Ctx(tmp_path, "h1"))
    execute(_stages(calls), Ctx(tmp_path, "h2", value=2))
    assert calls == ["a", "b", "a", "b"]
    assert (tmp_path / "b.txt").read_text() == "20"


def test_new_stage_version_reruns_it_and_downstream(tmp_path: Path) -> None:
    """A release that changes what a stage writes recomputes it in existing run directories."""
    import dataclasses
    import json

    calls: list[str] = []
    execute(_stages(calls), Ctx(tmp_path, "h1"))
    assert json.loads((tmp_path / "stages" / "a.json").read_text())["stage_version"] == 1
    bumped = [dataclasses.replace(s, version=2) if s.name == "a" else s for s in _stages(calls)]
    res = execute(bumped, Ctx(tmp_path, "h1"))
    assert [r.status for r in res] == ["ran", "ran"]
    assert [r.status for r in execute(bumped, Ctx(tmp_path, "h1"))] == ["skipped", "skipped"]
    assert calls == ["a", "b", "a", "b"]


def test_edited_output_is_detected(tmp_path: Path) -> None:
    calls: list[str] = []
    execute(_stages(calls), Ctx(tmp_path, "h1"))
    (tmp_path / "b.txt").write_text("garbage")
    execute(_stages(calls), Ctx(tmp_path, "h1"))
    assert calls == ["a", "b", "b"]
    assert (tmp_path / "b.txt").read_text() == "10"


def test_interrupted_stage_reruns_and_downstream_follows(tmp_path: Path) -> None:
    calls: list[str] = []
    stages = _stages(calls)

    def boom(ctx: Ctx) -> dict:
        raise KeyboardInterrupt

    broken = [stages[0], Stage("b", boom, depends_on=("a",))]
    with pytest.raises(KeyboardInterrupt):
        execute(broken, Ctx(tmp_path, "h1"))
    assert not (tmp_path / "stages" / "b.json").exists()
    res = execute(stages, Ctx(tmp_path, "h1"))
    assert [r.status for r in res] == ["skipped", "ran"]


def test_force_and_only(tmp_path: Path) -> None:
    calls: list[str] = []
    execute(_stages(calls), Ctx(tmp_path, "h1"), only=["a"])
    assert calls == ["a"]
    execute(_stages(calls), Ctx(tmp_path, "h1"), only=["b"])
    assert calls == ["a", "b"]
    execute(_stages(calls), Ctx(tmp_path, "h1"), only=["a"], force=True)
    assert calls == ["a", "b", "a"]
    with pytest.raises(ClimmigError, match="unknown stage"):
        execute(_stages(calls), Ctx(tmp_path, "h1"), only=["c"])


def test_stage_seed_stable_and_distinct() -> None:
    assert stage_seed(1, "fit") == stage_seed(1, "fit")
    assert stage_seed(1, "fit") != stage_seed(1, "project") != stage_seed(2, "fit")


def test_on_demand_stages_run_only_when_named(tmp_path: Path) -> None:
    """Outputs a command needs and a whole run does not (``climmig compare``'s figures) are stages too."""
    calls: list[str] = []
    stages = _stages(calls)

    def figures(ctx: Ctx) -> dict:
        calls.append("figures")
        write_text("png", ctx.run_dir / "f.png")
        return {"outputs": ["f.png"]}

    stages.append(Stage("figures", figures, depends_on=("b",), on_demand=True))
    ctx = Ctx(tmp_path, "h1")
    assert [r.name for r in execute(stages, ctx)] == ["a", "b"] and calls == ["a", "b"]
    assert [r.status for r in execute(stages, ctx, only=["figures"])] == ["skipped", "skipped", "ran"]
    assert [r.status for r in execute(stages, ctx, only=["figures"])] == ["skipped", "skipped", "skipped"]
    # forcing a whole run reruns the regular stages only; when their outputs changed (another value under
    # the same config hash, as a new climmig release would write) the on-demand one is stale, rerun when named
    execute(stages, Ctx(tmp_path, "h1", value=2), force=True)
    assert calls == ["a", "b", "figures", "a", "b"]
    assert [r.status for r in execute(stages, ctx, only=["figures"])] == ["skipped", "skipped", "ran"]
