"""Long-term intervention kinds: a lower-emission pathway, income growth and border-regime changes.

Mitigation and development change the scenario itself; a border-regime change (:func:`border_regime_spec`
turns a configured one into an intervention) changes the regime between countries from a given year.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from climmig.config.schema_policy import BorderRegimeChange, InterventionSpec
from climmig.errors import ConfigError, DataError
from climmig.interventions.state import ProjectionState
from climmig.interventions.strength import (
    _EXPOSURE_VARS,
    _PEOPLE_VARS,
    _need,
    _scaled,
    _share_effect,
    _with_drivers,
    coverage_share,
    effect_array,
    target_hazards,
    timing_weight,
)

__all__ = ["border_regime", "border_regime_spec", "development", "mitigation"]


def mitigation(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """A lower-emission pathway: hazards move toward ``params.target_scenario`` after the start year.

    Every hazard variable :math:`x` with a ``scenario`` dim becomes :math:`x + s (x_{target} - x)`, where
    the effect is the share of the gap closed (1 = the target scenario's hazard). Population and income
    keep their own scenario (the socio-economic pathway is unchanged): counts of exposed people move toward
    the target scenario's exposed *share* of this scenario's people, and the exposure ratio is a share
    already (:func:`climmig.exposure.ratio.exposure_ratio`). Mitigation is global: ``regions``
    and ``coverage`` are ignored.

    Parameters
    ----------
    state : ProjectionState
        Drivers with a ``scenario`` dim containing the target.
    spec : InterventionSpec
        ``params.target_scenario``.
    effect_draws : array-like
        Share of the gap closed per sample.

    Returns
    -------
    ProjectionState
    """
    target = spec.params.get("target_scenario")
    scen = [str(s) for s in state.drivers["scenario"].values] if "scenario" in state.drivers.coords else []
    if target not in scen:
        raise DataError(f"intervention {spec.id}: target scenario {target!r} is not projected ({scen}); "
                        "add it to `scenarios`")
    s = _share_effect(state, spec, effect_draws) * timing_weight(state.years, spec)
    new = {}
    for name in (*_EXPOSURE_VARS, "hazard_intensity"):
        if name not in state.drivers or "scenario" not in state.drivers[name].dims:
            continue
        arr = state.drivers[name]
        hz = target_hazards(spec, arr["hazard"]) if "hazard" in arr.dims else []
        goal = arr.sel(scenario=target, drop=True)
        if name in _PEOPLE_VARS and "population" in state.drivers:
            # counts of exposed people: the target's exposed share of this scenario's people
            pop = state.drivers["population"]
            pop_t = pop.sel(scenario=target, drop=True)
            goal = (goal * pop / pop_t.where(pop_t > 0)).fillna(0.0)
        gap = goal - arr
        step = s * gap
        if "hazard" in arr.dims:
            step = step.where(arr["hazard"].isin(hz), 0.0)
        out = (arr + step).transpose(*[d for d in step.dims if d not in arr.dims], *arr.dims)
        out.attrs = dict(arr.attrs)
        new[name] = out
    return _with_drivers(state, **new)


def development(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Income growth: extra annual growth of GDP per capita in covered regions.

    Parameters
    ----------
    state : ProjectionState
        Drivers with ``gdp_per_capita``.
    spec : InterventionSpec
        The effect is the extra growth rate per year (e.g. 0.01).
    effect_draws : array-like
        One rate per sample.

    Returns
    -------
    ProjectionState
        ``gdp_per_capita`` times :math:`\\prod_{\\tau \\le t} (1 + g\\,c\\,w_\\tau)`.
    """
    _need(state, spec, "gdp_per_capita")
    g = effect_array(state, effect_draws) * coverage_share(state, spec) * timing_weight(state.years, spec)
    if bool((g <= -1).any()):
        raise ConfigError([f"intervention {spec.id}: growth effects must exceed -1"])
    factor = np.exp(np.log1p(g).cumsum("year"))
    return _with_drivers(state, gdp_per_capita=_scaled(state.drivers["gdp_per_capita"], factor))


def border_regime_spec(change: BorderRegimeChange) -> InterventionSpec:
    """Express a configured border-regime change as an intervention of kind ``border_regime``.

    Parameters
    ----------
    change : BorderRegimeChange
        From the run config.

    Returns
    -------
    InterventionSpec
        Long-term, starting at ``from_year``, acting among ``countries``.
    """
    params: dict[str, float | int | str | bool] = {"regime": change.regime}
    if change.destinations:
        params["destinations"] = ",".join(change.destinations)
    return InterventionSpec(id=change.id, evidence=change.evidence, kind="border_regime", timescale="long",
                            start_year=change.from_year, regions=list(change.countries), params=params,
                            level=change.level, financier=change.financier, good=change.good)


def border_regime(state: ProjectionState, spec: InterventionSpec, effect_draws) -> ProjectionState:
    """Change the border regime between every pair of the covered countries from the start year.

    Parameters
    ----------
    state : ProjectionState
        With ``regimes`` (year, origin, destination).
    spec : InterventionSpec
        ``params.regime`` and ``regions`` (at least two); ``lifetime_years`` ends the change;
        ``params.destinations`` (comma-separated ISO3) limits it to movement into those countries.
    effect_draws : array-like
        Unused (the regime change itself is certain; its effect on flows is uncertain in the migration
        model's posterior).

    Returns
    -------
    ProjectionState
    """
    if state.regimes is None:
        raise DataError(f"intervention {spec.id}: the projection has no border regimes")
    regime = spec.params.get("regime")
    if not isinstance(regime, str):
        raise ConfigError([f"intervention {spec.id}: border_regime needs params.regime"])
    countries = spec.regions or []
    if len(countries) < 2:
        raise ConfigError([f"intervention {spec.id}: border_regime needs at least two regions"])
    reg = state.regimes
    on = timing_weight(reg["year"].values, spec.model_copy(update={"ramp_years": 0})) > 0
    pair = reg["origin"].isin(countries) & reg["destination"].isin(countries) & (
        reg["origin"] != reg["destination"])
    dest = spec.params.get("destinations")
    if isinstance(dest, str) and dest:
        # a one-sided opening: only movement into the listed destinations, from the other countries
        into = [d for d in dest.split(",") if d]
        pair = pair & reg["destination"].isin(into) & ~reg["origin"].isin(into)
    new = xr.where(on & pair, regime, reg).transpose(*reg.dims)
    new.attrs = dict(reg.attrs)
    new.name = reg.name
    return state.replace(regimes=new)
