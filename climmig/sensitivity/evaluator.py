"""Evaluate sensitivity samples on a finished run: reuse its exposure layers and fitted posteriors.

``climmig run CONFIG`` leaves the exposure (``exposure/exposure.nc``) and the fitted models (``fits/``) in the
run directory. :func:`run_evaluator` loads them once (:class:`~climmig.projection.FittedRun`); each evaluation
then applies the sampled values to the config (:func:`~climmig.sensitivity.paths.apply_parameters`), recomputes only what the
varied parameters change and computes the outputs:

* the level a hazard's indicator must exceed (``threshold`` of flood depth, crop and flooded-fraction
  hazards; ``params.min_days`` / ``params.min_months`` of heat and drought): its exposure from the hazard
  layer held in memory (computed once, when the evaluator is built); any other field of a hazard (including
  the heat or drought ``threshold``, which defines the indicator itself): that hazard's layer again (slow);
* interventions, portfolios, border regimes, the comparison settings, horizons: the comparison only.

The displacement projection uses the fitted posterior with the pipeline's seeds, so evaluations differ only
through the parameters (common random numbers). What-if comparisons (:meth:`RunEvaluator.comparison`) include
migration when the run has its migration fit, as the run's own comparison does; the sensitivity outputs below
are displacement outputs, so evaluations skip migration. Parameters that would need a new fit or new input layers
(``mobility``, ``livelihoods``, ``grid``, ``period``, ...) are refused with an explanation.

Outputs (one value per evaluation horizon, summed over regions; the median over posterior samples, climate
models and scenarios pooled, because the posterior predictive of displacement is heavy-tailed and its mean
is dominated by a few extreme draws):

* ``displaced_persons``: projected new displacements per year without intervention (horizon mean), people;
* ``averted_displacement.<id>``: displacements averted by intervention or portfolio ``<id>`` over the horizon;
* ``cost_per_person_averted.<id>``: its discounted cost from the first projection year to the horizon's end
  divided by the displacements it averts over that time (ratio of the medians);
* ``prob_best.<id>``: the probability that ``<id>`` averts the most of all configured options.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from climmig.config.schema import RunConfig
from climmig.sensitivity.paths import apply_parameters
from climmig.sensitivity.problem import SensitivityError, SensitivityProblem

__all__ = ["INTERVENTION_OUTPUTS", "RUN_OUTPUTS", "RunEvaluator", "run_evaluator", "run_outputs"]

logger = logging.getLogger(__name__)

#: Outputs without an intervention id.
RUN_OUTPUTS = ("displaced_persons",)
#: Outputs named ``<name>.<intervention or portfolio id>``.
INTERVENTION_OUTPUTS = ("averted_displacement", "cost_per_person_averted", "prob_best")
#: Top-level config sections an evaluation on a finished run can vary.
VARIABLE_SECTIONS = ("hazards", "interventions", "portfolios", "border_regimes", "comparison", "projection",
                     "horizons")
_NEEDS_REFIT = {
    "mobility": "the fitted displacement and migration models (priors, sampler, observations)",
    "livelihoods": "the population and livelihood layers",
    "grid": "the analysis grid",
    "study_area": "the study area",
    "period": "the projection years and the calibration period",
    "scenarios": "the scenarios",
    "climate_models": "the climate models",
    "seed": "every random draw",
}
_LONG = {
    "displaced_persons": ("projected new displacements per year without intervention (horizon mean over years, "
                          "sum over regions, median over samples, climate models and scenarios)", "1"),
    "averted_displacement": ("displacements averted over the horizon (sum over regions, median over samples, "
                             "climate models and scenarios)", "1"),
    "cost_per_person_averted": ("discounted cost per displacement averted, first projection year to the "
                                "horizon's end (ratio of the medians)", "{currency} per person"),
    "prob_best": ("probability of averting the most at the comparison's equal budget (mean over scenarios)", "1"),
}


def _option_ids(cfg: RunConfig) -> list[str]:
    return [*(s.id for s in cfg.interventions), *(b.id for b in cfg.border_regimes), *(p.id for p in cfg.portfolios)]


def run_outputs(cfg: RunConfig) -> list[str]:
    """Every output name the run evaluator can compute for a config.

    Parameters
    ----------
    cfg : RunConfig
        The config.

    Returns
    -------
    list of str
        ``displaced_persons`` and ``<output>.<id>`` for every intervention, border-regime change and portfolio.
    """
    return [*RUN_OUTPUTS, *(f"{o}.{i}" for o in INTERVENTION_OUTPUTS for i in _option_ids(cfg))]


def _check_outputs(outputs: Sequence[str], cfg: RunConfig) -> None:
    import difflib

    have = run_outputs(cfg)
    bad = []
    for o in outputs:
        if o in have:
            continue
        close = difflib.get_close_matches(o, have, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if o in INTERVENTION_OUTPUTS:
            hint = f" (name the option: {o}.<id>, e.g. {o}.{_option_ids(cfg)[0]})" if _option_ids(cfg) else \
                " (the config has no interventions)"
        bad.append(f"{o!r}{hint}")
    if bad:
        raise SensitivityError(f"unknown output(s) {', '.join(bad)} for a run of {cfg.run_id}; the run evaluator "
                               f"computes {', '.join(RUN_OUTPUTS)} and {', '.join(INTERVENTION_OUTPUTS)} of each "
                               f"option ({', '.join(_option_ids(cfg)) or 'none configured'}); fix `outputs`")


def _check_paths(paths: Sequence[str]) -> None:
    bad = []
    for p in paths:
        top = p.split(".", 1)[0]
        if top in VARIABLE_SECTIONS:
            continue
        what = _NEEDS_REFIT.get(top, f"the `{top}` section")
        bad.append(f"{p} changes {what}, which the run's cached exposure and fits were built with")
    if bad:
        raise SensitivityError("; ".join(bad) + ". Evaluations reuse the run's exposure layers and fitted "
                               f"posteriors, so they can vary only {', '.join(VARIABLE_SECTIONS)}. To study such a "
                               "parameter, run `climmig run` once per value (e.g. with --output) and compare")


@dataclass(frozen=True)
class _HazardLayer:
    """A hazard's indicator fields held in memory (projection and baseline window)."""

    spec: Any
    field: xr.DataArray
    field0: xr.DataArray


def _without_exceedance_level(spec: Any) -> dict[str, Any]:
    """The spec without the level its indicator must exceed: what the hazard layer itself depends on.

    For flood depth that level is ``threshold``; for heat days and drought months ``threshold`` defines the
    indicator (a temperature, an index level) and the level is ``params.min_days`` / ``params.min_months``.
    """
    from climmig.hazards.layers import EXCEEDANCE

    d = spec.model_dump(mode="json")
    level = EXCEEDANCE[spec.indicator][0]
    if level == "threshold":
        d.pop("threshold", None)
    else:
        d["params"] = {k: v for k, v in (d.get("params") or {}).items() if k != level}
    return d


def _check_run(run_dir: Path, cfg: RunConfig, config_file: str | Path) -> bool:
    """Refuse a run without current exposure and displacement fit, or with a fit that failed its gate.

    Returns
    -------
    bool
        Whether the run has a current migration fit (comparisons then include migration).
    """
    from climmig.config import science_hash
    from climmig.pipeline.runner import stage_is_current
    from climmig.pipeline.stages import build_stages
    from climmig.projection.fitted import require_converged

    stages = {s.name: s for s in build_stages()}
    cfg_hash = science_hash(cfg)
    stale = [n for n in ("inputs", "exposure", "fit_displacement")
             if not stage_is_current(run_dir, stages[n], cfg_hash, verify_outputs=False)]
    if stale:
        raise SensitivityError(
            f"the run in {run_dir} has no current {', '.join(stale)} stage for this config; the sensitivity "
            f"analysis reuses the run's exposure and fitted posteriors instead of refitting: run `climmig run "
            f"{config_file} --output {run_dir}` first (or point to the run directory it made)")
    migration = stage_is_current(run_dir, stages["fit_migration"], cfg_hash, verify_outputs=False)
    # refused as the pipeline's projection refuses it
    require_converged(run_dir, ["fit_displacement", *(["fit_migration"] if migration else [])],
                      allow_unconverged=cfg.mobility.gate.allow_unconverged, action="evaluate projections")
    return migration


class RunEvaluator:
    """Callable evaluator (``values -> xr.Dataset``) over a finished run; see the module docs.

    Thread-safe (evaluations only read the cached layers and posteriors) and picklable (for a
    ``distributed`` client). Build it with :func:`run_evaluator`.

    Parameters
    ----------
    cfg : RunConfig
        The config the run was made with.
    catalog : climmig.catalog.ResolvedCatalog
        Its catalog.
    run_dir : Path
        The run directory.
    outputs : sequence of str
        Outputs to compute (see :func:`run_outputs`).
    paths : sequence of str
        Parameter paths that will be varied (hazard layers they touch are loaded into memory once).
    samples : int, optional
        Posterior samples per evaluation (default ``projection.samples`` of each evaluated config).
    config_file : str or Path, optional
        Where the config came from (named in error messages).
    """

    def __init__(self, cfg: RunConfig, catalog: Any, run_dir: Path, outputs: Sequence[str], paths: Sequence[str],
                 samples: int | None = None, config_file: str | Path = "CONFIG") -> None:
        from climmig.projection.fitted import FittedRun

        _check_paths(paths)
        _check_outputs(outputs, cfg)
        self.cfg, self.catalog, self.run_dir = cfg, catalog, Path(run_dir)
        self.outputs = tuple(outputs)
        self.samples = samples
        migration = _check_run(self.run_dir, cfg, config_file)
        self.fitted = FittedRun.from_run_dir(self.run_dir, cfg, catalog, migration=migration)
        self.run_exposure = self.fitted.exposure
        varied = {p.split(".")[1] for p in paths if p.startswith("hazards.") and p.count(".") >= 2}
        self.layers: Any = None
        self.hazard_layers: dict[str, _HazardLayer] = {}
        self._lock = threading.RLock()
        if varied:
            self._load_hazard_layers(sorted(varied))

    def _load_hazard_layers(self, names: list[str]) -> None:
        import dask

        from climmig.exposure.build import hazard_fields

        logger.info("loading hazard layers of %s into memory (computed once for all evaluations)", ", ".join(names))
        layers = self._exposure_layers()
        by_name = {h.name: h for h in self.cfg.hazards}
        with dask.config.set(scheduler="threads"):
            for name in names:
                spec = by_name[name]
                field, field0 = hazard_fields(spec, layers, self.catalog, self.cfg.seed)
                self.hazard_layers[name] = _HazardLayer(spec, field.load(), field0.load())

    def _exposure_layers(self) -> Any:
        import dask

        from climmig.exposure.build import exposure_layers

        with self._lock:
            if self.layers is None:
                layers = exposure_layers(self.cfg, self.catalog)
                with dask.config.set(scheduler="threads"):  # in memory: small, and the evaluator then pickles
                    self.layers = replace(layers, **{f.name: getattr(layers, f.name).load() for f in fields(layers)
                                                     if isinstance(getattr(layers, f.name), xr.DataArray | xr.Dataset)})
        return self.layers

    # -- one evaluation ------------------------------------------------------------------------------------------
    def exposure(self, cfg: RunConfig) -> xr.Dataset:
        """The exposure dataset of a variant of the run's config: the run's, with changed hazards recomputed.

        Parameters
        ----------
        cfg : RunConfig
            The run's config with changed values (e.g. from :func:`~climmig.sensitivity.apply_parameters`).

        Returns
        -------
        xr.Dataset
            As ``exposure/exposure.nc`` (in memory).
        """
        from climmig.exposure.build import hazard_exposure, hazard_fields
        from climmig.hazards import exceedance_threshold

        ex = self.run_exposure
        changed = []
        base = {h.name: h for h in self.cfg.hazards}
        for spec in cfg.hazards:
            if spec.name not in base:
                raise SensitivityError(f"hazard {spec.name!r} is not in the run's config; hazards can be changed, "
                                       "not added, without a new run")
            if spec == base[spec.name]:
                continue
            with self._lock:
                if spec.name not in self.hazard_layers:
                    self._load_hazard_layers([spec.name])
            cached = self.hazard_layers[spec.name]
            if _without_exceedance_level(spec) == _without_exceedance_level(cached.spec):
                field, field0 = cached.field, cached.field0
            else:  # a field other than the threshold changed: this hazard's layer again
                field, field0 = hazard_fields(spec, self._exposure_layers(), self.catalog, cfg.seed)
            changed.append((spec.name, hazard_exposure(field, field0, self.layers, exceedance_threshold(spec))))
        if not changed:
            return ex
        new = {v: ex[v].copy(deep=True) for v in ("exposed_population", "hazard_intensity",
                                                   "exposed_population_baseline")}
        for name, parts in changed:
            for var, da in zip(new, parts, strict=True):
                target = new[var].sel(hazard=name)
                da = da.compute(scheduler="synchronous").transpose(*target.dims)
                new[var].loc[{"hazard": name}] = da.reindex_like(target).values
        lwe = (new["exposed_population"] * ex["agricultural_share"]).transpose(*ex["exposed_population"].dims)
        out = ex.assign(**new, livelihood_weighted_exposure=lwe.assign_attrs(ex["livelihood_weighted_exposure"].attrs))
        if "hazard_threshold" in out.coords:
            thresholds = {h.name: h.threshold for h in cfg.hazards}
            out = out.assign_coords(hazard_threshold=("hazard", [thresholds.get(str(h), t) for h, t in zip(
                out["hazard"].values, out["hazard_threshold"].values, strict=True)]))
        return out

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the lock (for ``distributed`` clients); caches travel with the evaluator."""
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def provenance(self) -> dict[str, str]:
        """What the evaluations reused: the run directory and the records of its exposure and fit stages.

        Returns
        -------
        dict of str to str
            ``climmig_sensitivity_run_dir``, ``climmig_sensitivity_reused`` (JSON: stage -> sha256 of each
            output file it wrote) and ``climmig_sensitivity_samples``.
        """
        from climmig.pipeline.runner import read_record

        reused = {}
        for name in ("exposure", "fit_displacement", *(["fit_migration"] if self.fitted.has_migration else [])):
            reused[name] = (read_record(self.run_dir, name) or {}).get("outputs", {})
        return {"climmig_sensitivity_run_dir": str(self.run_dir),
                "climmig_sensitivity_reused": json.dumps(reused, sort_keys=True),
                "climmig_sensitivity_samples": str(self.samples or self.cfg.projection.samples)}

    def _option_ids(self) -> set[str] | None:
        """Options the outputs need (None: all of them, for the probability of being best)."""
        if any(o.startswith("prob_best.") for o in self.outputs):
            return None
        return {o.split(".", 1)[1] for o in self.outputs if "." in o}

    def projection_state(self, cfg: RunConfig, migration: bool | None = None) -> tuple[Any, Any]:
        """The baseline projection state of a config variant and its outcome function.

        Parameters
        ----------
        cfg : RunConfig
            The run's config with changed values.
        migration : bool, optional
            Outcomes include migration (default: when the run has its migration fit).

        Returns
        -------
        tuple
            ``(state, outcome)``: a :class:`~climmig.interventions.ProjectionState` and ``outcome(state) ->
            xr.Dataset`` (:meth:`climmig.projection.FittedRun.outcome`: the posterior predictive with the
            pipeline's seed, so every call sees the same random numbers); the baseline is computed once.
        """
        fitted = self.fitted
        migration = fitted.has_migration if migration is None else migration
        state = fitted.baseline(fitted.drivers_from(self.exposure(cfg)), self.samples or cfg.projection.samples)
        base: list[xr.Dataset] = []

        def outcome(s: Any) -> xr.Dataset:
            # the baseline of this evaluation is held here: the fitted run's cache is shared by evaluations
            # running in other threads
            if s is state and base:
                return base[0]
            out = fitted.outcome(s, migration=migration)
            if s is state:
                base.append(out)
            return out

        return state, outcome

    def comparison(self, cfg: RunConfig, options: set[str] | None = None, state: Any = None,
                   outcome: Any = None) -> xr.Dataset:
        """Compare the interventions and portfolios of a config variant on the run's exposure and fits.

        Parameters
        ----------
        cfg : RunConfig
            The run's config, possibly with changed or added interventions and portfolios.
        options : set of str, optional
            Compare only these intervention/portfolio ids (and portfolio members); default all. The
            probability of being best is then among these only.
        state, outcome : optional
            From :func:`projection_state` (computed when not given: with migration when the run has it).

        Returns
        -------
        xr.Dataset
            As :func:`~climmig.interventions.compare_interventions` (with the migration changes when
            ``outcome`` projects migration).
        """
        from climmig.interventions.compare import compare_interventions
        from climmig.pipeline.runner import stage_seed

        if state is None or outcome is None:
            state, outcome = self.projection_state(cfg)
        specs, portfolios = [*cfg.interventions, *cfg.border_regimes], list(cfg.portfolios)
        if options is not None:
            portfolios = [p for p in portfolios if p.id in options]
            ids = set(options) | {m for p in portfolios for m in p.members}
            specs = [s for s in specs if s.id in ids]
        return compare_interventions(state, specs, portfolios, outcome, cfg.horizons, cfg.comparison,
                                     np.random.default_rng(stage_seed(cfg.seed, "interventions")),
                                     evacuation_share=self.fitted.evacuation_share(state))

    def __call__(self, values: Mapping[str, float]) -> xr.Dataset:
        """Outputs for one set of parameter values.

        Parameters
        ----------
        values : mapping of str to float
            Path -> value, in the units the config writes.

        Returns
        -------
        xr.Dataset
            One variable per output, dims (horizon).
        """
        from climmig.projection.uncertainty import horizon_mean

        cfg = apply_parameters(self.cfg, values)
        state, outcome = self.projection_state(cfg, migration=False)  # the outputs are displacement outputs
        out: dict[str, xr.DataArray] = {}
        if "displaced_persons" in self.outputs:
            total = outcome(state)["displaced_persons"].sum(["region", "hazard"])
            out["displaced_persons"] = horizon_mean(total, cfg.horizons).median(
                ["sample", "scenario", "climate_model"])
        currency = "USD"
        options = self._option_ids()
        if options is None or options:
            cmp = self.comparison(cfg, options, state, outcome)
            pooled = ["sample", "scenario"]  # sample pools posterior draws and climate models
            for o in self.outputs:
                if "." not in o:
                    continue
                name, oid = o.split(".", 1)
                c = cmp.sel(intervention=oid)
                if name == "averted_displacement":
                    out[o] = c["averted_displacement"].sum("region").median(pooled)
                elif name == "cost_per_person_averted":
                    # benefits discounted at the cost's rate (older comparisons: undiscounted)
                    av_var = ("cumulative_averted_discounted" if "cumulative_averted_discounted" in c
                              else "cumulative_averted")
                    averted = c[av_var].sum("region").median(pooled)
                    out[o] = c["cumulative_cost"].sum("region").median(pooled) / averted.where(averted > 0)
                else:
                    out[o] = c["prob_best"].mean("scenario")
            currency = cmp["discounted_cost"].attrs.get("currency", currency)
        ds = xr.Dataset({o: out[o].reset_coords(drop=True).astype(float) for o in self.outputs})
        for o in self.outputs:
            long_name, units = _LONG[o.split(".", 1)[0]]
            ds[o].attrs = {"long_name": long_name + (f": {o.split('.', 1)[1]}" if "." in o else ""),
                           "units": units.format(currency=currency)}
        return ds


def run_evaluator(cfg: RunConfig, config_file: str | Path, problem: SensitivityProblem | None = None, *,
                  run_dir: str | Path | None = None) -> RunEvaluator:
    """An evaluator for :func:`~climmig.sensitivity.run.run_sensitivity` over a finished run of ``cfg``.

    Parameters
    ----------
    cfg : RunConfig
        The config (as loaded from ``config_file``).
    config_file : str or Path
        Where the config was read from (locates its catalog and default run directory).
    problem : SensitivityProblem, optional
        The problem (its parameter paths, outputs and ``samples``). Without one, the evaluator serves
        :meth:`RunEvaluator.exposure`, :meth:`RunEvaluator.projection_state` and :meth:`RunEvaluator.comparison`
        (what-if comparisons) and its call returns ``displaced_persons``.
    run_dir : str or Path, optional
        The run directory (default: ``outputs.run_dir`` of the config).

    Returns
    -------
    RunEvaluator

    Raises
    ------
    SensitivityError
        If a path needs a refit, an output is unknown, or the run has not been made with this config.
    """
    from climmig.pipeline.context import make_context

    ctx = make_context(config_file, output=run_dir, progress=False, cfg=cfg)
    if problem is None:
        return RunEvaluator(ctx.cfg, ctx.catalog, ctx.run_dir, RUN_OUTPUTS, (), config_file=config_file)
    return RunEvaluator(ctx.cfg, ctx.catalog, ctx.run_dir, problem.outputs, problem.paths, samples=problem.samples,
                        config_file=config_file)
