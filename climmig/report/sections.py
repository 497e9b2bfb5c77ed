"""Ready-made report sections with plain-language captions built from the projection and comparison."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd
import xarray as xr

from climmig.report.html import ReportFigure, ReportTable, Section
from climmig.report.plots import (
    averted_vs_cost,
    change_map,
    fan_chart,
    flows_bars,
    observed_vs_simulated,
    ranked_bars,
    society_dots,
    uncertainty_by_horizon,
    uncertainty_partition,
)
from climmig.report.tables import comparison_table

__all__ = ["change_section", "climate_share", "climate_share_sentence", "comparison_section", "flows_section", "hazards_section", "plausibility_section", "projection_section",
           "society_section"]

logger = logging.getLogger(__name__)


def _n(x: float) -> str:
    ax = abs(x)
    if ax >= 1e6:
        return f"{x / 1e6:.1f} million"
    if ax >= 1e4:
        return f"{x / 1e3:.0f} thousand"
    return f"{x:,.0f}"


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


def society_section(attribution: xr.Dataset, *, period: str, level: float = 0.9) -> Section:
    """Why the scenarios differ: climate against population and income, with a figure and a table.

    Parameters
    ----------
    attribution : xr.Dataset
        :func:`climmig.projection.attribution.scenario_attribution` output.
    period : str
        The years averaged, e.g. ``"2081-2100"``.
    level : float
        Interval probability.

    Returns
    -------
    Section
    """
    ref = str(attribution.attrs.get("climmig_reference_society", ""))
    scen = [str(s) for s in attribution["scenario"].values]
    lo, hi = (1 - level) / 2, (1 + level) / 2
    pooled = [d for d in attribution["projected"].dims if d != "scenario"]
    q = {v: attribution[v].quantile([lo, 0.5, hi], dim=pooled).compute() for v in ("projected", "reference_society")}
    med = {v: {sc: float(q[v].sel(scenario=sc, quantile=0.5)) for sc in scen} for v in q}
    pop = {sc: float(attribution["population"].sel(scenario=sc)) for sc in scen}
    gdp = {sc: float(attribution["gdp_per_capita"].sel(scenario=sc)) for sc in scen}
    order_p = sorted(scen, key=med["projected"].get)
    order_r = sorted(scen, key=med["reference_society"].get)
    low, high = order_r[0], order_r[-1]
    ga = attribution["gdp_per_capita"].attrs
    units = str(ga.get("units", "USD")) + (f" of {ga['price_year']}" if "price_year" in ga else "")
    storyline = "; ".join(f"{sc.upper()} {_n(pop[sc])} people with GDP per capita of about {gdp[sc]:,.0f} "
                          f"{units}" for sc in scen)
    text = (
        "Each scenario is a whole storyline: besides emissions, it sets how many people will live in the study "
        f"area and how rich they will be. In {period}: {storyline}. More people means more people who can be "
        "displaced, and income changes how many of the people exposed are displaced (the model learns by how "
        f"much from the record). To separate the climate from the society, every scenario is projected again with "
        f"{ref.upper()}'s people and incomes: what then differs between scenarios is the climate alone.\n\n"
        f"With {ref.upper()}'s people and incomes, displacement in {period} goes from about "
        f"{_n(med['reference_society'][low])} a year under {low.upper()} to {_n(med['reference_society'][high])} "
        f"under {high.upper()} (medians): that difference is the climate's part.")
    if order_p != order_r:
        text += (" The order of the scenarios changes when they share the same people and incomes, so the "
                 "differences between the projected scenarios come more from population and income than from "
                 "the climate. " + " ".join(
                     f"{sc.upper()}: {_n(med['projected'][sc])} as projected, "
                     f"{_n(med['reference_society'][sc])} with {ref.upper()}'s people and incomes."
                     for sc in scen if sc != ref))
    rows = []
    for sc in scen:
        a, b = q["projected"].sel(scenario=sc).values, q["reference_society"].sel(scenario=sc).values
        rows.append({"scenario": sc.upper(), "people": _n(pop[sc]), f"GDP per capita ({units})": f"{gdp[sc]:,.0f}",
                     "displaced per year, as projected": f"{_n(a[1])} ({_n(a[0])} to {_n(a[2])})",
                     f"with {ref.upper()}'s people and incomes": f"{_n(b[1])} ({_n(b[0])} to {_n(b[2])})"})
    fig = ReportFigure(
        society_dots(attribution, level=level),
        f"People displaced per year in {period}, each scenario as projected (filled) and with {ref.upper()}'s "
        f"people and incomes (open). Dots are medians and lines {int(level * 100)} % intervals. Both use the "
        "same simulated futures, so their difference comes from population and income only.")
    table = ReportTable(pd.DataFrame(rows), f"Population, income and displacement per year in {period} "
                                            f"(medians, {int(level * 100)} % intervals).")
    return Section("Why the scenarios differ", text, figures=[fig], tables=[table])


def comparison_section(comparison: xr.Dataset, *, scenario: str | None = None, level: float = 0.9) -> Section:
    """Ranked options per horizon, benefit against cost, and the headline table.

    Parameters
    ----------
    comparison : xr.Dataset
        :func:`climmig.interventions.compare_interventions` output.
    scenario : str, optional
        Scenario for the figures (default the last, usually the highest-emission one).
    level : float
        Interval probability in the table.

    Returns
    -------
    Section
    """
    scen = scenario or str(comparison["scenario"].values[-1])
    last = str(comparison["horizon"].values[-1])
    table = comparison_table(comparison, level=level)
    best = table[(table["scenario"] == scen) & (table["horizon"] == last)].sort_values("prob_best").iloc[-1]
    text = (
        "Each option is compared with doing nothing, in the same simulated futures, so that differences "
        "come from the option and not from chance. 'Averted' counts displacements that do not happen. "
        "Costs are discounted to today's money. 'Chance of any benefit' is the share of simulated futures "
        "in which the option averts displacement; 'chance of being best' is the share in which it averts "
        "the most.\n\n"
        f"Under {scen.upper()}, in the {last} period, the option most often best is {best['intervention']} "
        f"({best['prob_best'] * 100:.0f} % of simulated futures), averting about {_n(best['averted_median'])} "
        f"displacements (90 % interval {_n(best['averted_lower'])} to {_n(best['averted_upper'])}).")
    first_year = int(comparison.attrs.get("climmig_cumulative_from_year", 0)) or None
    since = f"{first_year} to the period's end" if first_year else "from the first year to the period's end"
    cols = {"intervention": "option", "timescale": "timescale", "scenario": "scenario", "horizon": "period",
            "averted_median": "averted in the period (median)", "averted_lower": "averted (low)",
            "averted_upper": "averted (high)", "cost_median": "discounted cost in the period (median)",
            "cost_per_person_median": f"cost per person averted, {since} (median)",
            "prob_benefit": "chance of any benefit", "prob_best": "chance of being best"}
    shown = table[list(cols)].rename(columns=cols)
    for c in ("chance of any benefit", "chance of being best"):
        shown[c] = [f"{v * 100:.0f} %" for v in shown[c]]
    currency = comparison["discounted_cost"].attrs.get("currency", "")
    figs = [
        ReportFigure(ranked_bars(comparison, scenario=scen),
                     f"Displacements averted by each option under {scen.upper()}, one panel per period, best at the "
                     "top. Dots are medians, thick bars hold half of the simulated futures and thin lines 90 %. "
                     "A bar crossing the dashed zero line means the option may not help."),
        ReportFigure(averted_vs_cost(comparison, scenario=scen, horizon=last),
                     f"Benefit (right is better) against discounted cost in million {currency} (lower is "
                     f"cheaper), both added up {since.replace('the period', f'the {last} period')}: what was "
                     "spent early counts for what it averts later. The dashed rays mark constant costs per "
                     "person averted; options toward the lower right give the most for the money."),
    ]
    return Section("Comparing options", text, figures=figs, tables=[ReportTable(
        shown, f"Headline results by option, scenario and period ({int(level * 100)} % intervals; costs in "
               f"{currency}). 'Averted' and 'discounted cost' count the period's years only; the cost per person "
               f"averted divides everything spent by everything averted {since}, so an option that has stopped "
               "spending (or averting) in a period still shows what its people averted cost.")])


def flows_section(internal: xr.DataArray, cross_border: xr.DataArray, *, period: str = "",
                  level: float = 0.9) -> Section:
    """Internal against cross-border movement per country: figure (log axis) and a table of medians.

    Parameters
    ----------
    internal, cross_border : xr.DataArray
        Draws (sample[, climate_model], region) for one scenario and period. If ``cross_border`` carries
        the emigration-bound attrs of :func:`climmig.mobility.migration.predict_flows`, the text says how
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
                 "the model projects today's monitoring (its reporting trend is held at the last calibration "
                 "year).")
        shown = by_hazard.assign(**{c: by_hazard[c].round(0) for c in ("model_mean", "model_lower", "model_upper",
                                                                      "record_mean", "record_mean_monitored")})
        tables.append(ReportTable(shown.assign(ratio=by_hazard["ratio"].round(2)), (
            f"Mean yearly displacement projected for {a.get('years', '')} under {a.get('scenario', '')} (with its 90 % "
            f"interval over draws and climate models) beside IDMC's mean over {a.get('record_years', '')} and over "
            "the years it monitored the hazard; ratio = model mean / monitored-period record; the factor-of-2 "
            "check applies where the record has enough recorded years.")))
    return Section("Does the model match the record?", text, figures=[ReportFigure(
        observed_vs_simulated(simulated, observed),
        "Blue: simulated yearly displacement today (median and 90 % interval). Green: IDMC's recorded "
        "displacement in the median year (whiskers: lowest and highest recorded year, where available).")],
        tables=tables)


def hazards_section(exposure: xr.Dataset, elasticity: pd.DataFrame | None, *, period: str,
                    scenarios: Sequence[str]) -> Section:
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


def change_section(attribution: xr.Dataset, level: float = 0.9) -> Section:
    """The change from today split into population, vulnerability and climate, and vulnerability held.

    Parameters
    ----------
    attribution : xr.Dataset
        :func:`climmig.projection.attribution.change_attribution`.
    level : float
        Interval width.

    Returns
    -------
    Section
    """
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    pooled = ("sample", "climate_model")
    today, period = attribution.attrs.get("climmig_today", ""), attribution.attrs.get("climmig_period", "")

    def cell(da: xr.DataArray) -> str:
        q = da.quantile([lo, 0.5, hi], dim=pooled).values
        return f"{_n(q[1])} ({_n(q[0])} to {_n(q[2])})"

    rows = []
    for s in [str(x) for x in attribution["scenario"].values]:
        a = attribution.sel(scenario=s)
        rows.append({"scenario": s, f"today ({today})": cell(a["level"].sel(step="today")),
                     "population": cell(a["part"].sel(component="population")),
                     "vulnerability (income, livelihoods)": cell(a["part"].sel(component="vulnerability")),
                     "climate": cell(a["part"].sel(component="climate")),
                     f"projected {period}": cell(a["level"].sel(step="+climate")),
                     "vulnerability held at today's level": cell(a["vulnerability_held"])})
    text = (f"How the expected yearly displacement changes from today ({today}) to {period}, and why. The change is "
            "split in a fixed order: first the population path, then vulnerability (income and the shares of "
            "agricultural employment and rural population), then the climate (the change of the share of people "
            "exposed). The last column keeps vulnerability at today's level while population and climate change "
            "(the convention of Kam et al. 2021), so the climate's effect is not hidden by decades of income "
            "growth. Expected rates, median and 90 % interval over model parameters and climate models.")
    return Section("What drives the change from today", text, tables=[ReportTable(pd.DataFrame(rows), (
        "Expected displacements per year: today's level, the change added by each driver, the full projection and "
        "the projection with vulnerability held at today's level."))])
