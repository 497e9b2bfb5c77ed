"""Direct Zarr chunk reads (``climmig.io.direct``, ``open_zarr(direct=..., prefetch=...)``): the same values,
encoding and exposure sums as zarr-python's reader, with and without read-ahead hints; edge and missing chunks;
fall-back for compressed, Zarr v2 and scaled variables; the direction logic of the read-ahead hints."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import dask
import numpy as np
import pytest
import xarray as xr
import zarr
from zarr.codecs import ZstdCodec

import climmig.io.direct as direct
from climmig.exposure import region_exceedance_sums
from climmig.io import open_zarr
from climmig.io.direct import ChunkPrefetcher, direct_readable

CHUNKS = (1, 2, 7, 6, 10)  # edge chunks along model, year, lat and lon


@pytest.fixture(autouse=True)
def _quiet() -> None:
    # string coordinates have no Zarr v3 dtype spec yet
    warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification.*")
    warnings.filterwarnings("ignore", message=".*consolidated metadata.*")


def _field(rng: np.random.Generator) -> xr.Dataset:
    x = rng.standard_normal((2, 3, 16, 13, 24)).astype(np.float32)
    x[0, 1, 3, 4, :5] = np.nan
    return xr.Dataset(
        {"indicator": (("scenario", "climate_model", "year", "lat", "lon"), x, {"units": "1"})},
        coords={"scenario": ["a", "b"], "climate_model": ["m1", "m2", "m3"], "year": np.arange(2020, 2036),
                "lat": np.linspace(-60, 60, 13), "lon": np.linspace(-180, 165, 24)})


def _store(tmp_path: Path, ds: xr.Dataset, name: str = "h.zarr", **enc: object) -> Path:
    path = tmp_path / name
    encoding = {"indicator": {"compressors": None, "chunks": CHUNKS, **enc}}
    ds.to_zarr(path, mode="w", encoding=encoding, consolidated=False, zarr_format=3)
    return path


def _weights(ds: xr.Dataset, rng: np.random.Generator) -> xr.DataArray:
    ny, nx = ds.sizes["lat"], ds.sizes["lon"]
    w = rng.random((3, ny, nx)).astype(np.float32) * (rng.random((3, ny, nx)) > 0.4)
    return xr.DataArray(w, dims=("region", "lat", "lon"),
                        coords={"region": ["A", "B", "C"], "lat": ds["lat"].values, "lon": ds["lon"].values})


def _is_direct(da: xr.DataArray) -> bool:
    return any(str(k).startswith("open_zarr-direct") for k in da.data.dask.layers)


@pytest.mark.parametrize("prefetch", [0, 2, 8])
def test_direct_reads_equal_zarr_python(tmp_path: Path, rng: np.random.Generator, prefetch: int) -> None:
    ds = _field(rng)
    path = _store(tmp_path, ds)
    ref = open_zarr(path, direct=False)
    got = open_zarr(path, prefetch=prefetch)
    assert _is_direct(got["indicator"]) and not _is_direct(ref["indicator"])
    assert got["indicator"].data.chunks == ref["indicator"].data.chunks
    np.testing.assert_array_equal(got["indicator"].values, ds["indicator"].values)  # NaN == NaN here
    assert got["indicator"].attrs == ref["indicator"].attrs
    assert set(got["indicator"].encoding) == set(ref["indicator"].encoding)
    xr.testing.assert_identical(got, ref)


def test_exposure_identical_with_and_without_direct_reads_and_prefetch(tmp_path: Path,
                                                                        rng: np.random.Generator) -> None:
    ds = _field(rng)
    path = _store(tmp_path, ds)
    w = _weights(ds, rng)
    outs = []
    for kw in ({"direct": False}, {"prefetch": 0}, {"prefetch": 4}):
        with dask.config.set(scheduler="threads", num_workers=4):
            outs.append(region_exceedance_sums(open_zarr(path, **kw)["indicator"], w, 0.5).compute())
    for out in outs[1:]:
        xr.testing.assert_identical(out, outs[0])  # bit for bit


def test_missing_chunk_reads_fill_value(tmp_path: Path, rng: np.random.Generator) -> None:
    path = _store(tmp_path, _field(rng))
    (path / "indicator" / "c" / "1" / "1" / "2" / "2" / "2").unlink()  # the last (edge) chunk
    ref = open_zarr(path, direct=False)["indicator"].values
    got = open_zarr(path)["indicator"].values
    assert np.isnan(got[1, 2, 14:, 12:, 20:]).all() and not np.isnan(got[1, 1]).any()
    np.testing.assert_array_equal(got, ref)


def test_truncated_chunk_file_raises(tmp_path: Path, rng: np.random.Generator) -> None:
    path = _store(tmp_path, _field(rng))
    f = path / "indicator" / "c" / "0" / "0" / "0" / "0" / "0"
    f.write_bytes(f.read_bytes()[:-4])
    with pytest.raises(ValueError, match="does not hold"):
        open_zarr(path)["indicator"].isel(scenario=0, climate_model=0, year=0).load()


def test_other_chunks_are_rechunked(tmp_path: Path, rng: np.random.Generator) -> None:
    ds = _field(rng)
    path = _store(tmp_path, ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # chunks that split stored chunks
        ref = open_zarr(path, chunks={"lat": 4, "year": -1}, direct=False)
        got = open_zarr(path, chunks={"lat": 4, "year": -1})
    assert got["indicator"].data.chunks == ref["indicator"].data.chunks
    np.testing.assert_array_equal(got["indicator"].values, ds["indicator"].values)


def test_compressed_scaled_and_v2_arrays_use_zarr_python(tmp_path: Path, rng: np.random.Generator) -> None:
    ds = _field(rng)
    zstd = _store(tmp_path, ds, "zstd.zarr", compressors=ZstdCodec(level=1))
    assert not direct_readable(zarr.open_array(zstd / "indicator", mode="r"))
    scaled = tmp_path / "scaled.zarr"
    ds.to_zarr(scaled, encoding={"indicator": {"dtype": "int16", "scale_factor": 0.01, "_FillValue": -9999,
                                               "compressors": None, "chunks": CHUNKS}},
               consolidated=False, zarr_format=3)
    v2 = tmp_path / "v2.zarr"
    ds.to_zarr(v2, encoding={"indicator": {"compressors": None, "chunks": CHUNKS}}, consolidated=False,
               zarr_format=2)
    masked = tmp_path / "masked.zarr"
    ds.to_zarr(masked, encoding={"indicator": {"_FillValue": -1.0, "compressors": None, "chunks": CHUNKS}},
               consolidated=False, zarr_format=3)
    for path in (zstd, scaled, v2, masked):
        got, ref = open_zarr(path), open_zarr(path, direct=False)
        assert not _is_direct(got["indicator"])
        xr.testing.assert_identical(got, ref)


def test_direct_array_pickles(tmp_path: Path, rng: np.random.Generator) -> None:
    ds = _field(rng)
    data = open_zarr(_store(tmp_path, ds))["indicator"].data
    again = pickle.loads(pickle.dumps(data))  # as a process scheduler would ship it
    np.testing.assert_array_equal(again.compute(scheduler="sync"), ds["indicator"].values)


def test_prefetch_follows_the_direction_of_reads() -> None:
    pf = ChunkPrefetcher(lambda i: f"c{i}", nchunks=20, window=3)
    assert pf.ahead(10) == []  # direction unknown yet
    assert pf.ahead(9) == [8, 7, 6]  # going down
    assert pf.ahead(8) == [5]  # 7, 6 already hinted
    up = ChunkPrefetcher(lambda i: f"c{i}", nchunks=20, window=3)
    up.ahead(17)
    assert up.ahead(18) == [19]  # clipped at the end of the grid
    rand = ChunkPrefetcher(lambda i: f"c{i}", nchunks=20, window=3)
    assert [rand.ahead(i) for i in (3, 11, 7, 15)] == [[], [], [], []]
    assert ChunkPrefetcher(lambda i: f"c{i}", nchunks=20, window=0).ahead(5) == []


def test_prefetch_hints_existing_chunk_files(tmp_path: Path, rng: np.random.Generator,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = _store(tmp_path, _field(rng))
    hinted: list[str] = []
    monkeypatch.setattr(direct, "_advise_willneed", hinted.append)
    monkeypatch.setattr(direct, "_HAS_FADVISE", True)
    open_zarr(path, prefetch=2)["indicator"].compute(scheduler="sync")
    assert hinted and all(Path(p).is_file() and Path(p).is_relative_to(path / "indicator" / "c") for p in hinted)
    assert len(hinted) == len(set(hinted))  # each chunk hinted once in one pass
