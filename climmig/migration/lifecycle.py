"""The migration models' lifecycles: cross-border (:class:`MigrationModel`) and internal (:class:`InternalMigrationModel`).

``climmig fit-migration`` and the run's ``fit_migration`` stage both go through these classes, so for one config
they write the same fit with the same seed, and each reuses a saved fit of the other whose signature matches
(:mod:`climmig.mobility.lifecycle`).

Seeds: the cross-border fit draws with ``stage_seed(cfg.seed, "fit_migration")``; the internal fit (fitted
only by ``climmig fit-migration --internal-flows``: a run projects internal moves from priors or the PRMN fit)
with ``stage_seed(cfg.seed, "fit_internal_migration")``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from climmig.config.schema import science_hash
from climmig.errors import DataError
from climmig.migration.flows_panel import FlowPanel
from climmig.migration.gravity import (
    COVARIATES,
    GRAVITY_MODEL_NAME,
    GravityDesign,
    fit_gravity,
    panel_design,
)
from climmig.migration.inputs import MigrationInputs
from climmig.migration.internal import (
    INTERNAL_MODEL_NAME,
    build_internal_model,
    expected_internal_migration,
    internal_parameter_draws,
    read_internal_flows,
)
from climmig.migration.model import (
    MODEL_NAME,
    build_migration_model,
    fit_attrs,
    predict_flows,
    resolve_priors,
)
from climmig.migration.run import gravity_gate
from climmig.mobility.diagnostics import check_convergence, gate_summary
from climmig.mobility.lifecycle import ModelLifecycle, frame_sha256
from climmig.mobility.priors import (
    DEFAULT_INTERNAL_PRIORS,
    GRAVITY_PERIOD_PRIOR_SD,
    GRAVITY_PRIORS,
    resolve_prior_table,
)
from climmig.provenance import config_hash

__all__ = ["LAPLACE_DRAWS", "InternalMigrationModel", "MigrationData", "MigrationModel"]

#: posterior draws of the Laplace gravity fit
LAPLACE_DRAWS = 2000


@dataclass(frozen=True)
class MigrationData:
    """What the cross-border model is fitted on: the pair table (``nuts``) or the all-country panel (``laplace``).

    Attributes
    ----------
    inputs : MigrationInputs or None
        Pair table of the single-period fit.
    covariates, geography : xr.Dataset or None
        Country covariates and geography of the single-period fit (border-regime scenarios use them).
    regimes : pandas.DataFrame or None
        Border-regime table of the single-period fit.
    panel : FlowPanel or None
        Rows of the all-country fit.
    design : GravityDesign or None
        The panel's design (:func:`~climmig.migration.gravity.panel_design`).
    panel_attrs : dict of str to str
        The panel's provenance attrs (measure, dropped countries, highest emigration rate).
    """

    inputs: MigrationInputs | None = None
    covariates: xr.Dataset | None = None
    geography: xr.Dataset | None = None
    regimes: pd.DataFrame | None = None
    panel: FlowPanel | None = None
    design: GravityDesign | None = None
    panel_attrs: dict[str, str] = field(default_factory=dict)


class MigrationModel(ModelLifecycle):
    """The cross-border migration model of one run config.

    ``mobility.migration.fit`` selects the fit: ``nuts``, the single-period PyMC gravity model
    (:func:`~climmig.migration.model.build_migration_model`), or ``laplace``, the all-country gravity GLMM
    over every period (:mod:`~climmig.migration.gravity`), which has no PyMC graph: :meth:`build` returns its
    :class:`~climmig.migration.gravity.GravityDesign` and the fit is a Laplace approximation. A flow table given
    to :meth:`prepare` (``climmig fit-migration --flows``) is always fitted with ``nuts``.

    Parameters
    ----------
    cfg : RunConfig
        Run config (``mobility.migration``, its sampler, the study area, seed).

    Examples
    --------
    >>> model = MigrationModel(cfg).calibrate(catalog, path=run_dir / "fits" / "migration.nc")  # doctest: +SKIP
    >>> passed, text, diag = model.gate()  # doctest: +SKIP
    """

    seed_name = "fit_migration"

    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        #: ``nuts`` or ``laplace``
        self.method: str = cfg.mobility.migration.fit

    @property  # type: ignore[override]
    def model_name(self) -> str:
        """The single-period model's name, or the Laplace gravity model's."""
        return GRAVITY_MODEL_NAME if self.method == "laplace" else MODEL_NAME

    @property
    def sampler(self) -> Any:
        """``mobility.migration_sampler`` (the NUTS fit's)."""
        return self.cfg.mobility.migration_sampler

    def fit_config_sha256(self) -> str:
        """sha256 of the method, flow/regime/stock ids, measure, priors, sampler, seed and study area."""
        mig, cfg = self.cfg.mobility.migration, self.cfg
        nuts = self.method == "nuts"
        return config_hash({
            "method": self.method,
            "migration": mig.model_dump(mode="json", include={"flows", "regimes", "stocks", "flow_measure",
                                                              *({"priors"} if nuts else set())}),
            "sampler": self.sampler.model_dump(mode="json") if nuts else {"draws": LAPLACE_DRAWS},
            "seed": self.seed,
            "study_area": {"boundaries": cfg.study_area.boundaries, "countries": list(cfg.study_area.countries or [])},
        })

    def prepare(self, catalog: Any, *, flows: pd.DataFrame | None = None) -> MigrationData:
        """The pair table (``nuts``) or the all-country panel (``laplace``), through the catalog.

        Parameters
        ----------
        catalog : ResolvedCatalog
            The run's catalog.
        flows : pandas.DataFrame, optional
            A flow table (``origin``, ``destination``, ``flow``[, ``period_start``]) replacing the config's
            ``flows`` entry; it is fitted with ``nuts``.

        Returns
        -------
        MigrationData

        Raises
        ------
        DataError
            If a study-area country is missing from the all-country panel.
        """
        cfg, mig = self.cfg, self.cfg.mobility.migration
        if flows is not None:
            self.method = "nuts"
        if self.method == "nuts":
            from climmig.migration.model import load_flow_data

            inputs, cov, geo, regimes = load_flow_data(
                catalog, flows=flows, flows_id=mig.flows, regimes_id=mig.regimes,
                boundaries_id=cfg.study_area.boundaries, extra_countries=cfg.study_area.countries or ())
            return MigrationData(inputs=inputs, covariates=cov, geography=geo, regimes=regimes)
        from climmig.migration.flows_panel import load_flow_panel

        measure = "flow" if mig.flow_measure == "da_pb_closed" else mig.flow_measure
        panel, _geo, _table = load_flow_panel(catalog, flows_id=mig.flows, stocks_id=mig.stocks,
                                              regimes_id=mig.regimes, boundaries_id=cfg.study_area.boundaries,
                                              measure=measure, extra_countries=cfg.study_area.countries or ())
        panel = FlowPanel(panel.rows, panel.countries, panel.dropped, mig.flow_measure)
        study = [c for c in (cfg.study_area.countries or ()) if c not in panel.countries]
        if study:
            raise DataError(f"the study-area countries {study} are not in the flow table {mig.flows!r} (or lack "
                            "WDI covariates/boundaries): the all-country migration model cannot project them")
        design, attrs = panel_design(panel)
        return MigrationData(panel=panel, design=design, panel_attrs=attrs)

    def build(self, data: MigrationData) -> Any:
        """The PyMC model (``nuts``), or the gravity design (``laplace``: no PyMC graph).

        Parameters
        ----------
        data : MigrationData
            From :meth:`prepare`.

        Returns
        -------
        pm.Model or GravityDesign
        """
        if self.method == "nuts":
            return build_migration_model(data.inputs, resolve_priors(self.cfg.mobility.migration.priors))
        return data.design

    def data_sha256(self, data: MigrationData) -> str:
        """sha256 of the pair table (``nuts``) or the panel's rows (``laplace``)."""
        if data.panel is not None:
            p = data.panel
            return frame_sha256(p.rows, list(p.countries), p.measure, p.dropped)
        i = data.inputs
        return frame_sha256(i.pairs, i.country_table, list(i.countries), i.centering, i.period_years)

    def structure_sha256(self, model: Any) -> str:
        """The PyMC model's signature, or the Laplace model's coefficients, coordinates and priors."""
        if isinstance(model, GravityDesign):
            return config_hash({"model": GRAVITY_MODEL_NAME, "coef": list(COVARIATES),
                                "countries": list(model.countries), "periods": [int(p) for p in model.periods],
                                "priors": GRAVITY_PRIORS, "period_prior_sd": GRAVITY_PERIOD_PRIOR_SD})
        return super().structure_sha256(model)

    def fit_attrs(self, data: MigrationData) -> dict[str, str]:
        """The config hash, and for ``nuts`` the centring constants, priors and period length."""
        attrs = {"config_sha256": science_hash(self.cfg)}
        if self.method == "nuts":
            attrs.update(fit_attrs(data.inputs, resolve_priors(self.cfg.mobility.migration.priors)))
        return attrs

    def sample(self, model: Any, data: MigrationData, attrs: Mapping[str, str], progress: bool) -> Any:
        """NUTS (:func:`~climmig.mobility.fit.fit`) or the Laplace fit (:func:`~climmig.migration.gravity.fit_gravity`)."""
        if self.method == "nuts":
            return super().sample(model, data, attrs, progress)
        return fit_gravity(model, draws=LAPLACE_DRAWS, seed=self.seed, attrs={**data.panel_attrs, **attrs})

    def diagnostics(self) -> xr.Dataset | None:
        """The convergence gate's diagnostics (``nuts``); None for the Laplace fit (see :meth:`gate`)."""
        return None if self.method == "laplace" else check_convergence(self.idata, self.cfg.mobility.gate)

    def gate(self) -> tuple[bool, str, xr.Dataset | None]:
        """Whether the fit passed its gate, a one-line summary, and the diagnostics (``nuts`` only).

        Returns
        -------
        (bool, str, xr.Dataset or None)
        """
        if self.method == "laplace":
            return (*gravity_gate(self.idata), None)
        diag = self.diagnostics()
        return bool(diag["passed"]), gate_summary(diag), diag

    def predict(self, drivers: xr.Dataset, regimes: xr.DataArray, *, samples: int, seed: int,
                **kwargs: Any) -> xr.Dataset:
        """Projected flows (:func:`~climmig.migration.model.predict_flows`).

        Parameters
        ----------
        drivers : xr.Dataset
            Flow drivers (population, GDP per head, climate stress, distances, ...).
        regimes : xr.DataArray
            Border regimes (year, origin, destination).
        samples : int
            Posterior draws used.
        seed : int
            Seed of the draws and the count noise.
        **kwargs
            ``internal``, ``max_rate``, ``totals_only``, ``corridors`` of ``predict_flows``.

        Returns
        -------
        xr.Dataset
        """
        return predict_flows(self.idata, drivers, regimes, samples=samples, seed=seed, **kwargs)


class InternalMigrationModel(ModelLifecycle):
    """The internal (zone-to-zone) migration model of one run config, fitted on an origin-destination table.

    Parameters
    ----------
    cfg : RunConfig
        Run config (``mobility.migration.internal_priors``, the migration sampler, seed).

    Examples
    --------
    >>> model = InternalMigrationModel(cfg).calibrate(None, path="internal_migration.nc", flows="od.csv")  # doctest: +SKIP
    >>> model.predict(population, exposure_ratio, samples=400, seed=1)  # doctest: +SKIP
    """

    seed_name = "fit_internal_migration"
    model_name = INTERNAL_MODEL_NAME

    @property
    def sampler(self) -> Any:
        """``mobility.migration_sampler``."""
        return self.cfg.mobility.migration_sampler

    def _priors(self) -> dict[str, Any]:
        return resolve_prior_table(self.cfg.mobility.migration.internal_priors, DEFAULT_INTERNAL_PRIORS,
                                   "mobility -> migration -> internal_priors")

    def fit_config_sha256(self) -> str:
        """sha256 of the internal priors, the sampler and the seed."""
        return config_hash({"internal_priors": {k: v.model_dump(mode="json") for k, v in self._priors().items()},
                            "sampler": self.sampler.model_dump(mode="json"), "seed": self.seed})

    def prepare(self, catalog: Any = None, *, flows: str | Path | pd.DataFrame | None = None) -> pd.DataFrame:
        """The checked flow table (:func:`~climmig.migration.internal.read_internal_flows`).

        Parameters
        ----------
        catalog : ResolvedCatalog, optional
            Unused: no internal origin-destination table is bundled; the table is the user's.
        flows : str, Path or pandas.DataFrame
            The CSV (or a table already read by ``read_internal_flows``).

        Returns
        -------
        pandas.DataFrame
        """
        if flows is None:
            raise DataError("the internal migration model is fitted on an origin-destination table: give it "
                            "(climmig fit-migration --internal-flows FILE)")
        return flows if isinstance(flows, pd.DataFrame) else read_internal_flows(flows)

    def build(self, data: pd.DataFrame) -> Any:
        """:func:`~climmig.migration.internal.build_internal_model` on the table."""
        return build_internal_model(data, self._priors())

    def data_sha256(self, data: pd.DataFrame) -> str:
        """sha256 of the flow table."""
        return frame_sha256(data)

    def fit_attrs(self, data: pd.DataFrame) -> dict[str, str]:
        """The config hash and the resolved internal priors."""
        return {"config_sha256": science_hash(self.cfg),
                "internal_priors": json.dumps({k: v.model_dump(mode="json") for k, v in self._priors().items()})}

    def diagnostics(self) -> xr.Dataset:
        """The convergence gate's diagnostics (:func:`~climmig.mobility.diagnostics.check_convergence`)."""
        return check_convergence(self.idata, self.cfg.mobility.gate)

    def predict(self, population: xr.DataArray, exposure_ratio: xr.DataArray | float = 1.0, *, samples: int,
                seed: int) -> xr.DataArray:
        """Expected internal migrants per year from posterior draws (:func:`~climmig.migration.internal.expected_internal_migration`).

        Parameters
        ----------
        population : xr.DataArray
            People per region.
        exposure_ratio : xr.DataArray or float
            Exposure relative to today.
        samples : int
            Posterior draws used.
        seed : int
            Seed of the draw selection.

        Returns
        -------
        xr.DataArray
        """
        return expected_internal_migration(internal_parameter_draws(self.idata, samples, seed), population,
                                           exposure_ratio)
