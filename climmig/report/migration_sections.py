"""Report sections of the migration outcomes: corridors abroad, forced displacement abroad, internal climate moves.

Each section reads the CSV summaries the projection and fit stages wrote (no model is rerun here) and says
what the outcome is, what it is fitted on and what it leaves out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from climmig.report.html import ReportFigure, ReportTable, Section

__all__ = ["corridor_section", "forced_section", "internal_climate_section", "migration_sections"]


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.1f}"


def _corridor_figure(sub: pd.DataFrame, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sub = sub.sort_values("q0.5")
    fig, ax = plt.subplots(figsize=(7.0, 0.42 * len(sub) + 1.2), dpi=110)
    y = np.arange(len(sub))
    med, lo, hi = sub["q0.5"].to_numpy(), sub["q0.05"].to_numpy(), sub["q0.95"].to_numpy()
    ax.barh(y, np.maximum(med, 1), color="tab:orange", alpha=0.8)
    ax.errorbar(np.maximum(med, 1), y, xerr=[np.maximum(med, 1) - np.maximum(lo, 1), np.maximum(hi, 1) - np.maximum(med, 1)],
                fmt="none", ecolor="k", lw=0.8, capsize=2)
    ax.set_yticks(y, sub["corridor"])
    ax.set_xscale("log")
    ax.set_xlabel("people per year (median, 90 % interval; log axis)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def corridor_section(table: pd.DataFrame, *, scenario: str, horizon: str, period: str) -> Section:
    """Main emigration corridors of the study area (all-country gravity model).

    Parameters
    ----------
    table : pandas.DataFrame
        ``projection/migration_corridors.csv``.
    scenario, horizon : str
        Which rows to show.
    period : str
        Plain-language period.

    Returns
    -------
    Section
    """
    sub = table[(table["scenario"] == scenario) & (table["horizon"] == horizon)]
    study = sub[sub["origin"] == "study area"]
    rows = study.sort_values("q0.5", ascending=False)
    tab = pd.DataFrame({"corridor": rows["corridor"], "median (people/yr)": [_n(v) for v in rows["q0.5"]],
                        "90 % interval": [f"{_n(a)} - {_n(b)}" for a, b in zip(rows["q0.05"], rows["q0.95"], strict=True)],
                        "share of emigration (median)": [f"{v:.0%}" for v in rows["share_of_emigration"]]})
    per_origin = sub[sub["origin"] != "study area"].pivot_table(index="corridor", columns="origin", values="q0.5")
    per_origin = per_origin.loc[per_origin.sum(axis=1).sort_values(ascending=False).index].map(_n).reset_index()
    text = (
        "Cross-border migration is projected to every country of the world, not only to the other countries of the "
        "study area. The model is a gravity model fitted on all 231 countries of Abel & Cohen's bilateral flow "
        "estimates (da_pb_closed, every 5-year period 1990-2015; about 200,000 country pairs and periods, zeros "
        "included), with each pair's migrant stock as the diaspora network, distance and shared borders, the two "
        "countries' populations and incomes, border regimes and the origin's flood displacement (DFO), whose "
        "effect may be negative (people too poor to move). Destinations outside the study area keep today's "
        "population, income and diaspora. No cap limits a country's emigration: every model draw is kept."
        "\n\nWhat it leaves out: irregular movement that leaves no migrant stock (the Eastern Route from Ethiopia "
        "through Djibouti and Yemen to Saudi Arabia is largely missing from the flow estimates), refugees (shown "
        "separately below), and changes of diaspora networks and destination countries after 2015. Border "
        "regimes are not causal in this model: given the diaspora that free movement itself built up, pairs "
        "inside free-movement blocs have fewer moves than predicted, so a free-movement scenario among the "
        "study countries lowers their projected flows (docs/migration.md).")
    return Section(f"Where emigrants go ({period})", text, figures=[ReportFigure(
        _corridor_figure(study, f"Emigration from the study area by corridor, {period}"),
        "People leaving the study area per year by destination corridor: bars are medians, whiskers 90 % "
        "intervals (over model draws and climate models). The axis is logarithmic.")],
        tables=[ReportTable(tab, f"Emigration from the study area by corridor, people per year ({period}); the "
                                 "members of each corridor are in projection/migration_corridors.nc."),
                ReportTable(per_origin, f"Median emigration per year by country of origin and corridor ({period}).")])


def forced_section(table: pd.DataFrame, coefficients: pd.DataFrame | None, *, scenario: str, horizon: str,
                   period: str) -> Section:
    """Cross-border forced displacement (refugees and asylum seekers), its own outcome.

    Parameters
    ----------
    table : pandas.DataFrame
        ``projection/forced_displacement_abroad.csv``.
    coefficients : pandas.DataFrame, optional
        ``fits/forced_displacement_coefficients.csv`` (index coef; columns 0.05, 0.5, 0.95).
    scenario, horizon, period : str
        Rows shown and their label.

    Returns
    -------
    Section
    """
    sub = table[(table["scenario"] == scenario) & (table["horizon"] == horizon)]
    share_cols = [c for c in sub.columns if c.startswith("median_to_")]
    tab = pd.DataFrame({"country of origin": sub["origin"], "median (people/yr)": [_n(v) for v in sub["q0.5"]],
                        "90 % interval": [f"{_n(a)} - {_n(b)}" for a, b in zip(sub["q0.05"], sub["q0.95"], strict=True)]})
    main = []
    for _, r in sub[sub["origin"] != "study area"].iterrows():
        top = sorted(((r[c], c.removeprefix("median_to_")) for c in share_cols if np.isfinite(r[c])), reverse=True)[:3]
        main.append(", ".join(f"{name} {_n(v)}" for v, name in top if v > 0))
    tab["main corridors (median)"] = [*main, ""][:len(tab)] if len(main) < len(tab) else main
    coef = ""
    if coefficients is not None and "disaster_z" in coefficients.index:
        d = coefficients.loc["disaster_z"]
        coef = (f" Across 2009-2022, a year with one standard deviation more weather-disaster displacement at the "
                f"origin changed the number of people seeking refuge abroad by a factor of "
                f"{np.exp(float(d['0.5'])):.2f} (90 % interval {np.exp(float(d['0.05'])):.2f} to "
                f"{np.exp(float(d['0.95'])):.2f}).")
    text = (
        "People newly seeking refuge or asylum abroad (UNHCR new refugee arrivals and asylum applications), a "
        "separate outcome from regular migration. It is fitted on UNHCR's yearly arrivals from every origin "
        "country 2009-2022 against the origin's population, income and weather-disaster displacement (IDMC) in "
        "the year and the year before, with a country effect for each origin." + coef + " Projections scale "
        "today's disaster displacement with the drought and flood exposure of each scenario and split the total "
        "over the corridors UNHCR recorded in 2013-2022."
        "\n\nWhat it leaves out: conflict and persecution, which drive most refugee flows, are not modelled. The "
        "country effects carry each origin's 2009-2022 average forward, so these numbers mean 'if conflict stays "
        "at its recent average'; a new war or a peace agreement is outside the model, and the disaster "
        "coefficients are associations that conflict may confound.")
    return Section(f"Forced displacement abroad ({period})", text,
                   tables=[ReportTable(tab, f"People newly seeking refuge or asylum abroad per year ({period}).")])


def internal_climate_section(table: pd.DataFrame, observations: pd.DataFrame | None) -> Section:
    """Prior against posterior of the internal climate elasticity fitted on PRMN.

    Parameters
    ----------
    table : pandas.DataFrame
        ``fits/internal_climate_prior_posterior.csv``.
    observations : pandas.DataFrame, optional
        ``fits/internal_climate_observations.csv``.

    Returns
    -------
    Section
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = {"climate_elasticity": "climate elasticity", "rate_drought": "drought moves per person per year",
             "rate_flood": "flood moves per person per year", "alpha": "noise shape"}
    tab = pd.DataFrame({
        "parameter": [names.get(p, p) for p in table["parameter"]], "distribution": table["distribution"],
        "median": [f"{v:.3g}" for v in table["q50"]],
        "90 % interval": [f"{a:.3g} to {b:.3g}" for a, b in zip(table["q05"], table["q95"], strict=True)]})
    b = table[table["parameter"] == "climate_elasticity"].set_index("distribution")
    fig, ax = plt.subplots(figsize=(6.0, 2.0), dpi=110)
    for k, (kind, color) in enumerate((("prior", "tab:gray"), ("posterior", "tab:blue"))):
        r = b.loc[kind]
        ax.plot([r["q05"], r["q95"]], [k, k], color=color, lw=6, alpha=0.6, solid_capstyle="butt")
        ax.plot([r["q50"]], [k], "o", color="k")
    ax.axvline(0, color="k", lw=0.6)
    ax.set_yticks([0, 1], ["prior", "posterior (PRMN)"])
    ax.set_xlabel("climate elasticity of internal moves (90 % interval, median)")
    fig.tight_layout()
    n = "" if observations is None else f" ({len(observations)} reason-years)"
    text = (
        "Internal movement because of drought or flood is fitted on UNHCR's Protection and Return Monitoring "
        f"Network (PRMN) for Somalia{n}: people displaced within Somalia for drought (2016-2021) or flood "
        "(2016-2019) reasons, against the observed short-rains deficit (CHIRPS, the season before) and the "
        "flood record (DFO). The climate elasticity says how internal moves scale with the hazard's exposure "
        "ratio (moves grow as ratio^elasticity); its sign is free. Its posterior replaces the literature prior "
        "for every country of the study area: no other country has origin-destination data with the reason for "
        "moving, so for Ethiopia, Kenya and Djibouti it is an informed prior taken from Somalia, not a fit. The "
        "baseline rate of internal migration stays the literature prior."
        "\n\nWhat it leaves out: conflict moves (a third of PRMN), PRMN's changing coverage and double counting, "
        "and the district detail (the fit is national and yearly).")
    return Section("Internal moves for climate reasons: prior and posterior", text,
                   figures=[ReportFigure(fig, "Climate elasticity of internal moves: the prior (gray) and the "
                                              "posterior after the PRMN data (blue), 90 % intervals and medians.")],
                   tables=[ReportTable(tab, "Parameters of the PRMN fit, prior and posterior.")])


def migration_sections(run_dir: Path, *, scenario: str, horizon: str, period: str) -> list[Section]:
    """The migration sections whose input files exist in ``run_dir``."""
    out = []
    corr = run_dir / "projection" / "migration_corridors.csv"
    if corr.exists():
        out.append(corridor_section(pd.read_csv(corr), scenario=scenario, horizon=horizon, period=period))
    forced = run_dir / "projection" / "forced_displacement_abroad.csv"
    if forced.exists():
        cf = run_dir / "fits" / "forced_displacement_coefficients.csv"
        coef = pd.read_csv(cf, index_col=0) if cf.exists() else None
        out.append(forced_section(pd.read_csv(forced), coef, scenario=scenario, horizon=horizon, period=period))
    internal = run_dir / "fits" / "internal_climate_prior_posterior.csv"
    if internal.exists():
        obs = run_dir / "fits" / "internal_climate_observations.csv"
        out.append(internal_climate_section(pd.read_csv(internal), pd.read_csv(obs) if obs.exists() else None))
    return out
