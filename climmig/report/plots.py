"""Figures for the report. Every function takes data and returns a :class:`matplotlib.figure.Figure`.

Figures are built with the object-oriented API (no ``pyplot`` global state) and written with
:func:`save_figure`, atomically. Nothing here reads files: boundaries come in as a GeoDataFrame opened
by :mod:`climmig.catalog`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from climmig.grid.extent import main_territory_bounds
from climmig.io.writers import atomic_path

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

logger = logging.getLogger(__name__)

_SCENARIO_COLOURS = {"ssp119": "#1e9583", "ssp126": "#1d3354", "ssp245": "#ea9a2a", "ssp370": "#e71d25",
                     "ssp585": "#951b1e"}
_COMPONENT_COLOURS = {"scenario": "#4c72b0", "climate_model": "#55a868", "parameter": "#c44e52",
                      "residual": "#8c8c8c"}
_COMPONENT_LABELS = {"scenario": "emission scenario", "climate_model": "climate model",
                     "parameter": "model parameters", "residual": "year-to-year chance"}


def _people(x: float) -> str:
    ax = abs(x)
    if ax >= 1e7:
        return f"{x / 1e6:.0f} M"
    if ax >= 1e6:
        return f"{x / 1e6:.1f} M"
    if ax >= 1e3:
        return f"{x / 1e3:.0f} k"
    return f"{x:.0f}"


def _people_axis(ax: Any, axis: str = "y", nbins: int | None = None) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _pos: _people(v)))
    if nbins is not None:  # narrow panels: few ticks so that labels like "250 M" never overlap
        target.set_major_locator(MaxNLocator(nbins=nbins))


def _sample_dims(da: xr.DataArray) -> list[str]:
    return [d for d in ("sample", "climate_model") if d in da.dims]


def _q(da: xr.DataArray, q: Sequence[float]) -> xr.DataArray:
    return da.quantile(list(q), dim=_sample_dims(da))


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


def fan_chart(
    da: xr.DataArray,
    *,
    levels: Sequence[float] = (0.5, 0.9),
    title: str | None = None,
    ylabel: str = "people per year",
) -> Figure:
    """Fan chart per scenario: the median and central intervals of a projection over the years.

    Parameters
    ----------
    da : xr.DataArray
        Samples with dims ``sample`` (and optionally ``climate_model``, pooled with it), ``scenario`` and
        ``year``; any other dim (e.g. ``region``) is summed first.
    levels : sequence of float
        Interval probabilities, e.g. 0.5 and 0.9.
    title : str, optional
        Figure title.
    ylabel : str
        Y axis label.

    Returns
    -------
    Figure
        One panel per scenario, sharing the y axis.
    """
    extra = [d for d in da.dims if d not in ("sample", "climate_model", "scenario", "year")]
    if extra:
        da = da.sum(extra)
    scen = [str(s) for s in da["scenario"].values]
    lv = sorted(levels, reverse=True)
    probs = sorted({0.5, *[(1 - x) / 2 for x in lv], *[(1 + x) / 2 for x in lv]})
    qs = _q(da, probs).compute()
    years = da["year"].values
    fig = Figure(figsize=(3.6 * len(scen) + 0.6, 3.6))
    axes = fig.subplots(1, len(scen), sharey=True, squeeze=False)[0]
    for ax, s in zip(axes, scen, strict=True):
        colour = _SCENARIO_COLOURS.get(s, "#444444")
        for i, x in enumerate(lv):
            lo = qs.sel(scenario=s).sel(quantile=(1 - x) / 2, method="nearest").transpose("year")
            hi = qs.sel(scenario=s).sel(quantile=(1 + x) / 2, method="nearest").transpose("year")
            ax.fill_between(years, lo, hi, color=colour, alpha=0.18 + 0.22 * i, linewidth=0,
                            label=f"{int(x * 100)} % interval")
        med = qs.sel(scenario=s).sel(quantile=0.5, method="nearest").transpose("year")
        ax.plot(years, med, color=colour, lw=1.8, label="median")
        ax.set_title(s.upper(), fontsize=11)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        _people_axis(ax)
    axes[0].set_ylabel(ylabel)
    axes[0].legend(fontsize=8, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig


def _component_shares(part: xr.DataArray, along: str) -> tuple[xr.DataArray, list[str], xr.DataArray]:
    """Sum a variance partition over all dims but ``uncertainty`` and ``along``; each source's share of the sum."""
    extra = [d for d in part.dims if d not in ("uncertainty", along)]
    if extra:
        part = part.sum(extra)
    comps = [c for c in _COMPONENT_COLOURS if c in part["uncertainty"].values]
    vals = part.sel(uncertainty=comps).clip(min=0).compute()
    return part, comps, vals / vals.sum("uncertainty").where(vals.sum("uncertainty") > 0)


def uncertainty_partition(part: xr.DataArray, *, title: str | None = None) -> Figure:
    """Stacked areas: the share of the projection's variance from each source, by year.

    Parameters
    ----------
    part : xr.DataArray
        Output of :func:`climmig.projection.partition_variance` (``uncertainty`` x ``year``); other dims
        are summed.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
    """
    part, comps, share = _component_shares(part, "year")
    fig = Figure(figsize=(7.0, 3.8))
    ax = fig.subplots()
    ax.stackplot(part["year"].values, *[share.sel(uncertainty=c).fillna(0).values * 100 for c in comps],
                 labels=[_COMPONENT_LABELS[c] for c in comps], colors=[_COMPONENT_COLOURS[c] for c in comps],
                 alpha=0.85)
    ax.set_ylim(0, 100)
    ax.set_xlim(part["year"].values.min(), part["year"].values.max())
    ax.set_ylabel("share of uncertainty (%)")
    ax.set_xlabel("year")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, title="source")
    ax.set_title(title or "Where the uncertainty comes from", fontsize=12)
    fig.tight_layout()
    return fig


def uncertainty_by_horizon(part: xr.DataArray, *, title: str | None = None) -> Figure:
    """Stacked bars: the share of the variance of each horizon's mean from each source.

    Parameters
    ----------
    part : xr.DataArray
        :func:`climmig.projection.partition_variance` of horizon means (``uncertainty`` x ``horizon``, with
        optional ``horizon_start``/``horizon_end`` coords); other dims are summed.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
    """
    part, comps, share = _component_shares(part, "horizon")
    share = share.fillna(0) * 100
    horizons = [str(h) for h in part["horizon"].values]
    labels = horizons
    if "horizon_start" in part.coords and "horizon_end" in part.coords:
        labels = [f"{h}\n{int(a)}-{int(b)}" for h, a, b in
                  zip(horizons, part["horizon_start"].values, part["horizon_end"].values, strict=True)]
    fig = Figure(figsize=(7.0, 3.8))
    ax = fig.subplots()
    left = np.zeros(len(horizons))
    y = np.arange(len(horizons))
    for c in comps:
        w = share.sel(uncertainty=c).values
        ax.barh(y, w, left=left, color=_COMPONENT_COLOURS[c], label=_COMPONENT_LABELS[c], alpha=0.85)
        for yi, (l0, wi) in enumerate(zip(left, w, strict=True)):
            if wi >= 8:  # label segments wide enough to hold the number
                ax.text(l0 + wi / 2, yi, f"{wi:.0f} %", ha="center", va="center", fontsize=8, color="white")
        left = left + w
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of uncertainty in the horizon's average (%)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, title="source")
    ax.set_title(title or "Where the uncertainty of each period's average comes from", fontsize=12)
    fig.tight_layout()
    return fig


def _totals(comparison: xr.Dataset, var: str, scenario: str | None) -> xr.DataArray:
    da = comparison[var]
    if "region" in da.dims:
        da = da.sum("region")
    if scenario is not None:
        da = da.sel(scenario=scenario)
    return da


def ranked_bars(
    comparison: xr.Dataset,
    *,
    scenario: str,
    variable: str = "averted_displacement",
    levels: Sequence[float] = (0.5, 0.9),
    title: str | None = None,
) -> Figure:
    """Interventions ranked by their median benefit, with intervals, one panel per horizon.

    Parameters
    ----------
    comparison : xr.Dataset
        Output of :func:`climmig.interventions.compare_interventions`.
    scenario : str
        Scenario to show.
    variable : str
        Variable to rank (summed over regions).
    levels : sequence of float
        Two interval probabilities (thick and thin whiskers).
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
    """
    da = _totals(comparison, variable, scenario)
    lo_l, hi_l = sorted(levels)
    q = da.quantile([(1 - hi_l) / 2, (1 - lo_l) / 2, 0.5, (1 + lo_l) / 2, (1 + hi_l) / 2], dim="sample").compute()
    horizons = [str(h) for h in da["horizon"].values]
    n_iv = da.sizes["intervention"]
    fig = Figure(figsize=(4.2 * len(horizons) + 1.6, 0.45 * n_iv + 1.8))
    axes = fig.subplots(1, len(horizons), squeeze=False)[0]
    for ax, h in zip(axes, horizons, strict=True):
        qh = q.sel(horizon=h)
        order = np.argsort(qh.isel(quantile=2).values)
        names = [str(x) for x in qh["intervention"].values[order]]
        y = np.arange(len(order))
        vals = qh.values[:, order]
        ax.hlines(y, vals[0], vals[4], color="#555555", lw=1.2, label=f"{int(hi_l * 100)} % interval")
        ax.hlines(y, vals[1], vals[3], color="#1f77b4", lw=5, alpha=0.7, label=f"{int(lo_l * 100)} % interval")
        ax.plot(vals[2], y, "o", color="black", ms=4, label="median")
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(y, names, fontsize=9)
        start, end = int(qh["horizon_start"]), int(qh["horizon_end"])
        ax.set_title(f"{h} ({start}-{end})", fontsize=11)
        ax.set_xlabel(comparison[variable].attrs.get("long_name", variable), fontsize=9)
        _people_axis(ax, "x", nbins=4)
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title or f"Displacement averted by each option ({scenario})", fontsize=12)
    fig.tight_layout()
    return fig


def averted_vs_cost(
    comparison: xr.Dataset, *, scenario: str, horizon: str, level: float = 0.9, title: str | None = None
) -> Figure:
    """Displacement averted against discounted cost, medians with central intervals on both axes.

    Both axes are cumulative from the first projection year to the horizon's end (the quantities whose
    ratio is the comparison's cost per person averted), so the slope from the origin to a point is its
    cost per person and the dashed rays mark constant costs per person. A measure paid for early and
    working late (relocation, defences) therefore keeps its cost. Comparisons without the cumulative
    variables (written by climmig before they existed) are drawn with the horizon's own totals.

    Parameters
    ----------
    comparison : xr.Dataset
        Output of :func:`climmig.interventions.compare_interventions`.
    scenario, horizon : str
        Which scenario and horizon.
    level : float
        Interval probability.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
    """
    cumulative = "cumulative_cost" in comparison and "cumulative_averted" in comparison
    av_var, cost_var = (("cumulative_averted", "cumulative_cost") if cumulative
                        else ("averted_displacement", "discounted_cost"))
    if "cumulative_averted_discounted" in comparison:
        # benefits discounted at the cost's rate: the slope from the origin is the cost per person averted
        av_var = "cumulative_averted_discounted"
    av = _totals(comparison, av_var, scenario).sel(horizon=horizon)
    cost = _totals(comparison, cost_var, scenario).sel(horizon=horizon)
    probs = [(1 - level) / 2, 0.5, (1 + level) / 2]
    qa, qc = av.quantile(probs, dim="sample").compute(), cost.quantile(probs, dim="sample").compute()
    currency = comparison["discounted_cost"].attrs.get("currency", "")
    end = int(comparison["horizon_end"].sel(horizon=horizon)) if "horizon_end" in comparison.coords else None
    if cumulative and end is not None:
        first = comparison.attrs.get("climmig_cumulative_from_year", "the first projection year")
        span = f"{first} to {end}"
    elif "horizon_start" in comparison.coords and end is not None:
        span = f"{int(comparison['horizon_start'].sel(horizon=horizon))} to {end}"
    else:
        span = f"horizon {horizon}"
    fig = Figure(figsize=(9.0, 4.8))
    ax = fig.subplots()
    markers = "osD^vP*Xh<>"
    for i, name in enumerate(av["intervention"].values):
        a, c = qa.isel(intervention=i).values, qc.isel(intervention=i).values
        # options often share a cost or a benefit: a legend (colour + marker) stays readable where text
        # labels next to the points would overlap
        ax.errorbar(a[1], c[1] / 1e6, xerr=[[a[1] - a[0]], [a[2] - a[1]]],
                    yerr=[[(c[1] - c[0]) / 1e6], [(c[2] - c[1]) / 1e6]], fmt=markers[i % len(markers)],
                    capsize=3, ms=6, alpha=0.85, label=str(name))
    if cumulative:
        _cost_per_person_rays(ax, currency)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5), title="option", title_fontsize=9)
    disc = "discounted " if av_var == "cumulative_averted_discounted" else ""
    ax.set_xlabel(f"{disc}displacement averted {span}, people (median and {int(level * 100)} % interval)")
    ax.set_ylabel(f"discounted cost {span} (million {currency})")
    _people_axis(ax, "x")
    ax.grid(alpha=0.3)
    ax.set_title(title or f"Benefit and cost, {scenario}, {span}", fontsize=12)
    fig.tight_layout()
    return fig


_STATUS_STYLE = {"frontier": ("#1f77b4", "o", "on the frontier"),
                 "dominated": ("#999999", "X", "dominated"),
                 "extendedly dominated": ("#bbbbbb", "s", "extendedly dominated"),
                 "no benefit": ("#d62728", "v", "no benefit")}


def frontier_plot(comparison: xr.Dataset, *, scenario: str, horizon: str, level: float = 0.9,
                  title: str | None = None) -> Figure:
    """The cost-effectiveness frontier of the options in the equal-budget ranking, dominated ones marked.

    Both axes are discounted at the same rate, from the first projection year to the horizon's end: the
    cost (x) and the displacement averted (y, the comparison's ranked outcome). The frontier joins, from
    the origin, the options nothing beats for their cost; dominated options (another averts more for less)
    and extendedly dominated ones (a mix of two frontier options would avert more for the money) are
    greyed out. The dotted vertical line is the equal budget.

    Parameters
    ----------
    comparison : xr.Dataset
        Output of :func:`climmig.interventions.compare_interventions`.
    scenario, horizon : str
        Which scenario and horizon.
    level : float
        Interval probability of the whiskers.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
    """
    from climmig.interventions.compare import cost_effectiveness_frontier

    ranked = comparison["in_budget_ranking"].astype(bool).values
    names = [str(n) for n, r in zip(comparison["intervention"].values, ranked, strict=True) if r]
    cost = _totals(comparison, "cumulative_cost", scenario).sel(horizon=horizon, intervention=names)
    av = _totals(comparison, "cumulative_averted_discounted", scenario).sel(horizon=horizon, intervention=names)
    probs = [(1 - level) / 2, 0.5, (1 + level) / 2]
    qc, qa = cost.quantile(probs, dim="sample").compute(), av.quantile(probs, dim="sample").compute()
    status = cost_effectiveness_frontier(qc.isel(quantile=1).values, qa.isel(quantile=1).values)
    currency = comparison["discounted_cost"].attrs.get("currency", "")
    fig = Figure(figsize=(9.5, 5.2))
    ax = fig.subplots()
    seen = set()
    for i, name in enumerate(names):
        c, a = qc.isel(intervention=i).values / 1e6, qa.isel(intervention=i).values
        colour, marker, label = _STATUS_STYLE[status[i]]
        ax.errorbar(c[1], a[1], xerr=[[c[1] - c[0]], [c[2] - c[1]]], yerr=[[a[1] - a[0]], [a[2] - a[1]]],
                    fmt=marker, color=colour, ecolor=colour, alpha=0.8, capsize=3, ms=7,
                    label=None if label in seen else label)
        seen.add(label)
        ax.annotate(name, (c[1], a[1]), textcoords="offset points", xytext=(6, 4), fontsize=8, color="0.2")
    front = sorted([i for i, st in enumerate(status) if st == "frontier"], key=lambda i: qc.values[1, i])
    positive = qc.values[qc.values > 0]
    log = positive.size > 0 and positive.max() / positive.min() > 20
    if front:
        # from the origin on a linear axis; on a log axis the line starts at the cheapest frontier option
        xs = [float(qc.values[1, i]) / 1e6 for i in front]
        ys = [float(qa.values[1, i]) for i in front]
        if not log:
            xs, ys = [0.0, *xs], [0.0, *ys]
        ax.plot(xs, ys, "-", color="#1f77b4", lw=1.2, alpha=0.7, label="frontier")
    if log:
        ax.set_xscale("log")
        ax.set_xlim(positive.min() / 1e6 / 2, positive.max() / 1e6 * 3)
    if "budget" in comparison:
        b = float(comparison["budget"].sel(horizon=horizon))
        if np.isfinite(b):
            ax.axvline(b / 1e6, color="0.4", ls=":", lw=1)
            ax.annotate(f"equal budget {b / 1e6:,.0f} M {currency}", (b / 1e6, ax.get_ylim()[1]),
                        textcoords="offset points", xytext=(4, -12), fontsize=8, color="0.35")
    first = comparison.attrs.get("climmig_cumulative_from_year", "the first year")
    end = int(comparison["horizon_end"].sel(horizon=horizon)) if "horizon_end" in comparison.coords else horizon
    ax.set_xlabel(f"discounted cost {first} to {end} (million {currency}{', log scale' if log else ''})")
    ax.set_ylabel(f"discounted displacement averted {first} to {end}")
    _people_axis(ax, "y")
    ax.axhline(0, color="grey", lw=0.8, ls="--")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_title(title or f"Cost-effectiveness frontier, {scenario}, {first}-{end}", fontsize=12)
    fig.tight_layout()
    return fig


def outcome_split_bars(comparison: xr.Dataset, *, scenario: str, horizon: str, title: str | None = None) -> Figure:
    """How each option changes recorded displacement, pre-emptive evacuations and displacement without warning.

    Medians over the horizon with 90 % intervals; negative is fewer people. Early warning typically adds
    evacuations and removes displacement without warning, so recorded displacement (IDMC's measure, which
    counts evacuations) can rise.

    Parameters
    ----------
    comparison : xr.Dataset
        Output of :func:`climmig.interventions.compare_interventions`.
    scenario, horizon : str
        Which scenario and horizon.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
    """
    parts = [("averted_recorded", -1.0, "recorded displacement", "#444444"),
             ("evacuation_change", 1.0, "pre-emptive evacuations", "#2ca02c"),
             ("averted_unwarned", -1.0, "displacement without warning", "#d62728")]
    keep = [str(n) for n, k in zip(comparison["intervention"].values, comparison["kind"].values, strict=True)
            if k != "border_regime"]
    fig = Figure(figsize=(9.0, 0.55 * len(keep) + 1.8))
    ax = fig.subplots()
    y = np.arange(len(keep))
    for j, (var, sign, label, colour) in enumerate(parts):
        da = sign * _totals(comparison, var, scenario).sel(horizon=horizon, intervention=keep)
        q = da.quantile([0.05, 0.5, 0.95], dim="sample").compute().values
        off = (j - 1) * 0.26
        ax.barh(y + off, q[1], height=0.24, color=colour, alpha=0.8, label=label)
        ax.hlines(y + off, q[0], q[2], color="black", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, keep, fontsize=9)
    ax.invert_yaxis()
    start, end = int(comparison["horizon_start"].sel(horizon=horizon)), int(comparison["horizon_end"].sel(horizon=horizon))
    ax.set_xlabel(f"change in people, {start}-{end} (median, 90 % interval; negative = fewer)")
    _people_axis(ax, "x")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_title(title or f"What each option changes, {scenario}, {horizon}", fontsize=12)
    fig.tight_layout()
    return fig


def _cost_per_person_rays(ax: Any, currency: str) -> None:
    """Dashed rays from the origin at constant cost per person averted (powers of ten that cross the axes)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    if x1 <= 0 or y1 <= 0:
        return
    for cpp in (10.0, 100.0, 1000.0, 10000.0):
        # ray y = cpp * x / 1e6 (million units), clipped to the axes
        xe = min(x1, y1 * 1e6 / cpp)
        ye = cpp * xe / 1e6
        # rays too steep or too flat to read beside the points are left out
        if xe < 0.06 * (x1 - x0) or ye < 0.06 * (y1 - y0):
            continue
        ax.plot([0, xe], [0, ye], ls="--", lw=0.8, color="0.6", zorder=0)
        ax.annotate(f"{cpp:,.0f} {currency}/person", (xe, ye), textcoords="offset points", xytext=(-4, -10),
                    ha="right", fontsize=7, color="0.45")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def change_map(
    boundaries: Any,
    values: pd.Series | xr.DataArray,
    *,
    region_field: str = "ISO_A3",
    label: str = "projected change (%)",
    title: str | None = None,
    cmap: str = "RdYlBu_r",
) -> Figure:
    """Choropleth of a value per region (e.g. projected change in displacement), with neighbours in grey.

    Parameters
    ----------
    boundaries : geopandas.GeoDataFrame
        Country boundaries (e.g. the bundled Natural Earth layer, opened through the catalog).
    values : pandas.Series or xr.DataArray
        One value per region code (index or ``region`` coordinate).
    region_field : str
        Column of ``boundaries`` holding the region codes (``ADM0_A3`` is tried for codes not found).
    label : str
        Colour-bar label.
    title : str, optional
        Figure title.
    cmap : str
        Diverging colour map, centred on zero.

    Returns
    -------
    Figure
    """
    from matplotlib.colors import TwoSlopeNorm

    if isinstance(values, xr.DataArray):
        values = values.to_series()
    values = values.astype(float)
    codes = boundaries[region_field].astype(str)
    if not set(values.index) <= set(codes) and "ADM0_A3" in boundaries:
        codes = codes.where(codes.isin(values.index), boundaries["ADM0_A3"].astype(str))
    gdf = boundaries.assign(_code=codes.values)
    sel = gdf[gdf["_code"].isin(values.index)].copy()
    missing = sorted(set(values.index) - set(sel["_code"]))
    if missing:
        logger.warning("no boundary for regions %s", missing)
    if sel.empty:
        raise ValueError(f"none of the regions {list(values.index)} is in boundaries[{region_field!r}]")
    sel["_value"] = sel["_code"].map(values)
    (west, south, east, north), _ = main_territory_bounds(zip(sel["_code"], sel.geometry, strict=True))
    pad = max(east - west, north - south) * 0.15
    fig = Figure(figsize=(6.6, 5.6))
    ax = fig.subplots()
    gdf.plot(ax=ax, color="#e6e6e6", edgecolor="white", linewidth=0.6)
    vmax = float(np.nanmax(np.abs(sel["_value"]))) or 1.0
    norm = TwoSlopeNorm(vmin=-vmax, vcenter=0.0, vmax=vmax)
    sel.plot(ax=ax, column="_value", cmap=cmap, norm=norm, edgecolor="black", linewidth=0.6, legend=True,
             legend_kwds={"label": label, "shrink": 0.7})
    for _, row in sel.iterrows():
        p = row.geometry.representative_point()
        ax.annotate(f"{row['_code']}\n{row['_value']:+.0f}", (p.x, p.y), ha="center", va="center", fontsize=8,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.7, "lw": 0})
    ax.set_xlim(west - pad, east + pad)
    ax.set_ylim(south - pad, north + pad)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.set_title(title or "Projected change", fontsize=12)
    fig.tight_layout()
    return fig


def flows_bars(
    internal: xr.DataArray, cross_border: xr.DataArray, *, level: float = 0.9, title: str | None = None
) -> Figure:
    """Internal against cross-border movement per region, medians with central intervals, on a log axis.

    Flows of different countries and kinds span orders of magnitude (and over-dispersed flows have long
    right tails), so the axis is logarithmic and each median is written above its bar.

    Parameters
    ----------
    internal, cross_border : xr.DataArray
        Samples with dims ``sample`` (and optionally ``climate_model``) and ``region``.
    level : float
        Interval probability.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
    """
    from matplotlib.ticker import LogLocator, NullFormatter

    probs = [(1 - level) / 2, 0.5, (1 + level) / 2]
    qi, qc = _q(internal, probs).compute(), _q(cross_border, probs).compute()
    regions = [str(r) for r in internal["region"].values]
    x = np.arange(len(regions))
    w = 0.38
    floor = 1.0  # log axis: values below one person are drawn at the floor
    fig = Figure(figsize=(1.5 * len(regions) + 3, 4.4))
    ax = fig.subplots()
    tops = [floor]
    for off, q, lab, col in ((-w / 2, qi, "internal", "#4c72b0"), (w / 2, qc, "cross-border", "#dd8452")):
        med = np.maximum(q.sel(quantile=0.5).sel(region=regions).values, floor)
        low = np.maximum(q.sel(quantile=probs[0]).sel(region=regions).values, floor)
        high = np.maximum(q.sel(quantile=probs[2]).sel(region=regions).values, floor)
        ax.bar(x + off, med - floor, w, bottom=floor, yerr=[med - low, high - med], capsize=3, color=col,
               label=lab)
        for xi, m, h in zip(x + off, med, high, strict=True):
            ax.annotate(_people(m), (xi, h), textcoords="offset points", xytext=(0, 3), ha="center",
                        va="bottom", fontsize=8)
        tops.append(float(np.nanmax(high)))
    ax.set_yscale("log")
    ax.set_ylim(floor, max(tops) * 8)
    ax.yaxis.set_major_locator(LogLocator(base=10))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(x, regions)
    ax.set_ylabel("people per year (log scale)")
    _people_axis(ax)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title or f"Internal and cross-border movement (median, {int(level * 100)} % interval)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def society_dots(attribution: xr.Dataset, *, level: float = 0.9, title: str | None = None) -> Figure:
    """Each scenario as projected and with the reference scenario's people and incomes (medians, intervals).

    Parameters
    ----------
    attribution : xr.Dataset
        :func:`climmig.projection.attribution.scenario_attribution` output.
    level : float
        Interval probability.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
    """
    probs = [(1 - level) / 2, 0.5, (1 + level) / 2]
    ref = attribution.attrs.get("climmig_reference_society", "reference")
    scen = [str(s) for s in attribution["scenario"].values]
    fig = Figure(figsize=(7.2, 0.9 * len(scen) + 1.8))
    ax = fig.subplots()
    y = np.arange(len(scen))[::-1]
    variants = (("projected", "as projected (each scenario's own people and incomes)", "o", -0.13),
                ("reference_society", f"with {ref.upper()}'s people and incomes (climate differs only)", "s",
                 0.13))
    for var, label, marker, off in variants:
        q = _q(attribution[var], probs).compute()
        for yi, sc in zip(y, scen, strict=True):
            lo, med, hi = (float(q.sel(scenario=sc, quantile=p)) for p in probs)
            col = _SCENARIO_COLOURS.get(sc, "#444444")
            ax.plot([lo, hi], [yi + off] * 2, color=col, lw=1.6, alpha=0.8)
            ax.plot([med], [yi + off], marker=marker, color=col, ms=7,
                    mfc=col if var == "projected" else "white", mew=1.6)
            ax.annotate(_people(med), (med, yi + off), textcoords="offset points", xytext=(0, 5), ha="center",
                        fontsize=7.5)
        ax.plot([], [], marker=marker, ls="-", color="#555555", mfc="#555555" if var == "projected" else "white",
                label=label)
    ax.set_yticks(y, [s.upper() for s in scen])
    ax.set_ylim(y.min() - 0.6, y.max() + 0.6)
    ax.set_xlim(left=0)
    _people_axis(ax, axis="x")
    ax.set_xlabel("people displaced per year")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), fontsize=8, frameon=False)
    ax.set_title(title or f"Climate or society? (median, {int(level * 100)} % interval)", fontsize=11)
    fig.tight_layout()
    return fig


def observed_vs_simulated(simulated: pd.DataFrame, observed: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Present-day simulated displacement next to IDMC's observed figures, per country.

    Parameters
    ----------
    simulated : pandas.DataFrame
        Columns ``region``, ``median``, ``lower``, ``upper`` (people per year).
    observed : pandas.DataFrame
        Columns ``region`` and ``observed`` (people per year, e.g. the IDMC mean over recent years) and
        optionally ``observed_min``/``observed_max`` (range over those years).
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
    """
    need_s, need_o = {"region", "median", "lower", "upper"}, {"region", "observed"}
    if not need_s <= set(simulated.columns) or not need_o <= set(observed.columns):
        raise ValueError(f"simulated needs columns {sorted(need_s)}, observed needs {sorted(need_o)}")
    df = simulated.merge(observed, on="region", how="outer").sort_values("region")
    x = np.arange(len(df))
    w = 0.38
    fig = Figure(figsize=(1.4 * len(df) + 3, 4.0))
    ax = fig.subplots()
    ax.bar(x - w / 2, df["median"], w, color="#4c72b0", label="simulated (median, interval)",
           yerr=[df["median"] - df["lower"], df["upper"] - df["median"]], capsize=3)
    oerr = None
    if {"observed_min", "observed_max"} <= set(df.columns):
        oerr = [df["observed"] - df["observed_min"], df["observed_max"] - df["observed"]]
    ax.bar(x + w / 2, df["observed"], w, color="#55a868", label="observed (IDMC)", yerr=oerr, capsize=3)
    ax.set_xticks(x, df["region"])
    ax.set_ylabel("people displaced per year")
    _people_axis(ax)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title or "Present day: simulated against observed displacement", fontsize=11)
    fig.tight_layout()
    return fig
