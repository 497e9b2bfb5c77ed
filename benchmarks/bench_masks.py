"""Region fractions: climmig's exact cell coverage against regionmask's sampled masks (accuracy and speed).

``climmig.grid.masks.region_fractions`` computes the exact share of each cell's area inside each region with
exactextract (``_coverage``). This script measures, in one run, on the bundled Natural Earth admin-0
boundaries (1:110m, and the 1:50m legacy file) and three grids built with ``climmig.grid.make_grid`` (global
1 degree, global 0.5 degree, and the demo's Horn of Africa 0.25-degree grid, built as
``climmig.exposure.build.build_grid_and_masks`` builds it from configs/demo.yaml):

* ``climmig``: ``region_fractions(boundaries, grid, id_field, assign_uncovered=False)``. Its raw shares are
  the reference of the accuracy figures; they are themselves checked against shapely intersection areas on
  a random sample of (region, cell) pairs (largest |difference| reported);
* ``regionmask`` (optional; not a climmig dependency, skipped with a note if it is not installed):
  ``regionmask.from_geopandas(regions).mask_3D_frac_approx(lon, lat, drop=False)`` (10 x 10 sub-cell
  centres, rasterised with rasterio), called on batches of 32 regions (rasterio's own batch size inside
  regionmask; one call for all regions needs ~10 GB at 0.5 degree and was slower);
* the yardstick: one numpy pass writing a float64 array of the output's shape (region, lat, lon):
  ``np.zeros`` and an in-place multiply over it, one thread. "x numpy pass" is a method's time for the
  masking alone (the shared part below subtracted) divided by this pass's time in the same run.

Every method starts from the same GeoDataFrame read from the file and includes
``climmig.grid.boundary_region_ids`` (one dissolved polygon per region) and the grid-box filter that
``region_fractions`` applies; that shared part is also timed alone and subtracted for "without dissolve"
(it dominates on small grids; "n/a" where a method's time is not above it, i.e. within the timing noise).

What is compared: raw coverage fractions, before climmig's normalisation and assignment of uncovered cells.
``region_fractions`` divides each cell's coverage by the coverage of all regions (fractions over land) and,
with ``assign_uncovered``, hands cells no polygon touches to the nearest region. With
``assign_uncovered=False`` its raw share is ``fraction * land_fraction`` (``land_fraction`` being clipped to
1 only where two regions' polygons overlap). regionmask returns raw shares directly. Figures:

* wall time (best of ``--repeat``, the methods, the shared part and the numpy pass interleaved; a method whose
  first run takes more than ``--once-above`` seconds runs once), its ratio to climmig's in the same run, the
  same without the shared part, and the ratio to the numpy pass;
* for climmig: the largest |share - shapely intersection area / cell area| on up to 1500 partial and 300
  full (region, cell) pairs per case, the shapely share divided by the cell's shapely total where polygons
  overlap (see ``_truth_check``), and the number of sampled pairs in such cells;
* for regionmask, against climmig: per-cell error (in each cell the largest |fraction - climmig's| over
  regions; mean over the cells touched by any polygon, mean over the partial ones (coast and border cells,
  where climmig's shares are not all 0 or 1), and max); cells touched by a polygon in which regionmask finds
  no land; per-region totals (area = sum over cells of fraction x ``climmig.grid.cell_area``): mean and max
  of the relative error over regions, regions found in no cell, and the area misplaced (sum over regions of
  |area error| / total area); and, in the JSON, the per-cell error after normalising over land as climmig
  does (cells where both see land).

Prints two tables and, last, one line of JSON. Run from the repository root (1-3 minutes on 2 cores)::

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

import exactextract  # noqa: E402  (a climmig dependency: region_fractions calls it; imported for its version)
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
    regionmask = None

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


def run_climmig(boundaries: Any, grid: xr.Dataset, id_field: str) -> tuple[np.ndarray, list[str]]:
    fr = region_fractions(boundaries, grid, id_field, assign_uncovered=False)
    raw = fr.values * fr["land_fraction"].values  # exact coverage (normalisation undone)
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


def numpy_pass(shape: tuple[int, int, int]) -> None:
    """The yardstick: write a float64 (region, lat, lon) array once (zeros, then an in-place multiply)."""
    a = np.zeros(shape, dtype=np.float64)
    a *= 0.5
    del a


def _truth_check(truth: np.ndarray, regions: Any, grid: xr.Dataset, rng: np.random.Generator,
                 n_partial: int = 1500, n_full: int = 300) -> dict[str, Any]:
    """climmig's raw shares against shapely intersection areas on a random sample of (region, cell) pairs.

    Where a file's polygons overlap, the regions' shares of a cell sum above 1 and ``region_fractions``
    divides them by that sum (``land_fraction`` is clipped to 1), so the reference of each pair is the
    shapely share divided by the larger of 1 and the cell's shapely total over the regions touching it.
    """
    lat_e, lon_e = edges(grid["lat"].values), edges(grid["lon"].values)
    geoms = list(regions.geometry)
    worst = worst_raw = 0.0
    checked = overlap = 0
    for sel, n in (((truth > 0) & (truth < 1), n_partial), (truth >= 1, n_full)):
        idx = np.argwhere(sel)
        if len(idx) == 0:
            continue
        idx = idx[rng.choice(len(idx), size=min(n, len(idx)), replace=False)]
        for r, y, x in idx:
            cell = shapely.box(lon_e[x], lat_e[y], lon_e[x + 1], lat_e[y + 1])
            shares = {int(q): shapely.intersection(geoms[q], cell).area / cell.area
                      for q in np.nonzero(truth[:, y, x])[0]}
            total = sum(shares.values())
            worst = max(worst, abs(float(truth[r, y, x]) - shares[int(r)] / max(total, 1.0)))
            worst_raw = max(worst_raw, abs(float(truth[r, y, x]) - shares[int(r)]))
            overlap += total > 1 + 1e-6
            checked += 1
    return {"max_abs": worst, "max_abs_undivided": worst_raw, "pairs": checked, "pairs_in_overlaps": overlap}


def _accuracy(est: np.ndarray, truth: np.ndarray, area: np.ndarray, names: list[str]) -> dict[str, Any]:
    """A method's raw shares ``est`` against climmig's exact ones (``truth``), same (region, lat, lon) order."""
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


def _time_methods(methods: dict[str, Callable[[], Any]], repeat: int,
                  once_above: float) -> tuple[dict[str, float], dict[str, Any]]:
    best: dict[str, float] = {}
    outs: dict[str, Any] = {}
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


def _round(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)


def _fmt(x: float | None, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print()
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--boundaries", default="110m,50m", help="comma list of 110m, 50m")
    ap.add_argument("--cases", default=",".join(GRIDS), help=f"comma list of grids ({', '.join(GRIDS)})")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--once-above", type=float, default=5.0,
                    help="a method whose first run takes longer than this (s) is not repeated")
    args = ap.parse_args()

    if regionmask is None:
        print("NOTE: regionmask is not installed (pip install regionmask; not a climmig dependency): "
              "climmig is measured alone", flush=True)
    load_start = os.getloadavg()[0]
    started = dt.datetime.now(dt.UTC)
    cat = load_catalog(REPO / "data_catalog" / "catalog.yaml")
    rng = np.random.default_rng(1)
    cases: list[dict[str, Any]] = []
    rows_c: list[tuple[str, ...]] = []
    rows_r: list[tuple[str, ...]] = []
    for bkey in args.boundaries.split(","):
        cat_id, id_field = BOUNDARIES[bkey]
        boundaries = cat.open(cat_id)
        for gname in args.cases.split(","):
            grid, glabel = _grid(gname)
            regions = _regions(boundaries, grid, id_field)
            shape = (len(regions), grid.sizes["lat"], grid.sizes["lon"])
            a = (boundaries, grid, id_field)
            methods: dict[str, Callable[[], Any]] = {"climmig": lambda a=a: run_climmig(*a)}
            if regionmask is not None:
                methods["regionmask"] = lambda a=a: run_regionmask(*a)
            # the part every method shares (boundary_region_ids + the grid-box filter), and the yardstick
            methods["shared part"] = lambda a=a: _regions(*a)
            methods["numpy pass"] = lambda shape=shape: numpy_pass(shape)
            print(f"[{bkey} / {glabel}: {shape[1]} x {shape[2]} cells, {shape[0]} regions]", flush=True)
            best, outs = _time_methods(methods, args.repeat, args.once_above)
            prep, t_np = best.pop("shared part"), best.pop("numpy pass")
            del outs["shared part"], outs["numpy pass"]
            names = list(regions["region"])
            for m, (_, ids) in outs.items():
                if ids != names:
                    raise RuntimeError(f"{m} returned other regions or another order than boundary_region_ids")
            truth = outs["climmig"][0]
            check = _truth_check(truth, regions, grid, rng)
            t_land = truth.astype(np.float64).sum(axis=0)
            case: dict[str, Any] = {
                "boundaries": cat_id, "id_field": id_field, "grid": gname, "shape": list(shape[1:]),
                "regions": shape[0], "dissolve_and_filter_seconds": round(prep, 4),
                "numpy_pass_seconds": round(t_np, 6), "numpy_pass_bytes": int(np.prod(shape)) * 8,
                "touched_cells": int((t_land > 0).sum()),
                "partial_cells": int(((t_land > 0) & ~np.all((truth == 0) | (truth >= 1), axis=0)).sum()),
                "climmig_vs_shapely": check,
                "methods": {},
            }
            area = grid["cell_area"].values
            for m, (est, _) in outs.items():
                # the shared part subtracted: the masking alone (None where it is within the timing noise,
                # i.e. the method's best time is not above the shared part's)
                own = best[m] - prep if best[m] > prep else None
                own_c = best["climmig"] - prep if best["climmig"] > prep else None
                fig: dict[str, Any] = {
                    "seconds": round(best[m], 4), "ratio_to_climmig": round(best[m] / best["climmig"], 4),
                    "seconds_without_dissolve": _round(own, 4),
                    "ratio_to_climmig_without_dissolve": _round(own / own_c if own and own_c else None, 4),
                    "ratio_to_numpy_pass": round(best[m] / t_np, 2),
                    "ratio_to_numpy_pass_without_dissolve": _round(own / t_np if own else None, 2),
                }
                if m != "climmig":
                    fig.update(_accuracy(est, truth, area, names))
                case["methods"][m] = fig
            c = case["methods"]["climmig"]
            rows_c.append((bkey, gname, f"{shape[1]} x {shape[2]}", str(shape[0]),
                           f"{case['touched_cells']} ({case['partial_cells']})", f"{prep:.3f}", f"{t_np * 1e3:.3g}",
                           f"{best['climmig']:.3f}", _fmt(c["seconds_without_dissolve"], ".3f"),
                           _fmt(c["ratio_to_numpy_pass_without_dissolve"], ".1f"),
                           f"{check['max_abs']:.1e} ({check['pairs']}, {check['pairs_in_overlaps']})"))
            if "regionmask" in case["methods"]:
                f = case["methods"]["regionmask"]
                worst = f" ({f['region_worst']})" if f["region_rel_err_max"] > 0 else ""
                rows_r.append((bkey, gname, f"{f['seconds']:.3f}", f"{f['ratio_to_climmig']:.2f}",
                               _fmt(f["seconds_without_dissolve"], ".3f"),
                               _fmt(f["ratio_to_climmig_without_dissolve"], ".2f"),
                               _fmt(f["ratio_to_numpy_pass_without_dissolve"], ".1f"),
                               f"{f['cell_err_mean']:.1e}", f"{f['cell_err_mean_partial']:.1e}",
                               f"{f['cell_err_max']:.3f}", str(f["cells_missed"]),
                               f"{f['region_rel_err_mean']:.1e}", f"{f['region_rel_err_max']:.1e}{worst}",
                               str(f["regions_missed"]), f"{f['area_misplaced_share']:.1e}"))
            del outs, truth
            cases.append(case)
            print(f"  touched cells {case['touched_cells']}, partial {case['partial_cells']}; climmig vs shapely: max "
                  f"|diff| {check['max_abs']:.1e} on {check['pairs']} (region, cell) pairs, "
                  f"{check['pairs_in_overlaps']} in cells where polygons overlap (undivided: "
                  f"{check['max_abs_undivided']:.1e})", flush=True)

    _table(("boundaries", "grid", "cells", "regions", "touched (partial)", "shared part (s)",
            "numpy pass (ms)", "climmig (s)", "without dissolve (s)", "x numpy pass",
            "max abs err vs shapely (pairs, in overlaps)"), rows_c)
    if rows_r:
        _table(("boundaries", "grid", "regionmask (s)", "x climmig", "without dissolve (s)", "x climmig",
                "x numpy pass", "cell err mean", "mean, partial cells", "cell err max", "cells missed",
                "region area rel err mean", "max (worst region)", "regions missed", "area misplaced"), rows_r)
    result = {
        "date_utc": started.strftime("%Y-%m-%d %H:%M"), "load_average_1min_start": round(load_start, 2),
        "load_average_1min_end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
        "reference": "climmig region_fractions (exactextract coverage), checked against shapely",
        "repeat": args.repeat, "once_above_seconds": args.once_above,
        "versions": {"regionmask": regionmask.__version__ if regionmask is not None else None,
                     "exactextract": getattr(exactextract, "__version__", None), "shapely": shapely.__version__},
        "peak_rss_gib": round(_peak_rss_gib(), 2), "cases": cases,
    }
    print()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
