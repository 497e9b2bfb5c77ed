"""Run a whole config: context, checkpointed stages, manifest, summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from climmig.errors import ProvenanceMismatchError
from climmig.pipeline.context import RunContext, make_context
from climmig.pipeline.manifest import write_manifest, write_resolved_config
from climmig.pipeline.runner import Stage, StageResult, execute, record_path
from climmig.pipeline.stages import build_stages

__all__ = ["RunSummary", "run_pipeline"]


@dataclass
class RunSummary:
    """What a run did and where its outputs are."""

    run_dir: Path
    results: list[StageResult]
    headline: list[str] = field(default_factory=list)

    def text(self) -> str:
        """A short human-readable summary for the terminal."""
        lines = [f"outputs in {self.run_dir}"]
        for r in self.results:
            lines.append(f"  {r.name:<14} {r.status:<8} {r.seconds:7.1f} s")
        lines += self.headline
        return "\n".join(lines)


def _outputs(run_dir: Path, stages: list[Stage]) -> list[str]:
    out: list[str] = []
    for s in stages:
        p = record_path(run_dir, s.name)
        if p.exists():
            out += list(json.loads(p.read_text()).get("outputs", {}))
    return out


def run_pipeline(config: str | Path, *, output: str | Path | None = None, only: list[str] | None = None,
                 force: bool = False, progress: bool = True, console: Console | None = None,
                 expect_hash: str | None = None,
                 expect_inputs: dict[str, dict[str, str]] | None = None) -> RunSummary:
    """Run the stages of a config in order, skipping current checkpoints, and write the manifest.

    Parameters
    ----------
    config : str or Path
        Run config.
    output : str or Path, optional
        Run directory override.
    only : list of str, optional
        Stages to run (with what they need).
    force : bool
        Rerun selected stages even if current.
    progress : bool
        Show progress.
    console : rich.console.Console, optional
        Where progress goes.
    expect_hash : str, optional
        Refuse to run unless the config's science hash equals this (used by ``climmig rerun``).
    expect_inputs : dict, optional
        Refuse to finish unless the verified input checksums equal these.

    Returns
    -------
    RunSummary
    """
    console = console or Console(stderr=True, highlight=False)
    ctx: RunContext = make_context(config, output=output, progress=progress)
    if expect_hash is not None and ctx.cfg_hash != expect_hash:
        raise ProvenanceMismatchError(
            f"config {config} hashes to {ctx.cfg_hash[:16]}..., the manifest says {expect_hash[:16]}...; "
            "the resolved config was edited"
        )
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    write_resolved_config(ctx.cfg, ctx.catalog.file, ctx.run_dir)
    stages = build_stages()

    def on_start(stage: Stage) -> None:
        if progress:
            console.print(f"[bold]>[/] {stage.name}: {stage.description}")

    def on_done(stage: Stage, res: StageResult) -> None:
        if progress:
            what = "up to date, skipped" if res.status == "skipped" else f"done in {res.seconds:.1f} s"
            console.print(f"  {stage.name}: {what}")

    results = execute(stages, ctx, only=only, force=force, on_start=on_start, on_done=on_done)
    inputs_file = ctx.path("inputs.json")
    inputs = json.loads(inputs_file.read_text())["entries"] if inputs_file.exists() else {}
    if expect_inputs is not None and inputs != expect_inputs:
        changed = sorted(k for k in set(inputs) | set(expect_inputs) if inputs.get(k) != expect_inputs.get(k))
        raise ProvenanceMismatchError(f"input data differ from the manifest for {changed}; cannot rerun exactly")
    flags: dict[str, Any] = {}
    headline: list[str] = []
    for r in results:
        headline += [str(x) for x in r.summary.get("headline", [])]
        if r.summary.get("unconverged_fit"):
            flags["unconverged_fit"] = True
    write_manifest(ctx.run_dir, ctx.cfg, config_file=ctx.config_file, catalog_file=ctx.catalog.file,
                   inputs=inputs, stages=[{"name": r.name, "status": r.status, "seconds": round(r.seconds, 3)}
                                          for r in results],
                   outputs=_outputs(ctx.run_dir, stages), flags=flags)
    return RunSummary(run_dir=ctx.run_dir, results=results, headline=headline)
