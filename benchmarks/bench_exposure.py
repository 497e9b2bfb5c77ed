"""Benchmark of the exposure reduction at global size, through the same code path as real runs.

Case: 0.5 degree global grid (360 x 720), 3 scenarios x 5 climate models x 81 years, float32, Natural Earth
admin-0 regions (~177, fractional masks) x a synthetic population grid. It measures, in one run:

1. ``stream``: a plain numpy pass over the same bytes (``np.add.reduce``; the memory-bandwidth yardstick);
2. ``memory``: :func:`climmig.exposure.region_exceedance_sums` on the in-memory field (dask threads);
3. ``zarr``: the same on the field read from a chunked, uncompressed Zarr store in a temporary directory,
   for ``--hazards`` hazard fields (so the input exceeds 5 GiB at full size), in a child process whose peak
   resident memory is reported;
4. ``naive``: xarray ``groupby`` over an integer region mask, one year at a time (the peer baseline),
   timed on ``--naive-years`` years and scaled per cell-year.

Prints the figures, then one line of JSON. ``--quick`` shrinks the case (1 degree, 27 years) for busy
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
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import dask  # noqa: E402
import dask.array as dsa  # noqa: E402
import xarray as xr  # noqa: E402

from climmig.catalog import load_catalog  # noqa: E402
from climmig.exposure import region_exceedance_sums  # noqa: E402
from climmig.grid import make_grid, region_fractions  # noqa: E402
from climmig.io.readers import open_zarr  # noqa: E402

SCENARIOS = ["ssp126", "ssp245", "ssp585"]
MODELS = ["GFDL-ESM4", "IPSL-CM6A-LR", "MPI-ESM1-2-HR", "MRI-ESM2-0", "UKESM1-0-LL"]
THRESHOLD = 1.0


def _setup(res: float) -> tuple[xr.Dataset, xr.DataArray]:
    grid = make_grid(-180, -90, 180, 90, res)
    cat = load_catalog(REPO / "data_catalog" / "catalog.yaml")
    frac = region_fractions(cat.open("natural_earth_110m_admin0"), grid, supersample=4, assign_uncovered=False)
    rng = np.random.default_rng(1)
    pop = rng.lognormal(8, 2, size=(grid.sizes["lat"], grid.sizes["lon"])) * frac["land_fraction"].values
    return grid, (frac * pop).astype(np.float32).rename("weights")


def _chunks(res: float, years: int) -> tuple[int, ...]:
    ny, nx = int(180 / res), int(360 / res)
    return (1, 5, years, min(60, ny), min(120, nx))


def _field(grid: xr.Dataset, years: int, seed: int, chunks: tuple[int, ...]) -> xr.DataArray:
    shape = (len(SCENARIOS), len(MODELS), years, grid.sizes["lat"], grid.sizes["lon"])
    rs = dsa.random.default_rng(seed)
    data = rs.standard_normal(shape, chunks=chunks, dtype=np.float32)
    return xr.DataArray(data, dims=("scenario", "climate_model", "year", "lat", "lon"),
                        coords={"scenario": SCENARIOS, "climate_model": MODELS, "year": np.arange(2020, 2020 + years),
                                "lat": grid["lat"].values, "lon": grid["lon"].values},
                        attrs={"units": "1"}, name="indicator")


def _peak_rss_gib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024**2


def zarr_phase(store: str, hazards: int, res: float, workers: int) -> dict:
    """Child process: exposure of every hazard field read from the Zarr store (peak RSS of this process)."""
    grid, weights = _setup(res)
    t0 = time.perf_counter()
    results = []
    nbytes = 0
    with dask.config.set(scheduler="threads", num_workers=workers):
        for h in range(hazards):
            ds = open_zarr(Path(store) / f"hazard{h}.zarr")
            field = ds["indicator"]
            nbytes += field.nbytes
            out = region_exceedance_sums(field, weights, THRESHOLD).compute()
            results.append(float(out["exceedance"].sum()))
    dt = time.perf_counter() - t0
    return {"seconds": dt, "bytes": nbytes, "peak_rss_gib": _peak_rss_gib(), "check": results}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 degree, 27 years (for busy machines)")
    ap.add_argument("--hazards", type=int, default=5, help="hazard fields in the Zarr phase (5 -> 5.9 GiB)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--naive-years", type=int, default=2)
    ap.add_argument("--tmpdir", default=None)
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the streaming and in-memory timings")
    ap.add_argument("--phase", default="all", choices=["all", "zarr"], help=argparse.SUPPRESS)
    ap.add_argument("--store", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    res, years = (1.0, 27) if args.quick else (0.5, 81)
    if args.phase == "zarr":
        print(json.dumps(zarr_phase(args.store, args.hazards, res, args.workers)))
        return 0

    grid, weights = _setup(res)
    chunks = _chunks(res, years)
    nreg = int((weights.sum(("lat", "lon")) > 0).sum())
    print(f"case: {res} degree grid {grid.sizes['lat']}x{grid.sizes['lon']}, {len(SCENARIOS)} scenarios x "
          f"{len(MODELS)} climate models x {years} years, {weights.sizes['region']} regions ({nreg} with people), "
          f"chunks {chunks}, {args.workers} threads")
    field = _field(grid, years, 0, chunks)
    with dask.config.set(scheduler="threads", num_workers=args.workers):
        field = field.persist()
    cells_years = field.size  # scenario x model x year x cells
    nbytes = field.nbytes
    print(f"field: {nbytes / 2**30:.2f} GiB in memory ({cells_years / 1e6:.0f} M cell-years)")

    # 1. numpy streaming pass over the same bytes (chunk by chunk, single thread: the bandwidth yardstick)
    blocks = [b for b in field.data.to_delayed().ravel()]
    arrays = dask.compute(*blocks, scheduler="threads")
    t_stream = np.inf
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        s = 0.0
        for a in arrays:
            s += float(np.add.reduce(a, axis=None))
        t_stream = min(t_stream, time.perf_counter() - t0)
    del arrays
    stream_gbs = nbytes / t_stream / 1e9
    print(f"numpy streaming pass (best of {args.repeat}): {t_stream:.2f} s = {stream_gbs:.2f} GB/s")

    # 2. climmig exposure on the in-memory field (warm up the compiled kernel first)
    with dask.config.set(scheduler="threads", num_workers=args.workers):
        region_exceedance_sums(field.isel(year=slice(0, 1), scenario=[0], climate_model=[0]), weights,
                               THRESHOLD).compute()
        t_mem = np.inf
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            mem = region_exceedance_sums(field, weights, THRESHOLD).compute()
            t_mem = min(t_mem, time.perf_counter() - t0)
    mem_gbs = nbytes / t_mem / 1e9
    print(f"climmig exposure, in memory (best of {args.repeat}): {t_mem:.2f} s = {cells_years / t_mem / 1e6:.1f} M cell-years/s = "
          f"{mem_gbs:.2f} GB/s ({mem_gbs / stream_gbs:.2f} x streaming)")

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
               "--workers", str(args.workers)] + (["--quick"] if args.quick else [])
        child = subprocess.run(cmd, capture_output=True, text=True, check=True)
        z = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    zarr_gbs = z["bytes"] / z["seconds"] / 1e9
    print(f"climmig exposure from Zarr ({z['bytes'] / 2**30:.2f} GiB, {args.hazards} hazards): {z['seconds']:.2f} s = "
          f"{z['bytes'] / 4 / z['seconds'] / 1e6:.1f} M cell-years/s = {zarr_gbs:.2f} GB/s "
          f"({zarr_gbs / stream_gbs:.2f} x streaming); peak RSS {z['peak_rss_gib']:.2f} GiB "
          "(page cache may hold part of the store: it was just written)")
    result = {
        "case": {"resolution_deg": res, "scenarios": len(SCENARIOS), "climate_models": len(MODELS), "years": years,
                 "regions": int(weights.sizes["region"]), "chunks": list(chunks), "workers": args.workers,
                 "quick": bool(args.quick)},
        "stream_gb_per_s": round(stream_gbs, 3),
        "memory_seconds": round(t_mem, 3),
        "memory_cell_years_per_s": round(cells_years / t_mem),
        "memory_ratio_to_stream": round(mem_gbs / stream_gbs, 3),
        "zarr_bytes": z["bytes"],
        "zarr_seconds": round(z["seconds"], 3),
        "zarr_ratio_to_stream": round(zarr_gbs / stream_gbs, 3),
        "zarr_peak_rss_gib": round(z["peak_rss_gib"], 3),
        "naive_seconds_extrapolated": round(t_naive, 2),
        "speedup_vs_naive": round(t_naive / t_mem, 1),
        "parent_peak_rss_gib": round(_peak_rss_gib(), 3),
        "repeat": args.repeat,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
