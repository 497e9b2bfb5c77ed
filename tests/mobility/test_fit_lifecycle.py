"""The PRMN and UNHCR fits of a run go through the model lifecycle: reuse, refit, save/load with a check.

:class:`~climmig.migration.lifecycle_datasets.InternalClimateModel` and
:class:`~climmig.migration.lifecycle_datasets.ForcedDisplacementModel` on the bundled catalog. The PRMN fit is
the real one (about 10 observations, half a second). The UNHCR fit of all 196 origins (dense linear algebra)
took 0.6 s on an idle machine but 15 s with both cores busy, so it is fitted on about 30 of them (the real
table, cut); ``test_the_stage_fits_are_the_old_ones`` checks that the run's functions write what they wrote
before the lifecycle, and reuse their fits on a rerun.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
import yaml

import climmig.migration.forced as forced
import climmig.migration.internal_climate as internal_climate
import climmig.migration.lifecycle_datasets as datasets
from climmig.catalog import load_catalog
from climmig.config import parse_config
from climmig.config.schema import science_hash
from climmig.errors import ProvenanceMismatchError
from climmig.migration.forced import fit_forced
from climmig.migration.internal_climate import elasticity_table, fit_internal_climate
from climmig.migration.lifecycle_datasets import (
    DatasetFitModel,
    ForcedDisplacementModel,
    InternalClimateModel,
)
from climmig.mobility.lifecycle import SIGNATURE_KEYS
from tests.conftest import CATALOG, DEMO
from tests.mobility.test_lifecycle import no_sampling


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(CATALOG)


@pytest.fixture(scope="module")
def tables(catalog) -> dict[str, pd.DataFrame]:
    """The prepared tables, read once: PRMN as it is, UNHCR cut to about 30 origins (SOM, ETH, KEN among them)."""
    cfg = parse_config({**yaml.safe_load(DEMO.read_text()), "catalog": str(CATALOG)})
    rows = ForcedDisplacementModel(cfg).prepare(catalog)
    origins = sorted(rows["origin"].unique())
    keep = {"SOM", "ETH", "KEN", *origins[::len(origins) // 27]}
    return {"internal": InternalClimateModel(cfg).prepare(catalog),
            "forced": rows[rows["origin"].isin(keep)].reset_index(drop=True)}


CASES = {"internal": (InternalClimateModel, "fit_internal_climate", fit_internal_climate, "moves"),
         "forced": (ForcedDisplacementModel, "fit_forced", fit_forced, "flow")}


def _serve(monkeypatch, cls: type[DatasetFitModel], table: pd.DataFrame) -> None:
    """Make ``cls.prepare`` return ``table`` (a copy), instead of reading the catalog again."""
    monkeypatch.setattr(cls, "prepare", lambda self, catalog: table.copy())


def _spy(monkeypatch, name: str, real) -> list[int]:
    """Count the calls of the fit function ``name`` of the lifecycle module (each is a fit)."""
    calls: list[int] = []

    def spy(table, **kwargs):
        calls.append(kwargs["seed"])
        return real(table, **kwargs)

    monkeypatch.setattr(datasets, name, spy)
    return calls


@pytest.mark.parametrize("which", ["internal", "forced"])
def test_reuse_refit_round_trip_and_mismatch(which, monkeypatch, demo_dict, catalog, tables, tmp_path) -> None:
    cls, name, real, column = CASES[which]
    table = tables[which]
    _serve(monkeypatch, cls, table)
    cfg = parse_config(demo_dict)
    path = tmp_path / "fit.nc"
    calls = _spy(monkeypatch, name, real)
    model = cls(cfg).calibrate(catalog, path=path)
    # the seed of the run before the lifecycle, and the same numbers as the fit function called with it
    assert calls == [int(cfg.seed) % 2**32] and not model.reused and path.exists()
    xr.testing.assert_equal(model.idata, real(table, seed=int(cfg.seed) % 2**32))
    attrs = xr.load_dataset(path).attrs
    assert {k: attrs[k] for k in SIGNATURE_KEYS} == model.signature()
    # the provenance stamp of the run's file, as before: config hash, seed, history line
    assert attrs["climmig_config_sha256"] == science_hash(cfg) and attrs["climmig_seed"] == str(cfg.seed)
    assert model.title in attrs["history"]

    # a matching saved fit is reused, not refitted
    monkeypatch.setattr(datasets, name, no_sampling)
    again = cls(cfg).calibrate(catalog, path=path)
    assert again.reused
    xr.testing.assert_identical(again.idata, model.idata)

    # save -> load round trip: the same values and attrs, with and without the data check
    copy_path = model.save(tmp_path / "copy.nc")
    loaded = cls.load(copy_path, cfg, catalog)
    xr.testing.assert_identical(loaded.idata, model.idata)
    assert loaded.signature() == model.signature()
    cls.load(copy_path, cfg)

    # another seed, or one value of the table changed: load refuses, naming what differs ...
    changed = copy.deepcopy(demo_dict)
    changed["seed"] = demo_dict["seed"] + 1
    with pytest.raises(ProvenanceMismatchError, match="fit config") as exc:
        cls.load(copy_path, parse_config(changed))
    assert "data" not in str(exc.value)
    other = table.copy()
    other.loc[0, column] += 1.0
    _serve(monkeypatch, cls, other)
    with pytest.raises(ProvenanceMismatchError, match="data") as exc:
        cls.load(copy_path, cfg, catalog)
    assert "fit config" not in str(exc.value) and "structure" not in str(exc.value)
    with pytest.raises(ProvenanceMismatchError, match="no saved fit"):
        cls.load(tmp_path / "missing.nc", cfg)

    # ... and calibrate refits (and saves the new fit over the old one)
    calls = _spy(monkeypatch, name, real)
    refit = cls(cfg).calibrate(catalog, path=path)
    assert calls == [int(cfg.seed) % 2**32] and not refit.reused
    assert xr.load_dataset(path).attrs["data_sha256"] == refit.signature()["data_sha256"] != \
        model.signature()["data_sha256"]
    _serve(monkeypatch, cls, table)
    cls(parse_config(changed)).calibrate(catalog, path=path)
    assert calls == [int(cfg.seed) % 2**32, int(changed["seed"]) % 2**32]


def test_an_earlier_model_version_is_refitted(monkeypatch, demo_dict, catalog, tables, tmp_path) -> None:
    """Other fit settings or one origin fewer change the model structure."""
    cfg = parse_config(demo_dict)
    _serve(monkeypatch, InternalClimateModel, tables["internal"])
    path = InternalClimateModel(cfg).calibrate(catalog, path=tmp_path / "internal.nc").save(tmp_path / "internal.nc")
    monkeypatch.setattr(datasets, "INTERNAL_CLIMATE_SETTINGS", {**datasets.INTERNAL_CLIMATE_SETTINGS, "draws": 1000})
    with pytest.raises(ProvenanceMismatchError, match="model structure") as exc:
        InternalClimateModel.load(path, cfg, catalog)
    assert "data" not in str(exc.value)
    rows = tables["forced"]
    _serve(monkeypatch, ForcedDisplacementModel, rows)
    path = ForcedDisplacementModel(cfg).calibrate(catalog, path=tmp_path / "forced.nc").path
    _serve(monkeypatch, ForcedDisplacementModel, rows[rows["origin"] != "KEN"].reset_index(drop=True))
    with pytest.raises(ProvenanceMismatchError, match="data .*model structure"):
        ForcedDisplacementModel.load(path, cfg, catalog)


def test_predict_delegates(monkeypatch, demo_dict, catalog, tables) -> None:
    from climmig.migration.internal_climate import internal_draws_with_climate_posterior

    cfg = parse_config(demo_dict)
    _serve(monkeypatch, InternalClimateModel, tables["internal"])
    internal = InternalClimateModel(cfg).calibrate(catalog)
    xr.testing.assert_identical(internal.predict(50, 3), internal_draws_with_climate_posterior(internal.idata, 50, 3))
    _serve(monkeypatch, ForcedDisplacementModel, tables["forced"])
    forced = ForcedDisplacementModel(cfg).calibrate(catalog)
    regions = ["ETH", "KEN", "SOM"]
    coords = {"scenario": ["ssp126"], "year": [2030, 2031], "region": regions}
    ones = xr.DataArray([[[1.0] * 3] * 2], dims=("scenario", "year", "region"), coords=coords)
    drivers = xr.Dataset({"population": 1e7 * ones, "gdp_per_capita": 1e3 * ones, "internal_exposure_ratio": ones})
    out = forced.predict(drivers, pd.Series(2.0, index=regions), samples=20, seed=4)
    assert out.sizes == {"sample": 20, "scenario": 1, "year": 2, "region": 3} and bool((out >= 0).all())


def test_the_stage_fits_are_the_old_ones(monkeypatch, demo_dict, catalog, tables, tmp_path) -> None:
    """``fit_internal_climate_for_run`` and ``fit_forced_for_run`` write what they wrote before, and a rerun
    reuses both fits (the tables and headline lines then come from the saved fits, unchanged)."""
    from climmig.migration.run import fit_forced_for_run, fit_internal_climate_for_run
    from climmig.pipeline.context import RunContext

    cfg = parse_config(demo_dict)
    ctx = RunContext(cfg=cfg, config_file=Path("cfg.yaml"), catalog=catalog, run_dir=tmp_path,
                     cfg_hash=science_hash(cfg), progress=False)
    _serve(monkeypatch, ForcedDisplacementModel, tables["forced"])  # the 15 s fit of every origin spared

    def stage() -> tuple[list[str], list[str], dict[str, bytes]]:
        headline: list[str] = []
        outputs = fit_internal_climate_for_run(ctx, headline) + fit_forced_for_run(ctx, headline)
        return outputs, headline, {f: (tmp_path / f).read_bytes() for f in outputs if f.endswith(".csv")}

    outputs, headline, files = stage()
    assert outputs == ["fits/internal_climate.nc", "fits/internal_climate_prior_posterior.csv",
                       "fits/internal_climate_observations.csv", "fits/forced_displacement.nc",
                       "fits/forced_displacement_coefficients.csv"]
    seed = int(cfg.seed) % 2**32
    old = {"internal": fit_internal_climate(tables["internal"], seed=seed),
           "forced": fit_forced(tables["forced"], seed=seed)}
    for name, which in (("internal_climate.nc", "internal"), ("forced_displacement.nc", "forced")):
        xr.testing.assert_equal(xr.load_dataset(tmp_path / "fits" / name), old[which])
    expected = elasticity_table(old["internal"]).to_csv(index=False, float_format="%.5g")
    assert files["fits/internal_climate_prior_posterior.csv"].decode() == expected
    assert headline[0].startswith("internal climate elasticity (PRMN Somalia, 10 reason-years")
    assert headline[1].startswith(f"forced displacement abroad (UNHCR, {len(tables['forced'])} origin-years)")
    # the rerun fits nothing (neither through the lifecycle module nor the science modules) and leaves the files
    for module, name in ((datasets, "fit_internal_climate"), (datasets, "fit_forced"),
                         (internal_climate, "fit_internal_climate"), (forced, "fit_forced")):
        monkeypatch.setattr(module, name, no_sampling)
    written = {f: (tmp_path / f).stat().st_mtime_ns for f in outputs if f.endswith(".nc")}
    assert stage() == (outputs, headline, files)
    assert written == {f: (tmp_path / f).stat().st_mtime_ns for f in written}


def test_a_new_run_folder_takes_both_fits_from_the_cache_and_says_so(monkeypatch, demo_dict, catalog, tables,
                                                                      tmp_path) -> None:
    from climmig.migration.run import fit_forced_for_run, fit_internal_climate_for_run
    from climmig.mobility import fit_cache
    from climmig.pipeline.context import RunContext

    monkeypatch.setenv(fit_cache.ENV_VAR, str(tmp_path / "cache"))
    cfg = parse_config(demo_dict)
    _serve(monkeypatch, ForcedDisplacementModel, tables["forced"])

    def stage(run: Path) -> list[str]:
        ctx = RunContext(cfg=cfg, config_file=Path("cfg.yaml"), catalog=catalog, run_dir=run,
                         cfg_hash=science_hash(cfg), progress=False)
        headline: list[str] = []
        fit_internal_climate_for_run(ctx, headline)
        fit_forced_for_run(ctx, headline)
        return headline

    first = stage(tmp_path / "a")
    assert not any("fit cache" in line for line in first)
    for module, name in ((datasets, "fit_internal_climate"), (datasets, "fit_forced")):
        monkeypatch.setattr(module, name, no_sampling)
    second = stage(tmp_path / "b")
    assert all("taken from the fit cache" in line for line in second)
    # the same numbers, in a new folder
    assert [line.split(" (the same fit")[0] for line in second] == first
    for name in ("internal_climate.nc", "forced_displacement.nc"):
        xr.testing.assert_equal(xr.load_dataset(tmp_path / "a" / "fits" / name),
                                xr.load_dataset(tmp_path / "b" / "fits" / name))
