"""Why scenarios differ: the projection with every scenario's climate but one scenario's people and incomes.

An SSP scenario is a whole storyline. It sets emissions (and so the hazards), and it also sets how many
people live in a region and how rich they are. A high-emission scenario can therefore project *fewer*
displacements than a middle one when its storyline has fewer people and higher incomes (SSP5 against SSP2 in
East Africa). Holding population and income at one reference scenario separates the two: what is left
between scenarios is the climate's part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xarray as xr

from climmig.errors import DataError

__all__ = ["SOCIOECONOMIC_DRIVERS", "VULNERABILITY_DRIVERS", "change_attribution", "scenario_attribution",
           "with_reference_society", "with_share_paths"]

#: drivers that an SSP's socio-economic storyline sets (the others are hazards or fixed livelihoods)
SOCIOECONOMIC_DRIVERS: tuple[str, ...] = ("population", "gdp_per_capita")


def with_reference_society(drivers: xr.Dataset, reference: str,
                           variables: Sequence[str] = SOCIOECONOMIC_DRIVERS) -> xr.Dataset:
    """Drivers in which every scenario has the reference scenario's population and income.

    Parameters
    ----------
    drivers : xr.Dataset
        Displacement drivers (:func:`climmig.projection.drivers.displacement_drivers`) with a ``scenario``
        dim on ``variables``. The exposure ratio is a change of the exposed *share*
        (:func:`climmig.exposure.ratio.exposure_ratio`), so it carries the climate only and is kept.
    reference : str
        Scenario whose socio-economic pathway every scenario gets.
    variables : sequence of str
        Drivers to take from the reference scenario.

    Returns
    -------
    xr.Dataset
        Same variables, dims and coordinates as ``drivers``; attr ``climmig_reference_society``.

    Raises
    ------
    DataError
        If the reference scenario is not in the drivers, or a variable lacks a ``scenario`` dim.
    """
    scen = [str(s) for s in drivers["scenario"].values] if "scenario" in drivers.coords else []
    if reference not in scen:
        raise DataError(f"reference scenario {reference!r} is not among the projected scenarios {scen}")
    new = {}
    for v in variables:
        da = drivers[v]
        if "scenario" not in da.dims:
            raise DataError(f"driver {v!r} has no scenario dim, so it cannot be taken from {reference!r}")
        ref = da.sel(scenario=reference, drop=True).broadcast_like(da).transpose(*da.dims)
        new[v] = ref.assign_attrs(da.attrs)
    out = drivers.assign(new)
    out.attrs = {**drivers.attrs, "climmig_reference_society": reference}
    return out


def scenario_attribution(idata: Any, drivers: xr.Dataset, *, reference: str, years: Sequence[int],
                         samples: int, seed: int, projected: xr.DataArray | None = None,
                         variable: str = "displaced_persons") -> xr.Dataset:
    """Displacement per scenario as projected and with the reference scenario's population and income.

    Parameters
    ----------
    idata : az.InferenceData
        Displacement fit.
    drivers : xr.Dataset
        Displacement drivers of the projection (all scenarios and years).
    reference : str
        Scenario whose population and income every scenario gets in the second variant.
    years : sequence of int
        Years to average over (e.g. one horizon).
    samples : int
        Posterior samples.
    seed : int
        Seed of :func:`~climmig.displacement.model.predict_displacement`. Both variants are predicted
        for all years of ``drivers`` with it, so they share posterior draws, year shocks and hurdle noise
        (common random numbers) and differ only through the drivers.
    projected : xr.DataArray, optional
        The projection's ``variable`` made with the same ``samples`` and ``seed`` (saves predicting it
        again); dims (sample, scenario, climate_model, year, region, hazard).
    variable : str
        ``displaced_persons`` (posterior-predictive draws, as the projection's headline numbers) or
        ``expected_displacement`` (expected rate).

    Returns
    -------
    xr.Dataset
        ``projected`` and ``reference_society`` (sample, scenario, climate_model): displacements per year
        (people), summed over regions and hazards and averaged over ``years``; ``population`` and
        ``gdp_per_capita`` (scenario): study-area people and population-weighted GDP per capita, averaged
        over ``years``. Attr ``climmig_reference_society``.
    """
    from climmig.displacement.model import predict_displacement

    def per_year(da: xr.DataArray) -> xr.DataArray:
        out = da.sel(year=list(years)).sum(("region", "hazard")).mean("year")
        return out.assign_attrs(units="1", long_name="new disaster displacements per year (people)")

    if projected is None:
        projected = predict_displacement(idata, drivers, samples=samples, seed=seed)[variable]
    ref = predict_displacement(idata, with_reference_society(drivers, reference), samples=samples, seed=seed)
    sub = drivers.sel(year=list(years))
    pop = sub["population"]
    gdp = (sub["gdp_per_capita"] * pop).sum("region") / pop.sum("region")
    gdp.attrs = {}  # binary operations merge the operands' attrs (population's "area: sum" does not apply)
    ds = xr.Dataset({
        "projected": per_year(projected),
        "reference_society": per_year(ref[variable]),
        "population": pop.sum("region").mean("year").assign_attrs(units="1", long_name="people"),
        "gdp_per_capita": gdp.mean("year").assign_attrs(
            {k: v for k, v in sub["gdp_per_capita"].attrs.items() if k in ("units", "currency", "price_year")},
            long_name="GDP per capita (population-weighted)"),
    })
    ds.attrs["climmig_reference_society"] = reference
    return ds


#: drivers that make up vulnerability in the displacement model (income and livelihood structure)
VULNERABILITY_DRIVERS: tuple[str, ...] = ("gdp_per_capita", "agricultural_share", "rural_share")


def _held(drivers: xr.Dataset, variables: Sequence[str], year: int) -> xr.Dataset:
    """``drivers`` with ``variables`` held at their value in ``year`` (exposure ratio: held at 1)."""
    new = {}
    for v in variables:
        if v not in drivers:
            continue
        da = drivers[v]
        if v == "exposure_ratio":
            new[v] = xr.ones_like(da).assign_attrs(da.attrs)
        elif "year" in da.dims:
            new[v] = da.sel(year=year, drop=True).broadcast_like(da).transpose(*da.dims).assign_attrs(da.attrs)
    return drivers.assign(new)


def with_share_paths(drivers: xr.Dataset, paths: xr.Dataset) -> xr.Dataset:
    """``drivers`` whose livelihood shares follow ``paths`` (year, region) instead of being held fixed.

    Parameters
    ----------
    drivers : xr.Dataset
        Displacement drivers (shares on ``region`` only, or with more dims).
    paths : xr.Dataset
        :func:`climmig.livelihoods.share_trend.share_trend_paths`; regions or years it lacks keep the drivers'
        values.

    Returns
    -------
    xr.Dataset
    """
    new = {}
    for v in paths.data_vars:
        if v not in drivers:
            continue
        held = drivers[v].broadcast_like(drivers["population"])
        path = paths[v].reindex(region=held["region"], year=held["year"])
        new[v] = path.broadcast_like(held).fillna(held).transpose(*held.dims).assign_attrs(held.attrs)
    return drivers.assign(new)


def change_attribution(idata: Any, drivers: xr.Dataset, *, today: int, years: Sequence[int], samples: int,
                       seed: int, share_paths: xr.Dataset | None = None) -> xr.Dataset:
    """The change of expected displacement from today to a period, split into population, vulnerability and
    climate, and the projection with vulnerability held at today's level.

    Parts are added in a fixed order (population, then vulnerability, then climate), each with the same
    posterior draws, year shocks and noise (common random numbers), on the expected rate:

    * ``today``: every driver at its value in ``today``, the exposure ratio at 1 (the baseline climate);
    * ``population``: + the population path;
    * ``vulnerability``: + the paths of income and of the agricultural and rural shares;
    * ``climate``: + the exposure ratio's path (= the full projection);
    * ``vulnerability_held``: population and climate paths with vulnerability at today's level (the convention
      of Kam et al. 2021, *Environ. Res. Lett.* 16:044026, for isolating climate and population change);
    * ``shares_on_trend`` (with ``share_paths``): the full projection with the agricultural and rural shares on
      their recorded trend instead of held at today's value (how much holding them fixed moves the result).

    Parameters
    ----------
    idata : az.InferenceData
        Displacement fit.
    drivers : xr.Dataset
        Displacement drivers of the projection.
    today : int
        The year whose drivers stand for today (e.g. the first projected year).
    years : sequence of int
        Period to average.
    samples, seed : int
        As in :func:`~climmig.displacement.model.predict_displacement`.
    share_paths : xr.Dataset, optional
        :func:`climmig.livelihoods.share_trend.share_trend_paths` for the ``shares_on_trend`` variant.

    Returns
    -------
    xr.Dataset
        ``level`` (sample, scenario, climate_model, step) with ``step`` = today, +population,
        +vulnerability, +climate; ``part`` (sample, scenario, climate_model, component) with components
        population, vulnerability, climate (differences of consecutive steps); ``vulnerability_held``
        (sample, scenario, climate_model); ``shares_on_trend`` (same dims) with ``share_paths``. People per
        year, summed over regions and hazards, averaged over ``years``.
    """
    from climmig.displacement.model import predict_displacement

    sub = drivers.sel(year=sorted(set([today, *years])))
    steps = {
        "today": _held(sub, ("population", *VULNERABILITY_DRIVERS, "exposure_ratio"), today),
        "+population": _held(sub, (*VULNERABILITY_DRIVERS, "exposure_ratio"), today),
        "+vulnerability": _held(sub, ("exposure_ratio",), today),
        "+climate": sub,
    }

    def level(d: xr.Dataset) -> xr.DataArray:
        out = predict_displacement(idata, d, samples=samples, seed=seed)["expected_displacement"]
        return out.sel(year=list(years)).sum(("region", "hazard")).mean("year")

    levels = xr.concat([level(d) for d in steps.values()], dim=xr.Variable("step", list(steps)))
    parts = levels.diff("step", label="upper").assign_coords(step=["population", "vulnerability", "climate"])
    held = level(_held(sub, VULNERABILITY_DRIVERS, today))
    attrs = {"units": "1", "long_name": "expected new disaster displacements per year (people)"}
    extra = {}
    if share_paths is not None:
        extra["shares_on_trend"] = level(with_share_paths(sub, share_paths)).assign_attrs(
            units="1", long_name="expected displacements per year with the agricultural and rural shares on their "
            "recorded trend (people)")
    return xr.Dataset({
        **extra,
        "level": levels.assign_attrs(attrs),
        "part": parts.rename(step="component").assign_attrs(
            units="1", long_name="change of expected displacements per year from today, by driver (people)"),
        "vulnerability_held": held.assign_attrs(
            units="1", long_name="expected displacements per year with income and livelihood shares held at "
            f"their {today} level (people)"),
    }, attrs={"climmig_today": int(today), "climmig_period": f"{min(years)}-{max(years)}",
              "climmig_order": "population, vulnerability, climate"})
