"""Make a user catalog: the entries of an existing catalog plus your own files, in one validated file."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from climmig.catalog.resolve import ResolvedCatalog, load_catalog
from climmig.catalog.schema import Catalog, CatalogEntry
from climmig.errors import CatalogError
from climmig.io.readers import sha256_file

__all__ = ["extend_catalog"]

logger = logging.getLogger(__name__)


def _absolute(path: str | list[str], root: Path) -> str | list[str]:
    def one(p: str) -> str:
        q = Path(p).expanduser()
        return str(q) if q.is_absolute() else os.path.normpath(root / q)

    return one(path) if isinstance(path, str) else [one(p) for p in path]


def _entry(raw: CatalogEntry | Mapping[str, Any], i: int) -> CatalogEntry:
    if isinstance(raw, CatalogEntry):
        return raw
    try:
        return CatalogEntry.model_validate(dict(raw))
    except ValidationError as exc:
        where = raw.get("id", f"entry {i}") if isinstance(raw, Mapping) else f"entry {i}"
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors())
        raise CatalogError(f"new catalog entry {where}: {problems}") from None


def extend_catalog(base: str | Path, entries: Sequence[CatalogEntry | Mapping[str, Any]], target: str | Path, *,
                   name: str | None = None, checksums: bool = True) -> ResolvedCatalog:
    """Write a catalog holding every entry of ``base`` and the new ``entries``, and load it.

    The base entries' relative paths are made absolute (they keep pointing at the same files); new entries'
    relative paths are relative to ``target``'s folder, as in any catalog. A new entry without ``sha256``
    gets the checksums of its files, so they are verified whenever they are opened.

    Parameters
    ----------
    base : str or Path
        Existing catalog file (e.g. ``data_catalog/catalog.yaml``).
    entries : sequence of CatalogEntry or mapping
        New entries (the fields of :class:`~climmig.catalog.CatalogEntry`).
    target : str or Path
        Catalog file to write (atomically).
    name : str, optional
        Catalog name (default: the base's name + " + user data").
    checksums : bool
        Record the sha256 of new entries' files when they give none.

    Returns
    -------
    ResolvedCatalog
        The written catalog, loaded (every entry validated).

    Raises
    ------
    CatalogError
        If a new entry is invalid, its files are missing, or its id is already in ``base``.
    """
    from climmig.io.writers import write_text

    base_cat = load_catalog(base)
    target = Path(target).expanduser().resolve()
    new = [_entry(e, i) for i, e in enumerate(entries)]
    taken = {e.id for e in base_cat.catalog.entries}
    dup = [e.id for e in new if e.id in taken]
    if dup:
        raise CatalogError(f"catalog id(s) {dup} are already in {base}; give your entries other ids")
    if checksums:
        probe = ResolvedCatalog(catalog=Catalog(entries=new), root=target.parent, file=target) if new else None
        filled = []
        for e in new:
            if not e.sha256 and probe is not None:
                sums = {p.name: sha256_file(p) for p in probe.paths(e) if p.is_file()}
                e = e.model_copy(update={"sha256": sums})
            filled.append(e)
        new = filled
    old = [e.model_copy(update={"path": _absolute(e.path, base_cat.root)}) for e in base_cat.catalog.entries]
    cat = Catalog(name=name or f"{base_cat.catalog.name} + user data", description=base_cat.catalog.description,
                  entries=[*old, *new])
    data = cat.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("entries", [])
    write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), target)
    logger.info("wrote catalog %s (%d entries, %d new)", target, len(cat.entries), len(new))
    return load_catalog(target)
