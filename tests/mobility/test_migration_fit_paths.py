"""`climmig fit-migration` and `climmig run` fit the migration model the same way (issue 33)."""

from __future__ import annotations

import pytest
from rich.console import Console

import climmig.migration.run as migration_run
from climmig.config import load_config
from climmig.pipeline.context import make_context


class _Stop(Exception):
    pass


def test_the_command_and_the_run_stage_fit_with_the_same_seed_and_provenance(monkeypatch, demo_dict, write_config,
                                                                              tmp_path) -> None:
    from climmig.cli._migration import _fit_gravity_cli
    from climmig.pipeline.stages import _fit_gravity

    calls = []

    def spy(catalog, cfg, *, seed, attrs=None, **kwargs):
        calls.append((seed, dict(attrs or {})))
        raise _Stop

    monkeypatch.setattr(migration_run, "fit_gravity_for_run", spy)
    path = write_config({**demo_dict, "outputs": {"run_dir": str(tmp_path / "run")}})
    assert load_config(path).mobility.migration.fit == "laplace"
    with pytest.raises(_Stop):
        _fit_gravity_cli(load_config(path), path, tmp_path / "cli.nc", Console(quiet=True))
    with pytest.raises(_Stop):
        _fit_gravity(make_context(path, progress=False))
    assert len(calls) == 2
    assert calls[0] == calls[1]
    assert calls[0][0] != load_config(path).seed  # the stage's own seed, not the config's raw seed


def test_the_single_period_fit_is_one_call_with_the_same_seed_from_the_command_and_the_stage(
        monkeypatch, demo_dict, write_config, tmp_path) -> None:
    from climmig.cli._migration import fit_migration_cmd
    from climmig.pipeline.stages import stage_fit_migration

    calls = []

    def spy(cfg, inputs, *, seed, progress=False):
        calls.append((seed, len(inputs.pairs), cfg.mobility.migration.fit))
        raise _Stop

    monkeypatch.setattr(migration_run, "fit_single_period_for_run", spy)
    mig = {**demo_dict["mobility"]["migration"], "flows": "abel_cohen_flows_40", "fit": "nuts",
           "internal_fit": "prior", "forced_displacement": "none"}
    path = write_config({**demo_dict, "mobility": {**demo_dict["mobility"], "migration": mig},
                         "outputs": {"run_dir": str(tmp_path / "run")}})
    with pytest.raises(_Stop):
        fit_migration_cmd(config=path, internal_flows=None, flows=None, out=tmp_path / "cli.nc", cross_border=True)
    with pytest.raises(_Stop):
        stage_fit_migration(make_context(path, progress=False))
    assert len(calls) == 2 and calls[0] == calls[1] and calls[0][2] == "nuts" and calls[0][1] > 0
    assert calls[0][0] != load_config(path).seed
