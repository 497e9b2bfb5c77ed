"""FittedRun: a finished run's fits projecting any state; on a real (reduced) run it reproduces the stages' outputs
bit for bit; the intervention rescaling of the migration drivers; clear refusals of incomplete runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from climmig.interventions.flows import intervened_flow_drivers


# -- the science moved out of the pipeline: fast, synthetic ------------------------------------------------------
def _flow_and_displacement_drivers() -> tuple[xr.Dataset, xr.Dataset]:
    years, scen, regions = [2030, 2031], ["ssp126", "ssp585"], ["KEN", "SOM"]
    rng = np.random.default_rng(3)
    shape = (len(scen), len(years), len(regions))
    fd = xr.Dataset({
        "population": (("scenario", "year", "region"), rng.uniform(1e6, 5e7, shape)),
        "gdp_per_capita": (("scenario", "year", "region"), rng.uniform(500, 3000, shape)),
        "exposure_ratio": (("scenario", "climate_model", "year", "region"), rng.uniform(0.8, 1.5, (2, 1, 2, 2))),
        "internal_exposure_ratio": (("scenario", "climate_model", "year", "region"),
                                    rng.uniform(0.8, 1.5, (2, 1, 2, 2))),
    }, coords={"scenario": scen, "year": years, "region": regions, "climate_model": ["M1"]})
    er = rng.uniform(0.5, 2.0, (2, 2, 1, 2, 2))
    er[0, ..., 1] = 0.0  # a region without baseline exposure in one hazard
    drivers = xr.Dataset({
        "exposure_ratio": (("hazard", "scenario", "climate_model", "year", "region"), er),
        "gdp_per_capita": fd["gdp_per_capita"],
    }, coords={"hazard": ["flood", "drought"], "scenario": scen, "climate_model": ["M1"], "year": years,
               "region": regions})
    return fd, drivers


def test_an_unchanged_state_leaves_the_migration_drivers_unchanged() -> None:
    fd, drivers = _flow_and_displacement_drivers()
    out = intervened_flow_drivers(fd, drivers, drivers)
    assert set(out.data_vars) == set(fd.data_vars)
    for v in fd.data_vars:
        xr.testing.assert_equal(out[v], fd[v].transpose(*out[v].dims))


def test_a_state_with_less_exposure_scales_the_migration_climate_stress_by_its_relative_change() -> None:
    fd, drivers = _flow_and_displacement_drivers()
    state = drivers.sel(year=[2031], scenario=["ssp585"])
    state = state.assign(exposure_ratio=state["exposure_ratio"] * 0.5,
                         gdp_per_capita=state["gdp_per_capita"].expand_dims(sample=[0, 1]) * [[[[1.0]]], [[[3.0]]]])
    out = intervened_flow_drivers(fd, drivers, state)
    assert [int(y) for y in out["year"]] == [2031] and list(out["scenario"].values) == ["ssp585"]
    sub = fd.sel(year=[2031], scenario=["ssp585"])
    # halving every hazard's exposure ratio halves the mean: the climate stress of migration halves too
    np.testing.assert_allclose(out["exposure_ratio"], (sub["exposure_ratio"] * 0.5).transpose(
        *out["exposure_ratio"].dims))
    np.testing.assert_allclose(out["internal_exposure_ratio"], (sub["internal_exposure_ratio"] * 0.5).transpose(
        *out["internal_exposure_ratio"].dims))
    # income drawn per sample: migration sees its mean (2 x the baseline's here)
    np.testing.assert_allclose(out["gdp_per_capita"], 2.0 * sub["gdp_per_capita"])


# -- the runner's record API and the refusals -----------------------------------------------------------------------
def _fake_run(tmp_path: Path, cfg_hash: str, stages: dict[str, dict]) -> Path:
    from climmig.io.writers import write_json
    from climmig.pipeline.runner import record_path

    for name, summary in stages.items():
        write_json({"stage": name, "config_sha256": cfg_hash, "outputs": {}, "summary": summary},
                   record_path(tmp_path, name))
    return tmp_path


def test_records_are_read_through_the_runner(tmp_path: Path) -> None:
    from climmig.errors import ClimmigError
    from climmig.pipeline import read_record, stage_summary

    _fake_run(tmp_path, "abc", {"fit_displacement": {"passed": True, "fit": "fits/x.nc"}})
    assert read_record(tmp_path, "fit_displacement")["config_sha256"] == "abc"
    assert stage_summary(tmp_path, "fit_displacement") == {"passed": True, "fit": "fits/x.nc"}
    assert read_record(tmp_path, "exposure") is None
    with pytest.raises(ClimmigError, match=r"no completed exposure stage; run `climmig run"):
        stage_summary(tmp_path, "exposure")
    (tmp_path / "stages" / "exposure.json").write_text("{not json")
    with pytest.raises(ClimmigError, match=r"record of stage exposure .* is unreadable"):
        read_record(tmp_path, "exposure")


def test_a_run_without_its_stages_or_of_another_config_is_refused(tmp_path: Path, repo: Path) -> None:
    from climmig.catalog import load_catalog
    from climmig.config import catalog_path, load_config, science_hash
    from climmig.errors import DataError
    from climmig.projection import FittedRun

    demo = repo / "configs" / "demo.yaml"
    cfg = load_config(demo)
    catalog = load_catalog(catalog_path(cfg, demo))
    with pytest.raises(DataError, match=r"no completed exposure stage"):
        FittedRun.from_run_dir(tmp_path, cfg, catalog)
    _fake_run(tmp_path, "another config", {"exposure": {}, "fit_displacement": {"passed": True, "fit": "f.nc"}})
    with pytest.raises(DataError, match=r"exposure stage .* was made with another config"):
        FittedRun.from_run_dir(tmp_path, cfg, catalog)
    _fake_run(tmp_path, science_hash(cfg), {"exposure": {}, "fit_displacement": {"passed": True, "fit": "f.nc"}})
    with pytest.raises(DataError, match=r"no completed fit_migration stage"):
        FittedRun.from_run_dir(tmp_path, cfg, catalog, migration=True)
    with pytest.raises(DataError, match=r"config.yaml not found"):
        FittedRun.from_run_dir(tmp_path)


def test_a_fit_that_failed_its_gate_is_refused_unless_allowed(tmp_path: Path) -> None:
    from climmig.errors import ConvergenceError
    from climmig.projection import require_converged

    _fake_run(tmp_path, "h", {"fit_displacement": {"passed": True},
                              "fit_migration": {"passed": False, "gate": "R-hat 1.3"}})
    with pytest.raises(ConvergenceError, match=r"migration fit .* did not converge \(R-hat 1.3\); refusing to "
                                               r"project\. Increase mobility.migration_sampler"):
        require_converged(tmp_path, ["fit_displacement", "fit_migration"], allow_unconverged=False)
    assert require_converged(tmp_path, ["fit_displacement", "fit_migration"], allow_unconverged=True) == {
        "fit_displacement": True, "fit_migration": False}


# -- on the reduced demo run: the stages' outputs, reproduced -------------------------------------------------------
@pytest.mark.slow
def test_outcome_and_plausibility_equal_what_the_stages_wrote(small_demo_run: Path) -> None:
    from climmig.projection import FittedRun

    run_dir = small_demo_run.parent / "run"
    fitted = FittedRun.from_run_dir(run_dir)  # config and catalog from the run's resolved config.yaml
    assert fitted.has_migration and set(fitted.converged) == {"fit_displacement", "fit_migration"}
    state = fitted.baseline()
    assert fitted.baseline() is state
    out = fitted.outcome(state)
    proj = xr.load_dataset(run_dir / "projection" / "projection.nc")
    for v in ("expected_displacement", "displaced_persons", "cross_border_migration", "internal_migration"):
        # the stage stores float32: the same numbers, rounded once
        stored = proj[v]
        got = out[v].astype(stored.dtype).transpose(*stored.dims)
        np.testing.assert_array_equal(got.values, stored.values, err_msg=v)
        assert got.sizes == stored.sizes
    share = proj["evacuation_share"]
    np.testing.assert_array_equal(fitted.evacuation_share(state).astype(share.dtype).values, share.values)
    # displacement alone is the same prediction
    xr.testing.assert_identical(fitted.outcome(state, migration=False)["displaced_persons"],
                                out["displaced_persons"])
    check = fitted.plausibility()
    written = pd.read_csv(run_dir / "report_plausibility.csv")
    table = check.table()
    assert list(table.columns) == list(written.columns) and check.scenario == "ssp585"
    np.testing.assert_allclose(table.select_dtypes("number").round(0).values,
                               written.select_dtypes("number").values, atol=0.5)


@pytest.mark.slow
def test_reused_predictions_equal_recomputed_ones(small_demo_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from climmig.displacement import model as displacement
    from climmig.interventions.apply import apply_intervention, draw_effects
    from climmig.migration import model as migration
    from climmig.projection import FittedRun

    run_dir = small_demo_run.parent / "run"
    fitted = FittedRun.from_run_dir(run_dir)
    by_kind = {s.kind: s for s in fitted.cfg.interventions}
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

    base = fitted.baseline()
    draws = draw_effects([event_only, exposure], fitted.samples, 5)
    states = [base, apply_intervention(base, exposure, draws[exposure.id]),
              apply_intervention(base, event_only, draws[event_only.id]), base]
    # early warning changes only the outcome split: it keeps the drivers and the rate multiplier objects
    assert states[2].drivers is base.drivers and states[2].rate_multiplier is base.rate_multiplier
    got = [fitted.outcome(s) for s in states]
    # baseline, exposure option, early warning (its displacement and flows reused from the baseline), baseline
    assert calls == {"disp": 2, "flows": 2}
    fresh_run = FittedRun.from_run_dir(run_dir)
    for s, out in zip(states, got, strict=True):
        xr.testing.assert_identical(out, fresh_run.outcome(s))
    np.testing.assert_array_equal(got[2]["cross_border_migration"], got[0]["cross_border_migration"])
    assert not got[1]["displaced_persons"].equals(got[0]["displaced_persons"])
    # callers setting attrs do not touch the cached predictions
    got[0]["displaced_persons"].attrs["marker"] = "set by a caller"
    assert "marker" not in fitted.outcome(base)["displaced_persons"].attrs
    # fewer samples: a state of its own size, not a cached prediction of another size
    small = fitted.baseline(samples=5)
    assert fitted.outcome(small)["internal_migration"].sizes["sample"] == 5


@pytest.mark.slow
def test_stages_of_one_invocation_share_the_fitted_run(small_demo_run: Path, tmp_path: Path) -> None:
    import os
    import pickle
    import shutil

    from climmig.pipeline import stages
    from climmig.pipeline.context import make_context

    # a copy: the shared run's files must not change under the tests that read them on the other worker
    run = tmp_path / "run"
    shutil.copytree(small_demo_run.parent / "run", run)
    ctx = make_context(small_demo_run, output=run, progress=False)
    first = stages._fitted(ctx)
    assert stages._fitted(ctx) is first
    # a background process gets an empty memo; a fitted run pickles without its cached predictions
    assert pickle.loads(pickle.dumps(ctx)).memo == {}
    first.outcome(first.baseline(), migration=False)
    again = pickle.loads(pickle.dumps(first))
    assert again._disp_cache == [] and again.samples == first.samples
    # a changed fit file is reloaded
    mig = ctx.path("fits", "migration.nc")
    st = mig.stat()
    os.utime(mig, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    try:
        assert stages._fitted(ctx) is not first
    finally:
        os.utime(mig, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_no_model_arithmetic_in_the_pipeline() -> None:
    """The pipeline wires stages; drawing, rescaling and simulating live in the library (issue 33)."""
    import ast

    src = Path(__file__).resolve().parents[2] / "climmig" / "pipeline" / "stages.py"
    tree = ast.parse(src.read_text())
    called = {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
              for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for name in ("predict_displacement", "predict_flows", "evacuation_share_draws", "ones_like"):
        assert name not in called, name
    assert not any(isinstance(n, ast.ClassDef) for n in tree.body)
