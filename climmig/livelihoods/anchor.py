"""One driver construction for calibration and projection: SSP paths anchored to the calibration's record.

The displacement model is calibrated on World Bank WDI covariates (population; GDP per head in current US
dollars; shares of agricultural employment and rural population), while the SSP database projects population
(another source) and GDP in PPP dollars of 2005. Fed to the model unconverted, the two differ already in the
calibration's last year: Somalia's SSP population for 2025 is 12.2 M against WDI's 17.8 M for 2022, and
GDP per head in PPP-2005 dollars is 1.4 times WDI's current dollars. The model would then project from drivers
it was never calibrated on.

:func:`anchor_to_record` is the single conversion: each country's SSP path is multiplied by the ratio of the
record to the SSP value in the anchor year (the last calibration year), so the projection starts exactly at
the calibration's covariates and follows the SSP's *growth* from there. Income is therefore in WDI's unit
(current US dollars of the anchor year) throughout, carried forward with the SSP's real PPP growth rates.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["anchor_to_record"]

logger = logging.getLogger(__name__)


def anchor_to_record(projected: xr.DataArray, record: pd.Series, year: int, what: str) -> xr.DataArray:
    """Scale each region's projected path so that it equals the record in ``year``.

    Parameters
    ----------
    projected : xr.DataArray
        Projected values with dims (scenario, year, region); must cover ``year`` (interpolate first).
    record : pandas.Series
        Recorded value per region (index matching ``projected.region``) in ``year``; regions without a
        record (missing or non-positive) keep their projected path and are listed in the log.
    year : int
        Anchor year (the last calibration year).
    what : str
        Name for messages and attributes.

    Returns
    -------
    xr.DataArray
        Same dims and coords; attrs ``climmig_anchor_year`` and ``climmig_anchor_factors`` (JSON
        ``scenario/region`` -> factor), so every output says how it was converted.
    """
    if year not in set(int(y) for y in projected["year"].values):
        raise ValueError(f"{what}: the projection does not cover the anchor year {year}")
    regions = [str(r) for r in projected["region"].values]
    rec = record.reindex(regions).astype(float)
    # one factor per scenario and region: every scenario starts from the record (SSP scenarios already
    # differ slightly in the anchor year, interpolated between their 5-year values)
    factor = xr.DataArray(rec.to_numpy(), dims="region", coords={"region": regions}) / projected.sel(year=year)
    ok = np.isfinite(factor) & (factor > 0)
    known = ok.all("scenario") if "scenario" in ok.dims else ok
    missing = [r for r, v in zip(regions, known.values, strict=True) if not v]
    if missing:
        logger.info("%s: no record in %d for %s; their SSP path is used unanchored", what, year, ", ".join(missing))
    factor = factor.where(ok, 1.0)
    out = projected * factor
    out.attrs = dict(projected.attrs)
    table = (factor.transpose("scenario", "region") if "scenario" in factor.dims else factor).to_series().round(6)
    out.attrs.update(climmig_anchor_year=int(year), climmig_anchor_factors=json.dumps(
        {"/".join(str(k) for k in (i if isinstance(i, tuple) else (i,))): float(v) for i, v in table.items()}))
    return out
