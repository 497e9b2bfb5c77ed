"""The bundled evidence table of intervention kinds: effects, costs, governance and their sources.

``climmig/data/intervention_evidence.yaml`` holds one entry per intervention kind (or variant) with the
effect distribution on each outcome (citation, setting, year), unit costs as distributions (source, price
year) split into fixed, per-person, running and per-activation parts, the lifetime, the timescale and the
governance (level, financier, type of good); and the share of recorded displacement that is pre-emptive
evacuation, by hazard. Configs refer to an entry (``evidence: <id>``) and may override any field; the table
is read by :mod:`climmig.interventions.evidence_table`.

A value whose source is missing or starts with ``"assumption:"`` is flagged ``"assumption"``; ``"definition:"``
marks what-if options whose size is the question asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from climmig.interventions.evidence_table import COST_PARTS, _cited, _table, entry_defaults, evidence_table

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
    from climmig.config.schema_statistics import DistSpec

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
