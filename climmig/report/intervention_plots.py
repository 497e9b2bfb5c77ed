"""Figures of the intervention comparison: ranking, benefit against cost, the frontier, the outcome split.

Every function takes a comparison (:func:`climmig.interventions.compare_interventions`) and returns a
:class:`matplotlib.figure.Figure` (see :mod:`climmig.report.plots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from climmig.report.plot_base import _people_axis

__all__ = ["averted_vs_cost", "frontier_plot", "outcome_split_bars", "ranked_bars"]


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
