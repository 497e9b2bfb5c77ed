"""Livelihood shares on their recent trend: the alternative to holding them at today's value.

The SSP database has no country paths of agricultural employment or of the rural population share, so a
projection holds both at the calibration's last recorded year. How much that choice matters is shown by a
second path on which each country's shares keep changing as they did over the recent record: a straight line
on the logit scale (so a share stays inside 0-1 and slows as it nears either end), fitted per country by least
squares and started at the record of the anchor year.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["SHARES", "share_trend_paths"]

#: livelihood shares of the displacement model that the SSPs do not project
SHARES: tuple[str, ...] = ("agricultural_share", "rural_share")

_EPS = 1e-4


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def share_trend_paths(history: pd.DataFrame, years: Sequence[int], *, anchor_year: int,
                      min_years: int = 5) -> xr.Dataset:
    """Each country's livelihood shares continued on their recorded logit-linear trend.

    Parameters
    ----------
    history : pandas.DataFrame
        Recorded shares (fractions), index (``iso3``, ``year``), columns :data:`SHARES`; the trend is fitted on
        every year present up to ``anchor_year``.
    years : sequence of int
        Years of the path.
    anchor_year : int
        The path passes through the record of this year (the projection's anchor, the last calibration year).
    min_years : int
        Recorded years a country needs for a trend; with fewer its share is held at the anchor year's value.

    Returns
    -------
    xr.Dataset
        :data:`SHARES` (year, region) in fractions, with attrs ``units``, ``long_name``, and
        ``climmig_trend_per_decade`` (JSON-able dict region -> change of the logit per decade).

    Raises
    ------
    ValueError
        If the history has no record in ``anchor_year``.
    """
    years = [int(y) for y in years]
    hist = history[history.index.get_level_values("year") <= anchor_year]
    regions = sorted(set(hist.index.get_level_values("iso3")))
    out = {}
    for name in SHARES:
        table = hist[name].unstack("iso3").reindex(columns=regions)
        if anchor_year not in table.index:
            raise ValueError(f"no {name} record in the anchor year {anchor_year}")
        paths = np.empty((len(years), len(regions)))
        slopes = {}
        t = np.asarray(years, float) - anchor_year
        for j, r in enumerate(regions):
            s = table[r].dropna()
            start = table.at[anchor_year, r]
            if not np.isfinite(start):
                paths[:, j] = np.nan
                continue
            b = 0.0
            if len(s) >= min_years:
                b = float(np.polyfit(s.index.to_numpy(float), _logit(s.to_numpy(float)), 1)[0])
            slopes[r] = round(10 * b, 4)
            paths[:, j] = 1.0 / (1.0 + np.exp(-(_logit(np.array(start)) + b * t)))
        out[name] = xr.DataArray(paths, dims=("year", "region"), coords={"year": years, "region": regions},
                                 attrs={"units": "1", "long_name": f"{name.replace('_', ' ')} on its recorded "
                                        "logit-linear trend", "climmig_trend_per_decade": slopes})
    return xr.Dataset(out, attrs={"climmig_anchor_year": int(anchor_year)})
