"""Present-day plausibility: the fitted model simulating today beside the recorded displacement.

The check asks whether the fitted displacement model, fed with today's exposure (exposure ratio 1) and the
first projection year's population and income, simulates yearly displacement of the size IDMC records. It
compares medians with medians, because yearly displacement is heavy-tailed: one drought year can hold most of a
decade's total, so the mean sits far above a typical year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import xarray as xr

__all__ = ["Plausibility", "observed_present_day", "present_day_drivers", "simulated_present_day"]


@dataclass(frozen=True)
class Plausibility:
    """The present-day simulation of a fitted run and the record it is compared with.

    Attributes
    ----------
    simulated : pandas.DataFrame
        One row per region: ``region``, ``median``, ``lower`` (5 %) and ``upper`` (95 %) of the simulated
        yearly displacement, people (:func:`simulated_present_day`).
    observed : pandas.DataFrame
        One row per region with a record (:func:`observed_present_day`).
    scenario : str
        The scenario whose first projection year gave the population and income.
    year : int
        That year.
    """

    simulated: pd.DataFrame
    observed: pd.DataFrame
    scenario: str
    year: int

    def table(self) -> pd.DataFrame:
        """Simulated and observed side by side (every simulated region; NaN where there is no record).

        Returns
        -------
        pandas.DataFrame
        """
        return self.simulated.merge(self.observed, on="region", how="left")


def present_day_drivers(drivers: xr.Dataset, scenario: str) -> xr.Dataset:
    """Displacement drivers of today: the first projection year of one scenario, at today's exposure.

    Parameters
    ----------
    drivers : xr.Dataset
        Projection drivers (:func:`climmig.projection.drivers.displacement_drivers`).
    scenario : str
        Scenario whose first year gives population and income.

    Returns
    -------
    xr.Dataset
        ``drivers`` on ``year=[first]``, ``scenario=[scenario]``, with ``exposure_ratio`` set to 1.
    """
    first = int(drivers["year"].values[0])
    today = drivers.sel(year=[first], scenario=[scenario])
    return today.assign(exposure_ratio=xr.ones_like(today["exposure_ratio"]))


def simulated_present_day(displaced: xr.DataArray) -> pd.DataFrame:
    """Quantiles of simulated yearly displacement per region, pooling samples, climate models, years, scenarios.

    Parameters
    ----------
    displaced : xr.DataArray
        ``displaced_persons`` (sample, scenario, climate_model, year, region, hazard).

    Returns
    -------
    pandas.DataFrame
        ``region``, ``median``, ``lower`` (5 % quantile), ``upper`` (95 % quantile); people per year.
    """
    tot = displaced.sum("hazard").stack(s=("sample", "climate_model", "year", "scenario"))
    regions = [str(r) for r in tot["region"].values]
    return pd.DataFrame({"region": regions, "median": tot.median("s").values,
                         "lower": tot.quantile(0.05, "s").values, "upper": tot.quantile(0.95, "s").values})


def observed_present_day(observations: pd.DataFrame, regions: Sequence[str],
                         column: str = "displacements") -> pd.DataFrame:
    """Recorded yearly displacement per region: the median year, and the mean, range and number of years.

    Parameters
    ----------
    observations : pandas.DataFrame
        Tidy IDMC observations (``iso3``, ``year``, ``column``; one row per event or country-year-hazard).
    regions : sequence of str
        Regions (ISO3) to keep.
    column : str
        Column of displacement counts.

    Returns
    -------
    pandas.DataFrame
        ``region``, ``observed`` (the median recorded year), ``observed_mean``, ``observed_min``,
        ``observed_max``, ``observed_years``.
    """
    obs = observations[observations["iso3"].isin(list(regions))]
    yearly = obs.groupby(["iso3", "year"])[column].sum(min_count=1).reset_index()
    g = yearly.groupby("iso3")[column]
    # the median recorded year, to compare like with like with the simulated median; the mean is kept as its
    # own column for the table
    return pd.DataFrame({"region": g.median().index, "observed": g.median().values,
                         "observed_mean": g.mean().values, "observed_min": g.min().values,
                         "observed_max": g.max().values, "observed_years": g.count().values})
