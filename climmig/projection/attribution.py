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

__all__ = ["SOCIOECONOMIC_DRIVERS", "scenario_attribution", "with_reference_society"]

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
        Seed of :func:`~climmig.mobility.displacement.predict_displacement`. Both variants are predicted
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
    from climmig.mobility.displacement import predict_displacement

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
