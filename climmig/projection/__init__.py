"""Projections with explicit uncertainty: posterior-predictive sampling and its summaries."""

from __future__ import annotations

from climmig.projection.predictive import expected_negbin, sample_negbin
from climmig.projection.uncertainty import (
    UNCERTAINTY_COMPONENTS,
    central_intervals,
    horizon_mean,
    horizon_sum,
    horizon_table,
    partition_variance,
    projection_summary,
    summarise,
)

__all__ = [
    "UNCERTAINTY_COMPONENTS",
    "central_intervals",
    "expected_negbin",
    "horizon_mean",
    "horizon_sum",
    "horizon_table",
    "partition_variance",
    "projection_summary",
    "sample_negbin",
    "summarise",
]
