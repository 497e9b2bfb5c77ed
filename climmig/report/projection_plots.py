"""Figures of the projection: fan charts, sources of uncertainty, a map of change, climate or society.

Every function takes data and returns a :class:`matplotlib.figure.Figure` (see :mod:`climmig.report.plots`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from climmig.grid.extent import main_territory_bounds
from climmig.report.plot_base import _people, _people_axis, _q

__all__ = ["change_map", "fan_chart", "society_dots", "uncertainty_by_horizon", "uncertainty_partition"]

logger = logging.getLogger(__name__)


_SCENARIO_COLOURS = {"ssp119": "#1e9583", "ssp126": "#1d3354", "ssp245": "#ea9a2a", "ssp370": "#e71d25",
                     "ssp585": "#951b1e"}
_COMPONENT_COLOURS = {"scenario": "#4c72b0", "climate_model": "#55a868", "parameter": "#c44e52",
                      "residual": "#8c8c8c"}
_COMPONENT_LABELS = {"scenario": "emission scenario", "climate_model": "climate model",
                     "parameter": "model parameters", "residual": "year-to-year chance"}


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
