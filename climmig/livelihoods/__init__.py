"""Livelihood layers: population (SSP-scaled baseline grids), agricultural dependency, income, rural share."""

from __future__ import annotations

from climmig.livelihoods.covariates import latest_value, rural_share, wdi_share
from climmig.livelihoods.population import population_weights, scale_to_projection
from climmig.livelihoods.ssp import ssp_family, ssp_series

__all__ = [
    "latest_value",
    "population_weights",
    "rural_share",
    "scale_to_projection",
    "ssp_family",
    "ssp_series",
    "wdi_share",
]
