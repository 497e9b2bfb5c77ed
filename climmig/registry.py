"""Names climmig knows: scenarios and climate models (from ``data/registry.yml``) and hazard indicators
(from :mod:`climmig.indicator_table`).

The registry is read lazily on first use and cached; reading a package data file is not a side effect of
import.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = ["climate_models", "hazard_indicators", "registry", "scenarios"]


@cache
def registry() -> dict[str, Any]:
    """The whole registry as a dict (read once per process).

    Returns
    -------
    dict
        Keys ``scenarios`` and ``climate_models``.
    """
    text = resources.files("climmig").joinpath("data/registry.yml").read_text()
    return yaml.safe_load(text)


def scenarios() -> dict[str, dict[str, float]]:
    """Known SSP scenarios and their AR6 assessed warming per period (degC)."""
    return registry()["scenarios"]


def climate_models() -> dict[str, dict[str, float]]:
    """Known climate models (CMIP6 source ids, and the CMIP5 models of bundled scenario files)."""
    return registry()["climate_models"]


def hazard_indicators() -> dict[str, dict[str, str]]:
    """Known hazard indicators: the dimensionality of their thresholds, an example and a description (from
    :data:`climmig.indicator_table.INDICATORS`, where every fact about an indicator is declared)."""
    from climmig.indicator_table import INDICATORS

    return {name: {"threshold": i.threshold, "example": i.example, "description": i.description}
            for name, i in INDICATORS.items()}
