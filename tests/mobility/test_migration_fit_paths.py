"""`climmig fit-migration` and `climmig run` fit the migration model the same way (issue 33)."""

from __future__ import annotations

import pytest
from rich.console import Console

import climmig.mobility.migration_run as migration_run
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
