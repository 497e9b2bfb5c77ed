"""Benchmark of the exposure reduction at global size, through the same code path as real runs.

Case: 0.5 degree global grid (360 x 720), 3 scenarios x 5 climate models x 81 years, float32, Natural Earth
admin-0 regions (~177, fractional masks) x a synthetic population grid. It measures, in one run:

1. ``stream``: a plain numpy pass over the same bytes (``np.add.reduce`` chunk by chunk, one thread: the
   memory-bandwidth yardstick of the targets), and the same on ``--workers`` threads (a stronger yardstick,
   reported alongside);
2. ``memory``: :func:`climmig.exposure.region_exceedance_sums` on the in-memory field (dask threads), with
   the region weights passed lazily (dask), as ``build_exposure`` does. Streaming and exposure passes
   alternate, ``--repeat`` times after a warm-up; the best of each is kept;
3. ``zarr``: the same on the field read from a chunked, uncompressed Zarr v3 store in a temporary directory,
   for ``--hazards`` hazard fields (so the input exceeds 5 GiB at full size), in a child process whose peak
   resident memory is reported: one pass after evicting the store's files from the page cache
   (``posix_fadvise(DONTNEED)``, "cold"), then ``--repeat`` passes with the files in the page cache ("warm").
   The store is opened with :func:`climmig.io.readers.open_zarr` as real runs open it (direct chunk reads
   with read-ahead hints; ``--zarr-reader zarr-python`` for zarr-python's reader);
4. ``naive``: xarray ``groupby`` over an integer region mask, one year at a time (the peer baseline),
   timed on ``--naive-years`` years and scaled per cell-year.

Correctness gate (the script fails if it is not met): the in-memory result and, for the first hazard, the
Zarr result for every year of one scenario x model equal a float64 ``np.bincount`` reference within
``rtol=1e-4``. Prints the figures, then one line of JSON. ``--quick`` shrinks the case (1 degree, 27 years) for busy
machines. Run from the repository root::

    python benchmarks/bench_exposure.py            # full size
    python benchmarks/bench_exposure.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import dask  # noqa: E402
import dask.array as dsa  # noqa: E402
import xarray as xr  # noqa: E402

from climmig.catalog import load_catalog  # noqa: E402
from climmig.exposure import region_exceedance_sums  # noqa: E402
from climmig.grid import make_grid, region_fractions  # noqa: E402
from climmig.io.readers import open_zarr  # noqa: E402

# the string coordinates (scenario, climate_model) have no Zarr v3 dtype spec yet; harmless here
warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification.*")

SCENARIOS = ["ssp126", "ssp245", "ssp585"]
MODELS = ["GFDL-ESM4", "IPSL-CM6A-LR", "MPI-ESM1-2-HR", "MRI-ESM2-0", "UKESM1-0-LL"]
THRESHOLD = 1.0


def _setup(res: float) -> tuple[xr.Dataset, xr.DataArray]:
    grid = make_grid(-180, -90, 180, 90, res)
    cat = load_catalog(REPO / "data_catalog" / "catalog.yaml")
    frac = region_fractions(cat.open("natural_earth_110m_admin0"), grid, assign_uncovered=False)
    rng = np.random.default_rng(1)
    pop = rng.lognormal(8, 2, size=(grid.sizes["lat"], grid.sizes["lon"])) * frac["land_fraction"].values
    return grid, (frac * pop).astype(np.float32).rename("weights")


def _chunks(res: float, years: int, year_chunk: int, model_chunk: int) -> tuple[int, ...]:
    """Chunks along scenario, model and year with whole lat/lon tiles (28 MB full size, 21 MB ``--quick``).

    Chunks under 32 MiB are reused by the C allocator; larger ones are mapped fresh for every Zarr read
    (measured: 313 k page faults and 0.7-1.6 s of system time per 1.26 GB pass with 84 MB chunks).
    """
    return (1, min(model_chunk, len(MODELS)), min(year_chunk, years), int(180 / res), int(360 / res))


def _field(grid: xr.Dataset, years: int, seed: int, chunks: tuple[int, ...]) -> xr.DataArray:
    shape = (len(SCENARIOS), len(MODELS), years, grid.sizes["lat"], grid.sizes["lon"])
    rs = dsa.random.default_rng(seed)
    data = rs.standard_normal(shape, chunks=chunks, dtype=np.float32)
    return xr.DataArray(data, dims=("scenario", "climate_model", "year", "lat", "lon"),
                        coords={"scenario": SCENARIOS, "climate_model": MODELS, "year": np.arange(2020, 2020 + years),
                                "lat": grid["lat"].values, "lon": grid["lon"].values},
                        attrs={"units": "1"}, name="indicator")


def _lazy(weights: xr.DataArray, chunks: tuple[int, ...]) -> xr.DataArray:
    """Weights as build_exposure passes them: dask-backed, chunked like the field in lat/lon."""
    return weights.chunk({"region": -1, "lat": chunks[-2], "lon": chunks[-1]})


def _peak_rss_gib() -> float:
    """Peak resident memory of this process image (``VmHWM``; ``ru_maxrss`` would carry over the parent's
    peak through fork and exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _reference(x: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 ``np.bincount`` reference per slice of ``x`` (..., lat, lon): exceedance, total, sum of |w x|."""
    nreg = weights.shape[0]
    flat = weights.reshape(nreg, -1).astype(np.float64)
    reg, cell = np.nonzero(flat)
    ww = flat[reg, cell]
    out = []
    for xk in x.reshape(-1, flat.shape[1]):
        v = np.nan_to_num(xk[cell].astype(np.float64))
        out.append([np.bincount(reg, ww * (v > THRESHOLD), nreg), np.bincount(reg, ww * v, nreg),
                    np.bincount(reg, np.abs(ww * v), nreg)])
    e, t, a = (np.stack(c).reshape(*x.shape[:-2], nreg) for c in zip(*out, strict=True))
    return e, t, a


def _gate(out: xr.Dataset, x: np.ndarray, weights: np.ndarray, what: str) -> float:
    """Fail unless ``out`` equals the float64 reference within rtol 1e-4; returns the largest relative error.

    Exceedance is a sum of positive terms: plain ``rtol``. The total of signed values is compared relative
    to the sum of absolute terms (its condition), so cancellation cannot fail a correct float32 sum.
    """
    e, t, a = _reference(x, weights)
    err_e = np.abs(out["exceedance"].values - e) / np.maximum(np.abs(e), 1e-30)
    err_t = np.abs(out["total"].values - t) / np.maximum(a, 1e-30)
    worst = float(max(err_e[e > 0].max(initial=0.0), err_t[a > 0].max(initial=0.0)))
    zero_ok = bool(np.all(out["exceedance"].values[e == 0] == 0))
    if worst > 1e-4 or not zero_ok:
        raise SystemExit(f"correctness gate FAILED for {what}: max relative error {worst:.2e} (limit 1e-4), "
                         f"zero regions exact: {zero_ok}")
    return worst


def _evict(store: Path) -> None:
    """Drop the store's files from the page cache (our own files only): fsync, then POSIX_FADV_DONTNEED."""
    for f in store.rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _raw_read(store: Path) -> tuple[float, int]:
    """Seconds and bytes for reading every file of the store once (``readinto`` into one reused buffer)."""
    files = [f for f in sorted(store.rglob("*")) if f.is_file()]
    buf = bytearray(max(f.stat().st_size for f in files))
    t0 = time.perf_counter()
    n = 0
    for f in files:
        with open(f, "rb", buffering=0) as fh:
            n += fh.readinto(buf)
    return time.perf_counter() - t0, n


def _zarr_pass(store: Path, hazards: int, weights: xr.DataArray, direct: bool = True
               ) -> tuple[float, int, list[xr.Dataset]]:
    """Exposure of every hazard store in one dask computation, as ``build_exposure`` computes its hazards.

    ``direct``: :func:`climmig.io.readers.open_zarr` reads the chunk files itself, with read-ahead hints (its
    default, as in real runs); False: through zarr-python (the reader before ``climmig.io.direct``).
    """
    t0 = time.perf_counter()
    fields = [open_zarr(store / f"hazard{h}.zarr", direct=direct)["indicator"] for h in range(hazards)]
    outs = dask.compute(*[region_exceedance_sums(f, weights, THRESHOLD) for f in fields])
    return time.perf_counter() - t0, sum(f.nbytes for f in fields), list(outs)


def zarr_phase(store: str, hazards: int, res: float, years: int, year_chunk: int, model_chunk: int, workers: int,
               repeat: int, direct: bool = True) -> dict:
    """Child process: exposure of every hazard field read from the Zarr store (peak RSS of this process)."""
    grid, weights = _setup(res)
    wlazy = _lazy(weights, _chunks(res, years, year_chunk, model_chunk))
    root = Path(store)
    with dask.config.set(scheduler="threads", num_workers=workers):
        small = open_zarr(root / "hazard0.zarr")["indicator"].isel(scenario=[0], climate_model=[0], year=[0])
        region_exceedance_sums(small, wlazy, THRESHOLD).compute()  # warm-up: loads the compiled kernel
        _evict(root)
        t_raw_cold, raw_bytes = _raw_read(root)  # the disk limit, measured just before the cold pass
        _evict(root)
        t_cold, nbytes, outs = _zarr_pass(root, hazards, wlazy, direct)
        warm, raw_warm = [], []
        for _ in range(repeat):
            raw_warm.append(_raw_read(root)[0])
            warm.append(_zarr_pass(root, hazards, wlazy, direct)[0])
    x0 = open_zarr(root / "hazard0.zarr")["indicator"].isel(scenario=0, climate_model=0).values
    what = "Zarr, hazard 0, one scenario x model"
    gate = _gate(outs[0].isel(scenario=0, climate_model=0), x0, weights.values, what)
    print(f"correctness gate ({what}): max relative error vs float64 bincount {gate:.1e} <= 1e-4: ok")
    return {"cold_seconds": t_cold, "warm_seconds": min(warm), "warm_median_seconds": float(np.median(warm)),
            "raw_cold_seconds": t_raw_cold, "raw_warm_seconds": min(raw_warm), "raw_bytes": raw_bytes,
            "bytes": nbytes, "peak_rss_gib": _peak_rss_gib(), "gate_max_rel_err": gate}


def _stream(arrays: list[np.ndarray], pool: ThreadPoolExecutor | None) -> float:
    """Seconds for one ``np.add.reduce`` pass over the arrays (on the pool's threads if given)."""
    t0 = time.perf_counter()
    if pool is None:
        for a in arrays:
            np.add.reduce(a, axis=None)
    else:
        list(pool.map(lambda a: np.add.reduce(a, axis=None), arrays))
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 degree, 27 years (for busy machines)")
    ap.add_argument("--hazards", type=int, default=5, help="hazard fields in the Zarr phase (5 -> 5.9 GiB)")
    ap.add_argument("--workers", type=int, default=2, help="threads for the streaming and in-memory passes")
    ap.add_argument("--zarr-workers", type=int, default=4,
                    help="dask threads for the Zarr phase (more than cores: reads wait on I/O and zarr's event loop)")
    ap.add_argument("--year-chunk", type=int, default=27, help="years per chunk (27 -> 28 MB chunks at full size)")
    ap.add_argument("--model-chunk", type=int, default=None,
                    help="climate models per chunk (default 1 at full size, 3 with --quick: 28 / 21 MB chunks)")
    ap.add_argument("--zarr-reader", default="direct", choices=["direct", "zarr-python"],
                    help="open_zarr's direct chunk reads with read-ahead hints (default, as real runs) or zarr-python")
    ap.add_argument("--naive-years", type=int, default=2)
    ap.add_argument("--tmpdir", default=None)
    ap.add_argument("--repeat", type=int, default=7, help="best of N (N >= 3) for every timing")
    ap.add_argument("--phase", default="all", choices=["all", "zarr"], help=argparse.SUPPRESS)
    ap.add_argument("--store", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.repeat < 3:
        ap.error("--repeat must be at least 3")
    res, years = (1.0, 27) if args.quick else (0.5, 81)
    if args.model_chunk is None:
        args.model_chunk = 3 if args.quick else 1
    if args.phase == "zarr":
        print(json.dumps(zarr_phase(args.store, args.hazards, res, years, args.year_chunk, args.model_chunk,
                                    args.zarr_workers, args.repeat, args.zarr_reader == "direct")))
        return 0

    grid, weights = _setup(res)
    chunks = _chunks(res, years, args.year_chunk, args.model_chunk)
    nreg = int((weights.sum(("lat", "lon")) > 0).sum())
    print(f"case: {res} degree grid {grid.sizes['lat']}x{grid.sizes['lon']}, {len(SCENARIOS)} scenarios x "
          f"{len(MODELS)} climate models x {years} years, {weights.sizes['region']} regions ({nreg} with people), "
          f"chunks {chunks}, {args.workers} threads, load average {os.getloadavg()[0]:.1f}")
    field = _field(grid, years, 0, chunks)
    wlazy = _lazy(weights, chunks)
    with dask.config.set(scheduler="threads", num_workers=args.workers):
        field = field.persist()
    cells_years = field.size  # scenario x model x year x cells
    nbytes = field.nbytes
    print(f"field: {nbytes / 2**30:.2f} GiB in memory ({cells_years / 1e6:.0f} M cell-years), "
          f"{field.data.npartitions} chunks of {nbytes / field.data.npartitions / 1e6:.0f} MB")

    # 1 + 2. streaming passes and the exposure reduction, alternating, best of --repeat after a warm-up
    arrays = list(dask.compute(*field.data.to_delayed().ravel(), scheduler="threads"))
    pool = ThreadPoolExecutor(args.workers)
    times: dict[str, list[float]] = {"stream": [], "stream_threads": [], "memory": []}
    with dask.config.set(scheduler="threads", num_workers=args.workers):
        _stream(arrays, None), _stream(arrays, pool)
        region_exceedance_sums(field, wlazy, THRESHOLD).compute()  # warm-up (compiled kernel, caches)
        for _ in range(args.repeat):
            times["stream"].append(_stream(arrays, None))
            times["stream_threads"].append(_stream(arrays, pool))
            t0 = time.perf_counter()
            mem = region_exceedance_sums(field, wlazy, THRESHOLD).compute()
            times["memory"].append(time.perf_counter() - t0)
    pool.shutdown()
    del arrays
    t_stream, t_stream2, t_mem = (min(times[k]) for k in ("stream", "stream_threads", "memory"))
    stream_gbs, stream2_gbs, mem_gbs = nbytes / t_stream / 1e9, nbytes / t_stream2 / 1e9, nbytes / t_mem / 1e9
    med = {k: float(np.median(v)) for k, v in times.items()}
    print(f"numpy streaming pass, 1 thread (best of {args.repeat}): {t_stream:.3f} s = {stream_gbs:.2f} GB/s "
          f"(median {nbytes / med['stream'] / 1e9:.2f})")
    print(f"numpy streaming pass, {args.workers} threads: {t_stream2:.3f} s = {stream2_gbs:.2f} GB/s "
          f"(median {nbytes / med['stream_threads'] / 1e9:.2f})")
    print(f"climmig exposure, in memory (best of {args.repeat}): {t_mem:.3f} s = {cells_years / t_mem / 1e6:.0f} M "
          f"cell-years/s = {mem_gbs:.2f} GB/s = {mem_gbs / stream_gbs:.2f} x streaming (1 thread), "
          f"{mem_gbs / stream2_gbs:.2f} x streaming ({args.workers} threads); median ratio "
          f"{med['stream'] / med['memory']:.2f} x")
    gate_mem = max(_gate(mem.isel(scenario=i), field.isel(scenario=i).values, weights.values, "in memory")
                   for i in range(field.sizes["scenario"]))  # one scenario at a time: bounded extra memory
    print(f"correctness gate (in memory, every slice): max relative error vs float64 bincount {gate_mem:.1e} "
          "<= 1e-4: ok")

    # 4. naive: xarray groupby over an integer (dominant-region) mask, one year at a time
    mask = weights.argmax("region").where(weights.sum("region") > 0)
    pop = weights.sum("region")
    ny = args.naive_years
    t0 = time.perf_counter()
    naive = []
    for i in range(ny):
        sl = field.isel(year=i).compute()
        naive.append((((sl > THRESHOLD) * pop).groupby(mask.rename("region_index")).sum()).values)
    t_naive = (time.perf_counter() - t0) / ny * years
    print(f"naive xarray groupby, one year at a time: {t_naive:.1f} s extrapolated from {ny} years "
          f"({cells_years / t_naive / 1e6:.2f} M cell-years/s); climmig is {t_naive / t_mem:.1f} x faster")
    # consistency: same total exposure as the fractional kernel for the years timed (dominant vs fractional
    # masks differ slightly on borders)
    tot_kernel = float(mem["exceedance"].isel(year=slice(0, ny)).sum())
    tot_naive = float(sum(a.sum() for a in naive))
    print(f"check: total exposure kernel {tot_kernel:.4g} vs naive {tot_naive:.4g} "
          f"(rel. diff {abs(tot_kernel - tot_naive) / tot_naive:.2e}, from border cells)")
    del field, mem

    # 3. from Zarr on disk, in a child process (fresh peak-RSS accounting)
    tmp = Path(tempfile.mkdtemp(prefix="climmig-bench-", dir=args.tmpdir))
    try:
        t0 = time.perf_counter()
        with dask.config.set(scheduler="threads", num_workers=args.workers):
            for h in range(args.hazards):
                f = _field(grid, years, 100 + h, chunks).to_dataset()
                enc = {"indicator": {"compressors": None, "chunks": chunks}}
                f.to_zarr(tmp / f"hazard{h}.zarr", mode="w", encoding=enc, consolidated=False, zarr_format=3)
        print(f"wrote {args.hazards} hazard stores to {tmp} in {time.perf_counter() - t0:.1f} s")
        os.sync()
        cmd = [sys.executable, __file__, "--phase", "zarr", "--store", str(tmp), "--hazards", str(args.hazards),
               "--zarr-workers", str(args.zarr_workers), "--repeat", str(args.repeat),
               "--year-chunk", str(args.year_chunk), "--model-chunk", str(args.model_chunk),
               "--zarr-reader", args.zarr_reader]
        cmd += ["--quick"] if args.quick else []
        child = subprocess.run(cmd, capture_output=True, text=True)
        if child.returncode != 0:
            raise SystemExit(f"Zarr phase failed:\n{child.stdout}\n{child.stderr[-3000:]}")
        z = json.loads(child.stdout.strip().splitlines()[-1])
        print("\n".join(ln for ln in child.stdout.splitlines()[:-1]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    zc_gbs, zw_gbs = z["bytes"] / z["cold_seconds"] / 1e9, z["bytes"] / z["warm_seconds"] / 1e9
    rc_gbs, rw_gbs = z["raw_bytes"] / z["raw_cold_seconds"] / 1e9, z["raw_bytes"] / z["raw_warm_seconds"] / 1e9
    print(f"raw read of the store files (one thread, readinto): evicted {rc_gbs:.2f} GB/s "
          f"(the disk), in the page cache {rw_gbs:.2f} GB/s (best of {args.repeat})")
    print(f"climmig exposure from Zarr ({z['bytes'] / 2**30:.2f} GiB, {args.hazards} hazards, {args.zarr_workers} "
          f"threads), files evicted from the page cache first: {z['cold_seconds']:.2f} s = "
          f"{z['bytes'] / 4 / z['cold_seconds'] / 1e6:.0f} M cell-years/s = {zc_gbs:.2f} GB/s = "
          f"{zc_gbs / stream_gbs:.3f} x streaming ({zc_gbs / rc_gbs:.2f} x the raw cold read)")
    print(f"climmig exposure from Zarr, files in the page cache (best of {args.repeat}): {z['warm_seconds']:.2f} s = "
          f"{zw_gbs:.2f} GB/s = {zw_gbs / stream_gbs:.3f} x streaming ({zw_gbs / rw_gbs:.2f} x the raw warm read); "
          f"peak RSS {z['peak_rss_gib']:.2f} GiB")
    result = {
        "case": {"resolution_deg": res, "scenarios": len(SCENARIOS), "climate_models": len(MODELS), "years": years,
                 "regions": int(weights.sizes["region"]), "chunks": list(chunks), "workers": args.workers,
                 "quick": bool(args.quick), "load_average_1min_end": round(os.getloadavg()[0], 2)},
        "stream_gb_per_s": round(stream_gbs, 3),
        "stream_threads_gb_per_s": round(stream2_gbs, 3),
        "memory_seconds": round(t_mem, 3),
        "memory_cell_years_per_s": round(cells_years / t_mem),
        "memory_ratio_to_stream": round(mem_gbs / stream_gbs, 3),
        "memory_ratio_to_stream_threads": round(mem_gbs / stream2_gbs, 3),
        "memory_median_ratio_to_stream": round(med["stream"] / med["memory"], 3),
        "zarr_bytes": z["bytes"],
        "zarr_cold_seconds": round(z["cold_seconds"], 3),
        "zarr_ratio_to_stream": round(zc_gbs / stream_gbs, 3),
        "zarr_warm_seconds": round(z["warm_seconds"], 3),
        "zarr_warm_ratio_to_stream": round(zw_gbs / stream_gbs, 3),
        "zarr_raw_cold_gb_per_s": round(rc_gbs, 3),
        "zarr_raw_warm_gb_per_s": round(rw_gbs, 3),
        "zarr_cold_ratio_to_raw_cold_read": round(zc_gbs / rc_gbs, 3),
        "zarr_workers": args.zarr_workers,
        "zarr_reader": args.zarr_reader,
        "zarr_peak_rss_gib": round(z["peak_rss_gib"], 3),
        "naive_seconds_extrapolated": round(t_naive, 2),
        "speedup_vs_naive": round(t_naive / t_mem, 1),
        "gate_max_rel_err": max(gate_mem, z["gate_max_rel_err"]),
        "parent_peak_rss_gib": round(_peak_rss_gib(), 3),
        "repeat": args.repeat,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
