"""Fits shared between runs: a run whose model has the signature of an earlier fit reuses it, in any output folder.

A researcher reruns a config many times with changes that do not touch a model (another intervention, another
horizon, a new output folder). Each :class:`~climmig.mobility.lifecycle.ModelLifecycle` fit is therefore also
kept in a cache directory under a key made of

* the fit's signature (model name, fit-config, data and model-structure hashes: what the fit depends on),
* the versions of the packages that determine its numbers (:func:`~climmig.provenance.package_versions`), and
* a digest of climmig's own source (:func:`~climmig.provenance.source_digest`),

so any change of model, data, fit settings, seed, library or climmig code misses the cache and fits again.
The cache only saves time: a fit taken from it is the fit the run would have sampled (same signature, same
seed, same code), and it is written into the run with the run's own provenance attrs.

Where the cache is: ``compute.fit_cache`` in the config (``auto``: ``$XDG_CACHE_HOME/climmig/fits``, else
``~/.cache/climmig/fits``; ``off``: no cache; anything else: that directory, with ``~`` and ``$VARIABLES``
expanded), overridden by the environment variable ``CLIMMIG_FIT_CACHE`` (same values), e.g. to keep a site's
cache on scratch space, or to switch it off in tests. The demo's displacement fit is ~140 MB;
``climmig fits list`` shows the cache and ``climmig fits clear`` empties it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from climmig.provenance import config_hash, package_versions, source_digest

__all__ = ["ENV_VAR", "cache_file", "cache_key", "cache_root", "clear", "entries", "store"]

logger = logging.getLogger(__name__)

#: environment variable that overrides ``compute.fit_cache``
ENV_VAR = "CLIMMIG_FIT_CACHE"
#: names of the files this module writes (:func:`cache_file`, :func:`store`): listing and clearing touch only
#: these, so a cache pointed at a directory that also holds a user's own files leaves them alone
_KEPT = re.compile(r"[A-Za-z0-9_-]+-[0-9a-f]{40}\.nc")
_LEFTOVER = re.compile(r"\.[A-Za-z0-9_-]+-[0-9a-f]{40}\.nc\.\d+\.tmp")


def cache_root(setting: str | None = "auto") -> Path | None:
    """The fit cache directory, or None when the cache is off.

    Parameters
    ----------
    setting : str or None
        ``compute.fit_cache``: ``auto``, ``off`` or a directory (``~`` and ``$VARIABLES`` expanded); None means
        ``auto``. The
        environment variable :data:`ENV_VAR`, when set and not empty, takes precedence.

    Returns
    -------
    Path or None
    """
    value = (os.environ.get(ENV_VAR) or setting or "auto").strip()
    if value == "off":
        return None
    if value == "auto":
        return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "climmig" / "fits"
    return Path(os.path.expandvars(value)).expanduser()


def cache_key(signature: Mapping[str, str]) -> str:
    """sha256 of a fit's signature, the tracked package versions and climmig's source.

    Parameters
    ----------
    signature : mapping of str to str
        :meth:`~climmig.mobility.lifecycle.ModelLifecycle.signature` with all four keys.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    return config_hash({"signature": dict(signature), "packages": package_versions(), "source": source_digest()})


def cache_file(root: Path, signature: Mapping[str, str]) -> Path:
    """Where the fit of ``signature`` is kept in the cache ``root`` (``<model name>-<key>.nc``).

    Parameters
    ----------
    root : Path
        From :func:`cache_root`.
    signature : mapping of str to str
        The fit's full signature.

    Returns
    -------
    Path
    """
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in signature.get("model_name", "fit"))
    return root / f"{name}-{cache_key(signature)[:40]}.nc"


def store(source: Path, target: Path) -> None:
    """Copy a saved fit into the cache atomically; a cache that cannot be written only costs a warning.

    Parameters
    ----------
    source : Path
        The fit as written into the run.
    target : Path
        From :func:`cache_file`.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        logger.warning("could not keep the fit in the cache %s (%s); set compute.fit_cache or %s to another "
                       "directory, or 'off'", target.parent, exc, ENV_VAR)
        with contextlib.suppress(OSError):
            tmp.unlink()


def entries(root: Path | None) -> list[Path]:
    """The fits kept in the cache ``root`` (none when the cache is off or empty), newest first.

    Parameters
    ----------
    root : Path or None
        From :func:`cache_root`.

    Returns
    -------
    list of Path
    """
    if root is None or not root.is_dir():
        return []
    return sorted((p for p in root.glob("*.nc") if _KEPT.fullmatch(p.name)), key=lambda p: p.stat().st_mtime,
                  reverse=True)


def clear(root: Path | None) -> tuple[int, int]:
    """Delete every fit kept in the cache ``root`` (as for :func:`entries`) and leftovers of interrupted copies;
    return the number of files deleted and the bytes freed."""
    if root is None or not root.is_dir():
        return 0, 0
    n = size = 0
    for p in [*entries(root), *(p for p in root.glob(".*.tmp") if _LEFTOVER.fullmatch(p.name))]:
        size += p.stat().st_size
        p.unlink()
        n += 1
    return n, size
