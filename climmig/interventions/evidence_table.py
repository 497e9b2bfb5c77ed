"""Reading the bundled evidence table of intervention kinds, and filling a config entry from it.

This module does not import the config schema (the schema calls :func:`entry_defaults` while it validates);
:mod:`climmig.interventions.evidence` builds schema objects from the table.

``climmig/data/intervention_evidence.yaml`` holds one entry per intervention kind (or variant) with the
effect distribution on each outcome (citation, setting, year), unit costs as distributions (source, price
year) split into fixed, per-person, running and per-activation parts, the lifetime, the timescale and the
governance (level, financier, type of good); and the share of recorded displacement that is pre-emptive
evacuation, by hazard. Configs refer to an entry (``evidence: <id>``) and may override any field; the table
is read lazily, once per process, as package data (like :mod:`climmig.registry`).

A value whose source is missing or starts with ``"assumption:"`` is flagged ``"assumption"``; ``"definition:"``
marks what-if options whose size is the question asked.
"""

from __future__ import annotations

import copy
import difflib
import logging
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["COST_PARTS", "entry_defaults", "evidence_table"]

logger = logging.getLogger(__name__)

#: cost parts of the table and the :class:`~climmig.config.schema.CostSpec` field each one fills
COST_PARTS = {"per_person": "unit_cost", "running": "running_cost", "fixed": "fixed_cost",
              "per_activation": "per_activation", "activations_per_year": "activations_per_year"}
_DIST_KEYS = ("dist", "params")


@cache
def _table() -> dict[str, Any]:
    text = resources.files("climmig").joinpath("data/intervention_evidence.yaml").read_text()
    return yaml.safe_load(text)


def evidence_table() -> dict[str, Any]:
    """The whole evidence table (a deep copy: callers may change it).

    Returns
    -------
    dict
        Keys ``version``, ``currency``, ``price_year``, ``outcome_split`` and ``entries``.
    """
    return copy.deepcopy(_table())


def _cited(item: Mapping[str, Any]) -> dict[str, Any]:
    """A table distribution as a ``DistSpec`` mapping; setting and year join the source text."""
    out = {k: item[k] for k in _DIST_KEYS}
    src = item.get("source")
    if src:
        extra = "; ".join(str(item[k]) for k in ("setting", "year") if item.get(k) is not None)
        note = f" Note: {item['note']}" if item.get("note") else ""
        out["source"] = " ".join(str(src).split()) + (f" [{extra}]" if extra else "") + note
    return out


def _money(item: Any) -> Any:
    return _cited(item) if isinstance(item, Mapping) else item


def entry_defaults(entry_id: str, data: Mapping[str, Any], *, kind_field: str = "kind") -> dict[str, Any]:
    """A config mapping completed from an evidence entry; the config's own values win.

    Parameters
    ----------
    entry_id : str
        Entry of the table.
    data : mapping
        The config's mapping of one intervention (``kind_field="kind"``) or border-regime change
        (``kind_field="regime"``: only governance is filled).
    kind_field : {"kind", "regime"}
        Which config model is completed.

    Returns
    -------
    dict
        A new mapping. ``params``, ``effects``, ``moves`` and ``cost`` are merged key by key.

    Raises
    ------
    ValueError
        Unknown entry, or an entry of another kind than the config's.
    """
    entries = _table()["entries"]
    if entry_id not in entries:
        close = difflib.get_close_matches(entry_id, list(entries), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"evidence entry {entry_id!r} is not in the bundled evidence table{hint}; known entries: "
                         f"{', '.join(sorted(entries))}")
    e = entries[entry_id]
    for k in ("effects", "moves", "params", "cost"):
        v = data.get(k)
        if v is not None and not isinstance(v, Mapping):
            raise ValueError(f"`{k}` must be a mapping of names to values (got {type(v).__name__} {v!r}); it "
                             f"overrides the evidence entry {entry_id!r}")
    out = dict(data)
    gov = e.get("governance", {})
    for k in ("level", "financier", "good"):
        if k in gov:
            out.setdefault(k, gov[k])
    if kind_field == "regime":
        if e["kind"] != "border_regime":
            raise ValueError(f"evidence entry {entry_id!r} is of kind {e['kind']!r}, not a border-regime change")
        return out
    if "kind" in data and data["kind"] != e["kind"]:
        raise ValueError(f"evidence entry {entry_id!r} is of kind {e['kind']!r}, but the config says "
                         f"{data['kind']!r}; drop `kind` or choose an entry of that kind")
    out.setdefault("kind", e["kind"])
    for k in ("timescale", "lifetime_years", "target_hazards", "scenario_change"):
        if k in e:
            out.setdefault(k, e[k])
    if "effect" in e:
        out.setdefault("effect", _cited(e["effect"]))
    out["effects"] = {**{k: _cited(v) for k, v in e.get("effects", {}).items()}, **dict(data.get("effects") or {})}
    out["moves"] = {**e.get("moves", {}), **dict(data.get("moves") or {})}
    params = {"cost_basis": e["cost_basis"]} if "cost_basis" in e else {}
    out["params"] = {**params, **dict(data.get("params") or {})}
    if "costs" in e and data.get("cost", True) is not None:
        cost = {COST_PARTS[k]: _money(v) for k, v in e["costs"].items()}
        cost.update(currency=_table()["currency"], price_year=_table()["price_year"])
        out["cost"] = {**cost, **dict(data.get("cost") or {})}
    return out
