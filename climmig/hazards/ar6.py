"""IPCC AR6 WGI Chapter-12 warming-level tables and maps: regional change per warming level and its pattern.

The Chapter-12 tables give, per AR6 reference region and climatic impact-driver, the 10th, 50th and 90th
percentiles across CMIP6 models at 1.5, 2, 3 and 4 degC of global warming and in the 1995-2014 baseline
(catalog entry ``ar6_ch12_regional_changes``). :func:`regional_levels` arranges one index as a
(region, gwl, quantile) array with the baseline placed at the ensemble's own 1995-2014 warming;
:func:`at_warming` evaluates it at any warming and position in the across-model range, piecewise-linearly in
both, as the AR6 Interactive Atlas interpolates between warming levels. :func:`cell_regions` assigns grid
cells to AR6 regions from the published polygon vertices (``ar6_reference_regions``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError

__all__ = ["QUANTILES", "at_warming", "cell_regions", "region_polygons", "regional_levels", "spatial_anomaly"]

#: The across-model quantiles the Chapter-12 tables give.
QUANTILES = (0.1, 0.5, 0.9)


def region_polygons(vertices: pd.DataFrame) -> dict[str, object]:
    """Shapely polygons of the AR6 reference regions from the Atlas vertex table.

    Parameters
    ----------
    vertices : pandas.DataFrame
        ``IPCC-WGI-reference-regions-v4_coordinates.csv``: column 4 the acronym, then ``lon|lat`` vertices.

    Returns
    -------
    dict
        Acronym (``*`` suffix of dateline-split parts removed and merged) -> shapely geometry.
    """
    from shapely.geometry import Polygon
    from shapely.ops import unary_union

    parts: dict[str, list[Polygon]] = {}
    for _, row in vertices.iterrows():
        acr = str(row.iloc[3]).strip().rstrip("*")
        pts = []
        for v in row.iloc[4:]:
            if isinstance(v, str) and "|" in v:
                lon, lat = v.strip().split("|")
                pts.append((float(lon), float(lat)))
        if len(pts) >= 3:
            parts.setdefault(acr, []).append(Polygon(pts))
    return {k: unary_union(v) for k, v in parts.items()}


def cell_regions(grid: xr.Dataset, vertices: pd.DataFrame, candidates: Sequence[str] | None = None) -> xr.DataArray:
    """The AR6 region of each grid cell (by cell centre).

    Parameters
    ----------
    grid : xr.Dataset
        Coordinates ``lat``, ``lon`` (degrees, -180..180).
    vertices : pandas.DataFrame
        The Atlas vertex table (:func:`region_polygons`).
    candidates : sequence of str, optional
        Regions to consider (default: land and land-ocean regions, in table order; the first match wins on
        the shared edges).

    Returns
    -------
    xr.DataArray, dims (lat, lon)
        Region acronym per cell; ``""`` where no region contains the centre.
    """
    import shapely

    polys = region_polygons(vertices)
    if candidates is None:
        surface = vertices.iloc[:, 1].astype(str)
        candidates = [str(a).rstrip("*") for a, s in zip(vertices.iloc[:, 3], surface, strict=True) if s != "Ocean"]
    lon2, lat2 = np.meshgrid(grid["lon"].values, grid["lat"].values)
    pts = shapely.points(lon2.ravel(), lat2.ravel())
    out = np.full(pts.shape, "", dtype=object)
    for acr in dict.fromkeys(candidates):
        poly = polys.get(acr)
        if poly is None:
            raise DataError(f"AR6 region {acr!r} is not in the reference-region table")
        hit = shapely.covers(poly, pts) & (out == "")
        out[hit] = acr
    return xr.DataArray(out.reshape(lon2.shape).astype(str), dims=("lat", "lon"),
                        coords={"lat": grid["lat"].values, "lon": grid["lon"].values},
                        attrs={"long_name": "IPCC AR6 WGI reference region (cell centre)"})


def regional_levels(table: pd.DataFrame, index: str, regions: Sequence[str], baseline_gwl: float) -> xr.DataArray:
    """One index of the Chapter-12 table as (region, gwl, quantile), the baseline at ``baseline_gwl``.

    Parameters
    ----------
    table : pandas.DataFrame
        The tidy table (``index, region, key, gwl, period, p10, p50, p90, kind``).
    index : str
        ``tx35``, ``HI41``, ``DF6``, ``SM`` or ``Q100``.
    regions : sequence of str
        AR6 acronyms.
    baseline_gwl : float
        Global warming (K since 1850-1900) of the 1995-2014 baseline in the same ensemble; for indices whose
        table gives changes (``SM``) the baseline row is a change of 0.

    Returns
    -------
    xr.DataArray, dims (region, gwl, quantile)
        Attrs ``kind`` ("value" or "change").

    Raises
    ------
    DataError
        Index or region not in the table.
    """
    rows = table[table["index"] == index]
    if rows.empty:
        raise DataError(f"the AR6 Chapter-12 table has no index {index!r} (it has {sorted(table['index'].unique())})")
    kind = str(rows["kind"].iloc[0])
    missing = [r for r in regions if r not in set(rows["region"])]
    if missing:
        raise DataError(f"the AR6 Chapter-12 table has no {index} values for regions {missing}")
    levels = sorted(float(g) for g in rows["gwl"].dropna().unique())
    gwl = [baseline_gwl, *levels]
    out = np.empty((len(regions), len(gwl), 3))
    for i, r in enumerate(regions):
        rr = rows[rows["region"] == r]
        if kind == "change":
            out[i, 0] = 0.0
        else:
            base = rr[rr["period"] == "baseline_1995-2014"]
            if base.empty:
                raise DataError(f"the AR6 Chapter-12 table has no 1995-2014 baseline of {index} for {r}")
            out[i, 0] = base[["p10", "p50", "p90"]].to_numpy(float)[0]
        for k, lv in enumerate(levels):
            v = rr[np.isclose(rr["gwl"].astype(float), lv)]
            if v.empty:
                raise DataError(f"the AR6 Chapter-12 table has no {index} value for {r} at {lv} degC")
            out[i, k + 1] = v[["p10", "p50", "p90"]].to_numpy(float)[0]
    return xr.DataArray(out, dims=("region", "gwl", "quantile"),
                        coords={"region": list(regions), "gwl": gwl, "quantile": list(QUANTILES)},
                        attrs={"kind": kind, "index": index,
                               "long_name": f"AR6 ch. 12 CMIP6 {index} per warming level (p10/p50/p90)"})


def at_warming(levels: xr.DataArray, warming: xr.DataArray, position: xr.DataArray) -> xr.DataArray:
    """Interpolate a (region, gwl, quantile) table at given warming and across-model positions.

    Piecewise-linear in the warming level (extrapolated linearly from the last two levels above 4 degC and
    below the baseline) and in the quantile between p10, p50 and p90.

    Parameters
    ----------
    levels : xr.DataArray
        From :func:`regional_levels`.
    warming : xr.DataArray, [K]
        Global warming since 1850-1900 (any dims, e.g. scenario, climate_model, year).
    position : xr.DataArray
        Quantile in [0.1, 0.9] per ``climate_model`` (or scalar).

    Returns
    -------
    xr.DataArray
        Dims of ``warming`` and ``position`` plus ``region``.
    """
    q = np.asarray(levels["quantile"].values, float)
    pos = position.clip(q[0], q[-1])
    # weights over the three quantiles (piecewise linear)
    w_lo = ((q[1] - pos) / (q[1] - q[0])).clip(0, 1)
    w_hi = ((pos - q[1]) / (q[2] - q[1])).clip(0, 1)
    wq = xr.concat([w_lo, 1 - w_lo - w_hi, w_hi], dim="quantile").assign_coords(quantile=q)
    table = (levels * wq).sum("quantile")  # (region, gwl, ...position dims)
    g = np.asarray(levels["gwl"].values, float)

    def interp(vals: np.ndarray, x: np.ndarray) -> np.ndarray:
        y = np.interp(x, g, vals)
        lo = (vals[1] - vals[0]) / (g[1] - g[0])
        hi = (vals[-1] - vals[-2]) / (g[-1] - g[-2])
        y = np.where(x < g[0], vals[0] + lo * (x - g[0]), y)
        return np.where(x > g[-1], vals[-1] + hi * (x - g[-1]), y)

    return xr.apply_ufunc(interp, table, warming, input_core_dims=[["gwl"], []], vectorize=True,
                          output_dtypes=[float])


def spatial_anomaly(change_map: xr.DataArray, regions: xr.DataArray, weights: xr.DataArray | None = None) -> xr.DataArray:
    """A change map's departure from its own mean over each AR6 region (zero mean per region).

    Parameters
    ----------
    change_map : xr.DataArray
        Multi-model median change on the analysis grid (dims lat, lon).
    regions : xr.DataArray
        :func:`cell_regions` on the same grid.
    weights : xr.DataArray, optional
        Cell weights for the regional means (default cos(latitude)).

    Returns
    -------
    xr.DataArray, dims (lat, lon)
        ``map - mean_region(map)``; 0 where the map is NaN (ocean) or the cell has no region.
    """
    w = weights if weights is not None else np.cos(np.deg2rad(change_map["lat"])) * xr.ones_like(change_map)
    w = w.where(change_map.notnull(), 0.0)
    out = xr.zeros_like(change_map, dtype=float)
    for r in np.unique(regions.values):
        if r == "":
            continue
        m = regions == r
        ww = w.where(m, 0.0)
        tot = float(ww.sum())
        if tot <= 0:
            continue
        mean = float((change_map.fillna(0.0) * ww).sum()) / tot
        out = xr.where(m & change_map.notnull(), change_map - mean, out)
    return out.fillna(0.0)
