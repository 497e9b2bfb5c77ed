"""Comparison of interventions: baseline reproduction, coverage, timing, discounting, portfolios."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from climmig.config.schema import (
    BorderRegimeChange,
    ComparisonSpec,
    InterventionSpec,
    PortfolioSpec,
)
from climmig.errors import ClimmigError
from climmig.interventions import (
    ProjectionState,
    apply_intervention,
    compare_interventions,
    discount_factor,
    discounted_cost,
)

from .conftest import REGIONS, N

HORIZONS = [("near", 2025, 2029), ("mid", 2030, 2035)]


def spec(kind, id=None, **kw):
    base = {"id": id or kind.replace("_", "-"), "kind": kind, "timescale": "short", "start_year": 2026}
    base.update(kw)
    return InterventionSpec(**base)


def fixed(v):
    return {"dist": "Fixed", "params": {"value": v}}


ZERO_SPECS = [
    spec("humanitarian_relief", effect=fixed(0.0)),
    spec("anticipatory_cash", effect=fixed(0.0), coverage=0.3),
    spec("early_warning", effect=fixed(0.0), ramp_years=3),
    spec("social_protection", effect=fixed(0.0)),
    spec("livelihood_diversification", effect=fixed(0.0)),
    spec("planned_relocation", effect=fixed(0.0), params={"capacity_per_year": 5000}),
    spec("flood_protection", effect=fixed(0.0), params={"protection_depth_m": 1.0}),
    spec("drought_resilience", effect=fixed(0.0)),
    spec("mitigation", effect=fixed(0.0), timescale="long", params={"target_scenario": "ssp126"}),
    spec("development", effect=fixed(0.0), timescale="long"),
]


@pytest.mark.parametrize("sp", ZERO_SPECS, ids=lambda s: s.kind)
def test_zero_effect_reproduces_baseline_exactly(state, outcome_fn, sp):
    base = outcome_fn(state)
    out = outcome_fn(apply_intervention(state, sp, np.zeros(N)))
    for name in base.data_vars:
        np.testing.assert_array_equal(out[name].transpose(*base[name].dims).values, base[name].values)


@pytest.mark.slow
def test_compare_output_structure(state, outcome_fn):
    specs = [spec("humanitarian_relief", effect={"dist": "Beta", "params": {"alpha": 4, "beta": 16}},
                  cost={"unit_cost": 60}),
             spec("early_warning", effect={"dist": "Beta", "params": {"alpha": 3, "beta": 12}},
                  cost={"unit_cost": 5, "running_cost": 1}),
             BorderRegimeChange(id="igad", regime="regional", from_year=2030, countries=REGIONS)]
    pf = [PortfolioSpec(id="both", members=["humanitarian-relief", "early-warning"])]
    ds = compare_interventions(state, specs, pf, outcome_fn, HORIZONS, ComparisonSpec(),
                               np.random.default_rng(1))
    assert ds["averted_displacement"].dims == ("intervention", "sample", "scenario", "horizon", "region")
    assert list(ds["intervention"].values) == ["humanitarian-relief", "early-warning", "igad", "both"]
    assert ds.sizes["sample"] == N * 2  # pooled over the two climate models
    assert set(ds["climate_model"].values) == {"GFDL-ESM4", "UKESM1-0-LL"}
    for v in ("migration_change_cross_border", "migration_change_internal", "discounted_cost",
              "cost_per_person_averted", "prob_benefit", "prob_best", "baseline_displacement", "averted_recorded",
              "averted_unwarned", "evacuation_change", "people_relocated", "averted_at_budget", "budget"):
        assert v in ds
    assert ds["prob_best"].dims == ("intervention", "scenario", "horizon")
    # the border change has no cost: it stays out of the equal-budget ranking, which sums to 1 over the rest
    assert list(ds["in_budget_ranking"].values) == [True, True, False, True]
    assert bool(ds["prob_best"].sel(intervention="igad").isnull().all())
    np.testing.assert_allclose(ds["prob_best"].sum("intervention").values, 1.0)
    np.testing.assert_allclose(ds["prob_most_averted"].sum("intervention").values, 1.0)
    assert float(ds["prob_benefit"].min()) >= 0 and float(ds["prob_benefit"].max()) <= 1
    assert ds["discounted_cost"].attrs["currency"] == "USD" and ds["discounted_cost"].attrs["price_year"] == 2020
    # a border opening increases cross-border movement: a positive change, not a benefit or a harm
    assert float(ds["migration_change_cross_border"].sel(intervention="igad", horizon="mid").mean()) > 0
    assert float(ds["averted_displacement"].sel(intervention="igad").max()) == 0.0
    # same inputs and seed -> same result (deterministic)
    again = compare_interventions(state, specs, pf, outcome_fn, HORIZONS, ComparisonSpec(),
                                  np.random.default_rng(1))
    xr.testing.assert_identical(ds, again)
    # options evaluated in threads: the same result, in the same order
    threaded = compare_interventions(state, specs, pf, outcome_fn, HORIZONS, ComparisonSpec(),
                                     np.random.default_rng(1), max_workers=3)
    xr.testing.assert_identical(ds, threaded)


def test_averted_grows_with_coverage(state, outcome_fn, expected_fn):
    specs = [spec("humanitarian_relief", id=f"cov{int(c * 100)}", coverage=c,
                  effect={"dist": "Beta", "params": {"alpha": 4, "beta": 16}}) for c in (0.2, 0.5, 0.9)]
    for fn in (outcome_fn, expected_fn):
        ds = compare_interventions(state, specs, [], fn, HORIZONS, ComparisonSpec(), np.random.default_rng(2))
        tot = ds["averted_displacement"].sum("region").mean("sample")
        assert bool((tot.diff("intervention") > 0).all())
    # with the expected-value outcome it grows in every sample
    tot = ds["averted_displacement"].sum("region")
    assert bool((tot.diff("intervention") >= 0).all())


def test_intervention_after_horizon_has_no_effect_within_it(state, outcome_fn):
    late = spec("early_warning", start_year=2031, effect=fixed(0.5), cost={"unit_cost": 5, "running_cost": 1})
    ds = compare_interventions(state, [late], [], outcome_fn, HORIZONS, ComparisonSpec(),
                               np.random.default_rng(3))
    near = ds.sel(horizon="near", intervention=late.id)
    assert float(abs(near["averted_displacement"]).max()) == 0.0
    assert float(abs(near["migration_change_cross_border"]).max()) == 0.0
    assert float(near["discounted_cost"].max()) == 0.0
    assert float(near["prob_benefit"].max()) == 0.0
    assert float(ds["averted_displacement"].sel(horizon="mid").sum()) > 0


def test_discounting_against_hand_computed_example(drivers):
    # one region, constant exposed population of 1000 flood-exposed people, years 2025-2029
    d = drivers.isel(region=[0], scenario=[0], climate_model=[0]).sel(year=slice(2025, 2029))
    ex = d["exposed_population"].copy()
    ex.loc[{"hazard": "flood"}] = 1000.0
    d = d.assign(exposed_population=ex)
    st = ProjectionState.baseline(d, 3, hazards=["flood"])
    sp = spec("humanitarian_relief", start_year=2026, target_hazards=["flood"],
              cost={"unit_cost": 10.0, "running_cost": 2.0})
    cmp = ComparisonSpec(discount_rate=0.05, base_year=2025)
    cost = discounted_cost(st, sp, cmp).squeeze()
    # 2026: 1000 people start (10 each) and run (2 each); later years run only
    hand = [0.0, (10_000 + 2_000) / 1.05, 2_000 / 1.05**2, 2_000 / 1.05**3, 2_000 / 1.05**4]
    np.testing.assert_allclose(cost.values, hand)
    np.testing.assert_allclose(float(cost.sum()), 12000 / 1.05 + 2000 * (1.05**-2 + 1.05**-3 + 1.05**-4))
    np.testing.assert_allclose(discount_factor([2020, 2025, 2030], 0.03, 2025).values,
                               [1.03**5, 1.0, 1.03**-5])


def test_cost_per_person_averted_is_cumulative_ratio(state, expected_fn):
    sp = spec("anticipatory_cash", effect=fixed(0.2), cost={"unit_cost": 60, "running_cost": 3})
    ds = compare_interventions(state, [sp], [], expected_fn, HORIZONS, ComparisonSpec(),
                               np.random.default_rng(4))
    sel = ds.sel(intervention=sp.id)
    cum_cost = sel["discounted_cost"].sum("horizon")
    np.testing.assert_allclose(sel["cumulative_cost"].sel(horizon="mid").values, cum_cost.values, rtol=1e-10)
    cum_av = sel["averted_displacement"].sum("horizon")  # horizons cover every year here
    np.testing.assert_allclose(sel["cumulative_averted"].sel(horizon="mid").values, cum_av.values, rtol=1e-10)
    # benefits are discounted at the cost's rate: the ratio is discounted cost over discounted averted
    disc_av = sel["cumulative_averted_discounted"].sel(horizon="mid")
    assert bool((disc_av < cum_av).all())
    np.testing.assert_allclose(sel["cost_per_person_averted"].sel(horizon="mid").values,
                               (cum_cost / disc_av).values, rtol=1e-10)
    np.testing.assert_allclose(sel["cost_per_person_averted_undiscounted"].sel(horizon="mid").values,
                               (sel["cumulative_cost_undiscounted"].sel(horizon="mid") / cum_av).values, rtol=1e-10)


def test_portfolio_differs_from_sum_where_members_overlap(state, expected_fn):
    a = spec("humanitarian_relief", effect=fixed(0.5))
    b = spec("early_warning", effect=fixed(0.4))
    pf = PortfolioSpec(id="a-and-b", members=[a.id, b.id])
    ds = compare_interventions(state, [a, b], [pf], expected_fn, HORIZONS, ComparisonSpec(),
                               np.random.default_rng(5))
    av = ds["averted_displacement"].sel(horizon="mid")
    base = ds["baseline_displacement"].sel(horizon="mid")
    summed = av.sel(intervention=a.id) + av.sel(intervention=b.id)
    joint = av.sel(intervention="a-and-b")
    assert bool((joint < summed).all())
    # jointly: 1 - (1 - 0.5)(1 - 0.4) = 0.7 of displacement averted, not 0.9
    np.testing.assert_allclose(joint.values, (0.7 * base).values, rtol=1e-10)
    np.testing.assert_allclose(summed.values, (0.9 * base).values, rtol=1e-10)


def test_mixed_currencies_refused(state, expected_fn):
    a = spec("humanitarian_relief", effect=fixed(0.1), cost={"unit_cost": 1, "currency": "EUR"})
    b = spec("early_warning", effect=fixed(0.1), cost={"unit_cost": 1, "currency": "USD"})
    with pytest.raises(ClimmigError, match="currencies"):
        compare_interventions(state, [a, b], [], expected_fn, HORIZONS, ComparisonSpec(), np.random.default_rng(0))


@pytest.mark.slow
def test_apply_and_compare_stay_lazy_on_dask_drivers(drivers, regimes, expected_fn, tmp_path):
    import dask

    from climmig.io.writers import write_netcdf

    from .test_properties import _KINDS, _PARAMS

    lazy = ProjectionState.baseline(drivers.chunk({"year": 4}), N, regimes=regimes,
                                    hazards=["flood", "storm", "drought"])
    specs = [spec(k, id=f"k{i}", effect=fixed(0.3), params=_PARAMS.get(k, {}), cost={"unit_cost": 2})
             for i, k in enumerate(_KINDS)]

    def refuse(*args, **kwargs):
        raise AssertionError("computed")

    with dask.config.set(scheduler=refuse):
        for sp in specs:
            out = apply_intervention(lazy, sp, np.full(N, 0.3))
            assert out.drivers["exposure_ratio"].chunks is not None
        ds = compare_interventions(lazy, specs[:3], [], expected_fn, HORIZONS, ComparisonSpec(),
                                   np.random.default_rng(0))
    assert ds["averted_displacement"].chunks is not None
    path = write_netcdf(ds.compute(), tmp_path / "comparison.nc")
    back = xr.load_dataset(path)
    assert back["prob_best"].attrs["units"] == "1"
    np.testing.assert_allclose(back["averted_displacement"].values, ds["averted_displacement"].values)


@pytest.mark.slow
def test_demo_config_interventions_run(drivers, expected_fn, repo):
    """Every intervention, portfolio and border-regime change of configs/demo.yaml applies and compares."""
    from climmig.config.load import load_config

    cfg = load_config(repo / "configs" / "demo.yaml")
    d = xr.concat([drivers, drivers.sel(region=["SOM"]).assign_coords(region=["DJI"])], "region")
    regions = [str(r) for r in d["region"].values]
    regimes = xr.DataArray(np.full((d.sizes["year"], 4, 4), "unilateral", dtype=object),
                           dims=("year", "origin", "destination"),
                           coords={"year": d["year"].values, "origin": regions, "destination": regions})
    st = ProjectionState.baseline(d, N, regimes=regimes, hazards=["flood", "storm", "drought"])
    ds = compare_interventions(st, [*cfg.interventions, *cfg.border_regimes], cfg.portfolios,
                               expected_fn, [("near", 2025, 2030), ("mid", 2031, 2035)],
                               cfg.comparison, np.random.default_rng(cfg.seed))
    ids = [iv.id for iv in cfg.interventions] + [b.id for b in cfg.border_regimes] + [p.id for p in cfg.portfolios]
    assert list(ds["intervention"].values) == ids
    assert {"short", "medium", "long"} <= set(ds["timescale"].values)
    mid = ds["averted_displacement"].sel(horizon="mid").sum("region").mean("sample")
    for iv in ("humanitarian_cash", "flood_defences", "early_warning", "paris_pathway"):
        assert float(mid.sel(intervention=iv, scenario="ssp585")) > 0, iv
    # every option comes from the evidence table; a unilateral, a bilateral and a regional option, each with
    # a financier; scenario changes are kept out of the budget ranking
    assert all(e != "unspecified" for e in ds["evidence"].sel(intervention=ids[:-1]).values)
    assert {"unilateral", "bilateral", "regional"} <= set(ds["level"].values)
    assert "unspecified" not in set(ds["financier"].sel(intervention=ids[:-1]).values)
    assert not bool(ds["in_budget_ranking"].sel(intervention="paris_pathway"))
    assert not bool(ds["in_budget_ranking"].sel(intervention="income_growth"))
    # declared directions hold: early warning adds evacuations and removes displacement without warning
    ew = ds.sel(intervention="early_warning", horizon="mid").sum("region")
    assert float(ew["evacuation_change"].min()) > 0 and float(ew["averted_unwarned"].min()) > 0
    assert float(ds["people_relocated"].sel(intervention="small_relocation", horizon="mid").max()) > 0


def test_outcome_var_defaults_to_expected_when_available(state, outcome_fn, expected_fn):
    def both(st):
        ds = outcome_fn(st)
        return ds.assign(expected_displacement=expected_fn(st)["displaced_persons"])

    sp = spec("early_warning", effect=fixed(0.3))
    ds = compare_interventions(state, [sp], [], both, HORIZONS, ComparisonSpec(), np.random.default_rng(0))
    assert ds.attrs["climmig_outcome_var"] == "expected_displacement"
    ref = compare_interventions(state, [sp], [], expected_fn, HORIZONS, ComparisonSpec(), np.random.default_rng(0))
    np.testing.assert_allclose(ds["averted_displacement"].values, ref["averted_displacement"].values)
    noisy = compare_interventions(state, [sp], [], both, HORIZONS, ComparisonSpec(), np.random.default_rng(0),
                                  outcome_var="displaced_persons")
    assert noisy.attrs["climmig_outcome_var"] == "displaced_persons"
    with pytest.raises(ClimmigError, match="no 'nope'"):
        compare_interventions(state, [sp], [], both, HORIZONS, ComparisonSpec(), np.random.default_rng(0),
                              outcome_var="nope")
