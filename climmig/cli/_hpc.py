"""``climmig hpc ...``: render and submit SLURM job scripts, check chunk status, and the self-test workload."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from climmig.cli import app
from climmig.config import load_config, science_hash
from climmig.pipeline.context import resolve_run_dir

__all__ = ["hpc_app"]

hpc_app = typer.Typer(help="Run on a SLURM cluster: render and submit job scripts, check and merge chunks.",
                      no_args_is_help=True)
app.add_typer(hpc_app, name="hpc")

_SITE = typer.Option(..., "--site", "-s", help="Site profile: a YAML file, or the name of one shipped in climmig/data/hpc/sites/ (local, example-cluster).")
_OUTPUT = typer.Option(None, "--output", "-o", help="Run directory (default: outputs.run_dir of the config).")


@hpc_app.command("render")
def render(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    site: str = _SITE,
    out: Path | None = typer.Option(None, "--out", help="Where to write the scripts (default RUN_DIR/slurm)."),
    output: Path | None = _OUTPUT,
    selftest: bool = typer.Option(False, "--selftest", help="Render the self-test workload instead of a run."),
) -> None:
    """Write the job-array, merge and dask job scripts of a run and print them."""
    from climmig.hpc.site import load_site
    from climmig.hpc.submit import render_scripts, write_scripts

    cfg = load_config(config)
    run_dir = resolve_run_dir(cfg, config, output)
    scripts = render_scripts(cfg, load_site(site), config, run_dir, selftest=selftest)
    paths = write_scripts(scripts, out if out is not None else run_dir / "slurm")
    for name, path in paths.items():
        typer.echo(f"# ---- {path}")
        typer.echo(scripts[name])
    typer.echo(f"# wrote {', '.join(str(p) for p in paths.values())}")
    typer.echo(f"# run directory {run_dir}: chunks in chunks/, logs in logs/, outputs as with `climmig run`")
    typer.echo(f"# submit: climmig hpc submit {config} --site {site} --output {run_dir}"
               + (" --selftest" if selftest else ""))


@hpc_app.command("submit")
def submit(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    site: str = _SITE,
    output: Path | None = _OUTPUT,
    selftest: bool = typer.Option(False, "--selftest", help="Submit the self-test workload instead of a run."),
    all_chunks: bool = typer.Option(False, "--all", help="Submit every chunk, not only the missing ones."),
) -> None:
    """Submit the missing chunks as a job array and the merge job after it; print the job ids."""
    from climmig.hpc.site import load_site
    from climmig.hpc.submit import submit_run

    cfg = load_config(config)
    run_dir = resolve_run_dir(cfg, config, output)
    from climmig.hpc.render import array_spec, chunk_table

    sub = submit_run(cfg, load_site(site), config, run_dir, selftest=selftest, resubmit_all=all_chunks)
    n = len(chunk_table(cfg))
    typer.echo(f"run directory: {run_dir}")
    typer.echo(f"job scripts:   {', '.join(str(p) for p in sub.scripts.values())}")
    typer.echo(f"logs:          {run_dir / 'logs'}/")
    if sub.array_job_id:
        typer.echo(f"array job {sub.array_job_id} (tasks {array_spec(sub.tasks)}: {len(sub.tasks)} of {n} chunks)")
    else:
        typer.echo(f"all {n} chunks complete; no array job")
    after = f" (starts after every task of {sub.array_job_id} succeeded)" if sub.array_job_id else ""
    typer.echo(f"merge job {sub.merge_job_id}{after}")
    ids = ",".join(j for j in (sub.array_job_id, sub.merge_job_id) if j)
    typer.echo(f"monitor: squeue -j {ids}   |   climmig hpc status {config} --output {run_dir}")
    typer.echo("resume after a failure: run this command again (only missing chunks are resubmitted)")
    typer.echo(json.dumps({"array_job_id": sub.array_job_id, "merge_job_id": sub.merge_job_id,
                           "tasks": sub.tasks, "run_dir": str(run_dir)}))


@hpc_app.command("status")
def status(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    output: Path | None = _OUTPUT,
) -> None:
    """Show which chunks of a run are done, missing or stale (made from another config)."""
    from climmig.hpc.chunks import chunk_status
    from climmig.hpc.render import chunk_table

    cfg = load_config(config)
    run_dir = resolve_run_dir(cfg, config, output)
    h = science_hash(cfg)
    out = Console(highlight=False)
    counts: dict[str, int] = {}
    for row in chunk_table(cfg):
        st = chunk_status(run_dir, int(row["task"]), h)
        counts[st] = counts.get(st, 0) + 1
        out.print(f"{row['task']:>5}  {row['scenario']:<10} {row['climate_model']:<20} {st}")
    out.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


@hpc_app.command("chunk")
def chunk(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    task: int = typer.Option(..., "--chunk", help="Array task index (scenario x climate_model)."),
    output: Path | None = _OUTPUT,
    selftest: bool = typer.Option(False, "--selftest", help="Compute the self-test workload instead."),
) -> None:
    """Compute one chunk of a run (an array task); a chunk already complete for this config is skipped."""
    from climmig.hpc.workloads import run_task

    cfg = load_config(config)
    typer.echo(str(run_task(config, task, resolve_run_dir(cfg, config, output), selftest=selftest)))


@hpc_app.command("merge")
def merge(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    output: Path | None = _OUTPUT,
    selftest: bool = typer.Option(False, "--selftest", help="Merge the self-test chunks into RUN_DIR/selftest.zarr."),
    progress: bool = typer.Option(False, "--progress/--no-progress", help="Show the stages as they run."),
) -> None:
    """Merge the chunks and run the remaining stages (refuses while a chunk is missing or stale)."""
    from climmig.hpc.workloads import merge_run

    cfg = load_config(config)
    typer.echo(str(merge_run(config, resolve_run_dir(cfg, config, output), selftest=selftest, progress=progress)))
