"""The stages of a climmig run, in order, each a thin function over the library's stage modules.

No science lives here: each stage reads its upstream outputs from the run directory, calls library
functions, and writes its own outputs atomically (``climmig.io``). ``climmig.pipeline.runner`` decides what
needs to run.
"""

from __future__ import annotations

import logging
from typing import Any

from climmig.config import referenced_catalog_ids
from climmig.io.writers import write_json
from climmig.pipeline.context import RunContext
from climmig.pipeline.runner import Stage

__all__ = ["build_stages", "stage_inputs"]

logger = logging.getLogger(__name__)


def stage_inputs(ctx: RunContext) -> dict[str, Any]:
    """Verify every catalog input the config names (checksums, readability) and record them.

    Parameters
    ----------
    ctx : RunContext
        The run.

    Returns
    -------
    dict
        ``outputs`` (``inputs.json``) and the number of verified entries.
    """
    seen: dict[str, dict[str, str]] = {}
    for _, cid in referenced_catalog_ids(ctx.cfg):
        if cid not in seen:
            seen[cid] = ctx.catalog.verify(cid)
    write_json({"catalog_file": str(ctx.catalog.file), "entries": seen}, ctx.path("inputs.json"))
    return {"outputs": ["inputs.json"], "verified_entries": len(seen)}


def build_stages() -> list[Stage]:
    """The stages of a run in dependency order.

    Returns
    -------
    list of Stage
    """
    return [
        Stage("inputs", stage_inputs, (), "verify input data"),
    ]
