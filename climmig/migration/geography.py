"""Country geography for the migration model: centroids, great-circle distances and contiguity.

Pure functions on GeoDataFrames read by :mod:`climmig.catalog`; nothing here opens a file.

Centroids are area centroids of each country's largest polygon (its mainland), computed in an equal-area projection (EPSG:6933, WGS 84 / NSIDC EASE-Grid 2.0
Global) and converted back to longitude/latitude; distances are great-circle (haversine) distances between
them on a sphere of radius 6371.0088 km. Two countries are contiguous when their polygons, buffered by a
small distance in the equal-area projection, intersect (the buffer closes the slivers that generalised
1:110m boundaries leave between neighbours).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError

__all__ = [
    "EARTH_RADIUS_KM",
    "EQUAL_AREA_CRS",
    "NATURAL_EARTH_MERGE",
    "country_geometries",
    "country_geography",
    "great_circle_km",
]

logger = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
EQUAL_AREA_CRS = "EPSG:6933"

# Natural Earth splits a few de-facto entities from the ISO 3166 country they belong to; they have ISO code
# "-99". Merge them back so that, e.g., Somalia's polygon reaches Djibouti (Somaliland) as ISO 3166 has it.
NATURAL_EARTH_MERGE: Mapping[str, str] = {"SOL": "SOM", "CYN": "CYP"}

_ISO_COLUMNS = ("iso3", "ISO_A3_EH", "iso_a3_eh", "ISO_A3", "iso_a3", "ADM0_A3", "adm0_a3")
_ADM0_COLUMNS = ("ADM0_A3", "adm0_a3")

#: boundary files tried for countries the study-area boundaries lack (e.g. Hong Kong, absent at 1:110m)
FALLBACK_BOUNDARIES: tuple[str, ...] = ("natural_earth_50m_admin0",)


def _iso_codes(gdf: Any, id_field: str | None) -> pd.Series:
    """ISO3 code of every row, falling back from ISO columns with ``-99`` to ``ADM0_A3`` (merged)."""
    if id_field is not None and id_field in gdf.columns:
        return gdf[id_field].astype(str)
    cols = [c for c in _ISO_COLUMNS if c in gdf.columns]
    if not cols:
        raise DataError(f"the boundary file has no ISO3 column (looked for {', '.join(_ISO_COLUMNS)})")
    code = gdf[cols[0]].astype(str)
    adm = next((c for c in _ADM0_COLUMNS if c in gdf.columns), None)
    if adm is not None:
        fallback = gdf[adm].astype(str).map(lambda a: NATURAL_EARTH_MERGE.get(a, a))
        code = code.where(~code.isin(["-99", "", "nan", "None"]), fallback)
    return code


def country_geometries(boundaries: Sequence[Any], countries: Sequence[str], id_field: str | None = None) -> Any:
    """One (dissolved) geometry per country, taken from the first boundary set that has it.

    Parameters
    ----------
    boundaries : sequence of geopandas.GeoDataFrame
        Boundary sets in order of preference (e.g. Natural Earth 1:110m, then 1:50m for small territories
        such as Hong Kong that the coarser set omits).
    countries : sequence of str
        ISO3 codes wanted.
    id_field : str, optional
        Column holding the ISO3 code (default: the first of ``ISO_A3_EH``, ``ISO_A3``, ``ADM0_A3`` found,
        with Natural Earth's ``-99`` codes resolved from ``ADM0_A3``).

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``iso3`` in the order of ``countries``, EPSG:4326, column ``boundary_source`` (position of the
        boundary set used).

    Raises
    ------
    DataError
        If a country is in none of the boundary sets.
    """
    import geopandas as gpd

    parts = []
    remaining = list(dict.fromkeys(countries))
    for k, gdf in enumerate(boundaries):
        if not remaining:
            break
        g = gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf.set_crs("EPSG:4326")
        g = gpd.GeoDataFrame({"iso3": _iso_codes(g, id_field).to_numpy()}, geometry=g.geometry.to_numpy(),
                             crs="EPSG:4326")
        g = g[g["iso3"].isin(remaining)]
        if len(g):
            g = g.dissolve(by="iso3")
            g["boundary_source"] = k
            parts.append(g)
            remaining = [c for c in remaining if c not in set(g.index)]
    if remaining:
        raise DataError(f"no boundary found for {', '.join(remaining)} in the boundary file(s); add them or "
                        "drop these countries")
    out = pd.concat(parts)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326").loc[list(dict.fromkeys(countries))]


def great_circle_km(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle (haversine) distance in km between points given in degrees (broadcasting).

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : array_like
        Longitudes and latitudes in degrees.

    Returns
    -------
    numpy.ndarray, [km]

    Notes
    -----
    :math:`d = 2R\\arcsin\\sqrt{\\sin^2(\\Delta\\phi/2) + \\cos\\phi_1\\cos\\phi_2\\sin^2(\\Delta\\lambda/2)}`
    with :math:`R` = 6371.0088 km.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _largest_part(geom: Any) -> Any:
    """The largest polygon of a multipolygon (the mainland), so that overseas territories do not pull the
    centroid into the sea (France with French Guiana, the USA with Alaska)."""
    parts = getattr(geom, "geoms", None)
    if parts is None:
        return geom
    return max(parts, key=lambda g: g.area)


def country_geography(boundaries: Sequence[Any], countries: Sequence[str], *, buffer_km: float = 5.0,
                      id_field: str | None = None) -> xr.Dataset:
    """Centroids, pairwise distances and contiguity of countries.

    Parameters
    ----------
    boundaries : sequence of geopandas.GeoDataFrame
        Boundary sets in order of preference (see :func:`country_geometries`).
    countries : sequence of str
        ISO3 codes.
    buffer_km : float
        Buffer applied to every polygon (in the equal-area projection) before testing for contact.
    id_field : str, optional
        ISO3 column of the boundary files.

    Returns
    -------
    xr.Dataset
        ``distance_km`` (origin, destination) [km], great-circle distance between equal-area mainland
        centroids (0 on the diagonal); ``contiguous`` (origin, destination) bool (False on the diagonal);
        ``centroid_lon``/``centroid_lat`` (region) [degrees] of the largest polygon; ``area_km2`` (region) [km2].
    """
    import geopandas as gpd

    geoms = country_geometries(boundaries, countries, id_field)
    iso = list(geoms.index)
    ea = geoms.to_crs(EQUAL_AREA_CRS)
    mainland = ea.geometry.apply(_largest_part)
    cent = gpd.GeoSeries(mainland.centroid, crs=EQUAL_AREA_CRS).to_crs("EPSG:4326")
    lon, lat = cent.x.to_numpy(), cent.y.to_numpy()
    dist = great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    np.fill_diagonal(dist, 0.0)
    buffered = ea.geometry.buffer(buffer_km * 1000.0)
    left, right = buffered.sindex.query(buffered.to_numpy(), predicate="intersects")
    contig = np.zeros((len(iso), len(iso)), dtype=bool)
    contig[left, right] = True
    np.fill_diagonal(contig, False)
    contig |= contig.T
    area = ea.geometry.area.to_numpy() / 1e6
    od = ("origin", "destination")
    return xr.Dataset(
        {
            "distance_km": (od, dist, {"units": "km", "long_name": "great-circle distance between area "
                                       "centroids"}),
            "contiguous": (od, contig, {"long_name": f"countries share a border (polygons within "
                                        f"{buffer_km:g} km)"}),
            "centroid_lon": ("region", lon, {"units": "degrees_east", "standard_name": "longitude",
                                             "long_name": "area centroid longitude"}),
            "centroid_lat": ("region", lat, {"units": "degrees_north", "standard_name": "latitude",
                                             "long_name": "area centroid latitude"}),
            "area_km2": ("region", area, {"units": "km2", "long_name": "land area of the boundary polygon"}),
        },
        coords={"origin": iso, "destination": iso, "region": iso},
        attrs={"climmig_centroid_method": f"area centroid of the largest polygon in {EQUAL_AREA_CRS}",
               "climmig_contiguity_buffer_km": buffer_km},
    )
