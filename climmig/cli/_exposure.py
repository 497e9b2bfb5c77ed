"""``climmig exposure CONFIG``: build the exposure dataset of a run and write it (NetCDF + Zarr)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from climmig.cli import app


@app.command()
def exposure(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Output directory (default: outputs.run_dir "
                                       "of the config, /exposure)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Build hazard and livelihood layers on one grid and write people exposed per region (exposure.nc/.zarr)."""
    import dask
    from dask.diagnostics import ProgressBar

    from climmig.catalog import load_catalog
    from climmig.config import load_config
    from climmig.config.load import catalog_path
    from climmig.exposure import build_exposure
    from climmig.exposure.output import finalise_exposure, write_exposure
    from climmig.pipeline.context import resolve_run_dir

    out = Console(highlight=False)
    cfg = load_config(config)
    catalog = load_catalog(catalog_path(cfg, config))
    # --output names the exposure directory itself here, not the run directory
    outdir = Path(output).expanduser() if output is not None else resolve_run_dir(cfg, config) / "exposure"
    t0 = time.perf_counter()
    ds = finalise_exposure(build_exposure(cfg, catalog), cfg, catalog)
    out.print(f"built the exposure graph in {time.perf_counter() - t0:.1f} s; computing "
              f"{ds.sizes['hazard']} hazards x {ds.sizes['scenario']} scenarios x {ds.sizes['climate_model']} "
              f"climate models x {ds.sizes['year']} years x {ds.sizes['region']} regions")
    workers = cfg.compute.n_workers * cfg.compute.threads_per_worker
    with dask.config.set(scheduler="threads", num_workers=workers):
        if progress:
            with ProgressBar(minimum=0.5):
                ds = ds.compute()
        else:
            ds = ds.compute()
    paths = write_exposure(ds, outdir)
    out.print(f"wrote {', '.join(str(p) for p in paths)} in {time.perf_counter() - t0:.1f} s "
              f"(emulated hazards: {ds.attrs.get('climmig_emulated')})")
