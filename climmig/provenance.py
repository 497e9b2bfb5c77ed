"""Provenance: config hashes, history lines and the attributes every output carries."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import xarray as xr

from climmig import __version__

__all__ = [
    "canonical_json",
    "config_hash",
    "package_versions",
    "stage_seed",
    "provenance_attrs",
    "slurm_ids",
    "source_digest",
    "stamp",
    "update_history",
]

_TRACKED_PACKAGES = (
    "numpy", "scipy", "pandas", "xarray", "dask", "distributed", "zarr", "rioxarray", "pymc",
    "pytensor", "nutpie", "arviz", "pydantic",
)


def canonical_json(obj: Any) -> str:
    """Serialise ``obj`` to canonical JSON (sorted keys, no whitespace).

    Parameters
    ----------
    obj : Any
        A JSON-serialisable object, or a pydantic model (dumped with ``mode="json"``).

    Returns
    -------
    str
        Canonical JSON text.
    """
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump(mode="json")
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def config_hash(obj: Any) -> str:
    """SHA-256 of the canonical JSON of a validated config (or any JSON-able object).

    Parameters
    ----------
    obj : Any
        A pydantic model or plain JSON-serialisable data.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def stage_seed(seed: int, name: str) -> int:
    """A per-stage seed derived from the run seed (stable across runs, different across stages).

    The one seed rule of the pipeline's stages and of the model classes' fits
    (:mod:`climmig.mobility.lifecycle`), so ``climmig run`` and the CLI commands draw the same numbers.

    Parameters
    ----------
    seed : int
        The config's seed.
    name : str
        Stage name.

    Returns
    -------
    int
        Seed in ``[0, 2**32)``.
    """
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:4], "little")


def package_versions() -> dict[str, str]:
    """Versions of the packages that determine climmig's numbers.

    Returns
    -------
    dict of str to str
        Package name to version (``"not installed"`` if absent).
    """
    out = {"climmig": __version__, "python": platform.python_version()}
    for name in _TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def source_digest() -> str:
    """SHA-256 over climmig's own Python sources (relative names and contents).

    Two runs with the same digest ran the same code, even from an uncommitted checkout, where ``git_commit``
    alone cannot tell.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    import climmig

    root = Path(climmig.__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(hashlib.sha256(p.read_bytes()).hexdigest().encode())
    return h.hexdigest()


def slurm_ids(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """SLURM job and array-task ids of the current process, if it runs under SLURM.

    Parameters
    ----------
    environ : mapping, optional
        Environment to read (default: ``os.environ``).

    Returns
    -------
    dict of str to str
        Keys ``slurm_job_id``, ``slurm_array_job_id``, ``slurm_array_task_id`` when present.
    """
    env = os.environ if environ is None else environ
    keys = {
        "SLURM_JOB_ID": "slurm_job_id",
        "SLURM_ARRAY_JOB_ID": "slurm_array_job_id",
        "SLURM_ARRAY_TASK_ID": "slurm_array_task_id",
    }
    return {v: env[k] for k, v in keys.items() if k in env}


def update_history(message: str, *inputs: xr.Dataset | xr.DataArray) -> str:
    """Build a new ``history`` attribute: a timestamped line above the inputs' histories.

    Parameters
    ----------
    message : str
        What was done.
    *inputs : xr.Dataset or xr.DataArray
        Objects whose ``history`` should be kept.

    Returns
    -------
    str
        The merged history (newest first, as in xclim and NCO).
    """
    stamp_ = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [f"{stamp_}: {message} (climmig {__version__})"]
    seen: set[str] = set()
    for obj in inputs:
        hist = obj.attrs.get("history", "")
        for line in str(hist).splitlines():
            if line and line not in seen:
                seen.add(line)
                lines.append(line)
    return "\n".join(lines)


def provenance_attrs(cfg_hash: str | None = None, seed: int | None = None,
                     inputs: Mapping[str, str] | None = None) -> dict[str, str]:
    """Global attributes recording how an output was made.

    Parameters
    ----------
    cfg_hash : str, optional
        Science-config hash (:func:`config_hash`).
    seed : int, optional
        Random seed of the run.
    inputs : mapping, optional
        Catalog ids of the inputs mapped to their sha256.

    Returns
    -------
    dict of str to str
        Attributes, all strings so they survive NetCDF and Zarr.
    """
    attrs: dict[str, str] = {
        "Conventions": "CF-1.11",
        "climmig_version": __version__,
        "climmig_package_versions": json.dumps(package_versions(), sort_keys=True),
    }
    if cfg_hash is not None:
        attrs["climmig_config_sha256"] = cfg_hash
    if seed is not None:
        attrs["climmig_seed"] = str(seed)
    if inputs:
        attrs["climmig_inputs"] = json.dumps(dict(inputs), sort_keys=True)
    for k, v in slurm_ids().items():
        attrs[f"climmig_{k}"] = v
    return attrs


def stamp(ds: xr.Dataset, message: str, cfg_hash: str | None = None, seed: int | None = None,
          inputs: Mapping[str, str] | None = None) -> xr.Dataset:
    """Return a copy of ``ds`` with provenance attributes and a new history line.

    Parameters
    ----------
    ds : xr.Dataset
        Output to stamp.
    message : str
        History line.
    cfg_hash, seed, inputs
        See :func:`provenance_attrs`.

    Returns
    -------
    xr.Dataset
        Shallow copy with updated attrs.
    """
    out = ds.copy()
    out.attrs = {**ds.attrs, **provenance_attrs(cfg_hash, seed, inputs)}
    out.attrs["history"] = update_history(message, ds)
    return out
