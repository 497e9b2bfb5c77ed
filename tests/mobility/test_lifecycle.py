"""One lifecycle per model (issue 33): calibrate, reuse, save, load with a signature check, predict.

The lifecycle is under test here, not NUTS (``test_fit.py`` tests the sampler): the PyMC models' sampler is
replaced by prior draws stored as the posterior, which take a second instead of a compilation. The Laplace
gravity fit is real (a 30-country simulated panel).
"""

from __future__ import annotations

import copy
from pathlib import Path

import arviz as az
import numpy as np
import pymc as pm
import pytest
import xarray as xr

import climmig.migration.lifecycle as migration_lifecycle
import climmig.mobility.diagnostics as diagnostics
import climmig.mobility.lifecycle as lifecycle
from climmig.catalog import load_catalog
from climmig.config import parse_config
from climmig.displacement.calibration import load_observations
from climmig.displacement.lifecycle import DisplacementModel
from climmig.errors import ProvenanceMismatchError
from climmig.migration.lifecycle import InternalMigrationModel, MigrationData, MigrationModel
from climmig.mobility.diagnostics import CONVERGENCE_GROUP
from climmig.mobility.fit import _add_data_groups
from climmig.mobility.lifecycle import check_signature, frame_sha256
from climmig.provenance import stage_seed
from tests.mobility.test_gravity import _panel
from tests.mobility.test_migration_internal import simulate_internal_csv


def prior_fit(model, sampler, *, random_seed, model_name, attrs=None, progress=False):
    """Stands in for :func:`climmig.mobility.fit.fit`: prior draws as the posterior, with the fit's attrs."""
    with model:
        prior = pm.sample_prior_predictive(draws=sampler.draws, random_seed=random_seed,
                                           compile_kwargs={"mode": "FAST_COMPILE"}).prior
    idata = az.InferenceData(posterior=prior)
    _add_data_groups(idata, model)
    for group in idata.groups():  # as fit() writes them: on every group
        idata[group].attrs.update({"model_name": model_name, "random_seed": str(random_seed), **dict(attrs or {})})
    return idata


def no_sampling(*args, **kwargs):
    raise AssertionError("a matching saved fit must be reused, not refitted")


def _same_posterior(a, b) -> None:
    xr.testing.assert_equal(a.posterior, b.posterior)


def test_check_signature_names_what_differs() -> None:
    attrs = {"model_name": "m", "fit_config_sha256": "a" * 64, "data_sha256": "b" * 64}
    check_signature(attrs, {"model_name": "m", "data_sha256": "b" * 64}, "fit.nc")
    with pytest.raises(ProvenanceMismatchError, match=r"fit config .*; data "):
        check_signature(attrs, {"model_name": "m", "fit_config_sha256": "c" * 64, "data_sha256": "d" * 64}, "fit.nc")
    with pytest.raises(ProvenanceMismatchError, match="model structure"):
        check_signature(attrs, {"model_sha256": "e" * 64}, "fit.nc")


def test_frame_sha256_sees_values_columns_and_index(rng) -> None:
    import pandas as pd

    df = pd.DataFrame({"a": rng.normal(size=5), "b": np.arange(5)})
    assert frame_sha256(df) == frame_sha256(df.copy())
    assert frame_sha256(df) != frame_sha256(df.assign(b=df["b"] + 1))
    assert frame_sha256(df) != frame_sha256(df.rename(columns={"b": "c"}))
    assert frame_sha256(df) != frame_sha256(df.iloc[::-1])
    assert frame_sha256(df, 1) != frame_sha256(df, 2)


# ------------------------------------------------------------------------------------------ internal
def test_internal_model_round_trip_reuse_and_mismatch(monkeypatch, tiny, tmp_path) -> None:
    monkeypatch.setattr(lifecycle, "fit", prior_fit)
    csv = tmp_path / "internal.csv"
    simulate_internal_csv(np.random.default_rng(5), csv, n_zones=4)
    cfg = parse_config(tiny)
    path = tmp_path / "internal_migration.nc"
    model = InternalMigrationModel(cfg).calibrate(None, path=path, flows=csv)
    assert not model.reused and path.exists()
    assert model.idata.posterior.attrs["random_seed"] == str(stage_seed(cfg.seed, "fit_internal_migration"))
    # reuse: the saved fit comes back without sampling
    monkeypatch.setattr(lifecycle, "fit", no_sampling)
    again = InternalMigrationModel(cfg).calibrate(None, path=path, flows=csv)
    assert again.reused
    _same_posterior(again.idata, model.idata)
    # save -> load round trip, with and without the data check
    copy_path = model.save(tmp_path / "copy.nc")
    loaded = InternalMigrationModel.load(copy_path, cfg, flows=csv)
    _same_posterior(loaded.idata, model.idata)
    assert loaded.signature() == model.signature()
    InternalMigrationModel.load(copy_path, cfg)
    # a changed config, data or model structure is refused, naming what differs
    changed = copy.deepcopy(tiny)
    changed["mobility"]["migration"]["internal_priors"] = {"alpha": {"dist": "Gamma",
                                                                     "params": {"alpha": 3.0, "beta": 0.5}}}
    with pytest.raises(ProvenanceMismatchError, match="fit config"):
        InternalMigrationModel.load(copy_path, parse_config(changed))
    other = tmp_path / "other.csv"
    simulate_internal_csv(np.random.default_rng(6), other, n_zones=4)
    with pytest.raises(ProvenanceMismatchError, match="data") as exc:
        InternalMigrationModel.load(copy_path, cfg, flows=other)
    assert "fit config" not in str(exc.value)
    monkeypatch.setattr(InternalMigrationModel, "structure_sha256", lambda self, model: "0" * 64)
    with pytest.raises(ProvenanceMismatchError, match="model structure"):
        InternalMigrationModel.load(copy_path, cfg, flows=csv)
    # predict delegates to the posterior draws
    pop = xr.DataArray([1e6, 2e6], dims="region", coords={"region": ["A", "B"]})
    out = loaded.predict(pop, 1.0, samples=8, seed=1)
    assert out.sizes == {"sample": 8, "region": 2} and bool((out > 0).all())


# -------------------------------------------------------------------------------------- displacement
def test_displacement_model_round_trip_reuse_and_mismatch(monkeypatch, tiny, tmp_path) -> None:
    monkeypatch.setattr(lifecycle, "fit", prior_fit)
    tiny["mobility"]["displacement"].update(historical_intensity={}, hazards=["flood", "storm"])
    cfg = parse_config(tiny)
    catalog = load_catalog(tiny["catalog"])
    obs, sha = load_observations(cfg, catalog)
    obs = obs[obs["iso3"].isin(["ETH", "KEN", "SOM", "UGA"])]
    data = {"fit_until": 2012, "observations": obs, "observations_sha256": sha}
    model = DisplacementModel(cfg)
    path = model.default_path(tmp_path, 2012)
    assert path.name == "displacement_fit_until2012.nc"
    model.calibrate(catalog, path=path, **data)
    assert not model.reused and path.exists()
    # the displacement fit keeps the config's own seed, whichever command fits
    assert model.idata.posterior.attrs["random_seed"] == str(cfg.seed)
    cal = model.calibration()
    assert cal.path == path and not cal.reused and "passed" in cal.diagnostics
    assert "climmig_elasticity_summary" in model.idata.posterior.attrs
    monkeypatch.setattr(lifecycle, "fit", no_sampling)
    again = DisplacementModel(cfg).calibrate(catalog, path=path, **data)
    assert again.reused
    # the gate's R-hat and ESS were stored with the fit when it was sampled: a reused fit does not recompute them
    assert CONVERGENCE_GROUP in az.from_netcdf(path).groups()
    monkeypatch.setattr(diagnostics, "check_convergence", no_sampling)
    assert again.calibration().reused
    assert bool(again.diagnostics()["passed"]) == bool(cal.diagnostics["passed"])
    _same_posterior(again.idata, model.idata)
    loaded = DisplacementModel.load(model.save(tmp_path / "copy.nc"), cfg, catalog, **data)
    _same_posterior(loaded.idata, model.idata)
    changed = copy.deepcopy(tiny)
    changed["seed"] = tiny["seed"] + 1
    with pytest.raises(ProvenanceMismatchError, match="fit config"):
        DisplacementModel.load(path, parse_config(changed))
    with pytest.raises(ProvenanceMismatchError, match="data") as exc:
        DisplacementModel.load(path, cfg, catalog, **{**data, "observations_sha256": "another source"})
    assert "structure" not in str(exc.value)
    with pytest.raises(ProvenanceMismatchError, match="model structure"):  # one country fewer
        DisplacementModel.load(path, cfg, catalog, **{**data, "observations": obs[obs["iso3"] != "UGA"]})
    with pytest.raises(ProvenanceMismatchError, match="no saved fit"):
        DisplacementModel.load(tmp_path / "missing.nc", cfg)


# ------------------------------------------------------------------------------- cross-border, Laplace
def _simulated_prepare(n: int):
    panel = _panel(np.random.default_rng(3), n=n)

    def prepare(self, catalog, *, flows=None):
        from climmig.migration.gravity import panel_design

        design, attrs = panel_design(panel)
        return MigrationData(panel=panel, design=design, panel_attrs=attrs)

    return prepare


def test_laplace_migration_model_round_trip_reuse_and_mismatch(monkeypatch, tiny, tmp_path) -> None:
    cfg = parse_config(tiny)
    assert cfg.mobility.migration.fit == "laplace"
    monkeypatch.setattr(MigrationModel, "prepare", _simulated_prepare(30))
    path = tmp_path / "migration.nc"
    model = MigrationModel(cfg).calibrate(None, path=path)
    assert model.method == "laplace" and not model.reused
    assert model.build(model.data) is model.data.design  # no PyMC graph: the design
    passed, text, diag = model.gate()
    assert passed and "converged" in text and diag is None
    assert model.idata.posterior.attrs["model_sha256"] == model.structure_sha256(model.model)
    monkeypatch.setattr(migration_lifecycle, "fit_gravity", no_sampling)
    again = MigrationModel(cfg).calibrate(None, path=path)
    assert again.reused
    _same_posterior(again.idata, model.idata)
    loaded = MigrationModel.load(model.save(tmp_path / "copy.nc"), cfg, None, flows=None)
    _same_posterior(loaded.idata, model.idata)
    changed = copy.deepcopy(tiny)
    changed["mobility"]["migration"]["flow_measure"] = "da_pb_closed_outward"
    with pytest.raises(ProvenanceMismatchError, match="fit config"):
        MigrationModel.load(path, parse_config(changed))
    monkeypatch.setattr(MigrationModel, "prepare", _simulated_prepare(25))
    with pytest.raises(ProvenanceMismatchError, match="data .*model structure"):
        MigrationModel.load(path, cfg, None, flows=None)


# --------------------------------------------------------------------------------- cross-border, NUTS
def _nuts_config(tiny: dict, run_dir: Path) -> dict:
    mig = {**tiny["mobility"]["migration"], "flows": "abel_cohen_flows_40", "fit": "nuts", "internal_fit": "prior",
           "forced_displacement": "none"}
    return {**tiny, "mobility": {**tiny["mobility"], "migration": mig,
                                 "gate": {**tiny["mobility"]["gate"], "allow_unconverged": True}},
            "outputs": {"run_dir": str(run_dir)}}


def test_the_command_and_the_stage_write_the_same_migration_fit(monkeypatch, tiny, write_config, tmp_path) -> None:
    from climmig.cli._migration import fit_migration_cmd
    from climmig.mobility.fit import load_fit
    from climmig.pipeline.context import make_context
    from climmig.pipeline.stages import stage_fit_migration

    monkeypatch.setattr(lifecycle, "fit", prior_fit)
    path = write_config(_nuts_config(tiny, tmp_path / "run"))
    fit_migration_cmd(config=path, internal_flows=None, flows=None, out=tmp_path / "cli.nc", cross_border=True,
                      refit=False)
    summary = stage_fit_migration(make_context(path, progress=False))
    assert not summary["reused"]
    cli, stage = load_fit(tmp_path / "cli.nc"), load_fit(tmp_path / "run" / "fits" / "migration.nc")
    # the same draws and attrs (signature, seed, config hash), apart from the time of writing
    xr.testing.assert_identical(*(f.posterior.assign_attrs(created_at="") for f in (cli, stage)))
    cfg = parse_config(_nuts_config(tiny, tmp_path / "run"))
    assert cli.posterior.attrs["random_seed"] == str(stage_seed(cfg.seed, "fit_migration"))
    # a rerun of the stage, or the command on the stage's file, reuses the fit instead of sampling
    monkeypatch.setattr(lifecycle, "fit", no_sampling)
    assert stage_fit_migration(make_context(path, progress=False))["reused"]
    fit_migration_cmd(config=path, internal_flows=None, flows=None, out=None, cross_border=True, refit=False)
    model = MigrationModel.load(tmp_path / "run" / "fits" / "migration.nc", cfg, load_catalog(tiny["catalog"]))
    assert model.method == "nuts" and model.signature()["model_sha256"] == cli.posterior.attrs["model_sha256"]
