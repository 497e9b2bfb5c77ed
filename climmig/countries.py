"""Country codes across the data sources: one declaration of where Natural Earth and the statistics differ.

Boundaries come from Natural Earth; displacement (IDMC), population and income (SSP, WDI) are reported
by ISO3 code. Natural Earth writes Kosovo as ``KOS`` where the statistics use the user-assigned ``XKX``, and
maps Somaliland (``SOL``) and Northern Cyprus (``CYN``) apart from the countries the statistics count them
in. Every module that joins boundaries to statistics goes through this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["NATURAL_EARTH_MERGED", "NATURAL_EARTH_RENAMED", "NATURAL_EARTH_TO_STATISTICS",
           "natural_earth_code", "statistics_code"]

#: Natural Earth codes of a country the statistics write with another code
NATURAL_EARTH_RENAMED: Mapping[str, str] = MappingProxyType({"KOS": "XKX"})
#: Natural Earth units the statistics report as part of another country
NATURAL_EARTH_MERGED: Mapping[str, str] = MappingProxyType({"SOL": "SOM", "CYN": "CYP"})
#: every Natural Earth code -> the code the statistics use for it
NATURAL_EARTH_TO_STATISTICS: Mapping[str, str] = MappingProxyType({**NATURAL_EARTH_RENAMED,
                                                                  **NATURAL_EARTH_MERGED})
_STATISTICS_TO_NATURAL_EARTH = {v: k for k, v in NATURAL_EARTH_RENAMED.items()}


def statistics_code(natural_earth: str) -> str:
    """The ISO3 code the statistics use for a Natural Earth admin-0 code (``KOS`` -> ``XKX``, ``SOL`` -> ``SOM``).

    Parameters
    ----------
    natural_earth : str
        Natural Earth code (``ISO_A3_EH`` or ``ADM0_A3``).

    Returns
    -------
    str
    """
    return NATURAL_EARTH_TO_STATISTICS.get(natural_earth, natural_earth)


def natural_earth_code(iso3: str) -> str:
    """The Natural Earth code of a country the statistics name ``iso3`` (``XKX`` -> ``KOS``; else unchanged).

    Merged units have no inverse: ``SOM`` is Somalia in both.

    Parameters
    ----------
    iso3 : str
        ISO3 code as the statistics write it.

    Returns
    -------
    str
    """
    return _STATISTICS_TO_NATURAL_EARTH.get(iso3, iso3)
