"""What one array task and the merge job of a chunked run compute.

A chunked run splits the **exposure stage** (the gridded part, whose cost grows with grid resolution x
scenarios x climate models x years) into one array task per ``(scenario, climate_model)`` pair. Each task
builds the whole run's lazy exposure graph, selects its pair and computes only that slice, so cross-chunk
quantities (e.g. the present-climate baseline, averaged over scenarios) and the emulator's per-block random
streams are exactly those of a single-machine run. The merge job combines the chunks into
``exposure/exposure.nc`` (checkpointed as the exposure stage by the pipeline's own runner) and then runs
:func:`climmig.pipeline.run.run_pipeline`, which finds exposure current and runs the remaining stages (fits,
projection, interventions, report), so a chunked run ends with the same outputs as ``climmig run``.

The built-in self-test workload (:mod:`climmig.hpc.selftest`) runs through the same chunk machinery and
needs no input data; it checks a site profile end to end.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import xarray as xr

from climmig.config import RunConfig, load_config, science_hash
from climmig.config.schema_site import ComputeSpec
from climmig.hpc.chunks import merge_chunks, run_chunk
from climmig.hpc.render import chunk_table
from climmig.io import write_zarr

__all__ = ["checkpoint_merged_exposure", "compute_exposure_chunk", "merge_run", "merged_exposure_stage", "run_task",
           "task_compute_spec"]

logger = logging.getLogger(__name__)

#: stores of the chunks of the exposure stage (NetCDF keeps the fixed-width string coordinates portable)
EXPOSURE_CHUNK_FORMAT = "netcdf"


def task_compute_spec(spec: ComputeSpec, environ: dict[str, str] | None = None) -> ComputeSpec:
    """The compute backend of one SLURM task: with ``threads``, one thread per CPU SLURM gave the task.

    Parameters
    ----------
    spec : ComputeSpec
        The config's ``compute`` section (never part of the science hash).
    environ : dict, optional
        Environment (default ``os.environ``); reads ``SLURM_CPUS_PER_TASK``.

    Returns
    -------
    ComputeSpec
        ``spec`` unchanged outside SLURM or for distributed backends.
    """
    env = os.environ if environ is None else environ
    cpus = env.get("SLURM_CPUS_PER_TASK", "")
    if spec.backend != "threads" or not cpus.isdigit() or int(cpus) < 1:
        return spec
    return spec.model_copy(update={"n_workers": int(cpus), "threads_per_worker": 1})


def compute_exposure_chunk(cfg: RunConfig, catalog: Any, scenario: str, climate_model: str) -> xr.Dataset:
    """The exposure dataset of one ``(scenario, climate_model)`` pair, computed.

    Parameters
    ----------
    cfg : RunConfig
        The whole run's config (all scenarios and climate models: the graph is the single-machine one).
    catalog : climmig.catalog.ResolvedCatalog
        Catalog of the run.
    scenario, climate_model : str
        The chunk.

    Returns
    -------
    xr.Dataset
        :func:`climmig.exposure.build_exposure` selected to length-1 ``scenario`` and ``climate_model``
        dims (variables without these dims, such as ``agricultural_share``, are kept whole).
    """
    from climmig.compute import get_client
    from climmig.exposure import build_exposure

    lazy = build_exposure(cfg, catalog)
    part = lazy.sel(scenario=[scenario], climate_model=[climate_model])
    with get_client(task_compute_spec(cfg.compute)):
        return part.compute()


def run_task(config: str | Path, task: int, run_dir: str | Path, *, selftest: bool = False) -> Path:
    """Run array task ``task`` of a chunked run: compute its chunk unless it is already complete.

    Parameters
    ----------
    config : str or Path
        Run config.
    task : int
        Array task index (``$SLURM_ARRAY_TASK_ID``).
    run_dir : str or Path
        Run directory; the chunk goes to ``run_dir/chunks/``.
    selftest : bool
        Compute the self-test workload instead of the exposure stage.

    Returns
    -------
    Path
        The chunk's store.
    """
    cfg = load_config(config)
    table = chunk_table(cfg)
    if selftest:
        from climmig.hpc.selftest import compute_selftest_chunk

        return run_chunk(task, run_dir, science_hash(cfg),
                         lambda c: compute_selftest_chunk(cfg, str(c["scenario"]), str(c["climate_model"])),
                         chunks=table, seed=cfg.seed)
    from climmig.catalog import load_catalog
    from climmig.config import catalog_path

    catalog = load_catalog(catalog_path(cfg, Path(config)))
    return run_chunk(task, run_dir, science_hash(cfg),
                     lambda c: compute_exposure_chunk(cfg, catalog, str(c["scenario"]), str(c["climate_model"])),
                     chunks=table, seed=cfg.seed, fmt=EXPOSURE_CHUNK_FORMAT)


def merged_exposure_stage(n_chunks: int) -> Callable[[Any], dict[str, Any]]:
    """A replacement for the pipeline's exposure stage that merges the chunks instead of computing them.

    Parameters
    ----------
    n_chunks : int
        Number of chunks of the run.

    Returns
    -------
    callable
        ``stage(ctx) -> summary``, the function of a :class:`climmig.pipeline.runner.Stage` named
        ``exposure``; it writes ``exposure/exposure.nc`` and ``exposure/exposure.zarr`` as the
        single-machine stage does.
    """

    def stage(ctx: Any) -> dict[str, Any]:
        from climmig.exposure.output import finalise_exposure, write_exposure

        merged = merge_chunks(ctx.run_dir, n_chunks, ctx.cfg_hash)
        # combine_by_coords sorts the labels; restore the order of the config (and of a single-machine run)
        merged = merged.sel(scenario=list(ctx.cfg.scenarios), climate_model=list(ctx.cfg.climate_models))
        ds = finalise_exposure(merged, ctx.cfg, ctx.catalog).load()
        paths = write_exposure(ds, ctx.path("exposure"))
        return {"outputs": [str(p.relative_to(ctx.run_dir)) for p in paths],
                "emulated": ds.attrs.get("climmig_emulated", "false"), "merged_chunks": n_chunks}

    return stage


def checkpoint_merged_exposure(ctx: Any, n_chunks: int) -> list[Any]:
    """Run the ``inputs`` and (merged) ``exposure`` stages with the pipeline's own runner.

    Parameters
    ----------
    ctx : climmig.pipeline.context.RunContext
        The run.
    n_chunks : int
        Number of chunks of the run.

    Returns
    -------
    list of climmig.pipeline.runner.StageResult
        Afterwards ``run_pipeline`` finds exposure current (same record format as a single-machine run).
    """
    import dataclasses

    from climmig.pipeline.runner import execute
    from climmig.pipeline.stages import build_stages

    first = [dataclasses.replace(s, func=merged_exposure_stage(n_chunks)) if s.name == "exposure" else s
             for s in build_stages() if s.name in ("inputs", "exposure")]
    return execute(first, ctx)


def merge_run(config: str | Path, run_dir: str | Path, *, selftest: bool = False, progress: bool = False) -> Path:
    """The merge job: combine the chunks and finish the run (refuses while a chunk is missing or stale).

    Parameters
    ----------
    config : str or Path
        Run config.
    run_dir : str or Path
        Run directory.
    selftest : bool
        Merge the self-test chunks into ``run_dir/selftest.zarr`` instead of finishing a run.
    progress : bool
        Show the pipeline's progress output.

    Returns
    -------
    Path
        ``run_dir/selftest.zarr``, or the run directory (with the outputs of every stage) for a run.

    Raises
    ------
    climmig.hpc.ChunkError, climmig.errors.ProvenanceMismatchError
        If a chunk is missing or was made from another config.
    """
    cfg = load_config(config)
    n = len(chunk_table(cfg))
    if selftest:
        merged = merge_chunks(run_dir, n, science_hash(cfg))
        return write_zarr(merged.chunk(), Path(run_dir) / "selftest.zarr")
    from climmig.pipeline.context import make_context
    from climmig.pipeline.run import run_pipeline

    # fail before anything is written if a chunk is missing or stale
    merge_chunks(run_dir, n, science_hash(cfg)).close()
    # checkpoint the exposure stage from the chunks, then run the whole pipeline, which finds exposure
    # current and runs the stages after it
    checkpoint_merged_exposure(make_context(config, output=run_dir, progress=progress, cfg=cfg), n)
    summary = run_pipeline(config, output=run_dir, progress=progress)
    logger.info("%s", summary.text())
    return summary.run_dir
