"""Costs of interventions: people covered, yearly cost and discounting.

Unit costs are paid for each person when they start to be covered; running costs each year for each
person covered. Costs are in the currency and price year of the intervention's :class:`CostSpec`
(no price conversion is made between interventions with different price years: the comparison refuses
to mix them).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import xarray as xr

from climmig.config.schema import ComparisonSpec, InterventionSpec
from climmig.errors import ConfigError
from climmig.interventions.library import coverage_share, target_hazards, timing_weight
from climmig.interventions.state import ProjectionState

__all__ = ["annual_cost", "covered_people", "discount_factor", "discounted_cost", "target_population"]

logger = logging.getLogger(__name__)

_BASIS = {
    "humanitarian_relief": "exposed",
    "anticipatory_cash": "exposed",
    "planned_relocation": "relocated",
    "flood_protection": "exposed",
    "drought_resilience": "agricultural",
    "social_protection": "rural",
    "livelihood_diversification": "rural",
    "early_warning": "population",
    "mitigation": "population",
    "development": "population",
    "border_regime": "population",
}


def target_population(state: ProjectionState, spec: InterventionSpec) -> xr.DataArray:
    """People an intervention is aimed at in each region and year (before coverage and timing).

    The basis is ``params.cost_basis`` or the kind's default: exposed people (the most-exposing target
    hazard; relief, cash, flood protection), rural people (social protection, diversification),
    agricultural workers' households (drought resilience) or the whole population.

    Parameters
    ----------
    state : ProjectionState
        Baseline drivers.
    spec : InterventionSpec
        Intervention.

    Returns
    -------
    xr.DataArray, [1]
        Dims (scenario[, climate_model], year, region).
    """
    basis = str(spec.params.get("cost_basis", _BASIS[spec.kind]))
    d = state.drivers
    pop = d["population"]
    if basis == "exposed":
        if "exposed_population" not in d:
            logger.warning("%s: no exposed_population in drivers; costing on the whole population", spec.id)
            return pop
        ex = d["exposed_population"]
        hz = target_hazards(spec, ex["hazard"], "flood" if spec.kind == "flood_protection" else "all")
        if not hz:
            hz = [str(h) for h in ex["hazard"].values]
        return ex.sel(hazard=hz).max("hazard")
    if basis == "rural":
        return pop * d["rural_share"]
    if basis == "agricultural":
        return pop * d["agricultural_share"]
    if basis in ("population", "relocated"):
        return pop
    raise ConfigError([f"intervention {spec.id}: unknown params.cost_basis {basis!r}; use exposed, rural, "
                       "agricultural or population"])


def covered_people(state: ProjectionState, spec: InterventionSpec) -> tuple[xr.DataArray, xr.DataArray]:
    """People covered each year and people newly covered each year.

    Parameters
    ----------
    state : ProjectionState
        Baseline state.
    spec : InterventionSpec
        Intervention.

    Returns
    -------
    covered, new : xr.DataArray, [1]
        Covered people (coverage x timing x target population) and the yearly increase in covered people
        (for planned relocation: the people relocated that year and the cumulative number relocated).
    """
    w = timing_weight(state.years, spec)
    share = coverage_share(state, spec)
    if spec.kind == "planned_relocation":
        cap = float(spec.params.get("capacity_per_year", 0.0))
        new = cap * w * (share > 0)
        covered = new.cumsum("year")
        return covered, new
    covered = share * w * target_population(state, spec)
    prev = covered.shift(year=1, fill_value=0.0)
    new = np.maximum(covered - prev, 0.0)
    return covered, new


def discount_factor(years: Sequence[int], rate: float, base_year: int) -> xr.DataArray:
    """Discount factor :math:`(1 + r)^{-(t - t_0)}`.

    Parameters
    ----------
    years : sequence of int
        Years.
    rate : float
        Annual discount rate.
    base_year : int
        Year whose money the result is expressed in (factor 1).

    Returns
    -------
    xr.DataArray, [1], dims (year)
    """
    y = np.asarray(years, dtype=int)
    return xr.DataArray((1.0 + rate) ** (-(y - base_year).astype(float)), dims="year", coords={"year": y},
                        attrs={"long_name": "discount factor", "units": "1"})


def annual_cost(state: ProjectionState, spec: InterventionSpec) -> xr.DataArray:
    """Undiscounted cost per year: unit cost on newly covered people plus running cost on covered people.

    Parameters
    ----------
    state : ProjectionState
        Baseline state.
    spec : InterventionSpec
        Intervention (no ``cost``: zero cost).

    Returns
    -------
    xr.DataArray
        Cost by year and region (and scenario/climate model where the target population varies), attrs
        ``units``/``currency``/``price_year``.
    """
    covered, new = covered_people(state, spec)
    if spec.cost is None:
        cost = covered * 0.0
        currency, price_year = "USD", None
    else:
        cost = spec.cost.unit_cost * new + spec.cost.running_cost * covered
        currency, price_year = spec.cost.currency, spec.cost.price_year
    cost.name = "cost"
    cost.attrs = {"long_name": f"yearly cost of {spec.id}", "units": currency, "currency": currency}
    if price_year is not None:
        cost.attrs["price_year"] = price_year
    return cost


def discounted_cost(state: ProjectionState, spec: InterventionSpec, comparison: ComparisonSpec) -> xr.DataArray:
    """Yearly cost discounted to ``comparison.base_year`` at ``comparison.discount_rate``.

    Parameters
    ----------
    state : ProjectionState
        Baseline state.
    spec : InterventionSpec
        Intervention.
    comparison : ComparisonSpec
        Discount rate and base year.

    Returns
    -------
    xr.DataArray
        Discounted yearly cost; sum it over years for a present value.
    """
    cost = annual_cost(state, spec)
    out = cost * discount_factor(state.years, comparison.discount_rate, comparison.base_year)
    out.attrs = {**cost.attrs, "long_name": f"discounted yearly cost of {spec.id}",
                 "discount_rate": comparison.discount_rate, "base_year": comparison.base_year}
    return out
