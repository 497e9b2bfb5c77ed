"""Projections with explicit uncertainty: a run's fitted models, posterior-predictive sampling, summaries."""

from __future__ import annotations

from climmig.projection.fitted import FittedRun, require_converged
from climmig.projection.plausibility import Plausibility
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
    "FittedRun",
    "Plausibility",
    "central_intervals",
    "expected_negbin",
    "horizon_mean",
    "horizon_sum",
    "horizon_table",
    "partition_variance",
    "projection_summary",
    "require_converged",
    "sample_negbin",
    "summarise",
]
