r"""Historical hazard intensity per country, year and hazard: the displacement model's exposure ``log E``, and
the climate index of the internal-migration model (:mod:`climmig.migration.internal_climate`).

The displacement model's size part has a term :math:`\gamma_h \log E_{cth}`. With ``log E = 0`` everywhere
the exposure elasticity ``gamma_h`` keeps its prior; this module builds ``log E`` for the calibration years
from observed hazard records so that ``gamma_h`` is learnt as a **within-country** elasticity (each country
is compared with itself, consistent with projections, which use exposure relative to a present-day
baseline).

Intensity indices (the rules; see ``docs/displacement.md``, "Exposure elasticity"):

* **flood** (:func:`flood_intensity`, Dartmouth Flood Observatory archive of large floods, 1985-2019): each
  event is assigned to the country whose Natural Earth 1:110m polygon contains its centroid (``long``,
  ``lat``; point in polygon, no nearest-country fallback: a centroid offshore or in a country missing from
  the 1:110m file is not located and is counted in ``attrs["unlocated_events"]``), and to the calendar year
  in which it began. Intensity ``I = sum over events of Area (km2) x duration (days, Ended - Began + 1)
  x Severity (1, 1.5, 2)``. Every country with a 1:110m polygon is covered in every DFO year (a covered
  year without an event has ``I = 0``); years after 2019 are not covered.
* **drought** (:func:`drought_intensity`, CHIRPS October-December "short rains", 1981-2020, 22-51.5E,
  12S-23N): per 0.5-degree cell the seasonal deficit ``max(0, 1 - P / Pclim)`` against the cell's 1981-2010
  mean; a country's intensity is the area-weighted (cos latitude) mean deficit over its cells whose
  climatological OND rain is at least ``min_rain`` (0.5) mm/day (where the short rains are a rainy season), and a
  country is covered only if at least ``min_share`` of its area lies inside the CHIRPS window and at least
  ``min_share`` of its in-window cells are rainy. The deficit of the short rains of year ``y`` is the
  intensity of displacement year ``y + 1`` (``lag = 1``): drought displacement is recorded in the months
  after a failed season (the OND 2010 and 2016 failures preceded the 2011 and 2017 Horn of Africa
  displacements). Seasons 1981-2020 thus cover displacement years 1982-2021.

From intensity to exposure ratio (:func:`log_exposure_ratio`)::

    log E_cth = log(I_cth + k_h) - mean over the calibration years covered for c of log(I_cth + k_h)

i.e. the ratio of ``I + k`` to its geometric mean over the country's own covered calibration years. A
covered year without an event is information (``I = 0`` gives a low, finite ``log E``), not a gap. ``k_h``
(:func:`reference_intensity`) is the median positive country-year intensity of the hazard's record before
the calibration period (flood 1985-2007, drought 1982-2007 for a 2008 start): a year without a listed event
counts as a little less than a typical event year, and the log stays bounded. The geometric (not the
arithmetic) mean makes ``log E`` average zero within each country, so the country effect is the size of a
typical year and ``E = 1`` (the projection baseline and the value of uncovered cells) means a typical year;
with the arithmetic mean ``log E`` would average well below zero (Jensen) and ``E = 1`` would mean an
unusually severe year. Country-years without a record (countries or years not covered) get ``log E = 0``
(``E = 1``) and are listed in ``attrs``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.countries import NATURAL_EARTH_TO_STATISTICS
from climmig.errors import DataError

__all__ = [
    "INTENSITY_KINDS",
    "country_polygons",
    "drought_intensity",
    "elasticity_summary",
    "flood_intensity",
    "historical_log_exposure",
    "locate_points",
    "log_exposure_ratio",
    "reference_intensity",
]

#: hazard -> kind of record its intensity is built from (the config's ``historical_intensity`` keys)
INTENSITY_KINDS: dict[str, str] = {"flood": "dfo_events", "drought": "chirps_short_rains"}
#: posterior sd / prior sd at or below which an elasticity counts as identified by the data
IDENTIFIED_RATIO = 0.5


def country_polygons(boundaries: Any) -> Any:
    """Country polygons keyed by ISO3 (Natural Earth admin-0).

    Parameters
    ----------
    boundaries : geopandas.GeoDataFrame
        Natural Earth admin-0 table with ``ISO_A3_EH``, ``ADM0_A3`` and ``geometry`` (EPSG:4326).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``iso3`` and ``geometry``; the code is ``ISO_A3_EH``, else ``ADM0_A3`` where the former is
        ``-99`` (France, Norway, Kosovo, ...), with Kosovo as IDMC's ``XKX`` and Somaliland (``SOL``) and
        Northern Cyprus (``CYN``) merged into Somalia and Cyprus as IDMC counts them; Antarctica and rows
        without a code are dropped, and parts of one code are merged.
    """
    import geopandas as gpd

    cols = {c.lower(): c for c in boundaries.columns}
    eh = boundaries[cols["iso_a3_eh"]].astype(str) if "iso_a3_eh" in cols else pd.Series("-99", boundaries.index)
    adm = boundaries[cols["adm0_a3"]].astype(str)
    code = eh.where(~eh.isin(["-99", "nan", "None", ""]), adm).replace(dict(NATURAL_EARTH_TO_STATISTICS))
    g = gpd.GeoDataFrame({"iso3": code.to_numpy()}, geometry=boundaries.geometry.to_numpy(), crs=boundaries.crs)
    g = g[~g["iso3"].isin(["-99", "ATA", "nan"])]
    return g.dissolve(by="iso3", as_index=False)[["iso3", "geometry"]]


def locate_points(lon: np.ndarray, lat: np.ndarray, polygons: Any) -> np.ndarray:
    """ISO3 of the polygon containing each point (point in polygon), ``None`` where no polygon does.

    Parameters
    ----------
    lon, lat : numpy.ndarray
        Coordinates in degrees (EPSG:4326).
    polygons : geopandas.GeoDataFrame
        From :func:`country_polygons`.

    Returns
    -------
    numpy.ndarray
        Object array of codes (``None`` = not located). A point on a shared border goes to the first
        polygon in ``polygons`` order.
    """
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(np.asarray(lon, float), np.asarray(lat, float)),
                           crs=polygons.crs)
    hit = gpd.sjoin(pts, polygons[["iso3", "geometry"]], how="left", predicate="within")
    hit = hit[~hit.index.duplicated(keep="first")]
    out = hit["iso3"].reindex(pts.index).to_numpy(dtype=object)
    return np.where(pd.isna(out), None, out)


def flood_intensity(events: pd.DataFrame, polygons: Any) -> pd.Series:
    """Flood intensity per country-year from the DFO archive: sum of Area x duration x Severity.

    Parameters
    ----------
    events : pandas.DataFrame
        DFO archive rows with ``long``, ``lat``, ``Area`` (km2), ``Began``, ``Ended`` (dates) and
        ``Severity``.
    polygons : geopandas.GeoDataFrame
        From :func:`country_polygons`; its countries are the covered ones.

    Returns
    -------
    pandas.Series
        ``intensity`` (km2 x days x severity class) indexed by (``iso3``, ``year``) for every covered country
        and every year from the first to the last year of the archive (0 where no event began), with
        attrs ``source``, ``covered_years``, ``covered_countries``, ``unlocated_events``, ``n_events``.
    """
    need = {"long", "lat", "Area", "Began", "Ended", "Severity"}
    if missing := need - set(events.columns):
        raise DataError(f"DFO flood archive lacks columns {sorted(missing)}")
    began = pd.to_datetime(events["Began"], errors="coerce")
    ended = pd.to_datetime(events["Ended"], errors="coerce")
    days = ((ended - began).dt.days + 1).clip(lower=1)
    val = (pd.to_numeric(events["Area"], errors="coerce") * days
           * pd.to_numeric(events["Severity"], errors="coerce"))
    ok = began.notna() & val.notna()
    iso = locate_points(events["long"].to_numpy(float), events["lat"].to_numpy(float), polygons)
    located = ok.to_numpy() & (iso != None)  # noqa: E711 - elementwise on an object array
    years = list(range(int(began[ok].dt.year.min()), int(began[ok].dt.year.max()) + 1))
    countries = sorted(polygons["iso3"])
    per = (pd.DataFrame({"iso3": iso[located], "year": began[located].dt.year.astype(int).to_numpy(),
                         "v": val[located].to_numpy(float)})
           .groupby(["iso3", "year"])["v"].sum())
    idx = pd.MultiIndex.from_product([countries, years], names=["iso3", "year"])
    out = per.reindex(idx, fill_value=0.0).rename("intensity")
    out.attrs = {"source": "DFO large-flood archive: sum over events (centroid in country, year begun) of "
                           "Area km2 x days x Severity",
                 "units": "km2 day", "covered_years": years, "covered_countries": countries,
                 "unlocated_events": int(ok.sum() - located.sum()), "n_events": int(ok.sum())}
    return out


def drought_intensity(prec: xr.DataArray, polygons: Any, *, baseline: tuple[int, int] = (1981, 2010),
                      min_rain: float = 0.5, min_share: float = 0.5, lag: int = 1) -> pd.Series:
    """Short-rains deficit per country and displacement year from monthly OND rainfall.

    Parameters
    ----------
    prec : xarray.DataArray
        Monthly rain (mm/day) with ``time`` (October-December months only), ``lat``, ``lon`` (regular grid).
    polygons : geopandas.GeoDataFrame
        From :func:`country_polygons`.
    baseline : tuple of int
        Years of the per-cell climatology.
    min_rain : float
        Cells whose climatological OND rain (mm/day) is below this are not in a rainy season and are left
        out (a ratio to a near-zero mean is noise). 0.5 mm/day is about 45 mm over the season; at 1 mm/day
        Somalia, whose southern half has its Deyr rains in Oct-Dec, fell just short (48 % of its area).
    min_share : float
        A country is covered if at least this share of its area lies inside the grid's window and at least
        this share of its in-window cells are rainy.
    lag : int
        Displacement year = season year + ``lag``.

    Returns
    -------
    pandas.Series
        ``intensity`` (area-weighted mean of ``max(0, 1 - P/Pclim)`` over the country's rainy cells)
        indexed by (``iso3``, ``year``) for the covered countries and displacement years; attrs ``source``,
        ``covered_years``, ``covered_countries``, ``excluded_countries`` (code -> reason) and ``lag``.
    """
    from shapely.geometry import box

    season = prec.groupby("time.year").mean("time")  # mean rate over the season's months
    clim = season.sel(year=slice(*baseline)).mean("year")
    deficit = np.maximum(0.0, 1.0 - season / clim.where(clim > 0))
    lat, lon = np.asarray(prec["lat"], float), np.asarray(prec["lon"], float)
    dlat, dlon = float(np.median(np.diff(lat))), float(np.median(np.diff(lon)))
    window = box(lon.min() - dlon / 2, lat.min() - dlat / 2, lon.max() + dlon / 2, lat.max() + dlat / 2)
    LON, LAT = np.meshgrid(lon, lat)
    iso = locate_points(LON.ravel(), LAT.ravel(), polygons).reshape(LAT.shape)
    weight = np.cos(np.deg2rad(LAT))
    rainy = np.nan_to_num(np.asarray(clim), nan=0.0) >= min_rain
    d = np.nan_to_num(np.asarray(deficit.transpose("year", "lat", "lon")), nan=0.0)
    seasons = [int(y) for y in season["year"].values]
    rows, covered, excluded = {}, [], {}
    touching = polygons[polygons.intersects(window)]
    for code, geom in zip(touching["iso3"], touching.geometry, strict=True):
        inside = geom.intersection(window).area / geom.area
        cells = iso == code
        if not cells.any():
            if inside > 0:
                excluded[code] = f"{inside:.0%} of its area inside the window but no grid cell centre"
            continue
        rainy_share = float(weight[cells & rainy].sum() / weight[cells].sum())
        if inside < min_share or rainy_share < min_share:
            excluded[code] = (f"{inside:.0%} of its area inside the window, {rainy_share:.0%} of that with "
                              f"OND rain >= {min_rain} mm/day")
            continue
        w = np.where(cells & rainy, weight, 0.0)
        rows[code] = (d * w).sum(axis=(1, 2)) / w.sum()
        covered.append(code)
    years = [y + lag for y in seasons]
    out = pd.DataFrame(rows, index=pd.Index(years, name="year")).rename_axis(columns="iso3").T.stack()
    out = out.reorder_levels(["iso3", "year"]).sort_index().rename("intensity").astype(float)
    out.attrs = {"source": f"CHIRPS Oct-Dec rain: area-weighted mean deficit max(0, 1 - P/Pclim{baseline[0]}-"
                           f"{baseline[1]}) over cells with OND rain >= {min_rain} mm/day; season of year y "
                           f"-> displacement year y + {lag}",
                 "units": "1", "covered_years": years, "covered_countries": covered,
                 "excluded_countries": excluded, "lag": lag}
    return out


def reference_intensity(intensity: pd.Series, before: int) -> float:
    """The smoothing constant ``k``: median positive country-year intensity in the years before ``before``.

    Parameters
    ----------
    intensity : pandas.Series
        From :func:`flood_intensity` or :func:`drought_intensity`.
    before : int
        First calibration year; only earlier years are used, so ``k`` does not depend on the fitted data.

    Returns
    -------
    float
    """
    v = intensity[intensity.index.get_level_values("year") < before]
    v = v[v > 0]
    if v.empty:
        raise DataError(f"no positive intensity before {before} to set the smoothing constant k")
    return float(v.median())


def log_exposure_ratio(intensity: pd.Series, years: Sequence[int], k: float) -> pd.Series:
    """``log((I + k) / geometric mean over the country's covered calibration years of (I + k))``.

    Parameters
    ----------
    intensity : pandas.Series
        Indexed by (``iso3``, ``year``); every row is a covered country-year (zeros included).
    years : sequence of int
        Calibration years; the mean is taken over those the record covers.
    k : float
        Smoothing constant (> 0) added to the intensity.

    Returns
    -------
    pandas.Series
        ``log_exposure_ratio`` indexed by (``iso3``, ``year``), covered calibration country-years only; it
        averages 0 within each country.
    """
    if not k > 0:
        raise ValueError(f"k must be positive, got {k}")
    yrs = intensity.index.get_level_values("year")
    sub = intensity[yrs.isin([int(y) for y in years])]
    logi = np.log(sub.astype(float) + k)
    out = (logi - logi.groupby(level="iso3").transform("mean")).rename("log_exposure_ratio")
    return out


def historical_log_exposure(records: Mapping[str, pd.Series], years: Sequence[int],
                            cells: pd.DataFrame | None = None) -> pd.Series:
    """``log E`` per (``iso3``, ``year``, ``hazard``) for the calibration years from each hazard's intensity.

    Parameters
    ----------
    records : mapping of hazard to pandas.Series
        Intensity per (``iso3``, ``year``) from :func:`flood_intensity` / :func:`drought_intensity`.
    years : sequence of int
        Calibration years (the first also ends the reference period of ``k``).
    cells : pandas.DataFrame, optional
        Modelled cells (``iso3``, ``year``, ``hazard``): used only to list those left at ``E = 1``.

    Returns
    -------
    pandas.Series
        Covered cells only (others are ``E = 1``, ``log E = 0``, in the model), named
        ``log_exposure_ratio``; attrs ``coverage`` (JSON: per hazard the source, ``k``, covered countries
        and years, the number of covered cells, and the modelled country-years left at ``E = 1``).
    """
    years = sorted(int(y) for y in years)
    parts, coverage = [], {}
    for hazard, inten in records.items():
        k = reference_intensity(inten, years[0])
        lr = log_exposure_ratio(inten, years, k)
        parts.append(pd.concat({hazard: lr}, names=["hazard"]).reorder_levels(["iso3", "year", "hazard"]))
        cov_years = sorted(set(years) & set(inten.attrs.get("covered_years", [])))
        info: dict[str, Any] = {"source": inten.attrs.get("source", ""), "k": k,
                                "covered_years": cov_years,
                                "covered_countries": sorted(lr.index.get_level_values("iso3").unique()),
                                "n_covered": int(lr.size),
                                "n_zero_intensity": int((inten.reindex(lr.index) == 0).sum())}
        if "excluded_countries" in inten.attrs:
            info["excluded_countries"] = inten.attrs["excluded_countries"]
        if "unlocated_events" in inten.attrs:
            info["unlocated_events"] = inten.attrs["unlocated_events"]
        if cells is not None:
            c = cells[cells["hazard"] == hazard]
            have = pd.MultiIndex.from_arrays([c["iso3"], c["year"].astype(int)]).isin(lr.index)
            not_cov = c[~have]
            info["not_covered_countries"] = sorted(set(not_cov["iso3"]) - set(info["covered_countries"]))
            info["not_covered_years"] = sorted(int(y) for y in set(not_cov["year"]) - set(cov_years))
            info["n_not_covered"] = int(len(not_cov))
        coverage[hazard] = info
    if not parts:
        raise DataError("no hazard intensity records given")
    out = pd.concat(parts).sort_index().rename("log_exposure_ratio")
    out.attrs = {"coverage": json.dumps(coverage, sort_keys=True)}
    return out


def elasticity_summary(idata: Any, priors: Mapping[str, Any], sources: Mapping[str, str] | None = None
                       ) -> pd.DataFrame:
    """Prior against posterior of the exposure elasticity per hazard (identification check).

    Parameters
    ----------
    idata : arviz.InferenceData
        A displacement fit.
    priors : mapping
        The priors (``exposure_elasticity`` must be a ``Normal`` DistSpec or a dict with ``params`` mu/sigma).
    sources : mapping of hazard to str, optional
        Intensity source per hazard; default from the fit's ``climmig_historical_intensity`` attr.

    Returns
    -------
    pandas.DataFrame
        One row per hazard: ``hazard, prior_mean, prior_sd, posterior_mean, posterior_sd, sd_ratio,
        identified`` (``sd_ratio <= 0.5``) and ``source`` (the intensity record, or ``"prior"`` where no
        data informed it or the data did not identify it: the estimate is then the prior's).
    """
    spec = priors["exposure_elasticity"]
    params = spec.params if hasattr(spec, "params") else spec["params"]
    dist = spec.dist if hasattr(spec, "dist") else spec["dist"]
    if dist != "Normal":
        raise ValueError(f"elasticity_summary needs a Normal prior on exposure_elasticity, got {dist}")
    if sources is None:
        sources = json.loads(idata.posterior.attrs.get("climmig_historical_intensity", "{}"))
    post = idata.posterior["exposure_elasticity"]
    rows = []
    for h in post["hazard"].values:
        x = post.sel(hazard=h).values.ravel()
        ratio = float(x.std() / params["sigma"])
        informed = str(h) in sources
        ident = bool(informed and ratio <= IDENTIFIED_RATIO)
        rows.append({"hazard": str(h), "prior_mean": float(params["mu"]), "prior_sd": float(params["sigma"]),
                     "posterior_mean": float(x.mean()), "posterior_sd": float(x.std()), "sd_ratio": ratio,
                     "identified": ident,
                     "source": sources[str(h)] if ident else
                     ("prior (data too weak)" if informed else "prior (no intensity data)")})
    return pd.DataFrame(rows)
