"""Report sections on the data behind the run: hazard layers, SSP series, and the model against IDMC's record.

:func:`hazards_section` says where each hazard layer comes from and what the record says about its effect;
:func:`ssp_section` which SSP model each country's population and income follow; and
:func:`plausibility_section` sets present-day simulated displacement beside IDMC's figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import xarray as xr

from climmig.report.country_plots import observed_vs_simulated
from climmig.report.html import ReportFigure, ReportTable, Section

__all__ = ["hazards_section", "plausibility_section", "ssp_section"]


def plausibility_section(simulated: pd.DataFrame, observed: pd.DataFrame,
                         by_hazard: pd.DataFrame | None = None) -> Section:
    """Present-day simulated displacement next to IDMC's observed figures.

    Parameters
    ----------
    simulated : pandas.DataFrame
        ``region``, ``median``, ``lower``, ``upper``.
    observed : pandas.DataFrame
        ``region``, ``observed`` (and optionally ``observed_min``/``observed_max``).
    by_hazard : pandas.DataFrame, optional
        :func:`climmig.projection.fidelity.record_comparison`: the first projected years per country and
        hazard beside IDMC's record.

    Returns
    -------
    Section
    """
    df = simulated.merge(observed, on="region", how="inner")
    inside = int(((df["observed"] >= df["lower"]) & (df["observed"] <= df["upper"])).sum())
    text = ("A check on plausibility: the model's simulated displacement for today's climate and population "
            "next to what the Internal Displacement Monitoring Centre (IDMC) recorded. Recorded numbers vary a "
            f"lot from year to year. The observed figure lies inside the simulated interval for {inside} of "
            f"{len(df)} countries.")
    tables = [ReportTable(df, "Simulated and observed displacement per year.")]
    if by_hazard is not None and len(by_hazard):
        a = by_hazard.attrs
        gated = by_hazard[by_hazard["within_factor_2"].notna()]
        ok = int(gated["within_factor_2"].astype(bool).sum())
        text += (f"\n\nPer country and hazard, the projection's mean for {a.get('years', '')} ({a.get('scenario', '')}) "
                 f"is within a factor of 2 of IDMC's record for {ok} of the {len(gated)} country-hazards with at "
                 f"least {a.get('min_years', 5)} recorded years. The record is averaged over the years IDMC "
                 "monitored each hazard: its event data hold no drought displacement anywhere before 2017, and "
                 "the model projects today's monitoring (its reporting level is held at its mean over each hazard's "
                 "last five monitored calibration years).")
        if "record_percentile" in by_hazard:
            pct = by_hazard["record_percentile"].dropna()
            inside = int(((pct >= 0.05) & (pct <= 0.95)).sum())
            text += (f"\n\nOver the calibration years themselves, the record lies inside the 90 % interval of the "
                     f"model's in-sample predictive for {inside} of {len(pct)} country-hazards (the 'record "
                     "percentile' column: 0.5 is the predictive median). Where the in-sample fit is right and the "
                     "projection still differs, the drivers moved: population growth, today's monitoring held in "
                     "the projection, the climate. A mean of a few heavy-tailed years usually sits below the "
                     "model's mean, which counts the rare large years; compare it with the in-sample median too.")
        rounded = [c for c in ("model_mean", "model_median", "model_lower", "model_upper", "record_mean",
                               "record_mean_monitored",
                               "in_sample_mean", "in_sample_median") if c in by_hazard]
        shown = by_hazard.assign(**{c: by_hazard[c].round(0) for c in rounded})
        if "record_percentile" in shown:
            shown = shown.assign(record_percentile=shown["record_percentile"].round(2))
        tables.append(ReportTable(shown.assign(ratio=by_hazard["ratio"].round(2)), (
            f"Mean yearly displacement projected for {a.get('years', '')} under {a.get('scenario', '')} (the mean "
            "and median of that period's mean over draws and climate models, and its 90 % interval) beside IDMC's mean over {a.get('record_years', '')} and over "
            "the years it monitored the hazard; ratio = model mean / monitored-period record; the factor-of-2 "
            "check applies where the record has enough recorded years. In-sample columns: the fitted model's "
            "predictive of the calibration-period mean (mean, median) and the share of its replicates at or below "
            "the record.")))
    return Section("Does the model match the record?", text, figures=[ReportFigure(
        observed_vs_simulated(simulated, observed),
        "Blue: simulated yearly displacement today (median and 90 % interval). Green: IDMC's recorded "
        "displacement in the median year (whiskers: lowest and highest recorded year, where available).")],
        tables=tables)


def hazards_section(exposure: xr.Dataset, elasticity: pd.DataFrame | None, *, period: str,
                    scenarios: Sequence[str], layer_map: dict[str, str] | None = None,
                    displacement_hazards: Sequence[str] = ()) -> Section:
    """Where each hazard layer comes from, how exposure changes, and what the record says about its effect.

    Parameters
    ----------
    exposure : xr.Dataset
        The run's exposure (``hazard_source``, ``hazard_indicator``, ``hazard_threshold`` coords).
    elasticity : pandas.DataFrame, optional
        :func:`climmig.mobility.hazard_history.elasticity_summary` of the displacement fit.
    period : str
        ``"start-end"`` of the horizon whose exposure change is shown.
    scenarios : sequence of str
        Scenarios, in config order.
    layer_map : dict, optional
        ``mobility.displacement.hazard_layer_map`` (displacement hazard type -> layer).
    displacement_hazards : sequence of str
        The displacement model's hazard types; with ``layer_map`` the text says which layer drives each, and
        which keep today's exposure (no layer for them in this study area).

    Returns
    -------
    Section
    """
    start, end = (int(x) for x in period.split("-"))
    share = (exposure["exposed_population"].sel(year=slice(start, end)).mean("year").sum("region")
             / exposure["population"].sel(year=slice(start, end)).mean("year").sum("region"))
    share0 = (exposure["exposed_population_baseline"].sum("region") / exposure["population_baseline"].sum("region"))
    rows = []
    for h in exposure["hazard"].values:
        row: dict[str, Any] = {"hazard": str(h),
                               "indicator (threshold)": f"{exposure['hazard_indicator'].sel(hazard=h).item()} ("
                               f"{exposure['hazard_threshold'].sel(hazard=h).item()})",
                               "today (% of people exposed)": f"{float(share0.sel(hazard=h).median()) * 100:.1f}"}
        for s in scenarios:
            v = share.sel(hazard=h, scenario=s)
            row[f"{s} {period} (% exposed, model range)"] = (
                f"{float(v.median()) * 100:.1f} ({float(v.min()) * 100:.1f}-{float(v.max()) * 100:.1f})")
        row["source"] = str(exposure["hazard_source"].sel(hazard=h).item()) if "hazard_source" in exposure.coords \
            else ""
        rows.append(row)
    tables = [ReportTable(pd.DataFrame(rows), caption=(
        "Share of the study area's people exposed to each hazard today (baseline window, observed climatology) "
        f"and in {period} per scenario: median of the climate models and their range. Each layer's data and "
        "method are named in the last column (docs/hazards.md)."))]
    emulated = [str(h) for h, e in zip(exposure["hazard"].values, exposure["hazard_emulated"].values, strict=True)
                if str(e) == "true"] if "hazard_emulated" in exposure.coords else []
    text = ("The hazards come from real data: each climate model's own warming, the IPCC AR6 Chapter-12 change "
            "per degree of warming (the model keeps one position in the range across models), and observed "
            "years resampled for year-to-year variability.")
    if emulated:
        text += (f" Not so for {', '.join(emulated)}: these come from the fallback emulator (seeded fields, not "
                 "data), and their results should not be used for planning.")
    if displacement_hazards:
        layers = [str(h) for h in exposure["hazard"].values]
        driven = {t: (layer_map or {}).get(t) for t in displacement_hazards}
        driven = {t: v for t, v in driven.items() if v in layers}
        held = [t for t in displacement_hazards if t not in driven]
        text += ("\n\nWhich layer drives each kind of displacement: "
                 + ("; ".join(f"{t}: the {v} layer" for t, v in driven.items()) or "none") + ".")
        if held:
            text += (f" Displacement by {', '.join(held)} keeps today's exposure (no layer of this study area is "
                     "mapped to it in mobility.displacement.hazard_layer_map), so its projected change comes from "
                     "population and income only.")
    if elasticity is not None and len(elasticity):
        lines = []
        for _, r in elasticity.iterrows():
            if bool(r["identified"]):
                lines.append(f"{r['hazard']}: learnt from {r['source']}, {r['posterior_mean']:.2f} "
                             f"(sd {r['posterior_sd']:.2f}, prior sd {r['prior_sd']:.2f})")
            else:
                lines.append(f"{r['hazard']}: not identified by the record, so the prior "
                             f"{r['prior_mean']:.2f} (sd {r['prior_sd']:.2f}) is used ({r['source']})")
        text += ("\n\nHow strongly displacement follows the hazard (the exposure elasticity: +1 % exposure gives "
                 "+elasticity % displacement in years with displacement): " + "; ".join(lines) + ".")
        tables.append(ReportTable(elasticity.round(3), caption=(
            "Exposure elasticity per hazard: prior and posterior of the displacement fit. 'identified' means the "
            "observed historical intensity narrowed the prior to half its width or less.")))
    return Section(title="Climate hazards: data, change and effect", text=text, tables=tables)


def ssp_section(exposure: xr.Dataset) -> Section:
    """Which SSP model each country's population and income series come from, and any fallback.

    Parameters
    ----------
    exposure : xr.Dataset
        The run's exposure (attrs ``climmig_ssp_population_models``, ``climmig_ssp_income_models``,
        ``climmig_ssp_population_model``, ``climmig_ssp_income_model``, ``climmig_ssp_fallback``,
        ``climmig_ssp_population_income_gap``; older runs without them give a one-line section).

    Returns
    -------
    Section
    """
    def models(key: str) -> dict[str, str]:
        text = str(exposure.attrs.get(key, ""))
        return dict(part.split(": ", 1) for part in text.split(", ")) if text else {}

    pop, inc = models("climmig_ssp_population_models"), models("climmig_ssp_income_models")
    title = "Population and income futures: SSP series used"
    if not pop and not inc:
        return Section(title=title, text="This run's exposure does not record which SSP models were used.")
    want_pop = str(exposure.attrs.get("climmig_ssp_population_model", ""))
    want_inc = str(exposure.attrs.get("climmig_ssp_income_model", ""))
    rows = [{"country": c, "population series": pop.get(c, ""), "income series (GDP|PPP)": inc.get(c, ""),
             "fallback": ", ".join(what for what, used, want in (("population", pop.get(c), want_pop),
                                                                 ("income", inc.get(c), want_inc))
                                   if want and used and used != want) or "none"}
            for c in sorted(set(pop) | set(inc))]
    text = (f"Population follows the SSP model {want_pop or '(the table has one)'} and income (GDP per head) "
            f"the model {want_inc or '(the table has one)'}, as configured.")
    fallback = str(exposure.attrs.get("climmig_ssp_fallback", ""))
    if fallback:
        text += (" The SSP database does not hold every country under every model, so some countries take "
                 f"another model's series (the documented fallback, docs/ssp.md): {fallback}.")
    gap = str(exposure.attrs.get("climmig_ssp_population_income_gap", ""))
    if gap:
        text += (" For some countries the income model assumes a population that differs from the population "
                 f"series by more than 5 % in the base year, so GDP per head mixes the two: {gap}.")
    return Section(title=title, text=text, tables=[ReportTable(pd.DataFrame(rows), caption=(
        "SSP model of each country's population and income series (SSP Database v2). 'fallback' names the "
        "series that came from another model than the configured one."))])
