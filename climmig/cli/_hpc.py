"""``climmig hpc ...``: render and submit SLURM job scripts, check chunk status, and the self-test workload."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from climmig.cli import app
from climmig.config import RunConfig, load_config, science_hash

__all__ = ["hpc_app"]

hpc_app = typer.Typer(help="Run on a SLURM cluster: render and submit job scripts, check and merge chunks.",
                      no_args_is_help=True)
app.add_typer(hpc_app, name="hpc")

_SITE = typer.Option(..., "--site", "-s", help="Site profile: a name in hpc/sites/ or a YAML file.")
_OUTPUT = typer.Option(None, "--output", "-o", help="Run directory (default: outputs.run_dir of the config).")


def _run_dir(cfg: RunConfig, config: Path, output: Path | None) -> Path:
    # same rule as the pipeline: --output, else outputs.run_dir relative to the config file
    if output is not None:
        return Path(output).expanduser().resolve()
    p = Path(cfg.outputs.run_dir.replace("${run_id}", cfg.run_id)).expanduser()
    if not p.is_absolute():
        p = config.resolve().parent / p
    return p.resolve()


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
    run_dir = _run_dir(cfg, config, output)
    scripts = render_scripts(cfg, load_site(site), config, run_dir, selftest=selftest)
    paths = write_scripts(scripts, out if out is not None else run_dir / "slurm")
    for name, path in paths.items():
        typer.echo(f"# ---- {path}")
        typer.echo(scripts[name])


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
    run_dir = _run_dir(cfg, config, output)
    sub = submit_run(cfg, load_site(site), config, run_dir, selftest=selftest, resubmit_all=all_chunks)
    if sub.array_job_id:
        typer.echo(f"array job {sub.array_job_id} (tasks {','.join(map(str, sub.tasks))})")
    else:
        typer.echo("all chunks complete; no array job")
    typer.echo(f"merge job {sub.merge_job_id}")
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
    run_dir = _run_dir(cfg, config, output)
    h = science_hash(cfg)
    out = Console(highlight=False)
    counts: dict[str, int] = {}
    for row in chunk_table(cfg):
        st = chunk_status(run_dir, int(row["task"]), h)
        counts[st] = counts.get(st, 0) + 1
        out.print(f"{row['task']:>5}  {row['scenario']:<10} {row['climate_model']:<20} {st}")
    out.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


@hpc_app.command("selftest-chunk")
def selftest_chunk(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    chunk: int = typer.Option(..., "--chunk", help="Array task index (scenario x climate_model)."),
    output: Path | None = _OUTPUT,
) -> None:
    """Compute one chunk of the self-test workload through the resumable chunk runner."""
    from climmig.hpc.chunks import run_chunk
    from climmig.hpc.render import chunk_table
    from climmig.hpc.selftest import compute_selftest_chunk

    cfg = load_config(config)
    run_dir = _run_dir(cfg, config, output)
    table = chunk_table(cfg)
    path = run_chunk(
        chunk, run_dir, science_hash(cfg),
        lambda c: compute_selftest_chunk(cfg, str(c["scenario"]), str(c["climate_model"])),
        chunks=table, seed=cfg.seed,
    )
    typer.echo(str(path))


@hpc_app.command("selftest-merge")
def selftest_merge(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    output: Path | None = _OUTPUT,
) -> None:
    """Merge all self-test chunks into RUN_DIR/selftest.zarr (refuses if a chunk is missing or stale)."""
    from climmig.hpc.chunks import merge_chunks
    from climmig.hpc.render import chunk_table
    from climmig.io import write_zarr

    cfg = load_config(config)
    run_dir = _run_dir(cfg, config, output)
    merged = merge_chunks(run_dir, len(chunk_table(cfg)), science_hash(cfg))
    path = write_zarr(merged.chunk(), run_dir / "selftest.zarr")
    typer.echo(str(path))

