"""Benchmark the demo run end to end: a cold run (empty compiler caches) and a warm run, in one invocation.

Usage::

    python benchmarks/bench_demo.py [--config configs/demo.yaml] [--keep DIR]

Both runs are ``climmig -v run CONFIG --output NEW_DIR`` in a subprocess, as a user starts them. The cold
run gets empty PyTensor, numba, matplotlib and fit caches (fresh directories passed through ``PYTENSOR_FLAGS``,
``NUMBA_CACHE_DIR``, ``MPLCONFIGDIR`` and ``CLIMMIG_FIT_CACHE``); the warm run reuses those caches with a new
output folder: no stage of the cold run is reused, but the fits the cold run kept in the fit cache
(``climmig.mobility.fit_cache``: same model signature, libraries and code) are, as a user's second run of a
config would reuse them. ``--no-fit-cache`` turns the fit cache off in both runs (every fit is sampled again
and only the compilers' caches are warm).

Prints, per run, the wall time and each stage's time (from ``manifest.json``), the displacement fit's
compile and sampling times (from the run's log), the ratios warm / cold, and checks that the two runs reach
the same headline (late-period medians per scenario and region, from ``projection/summary.nc``; same config and seed,
so they must agree). Ends with one JSON line holding all figures and the 1-minute load average (the
machine is shared: ratios measured in one run are the comparable figures).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

COMPILED = re.compile(r"compiled the model for nutpie in ([0-9.]+) s")
SAMPLED = re.compile(r"sampled (\d+) chains x \((\d+) tuning \+ (\d+) draws\) in ([0-9.]+) s")


def _run(config: Path, out: Path, caches: Path, fit_cache: bool = True) -> dict[str, object]:
    """One ``climmig run`` in a subprocess with the given cache root; its times and headline."""
    env = dict(os.environ)
    env["CLIMMIG_FIT_CACHE"] = str(caches / "fits") if fit_cache else "off"
    env["PYTENSOR_FLAGS"] = f"base_compiledir={caches / 'pytensor'}"
    env["NUMBA_CACHE_DIR"] = str(caches / "numba")
    env["MPLCONFIGDIR"] = str(caches / "matplotlib")
    cmd = [sys.executable, "-m", "climmig", "-v", "run", str(config), "--output", str(out), "--no-progress"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        sys.stderr.write(log[-4000:])
        raise SystemExit(f"climmig run failed (exit {proc.returncode}); its log ends above")
    manifest = json.loads((out / "manifest.json").read_text())
    stages = {s["name"]: {"seconds": float(s["seconds"]), "background": bool(s.get("background", False))}
              for s in manifest["stages"]}
    cached = [line.split("cache ", 1)[1].strip() for line in log.splitlines()
              if "reusing the fit kept in the cache" in line]
    compiled = [float(m) for m in COMPILED.findall(log)]
    sampled = [float(m[3]) for m in SAMPLED.findall(log)]
    return {"wall_s": wall, "stages": stages, "fits_from_cache": [Path(c).name for c in cached],
            "fit_compile_s": compiled[0] if compiled else None,
            "fit_sampling_s": sampled[0] if sampled else None,
            "headline": _headline(out)}


def _headline(out: Path) -> dict[str, float]:
    """Median yearly displacement over the last horizon per scenario and region (``projection/summary.nc``)."""
    import xarray as xr

    with xr.open_dataset(out / "projection" / "summary.nc") as ds:
        da = ds["horizon_mean"].sel(quantile=0.5).isel(horizon=-1)
        return {f"{s}/{r}": round(float(da.sel(scenario=s, region=r)), 1)
                for s in da["scenario"].values for r in da["region"].values}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=REPO / "configs" / "demo.yaml")
    ap.add_argument("--keep", type=Path, default=None, help="Keep the runs and caches here (default: a temp dir).")
    ap.add_argument("--no-fit-cache", action="store_true", help="Sample every fit in both runs (fit cache off).")
    args = ap.parse_args()

    root_ctx = tempfile.TemporaryDirectory(prefix="climmig-bench-demo-") if args.keep is None else None
    root = Path(root_ctx.name) if root_ctx is not None else args.keep
    root.mkdir(parents=True, exist_ok=True)
    caches = root / "caches"
    try:
        cold = _run(args.config.resolve(), root / "cold", caches, not args.no_fit_cache)
        warm = _run(args.config.resolve(), root / "warm", caches, not args.no_fit_cache)
    finally:
        if root_ctx is not None:
            root_ctx.cleanup()

    names = list(cold["stages"])
    print(f"{'stage':<18}{'cold s':>9}{'warm s':>9}{'warm/cold':>11}")
    for n in names:
        c, w = cold["stages"][n]["seconds"], warm["stages"].get(n, {}).get("seconds", float("nan"))
        bg = " (background)" if cold["stages"][n]["background"] else ""
        print(f"{n:<18}{c:>9.1f}{w:>9.1f}{(w / c if c else float('nan')):>11.2f}{bg}")
    for key, label in (("fit_compile_s", "  fit: compile"), ("fit_sampling_s", "  fit: sampling")):
        c, w = cold[key], warm[key]
        if c is not None and w is not None:
            print(f"{label:<18}{c:>9.1f}{w:>9.1f}{w / c:>11.2f}")
    print(f"{'wall':<18}{cold['wall_s']:>9.1f}{warm['wall_s']:>9.1f}{warm['wall_s'] / cold['wall_s']:>11.2f}")
    fit_share = cold["stages"].get("fit_displacement", {}).get("seconds", 0.0) / cold["wall_s"]
    same = cold["headline"] == warm["headline"]
    print(f"displacement fit share of the cold wall time: {fit_share:.2f}")
    print(f"late-period medians, cold: {cold['headline']}")
    print(f"same headline in both runs: {same}")
    print(f"fits the warm run took from the fit cache: {warm['fits_from_cache'] or 'none'}")
    results = {
        "config": str(args.config), "cold": cold, "warm": warm, "fit_cache": not args.no_fit_cache,
        "ratio_warm_cold_wall": warm["wall_s"] / cold["wall_s"],
        "fit_share_of_cold_wall": fit_share, "same_headline": same,
        "load_1min": os.getloadavg()[0], "cpus": os.cpu_count(),
    }
    print(json.dumps(results, sort_keys=True))
    if not same:
        raise SystemExit("the warm run's headline differs from the cold run's: the run is not reproducible")


if __name__ == "__main__":
    main()
