"""Tidy summary tables (pandas) from projections and comparisons, for CSV outputs and the report."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["benefit_by_country", "comparison_table", "cost_by_financier", "headline_table", "interval_table"]

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


_Q = ("lower", "median", "upper")


def _flag(effect_basis: str, cost_basis: str) -> str:
    """``"assumption"`` when an effect or a cost of the option has no source, else ``""``."""
    return "assumption" if "assumption" in (effect_basis, cost_basis) else ""


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
        One row per intervention x scenario x horizon with the option's labels (kind, timescale, level,
        financier, good, evidence entry, ``effect_basis``, ``cost_basis`` and ``evidence_flag``:
        "assumption" where an effect or cost has no source), and as median and interval bounds: the ranked
        displacement averted (``averted_*``), recorded displacement averted, displacement without warning
        averted, the change in evacuations, people relocated, discounted cost in the horizon, cost per person
        averted (discounted cost over discounted averted, cumulative to the horizon's end; ``inf`` in
        samples where nothing is averted; and undiscounted), displacement averted per million at equal
        discounting, migration change (internal, cross-border; not a benefit); probability of benefit, of
        being best at the equal budget (NaN outside the ranking) and of averting the most whatever the cost.
    """
    migration = [v for v in ("migration_change_internal", "migration_change_cross_border") if v in comparison]
    per_person = [v for v in ("cost_per_person_averted_undiscounted",) if v in comparison]
    outcome_vars = [v for v in ("averted_recorded", "averted_unwarned", "evacuation_change", "people_relocated")
                    if v in comparison]
    tot = comparison[["averted_displacement", "discounted_cost", "cumulative_cost", *outcome_vars, *migration]
                     ].sum("region")
    disc_av = (comparison["cumulative_averted_discounted"] if "cumulative_averted_discounted" in comparison
               else comparison["cumulative_averted"]).sum("region")
    lo, hi = (1 - level) / 2, (1 + level) / 2
    # NaN (nothing averted) counts as an infinite cost per person when taking quantiles
    cpp = (tot["cumulative_cost"] / disc_av.where(disc_av > 0)).fillna(np.inf)
    qs = {"averted": tot["averted_displacement"], "cost": tot["discounted_cost"],
          **{v: tot[v] for v in (*outcome_vars, *migration)}}
    q = {k: v.quantile([lo, 0.5, hi], dim="sample") for k, v in qs.items()}
    cpp_q = cpp.quantile([lo, 0.5, hi], dim="sample", method="lower")
    extra_q = {}
    for v in per_person:
        und = comparison["cumulative_averted"].sum("region")
        r = (comparison["cumulative_cost_undiscounted"].sum("region") / und.where(und > 0)).fillna(np.inf)
        extra_q[v] = r.quantile(0.5, dim="sample", method="lower")
    per_m = comparison["averted_per_million"].median("sample") if "averted_per_million" in comparison else None
    pb_all = (tot["averted_displacement"] > 0).mean("sample")
    coord = {c: comparison[c] for c in ("kind", "timescale", "level", "financier", "good", "evidence",
                                        "effect_basis", "cost_basis", "in_budget_ranking", "scenario_change")
             if c in comparison.coords}
    rows = []
    for iv in comparison["intervention"].values:
        labels = {c: (bool(v.sel(intervention=iv)) if v.dtype == bool else str(v.sel(intervention=iv).values))
                  for c, v in coord.items()}
        for sc in comparison["scenario"].values:
            for h in comparison["horizon"].values:
                at = {"intervention": iv, "scenario": sc, "horizon": h}
                row = {"intervention": str(iv), **{k: labels[k] for k in ("kind", "timescale") if k in labels},
                       "scenario": str(sc), "horizon": str(h)}
                for k in ("level", "financier", "good", "evidence", "scenario_change", "in_budget_ranking"):
                    if k in labels:
                        row[k] = labels[k]
                for name, col in [("averted", "averted"), ("cost", "cost")]:
                    vals = q[name].sel(at).values
                    row.update({f"{col}_{k}": float(vals[j]) for j, k in enumerate(_Q)})
                p = cpp_q.sel(at).values
                row.update({"cost_per_person_median": p[1], "cost_per_person_lower": p[0],
                            "cost_per_person_upper": p[2]})
                for v in per_person:
                    row["cost_per_person_undiscounted_median"] = float(extra_q[v].sel(at))
                if per_m is not None:
                    row["averted_per_million_median"] = float(per_m.sel(at))
                for v in (*outcome_vars, *migration):
                    vals = q[v].sel(at).values
                    row.update({f"{v}_{k}": float(vals[j]) for j, k in enumerate(_Q)})
                row["prob_benefit"] = float(pb_all.sel(at))
                row["prob_best"] = float(comparison["prob_best"].sel(at))
                if "prob_most_averted" in comparison:
                    row["prob_most_averted"] = float(comparison["prob_most_averted"].sel(at))
                if "effect_basis" in labels:
                    row["effect_basis"] = labels["effect_basis"]
                    row["cost_basis"] = labels["cost_basis"]
                    row["evidence_flag"] = _flag(labels["effect_basis"], labels["cost_basis"])
                rows.append(row)
    return pd.DataFrame(rows)


def cost_by_financier(comparison: xr.Dataset, *, scenario: str, horizon: str) -> pd.DataFrame:
    """Median discounted cost (first year to the horizon's end) of each option, by who pays.

    Parameters
    ----------
    comparison : xr.Dataset
        Output of :func:`climmig.interventions.compare_interventions` (with a ``financier`` coordinate).
    scenario, horizon : str
        Which scenario and horizon.

    Returns
    -------
    pandas.DataFrame
        Columns ``financier``, ``level``, ``option``, ``cost`` (median, currency units) and ``share`` of the
        financier's total; costed options only, portfolios left out (their members are listed).
    """
    cost = comparison["cumulative_cost"].sel(scenario=scenario, horizon=horizon).sum("region").median("sample")
    rows = []
    for iv in comparison["intervention"].values:
        if str(comparison["kind"].sel(intervention=iv).values) == "portfolio":
            continue
        c = float(cost.sel(intervention=iv))
        if c <= 0 or not np.isfinite(c):
            continue
        rows.append({"financier": str(comparison["financier"].sel(intervention=iv).values),
                     "level": str(comparison["level"].sel(intervention=iv).values), "option": str(iv), "cost": c})
    df = pd.DataFrame(rows, columns=["financier", "level", "option", "cost"])
    df["share"] = df["cost"] / df.groupby("financier")["cost"].transform("sum")
    return df.sort_values(["financier", "cost"], ascending=[True, False]).reset_index(drop=True)


def benefit_by_country(comparison: xr.Dataset, *, scenario: str, horizon: str, variable: str = "averted_displacement"
                       ) -> pd.DataFrame:
    """Median benefit (or migration change) of each option in each country, over the horizon.

    Parameters
    ----------
    comparison : xr.Dataset
        Output of :func:`climmig.interventions.compare_interventions`.
    scenario, horizon : str
        Which scenario and horizon.
    variable : str
        Variable by region (default the ranked displacement averted).

    Returns
    -------
    pandas.DataFrame
        One row per option, one column per country (medians), plus ``level`` and ``financier``.
    """
    da = comparison[variable].sel(scenario=scenario, horizon=horizon).median("sample")
    df = da.to_pandas()
    df.index = [str(i) for i in df.index]
    df.columns = [str(c) for c in df.columns]
    df.insert(0, "financier", [str(comparison["financier"].sel(intervention=i).values) for i in df.index])
    df.insert(0, "level", [str(comparison["level"].sel(intervention=i).values) for i in df.index])
    return df.reset_index(names="option")


def _fmt_people(x: float) -> str:
    from climmig.report.plot_base import _people  # one way of writing people counts, in figures and tables

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
        One row per option: options of the equal-budget ranking first (by P(best), then median averted),
        then the others (scenario changes, uncosted options) by median averted. Formatted strings:
        ``option``, ``level``, ``averted`` (median and 90 % interval of the ranked outcome), ``recorded
        displacement change`` and ``evacuations change`` (when present; positive = more), ``cost per person
        averted`` (median, discounted), ``migration change`` (cross-border, when present; not a benefit),
        ``P(any benefit)``, ``P(best)`` (at the equal budget; "-" outside the ranking) and ``evidence``
        ("assumption" where an effect or cost has no source).

    Raises
    ------
    KeyError
        If the scenario or horizon is not in the table.
    """
    sub = table[(table["scenario"] == scenario) & (table["horizon"] == horizon)]
    if sub.empty:
        raise KeyError(f"no rows for scenario {scenario!r} and horizon {horizon!r}; the table has scenarios "
                       f"{sorted(table['scenario'].unique())} and horizons {sorted(table['horizon'].unique())}")
    ranked = sub["in_budget_ranking"].astype(bool) if "in_budget_ranking" in sub else sub["prob_best"].notna()
    sub = sub.assign(_ranked=ranked.to_numpy(), _pb=sub["prob_best"].fillna(-1.0))
    sub = sub.sort_values(["_ranked", "_pb", "averted_median"], ascending=False)

    def interval(prefix: str, sign: float = 1.0) -> list[str]:
        # + 0.0 turns a negative zero into 0
        return [f"{_fmt_people(sign * m + 0.0)} ({_fmt_people(sign * (lo if sign > 0 else hi) + 0.0)} to "
                f"{_fmt_people(sign * (hi if sign > 0 else lo) + 0.0)})" for m, lo, hi in
                zip(sub[f"{prefix}_median"], sub[f"{prefix}_lower"], sub[f"{prefix}_upper"], strict=True)]

    out = {"option": sub["intervention"].to_numpy(), "timescale": sub["timescale"].to_numpy()}
    if "level" in sub:
        out["level"] = sub["level"].to_numpy()
    out["averted"] = interval("averted")
    if "averted_recorded_median" in sub:
        out["recorded displacement change"] = interval("averted_recorded", -1.0)
    if "evacuation_change_median" in sub:
        out["evacuations change"] = interval("evacuation_change")
    uncosted = (sub["cost_basis"] == "none").to_numpy() if "cost_basis" in sub else np.zeros(len(sub), bool)
    out[f"cost per person averted ({currency})"] = ["not costed" if u else _fmt_money(float(x)) for u, x in
                                                     zip(uncosted, sub["cost_per_person_median"], strict=True)]
    if "migration_change_cross_border_median" in sub:
        out["cross-border migration change"] = interval("migration_change_cross_border")
    out["P(any benefit)"] = [f"{x:.2f}" for x in sub["prob_benefit"]]
    out["P(best)"] = [f"{x:.2f}" if np.isfinite(x) else "-" for x in sub["prob_best"]]
    if "evidence_flag" in sub:
        basis = sub["effect_basis"] if "effect_basis" in sub else ["sourced"] * len(sub)
        out["evidence"] = [f if isinstance(f, str) and f else str(b) for f, b in
                           zip(sub["evidence_flag"], basis, strict=True)]
    return pd.DataFrame(out)
