"""Costs of interventions: people covered, yearly cost and discounting.

A cost has four parts (:class:`~climmig.config.schema.CostSpec`): a unit cost paid for each person when
they start to be covered, a running cost each year for each person covered, a fixed cost once in the start
year for each covered region, and a cost per person covered for each activation (times the expected
activations a year). Each part is a number or a distribution; :func:`cost_draws` draws them once per
posterior sample. Costs are in the currency and price year of the intervention's ``CostSpec`` (no price
conversion is made between interventions with different price years: the comparison refuses to mix them).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import xarray as xr

from climmig.config.schema_policy import ComparisonSpec, InterventionSpec
from climmig.errors import ConfigError
from climmig.interventions.effects import effect_mean, effect_rng, sample_effect
from climmig.interventions.evidence import COST_PARTS
from climmig.interventions.state import ProjectionState
from climmig.interventions.strength import coverage_share, target_hazards, timing_weight

__all__ = ["annual_cost", "cost_draws", "covered_people", "discount_factor", "discounted_cost", "people_relocated",
           "target_population"]

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
        Covered people (coverage x timing x target population) and the people covered for the first time
        each year (the increase of the highest coverage reached so far); for planned relocation the
        cumulative number relocated and the people relocated that year.
    """
    w = timing_weight(state.years, spec)
    share = coverage_share(state, spec)
    if spec.kind == "planned_relocation":
        cap = float(spec.params.get("capacity_per_year", 0.0))
        new = cap * w * (share > 0)
        covered = new.cumsum("year")
        return covered, new
    covered = share * w * target_population(state, spec)
    # people are paid for once, when first covered: the one-off cost follows the highest coverage reached so
    # far, so a target population that goes up and down with yearly hazard (exposed people) is not paid for
    # again at every upswing
    peak = covered.rolling(year=covered.sizes["year"], min_periods=1).max()
    new = np.maximum(peak - peak.shift(year=1, fill_value=0.0), 0.0)
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


def cost_draws(spec: InterventionSpec, n: int, seed: int) -> dict[str, np.ndarray]:
    """Draws of each cost part, one per posterior sample (numbers are repeated).

    Each part draws from a stream keyed by the kind, the part and its distribution, so variants of one
    intervention share cost draws (as they share effect draws).

    Parameters
    ----------
    spec : InterventionSpec
        Intervention (without ``cost``: an empty mapping).
    n : int
        Number of posterior samples.
    seed : int
        Run seed.

    Returns
    -------
    dict of str to numpy.ndarray
        CostSpec field name to draws of shape ``(n,)``, non-negative (negative draws are set to 0).
    """
    from climmig.provenance import canonical_json

    if spec.cost is None:
        return {}
    out = {}
    for field in COST_PARTS.values():
        v = getattr(spec.cost, field)
        if hasattr(v, "dist"):
            d = sample_effect(v, n, effect_rng(seed, f"cost:{spec.kind}:{field}:{canonical_json(v)}"))
            out[field] = np.maximum(d, 0.0)
        else:
            out[field] = np.full(n, float(v))
    return out


def _part(spec: InterventionSpec, field: str, draws: dict[str, np.ndarray] | None, sample: xr.DataArray | None):
    if draws is not None:
        return xr.DataArray(draws[field], dims="sample", coords={"sample": sample.values})
    v = getattr(spec.cost, field)
    return effect_mean(v) if hasattr(v, "dist") else float(v)


def people_relocated(state: ProjectionState, spec: InterventionSpec) -> xr.DataArray:
    """People moved by planned relocation each year (zero for other kinds).

    Parameters
    ----------
    state : ProjectionState
        Baseline state.
    spec : InterventionSpec
        Intervention.

    Returns
    -------
    xr.DataArray, [1], dims (year, region)
    """
    w = timing_weight(state.years, spec)
    share = coverage_share(state, spec)
    if spec.kind != "planned_relocation":
        return (w * share * 0.0).rename("people_relocated")
    cap = float(spec.params.get("capacity_per_year", 0.0))
    return (cap * w * (share > 0)).rename("people_relocated")


def annual_cost(state: ProjectionState, spec: InterventionSpec, draws: dict[str, np.ndarray] | None = None
                ) -> xr.DataArray:
    r"""Undiscounted cost per year: unit, running, fixed and per-activation parts.

    Parameters
    ----------
    state : ProjectionState
        Baseline state.
    spec : InterventionSpec
        Intervention (no ``cost``: zero cost). A scenario change with ``cost_share`` pays that share.
    draws : dict, optional
        Cost-part draws from :func:`cost_draws` (then the result has a ``sample`` dim); default the mean
        of each part's distribution.

    Returns
    -------
    xr.DataArray
        Cost by year and region (and scenario/climate model where the target population varies, and
        sample with draws), attrs ``units``/``currency``/``price_year``.

    Notes
    -----
    .. math:: C_t = u N_t + r P_t + F \mathbb{1}[t = t_0] R + a \lambda P_t

    with :math:`N_t` people newly covered, :math:`P_t` people covered, :math:`R` 1 in covered regions,
    :math:`a` the cost per person and activation and :math:`\lambda` the activations a year.
    """
    covered, new = covered_people(state, spec)
    if spec.cost is None:
        cost = covered * 0.0
        currency, price_year = "USD", None
    else:
        sample = state.samples
        parts = {f: _part(spec, f, draws, sample) for f in COST_PARTS.values()}
        w = timing_weight(state.years, spec)
        first = (w > 0) & (w.cumsum("year") == w)
        starts = first * (coverage_share(state, spec) > 0)
        cost = (parts["unit_cost"] * new + parts["running_cost"] * covered + parts["fixed_cost"] * starts
                + parts["per_activation"] * parts["activations_per_year"] * covered)
        if spec.cost_share is not None:
            cost = cost * spec.cost_share
        currency, price_year = spec.cost.currency, spec.cost.price_year
    cost.name = "cost"
    cost.attrs = {"long_name": f"yearly cost of {spec.id}", "units": currency, "currency": currency}
    if price_year is not None:
        cost.attrs["price_year"] = price_year
    return cost


def discounted_cost(state: ProjectionState, spec: InterventionSpec, comparison: ComparisonSpec,
                    draws: dict[str, np.ndarray] | None = None) -> xr.DataArray:
    """Yearly cost discounted to ``comparison.base_year`` at ``comparison.discount_rate``.

    Parameters
    ----------
    state : ProjectionState
        Baseline state.
    spec : InterventionSpec
        Intervention.
    comparison : ComparisonSpec
        Discount rate and base year.
    draws : dict, optional
        Cost-part draws (:func:`cost_draws`).

    Returns
    -------
    xr.DataArray
        Discounted yearly cost; sum it over years for a present value.
    """
    cost = annual_cost(state, spec, draws)
    out = cost * discount_factor(state.years, comparison.discount_rate, comparison.base_year)
    out.attrs = {**cost.attrs, "long_name": f"discounted yearly cost of {spec.id}",
                 "discount_rate": comparison.discount_rate, "base_year": comparison.base_year}
    return out
