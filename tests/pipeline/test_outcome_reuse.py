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
    # early warning changes only the outcome split: it keeps the drivers and the rate multiplier objects
    assert states[2].drivers is base.drivers and states[2].rate_multiplier is base.rate_multiplier
    got = [cached.outcome(s) for s in states]
    # baseline, exposure option, early warning (its displacement and flows reused from the baseline), baseline
    assert calls == {"disp": 2, "flows": 2}
    for s, out in zip(states, got, strict=True):
        fresh = stages._Models(ctx).outcome(s)
        xr.testing.assert_identical(out, fresh)
    np.testing.assert_array_equal(got[2]["cross_border_migration"], got[0]["cross_border_migration"])
    assert not got[1]["displaced_persons"].equals(got[0]["displaced_persons"])


@pytest.mark.slow
def test_stages_of_one_invocation_share_the_loaded_models(small_demo_run: Path) -> None:
    import os
    import pickle

    from climmig.pipeline import stages
    from climmig.pipeline.context import make_context

    ctx = make_context(small_demo_run, progress=False)
    first = stages._models(ctx)
    assert stages._models(ctx) is first
    base = first.baseline()
    assert first.baseline() is base
    # the baseline outcome is computed once; callers setting attrs do not touch the cached one
    out = first.outcome(base)
    out["displaced_persons"].attrs["marker"] = "set by a caller"
    again = first.outcome(base)
    assert "marker" not in again["displaced_persons"].attrs
    xr.testing.assert_identical(again, first.outcome(base))
    # a background process gets an empty memo
    assert pickle.loads(pickle.dumps(ctx)).memo == {}
    # a changed fit file is reloaded
    mig = ctx.path("fits", "migration.nc")
    st = mig.stat()
    os.utime(mig, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    try:
        assert stages._models(ctx) is not first
    finally:
        os.utime(mig, ns=(st.st_atime_ns, st.st_mtime_ns))
