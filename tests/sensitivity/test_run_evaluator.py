"""The evaluator over a finished run: clear refusals, and on a real (reduced) demo run it reproduces the
pipeline's own numbers without refitting, and a threshold changed through the cached layers gives the same
exposure as rebuilding it."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from climmig.config import load_config
from climmig.sensitivity import SensitivityError, apply_parameters, parse_problem, run_evaluator

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "configs" / "demo.yaml"


def _problem(paths: list[str], outputs: list[str], **extra) -> object:
    return parse_problem({"method": "morris", "n": 2, "seed": 1, "outputs": outputs,
                          "parameters": [{"path": p, "bounds": [0.1, 0.9]} for p in paths], **extra}, "test")


def test_parameters_that_need_a_refit_are_refused(tmp_path: Path) -> None:
    cfg = load_config(DEMO)
    prob = _problem(["mobility.sampler.target_accept", "hazards.flood.threshold"], ["displaced_persons"])
    with pytest.raises(SensitivityError, match=r"mobility.sampler.target_accept changes the fitted") as info:
        run_evaluator(cfg, DEMO, prob, run_dir=tmp_path)
    assert "climmig run" in str(info.value) and "hazards.flood" not in str(info.value).split(".")[0]


def test_unknown_outputs_are_named_with_the_fix(tmp_path: Path) -> None:
    cfg = load_config(DEMO)
    with pytest.raises(SensitivityError, match=r"name the option: averted_displacement.<id>"):
        run_evaluator(cfg, DEMO, _problem(["hazards.flood.threshold"], ["averted_displacement"]), run_dir=tmp_path)
    with pytest.raises(SensitivityError, match=r"did you mean 'averted_displacement.early_warning'"):
        run_evaluator(cfg, DEMO, _problem(["hazards.flood.threshold"], ["averted_displacement.early_warnin"]),
                      run_dir=tmp_path)


def test_without_a_finished_run_it_says_how_to_make_one(tmp_path: Path) -> None:
    cfg = load_config(DEMO)
    with pytest.raises(SensitivityError, match=r"no current inputs, exposure, fit_displacement stage.*climmig run"):
        run_evaluator(cfg, DEMO, _problem(["hazards.flood.threshold"], ["displaced_persons"]), run_dir=tmp_path)


def _fit_digests(run_dir: Path) -> dict[str, float]:
    return {p.name: p.stat().st_mtime_ns for p in (run_dir / "fits").iterdir()}


@pytest.mark.slow
def test_current_values_reproduce_the_pipeline_without_refitting(small_demo_run: Path) -> None:
    from climmig.projection.uncertainty import horizon_mean

    cfg = load_config(small_demo_run)
    run_dir = small_demo_run.parent / "run"
    before = _fit_digests(run_dir)
    prob = _problem(["hazards.flood.threshold", "interventions.early_warning.effect.params.alpha"],
                    ["displaced_persons", "averted_displacement.early_warning",
                     "cost_per_person_averted.cash_plus_defences", "prob_best.early_warning"])
    ev = run_evaluator(cfg, small_demo_run, prob)
    # the run's values (early warning's Beta(6, 14) comes from the evidence table)
    out = ev({"hazards.flood.threshold": 20.0, "interventions.early_warning.effect.params.alpha": 6.0})
    assert set(out.data_vars) == set(prob.outputs) and all(out[v].dims == ("horizon",) for v in out.data_vars)
    assert out["cost_per_person_averted.cash_plus_defences"].attrs["units"] == "USD per person"
    proj = xr.load_dataset(run_dir / "projection" / "projection.nc")
    total = horizon_mean(proj["displaced_persons"].astype(float).sum(["region", "hazard"]), cfg.horizons)
    expect = total.median(["sample", "scenario", "climate_model"])
    np.testing.assert_allclose(out["displaced_persons"].values, expect.values, rtol=1e-5)
    cmp = xr.load_dataset(run_dir / "interventions" / "comparison.nc").sel(intervention="early_warning")
    expect = cmp["averted_displacement"].sum("region").median(["sample", "scenario"])
    np.testing.assert_allclose(out["averted_displacement.early_warning"].values, expect.values, rtol=1e-6)
    np.testing.assert_allclose(out["prob_best.early_warning"].values,
                               cmp["prob_best"].mean("scenario").values, atol=1e-12)
    # a larger effect averts more; a stricter flood threshold changes displacement: inputs reach the outputs
    more = ev({"hazards.flood.threshold": 40.0, "interventions.early_warning.effect.params.alpha": 12.0})
    assert (more["averted_displacement.early_warning"] > out["averted_displacement.early_warning"]).all()
    assert not np.allclose(more["displaced_persons"], out["displaced_persons"])
    assert _fit_digests(run_dir) == before  # nothing was refitted or rewritten
    again = pickle.loads(pickle.dumps(ev))  # for distributed clients
    xr.testing.assert_identical(again({"hazards.flood.threshold": 40.0,
                                       "interventions.early_warning.effect.params.alpha": 12.0}), more)
    assert json.loads(ev.provenance()["climmig_sensitivity_reused"]).keys() == {
        "exposure", "fit_displacement", "fit_migration"}


@pytest.mark.slow
def test_what_if_comparison_of_the_run_config_equals_the_runs_own_with_migration(small_demo_run: Path) -> None:
    """The evaluator projects through the run's FittedRun: same draws, and migration where the run has it."""
    cfg = load_config(small_demo_run)
    run_dir = small_demo_run.parent / "run"
    ev = run_evaluator(cfg, small_demo_run)
    assert ev.fitted.has_migration
    got = ev.comparison(cfg)
    ref = xr.load_dataset(run_dir / "interventions" / "comparison.nc")
    assert set(got.data_vars) == set(ref.data_vars)
    assert {"migration_change_cross_border", "migration_change_internal"} <= set(got.data_vars)
    for v in ref.data_vars:
        stored = ref[v].reset_coords(drop=True)
        np.testing.assert_array_equal(got[v].reset_coords(drop=True).astype(stored.dtype).transpose(
            *stored.dims).values, stored.values, err_msg=v)


@pytest.mark.slow
def test_threshold_through_cached_layers_equals_a_rebuilt_exposure(small_demo_run: Path) -> None:
    import dask

    from climmig.catalog import load_catalog
    from climmig.config import catalog_path
    from climmig.exposure import build_exposure

    cfg = load_config(small_demo_run)
    prob = _problem(["hazards.flood.threshold", "hazards.drought.threshold"], ["displaced_persons"])
    ev = run_evaluator(cfg, small_demo_run, prob)
    new = apply_parameters(cfg, {"hazards.flood.threshold": 40.0, "hazards.drought.threshold": 1.3})
    got = ev.exposure(new)
    with dask.config.set(scheduler="threads", num_workers=2):
        ref = build_exposure(new, load_catalog(catalog_path(new, small_demo_run))).compute()
    for v in ("exposed_population", "exposed_population_baseline", "livelihood_weighted_exposure",
              "hazard_intensity"):
        xr.testing.assert_allclose(got[v].reset_coords(drop=True), ref[v].reset_coords(drop=True).transpose(
            *got[v].dims), rtol=1e-6)
    base = ev.exposure(cfg)["exposed_population"]
    assert not np.allclose(got["exposed_population"].sel(hazard="flood"), base.sel(hazard="flood"))


def test_a_fit_that_failed_the_gate_is_refused_like_the_pipeline_does(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from climmig.config import science_hash
    from climmig.errors import ConvergenceError
    from climmig.pipeline.runner import Stage, execute
    from climmig.pipeline.stages import build_stages

    cfg = load_config(DEMO)
    # a config that does not allow unconverged fits (explicitly, whatever the demo sets)
    gate = cfg.mobility.gate.model_copy(update={"allow_unconverged": False})
    cfg = cfg.model_copy(update={"mobility": cfg.mobility.model_copy(update={"gate": gate})})

    def fake(name: str):
        def run(ctx) -> dict:
            (tmp_path / f"{name}.txt").write_text(name)
            return {"outputs": [f"{name}.txt"], "passed": False, "gate": "convergence FAILED: R-hat 1.2"}
        return run

    stages = [Stage(s.name, fake(s.name), s.depends_on, version=s.version) for s in build_stages()
              if s.name in ("inputs", "exposure", "fit_displacement")]
    execute(stages, SimpleNamespace(run_dir=tmp_path, cfg_hash=science_hash(cfg)))
    with pytest.raises(ConvergenceError, match=r"did not converge \(convergence FAILED: R-hat 1.2\)"):
        run_evaluator(cfg, DEMO, _problem(["hazards.flood.threshold"], ["displaced_persons"]), run_dir=tmp_path)
