"""Country covariates from World Bank WDI tables: agricultural employment share and rural share."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import DataError

__all__ = ["latest_value", "rural_share", "wdi_share"]

logger = logging.getLogger(__name__)


def latest_value(table: pd.DataFrame, iso3: str) -> tuple[float, int]:
    """The latest non-missing value of a wide WDI table (one column per year) for a country.

    Parameters
    ----------
    table : pandas.DataFrame
        WDI wide table with ``iso3`` and year columns.
    iso3 : str
        Country.

    Returns
    -------
    tuple
        ``(value, year)``.

    Raises
    ------
    DataError
        If the country is absent or has no value.
    """
    row = table[table["iso3"] == iso3]
    if row.empty:
        raise DataError(f"the WDI table has no row for {iso3}")
    if len(row) > 1:
        raise DataError(f"the WDI table has {len(row)} rows for {iso3}; keep one")
    years = sorted((int(c) for c in table.columns if str(c).isdigit()), reverse=True)
    for y in years:
        v = row[str(y)].iloc[0]
        if pd.notna(v):
            return float(v), y
    raise DataError(f"the WDI table has no value for {iso3} in any year")


def _latest_or_stand_in(table: pd.DataFrame, iso3: str, stand_in: Mapping[str, float] | None
                        ) -> tuple[float, int, bool]:
    """:func:`latest_value`, or the stand-in value (year -1) for a country WDI has no value for."""
    try:
        v, y = latest_value(table, iso3)
        return v, y, False
    except DataError:
        if stand_in is None or iso3 not in stand_in or not np.isfinite(stand_in[iso3]):
            raise
        return float(stand_in[iso3]), -1, True


def wdi_share(table: pd.DataFrame, countries: list[str], long_name: str, source: str,
              stand_in: Mapping[str, float] | None = None) -> xr.DataArray:
    """A WDI percentage indicator (latest year) as a share in [0, 1] per region.

    Parameters
    ----------
    table : pandas.DataFrame
        WDI wide table of an indicator in %.
    countries : list of str
        ISO3 codes.
    long_name, source : str
        Metadata.
    stand_in : mapping of str to float, optional
        Shares in [0, 1] for countries the table has no value for in any year (e.g. the calibration's
        imputed world-region medians); without one such a country is an error.

    Returns
    -------
    xr.DataArray, [1], dims (region)
        With coordinate ``source_year`` (-1 for stand-ins) and attr ``climmig_stand_in`` (the countries that
        took a stand-in, empty if none).

    Raises
    ------
    DataError
        If a country has no value and no stand-in, or a value lies outside 0-100 %.
    """
    pct = None if stand_in is None else {k: v * 100.0 for k, v in stand_in.items()}
    got = [_latest_or_stand_in(table, c, pct) for c in countries]
    out = xr.DataArray(np.array([g[0] for g in got]) / 100.0, dims="region",
                       coords={"region": list(countries), "source_year": ("region", [g[1] for g in got])},
                       attrs={"units": "1", "long_name": long_name, "source": source,
                              "climmig_stand_in": ", ".join(c for c, g in zip(countries, got, strict=True) if g[2])})
    if (out < 0).any() or (out > 1).any():
        raise DataError(f"{long_name}: values outside 0-100 %")
    return out


def rural_share(table: pd.DataFrame, population: pd.DataFrame | None, countries: list[str],
                stand_in: Mapping[str, float] | None = None) -> xr.DataArray:
    """Rural population share per region (latest year).

    The bundled file is labelled SP.RUR.TOTL.ZS but holds *counts* (indicator ``SP.RUR.TOTL``, "Rural
    population"); counts are divided by WDI total population of the same year.

    Parameters
    ----------
    table : pandas.DataFrame
        WDI wide table of SP.RUR.TOTL.ZS (%) or SP.RUR.TOTL (people).
    population : pandas.DataFrame, optional
        WDI total population in long form (``iso3``, ``year``, ``population``); needed for counts.
    countries : list of str
        ISO3 codes.
    stand_in : mapping of str to float, optional
        Shares for countries without any WDI value (:func:`wdi_share`).

    Returns
    -------
    xr.DataArray, [1], dims (region)
        Attr ``climmig_stand_in`` as in :func:`wdi_share`.
    """
    code = str(table["Indicator Code"].iloc[0]) if "Indicator Code" in table.columns else "SP.RUR.TOTL.ZS"
    if code.endswith(".ZS"):
        return wdi_share(table, countries, "rural population share", f"WDI {code}", stand_in=stand_in)
    if population is None:
        raise DataError("the rural table holds counts (SP.RUR.TOTL); total population (wdi_population) is needed")
    vals, yrs, stood = [], [], []
    for c in countries:
        v, y, used = _latest_or_stand_in(table, c, stand_in)
        if used:  # a stand-in is already a share
            vals.append(v)
            yrs.append(-1)
            stood.append(c)
            continue
        p = population[(population["iso3"] == c) & (population["year"] == y)]["population"]
        if p.empty:
            raise DataError(f"no WDI total population for {c} in {y}")
        vals.append(v / float(p.iloc[0]))
        yrs.append(y)
    return xr.DataArray(np.array(vals), dims="region",
                        coords={"region": list(countries), "source_year": ("region", yrs)},
                        attrs={"units": "1", "long_name": "rural population share",
                               "source": "WDI SP.RUR.TOTL / SP.POP.TOTL", "climmig_stand_in": ", ".join(stood)})
