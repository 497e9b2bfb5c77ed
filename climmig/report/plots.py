"""Figures for the report. Every function takes data and returns a :class:`matplotlib.figure.Figure`.

Figures are built with the object-oriented API (no ``pyplot`` global state) and written with
:func:`save_figure`, atomically. Nothing here reads files: boundaries come in as a GeoDataFrame opened
by :mod:`climmig.catalog`.

The figures live in one module per family and are re-exported here, so ``climmig.report.plots`` stays the
one place to import them from: :mod:`~climmig.report.projection_plots` (fan chart, uncertainty, change map,
climate or society), :mod:`~climmig.report.intervention_plots` (the comparison of options) and
:mod:`~climmig.report.country_plots` (bars per country); :mod:`~climmig.report.plot_base` holds what they
share.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from climmig.io.writers import atomic_path
from climmig.report.country_plots import flows_bars, observed_vs_simulated
from climmig.report.intervention_plots import averted_vs_cost, frontier_plot, outcome_split_bars, ranked_bars
from climmig.report.projection_plots import (
    change_map,
    fan_chart,
    society_dots,
    uncertainty_by_horizon,
    uncertainty_partition,
)

__all__ = [
    "frontier_plot",
    "outcome_split_bars",
    "averted_vs_cost",
    "change_map",
    "fan_chart",
    "flows_bars",
    "observed_vs_simulated",
    "ranked_bars",
    "save_figure",
    "society_dots",
    "uncertainty_by_horizon",
    "uncertainty_partition",
]


def save_figure(fig: Figure, target: str | Path, dpi: int = 130) -> Path:
    """Write a figure to PNG atomically.

    Parameters
    ----------
    fig : Figure
        The figure.
    target : str or Path
        File name (``.png``).
    dpi : int
        Resolution.

    Returns
    -------
    Path
        ``target``.
    """
    target = Path(target)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    return target
