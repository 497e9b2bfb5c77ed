"""Names climmig knows: scenarios, climate models and hazard indicators (from ``data/registry.yml``).

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
        Keys ``scenarios``, ``climate_models``, ``hazard_indicators``.
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
    """Known hazard indicators and the dimensionality of their thresholds."""
    return registry()["hazard_indicators"]
