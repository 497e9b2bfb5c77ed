"""Property test: any intervention with a zero effect leaves every projected output identical."""

from __future__ import annotations

import numpy as np
import pytest

from climmig.config.schema import InterventionSpec
from climmig.interventions import ProjectionState, apply_intervention

from .conftest import ER_HAZARDS, REGIONS, N, make_drivers, make_outcome_fn, make_regimes

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

_PARAMS = {
    "planned_relocation": {"capacity_per_year": 2500},
    "flood_protection": {"protection_depth_m": 1.2},
    "mitigation": {"target_scenario": "ssp126"},
}
_KINDS = ["humanitarian_relief", "anticipatory_cash", "early_warning", "social_protection",
          "livelihood_diversification", "planned_relocation", "flood_protection", "drought_resilience",
          "mitigation", "development"]

_RNG = np.random.default_rng(11)
_STATE = ProjectionState.baseline(make_drivers(_RNG), N, regimes=make_regimes(), hazards=ER_HAZARDS)
_OUTCOME = make_outcome_fn(_RNG)
_BASE = _OUTCOME(_STATE)


@hypothesis.settings(max_examples=25, deadline=None)
@hypothesis.given(
    kind=st.sampled_from(_KINDS),
    start=st.integers(2025, 2040),
    ramp=st.integers(0, 10),
    lifetime=st.one_of(st.none(), st.integers(1, 20)),
    coverage=st.floats(0.0, 1.0),
    regions=st.one_of(st.none(), st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True)),
)
@pytest.mark.slow
def test_zero_effect_is_identity(kind, start, ramp, lifetime, coverage, regions):
    spec = InterventionSpec(id="x", kind=kind, timescale="medium", start_year=start, ramp_years=ramp,
                            lifetime_years=lifetime, coverage=coverage, regions=regions,
                            params=_PARAMS.get(kind, {}), effect={"dist": "Fixed", "params": {"value": 0.0}})
    out = _OUTCOME(apply_intervention(_STATE, spec, np.zeros(N)))
    for name in _BASE.data_vars:
        np.testing.assert_array_equal(out[name].transpose(*_BASE[name].dims).values, _BASE[name].values)
