"""Each intervention kind acts on the right part of the state, with the right timing and coverage."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from climmig.config.schema import BorderRegimeChange, DistSpec, InterventionSpec
from climmig.errors import ClimmigError
from climmig.interventions import (
    KINDS,
    ProjectionState,
    apply_intervention,
    border_regime_spec,
    draw_effects,
    sample_effect,
    timing_weight,
)

from .conftest import N


def spec(kind, **kw):
    base = {"id": kind.replace("_", "-"), "kind": kind, "timescale": "medium", "start_year": 2027}
    base.update(kw)
    return InterventionSpec(**base)


def full(value):
    return np.full(N, float(value))


# ------------------------------------------------------------------------------------------- effects
@pytest.mark.parametrize(
    ("dist", "params", "check"),
    [
        ("Fixed", {"value": 0.25}, lambda x: np.all(x == 0.25)),
        ("Beta", {"alpha": 4, "beta": 16}, lambda x: abs(x.mean() - 0.2) < 0.01 and x.min() > 0),
        ("Uniform", {"lower": 0.6, "upper": 0.95}, lambda x: x.min() >= 0.6 and x.max() <= 0.95),
        ("TruncatedNormal", {"mu": 0.3, "sigma": 0.1, "lower": 0, "upper": 1},
         lambda x: x.min() >= 0 and x.max() <= 1 and abs(x.mean() - 0.3) < 0.01),
        ("Triangular", {"lower": 0, "c": 0.2, "upper": 0.5}, lambda x: abs(x.mean() - 0.7 / 3) < 0.01),
        ("LogNormal", {"mu": 0.0, "sigma": 0.5}, lambda x: abs(np.median(x) - 1.0) < 0.05),
        ("Normal", {"mu": 0.01, "sigma": 0.005}, lambda x: abs(x.std() - 0.005) < 0.0005),
        ("Gamma", {"alpha": 2, "beta": 4}, lambda x: abs(x.mean() - 0.5) < 0.02),
        ("HalfStudentT", {"nu": 5, "sigma": 1}, lambda x: x.min() >= 0),
    ],
)
def test_sample_effect_distributions(dist, params, check, rng):
    x = sample_effect(DistSpec(dist=dist, params=params), 20000, rng)
    assert x.shape == (20000,) and check(x)


def test_effect_draws_stable_per_intervention():
    beta = {"dist": "Beta", "params": {"alpha": 3, "beta": 12}}
    a, b = spec("early_warning", effect=beta), spec("humanitarian_relief", effect=beta)
    b_half = spec("humanitarian_relief", id="half", coverage=0.5, effect=beta)
    both = draw_effects([a, b, b_half], 10, seed=1)
    alone = draw_effects([b], 10, seed=1)
    np.testing.assert_array_equal(both[b.id], alone[b.id])
    np.testing.assert_array_equal(both[b.id], both["half"])  # variants share effect draws
    assert not np.array_equal(both[a.id], both[b.id])
    assert np.all(sample_effect(None, 3, np.random.default_rng(0)) == 1.0)


def test_timing_weight_ramp_and_lifetime():
    w = timing_weight(range(2025, 2035), spec("early_warning", start_year=2027, ramp_years=4, lifetime_years=5))
    np.testing.assert_allclose(w.values, [0, 0, 0.25, 0.5, 0.75, 1, 1, 0, 0, 0])
    w0 = timing_weight(range(2025, 2030), spec("early_warning", start_year=2026))
    np.testing.assert_array_equal(w0.values, [0, 1, 1, 1, 1])


# ------------------------------------------------------------------------------------------- kinds
@pytest.mark.parametrize("kind", ["humanitarian_relief", "social_protection", "livelihood_diversification"])
def test_rate_kinds_scale_rate_multiplier(state, kind):
    sp = spec(kind, regions=["KEN"], coverage=0.5, start_year=2027)
    out = apply_intervention(state, sp, full(0.4))
    rm = out.rate_multiplier
    assert float(rm.sel(region="KEN", year=2030).max()) == pytest.approx(0.8)
    assert float(rm.sel(region="KEN", year=2026).min()) == 1.0
    assert float(rm.sel(region="SOM").min()) == 1.0
    # the input is not modified
    assert float(state.rate_multiplier.min()) == 1.0
    xr.testing.assert_identical(state.drivers, out.drivers)


def test_target_hazards_restrict_rate(state):
    out = apply_intervention(state, spec("humanitarian_relief", target_hazards=["flood"]), full(0.5))
    assert float(out.rate_multiplier.sel(hazard="flood", year=2030).max()) == 0.5
    assert float(out.rate_multiplier.sel(hazard="storm").min()) == 1.0


@pytest.mark.parametrize("kind", ["early_warning", "anticipatory_cash"])
def test_warning_kinds_turn_unwarned_displacement_into_evacuation(state, kind):
    sp = spec(kind, regions=["KEN"], coverage=0.5, start_year=2027, target_hazards=["flood"])
    out = apply_intervention(state, sp, {"effect": full(0.4), "evacuations_per_averted": full(3.0)})
    # the rate (all displacement) is unchanged; the split moves
    xr.testing.assert_identical(out.rate_multiplier, state.rate_multiplier)
    mu, ea = out.unwarned_multiplier, out.evacuation_added
    assert float(mu.sel(region="KEN", year=2030, hazard="flood").max()) == pytest.approx(0.8)
    assert float(ea.sel(region="KEN", year=2030, hazard="flood").max()) == pytest.approx(0.6)  # 3 x 0.2
    assert float(mu.sel(region="KEN", year=2026).min()) == 1.0 and float(ea.sel(region="SOM").max()) == 0.0
    assert float(mu.sel(hazard="storm").min()) == 1.0
    # a second warning option acts on what the first left: 0.8 x (1 - 0.2) and 0.6 + 3 x 0.16
    twice = apply_intervention(out, sp, {"effect": full(0.4), "evacuations_per_averted": full(3.0)})
    assert float(twice.unwarned_multiplier.sel(region="KEN", year=2030, hazard="flood").max()) == pytest.approx(0.64)
    assert float(twice.evacuation_added.sel(region="KEN", year=2030, hazard="flood").max()) == pytest.approx(1.08)
    # without named draws, the evacuation ratio is the median of the spec's distribution (1 when none)
    plain = apply_intervention(state, sp, full(0.4))
    assert float(plain.evacuation_added.max()) == pytest.approx(0.2)


def test_one_sided_border_opening_changes_one_direction(state):
    change = BorderRegimeChange(id="visa", regime="bilateral", from_year=2030, countries=["SOM", "KEN"],
                                destinations=["KEN"])
    out = apply_intervention(state, border_regime_spec(change), full(1.0)).regimes
    assert out.sel(year=2031, origin="SOM", destination="KEN").item() == "bilateral"
    assert out.sel(year=2031, origin="KEN", destination="SOM").item() == "unilateral"
    assert out.sel(year=2029, origin="SOM", destination="KEN").item() == "unilateral"
    with pytest.raises(ValueError, match="destinations"):
        BorderRegimeChange(id="bad", regime="bilateral", from_year=2030, countries=["SOM", "KEN"],
                           destinations=["ETH"])


def test_min_hazard_targets_high_hazard_cells(state):
    hi = state.drivers["hazard_intensity"].sel(hazard="flood")
    level = float(hi.sel(year=2030).median())
    sp = spec("humanitarian_relief", target_hazards=["flood"], min_hazard=level)
    rm = apply_intervention(state, sp, full(0.5)).rate_multiplier.sel(hazard="flood", year=2030)
    above = hi.sel(year=2030) >= level
    assert bool((rm.where(above) == 0.5).sum() == above.sum() * N)
    assert float(rm.where(~above).min()) == 1.0


def test_flood_protection_lowers_flood_exposure_only(state):
    sp = spec("flood_protection", ramp_years=0, params={"protection_depth_m": 1.0})
    out = apply_intervention(state, sp, full(0.9))
    er0, er1 = state.drivers["exposure_ratio"], out.drivers["exposure_ratio"]
    assert bool((er1.sel(hazard="flood", year=2030) < er0.sel(hazard="flood", year=2030)).all())
    xr.testing.assert_equal(er1.sel(hazard="drought").isel(sample=0, drop=True), er0.sel(hazard="drought"))
    # a standard below the exposure threshold protects nothing
    none = apply_intervention(state, spec("flood_protection", params={"protection_depth_m": 0.3}), full(0.9))
    np.testing.assert_array_equal(none.drivers["exposure_ratio"].isel(sample=0).values, er0.values)
    fixed = apply_intervention(state, spec("flood_protection", params={"protected_share": 0.5}), full(1.0))
    np.testing.assert_allclose(fixed.drivers["exposure_ratio"].sel(hazard="flood", year=2030).values,
                               np.broadcast_to(0.5 * er0.sel(hazard="flood", year=2030).values,
                                               (N, *er0.sel(hazard="flood", year=2030).shape)))
    with pytest.raises(ClimmigError, match="protection_depth_m"):
        apply_intervention(state, spec("flood_protection"), full(1.0))


def test_drought_resilience_cuts_livelihood_sensitivity(state):
    out = apply_intervention(state, spec("drought_resilience", coverage=0.5), full(0.4))
    d0, d1 = state.drivers, out.drivers
    ag = d0["agricultural_share"]
    np.testing.assert_allclose(
        d1["exposure_ratio"].sel(hazard="drought", year=2030).isel(sample=0).values,
        (d0["exposure_ratio"].sel(hazard="drought", year=2030) * (1 - 0.2 * ag)).values)
    np.testing.assert_allclose(
        d1["livelihood_weighted_exposure"].sel(hazard="heat", year=2030).isel(sample=0).values,
        0.8 * d0["livelihood_weighted_exposure"].sel(hazard="heat", year=2030).values)
    np.testing.assert_array_equal(d1["exposure_ratio"].sel(hazard="flood").isel(sample=0).values,
                                  d0["exposure_ratio"].sel(hazard="flood").values)


def test_planned_relocation_moves_capacity_out_of_exposure(state):
    sp = spec("planned_relocation", regions=["SOM"], start_year=2027, params={"capacity_per_year": 1000})
    out = apply_intervention(state, sp, full(0.5))
    ex0 = state.drivers["exposed_population"].sel(hazard="flood", region="SOM")
    ex1 = out.drivers["exposed_population"].sel(hazard="flood", region="SOM").isel(sample=0)
    # 2027..2030 -> 4 years x 1000 people x 50 % no longer exposed
    np.testing.assert_allclose((ex0 - ex1).sel(year=2030).values, 2000.0)
    np.testing.assert_allclose((ex0 - ex1).sel(year=2026).values, 0.0)
    ratio = (out.drivers["exposure_ratio"].sel(hazard="flood", region="SOM", year=2030).isel(sample=0)
             / state.drivers["exposure_ratio"].sel(hazard="flood", region="SOM", year=2030))
    np.testing.assert_allclose(ratio.values, (ex1 / ex0).sel(year=2030).values)
    with pytest.raises(ClimmigError, match="capacity_per_year"):
        apply_intervention(state, spec("planned_relocation"), full(0.5))


def test_mitigation_moves_toward_target_scenario(state):
    sp = spec("mitigation", timescale="long", start_year=2027, ramp_years=0,
              params={"target_scenario": "ssp126"})
    out = apply_intervention(state, sp, full(1.0))
    er0 = state.drivers["exposure_ratio"]
    er1 = out.drivers["exposure_ratio"].isel(sample=0, drop=True)
    np.testing.assert_allclose(er1.sel(scenario="ssp585", year=2030).values,
                               er0.sel(scenario="ssp126", year=2030).values)
    xr.testing.assert_equal(er1.sel(year=2026), er0.sel(year=2026))
    half = apply_intervention(state, sp, full(0.5)).drivers["exposure_ratio"].isel(sample=0, drop=True)
    np.testing.assert_allclose(half.sel(scenario="ssp585", year=2030).values,
                               0.5 * (er0.sel(scenario="ssp585", year=2030).values
                                      + er0.sel(scenario="ssp126", year=2030).values))
    bad = spec("mitigation", params={"target_scenario": "ssp245"})
    with pytest.raises(ClimmigError, match="not projected"):
        apply_intervention(state, bad, full(1.0))


def test_mitigation_keeps_the_scenario_population(drivers, regimes):
    """Mitigation changes the climate, not the socio-economic pathway: exposed people move to the target
    scenario's exposed share of this scenario's own people."""
    fewer = xr.DataArray([1.0, 0.7], dims="scenario", coords={"scenario": ["ssp126", "ssp585"]})
    pop = drivers["population"] * fewer  # SSP5 with 30 % fewer people, same exposed shares
    d = drivers.assign(population=pop, exposed_population=drivers["exposed_population"] * fewer,
                       livelihood_weighted_exposure=drivers["livelihood_weighted_exposure"] * fewer)
    st = ProjectionState.baseline(d, N, regimes=regimes, hazards=["flood", "storm", "drought"])
    sp = spec("mitigation", timescale="long", start_year=2027, ramp_years=0,
              params={"target_scenario": "ssp126"})
    out = apply_intervention(st, sp, full(1.0)).drivers
    ex = out["exposed_population"].isel(sample=0, drop=True).sel(scenario="ssp585", year=2030, hazard="flood")
    share126 = (d["exposed_population"] / d["population"]).sel(scenario="ssp126", year=2030, hazard="flood")
    np.testing.assert_allclose(ex.values, (share126 * pop.sel(scenario="ssp585", year=2030)).values)
    assert not np.allclose(ex.values, d["exposed_population"].sel(scenario="ssp126", year=2030, hazard="flood"))
    xr.testing.assert_equal(out["population"], d["population"])
    xr.testing.assert_equal(out["gdp_per_capita"], d["gdp_per_capita"])


def test_development_compounds_growth(state):
    out = apply_intervention(state, spec("development", start_year=2026, ramp_years=0), full(0.01))
    g = out.drivers["gdp_per_capita"].isel(sample=0) / state.drivers["gdp_per_capita"]
    np.testing.assert_allclose(g.sel(year=2030).values, 1.01**5)
    np.testing.assert_allclose(g.sel(year=2025).values, 1.0)


def test_border_regime_changes_pairs_from_year(state):
    change = BorderRegimeChange(id="igad", regime="regional", from_year=2030, countries=["SOM", "KEN"])
    out = apply_intervention(state, border_regime_spec(change), full(1.0))
    r = out.regimes
    assert r.sel(year=2030, origin="SOM", destination="KEN") == "regional"
    assert r.sel(year=2030, origin="KEN", destination="SOM") == "regional"
    assert r.sel(year=2029, origin="SOM", destination="KEN") == "unilateral"
    assert r.sel(year=2030, origin="SOM", destination="ETH") == "unilateral"
    assert r.sel(year=2030, origin="SOM", destination="SOM") == "unilateral"


def test_every_kind_is_registered():
    from typing import get_args

    from climmig.config.schema import InterventionKind

    assert set(KINDS) == set(get_args(InterventionKind))
