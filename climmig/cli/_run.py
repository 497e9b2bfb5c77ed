"""``climmig run`` and ``climmig rerun``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console

from climmig.cli import app
from climmig.pipeline.run import rerun_pipeline, run_pipeline


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
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    catalog: Path | None = typer.Option(None, "--catalog", help="Your copy of the data catalog, if not at the "
                                        "path the run used (inputs are checked against the manifest's sha256)."),
) -> None:
    """Rerun a finished run exactly, from its manifest and resolved config, and check every output matches."""
    console = Console(highlight=False)
    summary = rerun_pipeline(run_dir, output=output, progress=progress, console=console, catalog=catalog)
    console.print(summary.text())
    if summary.verified:
        console.print(f"all {summary.verified} outputs match the manifest's content digests")
    else:
        console.print("the manifest records no output digests (older run); outputs were not compared")
    manifest = json.loads((summary.run_dir / "manifest.json").read_text())
    console.print(json.dumps({"config_sha256": manifest["config_sha256"], "rerun": str(summary.run_dir)}))
