"""Report: every figure renders from synthetic data, PNGs are written atomically, HTML is self-contained."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

from climmig.config.schema import ComparisonSpec, InterventionSpec, PortfolioSpec
from climmig.interventions import ProjectionState, compare_interventions
from climmig.projection import partition_variance
from climmig.report import (
    ReportFigure,
    ReportTable,
    Section,
    averted_vs_cost,
    change_map,
    comparison_table,
    fan_chart,
    flows_bars,
    headline_table,
    interval_table,
    observed_vs_simulated,
    ranked_bars,
    save_figure,
    uncertainty_by_horizon,
    uncertainty_partition,
    write_html_report,
)
from tests.interventions.conftest import ER_HAZARDS, N, make_drivers, make_outcome_fn, make_regimes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo():
    rng = np.random.default_rng(3)
    state = ProjectionState.baseline(make_drivers(rng), N, regimes=make_regimes(), hazards=ER_HAZARDS)
    fn = make_outcome_fn(rng)
    out = fn(state)
    specs = [
        InterventionSpec(id="cash", kind="anticipatory_cash", timescale="short", start_year=2026, coverage=0.5,
                         effect={"dist": "Beta", "params": {"alpha": 4, "beta": 16}},
                         cost={"unit_cost": 60}),
        InterventionSpec(id="warning", kind="early_warning", timescale="medium", start_year=2027, ramp_years=3,
                         effect={"dist": "Beta", "params": {"alpha": 3, "beta": 12}},
                         cost={"unit_cost": 5, "running_cost": 1}),
        InterventionSpec(id="paris", kind="mitigation", timescale="long", start_year=2028, ramp_years=5,
                         params={"target_scenario": "ssp126"},
                         effect={"dist": "Uniform", "params": {"lower": 0.7, "upper": 1.0}}),
    ]
    cmp = compare_interventions(state, specs, [PortfolioSpec(id="cash_and_warning", members=["cash", "warning"])],
                                fn, [("near", 2025, 2029), ("mid", 2030, 2035)], ComparisonSpec(),
                                np.random.default_rng(0))
    return state, out, cmp


def test_fan_chart_and_partition(demo, tmp_path):
    _, out, _ = demo
    disp = out["displaced_persons"].sum(["hazard", "region"])
    fig = fan_chart(disp, title="Displacement")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    p = save_figure(fig, tmp_path / "fan.png")
    assert p.read_bytes()[:8] == PNG_MAGIC
    assert not list(tmp_path.glob(".*tmp*"))
    part = partition_variance(disp, disp)
    fig = uncertainty_partition(part)
    assert len(fig.axes[0].collections) == 4
    from climmig.projection import horizon_mean

    hz = [("near", 2025, 2029), ("mid", 2030, 2035)]
    part_h = partition_variance(horizon_mean(disp, hz), horizon_mean(disp, hz))
    fig = uncertainty_by_horizon(part_h)
    ax = fig.axes[0]
    assert [t.get_text().split("\n")[0] for t in ax.get_yticklabels()] == ["near", "mid"]
    # 4 sources x 2 horizons of stacked bars, each horizon's bars add up to 100 %
    widths = np.array([r.get_width() for r in ax.patches]).reshape(4, 2)
    np.testing.assert_allclose(widths.sum(0), 100.0)


def test_comparison_figures_and_table(demo):
    _, _, cmp = demo
    fig = ranked_bars(cmp, scenario="ssp585")
    assert len(fig.axes) == 2
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert set(ticks) == {"cash", "warning", "paris", "cash_and_warning"}
    fig = averted_vs_cost(cmp, scenario="ssp585", horizon="mid")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert sorted(legend) == sorted(["cash", "warning", "paris", "cash_and_warning"])
    # the points are cumulative from the first year (the ratio behind the cost per person), not the
    # horizon's own totals: money spent before the horizon still counts
    names = list(cmp["intervention"].values)
    cash = fig.axes[0].containers[names.index("cash")].lines[0]
    cum = cmp.sel(intervention="cash", scenario="ssp585", horizon="mid").sum("region")
    # benefits discounted like the costs: the slope from the origin is the cost per person averted
    assert float(cash.get_xdata()[0]) == pytest.approx(float(cum["cumulative_averted_discounted"].median("sample")))
    assert float(cash.get_ydata()[0]) == pytest.approx(float(cum["cumulative_cost"].median("sample")) / 1e6)
    assert float(cum["cumulative_cost"].median()) > float(cum["discounted_cost"].median())
    assert "to 20" in fig.axes[0].get_xlabel()
    table = comparison_table(cmp)
    assert len(table) == 4 * 2 * 2
    row = table.query("intervention == 'cash' and scenario == 'ssp585' and horizon == 'mid'").iloc[0]
    tot = cmp["averted_displacement"].sel(intervention="cash", scenario="ssp585", horizon="mid").sum("region")
    assert row["averted_median"] == pytest.approx(float(tot.median("sample")))
    assert row["averted_lower"] <= row["averted_median"] <= row["averted_upper"]
    assert row["timescale"] == "short"
    cross = cmp["migration_change_cross_border"].sel(intervention="cash", scenario="ssp585", horizon="mid").sum("region")
    assert row["migration_change_cross_border_median"] == pytest.approx(float(cross.median("sample")))
    assert (row["migration_change_internal_lower"] <= row["migration_change_internal_median"]
            <= row["migration_change_internal_upper"])
    # mitigation costs nothing configured: infinite cost per person never appears for a benefit of zero cost
    assert np.isfinite(table.query("intervention == 'cash'")["cost_per_person_median"]).all()


def test_interval_table(demo):
    _, out, _ = demo
    t = interval_table(out["displaced_persons"].sum("hazard").isel(year=0), level=0.9,
                       dim=["sample", "climate_model"])
    assert {"scenario", "region", "mean", "median", "lower", "upper"} <= set(t.columns)
    assert (t["lower"] <= t["median"]).all() and (t["median"] <= t["upper"]).all()


def test_change_map_uses_boundaries():
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import box

    gdf = gpd.GeoDataFrame({"ISO_A3": ["SOM", "KEN", "ETH", "-99"], "ADM0_A3": ["SOM", "KEN", "ETH", "SDS"]},
                           geometry=[box(41, -1, 51, 12), box(34, -5, 42, 5), box(33, 3, 48, 15), box(24, 3, 36, 12)],
                           crs="EPSG:4326")
    values = xr.DataArray([25.0, -10.0, 40.0, 5.0], dims="region", coords={"region": ["SOM", "KEN", "ETH", "SDS"]})
    fig = change_map(gdf, values, title="change")
    labels = {t.get_text().split("\n")[0] for t in fig.axes[0].texts}
    assert labels == {"SOM", "KEN", "ETH", "SDS"}  # SDS found through the ADM0_A3 fallback
    with pytest.raises(ValueError, match="none of the regions"):
        change_map(gdf, pd.Series({"FRA": 1.0}))


def test_flows_and_observed_bars(demo):
    _, out, _ = demo
    fig = flows_bars(out["internal_migration"].isel(year=-1, scenario=0), out["cross_border_migration"].isel(
        year=-1, scenario=0))
    assert len(fig.axes[0].patches) == 6
    sim = pd.DataFrame({"region": ["SOM", "KEN"], "median": [1e5, 5e4], "lower": [5e4, 2e4], "upper": [2e5, 9e4]})
    obs = pd.DataFrame({"region": ["SOM", "KEN"], "observed": [1.2e5, 3e4]})
    fig = observed_vs_simulated(sim, obs)
    assert len(fig.axes[0].patches) == 4
    with pytest.raises(ValueError, match="columns"):
        observed_vs_simulated(sim.drop(columns="upper"), obs)


@pytest.mark.slow
def test_html_report_is_self_contained(demo, tmp_path):
    _, out, cmp = demo
    disp = out["displaced_persons"].sum(["hazard", "region"])
    png = save_figure(fan_chart(disp), tmp_path / "figures" / "fan.png")
    sections = [
        Section("Projected displacement", "How many people may be displaced.\n\nSecond <paragraph>.",
                figures=[ReportFigure(fan_chart(disp), "Median and intervals & more"),
                         ReportFigure(png, "Linked copy")]),
        Section("Options", tables=[ReportTable(comparison_table(cmp), "Headline table", max_rows=5)]),
    ]
    path = write_html_report(tmp_path, sections, title="Demo", metadata={"seed": 1})
    text = path.read_text()
    assert path.name == "report.html" and text.startswith("<!DOCTYPE html>")
    m = re.search(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)
    assert m and base64.b64decode(m.group(1))[:8] == PNG_MAGIC
    assert "src='figures/fan.png'" in text
    assert "Second &lt;paragraph&gt;." in text and "&amp; more" in text
    assert "Showing 5 of 16 rows" in text
    assert "<td>seed</td><td>1</td>" in text


@pytest.mark.slow
def test_ready_made_sections_build_a_report(demo, tmp_path):
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import box

    from climmig.report import comparison_section, flows_section, plausibility_section, projection_section

    _, out, cmp = demo
    disp = out["displaced_persons"].sum("hazard")
    part = partition_variance(disp.sum("region"), disp.sum("region"))
    gdf = gpd.GeoDataFrame({"ISO_A3": ["SOM", "KEN", "ETH"]},
                           geometry=[box(41, -1, 51, 12), box(34, -5, 42, 5), box(33, 3, 48, 15)], crs="EPSG:4326")
    sim = pd.DataFrame({"region": ["SOM", "KEN"], "median": [1e5, 5e4], "lower": [5e4, 2e4], "upper": [2e5, 9e4]})
    obs = pd.DataFrame({"region": ["SOM", "KEN"], "observed": [1.2e5, 1e5]})
    sections = [
        projection_section(disp, part, [("near", 2025, 2029), ("late", 2031, 2035)], boundaries=gdf),
        comparison_section(cmp),
        flows_section(out["internal_migration"].isel(year=-1, scenario=0),
                      out["cross_border_migration"].isel(year=-1, scenario=0), period="2035"),
        plausibility_section(sim, obs),
    ]
    assert len(sections[0].figures) == 3
    assert "the largest source is" in sections[0].figures[2].caption
    assert "inside the simulated interval for 1 of 2 countries" in sections[3].text
    assert "SSP585" in sections[1].text
    text = write_html_report(tmp_path, sections, title="Demo").read_text()
    assert text.count("data:image/png;base64,") == 3 + 3 + 1 + 1  # comparison: ranking, outcome split, frontier
    assert "chance of being best" in text
    # the decision analysis: why recorded displacement can rise, the budget, who pays, who benefits
    assert "Why recorded displacement can rise" in sections[1].text and "equal budget" in sections[1].text
    assert "What the scenario change is worth" in sections[1].text
    assert "Who pays" in text and "Who benefits" in text and "Cost-effectiveness frontier" in text


def test_headline_table_ranks_and_formats(demo):
    _, _, cmp = demo
    table = comparison_table(cmp)
    head = headline_table(table, scenario="ssp585", horizon="mid")
    sub = table.query("scenario == 'ssp585' and horizon == 'mid'")
    # ranked options first (most often best at the budget first), the scenario change (paris) last
    assert head["option"].iloc[-1] == "paris" and head["P(best)"].iloc[-1] == "-"
    ranked = sub[sub["in_budget_ranking"]].sort_values("prob_best", ascending=False)
    assert list(head["option"].iloc[:3]) == list(ranked["intervention"])
    assert len(head) == 4 and head.columns[0] == "option" and "cross-border migration change" in head
    # every averted cell reads "median (lower to upper)"
    assert all(re.fullmatch(r"\S+( [kM])? \(\S+( [kM])? to \S+( [kM])?\)", a) for a in head["averted"])
    assert set(head["P(best)"].iloc[:3].astype(float)) <= {float(x) for x in np.round(sub["prob_best"], 2)}
    with pytest.raises(KeyError, match="no rows for scenario"):
        headline_table(table, scenario="ssp999", horizon="mid")


def _attribution(projected, reference):
    """An attribution dataset: medians per scenario as given, lognormal spread over samples."""
    rng = np.random.default_rng(7)
    scen = list(projected)
    z = rng.normal(0, 0.3, (100, 1, 2))
    noise = np.exp(np.concatenate([z, -z]))  # median 1
    mk = lambda vals: xr.DataArray(np.array(vals)[None, :, None] * noise, dims=("sample", "scenario", "climate_model"),  # noqa: E731
                                   coords={"scenario": scen, "climate_model": ["a", "b"]})
    ds = xr.Dataset({"projected": mk(list(projected.values())), "reference_society": mk(list(reference.values())),
                     "population": ("scenario", [230e6, 305e6, 217e6]),
                     "gdp_per_capita": ("scenario", [18e3, 9.8e3, 32.9e3], {"units": "USD", "price_year": 2005})},
                    coords={"scenario": scen})
    ds.attrs["climmig_reference_society"] = "ssp245"
    return ds


def test_society_section_says_when_the_society_reorders_the_scenarios(tmp_path):
    from climmig.report import society_section

    flipped = _attribution({"ssp126": 0.85e6, "ssp245": 1.9e6, "ssp585": 1.05e6},
                           {"ssp126": 1.5e6, "ssp245": 1.9e6, "ssp585": 2.6e6})
    sec = society_section(flipped, period="2081-2100")
    assert "from about 1.5 million a year under SSP126 to 2.6 million under SSP585" in sec.text
    assert "The order of the scenarios changes" in sec.text
    assert "305.0 million people" in sec.text and "USD of 2005" in sec.text
    table = sec.tables[0].table
    assert list(table["scenario"]) == ["SSP126", "SSP245", "SSP585"]
    assert table.iloc[2]["with SSP245's people and incomes"].startswith("2.6 million (")
    kept = _attribution({"ssp126": 1.2e6, "ssp245": 1.9e6, "ssp585": 2.2e6},
                        {"ssp126": 1.5e6, "ssp245": 1.9e6, "ssp585": 2.6e6})
    assert "The order of the scenarios changes" not in society_section(kept, period="2081-2100").text
    text = write_html_report(tmp_path, [sec], title="Demo").read_text()
    assert text.count("data:image/png;base64,") == 1 and "Why the scenarios differ" in text
