"""How an intervened projection state reaches the drivers of slow-onset migration.

Interventions act on the displacement drivers (:class:`~climmig.interventions.ProjectionState`). The migration
models have drivers of their own (population, income, the climate stress of the origin), built once per run
from the exposure. This module carries a state's changes over to them.
"""

from __future__ import annotations

import xarray as xr

__all__ = ["intervened_flow_drivers"]


def intervened_flow_drivers(flow_drivers: xr.Dataset, baseline: xr.Dataset, state: xr.Dataset) -> xr.Dataset:
    """The migration drivers of a (possibly intervened) state, from the run's no-intervention ones.

    Parameters
    ----------
    flow_drivers : xr.Dataset
        The run's migration drivers (``population``, ``gdp_per_capita``, ``exposure_ratio`` and optionally
        ``internal_exposure_ratio``; dims including ``scenario`` and ``year``), as built for the projection.
    baseline : xr.Dataset
        The run's no-intervention displacement drivers (``exposure_ratio`` with dims hazard, scenario,
        climate_model, year, region).
    state : xr.Dataset
        The state's displacement drivers (:attr:`ProjectionState.drivers`): same variables, possibly on a subset
        of years and scenarios, possibly with a ``sample`` dim on ``gdp_per_capita``.

    Returns
    -------
    xr.Dataset
        ``flow_drivers`` on the state's years and scenarios, with the state's income per head (its mean over
        samples, if drawn per sample) and the exposure ratios scaled by the state's change of climate stress.

    Notes
    -----
    Interventions that change exposure (protection, relocation, mitigation, ...) change the climate stress that
    drives migration by the same relative amount. With :math:`E_s` the state's exposure ratio averaged over the
    displacement hazards and :math:`E_b` the baseline's, the migration drivers' exposure ratios are multiplied by
    :math:`E_s / E_b` (1 where :math:`E_b = 0`). An unchanged state therefore leaves them unchanged.
    """
    fd = flow_drivers.sel(year=state["year"], scenario=state["scenario"])
    gdp = state["gdp_per_capita"]
    if "sample" in gdp.dims:  # a development effect drawn per sample: migration sees its mean
        gdp = gdp.mean("sample")
    fd = fd.assign(gdp_per_capita=gdp.transpose(*fd["gdp_per_capita"].dims))
    base = baseline["exposure_ratio"].sel(year=state["year"], scenario=state["scenario"]).mean("hazard")
    rel = (state["exposure_ratio"].mean("hazard") / base.where(base > 0)).fillna(1.0)
    fd = fd.assign(exposure_ratio=fd["exposure_ratio"] * rel)
    if "internal_exposure_ratio" in fd:
        fd = fd.assign(internal_exposure_ratio=fd["internal_exposure_ratio"] * rel)
    return fd
