"""`climmig fit-migration` and `climmig run` fit the migration model the same way (issue 33).

Both go through :class:`climmig.migration.lifecycle.MigrationModel`; ``test_lifecycle.py`` compares the fits
they write.
"""

from __future__ import annotations

import pytest

import climmig.migration.lifecycle as migration_lifecycle
import climmig.mobility.lifecycle as lifecycle
from climmig.config import load_config
from climmig.migration.lifecycle import MigrationModel
from climmig.pipeline.context import make_context
from tests.mobility.test_lifecycle import _simulated_prepare


class _Stop(Exception):
    pass


def test_the_command_and_the_run_stage_fit_with_the_same_seed_and_provenance(monkeypatch, demo_dict, write_config,
                                                                              tmp_path) -> None:
    from climmig.cli._migration import fit_migration_cmd
    from climmig.pipeline.stages import stage_fit_migration

    calls = []

    def spy(design, *, draws, seed, attrs=None, **kwargs):
        calls.append((seed, draws, dict(attrs or {})))
        raise _Stop

    monkeypatch.setattr(MigrationModel, "prepare", _simulated_prepare(12))
    monkeypatch.setattr(migration_lifecycle, "fit_gravity", spy)
    path = write_config({**demo_dict, "outputs": {"run_dir": str(tmp_path / "run")}})
    assert load_config(path).mobility.migration.fit == "laplace"
    with pytest.raises(_Stop):
        fit_migration_cmd(config=path, internal_flows=None, flows=None, out=tmp_path / "cli.nc", cross_border=True,
                          refit=False)
    with pytest.raises(_Stop):
        stage_fit_migration(make_context(path, progress=False))
    assert len(calls) == 2
    assert calls[0] == calls[1]
    assert calls[0][0] != load_config(path).seed  # the stage's own seed, not the config's raw seed
    assert {"model_name", "fit_config_sha256", "data_sha256", "model_sha256", "config_sha256"} <= set(calls[0][2])


def test_the_single_period_fit_is_one_call_with_the_same_seed_from_the_command_and_the_stage(
        monkeypatch, demo_dict, write_config, tmp_path) -> None:
    from climmig.cli._migration import fit_migration_cmd
    from climmig.pipeline.stages import stage_fit_migration

    calls = []

    def spy(model, sampler, *, random_seed, model_name, attrs=None, progress=False):
        calls.append((random_seed, len(model.coords["pair"]), model_name, sampler, dict(attrs or {})))
        raise _Stop

    monkeypatch.setattr(lifecycle, "fit", spy)
    mig = {**demo_dict["mobility"]["migration"], "flows": "abel_cohen_flows_40", "fit": "nuts",
           "internal_fit": "prior", "forced_displacement": "none"}
    path = write_config({**demo_dict, "mobility": {**demo_dict["mobility"], "migration": mig},
                         "outputs": {"run_dir": str(tmp_path / "run")}})
    with pytest.raises(_Stop):
        fit_migration_cmd(config=path, internal_flows=None, flows=None, out=tmp_path / "cli.nc", cross_border=True,
                          refit=False)
    with pytest.raises(_Stop):
        stage_fit_migration(make_context(path, progress=False))
    assert len(calls) == 2 and calls[0] == calls[1] and calls[0][1] > 0
    assert calls[0][2] == "migration_gravity_negbin" and calls[0][3] == load_config(path).mobility.migration_sampler
    assert calls[0][0] != load_config(path).seed
