"""Exposure: hazard x livelihood layers -> people exposed per region, scenario, climate model and year."""

from __future__ import annotations

from climmig.exposure.aggregate import region_exceedance_sums, region_sum
from climmig.exposure.build import build_exposure, build_grid_and_masks

__all__ = ["build_exposure", "build_grid_and_masks", "region_exceedance_sums", "region_sum"]
