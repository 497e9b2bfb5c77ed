"""SSP country projections (IIASA SSP Database v2): population and GDP per scenario, region and year."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError
from climmig.livelihoods.ssp_fallback import Fallback, choose_ssp_models

__all__ = ["ssp_family", "ssp_series", "unit_multiplier"]

logger = logging.getLogger(__name__)


def ssp_family(scenario: str) -> str:
    """The SSP narrative of a scenario name: ``ssp245`` -> ``SSP2``.

    Parameters
    ----------
    scenario : str
        ScenarioMIP name such as ``ssp126``.

    Returns
    -------
    str
    """
    m = re.fullmatch(r"ssp(\d)\d\d", scenario.lower())
    if not m:
        raise DataError(f"cannot tell the SSP of scenario {scenario!r}; use names like ssp245")
    return f"SSP{m.group(1)}"


#: Multiplier words of the SSP database's ``Unit`` column (``million``, ``billion US$2005/yr``).
_MULTIPLIERS = {"": 1.0, "thousand": 1e3, "thousands": 1e3, "million": 1e6, "millions": 1e6, "billion": 1e9,
                "billions": 1e9}
_BASE_WORDS = ("people", "persons", "person", "of people", "us$2005/yr", "usd2005/yr")


def unit_multiplier(unit: str) -> float:
    """The factor a value in ``unit`` is multiplied by to give plain people (or US$2005/yr).

    Parameters
    ----------
    unit : str
        An SSP ``Unit`` value such as ``"million"``, ``"thousand people"`` or ``"billion US$2005/yr"``.

    Returns
    -------
    float

    Raises
    ------
    DataError
        If the unit is not a known multiplier word (optionally followed by people or US$2005/yr).
    """
    text = str(unit).strip().lower()
    for base in _BASE_WORDS:
        if text.endswith(base):
            text = text[: -len(base)].strip()
            break
    if text not in _MULTIPLIERS:
        raise DataError(f"cannot read the SSP unit {unit!r}; expected million, thousand or billion (of people or "
                        "US$2005/yr)")
    return _MULTIPLIERS[text]


def ssp_series(table: pd.DataFrame, model: str | None, scenarios: list[str], countries: list[str],
               years: list[int], scale: float | None = None, fallback: Fallback = ()) -> xr.DataArray:
    """One SSP variable per scenario, country and year, interpolated linearly between the 5-year steps.

    Parameters
    ----------
    table : pandas.DataFrame
        SSP database table (columns ``model``, ``scenario``, ``iso3`` and one per year).
    model : str, optional
        Model column value (e.g. ``IIASA-WiC POP``); if None the table must hold one model.
    scenarios : list of str
        climmig scenarios (``ssp126``...), mapped to SSP1-5.
    countries : list of str
        ISO3 codes.
    years : list of int
        Years wanted (inside the table's range).
    scale : float, optional
        Multiplier (e.g. 1e6 for population in million). Default: read from the table's ``unit`` column
        (:func:`unit_multiplier`), or 1 if it has none. If both are given they must agree.
    fallback : "auto" or sequence of str
        Models tried, in order, for a country that ``model`` lacks
        (:func:`climmig.livelihoods.ssp_fallback.choose_ssp_models`): ``"auto"`` for the documented order,
        a list for the user's own, empty (default) for none.

    Returns
    -------
    xr.DataArray, dims (scenario, year, region)
        In plain units (people, US$2005/yr). Attrs ``climmig_ssp_model`` (the requested model),
        ``climmig_ssp_models`` (``ISO3: model`` per country) and ``climmig_ssp_fallback`` (the countries that
        took another model, empty if none). Nothing is logged here: the caller logs a fallback once.

    Raises
    ------
    DataError
        If a country, scenario or model is missing, naming it (and the models that do have the country); or if
        the units are unknown, mixed, or disagree with ``scale``.
    """
    choice = choose_ssp_models(table, model, sorted({ssp_family(s) for s in scenarios}), countries, fallback)
    df = table[table["model"].isin(set(choice.models.values()))] if choice.models else table
    scale = _scale(df, scale)
    year_cols = sorted(int(c) for c in df.columns if str(c).isdigit())
    lo, hi = min(year_cols), max(year_cols)
    bad = [y for y in years if not lo <= y <= hi]
    if bad:
        raise DataError(f"years {bad[:3]} are outside the SSP table's range {lo}-{hi}")
    out = np.full((len(scenarios), len(years), len(countries)), np.nan)
    for i, s in enumerate(scenarios):
        fam = ssp_family(s)
        for k, c in enumerate(countries):
            used = choice.models[c]
            row = df[(df["model"] == used) & (df["scenario"] == fam) & (df["iso3"] == c)]
            if len(row) > 1:
                raise DataError(f"the SSP table has {len(row)} rows for {fam} {c} (model {used}); keep one")
            vals = row[[str(y) for y in year_cols]].to_numpy(dtype=float)[0]
            ok = np.isfinite(vals)
            out[i, :, k] = np.interp(years, np.array(year_cols)[ok], vals[ok]) * scale
    variable = str(df["variable"].iloc[0]) if "variable" in df.columns and len(df) else "SSP series"
    return xr.DataArray(out, dims=("scenario", "year", "region"),
                        coords={"scenario": list(scenarios), "year": list(years), "region": list(countries)},
                        attrs={"climmig_ssp_model": model or "",
                               "climmig_ssp_models": ", ".join(f"{c}: {m}" for c, m in choice.models.items()),
                               "climmig_ssp_fallback": choice.describe(variable)})




def _scale(df: pd.DataFrame, scale: float | None) -> float:
    """The multiplier to plain units: from the ``unit`` column if the table has one, checked against ``scale``."""
    if "unit" not in df.columns:  # nothing to check against: the values are taken as given
        return 1.0 if scale is None else scale
    units = sorted(set(map(str, df["unit"].dropna())))
    if len(units) != 1:
        raise DataError(f"the SSP table mixes units {units}; use one unit per variable")
    found = unit_multiplier(units[0])
    if scale is not None and not np.isclose(found, scale):
        raise DataError(f"the SSP table is in {units[0]!r} (x{found:g}) but x{scale:g} was expected; "
                        "correct the table's Unit column or the catalog entry")
    return found
