"""Where, when, on what and how strongly an intervention acts, and the helpers that apply it to the state.

An intervention acts with strength :math:`s = e \\cdot c(r) \\cdot w(t)`: the effect draws :math:`e`
(:func:`effect_array`), the coverage share :math:`c` of the regions it reaches (:func:`coverage_share`) and
the timing weight :math:`w` (:func:`timing_weight`), on the hazards :func:`target_hazards` picks. The
private helpers scale the state's arrays by it; every kind's module uses them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import xarray as xr

from climmig.config.schema_policy import InterventionSpec
from climmig.errors import ConfigError, DataError
from climmig.indicator_table import indicators_of_onset
from climmig.interventions.state import ProjectionState

__all__ = ["coverage_share", "effect_array", "target_hazards", "timing_weight"]

logger = logging.getLogger(__name__)


#: What each kind's default acts on. A hazard belongs to a kind by its indicator (the ``hazard_indicator``
#: coordinate of exposure-layer drivers), else by its exact name (the displacement types flood / storm /
#: drought, or the usual layer names). Names are never matched by substring: a layer called "inundation"
#: or "riverine" is found by its indicator, and "no_flood" or "waterlogging" are not mistaken for one.
_KIND_INDICATORS: dict[str, frozenset[str]] = {"flood": indicators_of_onset("sudden"),
                                               "drought": indicators_of_onset("slow")}
_KIND_NAMES: dict[str, frozenset[str]] = {
    "flood": frozenset({"flood"}),
    "drought": frozenset({"drought", "heat", "crop"}),
}
_EXPOSURE_VARS = ("exposure_ratio", "exposed_population", "livelihood_weighted_exposure")
#: exposure variables that count people (they scale with the scenario's population)
_PEOPLE_VARS = ("exposed_population", "livelihood_weighted_exposure")


def timing_weight(years: Sequence[int], spec: InterventionSpec, *, lifetime: bool = True) -> xr.DataArray:
    """Share of the full effect reached in each year.

    Parameters
    ----------
    years : sequence of int
        Projection years.
    spec : InterventionSpec
        Uses ``start_year``, ``ramp_years`` and ``lifetime_years``.
    lifetime : bool
        Set the weight back to 0 from ``start_year + lifetime_years`` on.

    Returns
    -------
    xr.DataArray, [1], dims (year)
        0 before ``start_year``; :math:`\\min(1, (t - t_0 + 1)/R)` with :math:`R` = ``ramp_years`` > 0
        (1 from the start year when :math:`R = 0`).
    """
    y = np.asarray(years, dtype=int)
    since = y - spec.start_year
    if spec.ramp_years > 0:
        w = np.clip((since + 1) / spec.ramp_years, 0.0, 1.0)
    else:
        w = (since >= 0).astype(float)
    if lifetime and spec.lifetime_years is not None:
        w = np.where(since >= spec.lifetime_years, 0.0, w)
    return xr.DataArray(w, dims="year", coords={"year": y}, name="timing_weight",
                        attrs={"long_name": f"share of full effect of {spec.id}", "units": "1"})


def target_hazards(spec: InterventionSpec, available: Sequence[str] | xr.DataArray, default: str = "all"
                   ) -> list[str]:
    """The hazards an intervention acts on, among ``available``.

    Parameters
    ----------
    spec : InterventionSpec
        ``target_hazards`` if given.
    available : sequence of str or xr.DataArray
        Hazard names present in the array being changed; a ``hazard`` coordinate (DataArray) may carry a
        ``hazard_indicator`` coordinate, which then decides the kind.
    default : {"all", "flood", "drought"}
        The kind's usual hazards when ``spec.target_hazards`` is None: those whose indicator is of that kind
        (:data:`_KIND_INDICATORS`), else whose name is exactly one of :data:`_KIND_NAMES` (``"all"``: every
        available hazard).

    Returns
    -------
    list of str
        Possibly empty.

    Raises
    ------
    ConfigError
        If ``spec.target_hazards`` names a hazard that is not available.
    """
    indicators: dict[str, str] = {}
    if isinstance(available, xr.DataArray) and "hazard_indicator" in available.coords:
        indicators = {str(h): str(i) for h, i in zip(available.values, available["hazard_indicator"].values,
                                                       strict=True)}
    avail = [str(h) for h in np.asarray(available).ravel()]
    if spec.target_hazards is not None:
        unknown = [h for h in spec.target_hazards if h not in avail]
        if unknown:
            raise ConfigError([f"intervention {spec.id}: target_hazards {unknown} are not hazards of the "
                               f"displacement model ({', '.join(avail)}); name those types (a hazard layer acts "
                               "through mobility.displacement.hazard_layer_map)"])
        return [h for h in avail if h in spec.target_hazards]
    if default in _KIND_INDICATORS:
        return [h for h in avail if (indicators[h] in _KIND_INDICATORS[default] if h in indicators
                                     else h in _KIND_NAMES[default])]
    return avail


def coverage_share(state: ProjectionState, spec: InterventionSpec, default_hazards: str = "all") -> xr.DataArray:
    """Share of each region's target population reached, before timing.

    Parameters
    ----------
    state : ProjectionState
        Current state (regions; ``hazard_intensity`` when ``spec.min_hazard`` is set).
    spec : InterventionSpec
        ``regions`` (None = all), ``coverage`` and ``min_hazard``.
    default_hazards : str
        Passed to :func:`target_hazards` to find the hazard ``min_hazard`` refers to.

    Returns
    -------
    xr.DataArray, [1]
        Dims (region), or (scenario, climate_model, year, region) when targeted by hazard level.
    """
    regions = [str(r) for r in state.drivers["region"].values]
    if spec.regions is not None:
        unknown = sorted(set(spec.regions) - set(regions))
        if unknown:
            raise ConfigError([f"intervention {spec.id}: regions {unknown} are not in the projection"])
    inside = np.array([spec.regions is None or r in spec.regions for r in regions])
    share = xr.DataArray(np.where(inside, spec.coverage, 0.0), dims="region",
                         coords={"region": state.drivers["region"].values})
    if spec.min_hazard is not None:
        if "hazard_intensity" not in state.drivers:
            raise DataError(f"intervention {spec.id}: min_hazard needs 'hazard_intensity' in the drivers")
        hi = state.drivers["hazard_intensity"]
        hz = target_hazards(spec, hi["hazard"], default_hazards)
        if not hz:
            raise ConfigError([f"intervention {spec.id}: no target hazard in hazard_intensity for min_hazard"])
        share = share * (hi.sel(hazard=hz[0], drop=True) >= spec.min_hazard)
    share.attrs = {"long_name": f"coverage share of {spec.id}", "units": "1"}
    return share


def effect_array(state: ProjectionState, effect_draws: np.ndarray | xr.DataArray) -> xr.DataArray:
    """Effect draws as a DataArray on the state's ``sample`` coordinate.

    Parameters
    ----------
    state : ProjectionState
        Supplies the ``sample`` coordinate.
    effect_draws : array-like
        One value per sample.

    Returns
    -------
    xr.DataArray, dims (sample)
    """
    if isinstance(effect_draws, xr.DataArray):
        return effect_draws
    arr = np.asarray(effect_draws, dtype=float).reshape(-1)
    if arr.size != state.n_samples:
        raise ValueError(f"got {arr.size} effect draws for {state.n_samples} samples")
    return xr.DataArray(arr, dims="sample", coords={"sample": state.samples.values}, name="effect")


def _share_effect(state: ProjectionState, spec: InterventionSpec, draws) -> xr.DataArray:
    e = effect_array(state, draws)
    bad = int(((e < 0) | (e > 1)).sum())
    if bad:
        logger.warning("%s: %d of %d effect draws outside [0, 1] were clipped", spec.id, bad, e.size)
        e = e.clip(0.0, 1.0)
    return e


def _strength(state, spec, draws, default_hazards="all", share=True) -> xr.DataArray:
    e = _share_effect(state, spec, draws) if share else effect_array(state, draws)
    return e * coverage_share(state, spec, default_hazards) * timing_weight(state.years, spec)


def _hazard_factor(arr: xr.DataArray, hazards: list[str], factor: xr.DataArray) -> xr.DataArray:
    """``factor`` on the listed hazards, 1 elsewhere."""
    if "hazard" in factor.dims:
        return factor.reindex(hazard=arr["hazard"].values, fill_value=1.0)
    on = arr["hazard"].isin(hazards)
    return xr.where(on, factor, 1.0)


def _scaled(arr: xr.DataArray, factor: xr.DataArray) -> xr.DataArray:
    out = arr * factor
    extra = [d for d in out.dims if d not in arr.dims]
    out = out.transpose(*extra, *arr.dims)
    out.name = arr.name
    out.attrs = dict(arr.attrs)
    return out


def _with_drivers(state: ProjectionState, **new: xr.DataArray) -> ProjectionState:
    drivers = state.drivers.copy()
    for k, v in new.items():
        drivers[k] = v
    return state.replace(drivers=drivers)


def _need(state: ProjectionState, spec: InterventionSpec, *names: str) -> None:
    missing = [n for n in names if n not in state.drivers]
    if missing:
        raise DataError(f"intervention {spec.id} ({spec.kind}) needs drivers {missing}")
