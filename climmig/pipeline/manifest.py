"""The run manifest: everything a third party needs to rerun a run exactly."""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from climmig.config import RunConfig, science_hash
from climmig.errors import ClimmigError
from climmig.io.writers import write_json, write_text
from climmig.provenance import package_versions, slurm_ids, source_digest

__all__ = ["git_commit", "read_manifest", "source_digest", "write_manifest", "write_resolved_config"]


def git_commit(path: Path) -> str | None:
    """The git commit of the checkout containing ``path`` (None if not a git checkout)."""
    try:
        out = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def write_resolved_config(cfg: RunConfig, catalog_file: Path, run_dir: Path) -> Path:
    """Write the validated config to ``run_dir/config.yaml`` with the catalog path made absolute.

    Parameters
    ----------
    cfg : RunConfig
        Validated config.
    catalog_file : Path
        The resolved catalog file.
    run_dir : Path
        The run directory.

    Returns
    -------
    Path
    """
    data = cfg.model_dump(mode="json")
    data["catalog"] = str(Path(catalog_file).resolve())
    data["outputs"]["run_dir"] = str(Path(run_dir).resolve())
    text = "# resolved config written by climmig; rerun with `climmig rerun RUN_DIR`\n"
    text += yaml.safe_dump(data, sort_keys=False)
    return write_text(text, Path(run_dir) / "config.yaml")


def write_manifest(run_dir: Path, cfg: RunConfig, *, config_file: Path, catalog_file: Path,
                   inputs: Mapping[str, Mapping[str, str]], stages: Sequence[Mapping[str, Any]],
                   outputs: Sequence[str], flags: Mapping[str, Any] | None = None,
                   digests: Mapping[str, str] | None = None) -> Path:
    """Write ``manifest.json`` next to a run's outputs.

    Parameters
    ----------
    run_dir : Path
        The run directory.
    cfg : RunConfig
        Validated config.
    config_file, catalog_file : Path
        Where the config and catalog were read from.
    inputs : mapping
        Catalog id -> {file name: sha256}.
    stages : sequence of mapping
        Per-stage status and timing.
    outputs : sequence of str
        Output files relative to ``run_dir``.
    flags : mapping, optional
        Extra facts (e.g. ``unconverged_fit``).
    digests : mapping, optional
        Output path -> :func:`climmig.io.digest.content_digest`, what ``climmig rerun`` checks a rerun
        against.

    Returns
    -------
    Path
    """
    manifest = {
        "run_id": cfg.run_id,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "config_sha256": science_hash(cfg),
        "seed": cfg.seed,
        "config_file": str(Path(config_file).resolve()),
        "resolved_config": "config.yaml",
        "catalog_file": str(Path(catalog_file).resolve()),
        "inputs": {k: dict(v) for k, v in inputs.items()},
        "package_versions": package_versions(),
        "git_commit": git_commit(Path(config_file).resolve().parent),
        "climmig_source_sha256": source_digest(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "slurm": slurm_ids(),
        "stages": list(stages),
        "outputs": sorted(outputs),
        "output_digests": dict(sorted((digests or {}).items())),
        "flags": dict(flags or {}),
        "config": cfg.model_dump(mode="json"),
    }
    return write_json(manifest, Path(run_dir) / "manifest.json")


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """Read ``run_dir/manifest.json``.

    Raises
    ------
    ClimmigError
        If it is missing or unreadable.
    """
    p = Path(run_dir) / "manifest.json"
    if not p.exists():
        raise ClimmigError(f"{p} not found: is {run_dir} a climmig run directory?")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ClimmigError(f"{p} is not valid JSON ({exc})") from None
