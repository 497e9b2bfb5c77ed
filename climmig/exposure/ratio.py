"""The climate signal of exposure: change of the share of people exposed, relative to the present climate.

The mobility models scale with population on their own (displacement has population as its offset, internal
migration is people x rate, emigration uses log population). The exposure ratio that enters them next to
population must therefore carry the change of the *share* of people exposed, not of the number: the number
of people exposed also grows with population, and population growth would then be counted twice
(displacement ~ P x (P x share)^gamma, i.e. ~ P^2 for gamma = 1).
"""

from __future__ import annotations

import xarray as xr

from climmig.errors import DataError

__all__ = ["exposure_ratio"]

_NEEDED = ("population", "exposed_population", "exposed_population_baseline", "population_baseline")


def exposure_ratio(exposure: xr.Dataset) -> xr.DataArray:
    """Share of people exposed relative to the share in the present-climate baseline.

    Parameters
    ----------
    exposure : xr.Dataset
        Output of the exposure stage (``docs/interfaces.md`` section 1) with ``population`` (scenario, year,
        region), ``exposed_population`` (hazard, scenario, climate_model, year, region),
        ``exposed_population_baseline`` (hazard, climate_model, region) and ``population_baseline``
        (region; the people of the baseline exposure).

    Returns
    -------
    xr.DataArray, [1]
        :math:`(E_{t} / P_{t}) / (E_0 / P_0)`, dims (hazard, scenario, climate_model, year, region); 1 where
        nobody is exposed in the baseline or a region has no people. With population scaled uniformly
        within a region (as the exposure stage does), this is the change of exposure due to the hazard alone.

    Raises
    ------
    DataError
        If a variable is missing (exposure files written before ``population_baseline`` existed).
    """
    missing = [v for v in _NEEDED if v not in exposure]
    if missing:
        raise DataError(f"the exposure dataset lacks {missing}; exposure files written before climmig stored "
                        "population_baseline must be rebuilt: climmig run CONFIG --stage exposure --force")
    share = exposure["exposed_population"] / exposure["population"].where(exposure["population"] > 0)
    share0 = exposure["exposed_population_baseline"] / exposure["population_baseline"].where(
        exposure["population_baseline"] > 0)
    ratio = (share / share0.where(share0 > 0)).fillna(1.0)
    ratio = ratio.transpose("hazard", "scenario", "climate_model", "year", "region", missing_dims="ignore")
    ratio.attrs = {"units": "1", "long_name": "share of people exposed relative to the present-climate baseline"}
    return ratio
