"""Fits shared between runs (``climmig.mobility.fit_cache``): reuse by signature in any output folder, never a
fit of another model, data, setting, library or code.

As in ``test_lifecycle.py`` the sampler is replaced by prior draws (the lifecycle is under test, not NUTS).
The test session runs with ``CLIMMIG_FIT_CACHE=off`` (``tests/conftest.py``); these tests point it at their
own directory.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import numpy as np
import pytest

import climmig.mobility.fit_cache as fit_cache
import climmig.mobility.lifecycle as lifecycle
from climmig.config import parse_config, science_hash
from climmig.io.digest import content_digest
from climmig.migration.lifecycle import InternalMigrationModel
from tests.mobility.test_lifecycle import no_sampling, prior_fit
from tests.mobility.test_migration_internal import simulate_internal_csv


@pytest.fixture
def flows(tmp_path) -> Path:
    csv = tmp_path / "internal.csv"
    simulate_internal_csv(np.random.default_rng(5), csv, n_zones=4)
    return csv


def test_cache_root_follows_the_setting_and_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv(fit_cache.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fit_cache.cache_root("auto") == tmp_path / "xdg" / "climmig" / "fits"
    assert fit_cache.cache_root(None) == tmp_path / "xdg" / "climmig" / "fits"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert fit_cache.cache_root("auto") == Path("~/.cache/climmig/fits").expanduser()
    assert fit_cache.cache_root("off") is None
    assert fit_cache.cache_root("~/fits") == Path.home() / "fits"
    monkeypatch.setenv("SCRATCH_FOR_TEST", str(tmp_path / "scratch"))
    assert fit_cache.cache_root("$SCRATCH_FOR_TEST/fits") == tmp_path / "scratch" / "fits"
    monkeypatch.setenv(fit_cache.ENV_VAR, "off")  # the environment wins over the config
    assert fit_cache.cache_root(str(tmp_path)) is None
    monkeypatch.setenv(fit_cache.ENV_VAR, str(tmp_path / "env"))
    assert fit_cache.cache_root("off") == tmp_path / "env"


def test_the_key_changes_with_libraries_and_source(monkeypatch) -> None:
    sig = {"model_name": "m", "fit_config_sha256": "a", "data_sha256": "b", "model_sha256": "c"}
    key = fit_cache.cache_key(sig)
    assert key == fit_cache.cache_key(dict(sig))
    assert key != fit_cache.cache_key({**sig, "data_sha256": "x"})
    versions = fit_cache.package_versions()
    monkeypatch.setattr(fit_cache, "package_versions", lambda: {**versions, "pymc": "0.0.1"})
    assert fit_cache.cache_key(sig) != key
    monkeypatch.undo()
    monkeypatch.setattr(fit_cache, "source_digest", lambda: "0" * 64)
    assert fit_cache.cache_key(sig) != key


def test_a_second_run_reuses_the_fit_from_the_cache_with_its_own_provenance(monkeypatch, tiny, flows,
                                                                             tmp_path) -> None:
    monkeypatch.setenv(fit_cache.ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(lifecycle, "fit", prior_fit)
    cfg = parse_config(tiny)
    first = InternalMigrationModel(cfg).calibrate(None, path=tmp_path / "a" / "fit.nc", flows=flows)
    assert not first.reused and first.cached_from is None
    kept = list((tmp_path / "cache").glob("*.nc"))
    assert len(kept) == 1 and kept[0].name.startswith(first.model_name)

    # another config that fits the same model (only the projection differs), another output folder
    other = copy.deepcopy(tiny)
    other["projection"]["samples"] = 17
    cfg_b = parse_config(other)
    assert science_hash(cfg_b) != science_hash(cfg)
    fresh_b = InternalMigrationModel(cfg_b)
    monkeypatch.setenv(fit_cache.ENV_VAR, "off")
    fresh_b.calibrate(None, path=tmp_path / "fresh" / "fit.nc", flows=flows)
    monkeypatch.setenv(fit_cache.ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(lifecycle, "fit", no_sampling)
    b = InternalMigrationModel(cfg_b).calibrate(None, path=tmp_path / "b" / "fit.nc", flows=flows)
    assert b.reused and b.cached_from == kept[0]
    # what the run holds is what it would have fitted itself, stamped with its own config
    assert b.idata.posterior.attrs["config_sha256"] == science_hash(cfg_b)
    assert content_digest(tmp_path / "b" / "fit.nc") == content_digest(tmp_path / "fresh" / "fit.nc")
    assert content_digest(tmp_path / "b" / "fit.nc") != content_digest(tmp_path / "a" / "fit.nc")


def test_the_cache_never_serves_another_fit(monkeypatch, tiny, flows, tmp_path) -> None:
    monkeypatch.setenv(fit_cache.ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(lifecycle, "fit", prior_fit)
    InternalMigrationModel(parse_config(tiny)).calibrate(None, path=tmp_path / "a.nc", flows=flows)
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return prior_fit(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "fit", counted)
    changed = copy.deepcopy(tiny)  # a fit setting: another prior
    changed["mobility"]["migration"]["internal_priors"] = {"alpha": {"dist": "Gamma",
                                                                     "params": {"alpha": 3.0, "beta": 0.5}}}
    m = InternalMigrationModel(parse_config(changed)).calibrate(None, path=tmp_path / "b.nc", flows=flows)
    assert calls == [1] and m.cached_from is None
    other = tmp_path / "other.csv"  # other data
    simulate_internal_csv(np.random.default_rng(6), other, n_zones=4)
    InternalMigrationModel(parse_config(tiny)).calibrate(None, path=tmp_path / "c.nc", flows=other)
    assert calls == [1, 1]
    # --refit (reuse=False) fits even when the cache holds the fit
    m = InternalMigrationModel(parse_config(tiny)).calibrate(None, path=tmp_path / "d.nc", flows=flows, reuse=False)
    assert calls == [1, 1, 1] and m.cached_from is None
    # with the cache off nothing is read from it
    monkeypatch.setenv(fit_cache.ENV_VAR, "off")
    InternalMigrationModel(parse_config(tiny)).calibrate(None, path=tmp_path / "e.nc", flows=flows)
    assert len(calls) == 4


def test_an_unwritable_cache_costs_a_warning_not_the_run(monkeypatch, tiny, flows, tmp_path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(fit_cache.ENV_VAR, str(blocker / "cache"))
    monkeypatch.setattr(lifecycle, "fit", prior_fit)
    with caplog.at_level(logging.WARNING, logger="climmig.mobility.fit_cache"):
        m = InternalMigrationModel(parse_config(tiny)).calibrate(None, path=tmp_path / "a.nc", flows=flows)
    assert (tmp_path / "a.nc").exists() and not m.reused
    assert "could not keep the fit in the cache" in caplog.text and fit_cache.ENV_VAR in caplog.text


def test_a_run_in_a_new_folder_takes_its_fit_from_the_cache_and_says_so(monkeypatch, tiny, write_config,
                                                                         tmp_path) -> None:
    from climmig.pipeline.context import make_context
    from climmig.pipeline.stages import stage_fit_migration
    from tests.mobility.test_lifecycle import _nuts_config

    monkeypatch.setenv(fit_cache.ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(lifecycle, "fit", prior_fit)
    first = stage_fit_migration(make_context(write_config(_nuts_config(tiny, tmp_path / "a"), "a.yaml"),
                                             progress=False))
    assert not first["reused"] and "fit cache" not in first["headline"][0]
    monkeypatch.setattr(lifecycle, "fit", no_sampling)
    second = stage_fit_migration(make_context(write_config(_nuts_config(tiny, tmp_path / "b"), "b.yaml"),
                                              progress=False))
    assert second["reused"] and "taken from the fit cache" in second["headline"][0]
    a, b = (content_digest(tmp_path / d / "fits" / "migration.nc") for d in "ab")
    assert a == b  # the same config: the same fit, whichever folder


def test_an_empty_cache_setting_names_the_field_and_the_values(tiny) -> None:
    from climmig.errors import ConfigError

    tiny["compute"] = {**tiny.get("compute", {}), "fit_cache": "  "}
    with pytest.raises(ConfigError) as info:
        parse_config(tiny)
    assert "compute -> fit_cache" in str(info.value) and "'auto'" in str(info.value) and "'off'" in str(info.value)
    tiny["compute"]["fit_cache"] = "/scratch/me/fits"
    assert parse_config(tiny).compute.fit_cache == "/scratch/me/fits"


def test_the_fits_command_lists_and_clears_the_cache(monkeypatch, tiny, write_config, tmp_path, capsys) -> None:
    from climmig.cli import main

    root = tmp_path / "cache"
    root.mkdir()
    (root / f"displacement_hurdle_skewnormal-{'0' * 40}.nc").write_bytes(b"x" * 2_000_000)
    (root / f"migration_gravity_negbin_laplace-{'a' * 40}.nc").write_bytes(b"x" * 1_000_000)
    (root / f".migration_gravity_negbin_laplace-{'b' * 40}.nc.123.tmp").write_bytes(b"x")  # an interrupted copy
    (root / "my_results.nc").write_bytes(b"mine")  # not the cache's: never listed or deleted
    monkeypatch.setenv(fit_cache.ENV_VAR, str(root))

    def cli(*args: str) -> str:
        with pytest.raises(SystemExit) as exc:
            main(list(args))
        assert exc.value.code in (0, None)
        return capsys.readouterr().out

    listed = cli("fits", "list")
    assert "2 fits, 3 MB" in listed and "displacement_hurdle_skewnormal" in listed and "migration_gravity" in listed
    assert "deleted 3 files (3 MB)" in cli("fits", "clear", "--yes")
    assert [p.name for p in root.iterdir()] == ["my_results.nc"] and "nothing to clear" in cli("fits", "clear", "--yes")
    # a config's compute.fit_cache names the cache when the environment does not
    monkeypatch.delenv(fit_cache.ENV_VAR)
    tiny["compute"] = {**tiny.get("compute", {}), "fit_cache": "off"}
    assert "the fit cache is off" in cli("fits", "list", "--config", str(write_config(tiny)))
