"""The decision-analysis report section: outcomes by part, equal-budget ranking, who pays, who benefits."""

from __future__ import annotations

import pandas as pd
import xarray as xr

from climmig.report.html import ReportFigure, ReportTable, Section
from climmig.report.intervention_plots import averted_vs_cost, ranked_bars
from climmig.report.tables import comparison_table
from climmig.report.wording import _n

__all__ = ["comparison_section"]


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
    from climmig.report.intervention_plots import frontier_plot, outcome_split_bars
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
