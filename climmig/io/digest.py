"""Content digests of run outputs: equal when two runs produced the same numbers, whatever the run time.

A byte hash of a NetCDF file differs between two runs of the same config because of wall-clock facts the
files rightly carry (the ``history`` line, ArviZ's ``created_at``, the sampler's ``sampling_time`` and
per-draw timers). :func:`content_digest` hashes everything else: every group, variable name, dimension,
dtype, value (raw, undecoded bytes) and attribute. The keys it leaves out are listed in
:data:`VOLATILE_ATTRS`, :data:`VOLATILE_ATTR_PREFIXES` and :data:`VOLATILE_VARIABLES`; files that are not
NetCDF, Zarr or the HTML report are hashed byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from climmig.io.readers import sha256_file

__all__ = ["VOLATILE_ATTRS", "VOLATILE_ATTR_PREFIXES", "VOLATILE_VARIABLES", "content_digest", "run_digests"]

#: Attributes recording when (not how) something was made.
VOLATILE_ATTRS = frozenset({"history", "created_at", "sampling_time"})
#: Attribute prefixes recording where a run ran (SLURM job ids).
VOLATILE_ATTR_PREFIXES = ("climmig_slurm_",)
#: Sampler statistics that are timers.
VOLATILE_VARIABLES = frozenset({"perf_counter_diff", "perf_counter_start", "process_time_diff"})
#: The HTML report's "generated" row (the time the page was written).
_HTML_GENERATED = re.compile(r"<tr><td>generated</td><td>[^<]*</td></tr>")


def _attrs(attrs: Mapping[str, Any]) -> str:
    keep = {str(k): v for k, v in attrs.items()
            if k not in VOLATILE_ATTRS and not str(k).startswith(VOLATILE_ATTR_PREFIXES)}
    return json.dumps(keep, sort_keys=True, default=lambda v: np.asarray(v).tolist())


def _hash_dataset(h: Any, ds: Any) -> None:
    """Feed one xarray Dataset (opened undecoded) into the hash ``h``."""
    h.update(_attrs(ds.attrs).encode())
    for name in sorted(map(str, ds.variables)):
        if name in VOLATILE_VARIABLES:
            continue
        var = ds.variables[name]
        values = np.asarray(var.values)
        h.update(f"{name}|{var.dims}|{values.dtype.str}|{values.shape}|".encode())
        h.update(_attrs(var.attrs).encode())
        if values.dtype.kind == "O":
            h.update(json.dumps(values.tolist(), default=str).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())


def _hash_tree(path: Path, engine: str) -> str:
    import xarray as xr

    h = hashlib.sha256()
    kwargs: dict[str, Any] = {"decode_cf": False, "mask_and_scale": False, "decode_times": False}
    if engine == "zarr":
        kwargs["consolidated"] = None
    tree = xr.open_datatree(path, engine=engine, **kwargs)
    try:
        for node in sorted(tree.subtree, key=lambda n: n.path):
            h.update(f"group {node.path}".encode())
            _hash_dataset(h, node.to_dataset(inherit=False))
    finally:
        tree.close()
    return h.hexdigest()


def content_digest(path: str | Path) -> str:
    """SHA-256 of what a file says, leaving out when it was written.

    Parameters
    ----------
    path : str or Path
        A NetCDF file (``.nc``), a Zarr store (``.zarr`` directory), the HTML report (``.html``) or any
        other file (hashed byte for byte).

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    p = Path(path)
    if p.suffix == ".nc":
        return _hash_tree(p, "netcdf4")
    if p.suffix == ".zarr" and p.is_dir():
        return _hash_tree(p, "zarr")
    if p.suffix == ".html":
        text = _HTML_GENERATED.sub("", p.read_text(encoding="utf-8"))
        return hashlib.sha256(text.encode()).hexdigest()
    return sha256_file(p)


def run_digests(run_dir: str | Path, outputs: Iterable[str]) -> dict[str, str]:
    """Content digests of a run's outputs.

    Parameters
    ----------
    run_dir : str or Path
        The run directory.
    outputs : iterable of str
        Output paths relative to ``run_dir`` (missing ones are skipped).

    Returns
    -------
    dict of str to str
        Relative path -> :func:`content_digest`, sorted by path.
    """
    run_dir = Path(run_dir)
    return {rel: content_digest(run_dir / rel) for rel in sorted(set(outputs)) if (run_dir / rel).exists()}
