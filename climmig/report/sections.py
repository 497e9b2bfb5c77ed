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
           "society_section", "ssp_section"]

logger = logging.getLogger(__name__)


def _n(x: float) -> str:
    ax = abs(x)
    if ax >= 1e9:
        return f"{x / 1e9:.1f} billion"
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


_LEVELS = ("unilateral", "bilateral", "regional", "multilateral")


def _mi(m: float, lo: float, hi: float) -> str:
    return f"{_n(m)} (90 % interval {_n(lo)} to {_n(hi)})"


def _warning_text(cmp: xr.Dataset, scen: str, last: str) -> str:
    """Why recorded displacement can rise, with the numbers of the first warning-type option."""
    kinds = [str(k) for k in cmp["kind"].values]
    warn = [str(i) for i, k in zip(cmp["intervention"].values, kinds, strict=True)
            if k in ("early_warning", "anticipatory_cash")]
    if not warn or "averted_recorded" not in cmp:
        return ""
    iv = "early_warning" if "early_warning" in warn else warn[0]
    sel = cmp.sel(intervention=iv, scenario=scen, horizon=last).sum("region")
    q = {v: (sign * sel[v]).quantile([0.05, 0.5, 0.95], dim="sample").values
         for v, sign in (("averted_recorded", -1.0), ("evacuation_change", 1.0), ("averted_unwarned", -1.0))}
    p_up = float((sel["averted_recorded"] < 0).mean())
    return (
        "Why recorded displacement can rise. IDMC counts pre-emptive evacuations as displacements, and most of "
        "Bangladesh's 4 million recorded displacements of 2019 were life-saving evacuations before two cyclones. "
        "A warning moves people before the event: some of them would have fled without warning or lost their "
        "homes, others would not have been displaced at all. So warnings lower displacement without prior "
        "warning and raise evacuations, and IDMC's recorded figure can go up while harm goes down.\n\n"
        f"Under {scen.upper()}, in the {last} period, {iv} changes recorded displacement by "
        f"{_mi(*q['averted_recorded'][[1, 0, 2]])}, evacuations by {_mi(*q['evacuation_change'][[1, 0, 2]])} "
        f"and displacement without warning by {_mi(*q['averted_unwarned'][[1, 0, 2]])}; recorded displacement "
        f"rises in {p_up * 100:.0f} % of simulated futures.")


def _fmt_table(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = [_n(v) if pd.notna(v) and abs(v) >= 1e4 else v for v in out[c]]
    return out


def comparison_section(comparison: xr.Dataset, *, scenario: str | None = None, level: float = 0.9) -> Section:
    """The decision analysis: outcomes by part, the equal-budget ranking, who pays and who benefits.

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
    from climmig.report.plots import frontier_plot, outcome_split_bars
    from climmig.report.tables import benefit_by_country, cost_by_financier, headline_table

    scen = scenario or str(comparison["scenario"].values[-1])
    last = str(comparison["horizon"].values[-1])
    table = comparison_table(comparison, level=level)
    currency = comparison["discounted_cost"].attrs.get("currency", "")
    metric = comparison.attrs.get("climmig_metric", "unwarned_displacement")
    metric_words = {"unwarned_displacement": "displacement without prior warning",
                    "recorded_displacement": "recorded displacement"}.get(metric, metric)
    rate = comparison["discounted_cost"].attrs.get("discount_rate", "")
    sub = table[(table["scenario"] == scen) & (table["horizon"] == last)]
    has_rank = "in_budget_ranking" in sub
    ranked = sub[sub["in_budget_ranking"].astype(bool)] if has_rank else sub
    first_year = int(comparison.attrs.get("climmig_cumulative_from_year", 0)) or None
    since = f"{first_year} to the period's end" if first_year else "from the first year to the period's end"
    paras = [
        "Each option is compared with doing nothing, in the same simulated futures, so that differences come from "
        "the option and not from chance. Displacement is split into three parts: recorded displacement (IDMC's "
        "measure, which counts pre-emptive evacuations), pre-emptive evacuations, and displacement without prior "
        f"warning. Options are ranked by the {metric_words} they avert"
        + (", counting the people planned relocation moves against it" if "people_relocated_median" in sub else "")
        + f". Costs and benefits are both discounted at {rate} a year; undiscounted figures are in the CSV."]
    warn = _warning_text(comparison, scen, last)
    if warn:
        paras.append(warn)
    if has_rank and not ranked.empty and ranked["prob_best"].notna().any():
        b = float(comparison["budget"].sel(horizon=last)) if "budget" in comparison else float("nan")
        best = ranked.sort_values("prob_best").iloc[-1]
        paras.append(
            f"Options are compared at an equal budget of {_n(b)} {currency} (discounted, {since}): an option "
            "costing less is funded in full, a dearer one at the share the budget buys, so coverage choices do "
            "not decide the ranking. 'Chance of being best' is the share of simulated futures in which an option "
            f"averts the most at that budget. Under {scen.upper()}, in the {last} period, {best['intervention']} is "
            f"most often best ({best['prob_best'] * 100:.0f} % of futures); it averts "
            f"{_n(best.get('averted_per_million_median', float('nan')))} displacements per million {currency} "
            "(discounted) in the median future. The frontier figure shows which options are dominated.")
    sc = sub[sub["scenario_change"].astype(bool)] if "scenario_change" in sub else sub.iloc[0:0]
    if not sc.empty:
        paras.append(
            "What the scenario change is worth. " + ", ".join(sc["intervention"]) + " change the scenario itself "
            "(a lower-emission world, faster income growth): global or national public goods, not local projects "
            "with a local budget. Their line shows what the change is worth in displacement; they are kept out of "
            "the budget ranking unless the config gives them a cost share.")
    if "migration_change_cross_border_median" in sub:
        paras.append(
            "Migration change is reported on its own and never added to displacement: migration is partly driven "
            "by displacement (adding them would count people twice) and is itself a way of adapting, so an option "
            "is not called better because fewer people migrate. Border options (unilateral, bilateral, regional) "
            "change migration only.")
    flagged = sorted(set(sub.loc[sub.get("evidence_flag", pd.Series(dtype=str)).fillna("") == "assumption",
                                 "intervention"])) if "evidence_flag" in sub else []
    if flagged:
        paras.append("Options marked 'assumption' rest on at least one effect or cost without a published source "
                     "(the evidence table below says which): " + ", ".join(flagged) + ".")

    head = headline_table(table, scenario=scen, horizon=last, currency=currency)
    if "level" in head:
        order = {lv: i for i, lv in enumerate(_LEVELS)}
        scen_change = set(sc["intervention"]) if not sc.empty else set()
        head = head.assign(_g=[(1 if o in scen_change else 0, order.get(lv, 9)) for o, lv in
                               zip(head["option"], head["level"], strict=True)])
        head = head.sort_values("_g", kind="stable").drop(columns="_g")
    tables = [ReportTable(head, f"Options under {scen.upper()}, {last} period, grouped by level of agreement "
                                "(unilateral, bilateral, regional, multilateral), ranked options first and "
                                "scenario changes last. 'Averted' is the ranked outcome "
                                f"({metric_words}); changes are positive when there are more people. P(best) is at "
                                "the equal budget ('-': not in the ranking). 'evidence: assumption' marks options "
                                "with an unsourced effect or cost.")]
    first_cols = {"intervention": "option", "timescale": "timescale", "scenario": "scenario", "horizon": "period",
                  "averted_median": "averted in the period (median)", "averted_lower": "averted (low)",
                  "averted_upper": "averted (high)", "cost_median": "discounted cost in the period (median)",
                  "cost_per_person_median": f"cost per person averted, {since} (median)",
                  "prob_benefit": "chance of any benefit", "prob_best": "chance of being best"}
    if "evidence_flag" in table:
        first_cols["evidence_flag"] = "evidence"
    shown = table[list(first_cols)].rename(columns=first_cols)
    for c in ("chance of any benefit", "chance of being best"):
        shown[c] = [f"{v * 100:.0f} %" if pd.notna(v) else "-" for v in shown[c]]
    tables.append(ReportTable(
        shown, f"All options by scenario and period ({int(level * 100)} % intervals; costs in {currency}). "
               "'Averted' and 'discounted cost' count the period's years only; the cost per person averted divides "
               f"everything spent by everything averted {since}, both discounted at the same rate."))
    if "financier" in comparison.coords:
        fin = cost_by_financier(comparison, scenario=scen, horizon=last)
        fin["share"] = [f"{v * 100:.0f} %" for v in fin["share"]]
        tables.append(ReportTable(_fmt_table(fin), f"Who pays: median discounted cost {since.replace('the period', f'the {last} period')} "
                                               f"by financier ({currency}), under {scen.upper()}."))
        ben = benefit_by_country(comparison, scenario=scen, horizon=last)
        not_border = [str(k) != "border_regime" for k in comparison["kind"].sel(intervention=ben["option"].values).values]
        tables.append(ReportTable(_fmt_table(ben[not_border]), f"Who benefits: median {metric_words} averted by country, "
                                                               f"{last} period, {scen.upper()}."))
        if "migration_change_cross_border" in comparison and not all(not_border):
            mig = benefit_by_country(comparison, scenario=scen, horizon=last, variable="migration_change_cross_border")
            tables.append(ReportTable(_fmt_table(mig[[not b for b in not_border]]),
                                      "Border options: median change in cross-border emigration from each country "
                                      f"(positive = more people leave), {last} period, {scen.upper()}."))
        ev = pd.DataFrame({
            "option": [str(i) for i in comparison["intervention"].values],
            "evidence entry": [str(v) for v in comparison["evidence"].values],
            "effects": [str(v) for v in comparison["effect_basis"].values],
            "costs": [str(v) for v in comparison["cost_basis"].values],
            "declared moves": [str(v) for v in comparison["moves"].values],
            "sources": [(str(e) + ("\n" + str(c) if str(c) else "")) for e, c in
                        zip(comparison["effect_sources"].values, comparison["cost_sources"].values, strict=True)],
        })
        ev = ev[[str(k) != "portfolio" for k in comparison["kind"].values]]
        tables.append(ReportTable(ev, "Evidence behind each option (climmig/data/intervention_evidence.yaml, "
                                      "overridden by the config where it says so): 'assumption' marks values without "
                                      "a published source; 'definition' marks what-if options."))
    figs = [
        ReportFigure(ranked_bars(comparison, scenario=scen),
                     f"{metric_words[0].upper() + metric_words[1:]} averted by each option under {scen.upper()}, one "
                     "panel per period. Dots are medians, thick bars hold half of the simulated futures and thin "
                     "lines 90 %. A bar crossing the dashed zero line means the option may not help."),
    ]
    if "averted_recorded" in comparison:
        figs.append(ReportFigure(outcome_split_bars(comparison, scenario=scen, horizon=last),
                                 "What each option changes in the three parts of displacement (negative = fewer "
                                 "people). Warning-type options add pre-emptive evacuations and remove displacement "
                                 "without warning; IDMC's recorded figure, which counts evacuations, can rise."))
    if has_rank and not ranked.empty:
        figs.append(ReportFigure(frontier_plot(comparison, scenario=scen, horizon=last),
                                 "Cost-effectiveness frontier of the options in the budget ranking: discounted cost "
                                 "against discounted displacement averted, medians with 90 % intervals. Options on "
                                 "the line give the most for their cost; grey ones are dominated (another option, "
                                 "or a mix of two, averts more for less). The dotted line is the equal budget."))
    else:
        figs.append(ReportFigure(averted_vs_cost(comparison, scenario=scen, horizon=last),
                                 "Benefit against discounted cost."))
    return Section("Comparing options", "\n\n".join(paras), figures=figs, tables=tables)


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
        rounded = [c for c in ("model_mean", "model_lower", "model_upper", "record_mean", "record_mean_monitored",
                               "in_sample_mean", "in_sample_median") if c in by_hazard]
        shown = by_hazard.assign(**{c: by_hazard[c].round(0) for c in rounded})
        if "record_percentile" in shown:
            shown = shown.assign(record_percentile=shown["record_percentile"].round(2))
        tables.append(ReportTable(shown.assign(ratio=by_hazard["ratio"].round(2)), (
            f"Mean yearly displacement projected for {a.get('years', '')} under {a.get('scenario', '')} (with its 90 % "
            f"interval over draws and climate models) beside IDMC's mean over {a.get('record_years', '')} and over "
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


def change_section(attribution: xr.Dataset, level: float = 0.9, income: pd.DataFrame | None = None) -> Section:
    """The change from today split into population, vulnerability and climate, and vulnerability held.

    Parameters
    ----------
    attribution : xr.Dataset
        :func:`climmig.projection.attribution.change_attribution`.
    level : float
        Interval width.
    income : pandas.DataFrame, optional
        :func:`climmig.mobility.displacement.income_coefficients` of the fit: its GDP rows are shown.

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
                     "vulnerability held at today's level": cell(a["vulnerability_held"]),
                     **({"livelihood shares on their recorded trend": cell(a["shares_on_trend"])}
                        if "shares_on_trend" in a else {})})
    text = (f"How the expected yearly displacement changes from today ({today}) to {period}, and why. The change is "
            "split in a fixed order: first the population path, then vulnerability (income and the shares of "
            "agricultural employment and rural population), then the climate (the change of the share of people "
            "exposed). The last column keeps vulnerability at today's level while population and climate change "
            "(the convention of Kam et al. 2021), so the climate's effect is not hidden by decades of income "
            "growth. Expected rates, median and 90 % interval over model parameters and climate models.")
    if "shares_on_trend" in attribution:
        full = attribution["level"].sel(step="+climate")
        rel = (attribution["shares_on_trend"] / full).median(pooled)
        moves = ", ".join(f"{s} {float(rel.sel(scenario=s)) - 1:+.0%}" for s in [str(x) for x in rel["scenario"].values])
        text += (" The SSPs give no paths of the agricultural and rural shares, so the projection holds both at "
                 "today's recorded value. The last column lets them keep changing as they did over the record "
                 "(a logit-linear trend per country since 2000, from the WDI); that choice moves the projected "
                 f"level by (median over draws) {moves}.")
    tables = [ReportTable(pd.DataFrame(rows), (
        "Expected displacements per year: today's level, the change added by each driver, the full projection and "
        "the projection with vulnerability held at today's level."))]
    if income is not None and len(income):
        gdp = income[income["covariate"] == "gdp_per_capita"]

        def slope(mean: float, sd: float) -> str:
            return f"{mean:+.2f} ± {sd:.2f}"

        table = pd.DataFrame({
            "hazard": gdp["hazard"], "part": gdp["part"],
            "between countries": [slope(a, b) for a, b in zip(gdp["between_mean"], gdp["between_sd"], strict=True)],
            "within countries (used over time)": [slope(a, b) for a, b in zip(gdp["within_mean"], gdp["within_sd"],
                                                                               strict=True)],
            "P(within < between)": gdp["p_within_below_between"].round(2)})
        text += ("\n\nIncome enters in two parts: the difference between countries (a country's mean GDP per head "
                 "over the calibration years) and the change within a country. Projections apply only the "
                 "within-country slopes to growth over time. The calibration years hold little change within "
                 "countries, so the within slopes are pooled towards the between slopes and are less certain.")
        tables.append(ReportTable(table, (
            "Slopes of GDP per head in the displacement model, per standard deviation of log GDP per head across "
            "the calibration data (posterior mean ± sd). 'size': log displacement in a year with displacement; "
            "'occurrence': log-odds that displacement is recorded.")))
    return Section("What drives the change from today", text, tables=tables)


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
