"""Does the projection start where the record is? Model versus IDMC per country and hazard.

A planner reads the per-country figures first, so the first projected years of a model calibrated on each
country's own record should land near that record. :func:`record_comparison` sets the projection's mean over
the first projected years beside IDMC's record of the same country and hazard, in two ways:

* the mean over the whole calibration period, and
* the mean over the years in which IDMC **monitored** the hazard: years in which it recorded that hazard in at
  least one country of the world. IDMC's event data hold no drought displacement anywhere before 2017, so
  for drought the 2008-2016 zeros say nothing about droughts. The model's reporting trend is held at the last
  calibration year (today's monitoring), so this second mean is the comparable one.

``within_factor_2`` applies to countries and hazards with at least ``min_years`` recorded years.

Given the fit's in-sample predictive (:func:`climmig.displacement.calibration.in_sample_record`), the table also
shows the model over the calibration years themselves, and where the record falls in that predictive
distribution. This separates the two reasons a first projected period can differ from the record: a model
that misfits the country (the record in a tail of its own in-sample predictive), or drivers that moved since
(population growth, today's monitoring held in the projection, the climate).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["monitored_years", "record_comparison"]


def monitored_years(observations: pd.DataFrame, hazard: str, years: Sequence[int]) -> list[int]:
    """Years of ``years`` in which IDMC recorded ``hazard`` displacement in at least one country.

    Parameters
    ----------
    observations : pandas.DataFrame
        Tidy IDMC table (``iso3, year, hazard, displacements, status``), all countries.
    hazard : str
        Hazard type.
    years : sequence of int
        Candidate years.

    Returns
    -------
    list of int
    """
    pos = observations[(observations["hazard"] == hazard) & (observations["displacements"] > 0)]
    have = set(int(y) for y in pos["year"].unique())
    return [int(y) for y in years if int(y) in have]


def record_comparison(displaced: xr.DataArray, observations: pd.DataFrame, *, scenario: str,
                      years: Sequence[int], record_years: Sequence[int], min_years: int = 5,
                      level: float = 0.9, in_sample: pd.DataFrame | None = None) -> pd.DataFrame:
    """Projected mean displacement of the first projected years beside IDMC's record, per country and hazard.

    Parameters
    ----------
    displaced : xr.DataArray
        Projected draws, dims (sample, scenario, climate_model, year, region, hazard); ``region`` holds ISO3.
    observations : pandas.DataFrame
        Tidy IDMC table of every country (for the monitored years) and the study countries.
    scenario : str
        Scenario shown (the middle one).
    years : sequence of int
        Projected years averaged (e.g. 2025-2030).
    record_years : sequence of int
        Calibration years of the record (e.g. 2008-2022).
    min_years : int
        Recorded (positive) years a country-hazard needs for the factor-of-2 rule.
    level : float
        Width of the projection's interval.
    in_sample : pandas.DataFrame, optional
        :func:`climmig.displacement.calibration.in_sample_record` of the same fit; adds its ``in_sample_mean``,
        ``in_sample_median`` and ``record_percentile`` columns.

    Returns
    -------
    pandas.DataFrame
        One row per region and hazard: ``model_mean``, ``model_median``, ``model_lower``, ``model_upper`` (mean
        over the years of each draw; mean, median and interval over draws and climate models), ``record_mean`` (all record years),
        ``monitored_years`` (e.g. "2017-2022"), ``record_mean_monitored``, ``recorded_years``,
        ``ratio`` (model mean / monitored-period record mean) and ``within_factor_2`` (None where the record has
        fewer than ``min_years`` recorded years).
    """
    sel = displaced.sel(scenario=scenario, year=list(years)).mean("year")
    pooled = sel.stack(draw=[d for d in ("sample", "climate_model") if d in sel.dims])
    mean = pooled.mean("draw")
    median = pooled.median("draw")
    lo = pooled.quantile((1 - level) / 2, "draw")
    hi = pooled.quantile(1 - (1 - level) / 2, "draw")
    rows = []
    for region in [str(r) for r in displaced["region"].values]:
        for hazard in [str(h) for h in displaced["hazard"].values]:
            obs = observations[(observations["iso3"] == region) & (observations["hazard"] == hazard)
                               & observations["year"].isin(list(record_years))
                               & (observations["status"] != "not_reported")]
            series = obs.set_index("year")["displacements"].reindex(list(record_years)).fillna(0.0) \
                if not obs.empty else pd.Series(0.0, index=list(record_years))
            mon = monitored_years(observations, hazard, record_years)
            rec_all = float(series.mean())
            rec_mon = float(series.reindex(mon).mean()) if mon else float("nan")
            n_rec = int((series > 0).sum())
            m = float(mean.sel(region=region, hazard=hazard))
            ratio = m / rec_mon if rec_mon > 0 else float("nan")
            rows.append({
                "region": region, "hazard": hazard, "model_mean": m,
                "model_median": float(median.sel(region=region, hazard=hazard)),
                "model_lower": float(lo.sel(region=region, hazard=hazard)),
                "model_upper": float(hi.sel(region=region, hazard=hazard)),
                "record_mean": rec_all, "monitored_years": f"{mon[0]}-{mon[-1]}" if mon else "",
                "record_mean_monitored": rec_mon, "recorded_years": n_rec, "ratio": ratio,
                "within_factor_2": (bool(0.5 <= ratio <= 2.0) if np.isfinite(ratio) else False)
                if n_rec >= min_years else None,
            })
    out = pd.DataFrame(rows)
    if in_sample is not None and not in_sample.empty:
        cols = ["in_sample_mean", "in_sample_median", "record_percentile"]
        out = out.merge(in_sample[["region", "hazard", *cols]], on=["region", "hazard"], how="left")
    out.attrs.update(scenario=scenario, years=f"{min(years)}-{max(years)}",
                     record_years=f"{min(record_years)}-{max(record_years)}", min_years=min_years)
    return out
