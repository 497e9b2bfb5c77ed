"""The state interventions act on: exposure-derived drivers, a rate multiplier and border regimes."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = ["ProjectionState"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProjectionState:
    """What a projection is computed from; interventions return modified copies of it.

    Attributes
    ----------
    drivers : xr.Dataset
        ``population``, ``gdp_per_capita``, ``agricultural_share``, ``rural_share``, ``exposure_ratio``
        (hazard, scenario, climate_model, year, region) and, when available, ``exposed_population``,
        ``livelihood_weighted_exposure`` and ``hazard_intensity`` (``docs/interfaces.md`` section 1).
        Interventions with uncertain effects add a ``sample`` dim to the variables they change; the
        ``sample`` coordinate is that of ``rate_multiplier`` so draw *i* of an effect is paired with
        posterior draw *i*.
    rate_multiplier : xr.DataArray
        Factor on the displacement rate (1 = no change), dims (sample, year, region, hazard); it may gain
        ``scenario``/``climate_model`` dims when an intervention is targeted by hazard level.
    regimes : xr.DataArray or None
        Border regime names, dims (year, origin, destination).
    years : tuple of int
        Projection years.
    unwarned_multiplier : xr.DataArray or None
        Factor on displacement without prior warning from warning-type interventions (None = 1), dims like
        ``rate_multiplier``.
    evacuation_added : xr.DataArray or None
        Pre-emptive evacuations added by warning-type interventions, as a share of the displacement without
        warning there would be without them (None = 0), dims like ``rate_multiplier``.
    """

    drivers: xr.Dataset
    rate_multiplier: xr.DataArray
    regimes: xr.DataArray | None
    years: tuple[int, ...]
    unwarned_multiplier: xr.DataArray | None = None
    evacuation_added: xr.DataArray | None = None

    @property
    def n_samples(self) -> int:
        """Number of posterior samples."""
        return int(self.rate_multiplier.sizes["sample"])

    @property
    def samples(self) -> xr.DataArray:
        """The ``sample`` coordinate."""
        return self.rate_multiplier["sample"]

    def replace(self, **changes: object) -> ProjectionState:
        """A copy with some fields replaced.

        Parameters
        ----------
        **changes
            Field values.

        Returns
        -------
        ProjectionState
        """
        return dataclasses.replace(self, **changes)

    @classmethod
    def baseline(
        cls,
        drivers: xr.Dataset,
        samples: int,
        regimes: xr.DataArray | None = None,
        hazards: list[str] | None = None,
    ) -> ProjectionState:
        """The no-intervention state: a rate multiplier of ones.

        Parameters
        ----------
        drivers : xr.Dataset
            Drivers with at least ``exposure_ratio`` (with ``hazard``, ``year`` and ``region`` dims).
        samples : int
            Number of posterior samples.
        regimes : xr.DataArray, optional
            Border regimes (year, origin, destination).
        hazards : list of str, optional
            Hazards of the rate multiplier; default the ``hazard`` coordinate of ``exposure_ratio``.

        Returns
        -------
        ProjectionState
        """
        if "exposure_ratio" not in drivers:
            raise ValueError("drivers need an 'exposure_ratio' variable")
        er = drivers["exposure_ratio"]
        hz = list(hazards) if hazards is not None else [str(h) for h in er["hazard"].values]
        years = [int(y) for y in drivers["year"].values]
        rm = xr.DataArray(
            np.ones((samples, len(years), drivers.sizes["region"], len(hz))),
            dims=("sample", "year", "region", "hazard"),
            coords={"sample": np.arange(samples), "year": years, "region": drivers["region"].values,
                    "hazard": hz},
            name="rate_multiplier",
            attrs={"long_name": "factor on the displacement rate from interventions", "units": "1"},
        )
        return cls(drivers=drivers, rate_multiplier=rm, regimes=regimes, years=tuple(years))
