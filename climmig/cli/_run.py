"""``climmig run`` and ``climmig rerun``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console

from climmig.cli import app
from climmig.pipeline.manifest import read_manifest
from climmig.pipeline.run import run_pipeline


@app.command()
def run(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Run directory (overrides the config)."),
    stage: list[str] | None = typer.Option(None, "--stage", "-s", help="Run only this stage (and what it needs); repeatable."),
    force: bool = typer.Option(False, "--force", help="Rerun the selected stages even if their checkpoints are current."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Run every stage of CONFIG in order; completed stages whose inputs are unchanged are skipped."""
    console = Console(highlight=False)
    t0 = time.perf_counter()
    summary = run_pipeline(config, output=output, only=stage or None, force=force, progress=progress,
                           console=console)
    console.print(summary.text())
    console.print(f"finished in {time.perf_counter() - t0:.1f} s")


@app.command()
def rerun(
    run_dir: Path = typer.Argument(..., help="A run directory written by `climmig run`."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the rerun here instead of in place."),
) -> None:
    """Rerun a finished run exactly, from its manifest and resolved config."""
    manifest = read_manifest(run_dir)
    config = Path(run_dir) / manifest["resolved_config"]
    console = Console(highlight=False)
    summary = run_pipeline(config, output=output or Path(run_dir), force=output is None, progress=True,
                           console=console, expect_hash=manifest["config_sha256"],
                           expect_inputs=manifest["inputs"])
    console.print(summary.text())
    console.print(json.dumps({"config_sha256": manifest["config_sha256"], "rerun": str(output or run_dir)}))
