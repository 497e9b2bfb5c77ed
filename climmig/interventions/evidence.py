"""The bundled evidence table of intervention kinds: effects, costs, governance and their sources.

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
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import xarray as xr
import yaml

__all__ = [
    "COST_PARTS",
    "basis_of",
    "cost_basis",
    "effect_basis",
    "entry_defaults",
    "evacuation_share_draws",
    "evidence_table",
    "outcome_split_specs",
]

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


def basis_of(source: str | None) -> str:
    """``"assumption"`` (no source, or one starting with ``assumption:``), ``"definition"`` or ``"sourced"``.

    Parameters
    ----------
    source : str or None
        A source text.

    Returns
    -------
    str
    """
    if not source or not str(source).strip():
        return "assumption"
    head = str(source).strip().lower()
    if head.startswith("assumption"):
        return "assumption"
    if head.startswith("definition"):
        return "definition"
    return "sourced"


def _worst(bases: Sequence[str]) -> str:
    for b in ("assumption", "sourced", "definition"):
        if b in bases:
            return b
    return "none"


def effect_basis(spec: Any) -> str:
    """How an intervention's effects are backed: the weakest basis among its effect distributions.

    Parameters
    ----------
    spec : InterventionSpec
        Intervention.

    Returns
    -------
    str
        ``"assumption"`` if any effect lacks a source (or none is given for a kind that needs one),
        ``"sourced"``, ``"definition"``, or ``"none"`` (border regimes without an effect: the migration
        model's posterior carries it).
    """
    dists = [d for d in (spec.effect, *spec.effects.values()) if d is not None]
    if not dists:
        return "none" if spec.kind == "border_regime" else "assumption"
    return _worst([basis_of(d.source) for d in dists])


def cost_basis(spec: Any) -> str:
    """How an intervention's costs are backed: ``"none"`` without a cost, else the weakest non-zero part.

    A part backed by its own distribution's source counts as sourced; a number takes the cost's ``source``.

    Parameters
    ----------
    spec : InterventionSpec
        Intervention.

    Returns
    -------
    str
    """
    cost = getattr(spec, "cost", None)
    if cost is None:
        return "none"
    bases = []
    for field in COST_PARTS.values():
        v = getattr(cost, field)
        if hasattr(v, "dist"):
            bases.append(basis_of(v.source or cost.source))
        elif float(v) != 0.0:
            bases.append(basis_of(cost.source))
    return _worst(bases) if bases else basis_of(cost.source)


def outcome_split_specs() -> tuple[dict[str, Any], Any]:
    """The evacuation-share distributions by hazard and the default for other hazards.

    Returns
    -------
    shares : dict of str to DistSpec
    default : DistSpec
    """
    from climmig.config.schema import DistSpec

    split = _table()["outcome_split"]
    shares = {h: DistSpec(**_cited(v)) for h, v in split["shares"].items()}
    return shares, DistSpec(**_cited(split["default"]))


def evacuation_share_draws(hazards: Sequence[str], samples: xr.DataArray | int, seed: int) -> xr.DataArray:
    """Draws of the share of recorded displacement that is pre-emptive evacuation, per hazard.

    Parameters
    ----------
    hazards : sequence of str
        Displacement hazards.
    samples : xr.DataArray or int
        The ``sample`` coordinate (or its length).
    seed : int
        Run seed; each hazard draws from its own stream (adding a hazard leaves the others' draws).

    Returns
    -------
    xr.DataArray, [1], dims (sample, hazard)
        Values in [0, 1]; attrs ``sources`` (one line per hazard).
    """
    from climmig.interventions.effects import effect_rng, sample_effect

    coord = np.arange(samples) if isinstance(samples, int) else np.asarray(samples)
    shares, default = outcome_split_specs()
    cols, sources = [], []
    for h in hazards:
        spec = shares.get(str(h), default)
        cols.append(np.clip(sample_effect(spec, len(coord), effect_rng(seed, f"evacuation_share:{h}")), 0.0, 1.0))
        sources.append(f"{h}: {spec.source}")
    return xr.DataArray(np.stack(cols, axis=-1), dims=("sample", "hazard"),
                        coords={"sample": coord, "hazard": [str(h) for h in hazards]}, name="evacuation_share",
                        attrs={"units": "1", "long_name": "share of recorded displacement that is pre-emptive "
                                                          "evacuation", "sources": "\n".join(sources)})
