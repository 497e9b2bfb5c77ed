"""A finished run's fitted models and fixed inputs, loaded once, projecting any state of the world.

:class:`FittedRun` is what every consumer of a run's fits uses: the projection, intervention and report stages
of ``climmig run``, the sensitivity evaluator, ``climmig compare`` (through the intervention stage) and the
notebooks. Its life cycle::

    fitted = FittedRun.from_run_dir(run_dir)       # fits, exposure and drivers, loaded once
    state = fitted.baseline()                      # the no-intervention projection state
    out = fitted.outcome(apply_intervention(state, spec, draws))
    check = fitted.plausibility()                  # today's simulated displacement beside the record

Every call of :meth:`FittedRun.outcome` uses the run's projection seed, so two states differ only through
what differs between them (common random numbers), and the outcome of the baseline is the run's projection.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.errors import ConvergenceError, DataError
from climmig.interventions.flows import intervened_flow_drivers
from climmig.interventions.state import ProjectionState
from climmig.pipeline.runner import read_record, stage_seed, stage_summary
from climmig.projection.plausibility import (
    Plausibility,
    observed_present_day,
    present_day_drivers,
    simulated_present_day,
)

if TYPE_CHECKING:
    from climmig.catalog import ResolvedCatalog
    from climmig.config import RunConfig

__all__ = ["DISPLACEMENT_OUTCOMES", "MIGRATION_OUTCOMES", "FittedRun", "require_converged"]

logger = logging.getLogger(__name__)

#: Variables of :meth:`FittedRun.outcome` from the displacement model.
DISPLACEMENT_OUTCOMES = ("expected_displacement", "displaced_persons")
#: Variables of :meth:`FittedRun.outcome` from the migration models.
MIGRATION_OUTCOMES = ("cross_border_migration", "internal_migration")
#: Stages whose outputs a fitted run is made of.
_FIT_STAGES = {"displacement": "fit_displacement", "migration": "fit_migration"}
#: Predictions kept per kind (the first, the baseline of the run, and the latest ones; see ``_cached``).
_CACHE_SIZE = 3


def require_converged(run_dir: str | Path, fits: Sequence[str], *, allow_unconverged: bool,
                      action: str = "project") -> dict[str, bool]:
    """Whether each fit of a run passed its convergence gate; refuse a failed one unless allowed.

    Parameters
    ----------
    run_dir : str or Path
        The run directory.
    fits : sequence of str
        Fit stages (``fit_displacement``, ``fit_migration``).
    allow_unconverged : bool
        ``mobility.gate.allow_unconverged`` of the config: go on from a failed fit (outputs are then flagged).
    action : str
        What would be refused, for the message (e.g. ``"project"``).

    Returns
    -------
    dict of str to bool
        Stage name -> passed.

    Raises
    ------
    ConvergenceError
        If a fit failed its gate and ``allow_unconverged`` is false.
    ClimmigError
        If a fit stage has not completed in ``run_dir``.
    """
    passed = {}
    for name in fits:
        rec = stage_summary(run_dir, name)
        passed[name] = bool(rec.get("passed", False))
        if not passed[name] and not allow_unconverged:
            what = name.removeprefix("fit_")
            sampler = "mobility.migration_sampler" if what == "migration" else "mobility.sampler"
            raise ConvergenceError(
                f"the {what} fit in {run_dir} did not converge ({rec.get('gate', 'see fits/')}); refusing to "
                f"{action}. Increase {sampler}.tune/draws and rerun `climmig run`, or set "
                f"mobility.gate.allow_unconverged: true to {action} anyway (outputs are then flagged)")
    return passed


class FittedRun:
    """The fitted models of a finished run with the inputs every projection shares.

    Build it with :meth:`from_run_dir`. Thread-safe: the comparison of interventions calls :meth:`outcome`
    from several threads. Picklable (for ``distributed`` clients); predictions cached in memory are not
    pickled.

    Parameters
    ----------
    cfg : RunConfig
        The config the run was made with.
    catalog : ResolvedCatalog
        Its catalog.
    run_dir : Path
        The run directory.
    displacement_fit : arviz.InferenceData
        The displacement model's fit (posterior in memory).
    exposure : xr.Dataset
        The run's exposure (``exposure/exposure.nc``).
    converged : dict of str to bool
        Fit stage -> passed its convergence gate.
    migration_fit : arviz.InferenceData, optional
        The cross-border migration fit (``fits/migration.nc``); None for a displacement-only run.
    flow_drivers : xr.Dataset, optional
        The migration models' drivers (with ``migration_fit``).
    regimes : xr.DataArray, optional
        Border regimes (year, origin, destination).

    Attributes
    ----------
    drivers : xr.Dataset
        The displacement drivers (:func:`climmig.projection.drivers.displacement_drivers`).
    samples : int
        Posterior samples of the run's projection (``projection.samples``).
    seed : int
        The projection seed (derived from the config's seed).
    """

    def __init__(self, cfg: RunConfig, catalog: ResolvedCatalog, run_dir: Path, displacement_fit: Any,
                 exposure: xr.Dataset, converged: Mapping[str, bool], *, migration_fit: Any = None,
                 flow_drivers: xr.Dataset | None = None, regimes: xr.DataArray | None = None) -> None:
        if (migration_fit is None) != (flow_drivers is None):
            raise ValueError("migration_fit and flow_drivers go together")
        self.cfg, self.catalog, self.run_dir = cfg, catalog, Path(run_dir)
        self.displacement_fit = displacement_fit
        self.migration_fit = migration_fit
        self.exposure = exposure
        self.converged = dict(converged)
        self.flow_drivers = flow_drivers
        self.regimes = regimes
        self.drivers = self.drivers_from(exposure)
        self.samples = int(cfg.projection.samples)
        self.seed = stage_seed(cfg.seed, "projection")
        mig = cfg.mobility.migration
        self.corridors: dict[str, tuple[str, ...]] | None = {k: tuple(v) for k, v in mig.corridors.items()} or None
        self._internal_climate = (self.run_dir / "fits" / "internal_climate.nc"
                                  if mig.internal_fit == "prmn" else None)
        self._reset_caches()

    def _reset_caches(self) -> None:
        # recent predictions, keyed by their input objects: an option that leaves an input untouched (event-only
        # options keep the drivers and the rate multiplier, border regimes keep the drivers) reuses the
        # prediction, which equals a recomputed one (every call uses the same seed). Entries hold their input
        # objects, so an identity match cannot be a recycled id
        self._disp_cache: list[tuple[tuple[Any, ...], xr.Dataset]] = []
        self._flow_cache: list[tuple[tuple[Any, ...], xr.Dataset]] = []
        self._internal: dict[int, xr.Dataset] = {}
        self._baseline: ProjectionState | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for k in ("_disp_cache", "_flow_cache", "_internal", "_baseline", "_lock"):
            state.pop(k, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset_caches()

    # -- loading ---------------------------------------------------------------------------------------------------
    @classmethod
    def from_run_dir(cls, run_dir: str | Path, cfg: RunConfig | None = None, catalog: ResolvedCatalog | None = None,
                     *, migration: bool | None = None) -> FittedRun:
        """Load a finished run's fits, exposure and drivers.

        Parameters
        ----------
        run_dir : str or Path
            A run directory of ``climmig run`` with completed ``exposure`` and ``fit_displacement`` stages.
        cfg : RunConfig, optional
            The config of the run (default: the resolved ``config.yaml`` the run wrote).
        catalog : ResolvedCatalog, optional
            Its catalog (default: the catalog that ``config.yaml`` names).
        migration : bool, optional
            Load the migration fit: True requires it, False skips it, None (default) loads it when the run has
            completed its ``fit_migration`` stage.

        Returns
        -------
        FittedRun

        Raises
        ------
        DataError
            If a stage the fitted run needs is missing or was made with another config.
        """
        from climmig.config import science_hash
        from climmig.mobility.fit import load_fit

        run_dir = Path(run_dir).expanduser().resolve()
        if cfg is None or catalog is None:
            cfg, catalog = _run_config(run_dir, cfg)
        needed = ["exposure", _FIT_STAGES["displacement"]]
        if migration is None:
            migration = read_record(run_dir, _FIT_STAGES["migration"]) is not None
        if migration:
            needed.append(_FIT_STAGES["migration"])
        cfg_hash = science_hash(cfg)
        for name in needed:
            rec = read_record(run_dir, name)
            if rec is None:
                raise DataError(f"{run_dir} has no completed {name} stage; run `climmig run CONFIG --output "
                                f"{run_dir}` first")
            if rec.get("config_sha256") != cfg_hash:
                raise DataError(f"the {name} stage in {run_dir} was made with another config (science hash "
                                f"{str(rec.get('config_sha256'))[:12]}..., this config {cfg_hash[:12]}...); rerun "
                                f"`climmig run CONFIG --output {run_dir}` with this config")
        converged = {name: bool(stage_summary(run_dir, name).get("passed", False))
                     for name in needed if name.startswith("fit_")}
        disp = load_fit(str(run_dir / stage_summary(run_dir, _FIT_STAGES["displacement"])["fit"]))
        disp.posterior.load()
        exposure = xr.load_dataset(run_dir / "exposure" / "exposure.nc")
        mig = flows = None
        if migration:
            mig = load_fit(str(run_dir / "fits" / "migration.nc"))
            mig.posterior.load()
        flows, table = _migration_inputs(cfg, catalog, exposure, mig)
        regions = [str(r) for r in exposure["region"].values]
        years = [int(y) for y in exposure["year"].values]
        from climmig.migration.regimes import pair_regimes

        return cls(cfg, catalog, run_dir, disp, exposure, converged, migration_fit=mig, flow_drivers=flows,
                   regimes=pair_regimes(table, regions, years))

    # -- what the run holds ----------------------------------------------------------------------------------------
    @property
    def hazards(self) -> list[str]:
        """The displacement model's hazard types (e.g. flood, storm, drought)."""
        return [str(h) for h in self.displacement_fit.posterior["hazard"].values]

    @property
    def has_migration(self) -> bool:
        """Whether the migration fit is loaded (outcomes can include migration)."""
        return self.migration_fit is not None

    @property
    def is_gravity_fit(self) -> bool:
        """Whether the migration fit is the all-country gravity model (it has corridor and forced outputs)."""
        from climmig.migration.run import is_gravity_fit

        return self.migration_fit is not None and is_gravity_fit(self.migration_fit)

    def drivers_from(self, exposure: xr.Dataset) -> xr.Dataset:
        """Displacement drivers of an exposure dataset (the run's, or a variant of it) for this run's fit.

        Parameters
        ----------
        exposure : xr.Dataset
            As ``exposure/exposure.nc``.

        Returns
        -------
        xr.Dataset
            See :func:`climmig.projection.drivers.displacement_drivers`.
        """
        from climmig.projection.drivers import displacement_drivers

        return displacement_drivers(exposure, self.hazards, self.cfg.mobility.displacement.hazard_layer_map)

    # -- projecting ------------------------------------------------------------------------------------------------
    def baseline(self, drivers: xr.Dataset | None = None, samples: int | None = None) -> ProjectionState:
        """The no-intervention projection state.

        Parameters
        ----------
        drivers : xr.Dataset, optional
            Displacement drivers of a variant (:meth:`drivers_from`); default the run's.
        samples : int, optional
            Posterior samples; default the run's ``projection.samples``.

        Returns
        -------
        ProjectionState
            With the run's border regimes. The run's own baseline is one object, so its outcome is computed
            once per process.
        """
        if drivers is not None or (samples is not None and samples != self.samples):
            return ProjectionState.baseline(self.drivers if drivers is None else drivers,
                                            self.samples if samples is None else samples, regimes=self.regimes)
        with self._lock:
            if self._baseline is None:
                self._baseline = ProjectionState.baseline(self.drivers, self.samples, regimes=self.regimes)
            return self._baseline

    def outcome(self, state: ProjectionState, migration: bool = True) -> xr.Dataset:
        """Displacement (and migration) of a projection state; the run's projection seed on every call.

        Parameters
        ----------
        state : ProjectionState
            The baseline or an intervened copy of it (its ``sample`` size sets the number of draws).
        migration : bool
            Also project cross-border and internal migration (the run must have its migration fit).

        Returns
        -------
        xr.Dataset
            ``expected_displacement`` and ``displaced_persons`` (sample, scenario, climate_model, year, region,
            hazard), and with ``migration`` ``cross_border_migration`` and ``internal_migration`` (per origin
            region), people per year. A new Dataset on every call: callers may set attrs freely.

        Raises
        ------
        DataError
            If ``migration`` is asked of a run without a migration fit.
        """
        if migration and not self.has_migration:
            raise DataError(f"the run in {self.run_dir} has no migration fit (fit_migration stage); project with "
                            "migration=False, or run `climmig run` to completion")
        disp = self._cached(self._disp_cache, (state.drivers, state.rate_multiplier),
                            lambda: self._displacement(state))
        parts = {v: disp[v] for v in DISPLACEMENT_OUTCOMES}
        if migration:
            regimes = state.regimes if state.regimes is not None else self.regimes
            flows = self._cached(self._flow_cache, (state.drivers, regimes, state.n_samples),
                                 lambda: self.flows(state, regimes)[list(MIGRATION_OUTCOMES)])
            parts.update({v: flows[v] for v in MIGRATION_OUTCOMES})
        # a shallow copy: callers may set attrs without touching the cached predictions
        return xr.Dataset(parts).copy(deep=False)

    def _displacement(self, state: ProjectionState) -> xr.Dataset:
        from climmig.displacement.model import predict_displacement

        with np.errstate(divide="ignore"):  # log(0) of a zero exposure ratio: a zero rate, as intended
            out = predict_displacement(self.displacement_fit, state.drivers, samples=state.n_samples,
                                       seed=self.seed, rate_multiplier=state.rate_multiplier)
        # only the variables returned are kept (the full prediction holds its parameter draws too)
        return out[list(DISPLACEMENT_OUTCOMES)]

    def flows(self, state: ProjectionState, regimes: xr.DataArray | None = None,
              totals_only: bool = True) -> xr.Dataset:
        """Migration flows of a projection state (uncached; :meth:`outcome` keeps the totals of recent ones).

        Parameters
        ----------
        state : ProjectionState
            The state.
        regimes : xr.DataArray, optional
            Border regimes; default the state's, else the run's.
        totals_only : bool
            Only the per-region totals (the pair matrices' expected and typical flows are skipped).

        Returns
        -------
        xr.Dataset
            See :func:`climmig.migration.model.predict_flows`.
        """
        from climmig.migration.model import predict_flows

        if not self.has_migration:
            raise DataError(f"the run in {self.run_dir} has no migration fit (fit_migration stage)")
        if regimes is None:
            regimes = state.regimes if state.regimes is not None else self.regimes
        fd = intervened_flow_drivers(self.flow_drivers, self.drivers, state.drivers)
        return predict_flows(self.migration_fit, fd, regimes, samples=state.n_samples, seed=self.seed,
                             internal=self.internal_draws(state.n_samples), totals_only=totals_only,
                             corridors=self.corridors)

    def internal_draws(self, samples: int | None = None) -> xr.Dataset:
        """Internal-migration parameter draws (PRMN posterior elasticity when the run fitted it, else priors).

        They depend on the seed and the number of samples only, so they are drawn once per sample size.

        Parameters
        ----------
        samples : int, optional
            Default the run's ``projection.samples``.

        Returns
        -------
        xr.Dataset
        """
        from climmig.migration.run import run_internal_draws

        n = self.samples if samples is None else int(samples)
        with self._lock:
            if n not in self._internal:
                paths = {"internal_climate": self._internal_climate,
                         "internal_priors": self.cfg.mobility.migration.internal_priors}
                self._internal[n] = run_internal_draws(paths, n, self.seed)
            return self._internal[n]

    def evacuation_share(self, state: ProjectionState) -> xr.DataArray:
        """Share of recorded displacement that is pre-emptive evacuation, drawn per hazard and sample.

        The projection and every comparison of interventions on this run use the same draws.

        Parameters
        ----------
        state : ProjectionState
            Gives the hazards and the samples.

        Returns
        -------
        xr.DataArray
            See :func:`climmig.interventions.evidence.evacuation_share_draws`.
        """
        from climmig.interventions.evidence import evacuation_share_draws

        return evacuation_share_draws([str(h) for h in state.rate_multiplier["hazard"].values], state.samples,
                                      stage_seed(self.cfg.seed, "outcome_split"))

    def plausibility(self, scenario: str | None = None, observations: pd.DataFrame | None = None) -> Plausibility:
        """Simulate today's yearly displacement and set it beside the recorded one.

        Today is the first projection year's population and income with today's exposure (exposure ratio 1).

        Parameters
        ----------
        scenario : str, optional
            Scenario of the first year's population and income (default: the config's middle scenario).
        observations : pandas.DataFrame, optional
            Tidy IDMC observations (default: the run's, :func:`climmig.displacement.calibration.load_observations`).

        Returns
        -------
        Plausibility
        """
        sc = scenario if scenario is not None else self.cfg.scenarios[len(self.cfg.scenarios) // 2]
        if sc not in self.drivers["scenario"].values:
            raise DataError(f"scenario {sc!r} is not in the run (scenarios {list(self.cfg.scenarios)})")
        today = present_day_drivers(self.drivers, sc)
        sim = self.outcome(ProjectionState.baseline(today, self.samples), migration=False)
        simulated = simulated_present_day(sim["displaced_persons"])
        if observations is None:
            from climmig.displacement.calibration import load_observations

            observations, _ = load_observations(self.cfg, self.catalog)
        return Plausibility(simulated, observed_present_day(observations, simulated["region"]), sc,
                            int(today["year"].values[0]))

    def require_converged(self, action: str = "project") -> dict[str, bool]:
        """Refuse fits of this run that failed their gate, unless ``mobility.gate.allow_unconverged``.

        Parameters
        ----------
        action : str
            What would be refused, for the message.

        Returns
        -------
        dict of str to bool
            Fit stage -> passed.
        """
        return require_converged(self.run_dir, list(self.converged),
                                 allow_unconverged=self.cfg.mobility.gate.allow_unconverged, action=action)

    def _cached(self, cache: list[tuple[tuple[Any, ...], xr.Dataset]], key: tuple[Any, ...],
                compute: Callable[[], xr.Dataset]) -> xr.Dataset:
        """The cached value whose key equals ``key`` (objects by identity, numbers by value), else ``compute()``.

        The lock guards the lookup and the insertion, not the computation; two threads missing the same key
        compute equal values. The first entry (the baseline of a run) and the latest ones are kept.
        """
        def same(a: Any, b: Any) -> bool:
            return a == b if isinstance(a, int) and isinstance(b, int) else a is b

        with self._lock:
            for k, v in cache:
                if all(same(a, b) for a, b in zip(k, key, strict=True)):
                    return v
        value = compute()
        with self._lock:
            cache.append((key, value))
            if len(cache) > _CACHE_SIZE:
                del cache[1]
        return value


def _run_config(run_dir: Path, cfg: RunConfig | None) -> tuple[RunConfig, ResolvedCatalog]:
    """The run's config (given, or its resolved ``config.yaml``) and the catalog ``config.yaml`` names."""
    from climmig.catalog import load_catalog
    from climmig.config import catalog_path, load_config

    written = run_dir / "config.yaml"
    if not written.exists():
        raise DataError(f"{written} not found: is {run_dir} a climmig run directory? Pass the config and catalog "
                        "explicitly, or run `climmig run CONFIG` first")
    resolved = load_config(written)
    return (cfg if cfg is not None else resolved), load_catalog(catalog_path(resolved, written))


def _migration_inputs(cfg: RunConfig, catalog: ResolvedCatalog, exposure: xr.Dataset,
                      fit: Any) -> tuple[xr.Dataset | None, Any]:
    """The migration drivers of the projection (None without a fit) and the border-regime table."""
    from climmig.migration.model import flow_drivers, load_flow_data
    from climmig.migration.run import is_gravity_fit, projection_flow_drivers

    mig = cfg.mobility.migration
    # the all-country model reads the regime table itself; the single-period model's table comes with its flows
    gravity = is_gravity_fit(fit) if fit is not None else mig.fit == "laplace"
    if gravity:
        table = catalog.open(mig.regimes)
        return (projection_flow_drivers(catalog, cfg, fit, exposure) if fit is not None else None), table
    _inputs, cov, geo, table = load_flow_data(catalog, flows_id=mig.flows, regimes_id=mig.regimes,
                                              boundaries_id=cfg.study_area.boundaries,
                                              extra_countries=cfg.study_area.countries or ())
    if fit is None:
        return None, table
    regions = [str(r) for r in exposure["region"].values]
    return flow_drivers(exposure, cov.sel(region=regions), geo.sel(origin=regions, destination=regions)), table
