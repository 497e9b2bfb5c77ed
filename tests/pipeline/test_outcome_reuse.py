"""The intervention comparison's outcome function reuses predictions whose inputs an option left untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr


@pytest.mark.slow
def test_reused_predictions_equal_recomputed_ones(small_demo_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from climmig.interventions import ProjectionState
    from climmig.interventions.apply import apply_intervention, draw_effects
    from climmig.mobility import displacement, migration
    from climmig.pipeline import stages
    from climmig.pipeline.context import make_context

    ctx = make_context(small_demo_run, progress=False)
    by_kind = {s.kind: s for s in ctx.cfg.interventions}
    event_only, exposure = by_kind["early_warning"], by_kind["flood_protection"]
    calls = {"disp": 0, "flows": 0}
    real_disp, real_flows = displacement.predict_displacement, migration.predict_flows

    def count_disp(*a, **k):
        calls["disp"] += 1
        return real_disp(*a, **k)

    def count_flows(*a, **k):
        calls["flows"] += 1
        return real_flows(*a, **k)

    monkeypatch.setattr(displacement, "predict_displacement", count_disp)
    monkeypatch.setattr(migration, "predict_flows", count_flows)

    cached = stages._Models(ctx)
    base = ProjectionState.baseline(cached.drivers, cached.samples, regimes=cached.regimes)
    draws = draw_effects([event_only, exposure], cached.samples, 5)
    states = [base, apply_intervention(base, exposure, draws[exposure.id]),
              apply_intervention(base, event_only, draws[event_only.id]), base]
    assert states[2].drivers is base.drivers  # an event-only option keeps the drivers object
    got = [cached.outcome(s) for s in states]
    # baseline, exposure option, event-only option (its flows reused from the baseline), baseline again
    assert calls == {"disp": 3, "flows": 2}
    for s, out in zip(states, got, strict=True):
        fresh = stages._Models(ctx).outcome(s)
        xr.testing.assert_identical(out, fresh)
    np.testing.assert_array_equal(got[2]["cross_border_migration"], got[0]["cross_border_migration"])
    assert not got[1]["displaced_persons"].equals(got[0]["displaced_persons"])
