"""The run context: a validated config, where it came from, its catalog and its run directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from climmig.catalog import ResolvedCatalog, load_catalog
from climmig.config import RunConfig, catalog_path, load_config, science_hash
from climmig.errors import ClimmigError

__all__ = ["RunContext", "make_context", "resolve_run_dir"]


@dataclass(frozen=True)
class RunContext:
    """Everything a stage needs to know about the run it belongs to.

    Attributes
    ----------
    cfg : RunConfig
        Validated config.
    config_file : Path
        Where the config was read from.
    catalog : ResolvedCatalog
        The catalog the config names.
    run_dir : Path
        Output directory.
    cfg_hash : str
        Science-config hash (identity of the run).
    progress : bool
        Show progress bars.
    memo : dict
        What stages of this invocation share in memory (e.g. the loaded fits, keyed by their files' state);
        empty in a background process (not pickled).
    """

    cfg: RunConfig
    config_file: Path
    catalog: ResolvedCatalog
    run_dir: Path
    cfg_hash: str
    progress: bool = True
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "memo": {}}

    def path(self, *parts: str) -> Path:
        """A path inside the run directory."""
        return self.run_dir.joinpath(*parts)


def resolve_run_dir(cfg: RunConfig, config_file: Path, output: Path | None = None) -> Path:
    """The run directory: ``--output`` if given, else ``outputs.run_dir`` relative to the config file.

    Parameters
    ----------
    cfg : RunConfig
        Validated config.
    config_file : Path
        Where the config was read from.
    output : Path, optional
        Override from the command line.

    Returns
    -------
    Path
        Absolute path.
    """
    if output is not None:
        return Path(output).expanduser().resolve()
    text = cfg.outputs.run_dir.replace("${run_id}", cfg.run_id)
    p = Path(text).expanduser()
    if not p.is_absolute():
        p = Path(config_file).resolve().parent / p
    return p.resolve()


def make_context(config_file: str | Path, output: str | Path | None = None, progress: bool = True,
                 cfg: RunConfig | None = None) -> RunContext:
    """Load a config and build its run context.

    Parameters
    ----------
    config_file : str or Path
        The YAML config.
    output : str or Path, optional
        Run directory override.
    progress : bool
        Show progress bars.
    cfg : RunConfig, optional
        An already validated config (e.g. a sensitivity variant of the file's config).

    Returns
    -------
    RunContext

    Raises
    ------
    ConfigError, CatalogError
        If the config or its catalog is invalid.
    """
    config_file = Path(config_file)
    if cfg is None:
        cfg = load_config(config_file)
    catalog = load_catalog(catalog_path(cfg, config_file))
    run_dir = resolve_run_dir(cfg, config_file, Path(output) if output is not None else None)
    if run_dir.exists() and not run_dir.is_dir():
        raise ClimmigError(f"run directory {run_dir} exists and is not a directory")
    return RunContext(cfg=cfg, config_file=config_file.resolve(), catalog=catalog, run_dir=run_dir,
                      cfg_hash=science_hash(cfg), progress=progress)
