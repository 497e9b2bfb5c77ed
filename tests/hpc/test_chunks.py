"""Resumable chunk runner: skip complete chunks, atomic writes, provenance, refusing incomplete merges."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from climmig.config import science_hash
from climmig.errors import ProvenanceMismatchError
from climmig.hpc import (
    ChunkError,
    chunk_path,
    chunk_status,
    chunk_table,
    merge_chunks,
    missing_chunks,
    run_chunk,
)
from climmig.hpc.selftest import compute_selftest_chunk, compute_selftest_reference

HASH = "a" * 64


def _work(calls: list):
    def work(chunk: dict) -> xr.Dataset:
        calls.append(chunk["task"])
        value = float(chunk["task"]) + 0.5
        return xr.Dataset({"v": (("year",), np.full(3, value), {"units": "1", "long_name": "test value"})},
                          coords={"year": [2030, 2031, 2032]})
    return work


TABLE = [{"task": i, "scenario": s, "climate_model": m}
         for i, (s, m) in enumerate([("ssp126", "A-1"), ("ssp126", "LONGER-NAME-2"),
                                     ("ssp585", "A-1"), ("ssp585", "LONGER-NAME-2")])]


def test_run_chunk_writes_then_skips(tmp_path):
    calls: list = []
    p = run_chunk(1, tmp_path, HASH, _work(calls), chunks=TABLE, seed=7)
    assert p == chunk_path(tmp_path, 1) and p.is_dir()
    again = run_chunk(1, tmp_path, HASH, _work(calls), chunks=TABLE)
    assert again == p and calls == [1]
    with xr.open_zarr(p) as ds:
        assert ds.attrs["climmig_config_sha256"] == HASH
        assert ds.attrs["climmig_seed"] == "7"
        assert ds.sizes == {"scenario": 1, "climate_model": 1, "year": 3}
        assert ds.climate_model.item() == "LONGER-NAME-2"


def test_stale_chunk_is_recomputed(tmp_path):
    calls: list = []
    run_chunk(0, tmp_path, HASH, _work(calls), chunks=TABLE)
    assert chunk_status(tmp_path, 0, "b" * 64) == "stale"
    run_chunk(0, tmp_path, "b" * 64, _work(calls), chunks=TABLE)
    assert calls == [0, 0]
    assert chunk_status(tmp_path, 0, "b" * 64) == "done"


def test_failed_work_leaves_no_store(tmp_path):
    def boom(chunk):
        ds = _work([])(chunk)
        lazy = ds.v.chunk()

        def fail(block):
            raise ZeroDivisionError("killed while writing")

        return ds.assign(v=lazy.map_blocks(fail, template=lazy))  # fails while the store is written

    with pytest.raises(ZeroDivisionError):
        run_chunk(2, tmp_path, HASH, boom, chunks=TABLE)
    assert chunk_status(tmp_path, 2, HASH) == "missing"
    assert not any(p.name.startswith("2") for p in (tmp_path / "chunks").iterdir())


def test_slurm_ids_are_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "101")
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "100")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
    p = run_chunk(3, tmp_path, HASH, _work([]), chunks=TABLE)
    with xr.open_zarr(p) as ds:
        assert ds.attrs["climmig_slurm_array_job_id"] == "100"
        assert ds.attrs["climmig_slurm_array_task_id"] == "3"
        assert ds.attrs["climmig_slurm_job_id"] == "101"


def test_invalid_index(tmp_path):
    with pytest.raises(ChunkError, match="0..3"):
        run_chunk(4, tmp_path, HASH, _work([]), chunks=TABLE)


def test_missing_and_merge(tmp_path):
    for i in (0, 2, 3):
        run_chunk(i, tmp_path, HASH, _work([]), chunks=TABLE)
    assert missing_chunks(tmp_path, 4, HASH) == [1]
    with pytest.raises(ChunkError, match=r"\[1\]"):
        merge_chunks(tmp_path, 4, HASH)
    run_chunk(1, tmp_path, HASH, _work([]), chunks=TABLE)
    merged = merge_chunks(tmp_path, 4, HASH)
    assert merged.sizes == {"scenario": 2, "climate_model": 2, "year": 3}
    assert list(merged.climate_model.values) == ["A-1", "LONGER-NAME-2"]
    assert float(merged.v.sel(scenario="ssp585", climate_model="LONGER-NAME-2", year=2031)) == 3.5
    assert merged.attrs["climmig_config_sha256"] == HASH


def test_merge_refuses_stale(tmp_path):
    for i in range(4):
        run_chunk(i, tmp_path, HASH if i != 2 else "c" * 64, _work([]), chunks=TABLE)
    with pytest.raises(ProvenanceMismatchError, match=r"\[2\]"):
        merge_chunks(tmp_path, 4, HASH)


def test_netcdf_chunks(tmp_path):
    p = run_chunk(0, tmp_path, HASH, _work([]), chunks=TABLE, fmt="netcdf")
    assert p.suffix == ".nc" and chunk_status(tmp_path, 0, HASH) == "done"


@pytest.mark.slow
def test_selftest_chunks_merge_to_the_single_process_result(tmp_path, small_cfg):
    h = science_hash(small_cfg)
    table = chunk_table(small_cfg)
    for row in reversed(table):  # order of completion must not matter
        run_chunk(int(row["task"]), tmp_path, h,
                  lambda c: compute_selftest_chunk(small_cfg, c["scenario"], c["climate_model"]),
                  chunks=table)
    merged = merge_chunks(tmp_path, len(table), h).load()
    ref = compute_selftest_reference(small_cfg)
    xr.testing.assert_equal(merged.drop_attrs(), ref.drop_attrs())


def test_selftest_is_deterministic_and_depends_on_the_chunk(small_cfg):
    a = compute_selftest_chunk(small_cfg, "ssp126", "GFDL-ESM4")
    b = compute_selftest_chunk(small_cfg, "ssp126", "GFDL-ESM4")
    c = compute_selftest_chunk(small_cfg, "ssp585", "GFDL-ESM4")
    xr.testing.assert_identical(a, b)
    assert not np.allclose(a.zonal_mean_anomaly.values, c.zonal_mean_anomaly.values)
    # stronger forcing warms more by the end of the period
    assert c.area_fraction_above.isel(year=-1).item() > a.area_fraction_above.isel(year=-1).item()
    assert a.zonal_mean_anomaly.attrs["units"] == "K"


def test_sigterm_while_writing_leaves_no_store(tmp_path):
    import os
    import signal
    import time

    import dask

    def work(chunk):
        ds = _work([])(chunk)
        lazy = ds.v.chunk()

        def term(block):
            os.kill(os.getpid(), signal.SIGTERM)  # what scancel or a time limit sends
            time.sleep(2)
            return block

        return ds.assign(v=lazy.map_blocks(term, template=lazy))

    before = signal.getsignal(signal.SIGTERM)
    with dask.config.set(scheduler="synchronous"), pytest.raises(SystemExit):
        run_chunk(0, tmp_path, HASH, work, chunks=TABLE)
    assert signal.getsignal(signal.SIGTERM) is before
    assert chunk_status(tmp_path, 0, HASH) == "missing"
    assert list((tmp_path / "chunks").iterdir()) == []


def test_leftovers_of_a_killed_attempt_are_removed(tmp_path):
    leftover = tmp_path / "chunks" / ".1.zarr.tmp-deadbeef"
    leftover.mkdir(parents=True)
    (leftover / "junk").write_text("half written")
    other = tmp_path / "chunks" / ".2.zarr.tmp-cafecafe"
    other.mkdir()
    run_chunk(1, tmp_path, HASH, _work([]), chunks=TABLE)
    assert not leftover.exists() and other.exists()  # only this chunk's leftovers
    assert chunk_status(tmp_path, 1, HASH) == "done"
