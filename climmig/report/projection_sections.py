"""Report sections of the projected outcomes: displacement with its sources of uncertainty, and movement.

:func:`projection_section` shows the projected displacement per year, its change on a map and where its
uncertainty comes from (:func:`climate_share` and :func:`climate_share_sentence` put the climate's part in
words); :func:`flows_section` sets internal against cross-border movement per country.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import xarray as xr

from climmig.report.country_plots import flows_bars
from climmig.report.html import ReportFigure, ReportTable, Section
from climmig.report.projection_plots import (
    change_map,
    fan_chart,
    uncertainty_by_horizon,
    uncertainty_partition,
)
from climmig.report.wording import _n

__all__ = ["climate_share", "climate_share_sentence", "flows_section", "projection_section"]


_SOURCE_WORDS = {"scenario": "the emission scenario", "climate_model": "the climate model",
                 "parameter": "the model parameters", "residual": "year-to-year chance"}


def _dominant(partition: xr.DataArray) -> str:
    extra = [d for d in partition.dims if d not in ("uncertainty", "year")]
    part = partition.sum(extra) if extra else partition
    comps = part.sel(uncertainty=list(_SOURCE_WORDS)).clip(min=0).compute()
    years = part["year"].values
    out = []
    for label, y in (("In", years[0]), ("By", years[-1])):
        c = comps.sel(year=y)
        top = str(c["uncertainty"].values[int(c.argmax("uncertainty"))])
        share = float(c.sel(uncertainty=top) / c.sum("uncertainty")) if float(c.sum()) > 0 else 0.0
        out.append(f"{label} {int(y)} the largest source is {_SOURCE_WORDS[top]} ({share * 100:.0f} %).")
    return " ".join(out)


def climate_share(horizon_partition: xr.DataArray, horizon: str) -> float:
    """Share of a horizon's variance from the climate: emission scenario plus climate model (0-1).

    Parameters
    ----------
    horizon_partition : xr.DataArray
        Variance per ``uncertainty`` component and ``horizon`` (:func:`climmig.projection.partition_variance`
        of horizon means); other dims are summed.
    horizon : str
        Horizon name.

    Returns
    -------
    float
    """
    part = horizon_partition.sel(horizon=horizon)
    extra = [d for d in part.dims if d != "uncertainty"]
    comps = (part.sum(extra) if extra else part).sel(uncertainty=list(_SOURCE_WORDS)).clip(min=0)
    total = float(comps.sum())
    return float(comps.sel(uncertainty=["scenario", "climate_model"]).sum()) / total if total > 0 else 0.0


def climate_share_sentence(horizon_partition: xr.DataArray, horizon: str) -> str:
    """One plain-language sentence on how much of a horizon's uncertainty is the climate."""
    part = horizon_partition.sel(horizon=horizon)
    extra = [d for d in part.dims if d != "uncertainty"]
    comps = (part.sum(extra) if extra else part).sel(uncertainty=list(_SOURCE_WORDS)).clip(min=0)
    total = float(comps.sum()) or 1.0
    bits = ", ".join(f"{_SOURCE_WORDS[str(u)]} {float(comps.sel(uncertainty=u)) / total * 100:.0f} %"
                     for u in comps["uncertainty"].values)
    return (f"In the {horizon} period the climate (emission scenario plus climate model) accounts for "
            f"{climate_share(horizon_partition, horizon) * 100:.0f} % of the uncertainty of the period's yearly "
            f"mean ({bits}).")


def projection_section(
    sampled: xr.DataArray,
    partition: xr.DataArray,
    horizons: Sequence[Any],
    *,
    boundaries: Any | None = None,
    horizon_partition: xr.DataArray | None = None,
    what: str = "people displaced by weather-related disasters",
) -> Section:
    """Fan charts, a map of projected change and the uncertainty partition, with captions.

    Parameters
    ----------
    sampled : xr.DataArray
        Projected draws (sample, scenario, climate_model, year, region[, hazard]).
    partition : xr.DataArray
        :func:`climmig.projection.partition_variance` output (uncertainty x year).
    horizons : sequence
        Evaluation horizons; the map compares the last with the first.
    boundaries : geopandas.GeoDataFrame, optional
        Country boundaries for the map (from the catalog); no map without them.
    horizon_partition : xr.DataArray, optional
        The same partition of each horizon's mean (uncertainty x horizon), shown as bars when given.
    what : str
        Plain-language name of the quantity.

    Returns
    -------
    Section
    """
    from climmig.projection.uncertainty import horizon_mean, horizon_table

    if "hazard" in sampled.dims:
        sampled = sampled.sum("hazard")
    table = horizon_table(horizons)
    total = sampled.sum("region") if "region" in sampled.dims else sampled
    hm = horizon_mean(total, table)
    pooled = ["sample", "climate_model"]
    q = hm.quantile([0.05, 0.5, 0.95], dim=pooled).compute()
    first, last = table[0][0], table[-1][0]
    lines = []
    for s in [str(x) for x in sampled["scenario"].values]:
        a = q.sel(scenario=s, horizon=last).values
        lines.append(f"{s.upper()}: about {_n(a[1])} a year in {table[-1][1]}-{table[-1][2]} "
                     f"(90 % interval {_n(a[0])} to {_n(a[2])})")
    text = (f"How many {what} the model projects, per year, for the whole study area. The projections combine "
            f"uncertainty in the model's parameters, differences between climate models, the emission "
            f"scenario, and chance from year to year.\n\n" + "; ".join(lines) + ".")
    if horizon_partition is not None and last in [str(h) for h in horizon_partition["horizon"].values]:
        text += "\n\n" + climate_share_sentence(horizon_partition, last)
    figs = [ReportFigure(fan_chart(total, title=f"Projected {what} per year"),
                         "Each panel is one emission scenario. The line is the middle projection (median); the "
                         "dark band holds the middle half of the projections and the light band 90 % of them. "
                         "Wide bands mean the future is uncertain, not that the model failed.")]
    if boundaries is not None and "region" in sampled.dims:
        reg = horizon_mean(sampled, [table[0], table[-1]]).median(pooled).compute()
        s_last = str(sampled["scenario"].values[-1])
        change = (reg.sel(horizon=last) / reg.sel(horizon=first).where(reg.sel(horizon=first) > 0) - 1) * 100
        figs.append(ReportFigure(
            change_map(boundaries, change.sel(scenario=s_last), label=f"change {first} to {last} (%)",
                       title=f"Projected change in {what}, {s_last.upper()}"),
            f"Percentage change in the median yearly number of {what} between the {first} and {last} periods "
            f"under {s_last.upper()}, per country. Red: more; blue: fewer."))
    figs.append(ReportFigure(
        uncertainty_partition(partition),
        "Where the uncertainty comes from, year by year: the emission scenario (what the world does), the "
        "climate model (how the climate responds), the model parameters (what the data can tell us) and "
        "year-to-year chance (which years bring disasters). " + _dominant(partition)))
    if horizon_partition is not None:
        figs.append(ReportFigure(
            uncertainty_by_horizon(horizon_partition),
            "The same split for the average over each period. Chance from year to year largely averages out "
            "over a period, so this shows which uncertainty matters for planning: the scenario is a choice "
            "the world makes, while climate-model and parameter uncertainty could be narrowed by research."))
    return Section(f"Projected {what}", text, figures=figs)


def flows_section(internal: xr.DataArray, cross_border: xr.DataArray, *, period: str = "",
                  level: float = 0.9) -> Section:
    """Internal against cross-border movement per country: figure (log axis) and a table of medians.

    Parameters
    ----------
    internal, cross_border : xr.DataArray
        Draws (sample[, climate_model], region) for one scenario and period. If ``cross_border`` carries
        the emigration-bound attrs of :func:`climmig.migration.model.predict_flows`, the text says how
        often the bound was reached.
    period : str
        Plain-language period and scenario, e.g. ``"2081-2100, SSP2-4.5"``.
    level : float
        Interval probability.

    Returns
    -------
    Section
    """
    share = float(cross_border.sum("region").median() / (internal.sum("region").median()
                                                         + cross_border.sum("region").median()))
    attrs = cross_border.attrs
    everywhere = attrs.get("climmig_emigration_cap") == "none"
    text = (f"Most climate-related movement stays inside countries. In the projections{' for ' + period if period else ''}, "
            f"about {share * 100:.0f} % of the movement crosses a border ("
            + ("to any country of the world: see the corridors below" if everywhere else
               "to the other countries of the study area") + "). Read the medians and the intervals, not single "
            "numbers.")
    if everywhere and int(attrs.get("climmig_draws_above_observed_max", 0)):
        text += (f"\n\nNo cap limits emigration. {int(attrs['climmig_draws_above_observed_max']):,} of "
                 f"{int(attrs.get('climmig_draws_total', 0)):,} projected values of a country's yearly emigration "
                 f"exceed the highest rate in the flow data ({float(attrs['climmig_max_observed_emigration_rate']):.1%}"
                 " of the population per year); they are kept.")
    if "climmig_emigration_cap_rate" in attrs:
        rate, n, cells = (float(attrs["climmig_emigration_cap_rate"]), int(attrs.get("climmig_capped_draws", 0)),
                          int(attrs.get("climmig_capped_cells", 0)))
        text += (f"\n\nA country's yearly emigration is bounded by {rate * 100:.1f} % of its population, the highest "
                 f"rate in the migration data the model was fitted on. {n:,} of {cells:,} projected values of a "
                 "country's yearly emigration (one per model draw, scenario, climate model, year and country) "
                 "reached the bound.")
    probs = [(1 - level) / 2, 0.5, (1 + level) / 2]
    rows = {}
    for name, da in (("internal", internal), ("cross-border", cross_border)):
        dims = [d for d in ("sample", "climate_model") if d in da.dims]
        q = da.quantile(probs, dim=dims).transpose("region", "quantile").compute()
        rows[f"{name} (median)"] = [_n(v) for v in q.isel(quantile=1).values]
        rows[f"{name} ({int(level * 100)} % interval)"] = [f"{_n(a)} - {_n(b)}" for a, b in
                                                          zip(q.isel(quantile=0).values, q.isel(quantile=2).values,
                                                              strict=True)]
    table = pd.DataFrame({"country": [str(r) for r in internal["region"].values], **rows})
    return Section("Internal and cross-border movement", text, figures=[ReportFigure(
        flows_bars(internal, cross_border, level=level),
        "People moving within their country (blue) and to "
        + ("any other country" if everywhere else "another country of the study area") + " (orange) per year, "
        f"by country of origin; bars are medians (written above) and whiskers {int(level * 100)} % intervals. "
        "The axis is logarithmic: each step is ten times the one below.")],
        tables=[ReportTable(table, f"People moving per year{' (' + period + ')' if period else ''}: medians and "
                                   f"{int(level * 100)} % intervals.")])
