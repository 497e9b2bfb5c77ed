"""Lifecycles of the migration fits stored as plain datasets: PRMN internal climate moves and UNHCR forced displacement.

The all-country run (``mobility.migration.fit: laplace``) fits two more models next to the gravity model,
in its ``fit_migration`` stage (:func:`climmig.migration.run.fit_internal_climate_for_run`,
:func:`climmig.migration.run.fit_forced_for_run`):

* :class:`InternalClimateModel`: the climate elasticity of internal moves, fitted on UNHCR PRMN (Somalia) by
  importance sampling (:func:`~climmig.migration.internal_climate.fit_internal_climate`), saved as
  ``fits/internal_climate.nc``;
* :class:`ForcedDisplacementModel`: refugee and asylum flows abroad, fitted on UNHCR new arrivals by a
  Laplace approximation (:func:`~climmig.migration.forced.fit_forced`), saved as
  ``fits/forced_displacement.nc``.

Both go through :class:`~climmig.mobility.lifecycle.ModelLifecycle`, so a rerun reuses a saved fit whose
signature matches and refits otherwise. Neither has a PyMC graph and neither fit is an InferenceData:
:meth:`~DatasetFitModel.build` returns the prepared table (what the fit function takes),
:meth:`~DatasetFitModel.structure_sha256` hashes each model's parameters, priors and fit settings, and the
fit is an ``xarray.Dataset`` with its signature in the global attrs, written with
:func:`~climmig.io.writers.write_netcdf` and stamped with the run's provenance (:func:`~climmig.provenance.stamp`).

Seeds: both fits draw with ``int(cfg.seed) % 2**32``, the seed the run gave them before they had a
lifecycle, so the run's outputs are unchanged (see :attr:`DatasetFitModel.seed`).
"""

from __future__ import annotations

import inspect
from abc import abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import xarray as xr

from climmig.config.schema import science_hash
from climmig.errors import ProvenanceMismatchError
from climmig.io.writers import write_netcdf
from climmig.migration.forced import FORCED_COVARIATES, fit_forced, forced_panel, predict_forced
from climmig.migration.internal_climate import (
    CLIMATE_REASONS,
    fit_internal_climate,
    internal_draws_with_climate_posterior,
    load_prmn_fit_inputs,
)
from climmig.mobility.lifecycle import ModelLifecycle, frame_sha256
from climmig.mobility.priors import FORCED_PRIORS, INTERNAL_CLIMATE_PRIORS
from climmig.provenance import config_hash, stamp

__all__ = ["FORCED_MODEL_NAME", "FORCED_YEARS", "INTERNAL_CLIMATE_MODEL_NAME", "DatasetFitModel",
           "ForcedDisplacementModel", "InternalClimateModel"]

#: ``model_name`` of the PRMN fit
INTERNAL_CLIMATE_MODEL_NAME = "internal_climate_negbin_importance"
#: ``model_name`` of the UNHCR fit
FORCED_MODEL_NAME = "forced_displacement_negbin_laplace"
#: years of the UNHCR fit: IDMC weather events 2008-2022 (2008 is the first lag year)
FORCED_YEARS = range(2009, 2023)


def _fit_settings(fn: Callable[..., Any]) -> dict[str, Any]:
    """The keyword defaults of a fit function but its seed: the settings the model fits with.

    Read once, when this module is imported, and passed to the function explicitly, so the settings hashed
    into the model structure are the ones used (and a test that replaces the function does not change them).

    Parameters
    ----------
    fn : callable
        :func:`~climmig.migration.internal_climate.fit_internal_climate` or
        :func:`~climmig.migration.forced.fit_forced`.

    Returns
    -------
    dict of str to object
    """
    return {k: p.default for k, p in inspect.signature(fn).parameters.items()
            if p.default is not inspect.Parameter.empty and k != "seed"}


#: settings of the PRMN fit (draws, proposals, smallest effective sample size)
INTERNAL_CLIMATE_SETTINGS: Mapping[str, Any] = _fit_settings(fit_internal_climate)
#: settings of the UNHCR fit (draws, outer iterations)
FORCED_SETTINGS: Mapping[str, Any] = _fit_settings(fit_forced)


class DatasetFitModel(ModelLifecycle):
    """A fit made by a numpy/scipy function on one table and stored as a plain ``xarray.Dataset``.

    Subclasses define :meth:`prepare` (the table), :meth:`structure` (what :meth:`structure_sha256`
    hashes), :meth:`fit_table` (the fit function's call) and :meth:`predict`.

    Parameters
    ----------
    cfg : RunConfig
        Run config (these fits read its ``seed`` only).
    """

    #: history line stamped on a new fit
    title: ClassVar[str] = ""

    @property
    def seed(self) -> int:
        """``int(cfg.seed) % 2**32``: the seed these fits drew with before they had a lifecycle.

        Not a derived stage seed as the migration models use: the run's published outputs (the PRMN
        elasticity, the forced-displacement projection) come from this one, so it is kept.
        """
        return int(self.cfg.seed) % (2**32)

    def fit_config_sha256(self) -> str:
        """sha256 of the seed: the only config field these fits read (their data ids and settings are fixed)."""
        return config_hash({"seed": self.seed})

    def build(self, data: pd.DataFrame) -> pd.DataFrame:
        """The prepared table itself: there is no PyMC graph, the fit function takes the table."""
        return data

    def data_sha256(self, data: pd.DataFrame) -> str:
        """:func:`~climmig.mobility.lifecycle.frame_sha256` of the prepared table."""
        return frame_sha256(data)

    @abstractmethod
    def structure(self, model: pd.DataFrame) -> dict[str, Any]:
        """The model's parameters, priors and fit settings (hashed by :meth:`structure_sha256`)."""

    def structure_sha256(self, model: pd.DataFrame) -> str:
        """sha256 of :meth:`structure`, so a fit of an earlier model version is refitted."""
        return config_hash({"model": self.model_name, **self.structure(model)})

    @abstractmethod
    def fit_table(self, table: pd.DataFrame) -> xr.Dataset:
        """The fit of ``table`` with :attr:`seed`."""

    def sample(self, model: pd.DataFrame, data: pd.DataFrame, attrs: Mapping[str, str],
               progress: bool) -> xr.Dataset:
        """:meth:`fit_table`, with the signature ``attrs`` and the run's provenance stamp (config hash, seed)."""
        return self._provenance(self.fit_table(model), attrs)

    def _provenance(self, fit: xr.Dataset, attrs: Mapping[str, str]) -> xr.Dataset:
        """The signature ``attrs`` and the run's provenance stamp (config hash, seed) in the global attrs."""
        fit.attrs.update(attrs)
        return stamp(fit, self.title, science_hash(self.cfg), self.cfg.seed)

    # a plain NetCDF file, its signature in the global attrs
    def _read(self, path: Path) -> xr.Dataset:
        """The saved dataset, loaded into memory and the file closed (a refit rewrites the file at this path).

        Raises
        ------
        ProvenanceMismatchError
            If there is no file at ``path``.
        """
        if not Path(path).exists():
            raise ProvenanceMismatchError(f"no saved fit at {path}")
        return xr.load_dataset(path)

    def _write(self, fit: xr.Dataset, path: str | Path) -> Path:
        """:func:`~climmig.io.writers.write_netcdf` (atomic)."""
        return write_netcdf(fit, path)

    def _attrs(self, fit: xr.Dataset) -> Mapping[str, Any]:
        """The dataset's global attrs."""
        return fit.attrs


class InternalClimateModel(DatasetFitModel):
    """The climate elasticity of internal moves, fitted on UNHCR PRMN (Somalia).

    :mod:`climmig.migration.internal_climate` has the model; the run fits it when
    ``mobility.migration.internal_fit`` is ``prmn``. Constructed from a run config (:class:`DatasetFitModel`).

    Examples
    --------
    >>> path = run_dir / "fits" / "internal_climate.nc"  # doctest: +SKIP
    >>> model = InternalClimateModel(cfg).calibrate(catalog, path=path)  # doctest: +SKIP
    >>> model.predict(samples=400, seed=1)["climate_elasticity"]  # doctest: +SKIP
    """

    model_name = INTERNAL_CLIMATE_MODEL_NAME
    title = "internal moves for climate reasons: PRMN Somalia fit"

    def prepare(self, catalog: Any) -> pd.DataFrame:
        """The PRMN observations (:func:`~climmig.migration.internal_climate.load_prmn_fit_inputs`)."""
        return load_prmn_fit_inputs(catalog)

    def structure(self, model: pd.DataFrame) -> dict[str, Any]:
        """Parameter names, reasons, priors and the importance sampler's settings."""
        return {"parameters": ["climate_elasticity", *(f"rate_{r}" for r in CLIMATE_REASONS), "alpha"],
                "reasons": list(CLIMATE_REASONS), "priors": INTERNAL_CLIMATE_PRIORS,
                "settings": dict(INTERNAL_CLIMATE_SETTINGS)}

    def fit_table(self, table: pd.DataFrame) -> xr.Dataset:
        """:func:`~climmig.migration.internal_climate.fit_internal_climate` with :attr:`seed`."""
        return fit_internal_climate(table, seed=self.seed, **INTERNAL_CLIMATE_SETTINGS)

    def predict(self, samples: int, seed: int, priors: Any = None) -> xr.Dataset:
        """Internal-migration parameter draws with the PRMN posterior elasticity.

        :func:`~climmig.migration.internal_climate.internal_draws_with_climate_posterior` of this fit: the
        parameters and the result are that function's.
        """
        return internal_draws_with_climate_posterior(self.idata, samples, seed, priors)


class ForcedDisplacementModel(DatasetFitModel):
    """Forced displacement abroad (refugees and asylum seekers by origin), fitted on UNHCR new arrivals.

    :mod:`climmig.migration.forced` has the model; the run fits it when
    ``mobility.migration.forced_displacement`` is ``unhcr``. Constructed from a run config
    (:class:`DatasetFitModel`).

    Examples
    --------
    >>> path = run_dir / "fits" / "forced_displacement.nc"  # doctest: +SKIP
    >>> model = ForcedDisplacementModel(cfg).calibrate(catalog, path=path)  # doctest: +SKIP
    >>> model.predict(drivers, baseline_rate, samples=400, seed=1)  # doctest: +SKIP
    """

    model_name = FORCED_MODEL_NAME
    title = "cross-border forced displacement: UNHCR fit"

    def prepare(self, catalog: Any) -> pd.DataFrame:
        """Origin-year rows over :data:`FORCED_YEARS` (:func:`~climmig.migration.forced.forced_panel`).

        UNHCR new arrivals, IDMC GIDD weather events, WDI population and GDP per capita, from the catalog.
        """
        return forced_panel(catalog.open("unhcr_new_arrivals"), catalog.open("idmc_gidd_weather_events"),
                            catalog.open("wdi_population"), catalog.open("wdi_gdp_per_capita"), FORCED_YEARS)

    def structure(self, model: pd.DataFrame) -> dict[str, Any]:
        """Coefficients, priors, the years and origins with an effect, and the Laplace fit's settings."""
        return {"coef": list(FORCED_COVARIATES), "priors": FORCED_PRIORS,
                "years": sorted(int(y) for y in model["year"].unique()),
                "origins": sorted(str(o) for o in model["origin"].unique()),
                "settings": dict(FORCED_SETTINGS)}

    def fit_table(self, table: pd.DataFrame) -> xr.Dataset:
        """:func:`~climmig.migration.forced.fit_forced` with :attr:`seed`."""
        return fit_forced(table, seed=self.seed, **FORCED_SETTINGS)

    def predict(self, drivers: xr.Dataset, baseline_rate: pd.Series, *, samples: int, seed: int) -> xr.DataArray:
        """Annual forced displacement abroad from each study-area country.

        Delegates to :func:`~climmig.migration.forced.predict_forced`.

        Parameters
        ----------
        drivers : xr.Dataset
            ``population``, ``gdp_per_capita`` and ``internal_exposure_ratio`` (scenario, year, region).
        baseline_rate : pandas.Series
            Weather-disaster displacement per 1000 people per year of each region today.
        samples, seed : int
            Draws and seed.

        Returns
        -------
        xr.DataArray
        """
        return predict_forced(self.idata, drivers, baseline_rate, samples=samples, seed=seed)
