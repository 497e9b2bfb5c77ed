"""Region fractions: climmig's supersampling against regionmask and exactextract (accuracy and speed).

Issue #33 item 5 asks whether ``climmig.grid.masks.region_fractions`` (point-in-polygon on ``k x k`` sub-cell
centres per cell) should give way to regionmask's or exactextract's fractional masks. This script measures,
in one run, on the bundled Natural Earth admin-0 boundaries (1:110m, and the 1:50m legacy file) and three
grids built with ``climmig.grid.make_grid`` (global 1 degree, global 0.5 degree, and the demo's Horn of Africa
0.25-degree grid, built as ``climmig.exposure.build.build_grid_and_masks`` builds it from configs/demo.yaml):

* ``climmig``: ``region_fractions(boundaries, grid, id_field, supersample=8, assign_uncovered=False)``;
* ``regionmask``: ``regionmask.from_geopandas(regions).mask_3D_frac_approx(lon, lat, drop=False)`` (10 x 10
  sub-cell centres, rasterised with rasterio), called on batches of 32 regions (rasterio's own batch size
  inside regionmask; one call for all regions needs ~10 GB at 0.5 degree and was slower);
* ``exactextract``: ``exact_extract(raster, regions, ["cell_id", "coverage"])`` on a zero raster with the
  grid's extent: the exact share of each cell's (lon/lat, planar) area inside each polygon. It is the truth
  the accuracy figures are measured against (checked against shapely intersection areas on a sample of
  cells). Without exactextract the truth is ``region_fractions(..., supersample=64)`` and the script says so;
* ``climmig x10`` (context, ``--no-extra`` to skip): climmig at ``supersample=10``, the sample count of
  regionmask, to separate the number of samples from the method.

Every method starts from the same GeoDataFrame read from the file and includes
``climmig.grid.boundary_region_ids`` (one dissolved polygon per region) and the grid-box filter that
``region_fractions`` applies, since a replacement would keep both.

What is compared: raw coverage fractions, before climmig's normalisation and assignment of uncovered cells.
``region_fractions`` divides each cell's sub-cell counts by the count inside any region (fractions over land)
and, with ``assign_uncovered``, hands cells no sub-cell centre falls in to the nearest region. With
``assign_uncovered=False`` its raw share is ``fraction * land_fraction`` (= count / k^2, ``land_fraction``
being clipped to 1 only where two regions' polygons overlap). regionmask and exactextract return raw shares
directly. Figures per method:

* wall time (best of ``--repeat``, methods interleaved; a method whose first run takes more than
  ``--once-above`` seconds runs once) and its ratio to climmig's in the same run; the same without the
  shared part (``boundary_region_ids`` + box filter, timed alone, best of ``--repeat``), which dominates on
  small grids;
* per-cell error: in each cell the largest |fraction - truth| over regions; mean over the cells touched by
  any polygon (exact coverage > 0, or the method's > 0), mean over the partial ones (coast and border
  cells, where exact coverage is not all 0 or 1), and max;
* cells touched by a polygon in which the method finds no land (climmig would give them to the nearest
  region);
* per-region totals: area = sum over cells of fraction x cell area (``climmig.grid.cell_area``), relative
  error against the exact total; mean and max of |error| over regions, regions found in no cell, and the
  area misplaced (sum over regions of |area - exact area| / sum of exact areas);
* the same per-cell error after normalising over land as climmig does (cells where both see land).

Prints a table and, last, one line of JSON. Run from the repository root (a few minutes on 2 cores)::

    python benchmarks/bench_masks.py
    python benchmarks/bench_masks.py --cases horn --repeat 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import shapely  # noqa: E402
import xarray as xr  # noqa: E402

from climmig.catalog import load_catalog  # noqa: E402
from climmig.config.load import catalog_path, load_config  # noqa: E402
from climmig.grid import boundary_region_ids, make_grid, region_fractions  # noqa: E402
from climmig.grid.extent import main_territory_bounds  # noqa: E402
from climmig.grid.spec import edges  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from bench_exposure import _peak_rss_gib  # noqa: E402  (VmHWM, as the exposure benchmark reports it)

try:
    import regionmask
except ImportError:
    sys.exit("bench_masks.py needs regionmask, which is not a climmig dependency: "
             "pip install regionmask (and exactextract, the truth of the accuracy figures)")
try:
    import exactextract
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource
except ImportError:
    exactextract = None

#: boundary catalog id -> region id field (the 1:50m legacy file has lower-case columns, so climmig's
#: ``iso3`` derivation does not apply: a config would set ``study_area.region_id_field: adm0_a3``)
BOUNDARIES = {"110m": ("natural_earth_110m_admin0", "iso3"), "50m": ("natural_earth_50m_admin0", "adm0_a3")}
GRIDS = ("global1", "global05", "horn")
RM_BATCH = 32


def _horn_grid() -> tuple[xr.Dataset, str]:
    """The demo's analysis grid, built as ``build_grid_and_masks`` builds it (its boundary file's countries)."""
    cfg_file = REPO / "configs" / "demo.yaml"
    cfg = load_config(cfg_file, check_catalog=False)
    cat = load_catalog(catalog_path(cfg, cfg_file))
    regions = boundary_region_ids(cat.open(cfg.study_area.boundaries), cfg.study_area.region_id_field)
    countries = set(cfg.study_area.countries)
    sel = regions[regions["country"].isin(countries) | regions["region"].isin(countries)]
    (w, s, e, n), _ = main_territory_bounds(zip(sel["region"], sel.geometry, strict=True))
    return make_grid(w, s, e, n, cfg.grid.resolution), f"Horn of Africa {cfg.grid.resolution:g} deg (demo)"


def _grid(name: str) -> tuple[xr.Dataset, str]:
    if name == "global1":
        return make_grid(-180, -90, 180, 90, 1.0), "global 1 deg"
    if name == "global05":
        return make_grid(-180, -90, 180, 90, 0.5), "global 0.5 deg"
    return _horn_grid()


def _regions(boundaries: Any, grid: xr.Dataset, id_field: str) -> Any:
    """Dissolved regions touching the grid box, in ``region_fractions``' order."""
    regions = boundary_region_ids(boundaries, id_field)
    lat_e, lon_e = edges(grid["lat"].values), edges(grid["lon"].values)
    box = shapely.box(lon_e[0], lat_e[0], lon_e[-1], lat_e[-1])
    return regions[regions.intersects(box)].reset_index(drop=True)


def run_climmig(boundaries: Any, grid: xr.Dataset, id_field: str, k: int) -> tuple[np.ndarray, list[str]]:
    fr = region_fractions(boundaries, grid, id_field, supersample=k, assign_uncovered=False)
    raw = fr.values * fr["land_fraction"].values  # count / k^2 (normalisation undone)
    return raw.astype(np.float32), [str(r) for r in fr["region"].values]


def run_regionmask(boundaries: Any, grid: xr.Dataset, id_field: str) -> tuple[np.ndarray, list[str]]:
    regions = _regions(boundaries, grid, id_field)
    lon, lat = grid["lon"].values, grid["lat"].values
    out = np.empty((len(regions), lat.size, lon.size), dtype=np.float32)
    for i in range(0, len(regions), RM_BATCH):
        sub = regions.iloc[i:i + RM_BATCH]
        rm = regionmask.from_geopandas(sub)
        out[i:i + len(sub)] = rm.mask_3D_frac_approx(lon, lat, drop=False).values
    return out, list(regions["region"])


def run_exactextract(boundaries: Any, grid: xr.Dataset, id_field: str) -> tuple[np.ndarray, list[str]]:
    regions = _regions(boundaries, grid, id_field)
    lat_e, lon_e = edges(grid["lat"].values), edges(grid["lon"].values)
    ny, nx = grid.sizes["lat"], grid.sizes["lon"]
    src = NumPyRasterSource(np.zeros((ny, nx), dtype=np.float32), lon_e[0], lat_e[0], lon_e[-1], lat_e[-1])
    df = exact_extract(src, regions, ["cell_id", "coverage"], include_cols=["region"], output="pandas")
    if list(df["region"]) != list(regions["region"]):
        raise RuntimeError("exactextract returned the regions in another order")
    out = np.zeros((len(regions), ny, nx), dtype=np.float32)
    for i, (cid, cov) in enumerate(zip(df["cell_id"], df["coverage"], strict=True)):
        row, col = np.divmod(np.asarray(cid, dtype=np.int64), nx)
        out[i, ny - 1 - row, col] = cov  # raster rows run north to south; the grid's lat ascends
    return out, list(regions["region"])


def _truth_check(truth: np.ndarray, regions: Any, grid: xr.Dataset, rng: np.random.Generator,
                 n_partial: int = 1500, n_full: int = 300) -> float:
    """Largest |exactextract - shapely intersection area / cell area| on a random sample of (region, cell)."""
    lat_e, lon_e = edges(grid["lat"].values), edges(grid["lon"].values)
    geoms = list(regions.geometry)
    worst = 0.0
    for sel, n in (((truth > 0) & (truth < 1), n_partial), (truth >= 1, n_full)):
        idx = np.argwhere(sel)
        if len(idx) == 0:
            continue
        idx = idx[rng.choice(len(idx), size=min(n, len(idx)), replace=False)]
        for r, y, x in idx:
            cell = shapely.box(lon_e[x], lat_e[y], lon_e[x + 1], lat_e[y + 1])
            exact = shapely.intersection(geoms[r], cell).area / cell.area
            worst = max(worst, abs(float(truth[r, y, x]) - exact))
    return worst


def _accuracy(est: np.ndarray, truth: np.ndarray, area: np.ndarray, names: list[str]) -> dict[str, Any]:
    # cells touched by the truth or the method only (the others are 0 in both)
    cells = (truth.sum(axis=0) > 0) | (est.sum(axis=0) > 0)
    t64, e64 = truth[:, cells].astype(np.float64), est[:, cells].astype(np.float64)
    t_land, e_land = t64.sum(axis=0), e64.sum(axis=0)
    touched = (t_land > 0) | (e_land > 0)
    partial = touched & ~np.all((t64 == 0) | (t64 >= 1), axis=0)
    err = np.abs(e64 - t64).max(axis=0)
    both = (t_land > 0) & (e_land > 0)
    norm_err = np.abs(e64[:, both] / e_land[both] - t64[:, both] / t_land[both]).max(axis=0)
    a_true = (t64 * area[cells]).sum(axis=1)
    a_est = (e64 * area[cells]).sum(axis=1)
    has = a_true > 0
    rel = np.abs(a_est[has] - a_true[has]) / a_true[has]
    worst = int(np.argmax(rel))
    return {
        "cell_err_mean": float(err[touched].mean()),
        "cell_err_mean_partial": float(err[partial].mean()) if partial.any() else 0.0,
        "cell_err_max": float(err[touched].max()),
        "cells_missed": int(((t_land > 0) & (e_land == 0)).sum()),
        "cells_spurious": int(((t_land == 0) & (e_land > 0)).sum()),
        "region_rel_err_mean": float(rel.mean()),
        "region_rel_err_median": float(np.median(rel)),
        "area_misplaced_share": float(np.abs(a_est - a_true).sum() / a_true.sum()),
        "region_rel_err_max": float(rel[worst]),
        "region_worst": str(np.asarray(names)[has][worst]),
        "regions_missed": int(((a_est == 0) & has).sum()),
        "norm_cell_err_mean": float(norm_err.mean()) if both.any() else 0.0,
        "norm_cell_err_max": float(norm_err.max()) if both.any() else 0.0,
    }


def _time_methods(methods: dict[str, Callable[[], tuple[np.ndarray, list[str]]]], repeat: int,
                  once_above: float) -> tuple[dict[str, float], dict[str, tuple[np.ndarray, list[str]]]]:
    best: dict[str, float] = {}
    outs: dict[str, tuple[np.ndarray, list[str]]] = {}
    for rep in range(repeat):
        for name, fn in methods.items():
            if rep > 0 and best[name] > once_above:
                continue
            t0 = time.perf_counter()
            out = fn()
            dt_ = time.perf_counter() - t0
            best[name] = min(best.get(name, np.inf), dt_)
            outs[name] = out
            del out
    return best, outs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--boundaries", default="110m,50m", help="comma list of 110m, 50m")
    ap.add_argument("--cases", default=None, help=f"comma list of grids ({', '.join(GRIDS)}); default all "
                                                  "(horn only when the truth is climmig at supersample=64)")
    ap.add_argument("--supersample", type=int, default=8, help="climmig's supersampling (its default: 8)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--once-above", type=float, default=5.0,
                    help="a method whose first run takes longer than this (s) is not repeated")
    ap.add_argument("--truth", choices=("exactextract", "climmig64"), default=None,
                    help="default: exactextract if installed, else climmig at supersample=64")
    ap.add_argument("--no-extra", action="store_true", help="skip climmig at supersample=10")
    args = ap.parse_args()

    truth_kind = args.truth or ("exactextract" if exactextract is not None else "climmig64")
    if truth_kind == "exactextract" and exactextract is None:
        sys.exit("exactextract is not installed (pip install exactextract); or pass --truth climmig64")
    if exactextract is None:
        print("NOTE: exactextract is not installed (pip install exactextract): the truth is climmig's "
              "region_fractions at supersample=64, and exactextract is not measured", flush=True)
    grids = (args.cases.split(",") if args.cases else
             (list(GRIDS) if truth_kind == "exactextract" else ["horn"]))
    load_start = os.getloadavg()[0]
    started = dt.datetime.now(dt.UTC)
    cat = load_catalog(REPO / "data_catalog" / "catalog.yaml")
    k = args.supersample
    rng = np.random.default_rng(1)
    cases: list[dict[str, Any]] = []
    rows: list[tuple[str, ...]] = []
    for bkey in args.boundaries.split(","):
        cat_id, id_field = BOUNDARIES[bkey]
        boundaries = cat.open(cat_id)
        for gname in grids:
            grid, glabel = _grid(gname)
            prep = np.inf  # the part every method shares: boundary_region_ids + the grid-box filter
            for _ in range(max(args.repeat, 1)):
                t0 = time.perf_counter()
                regions = _regions(boundaries, grid, id_field)
                prep = min(prep, time.perf_counter() - t0)
            a = (boundaries, grid, id_field)
            methods: dict[str, Callable[[], tuple[np.ndarray, list[str]]]] = {
                "climmig": lambda a=a: run_climmig(*a, k),
                "regionmask": lambda a=a: run_regionmask(*a),
            }
            if exactextract is not None:
                methods["exactextract"] = lambda a=a: run_exactextract(*a)
            print(f"[{bkey} / {glabel}: {grid.sizes['lat']} x {grid.sizes['lon']} cells, {len(regions)} regions]",
                  flush=True)
            best, outs = _time_methods(methods, args.repeat, args.once_above)
            if not args.no_extra:
                t0 = time.perf_counter()
                outs["climmig x10"] = run_climmig(boundaries, grid, id_field, 10)
                best["climmig x10"] = time.perf_counter() - t0
            names = list(regions["region"])
            for m, (_, ids) in outs.items():
                if ids != names:
                    raise RuntimeError(f"{m} returned other regions or another order than climmig's")
            case: dict[str, Any] = {"boundaries": cat_id, "id_field": id_field, "grid": gname,
                                    "shape": [grid.sizes["lat"], grid.sizes["lon"]], "regions": len(names),
                                    "dissolve_and_filter_seconds": round(prep, 4)}
            if truth_kind == "exactextract":
                truth = outs["exactextract"][0]
                case["truth_check_max_abs"] = _truth_check(truth, regions, grid, rng)
            else:
                t0 = time.perf_counter()
                truth = run_climmig(boundaries, grid, id_field, 64)[0]
                case["truth_seconds"] = round(time.perf_counter() - t0, 3)
            t_land = truth.astype(np.float64).sum(axis=0)
            case["touched_cells"] = int((t_land > 0).sum())
            case["partial_cells"] = int(((t_land > 0) & ~np.all((truth == 0) | (truth >= 1), axis=0)).sum())
            case["truth_max_land_sum"] = float(t_land.max())  # > 1 where regions' polygons overlap
            area = grid["cell_area"].values
            case["methods"] = {}
            for m, (est, _) in outs.items():
                # the shared part (boundary_region_ids + box filter) subtracted: the masking alone
                own, own_c = max(best[m] - prep, 0.0), max(best["climmig"] - prep, 1e-9)
                fig = {"seconds": round(best[m], 4), "ratio_to_climmig": round(best[m] / best["climmig"], 4),
                       "seconds_without_dissolve": round(own, 4),
                       "ratio_to_climmig_without_dissolve": round(own / own_c, 4)}
                fig.update(_accuracy(est, truth, area, names))
                case["methods"][m] = fig
                worst = f" ({fig['region_worst']})" if fig["region_rel_err_max"] > 0 else ""
                rows.append((bkey, gname, m, f"{best[m]:.3f}", f"{fig['ratio_to_climmig']:.3f}",
                             f"{own:.3f}", f"{fig['ratio_to_climmig_without_dissolve']:.3f}",
                             f"{fig['cell_err_mean']:.1e}", f"{fig['cell_err_mean_partial']:.1e}",
                             f"{fig['cell_err_max']:.3f}", str(fig["cells_missed"]),
                             f"{fig['region_rel_err_mean']:.1e}", f"{fig['region_rel_err_max']:.1e}{worst}",
                             str(fig["regions_missed"]), f"{fig['area_misplaced_share']:.1e}"))
            del outs, truth
            cases.append(case)
            print(f"  touched cells {case['touched_cells']}, partial {case['partial_cells']}; "
                  + (f"truth check (exactextract vs shapely) max |diff| {case['truth_check_max_abs']:.1e}"
                     if "truth_check_max_abs" in case else f"truth (climmig x64) {case['truth_seconds']} s"),
                  flush=True)

    head = ("boundaries", "grid", "method", "time (s)", "x climmig", "without dissolve (s)", "x climmig",
            "cell err mean", "mean, partial cells", "cell err max", "cells missed", "region area rel err mean",
            "max (worst region)", "regions missed", "area misplaced")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print()
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    result = {
        "date_utc": started.strftime("%Y-%m-%d %H:%M"), "load_average_1min_start": round(load_start, 2),
        "load_average_1min_end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
        "truth": ("exactextract coverage fractions" if truth_kind == "exactextract"
                  else "climmig region_fractions supersample=64"),
        "supersample": k, "repeat": args.repeat, "once_above_seconds": args.once_above,
        "versions": {"regionmask": regionmask.__version__,
                     "exactextract": getattr(exactextract, "__version__", None) if exactextract else None,
                     "shapely": shapely.__version__},
        "peak_rss_gib": round(_peak_rss_gib(), 2), "cases": cases,
    }
    print()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
