"""The analysis grid: cell geometry, longitude/latitude conventions, regridding and region masks."""

from __future__ import annotations

from climmig.grid.lonlat import normalize_lonlat
from climmig.grid.masks import boundary_region_ids, region_fractions
from climmig.grid.regrid import REGRID_METHODS, regrid_counts, regrid_intensity
from climmig.grid.spec import cell_area, grid_bounds_for, make_grid

__all__ = [
    "REGRID_METHODS",
    "boundary_region_ids",
    "cell_area",
    "grid_bounds_for",
    "make_grid",
    "normalize_lonlat",
    "regrid_counts",
    "regrid_intensity",
    "region_fractions",
]
