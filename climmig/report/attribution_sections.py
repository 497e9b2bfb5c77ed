"""Report sections on why the projection differs: between scenarios (climate or society) and from today.

:func:`society_section` sets each scenario against the same futures with one scenario's people and
incomes; :func:`change_section` splits the change from today into population, vulnerability and climate.
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from climmig.report.html import ReportFigure, ReportTable, Section
from climmig.report.projection_plots import society_dots
from climmig.report.wording import _n

__all__ = ["change_section", "society_section"]


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


def change_section(attribution: xr.Dataset, level: float = 0.9, income: pd.DataFrame | None = None) -> Section:
    """The change from today split into population, vulnerability and climate, and vulnerability held.

    Parameters
    ----------
    attribution : xr.Dataset
        :func:`climmig.projection.attribution.change_attribution`.
    level : float
        Interval width.
    income : pandas.DataFrame, optional
        :func:`climmig.displacement.model.income_coefficients` of the fit: its GDP rows are shown.

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
