"""Figures, tables and the HTML report (take data, return figures/tables; write atomically)."""

from __future__ import annotations

from climmig.report.attribution_sections import change_section, society_section
from climmig.report.comparison_sections import comparison_section
from climmig.report.country_plots import flows_bars, observed_vs_simulated
from climmig.report.data_sections import hazards_section, plausibility_section
from climmig.report.html import ReportFigure, ReportTable, Section, render_html, write_html_report
from climmig.report.intervention_plots import averted_vs_cost, ranked_bars
from climmig.report.plots import save_figure
from climmig.report.projection_plots import (
    change_map,
    fan_chart,
    society_dots,
    uncertainty_by_horizon,
    uncertainty_partition,
)
from climmig.report.projection_sections import flows_section, projection_section
from climmig.report.tables import comparison_table, headline_table, interval_table

__all__ = [
    "ReportFigure",
    "ReportTable",
    "Section",
    "averted_vs_cost",
    "change_map",
    "change_section",
    "comparison_section",
    "comparison_table",
    "fan_chart",
    "flows_bars",
    "flows_section",
    "headline_table",
    "interval_table",
    "observed_vs_simulated",
    "hazards_section",
    "plausibility_section",
    "projection_section",
    "ranked_bars",
    "render_html",
    "save_figure",
    "society_dots",
    "society_section",
    "uncertainty_by_horizon",
    "uncertainty_partition",
    "write_html_report",
]
