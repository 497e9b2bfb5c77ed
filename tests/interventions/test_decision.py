"""The decision analysis: outcome split, evidence table and flags, costs, equal-budget ranking, frontier."""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pydantic import ValidationError

from climmig.config.schema import ComparisonSpec, InterventionSpec
from climmig.interventions import (
    ProjectionState,
    annual_cost,
    compare_interventions,
    cost_draws,
    cost_effectiveness_frontier,
    evidence_table,
    outcome_parts,
)
from climmig.interventions.evidence import basis_of, cost_basis, effect_basis

from .conftest import ER_HAZARDS, N

HORIZONS = [("near", 2025, 2029), ("mid", 2030, 2035)]


def fixed(v, source="a test source (2024)"):
    return {"dist": "Fixed", "params": {"value": v}, "source": source}


def share(values: dict[str, float]) -> xr.DataArray:
    return xr.DataArray(np.tile([values[h] for h in ER_HAZARDS], (N, 1)), dims=("sample", "hazard"),
                        coords={"sample": np.arange(N), "hazard": ER_HAZARDS})


# ------------------------------------------------------------------------------------------- evidence table
def test_every_evidence_entry_builds_a_spec_with_sources_or_flags():
    table = evidence_table()
    assert table["currency"] == "USD" and table["price_year"] == 2020
    for eid, e in table["entries"].items():
        if e["kind"] == "border_regime":
            continue
        sp = InterventionSpec(id="x", evidence=eid, start_year=2030, params={"capacity_per_year": 10,
                                                                              "target_scenario": "ssp126"})
        assert sp.kind == e["kind"] and sp.timescale == e["timescale"]
        assert sp.level in ("unilateral", "bilateral", "regional", "multilateral") and sp.financier and sp.good
        for d in (sp.effect, *sp.effects.values()):
            assert d.source and basis_of(d.source) in ("sourced", "assumption", "definition"), eid
        assert sp.moves, eid
        if sp.cost is not None:
            # every cost part is a distribution with its own source (costs are drawn in the comparison)
            parts = [getattr(sp.cost, f) for f in ("unit_cost", "running_cost", "fixed_cost", "per_activation",
                                                   "activations_per_year")]
            assert all(p.source for p in parts if hasattr(p, "dist")), eid
            assert any(hasattr(p, "dist") for p in parts), eid
    # what-if options are definitions, not evidence; judgement is flagged
    assert effect_basis(InterventionSpec(id="p", evidence="paris_pathway", start_year=2030,
                                         params={"target_scenario": "ssp126"})) == "definition"
    assert basis_of(None) == "assumption" and basis_of("assumption: mine") == "assumption"
    assert basis_of("Pople et al. (2021)") == "sourced"


def test_config_overrides_the_entry_and_unsourced_overrides_are_flagged():
    base = InterventionSpec(id="c", evidence="anticipatory_cash", start_year=2026)
    assert base.kind == "anticipatory_cash" and base.cost.per_activation.dist == "Triangular"
    assert cost_basis(base) == "sourced"  # per-activation cost and trigger frequency are both sourced
    over = InterventionSpec(id="c", evidence="anticipatory_cash", start_year=2026, coverage=0.3,
                            cost={"per_activation": 25.0}, level="regional")
    assert over.coverage == 0.3 and over.level == "regional" and over.financier == "donors (UN pooled funds)"
    assert over.cost.per_activation == 25.0 and over.cost.activations_per_year.dist == "Beta"  # merged by key
    assert cost_basis(over) == "assumption"  # a number without a source
    sourced = InterventionSpec(id="c", evidence="anticipatory_cash", start_year=2026,
                               cost={"per_activation": 25.0, "source": "WFP (2023) programme budget"})
    assert cost_basis(sourced) == "sourced"
    with pytest.raises(ValidationError, match="did you mean 'early_warning'"):
        InterventionSpec(id="e", evidence="early_warnin", start_year=2026)
    with pytest.raises(ValidationError, match="is of kind 'early_warning'"):
        InterventionSpec(id="e", evidence="early_warning", kind="flood_protection", start_year=2026)
    with pytest.raises(ValidationError, match="counts people twice"):
        ComparisonSpec(metric="displacement_and_migration")
    assert ComparisonSpec(metric="displacement").metric == "recorded_displacement"


# ------------------------------------------------------------------------------------------- outcome split
def test_outcome_parts_add_up_and_follow_the_hand_computed_split(state, expected_fn):
    phi = share({"flood": 0.2, "storm": 0.5, "drought": 0.0})
    d = expected_fn(state)["displaced_persons"]
    parts = outcome_parts(d, state, phi)
    # without warning-type options recorded displacement is the projection itself
    xr.testing.assert_allclose(parts["recorded_displacement"], d)
    xr.testing.assert_allclose(parts["preemptive_evacuations"].sel(hazard="storm"), 0.5 * d.sel(hazard="storm"))
    xr.testing.assert_allclose(parts["unwarned_displacement"].sel(hazard="drought"), d.sel(hazard="drought"))
    xr.testing.assert_allclose(parts["preemptive_evacuations"] + parts["unwarned_displacement"],
                               parts["recorded_displacement"])


def test_early_warning_raises_evacuations_and_recorded_displacement(state, expected_fn):
    phi = share({"flood": 0.2, "storm": 0.5, "drought": 0.0})
    ew = InterventionSpec(id="ew", kind="early_warning", timescale="short", start_year=2025,
                          target_hazards=["flood"], effect=fixed(0.4),
                          effects={"evacuations_per_averted": fixed(2.5)})
    ds = compare_interventions(state, [ew], [], expected_fn, HORIZONS, ComparisonSpec(discount_rate=0.0),
                               np.random.default_rng(0), evacuation_share=phi).sel(intervention="ew")
    flood = expected_fn(state)["displaced_persons"].sel(hazard="flood")
    from climmig.interventions.compare import pool_samples
    from climmig.projection.uncertainty import horizon_sum

    unwarned_flood = pool_samples(horizon_sum(0.8 * flood, HORIZONS)).transpose(*ds["averted_unwarned"].dims)
    # displacement without warning falls by s = 0.4 of the flood's; 2.5 evacuations for each one avoided
    np.testing.assert_allclose(ds["averted_unwarned"].values, 0.4 * unwarned_flood.values, rtol=1e-10)
    np.testing.assert_allclose(ds["evacuation_change"].values, 2.5 * 0.4 * unwarned_flood.values, rtol=1e-10)
    # recorded displacement (IDMC's, with evacuations) rises by (2.5 - 1) x 0.4 of it
    np.testing.assert_allclose(ds["averted_recorded"].values, -1.5 * 0.4 * unwarned_flood.values, rtol=1e-10)
    assert bool((ds["averted_recorded"] < 0).all()) and bool((ds["averted_unwarned"] > 0).all())
    # the ranked outcome is displacement without warning (the default metric)
    xr.testing.assert_allclose(ds["averted_displacement"], ds["averted_unwarned"])
    # ranked by recorded displacement instead, the same option looks harmful
    rec = compare_interventions(state, [ew], [], expected_fn, HORIZONS,
                                ComparisonSpec(metric="recorded_displacement"), np.random.default_rng(0),
                                evacuation_share=phi)
    assert float(rec["prob_benefit"].max()) == 0.0


# ------------------------------------------------------------------------------------------- costs
def test_cost_parts_are_drawn_and_per_activation_costs_are_paid_per_trigger(state):
    sp = InterventionSpec(id="c", evidence="anticipatory_cash", start_year=2026, coverage=0.5)
    draws = cost_draws(sp, N, seed=1)
    assert draws["per_activation"].std() > 0 and draws["unit_cost"].max() == 0.0
    cost = annual_cost(state, sp, draws)
    assert "sample" in cost.dims
    hand = InterventionSpec(id="h", kind="anticipatory_cash", timescale="short", start_year=2026, coverage=0.5,
                            cost={"per_activation": 10.0, "activations_per_year": 0.2, "fixed_cost": 1000.0})
    from climmig.interventions import covered_people

    covered, _ = covered_people(state, hand)
    c = annual_cost(state, hand)
    expected = 10.0 * 0.2 * covered + 1000.0 * (covered["year"] == 2026)
    xr.testing.assert_allclose(c.transpose(*expected.dims), expected.transpose(*expected.dims).astype(float))


# ------------------------------------------------------------------------------------------- ranking
def test_equal_budget_ranking_does_not_reward_coverage(state, expected_fn):
    def relief(cov):
        return InterventionSpec(id=f"cov{int(cov * 100)}", kind="humanitarian_relief", timescale="short",
                                start_year=2025, coverage=cov, effect=fixed(0.3), cost={"running_cost": 2.0})

    specs = [relief(0.2), relief(0.9)]
    ds = compare_interventions(state, specs, [], expected_fn, HORIZONS, ComparisonSpec(budget=1e5),
                               np.random.default_rng(0))
    # the wider option averts the most whatever the cost ...
    np.testing.assert_allclose(ds["prob_most_averted"].sel(intervention="cov90").values, 1.0)
    # ... but per dollar both are the same, so at an equal budget they tie
    np.testing.assert_allclose(ds["averted_per_million"].sel(intervention="cov20").values,
                               ds["averted_per_million"].sel(intervention="cov90").values, rtol=1e-9)
    cost = ds["cumulative_cost"].sum("region")
    av = ds["cumulative_averted_discounted"].sum("region")
    np.testing.assert_allclose(ds["averted_at_budget"].values,
                               (np.minimum(1.0, 1e5 / cost) * av).transpose(*ds["averted_at_budget"].dims).values,
                               rtol=1e-10)
    assert float(ds["budget"].max()) == 1e5


def test_scenario_changes_stay_out_of_the_budget_ranking_unless_given_a_cost_share(state, expected_fn):
    paris = InterventionSpec(id="paris", evidence="paris_pathway", start_year=2026,
                             params={"target_scenario": "ssp126"})
    cash = InterventionSpec(id="cash", evidence="anticipatory_cash", start_year=2026)
    ds = compare_interventions(state, [paris, cash], [], expected_fn, HORIZONS, ComparisonSpec(),
                               np.random.default_rng(0))
    assert bool(ds["scenario_change"].sel(intervention="paris")) and not bool(ds["in_budget_ranking"][0])
    assert bool(ds["prob_best"].sel(intervention="paris").isnull().all())
    np.testing.assert_allclose(ds["prob_best"].sel(intervention="cash").values, 1.0)
    shared = paris.model_copy(update={"cost": cash.cost, "cost_share": 0.01})
    ds2 = compare_interventions(state, [shared, cash], [], expected_fn, HORIZONS, ComparisonSpec(),
                                np.random.default_rng(0))
    assert bool(ds2["in_budget_ranking"].all())
    np.testing.assert_allclose(ds2["prob_best"].sum("intervention").values, 1.0)


def test_relocation_counts_the_people_it_moves(state, expected_fn):
    sp = InterventionSpec(id="move", kind="planned_relocation", timescale="short", start_year=2026,
                          regions=["KEN"], effect=fixed(0.9), params={"capacity_per_year": 1000},
                          cost={"unit_cost": 5000.0})
    ds = compare_interventions(state, [sp], [], expected_fn, HORIZONS, ComparisonSpec(), np.random.default_rng(0))
    moved = ds["people_relocated"].sel(intervention="move").isel(sample=0, scenario=0)
    assert float(moved.sel(horizon="near", region="KEN")) == 4 * 1000  # 2026-2029
    assert float(moved.sel(horizon="mid", region="KEN")) == 6 * 1000
    assert float(moved.sel(region="SOM").max()) == 0.0
    xr.testing.assert_allclose(ds["averted_displacement"], ds["averted_unwarned"] - ds["people_relocated"])
    raw = compare_interventions(state, [sp], [], expected_fn, HORIZONS, ComparisonSpec(count_relocations=False),
                                np.random.default_rng(0))
    xr.testing.assert_allclose(raw["averted_displacement"], raw["averted_unwarned"])


def test_frontier_marks_dominated_options():
    status = cost_effectiveness_frontier([1, 2, 3, 2.5, 1, np.nan], [10, 5, 30, 12, -1, 3])
    assert status == ["frontier", "dominated", "frontier", "extendedly dominated", "no benefit", "no benefit"]
    assert cost_effectiveness_frontier([1.0], [2.0]) == ["frontier"]


# ------------------------------------------------------------------------------------------- flags in outputs
def test_assumption_flag_reaches_csv_and_report(state, expected_fn, tmp_path):
    from climmig.report import comparison_section
    from climmig.report.html import write_html_report
    from climmig.report.tables import comparison_table

    sourced = InterventionSpec(
        id="cash_sourced", evidence="anticipatory_cash", start_year=2026,
        effect={"dist": "Beta", "params": {"alpha": 2, "beta": 18}, "source": "an evaluation (2030)"},
        effects={"evacuations_per_averted": {"dist": "Fixed", "params": {"value": 1.5}, "source": "a survey (2031)"}})
    unsourced = InterventionSpec(id="cash_guess", evidence="anticipatory_cash", start_year=2026,
                                 effect={"dist": "Beta", "params": {"alpha": 2, "beta": 18}})
    ds = compare_interventions(state, [sourced, unsourced], [], expected_fn, HORIZONS, ComparisonSpec(),
                               np.random.default_rng(0))
    assert list(ds["effect_basis"].values) == ["sourced", "assumption"]
    csv = tmp_path / "comparison.csv"
    comparison_table(ds).to_csv(csv, index=False)
    back = pd.read_csv(csv)
    flags = back.groupby("intervention")["evidence_flag"].first()
    assert flags["cash_guess"] == "assumption" and pd.isna(flags["cash_sourced"])
    assert (back.query("intervention == 'cash_guess'")["effect_basis"] == "assumption").all()
    html = write_html_report(tmp_path, [comparison_section(ds)], title="t").read_text()
    rows = re.findall(r"<tr><td>(cash_\w+)</td>(.*?)</tr>", html)
    first = {}
    for name, cells in rows:
        first.setdefault(name, cells)
    assert "assumption" in first["cash_guess"] and "assumption" not in first["cash_sourced"]
    assert "without a published source" in html and "cash_guess" in html


def test_one_off_costs_are_paid_once_when_exposure_goes_up_and_down(drivers):
    # exposed people alternate 1000 / 500: the one-off cost is paid for the first 1000 only, not at every upswing
    d = drivers.isel(region=[0], scenario=[0], climate_model=[0]).sel(year=slice(2025, 2030))
    ex = d["exposed_population"].copy()
    ex.loc[{"hazard": "flood"}] = np.array([1000.0, 500, 1000, 500, 1000, 1200])[:, None, None, None].T.reshape(
        ex.sel(hazard="flood").shape)
    st = ProjectionState.baseline(d.assign(exposed_population=ex), 3, hazards=["flood"])
    sp = InterventionSpec(id="r", kind="humanitarian_relief", timescale="short", start_year=2025,
                          target_hazards=["flood"], cost={"unit_cost": 10.0})
    np.testing.assert_allclose(annual_cost(st, sp).squeeze().values, [10_000, 0, 0, 0, 0, 2_000])


def test_outcome_without_hazard_dim_counts_all_displacement_as_without_warning(state, expected_fn):
    def summed(st):
        out = expected_fn(st)
        return out.assign(displaced_persons=out["displaced_persons"].sum("hazard"))

    sp = InterventionSpec(id="relief", kind="humanitarian_relief", timescale="short", start_year=2026,
                          effect=fixed(0.2), cost={"unit_cost": 1.0})
    ds = compare_interventions(state, [sp], [], summed, HORIZONS, ComparisonSpec(), np.random.default_rng(0))
    xr.testing.assert_allclose(ds["averted_displacement"], ds["averted_recorded"])
    assert float(abs(ds["evacuation_change"]).max()) == 0.0 and float(ds["averted_displacement"].min()) > 0


@pytest.mark.parametrize("field", ["params", "effects", "moves", "cost"])
def test_an_override_that_is_not_a_mapping_is_a_config_error(demo_dict, field) -> None:
    """Found by the config fuzzer: `params: true` on an evidence-table option crashed with a TypeError."""
    from climmig.config import parse_config
    from climmig.errors import ConfigError

    data = copy.deepcopy(demo_dict)
    iv = next(i for i in data["interventions"] if i.get("evidence"))
    iv[field] = True
    with pytest.raises(ConfigError, match=f"`{field}` must be a mapping"):
        parse_config(data)
