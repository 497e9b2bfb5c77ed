"""Bar figures per country: internal against cross-border movement, simulated against observed displacement.

Every function takes data and returns a :class:`matplotlib.figure.Figure` (see :mod:`climmig.report.plots`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from climmig.report.plot_base import _people, _people_axis, _q

__all__ = ["flows_bars", "observed_vs_simulated"]


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
