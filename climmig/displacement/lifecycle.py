"""The displacement model's lifecycle: prepare its data, build, calibrate (reuse or fit), predict, save, load.

``climmig fit``, ``climmig backtest`` and the run's ``fit_displacement`` stage all go through
:class:`DisplacementModel`. The science lives in :mod:`~climmig.displacement.model`; the observations,
historical exposure and hashes in :mod:`~climmig.displacement.calibration`.

Seed: the displacement fit samples with the config's own ``seed`` (not a derived stage seed, as the migration
models do): that has been its seed since the first release, and the published figures come from it. Every
command uses the same one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.config.schema import science_hash
from climmig.config.schema_statistics import DistSpec
from climmig.displacement.calibration import (
    CHECK_VARS,
    MODEL_NAME,
    Calibration,
    fit_config_hash,
    fit_data_hash,
    historical_exposure,
    load_observations,
)
from climmig.displacement.model import (
    DisplacementInputs,
    build_displacement_model,
    income_coefficients,
    predict_displacement,
    prepare_inputs,
)
from climmig.mobility.covariates import load_covariates
from climmig.mobility.diagnostics import stored_diagnostics
from climmig.mobility.hazard_history import elasticity_summary
from climmig.mobility.lifecycle import ModelLifecycle
from climmig.mobility.priors import resolve_priors

__all__ = ["DisplacementData", "DisplacementModel"]


@dataclass(frozen=True)
class DisplacementData:
    """What the displacement model is fitted on.

    Attributes
    ----------
    inputs : DisplacementInputs
        Model inputs (:func:`~climmig.displacement.model.prepare_inputs`).
    observations : pandas.DataFrame
        Tidy IDMC observations (all years, for back-tests).
    covariates : pandas.DataFrame
        WDI covariates of the observed countries.
    priors : dict of str to DistSpec
        Resolved priors.
    last_year : int
        Last calibration year.
    data_sha256 : str
        :func:`~climmig.displacement.calibration.fit_data_hash` of all of it.
    log_exposure : pandas.Series or None
        Historical ``log E`` (None without ``historical_intensity``).
    intensity_sources : dict of str to str
        Hazard -> source of its intensity.
    """

    inputs: DisplacementInputs
    observations: pd.DataFrame
    covariates: pd.DataFrame
    priors: dict[str, DistSpec]
    last_year: int
    data_sha256: str
    log_exposure: pd.Series | None
    intensity_sources: dict[str, str]


class DisplacementModel(ModelLifecycle):
    """The displacement hurdle model of one run config.

    Parameters
    ----------
    cfg : RunConfig
        Run config (priors, parameterisation, sampler, gate, seed, historical period).

    Examples
    --------
    >>> model = DisplacementModel(cfg).calibrate(catalog, path=model.default_path(run_dir / "fits"))  # doctest: +SKIP
    >>> model.predict(drivers, samples=400, seed=1)["displaced_persons"]  # doctest: +SKIP
    """

    seed_name = "fit_displacement"
    model_name = MODEL_NAME

    @property
    def seed(self) -> int:
        """The config's ``seed`` itself (the displacement fit's seed since the first release; see the module)."""
        return int(self.cfg.seed)

    def fit_config_sha256(self) -> str:
        """:func:`~climmig.displacement.calibration.fit_config_hash`: displacement spec, sampler, seed, period."""
        return fit_config_hash(self.cfg)

    def default_path(self, out_dir: str | Path, fit_until: int | None = None) -> Path:
        """``out_dir/displacement_fit.nc``, or ``displacement_fit_until<YEAR>.nc`` for a back-test fit."""
        if fit_until is None:
            return Path(out_dir) / "displacement_fit.nc"
        return Path(out_dir) / f"displacement_fit_until{min(self.cfg.period.historical.end, fit_until)}.nc"

    def prepare(self, catalog: Any, *, fit_until: int | None = None, observations: pd.DataFrame | None = None,
                observations_sha256: str | None = None) -> DisplacementData:
        """Observations, covariates and historical exposure of every observed country, as model inputs.

        Parameters
        ----------
        catalog : ResolvedCatalog
            The run's catalog.
        fit_until : int, optional
            Last calibration year (back-testing); default ``period.historical.end``.
        observations : pandas.DataFrame, optional
            Tidy observations (default: the config's catalog entry).
        observations_sha256 : str, optional
            Checksum of the observations' source.

        Returns
        -------
        DisplacementData
        """
        cfg = self.cfg
        if observations is None:
            observations, observations_sha256 = load_observations(cfg, catalog)
        hist = cfg.period.historical
        last = min(hist.end, fit_until) if fit_until is not None else hist.end
        years = list(range(hist.start, last + 1))
        countries = sorted(observations["iso3"].unique())
        all_years = sorted(set(years) | set(int(y) for y in observations["year"].unique()))
        covariates = load_covariates(catalog, countries, all_years)
        spec = cfg.mobility.displacement
        hazards = ([h for h in spec.hazards if h in set(observations["hazard"])]
                   or sorted(observations["hazard"].unique()))
        cells = observations[observations["hazard"].isin(hazards) & observations["year"].isin(years)
                             & (observations["status"] != "not_reported")
                             & observations["iso3"].isin(set(covariates.index.get_level_values("iso3")))]
        log_e, intensity_sha, sources = historical_exposure(cfg, catalog, years,
                                                            cells[["iso3", "year", "hazard"]])
        inputs = prepare_inputs(observations, covariates, hazards=hazards, years=years,
                                exposure_ratio=None if log_e is None else np.exp(log_e),
                                parameterization=spec.parameterization)
        data_sha = fit_data_hash(observations_sha256 or "", covariates.attrs.get("sha256", {}), last, hazards,
                                 log_e, intensity_sha)
        return DisplacementData(inputs=inputs, observations=observations, covariates=covariates,
                                priors=resolve_priors(spec.priors), last_year=last, data_sha256=data_sha,
                                log_exposure=log_e, intensity_sources=sources)

    def build(self, data: DisplacementData) -> Any:
        """:func:`~climmig.displacement.model.build_displacement_model` on the prepared inputs."""
        return build_displacement_model(data.inputs, data.priors)

    def data_sha256(self, data: DisplacementData) -> str:
        """The prepared data's :func:`~climmig.displacement.calibration.fit_data_hash`."""
        return data.data_sha256

    def fit_attrs(self, data: DisplacementData) -> dict[str, str]:
        """Config hash, priors, last calibration year, input scalings and the historical-intensity sources."""
        attrs = {
            "config_sha256": science_hash(self.cfg),
            "priors": json.dumps({k: v.model_dump(mode="json") for k, v in data.priors.items()}, sort_keys=True),
            "climmig_fit_until": str(data.last_year),
            **data.inputs.attrs(),
        }
        if data.log_exposure is not None:
            attrs["climmig_historical_intensity"] = json.dumps(data.intensity_sources, sort_keys=True)
            attrs["climmig_exposure_coverage"] = data.log_exposure.attrs["coverage"]
        return attrs

    def sample(self, model: Any, data: DisplacementData, attrs: Mapping[str, str], progress: bool) -> Any:
        """Fit, then store the exposure elasticity's identification check and the income slopes."""
        idata = super().sample(model, data, attrs, progress)
        # identification check of the exposure elasticity (posterior sd / prior sd per hazard)
        summary = elasticity_summary(idata, data.priors, data.intensity_sources)
        idata.posterior.attrs["climmig_elasticity_summary"] = summary.to_json(orient="records")
        # between- and within-country slopes of every covariate (the report reads them from here)
        idata.posterior.attrs["climmig_income_coefficients"] = income_coefficients(idata).to_json(orient="records")
        # R-hat and ESS go into the fit's convergence group before it is saved, so a reused fit (from the run
        # or the fit cache) does not compute them again
        self._diagnostics_of(idata)
        return idata

    def diagnostics(self) -> xr.Dataset:
        """The convergence gate's diagnostics of the fit (stored by :meth:`sample`; see ``stored_diagnostics``)."""
        return self._diagnostics_of(self.idata)

    def _diagnostics_of(self, idata: Any) -> xr.Dataset:
        # the exposure elasticity is prior-only unless historical intensity informed it
        check = CHECK_VARS + (["exposure_elasticity"] if "climmig_historical_intensity" in idata.posterior.attrs
                              else [])
        return stored_diagnostics(idata, [v for v in check if v in idata.posterior], self.cfg.mobility.gate)

    def calibration(self) -> Calibration:
        """The calibrated fit with what it was fitted on (for the predictive checks and the back-test)."""
        if self.data is None:
            raise ValueError("DisplacementModel.calibration needs the fit's data: calibrate, or load with a catalog")
        return Calibration(idata=self.idata, inputs=self.data.inputs, observations=self.data.observations,
                           covariates=self.data.covariates, diagnostics=self.diagnostics(), path=self.path,
                           reused=self.reused, data_sha256=self.data.data_sha256)

    def predict(self, drivers: xr.Dataset, *, samples: int, seed: int,
                rate_multiplier: xr.DataArray | float | None = None) -> xr.Dataset:
        """Posterior predictive displacement for new drivers (:func:`~climmig.displacement.model.predict_displacement`).

        Parameters
        ----------
        drivers : xr.Dataset
            Projection drivers (population, GDP per head, shares, exposure ratio).
        samples : int
            Posterior draws used.
        seed : int
            Seed of the draw selection and the predictive noise.
        rate_multiplier : xr.DataArray or float, optional
            Multiplies the expected rate (interventions).

        Returns
        -------
        xr.Dataset
        """
        return predict_displacement(self.idata, drivers, samples=samples, seed=seed, rate_multiplier=rate_multiplier)
