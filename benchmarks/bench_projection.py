"""Benchmark: negative-binomial posterior predictive through climmig's lazy, chunked projection path.

Projects ``draws x regions x years x scenarios x climate_models`` values (default 1000 x 200 x 81 x 4 x 10 =
648 million) of :math:`\\mu = \\exp(a + b \\log r) P` and a negative-binomial draw around it (the form of
``docs/interfaces.md`` section 2), reducing them to per-cell mean and variance over draws so that memory
stays bounded by the chunk size. The same values are then computed by a plain single-threaded numpy loop
over the same blocks, and the throughputs are compared (target: climmig >= 0.3 x numpy).

Run: ``python benchmarks/bench_projection.py [--draws 1000 --regions 200 ...]``. Prints a human summary
and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import dask
import numpy as np
import xarray as xr

from climmig.projection import expected_negbin, sample_negbin


def _inputs(args: argparse.Namespace):
    rng = np.random.default_rng(args.seed)
    n, nr, ny, ns, nm = args.draws, args.regions, args.years, args.scenarios, args.models
    years = np.arange(2020, 2020 + ny)
    coords = {"scenario": [f"s{i}" for i in range(ns)], "climate_model": [f"m{i}" for i in range(nm)],
              "year": years, "region": [f"R{i:03d}" for i in range(nr)]}
    er = xr.DataArray(rng.uniform(0.5, 2.5, (ns, nm, ny, nr)), dims=tuple(coords), coords=coords)
    pop = xr.DataArray(rng.uniform(1e5, 5e7, (ns, ny, nr)), dims=("scenario", "year", "region"),
                       coords={k: coords[k] for k in ("scenario", "year", "region")})
    s = {"sample": np.arange(n)}
    a = xr.DataArray(rng.normal(-7.0, 0.3, n), dims="sample", coords=s)
    b = xr.DataArray(rng.normal(1.0, 0.2, n), dims="sample", coords=s)
    alpha = xr.DataArray(rng.uniform(1.0, 5.0, n), dims="sample", coords=s)
    return a, b, alpha, er, pop


def run_climmig(args, a, b, alpha, er, pop):
    ac, bc, alc = (x.chunk({"sample": args.chunk_draws}) for x in (a, b, alpha))
    mu = expected_negbin(ac, bc, er, pop).transpose("sample", "scenario", "climate_model", "year", "region")
    draws = sample_negbin(mu, alc, seed=args.seed)
    total, total_sq = draws.sum("sample"), (draws**2).sum("sample")
    t0 = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=args.workers):
        s1, s2 = dask.compute(total, total_sq)
    dt = time.perf_counter() - t0
    return dt, s1.values, s2.values, mu.data.chunksize


def run_numpy(args, a, b, alpha, er, pop):
    """The same values in a plain numpy loop over the same blocks of draws (one thread)."""
    erv = er.transpose("scenario", "climate_model", "year", "region").values
    logr = np.log(erv)
    popv = pop.transpose("scenario", "year", "region").values[:, None, :, :]
    s1 = np.zeros(erv.shape)
    s2 = np.zeros(erv.shape)
    t0 = time.perf_counter()
    for i, start in enumerate(range(0, args.draws, args.chunk_draws)):
        sl = slice(start, start + args.chunk_draws)
        av, bv, alv = (x.values[sl, None, None, None, None] for x in (a, b, alpha))
        mu = np.exp(av + bv * logr[None]) * popv[None]
        gen = np.random.default_rng(np.random.SeedSequence(args.seed, spawn_key=(i, 0, 0, 0, 0)))
        x = gen.negative_binomial(np.broadcast_to(alv, mu.shape), alv / (alv + mu)).astype(np.float64)
        s1 += x.sum(0)
        s2 += (x**2).sum(0)
    return time.perf_counter() - t0, s1, s2


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--regions", type=int, default=200)
    p.add_argument("--years", type=int, default=81)
    p.add_argument("--scenarios", type=int, default=4)
    p.add_argument("--models", type=int, default=10)
    p.add_argument("--chunk-draws", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--skip-numpy", action="store_true", help="only time the climmig path")
    args = p.parse_args(argv)
    n_values = args.draws * args.regions * args.years * args.scenarios * args.models
    a, b, alpha, er, pop = _inputs(args)
    print(f"values: {n_values:,} ({args.draws} draws x {args.regions} regions x {args.years} years x "
          f"{args.scenarios} scenarios x {args.models} climate models); full array would be "
          f"{n_values * 8 / 2**30:.1f} GiB")
    dt, s1, s2, chunk = run_climmig(args, a, b, alpha, er, pop)
    rss_climmig = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tp = n_values / dt
    print(f"climmig (dask threads x{args.workers}, chunks {chunk}): {dt:.1f} s, {tp / 1e6:.2f} M values/s, "
          f"peak RSS {rss_climmig:.0f} MiB")
    out = {"benchmark": "projection", "n_values": n_values, "draws": args.draws, "regions": args.regions,
           "years": args.years, "scenarios": args.scenarios, "climate_models": args.models,
           "chunk_draws": args.chunk_draws, "workers": args.workers, "climmig_seconds": round(dt, 2),
           "climmig_values_per_s": round(tp), "peak_rss_mib_after_climmig": round(rss_climmig)}
    if not args.skip_numpy:
        dt_np, n1, n2 = run_numpy(args, a, b, alpha, er, pop)
        tp_np = n_values / dt_np
        same = bool(np.array_equal(s1, n1) and np.array_equal(s2, n2))
        ratio = tp / tp_np
        print(f"plain numpy (1 thread, same blocks): {dt_np:.1f} s, {tp_np / 1e6:.2f} M values/s; "
              f"identical results: {same}")
        print(f"throughput ratio climmig/numpy: {ratio:.2f} x (target >= 0.3 x)")
        out.update(numpy_seconds=round(dt_np, 2), numpy_values_per_s=round(tp_np), ratio=round(ratio, 3),
                   identical=same, target_met=bool(ratio >= 0.3))
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
