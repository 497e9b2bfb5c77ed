"""The extent of a study area given as countries: each country's main territory, not its far-off parts.

The bounding box of a country's whole geometry can span the globe: France's includes French Guiana (from
54.5 degW), Russia's and Fiji's cross the antimeridian and so run from -180 to 180. An analysis grid or a map over
such a box is mostly other countries and ocean. A country's *main territory* is its largest polygon and every
other polygon within ``max_gap`` degrees of it; parts further away (overseas departments, the sliver east of
the antimeridian) are left outside the extent, said in the log, and returned so that callers can record them.
A user who wants them gives ``study_area.bbox`` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

__all__ = ["MAX_GAP_DEG", "main_territory_bounds"]

logger = logging.getLogger(__name__)

#: parts of a country further than this (degrees, planar distance to its largest polygon) are left out
MAX_GAP_DEG = 10.0


def _parts(geom: Any) -> list[Any]:
    return list(getattr(geom, "geoms", [geom]))


def main_territory_bounds(named_geometries: Iterable[tuple[str, Any]], max_gap: float = MAX_GAP_DEG
                          ) -> tuple[tuple[float, float, float, float], dict[str, int]]:
    """Bounds (west, south, east, north) of the main territory of every region.

    Parameters
    ----------
    named_geometries : iterable of (str, shapely geometry)
        Region name and its (multi)polygon in longitude/latitude degrees.
    max_gap : float
        Largest distance (degrees) from a region's largest polygon at which another of its polygons still
        counts as main territory.

    Returns
    -------
    (tuple, dict)
        The bounds, and region -> number of polygons left out (regions that lost none are absent).

    Raises
    ------
    ValueError
        If no geometry is given.
    """
    west = south = float("inf")
    east = north = float("-inf")
    dropped: dict[str, int] = {}
    seen = False
    for name, geom in named_geometries:
        parts = [p for p in _parts(geom) if not p.is_empty]
        if not parts:
            continue
        seen = True
        main = max(parts, key=lambda p: p.area)
        kept = [p for p in parts if p is main or p.distance(main) <= max_gap]
        if len(kept) < len(parts):
            dropped[str(name)] = len(parts) - len(kept)
        for p in kept:
            w, s, e, n = p.bounds
            west, south, east, north = min(west, w), min(south, s), max(east, e), max(north, n)
    if not seen:
        raise ValueError("no geometry to take an extent from")
    if dropped:
        logger.info("parts of %s lie more than %g degrees from their main territory and are outside the study "
                    "extent (give study_area.bbox to include them)", ", ".join(sorted(dropped)), max_gap)
    return (west, south, east, north), dropped
