"""Building blocks of the run-config models: the frozen base model, checked field types and message helpers.

Every config model derives from ``_Frozen`` (frozen, unknown keys rejected). The annotated types check a
value where it is declared (safe identifiers, ISO3 codes, known scenarios and climate models, years in
range); ``_hint`` and ``_unique`` phrase the errors the models raise.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from climmig import registry

__all__ = ["ISO3", "MAX_YEAR", "MIN_YEAR", "ClimateModel", "SafeId", "Scenario", "Year"]


_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ISO3 = re.compile(r"^[A-Z]{3}$")
MIN_YEAR, MAX_YEAR = 1900, 2300


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _hint(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _safe_id(value: str) -> str:
    if not _SAFE_ID.match(value):
        raise ValueError(
            f"{value!r} is not a safe identifier; use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def _iso3(value: str) -> str:
    if not _ISO3.match(value):
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-3 code; write three capital letters, e.g. 'SOM'")
    return value


def _known_scenario(value: str) -> str:
    known = list(registry.scenarios())
    if value not in known:
        raise ValueError(f"unknown scenario {value!r}{_hint(value, known)}; use one of {', '.join(known)}")
    return value


def _known_climate_model(value: str) -> str:
    known = list(registry.climate_models())
    if value not in known:
        raise ValueError(
            f"unknown climate model {value!r}{_hint(value, known)}; use one of {', '.join(known)}"
        )
    return value


SafeId = Annotated[str, AfterValidator(_safe_id)]
ISO3 = Annotated[str, AfterValidator(_iso3)]
Scenario = Annotated[str, AfterValidator(_known_scenario)]
ClimateModel = Annotated[str, AfterValidator(_known_climate_model)]
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]


def _unique(values: list[Any], what: str) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{what} {v!r} is listed twice; list each once")
        seen.add(v)
