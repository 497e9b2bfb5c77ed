"""SSP country projections (IIASA SSP Database v2): population and GDP per scenario, region and year."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError

__all__ = ["ssp_family", "ssp_series"]

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


def ssp_series(table: pd.DataFrame, model: str | None, scenarios: list[str], countries: list[str],
               years: list[int], scale: float = 1.0) -> xr.DataArray:
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
    scale : float
        Multiplier (e.g. 1e6 for population in million).

    Returns
    -------
    xr.DataArray, dims (scenario, year, region)

    Raises
    ------
    DataError
        If a country, scenario or model is missing, naming it.
    """
    df = table
    if model is not None:
        df = df[df["model"] == model]
        if df.empty:
            raise DataError(f"SSP table has no model {model!r}; it has {sorted(table['model'].unique())}")
    elif df["model"].nunique() > 1:
        raise DataError(f"SSP table has several models {sorted(df['model'].unique())}; set ssp_model")
    year_cols = sorted(int(c) for c in df.columns if str(c).isdigit())
    lo, hi = min(year_cols), max(year_cols)
    bad = [y for y in years if not lo <= y <= hi]
    if bad:
        raise DataError(f"years {bad[:3]} are outside the SSP table's range {lo}-{hi}")
    out = np.full((len(scenarios), len(years), len(countries)), np.nan)
    for i, s in enumerate(scenarios):
        fam = ssp_family(s)
        for k, c in enumerate(countries):
            row = df[(df["scenario"] == fam) & (df["iso3"] == c)]
            if row.empty:
                raise DataError(f"the SSP table has no {fam} projection for {c}")
            vals = row[[str(y) for y in year_cols]].to_numpy(dtype=float)[0]
            ok = np.isfinite(vals)
            out[i, :, k] = np.interp(years, np.array(year_cols)[ok], vals[ok]) * scale
    return xr.DataArray(out, dims=("scenario", "year", "region"),
                        coords={"scenario": list(scenarios), "year": list(years), "region": list(countries)})


