"""Internal migration: production-constrained gravity flows between zones inside a country.

For zones :math:`i \\ne j` of one country over a period of :math:`T` years,

.. math::

    y_{ij} \\sim \\mathrm{NegBin}(\\mu_{ij}, \\alpha), \\quad
    \\mu_{ij} = T\\, P_i\\, m\\, e^{\\beta s_i}\\, w_{ij}, \\quad
    w_{ij} = \\frac{P_j^{\\gamma} d_{ij}^{-\\delta}}{\\sum_{k \\ne i} P_k^{\\gamma} d_{ik}^{-\\delta}}

where :math:`m` is the baseline yearly out-migration rate between zones, :math:`s_i` the climate stress of
the origin (log of the exposure ratio: 0 today, :math:`\\log 2` when exposure doubles), so that
out-migration scales as :math:`(\\text{exposure ratio})^{\\beta}`, and :math:`w_{ij}` the gravity share of
destination :math:`j` (destination population elasticity :math:`\\gamma`, distance decay :math:`\\delta`).

No internal origin-destination data are bundled: the parameters come from priors that cite their source
(:data:`DEFAULT_INTERNAL_PRIORS`, overridable in ``mobility.migration.internal_priors``) or are fitted from a
user's flow table (:func:`read_internal_flows`, ``climmig fit-migration --internal-flows``).

Zones are a user's admin boundaries (:func:`boundary_zones`) or equal-population zones derived from the
population grid (:func:`grid_zones`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from climmig.config.schema_statistics import DistSpec
from climmig.errors import DataError
from climmig.migration.geography import great_circle_km
from climmig.mobility.priors import DEFAULT_INTERNAL_PRIORS, prior_draws
from climmig.mobility.priors import prior_rv as dist_from_spec
from climmig.mobility.priors import resolve_prior_table as resolve_priors

__all__ = [
    "DEFAULT_INTERNAL_PRIORS",
    "INTERNAL_FLOW_COLUMNS",
    "build_internal_model",
    "boundary_zones",
    "expected_internal_migration",
    "grid_zones",
    "internal_parameter_draws",
    "predict_internal_flows",
    "read_internal_flows",
    "zone_table",
]

logger = logging.getLogger(__name__)

INTERNAL_MODEL_NAME = "internal_migration_gravity_negbin"
INTERNAL_FLOW_COLUMNS = ("origin_zone", "destination_zone", "flow", "origin_population",
                         "destination_population", "distance_km")
_OPTIONAL = {"climate_stress": 0.0, "period_years": 1.0}



# ------------------------------------------------------------------------------------------------ params
def internal_parameter_draws(source: Any, samples: int, seed: int) -> xr.Dataset:
    """Draws of the internal-migration parameters, from priors or from a fit.

    Parameters
    ----------
    source : None, mapping of str to DistSpec, or az.InferenceData
        ``None``: the default priors; a mapping: prior overrides (config ``internal_priors``); a fit of
        :func:`build_internal_model`: its posterior.
    samples : int
        Number of draws.
    seed : int
        Seed.

    Returns
    -------
    xr.Dataset
        ``out_rate`` [yr-1], ``destination_population``, ``distance_decay``, ``climate_elasticity``,
        ``alpha`` (dim ``sample``); attr ``climmig_internal_source`` says "prior" or "posterior".
    """
    rng = np.random.default_rng(seed)
    names = list(DEFAULT_INTERNAL_PRIORS)
    if source is not None and hasattr(source, "posterior"):
        post = source.posterior.stack(sample=("chain", "draw"))
        pick = rng.choice(post.sizes["sample"], size=samples, replace=samples > post.sizes["sample"])
        data = {n: ("sample", post[f"int_{n}"].values[pick]) for n in names}
        kind = "posterior"
    else:
        priors = resolve_priors(source, DEFAULT_INTERNAL_PRIORS, "mobility -> migration -> internal_priors")
        data = {n: ("sample", prior_draws(priors[n], samples, int(seed) + k)) for k, n in enumerate(names)}
        kind = "prior"
    ds = xr.Dataset(data, coords={"sample": np.arange(samples)}, attrs={"climmig_internal_source": kind})
    ds["out_rate"].attrs = {"units": "yr-1", "long_name": "baseline yearly out-migration rate between zones"}
    return ds


def expected_internal_migration(params: xr.Dataset, population: xr.DataArray,
                                exposure_ratio: xr.DataArray | float = 1.0) -> xr.DataArray:
    """Expected people moving between zones of each region per year.

    Parameters
    ----------
    params : xr.Dataset
        From :func:`internal_parameter_draws` (dim ``sample``).
    population : xr.DataArray
        People per region (any dims, e.g. scenario, year, region).
    exposure_ratio : xr.DataArray or float
        Exposure relative to the baseline (1 = today).

    Returns
    -------
    xr.DataArray, [people yr-1]
        :math:`P\\, m\\, r^{\\beta}`; dims ``sample`` plus those of the inputs. The zone-to-zone split
        (:func:`predict_internal_flows`) conserves this total.
    """
    ratio = xr.DataArray(exposure_ratio) if not isinstance(exposure_ratio, xr.DataArray) else exposure_ratio
    out = population * params["out_rate"] * ratio.clip(min=1e-9) ** params["climate_elasticity"]
    out.attrs = {"units": "1", "long_name": "expected internal migrants between zones (people per year)"}
    return out


# ------------------------------------------------------------------------------------------------ zones
def _pop_grid(population: xr.DataArray) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, str]]:
    ydim = next(d for d in ("lat", "y", "latitude") if d in population.dims)
    xdim = next(d for d in ("lon", "x", "longitude") if d in population.dims)
    pop = population.transpose(ydim, xdim)
    lat, lon = np.meshgrid(pop[ydim].values, pop[xdim].values, indexing="ij")
    vals = np.nan_to_num(np.asarray(pop.values, dtype=float), nan=0.0)
    return vals, lon, lat, (ydim, xdim)


def grid_zones(population: xr.DataArray, k: int) -> xr.DataArray:
    """Split a population grid into ``k`` zones of (nearly) equal population by recursive bisection.

    Each step cuts the most populous zone across its longer side at the population-weighted median, so
    zones are compact and deterministic.

    Parameters
    ----------
    population : xr.DataArray
        People per cell, dims (lat, lon) or (y, x) (computed: this is a small country grid).
    k : int
        Number of zones (>= 2).

    Returns
    -------
    xr.DataArray
        Zone number (0..k-1) per cell, -1 where the population is 0 or missing; dims of ``population``.

    Raises
    ------
    DataError
        If there are fewer populated cells than zones.
    """
    vals, lon, lat, (ydim, xdim) = _pop_grid(population)
    cells = np.flatnonzero(vals.ravel() > 0)
    if cells.size < k:
        raise DataError(f"only {cells.size} populated cells for {k} zones; use fewer zones or a finer grid")
    w, x, y = vals.ravel()[cells], lon.ravel()[cells], lat.ravel()[cells]
    groups = [np.arange(cells.size)]
    while len(groups) < k:
        j = int(np.argmax([w[g].sum() if g.size > 1 else -1 for g in groups]))
        g = groups.pop(j)
        coord = x[g] if np.ptp(x[g]) * np.cos(np.radians(y[g].mean())) >= np.ptp(y[g]) else y[g]
        order = np.argsort(coord, kind="stable")
        cum = np.cumsum(w[g][order])
        cut = int(np.clip(np.searchsorted(cum, cum[-1] / 2), 0, g.size - 2)) + 1
        groups.extend([g[order[:cut]], g[order[cut:]]])
    zone = np.full(vals.size, -1, dtype=int)
    # number zones from north-west to south-east for stable labels
    keys = [(-y[g].mean(), x[g].mean()) for g in groups]
    for z, gi in enumerate(sorted(range(len(groups)), key=lambda i: keys[i])):
        zone[cells[groups[gi]]] = z
    return xr.DataArray(zone.reshape(vals.shape), dims=(ydim, xdim),
                        coords={ydim: population[ydim], xdim: population[xdim]}, name="zone",
                        attrs={"long_name": f"equal-population zone (recursive bisection, k={k})"})


def boundary_zones(zones: Any, population: xr.DataArray, id_field: str) -> xr.DataArray:
    """Zone of each grid cell from a user's admin boundaries (cell centre in polygon).

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Admin units (EPSG:4326 or any CRS).
    population : xr.DataArray
        People per cell, dims (lat, lon) or (y, x) in degrees.
    id_field : str
        Column naming the zones.

    Returns
    -------
    xr.DataArray
        Integer zone index per cell (-1 outside all units); ``zone_name`` attr lists the names in order.
    """
    import geopandas as gpd

    vals, lon, lat, (ydim, xdim) = _pop_grid(population)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon.ravel(), lat.ravel()), crs="EPSG:4326")
    z = zones.to_crs("EPSG:4326").reset_index(drop=True)
    hit = gpd.sjoin(pts, z[[id_field, "geometry"]], how="left", predicate="within")
    hit = hit[~hit.index.duplicated(keep="first")]
    names = list(z[id_field].astype(str))
    code = hit[id_field].astype(str).map({n: i for i, n in enumerate(names)}).fillna(-1).astype(int)
    return xr.DataArray(code.to_numpy().reshape(vals.shape), dims=(ydim, xdim),
                        coords={ydim: population[ydim], xdim: population[xdim]}, name="zone",
                        attrs={"long_name": f"admin unit ({id_field})", "zone_name": names})


def zone_table(population: xr.DataArray, zone: xr.DataArray, names: list[str] | None = None) -> xr.Dataset:
    """Population, population-weighted centroid and pairwise distance of zones.

    Parameters
    ----------
    population : xr.DataArray
        People per cell.
    zone : xr.DataArray
        Zone index per cell (from :func:`grid_zones` or :func:`boundary_zones`).
    names : list of str, optional
        Zone names (default ``Z0``, ``Z1``, ...).

    Returns
    -------
    xr.Dataset
        ``population`` (zone) [1], ``lon``/``lat`` (zone), ``distance_km`` (origin_zone, destination_zone).
    """
    vals, lon, lat, _ = _pop_grid(population)
    z = np.asarray(zone.transpose(*population.dims).values).ravel()
    n = int(z.max()) + 1
    ok = z >= 0
    w = np.bincount(z[ok], weights=vals.ravel()[ok], minlength=n)
    cx = np.bincount(z[ok], weights=(vals.ravel() * lon.ravel())[ok], minlength=n) / np.where(w > 0, w, 1)
    cy = np.bincount(z[ok], weights=(vals.ravel() * lat.ravel())[ok], minlength=n) / np.where(w > 0, w, 1)
    names = names or zone.attrs.get("zone_name") or [f"Z{i}" for i in range(n)]
    names = [str(s) for s in names][:n]
    d = great_circle_km(cx[:, None], cy[:, None], cx[None, :], cy[None, :])
    return xr.Dataset(
        {"population": ("zone", w, {"units": "1", "long_name": "people in the zone"}),
         "lon": ("zone", cx, {"units": "degrees_east", "long_name": "population-weighted centroid longitude"}),
         "lat": ("zone", cy, {"units": "degrees_north", "long_name": "population-weighted centroid latitude"}),
         "distance_km": (("origin_zone", "destination_zone"), d, {"units": "km"})},
        coords={"zone": names, "origin_zone": names, "destination_zone": names},
    )


def predict_internal_flows(params: xr.Dataset, zones: xr.Dataset,
                           climate_stress: xr.DataArray | float = 0.0) -> xr.DataArray:
    """Expected zone-to-zone flows per year (vectorised over draws and pairs).

    Parameters
    ----------
    params : xr.Dataset
        Parameter draws (dim ``sample``).
    zones : xr.Dataset
        From :func:`zone_table`.
    climate_stress : xr.DataArray or float
        Log exposure ratio of each origin zone (dim ``zone``), 0 = today.

    Returns
    -------
    xr.DataArray, [people yr-1]
        Dims (sample, origin_zone, destination_zone), 0 on the diagonal.
    """
    pop = zones["population"]
    pd_ = pop.rename(zone="destination_zone")
    d = zones["distance_km"].where(zones["distance_km"] > 0, 1.0)
    off = xr.DataArray(~np.eye(pop.size, dtype=bool), dims=("origin_zone", "destination_zone"))
    attract = np.exp(params["destination_population"] * np.log(pd_.clip(min=1e-9))
                     - params["distance_decay"] * np.log(d)).where(off, 0.0)
    share = attract / attract.sum("destination_zone")
    s = climate_stress.rename(zone="origin_zone") if isinstance(climate_stress, xr.DataArray) else climate_stress
    out_total = pop.rename(zone="origin_zone") * params["out_rate"] * np.exp(params["climate_elasticity"] * s)
    flow = (out_total * share).transpose("sample", "origin_zone", "destination_zone")
    flow.attrs = {"units": "1", "long_name": "expected people moving from origin zone to destination zone "
                                             "per year"}
    return flow


# ------------------------------------------------------------------------------------------------ fitting
def read_internal_flows(path: str | Path) -> pd.DataFrame:
    """Read and check an internal origin-destination flow table (CSV).

    Required columns: ``origin_zone``, ``destination_zone``, ``flow`` (people over the period),
    ``origin_population``, ``destination_population`` (people), ``distance_km``. Optional:
    ``climate_stress`` (log exposure ratio of the origin, default 0) and ``period_years`` (default 1).
    Every origin must list every other zone as a destination (write 0 for no movement).

    Parameters
    ----------
    path : str or Path
        CSV file.

    Returns
    -------
    pandas.DataFrame
        With the optional columns filled; internal rows (origin == destination) dropped.

    Raises
    ------
    DataError
        On missing columns, bad values or an incomplete table.
    """
    from climmig.io.readers import read_table

    p = Path(path)
    if not p.exists():
        raise DataError(f"internal flow table not found: {p}")
    df = read_table(p)
    missing = [c for c in INTERNAL_FLOW_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{p}: missing columns {missing}; the table needs {list(INTERNAL_FLOW_COLUMNS)} "
                        f"(optional: {list(_OPTIONAL)}); see docs/migration.md")
    for c, v in _OPTIONAL.items():
        if c not in df.columns:
            df[c] = v
    df = df[df["origin_zone"].astype(str) != df["destination_zone"].astype(str)].copy()
    df["origin_zone"] = df["origin_zone"].astype(str)
    df["destination_zone"] = df["destination_zone"].astype(str)
    num = ["flow", "origin_population", "destination_population", "distance_km", "climate_stress",
           "period_years"]
    for c in num:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    if df[num].isna().any().any():
        bad = [c for c in num if df[c].isna().any()]
        raise DataError(f"{p}: non-numeric or empty values in {bad}")
    if (df["flow"] < 0).any() or (df[["origin_population", "destination_population", "distance_km",
                                      "period_years"]] <= 0).any().any():
        raise DataError(f"{p}: flows must be >= 0 and populations, distances and period_years > 0")
    zones = set(df["origin_zone"]) | set(df["destination_zone"])
    counts = df.groupby("origin_zone")["destination_zone"].nunique()
    short = counts[counts < len(zones) - 1]
    if len(short) or len(counts) < len(zones):
        raise DataError(f"{p}: every origin zone must list all {len(zones) - 1} other zones as destinations "
                        f"(write 0 flows); incomplete: {', '.join(list(short.index)[:5]) or 'missing origins'}")
    if df.duplicated(["origin_zone", "destination_zone"]).any():
        raise DataError(f"{p}: duplicated origin-destination rows")
    df["flow"] = np.round(df["flow"]).astype(np.int64)
    return df.reset_index(drop=True)


def build_internal_model(flows: pd.DataFrame, priors: Mapping[str, DistSpec] | None = None) -> pm.Model:
    """Production-constrained negative-binomial gravity model of internal flows.

    Parameters
    ----------
    flows : pandas.DataFrame
        From :func:`read_internal_flows`.
    priors : mapping of str to DistSpec, optional
        Overrides of :data:`DEFAULT_INTERNAL_PRIORS`.

    Returns
    -------
    pm.Model
        Data containers with dim ``pair``; free variables ``int_out_rate``, ``int_destination_population``,
        ``int_distance_decay``, ``int_climate_elasticity``, ``int_alpha``; observed ``internal_flow``.
    """
    p = resolve_priors(priors, DEFAULT_INTERNAL_PRIORS, "mobility -> migration -> internal_priors")
    origins = sorted(flows["origin_zone"].unique())
    o_idx = flows["origin_zone"].map({z: i for i, z in enumerate(origins)}).to_numpy()
    coords = {"pair": [f"{o}->{d}" for o, d in zip(flows["origin_zone"], flows["destination_zone"],
                                                     strict=True)],
              "origin_zone": origins}
    with pm.Model(coords=coords) as model:
        oi = pm.Data("origin_zone_idx", o_idx, dims="pair")
        lpo = pm.Data("log_origin_population", np.log(flows["origin_population"].to_numpy(float)), dims="pair")
        lpd = pm.Data("log_destination_population", np.log(flows["destination_population"].to_numpy(float)),
                      dims="pair")
        ld = pm.Data("log_distance", np.log(flows["distance_km"].to_numpy(float)), dims="pair")
        st = pm.Data("climate_stress", flows["climate_stress"].to_numpy(float), dims="pair")
        per = pm.Data("period_years", flows["period_years"].to_numpy(float), dims="pair")
        m = dist_from_spec("int_out_rate", p["out_rate"])
        g = dist_from_spec("int_destination_population", p["destination_population"])
        dd = dist_from_spec("int_distance_decay", p["distance_decay"])
        b = dist_from_spec("int_climate_elasticity", p["climate_elasticity"])
        alpha = dist_from_spec("int_alpha", p["alpha"])
        log_w = g * lpd - dd * ld
        # production constraint: normalise over each origin's destinations (stable log-sum-exp)
        shift = pt.max(log_w)
        denom = pt.inc_subtensor(pt.zeros(len(origins))[oi], pt.exp(log_w - shift))
        share = pt.exp(log_w - shift) / denom[oi]
        mu = per * pt.exp(lpo) * m * pt.exp(b * st) * share
        pm.NegativeBinomial("internal_flow", mu=mu, alpha=alpha, observed=flows["flow"].to_numpy(),
                            dims="pair")
    return model
