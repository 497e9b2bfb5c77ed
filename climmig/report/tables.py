"""Tidy summary tables (pandas) from projections and comparisons, for CSV outputs and the report."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["comparison_table", "headline_table", "interval_table"]

logger = logging.getLogger(__name__)


def interval_table(da: xr.DataArray, level: float = 0.9, dim: str | Sequence[str] = "sample") -> pd.DataFrame:
    """Median and central interval of samples as a tidy table.

    Parameters
    ----------
    da : xr.DataArray
        Samples (computed or lazy; the result is computed).
    level : float
        Interval probability.
    dim : str or sequence of str
        Sample dimension(s).

    Returns
    -------
    pandas.DataFrame
        One row per combination of the remaining dims, columns ``mean``, ``median``, ``lower``,
        ``upper``.
    """
    dims = [dim] if isinstance(dim, str) else list(dim)
    q = da.quantile([(1 - level) / 2, 0.5, (1 + level) / 2], dim=dims)
    parts = {
        "mean": da.mean(dims),
        "median": q.isel(quantile=1, drop=True),
        "lower": q.isel(quantile=0, drop=True),
        "upper": q.isel(quantile=2, drop=True),
    }
    ds = xr.Dataset(parts)
    keep = [c for c in ds.coords if c not in ds.dims]
    return ds.drop_vars(keep).to_dataframe().reset_index()


def comparison_table(comparison: xr.Dataset, level: float = 0.9) -> pd.DataFrame:
    """Headline table of an intervention comparison, all regions together.

    Parameters
    ----------
    comparison : xr.Dataset
        Output of :func:`climmig.interventions.compare_interventions`.
    level : float
        Interval probability.

    Returns
    -------
    pandas.DataFrame
        One row per intervention x scenario x horizon: displacement averted and discounted cost in the
        horizon, cost per person averted (cumulative to the horizon's end; ``inf`` in samples where
        nothing is averted), slow-onset (internal) and cross-border migration averted in the horizon when
        the comparison holds them, each as median and interval bounds; probability of benefit and of being
        best; the intervention's kind and timescale.
    """
    migration = [v for v in ("averted_internal", "averted_cross_border") if v in comparison]
    tot = comparison[["averted_displacement", "discounted_cost", "cumulative_cost", "cumulative_averted",
                      *migration]].sum("region")
    lo, hi = (1 - level) / 2, (1 + level) / 2
    cpp = tot["cumulative_cost"] / tot["cumulative_averted"].where(tot["cumulative_averted"] > 0)
    # NaN (nothing averted) counts as an infinite cost per person when taking quantiles
    cpp = cpp.fillna(np.inf)
    av_q = tot["averted_displacement"].quantile([lo, 0.5, hi], dim="sample")
    cost_q = tot["discounted_cost"].quantile([lo, 0.5, hi], dim="sample")
    cpp_q = cpp.quantile([lo, 0.5, hi], dim="sample", method="lower")
    mig_q = {v: tot[v].quantile([lo, 0.5, hi], dim="sample") for v in migration}
    rows = []
    pb_all = (tot["averted_displacement"] > 0).mean("sample")
    for iv in comparison["intervention"].values:
        for sc in comparison["scenario"].values:
            for h in comparison["horizon"].values:
                a = av_q.sel(intervention=iv, scenario=sc, horizon=h).values
                c = cost_q.sel(intervention=iv, scenario=sc, horizon=h).values
                p = cpp_q.sel(intervention=iv, scenario=sc, horizon=h).values
                rows.append({
                    "intervention": str(iv),
                    "kind": str(comparison["kind"].sel(intervention=iv).values),
                    "timescale": str(comparison["timescale"].sel(intervention=iv).values),
                    "scenario": str(sc),
                    "horizon": str(h),
                    "averted_median": a[1], "averted_lower": a[0], "averted_upper": a[2],
                    "cost_median": c[1], "cost_lower": c[0], "cost_upper": c[2],
                    "cost_per_person_median": p[1], "cost_per_person_lower": p[0], "cost_per_person_upper": p[2],
                    **{f"{v}_{k}": float(mig_q[v].sel(intervention=iv, scenario=sc, horizon=h)[j])
                       for v in migration for j, k in enumerate(("lower", "median", "upper"))},
                    "prob_benefit": float(pb_all.sel(intervention=iv, scenario=sc, horizon=h)),
                    "prob_best": float(comparison["prob_best"].sel(intervention=iv, scenario=sc, horizon=h)),
                })
    return pd.DataFrame(rows)


def _fmt_people(x: float) -> str:
    from climmig.report.plots import _people  # one way of writing people counts, in figures and tables

    return _people(x) if np.isfinite(x) else "-"


def _fmt_money(x: float) -> str:
    if not np.isfinite(x):
        return "never"
    return f"{x:,.0f}" if abs(x) < 1e4 else f"{x / 1e3:,.0f} k"


def headline_table(table: pd.DataFrame, *, scenario: str, horizon: str, currency: str = "USD") -> pd.DataFrame:
    """Readable ranking of the options for one scenario and horizon, from :func:`comparison_table`.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`comparison_table` (or the ``interventions/comparison.csv`` of a run).
    scenario, horizon : str
        Which scenario and evaluation horizon.
    currency : str
        Currency label of the cost column.

    Returns
    -------
    pandas.DataFrame
        One row per option, ranked by median displacement averted (largest first), with formatted strings:
        ``option``, ``timescale``, ``averted`` (median and 90 % interval), ``cost per person averted``
        (median; "never" where the median sample averts nothing), ``cross-border migration averted`` (when
        the table has it), ``P(any benefit)``, ``P(best)``.

    Raises
    ------
    KeyError
        If the scenario or horizon is not in the table.
    """
    sub = table[(table["scenario"] == scenario) & (table["horizon"] == horizon)]
    if sub.empty:
        raise KeyError(f"no rows for scenario {scenario!r} and horizon {horizon!r}; the table has scenarios "
                       f"{sorted(table['scenario'].unique())} and horizons {sorted(table['horizon'].unique())}")
    sub = sub.sort_values("averted_median", ascending=False)
    return pd.DataFrame({
        "option": sub["intervention"].to_numpy(),
        "timescale": sub["timescale"].to_numpy(),
        "averted": [f"{_fmt_people(m)} ({_fmt_people(lo)} to {_fmt_people(hi)})" for m, lo, hi in
                    zip(sub["averted_median"], sub["averted_lower"], sub["averted_upper"], strict=True)],
        f"cost per person averted ({currency})": [_fmt_money(float(x)) for x in sub["cost_per_person_median"]],
        **({"cross-border migration averted": [
            f"{_fmt_people(m)} ({_fmt_people(lo)} to {_fmt_people(hi)})" for m, lo, hi in
            zip(sub["averted_cross_border_median"], sub["averted_cross_border_lower"],
                sub["averted_cross_border_upper"], strict=True)]} if "averted_cross_border_median" in sub else {}),
        "P(any benefit)": [f"{x:.2f}" for x in sub["prob_benefit"]],
        "P(best)": [f"{x:.2f}" for x in sub["prob_best"]],
    })
