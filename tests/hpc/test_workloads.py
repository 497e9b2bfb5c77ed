"""Chunked exposure stage: array-task chunks merge to exactly the single-machine exposure output."""

from __future__ import annotations

import pytest
import xarray as xr

from climmig.config.schema import ComputeSpec
from climmig.hpc import ChunkError, chunk_status, chunk_table
from climmig.hpc.workloads import checkpoint_merged_exposure, merge_run, run_task, task_compute_spec


@pytest.fixture
def unsorted_config(small_dict, write_config):
    # labels not in sorted order: the merge must restore the config's order, as a single-machine run has it
    return write_config({**small_dict, "scenarios": ["ssp585", "ssp126"],
                         "climate_models": ["MRI-ESM2-0", "GFDL-ESM4"]}, "unsorted.yaml")


@pytest.mark.slow
def test_exposure_chunks_merge_to_the_single_machine_exposure(unsorted_config, tmp_path):
    from climmig.pipeline.context import make_context
    from climmig.pipeline.runner import stage_is_current
    from climmig.pipeline.stages import build_stages, stage_exposure

    ref = make_context(unsorted_config, output=tmp_path / "single", progress=False)
    stage_exposure(ref)
    run = tmp_path / "chunked"
    ctx = make_context(unsorted_config, output=run, progress=False)
    table = chunk_table(ctx.cfg)
    for row in reversed(table):  # completion order must not matter
        path = run_task(unsorted_config, int(row["task"]), run)
        assert path.suffix == ".nc" and chunk_status(run, int(row["task"]), ctx.cfg_hash) == "done"
    results = checkpoint_merged_exposure(ctx, len(table))
    assert [r.status for r in results] == ["ran", "ran"] and results[1].summary["merged_chunks"] == 4
    # the pipeline's own runner accepts the merged exposure as a current checkpoint
    exposure = next(s for s in build_stages() if s.name == "exposure")
    assert stage_is_current(run, exposure, ctx.cfg_hash)
    for name in ("exposure.nc", "exposure.zarr"):
        engine = "zarr" if name.endswith("zarr") else None
        with xr.open_dataset(ref.path("exposure", name), engine=engine) as a, \
                xr.open_dataset(run / "exposure" / name, engine=engine) as b:
            assert list(b["scenario"].values) == ["ssp585", "ssp126"]
            assert list(b["climate_model"].values) == ["MRI-ESM2-0", "GFDL-ESM4"]
            xr.testing.assert_equal(a, b)  # values, dims, coords: bit for bit
            for v in a.variables:
                assert a[v].attrs == b[v].attrs, v
            drop = {"history", "climmig_chunks"}
            assert {k: v for k, v in a.attrs.items() if k not in drop} == \
                   {k: v for k, v in b.attrs.items() if k not in drop}
            assert a.attrs["climmig_config_sha256"] == ctx.cfg_hash


def test_merge_refuses_before_the_pipeline_starts(small_config, tmp_path):
    run_task(small_config, 0, tmp_path, selftest=True)
    with pytest.raises(ChunkError, match=r"\[1, 2, 3\]"):
        merge_run(small_config, tmp_path)
    assert not (tmp_path / "stages").exists()


@pytest.mark.parametrize("env, backend, workers", [
    ({"SLURM_CPUS_PER_TASK": "4"}, "threads", 4),
    ({}, "threads", 2),
    ({"SLURM_CPUS_PER_TASK": "4"}, "local", 2),
    ({"SLURM_CPUS_PER_TASK": "x"}, "threads", 2),
])
def test_task_threads_follow_the_slurm_allocation(env, backend, workers):
    spec = task_compute_spec(ComputeSpec(backend=backend, n_workers=2), env)
    assert spec.n_workers == workers
