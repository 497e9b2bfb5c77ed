"""The stages of a climmig run, in order, each a thin function over the library's stage modules.

No science lives here: each stage reads its upstream outputs from the run directory, calls library
functions, and writes its own outputs atomically (``climmig.io``). ``climmig.pipeline.runner`` decides what
needs to run.
"""

from __future__ import annotations

import io
import logging
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from climmig.config import referenced_catalog_ids
from climmig.io.writers import atomic_path, write_json, write_netcdf
from climmig.pipeline.context import RunContext
from climmig.pipeline.runner import Stage, read_record, record_path, stage_seed, stage_summary
from climmig.provenance import stamp

if TYPE_CHECKING:
    from climmig.projection.fitted import FittedRun

__all__ = ["build_stages", "stage_comparison_figures", "stage_exposure", "stage_fit_displacement",
           "stage_fit_migration", "stage_inputs", "stage_interventions", "stage_projection", "stage_report"]

logger = logging.getLogger(__name__)


def stage_inputs(ctx: RunContext) -> dict[str, Any]:
    """Verify every catalog input the config names (checksums, readability) and record them.

    Parameters
    ----------
    ctx : RunContext
        The run.

    Returns
    -------
    dict
        ``outputs`` (``inputs.json``) and the number of verified entries.
    """
    seen: dict[str, dict[str, str]] = {}
    for _, cid in referenced_catalog_ids(ctx.cfg):
        if cid not in seen:
            seen[cid] = ctx.catalog.verify(cid)
    write_json({"catalog_file": str(ctx.catalog.file), "entries": seen}, ctx.path("inputs.json"))
    return {"outputs": ["inputs.json"], "verified_entries": len(seen)}


def _compute(ctx: RunContext, obj: Any) -> Any:
    """Compute a lazy object with the run's dask backend (threads unless the config says otherwise)."""
    import dask

    from climmig.compute import get_client

    workers = ctx.cfg.compute.n_workers * ctx.cfg.compute.threads_per_worker
    with get_client(ctx.cfg.compute) as client:
        if client is None:
            with dask.config.set(scheduler="threads", num_workers=workers):
                if ctx.progress:
                    from dask.diagnostics import ProgressBar

                    with ProgressBar(minimum=1.0):
                        return obj.compute()
                return obj.compute()
        return obj.compute()


def stage_exposure(ctx: RunContext) -> dict[str, Any]:
    """Hazard and livelihood layers on one grid, aggregated to exposure per region (``exposure/``)."""
    from climmig.exposure import build_exposure
    from climmig.exposure.output import finalise_exposure, write_exposure

    ds = finalise_exposure(build_exposure(ctx.cfg, ctx.catalog), ctx.cfg, ctx.catalog)
    ds = _compute(ctx, ds)
    paths = write_exposure(ds, ctx.path("exposure"))
    return {"outputs": [str(p.relative_to(ctx.run_dir)) for p in paths],
            "emulated": ds.attrs.get("climmig_emulated", "false"),
            "ssp_fallback": ds.attrs.get("climmig_ssp_fallback", ""),
            "ssp_population_income_gap": ds.attrs.get("climmig_ssp_population_income_gap", "")}


def _diag_file(ctx: RunContext, diag: xr.Dataset, path, title: str) -> None:
    ds = diag.assign(passed=diag["passed"].astype("int8").assign_attrs(
        long_name="fit passed the convergence gate (1) or not (0)", units="1"))
    write_netcdf(stamp(ds, title, ctx.cfg_hash, ctx.cfg.seed), path)


def stage_fit_displacement(ctx: RunContext) -> dict[str, Any]:
    """Calibrate the displacement model on all observed countries (``fits/displacement_fit.nc``)."""
    from climmig.displacement.calibration import in_sample_record, plot_predictive_checks
    from climmig.displacement.lifecycle import DisplacementModel
    from climmig.mobility.diagnostics import gate_summary

    out = ctx.path("fits")
    model = DisplacementModel(ctx.cfg)
    cal = model.calibrate(ctx.catalog, path=model.default_path(out), reuse=True, progress=ctx.progress).calibration()
    _diag_file(ctx, cal.diagnostics, out / "displacement_diagnostics.nc",
               "convergence diagnostics of the displacement model fit")
    pngs = plot_predictive_checks(cal, ctx.path("figures"), seed=ctx.cfg.seed)
    in_sample = in_sample_record(cal, list(ctx.cfg.study_area.countries or []),
                                 seed=stage_seed(ctx.cfg.seed, "in_sample_record"))
    with atomic_path(out / "displacement_in_sample.csv") as tmp:
        in_sample.to_csv(tmp, index=False, float_format="%.2f")
    return {"outputs": [str(cal.path.relative_to(ctx.run_dir)), "fits/displacement_diagnostics.nc",
                        "fits/displacement_in_sample.csv", *[str(p.relative_to(ctx.run_dir)) for p in pngs]],
            "fit": str(cal.path.relative_to(ctx.run_dir)), "passed": bool(cal.diagnostics["passed"]),
            "gate": gate_summary(cal.diagnostics), "reused": cal.reused,
            "headline": [f"displacement model: {gate_summary(cal.diagnostics)}{model.cache_note}"]}


def stage_fit_migration(ctx: RunContext) -> dict[str, Any]:
    """Fit the cross-border migration model, or reuse a saved fit of the same signature (``fits/migration.nc``).

    The same :class:`~climmig.migration.lifecycle.MigrationModel` call and seed as ``climmig fit-migration``.
    """
    from climmig.migration.lifecycle import MigrationModel

    model = MigrationModel(ctx.cfg).calibrate(ctx.catalog, path=ctx.path("fits", "migration.nc"), reuse=True,
                                              progress=ctx.progress)
    if model.method == "laplace":
        return _fit_gravity(ctx, model)
    from climmig.migration.model import regime_frictions

    passed, gate, diag = model.gate()
    _diag_file(ctx, diag, ctx.path("fits", "migration_diagnostics.nc"),
               "convergence diagnostics of the migration model fit")
    with atomic_path(ctx.path("fits", "regime_frictions.csv")) as tmp:
        regime_frictions(model.idata).to_csv(tmp)
    return {"outputs": ["fits/migration.nc", "fits/migration_diagnostics.nc", "fits/regime_frictions.csv"],
            "passed": passed, "gate": gate, "reused": model.reused, "headline": [f"migration model: {gate}{model.cache_note}"]}


def _fit_gravity(ctx: RunContext, model: Any) -> dict[str, Any]:
    """The all-country gravity fit's outputs (its gate is the optimiser's convergence), and the PRMN and
    UNHCR fits that go with it (each reused when its saved fit's signature matches, as the gravity fit)."""
    from climmig.migration.run import gravity_coefficients

    with atomic_path(ctx.path("fits", "migration_coefficients.csv")) as tmp:
        gravity_coefficients(model.idata).to_csv(tmp)
    passed, gate, _ = model.gate()
    outputs = ["fits/migration.nc", "fits/migration_coefficients.csv"]
    headline = [f"migration model (all countries): {gate}{model.cache_note}"]
    if ctx.cfg.mobility.migration.internal_fit == "prmn":
        from climmig.migration.run import fit_internal_climate_for_run

        outputs += fit_internal_climate_for_run(ctx, headline)
    if ctx.cfg.mobility.migration.forced_displacement == "unhcr":
        from climmig.migration.run import fit_forced_for_run

        outputs += fit_forced_for_run(ctx, headline)
    return {"outputs": outputs, "passed": passed, "gate": gate, "reused": model.reused, "headline": headline}


def _gate(ctx: RunContext) -> dict[str, bool]:
    """Refuse to project from a fit that failed the gate, unless the config allows it."""
    from climmig.projection.fitted import require_converged

    return require_converged(ctx.run_dir, ("fit_displacement", "fit_migration"),
                             allow_unconverged=ctx.cfg.mobility.gate.allow_unconverged)


def _fitted(ctx: RunContext) -> FittedRun:
    """The run's :class:`~climmig.projection.FittedRun`, loaded once per process while its files are unchanged.

    The projection, the comparison and the report each need the fits, the exposure and the migration data
    (about 3 s to load in the demo) and the baseline outcome; stages of one invocation share them.
    """
    from climmig.projection.fitted import FittedRun

    files = [record_path(ctx.run_dir, "fit_displacement"), ctx.path("fits", "migration.nc"),
             ctx.path("exposure", "exposure.nc")]
    if read_record(ctx.run_dir, "fit_displacement") is not None:
        files.append(ctx.path(stage_summary(ctx.run_dir, "fit_displacement")["fit"]))
    key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) if f.exists() else (str(f),) for f in files)
    held = ctx.memo.get("fitted")
    if held is not None and held[0] == key:
        return held[1]
    fitted = FittedRun.from_run_dir(ctx.run_dir, ctx.cfg, ctx.catalog, migration=True)
    ctx.memo["fitted"] = (key, fitted)
    return fitted


def stage_projection(ctx: RunContext) -> dict[str, Any]:
    """Posterior predictive displacement and migration over sample x scenario x climate_model x year."""
    from climmig.interventions.outcomes import outcome_parts
    from climmig.projection.uncertainty import headline_lines, projection_summary

    passed = _gate(ctx)
    m = _fitted(ctx)
    state = m.baseline()
    out = m.outcome(state)
    # IDMC's recorded displacement counts pre-emptive evacuations: the expected displacement split into them
    # and displacement without prior warning (docs/interventions.md, "Outcomes")
    share = m.evacuation_share(state)
    parts = outcome_parts(out["expected_displacement"], state, share)
    out["preemptive_evacuations"] = parts["preemptive_evacuations"]
    out["unwarned_displacement"] = parts["unwarned_displacement"]
    out["evacuation_share"] = share
    for v, ln in [("expected_displacement", "expected new displacements per year (posterior mean rate)"),
                  ("displaced_persons", "projected new displacements per year (posterior predictive)"),
                  ("cross_border_migration", "projected cross-border emigration per year"),
                  ("internal_migration", "projected internal migration per year"),
                  ("preemptive_evacuations", "expected pre-emptive evacuations per year (part of recorded "
                                             "displacement)"),
                  ("unwarned_displacement", "expected displacement without prior warning per year")]:
        out[v].attrs.update({"units": "1", "long_name": ln, "cell_methods": "time: sum (annual total)"})
    out["region_name"] = m.exposure["region_name"] if "region_name" in m.exposure else out["region"]
    out.attrs["climmig_sampling_design"] = (
        f"{m.samples} posterior draws (chosen with a seeded permutation) crossed with every scenario and climate "
        "model; the same draws are used for every scenario and climate model (full cross product)")
    flags = {"climmig_unconverged_fit": str(not all(passed.values())).lower(),
             # the SSP models behind the drivers travel with the projection (provenance of its inputs)
             **{k: str(m.exposure.attrs.get(k, "")) for k in ("climmig_ssp_population_models",
                                                              "climmig_ssp_income_models", "climmig_ssp_fallback")}}
    out.attrs.update(flags)
    out = stamp(out, "projection: posterior predictive displacement and migration", ctx.cfg_hash,
                ctx.cfg.seed)
    write_netcdf(out.astype({v: "float32" for v in out.data_vars if out[v].dtype.kind == "f"}),
                 ctx.path("projection", "projection.nc"))
    summ = projection_summary(out["expected_displacement"], out["displaced_persons"], ctx.cfg.horizons,
                              ctx.cfg.projection.quantiles)
    summ.attrs.update(flags)
    summ = stamp(summ, "projection summary: horizon quantiles and variance partition", ctx.cfg_hash,
                 ctx.cfg.seed)
    write_netcdf(summ, ctx.path("projection", "summary.nc"))
    # tidy CSV: region x scenario x horizon quantiles of the annual mean
    hm = summ["horizon_mean"].to_dataframe().reset_index()
    table = hm.pivot_table(index=["region", "scenario", "horizon"], columns="quantile",
                           values="horizon_mean").reset_index()
    table.columns = [c if isinstance(c, str) else f"q{c:g}" for c in table.columns]
    with atomic_path(ctx.path("projection", "displacement_by_region_scenario_horizon.csv")) as tmp:
        table.to_csv(tmp, index=False, float_format="%.0f")
    lines = headline_lines(out["displaced_persons"], ctx.cfg.horizons[-1], ctx.cfg.scenarios)
    if not all(passed.values()):
        lines.append("WARNING: projected from a fit that failed the convergence gate (allow_unconverged)")
    outputs = ["projection/projection.nc", "projection/summary.nc",
               "projection/displacement_by_region_scenario_horizon.csv"]
    from climmig.migration.run import write_corridor_outputs, write_forced_outputs

    if m.is_gravity_fit:
        outputs += write_corridor_outputs(m, ctx, lines)
        outputs += write_forced_outputs(m, ctx, lines)
    return {"outputs": outputs, "headline": lines, "unconverged_fit": not all(passed.values())}


def _comparison_threads(compute: Any) -> int:
    """Threads comparing the options: the machine's cores (at most ``n_workers`` for a local backend), at
    most 4 (each holds a few hundred MB of draws in the demo)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if compute.backend in ("threads", "local"):
        cores = min(cores, compute.n_workers)
    return max(1, min(cores, 4))


def stage_interventions(ctx: RunContext) -> dict[str, Any]:
    """Compare interventions and portfolios under uncertainty (``interventions/``)."""
    from climmig.interventions.compare import compare_interventions
    from climmig.report.tables import comparison_table

    _gate(ctx)
    if not ctx.cfg.interventions and not ctx.cfg.border_regimes:
        return {"outputs": [], "headline": ["no interventions configured"]}
    m = _fitted(ctx)
    state = m.baseline()
    cmp = compare_interventions(state, [*ctx.cfg.interventions, *ctx.cfg.border_regimes], ctx.cfg.portfolios,
                                m.outcome, ctx.cfg.horizons, ctx.cfg.comparison,
                                np.random.default_rng(stage_seed(ctx.cfg.seed, "interventions")),
                                max_workers=_comparison_threads(ctx.cfg.compute),
                                evacuation_share=m.evacuation_share(state))
    cmp = stamp(cmp, "intervention comparison", ctx.cfg_hash, ctx.cfg.seed)
    write_netcdf(cmp, ctx.path("interventions", "comparison.nc"))
    tab = comparison_table(cmp)
    with atomic_path(ctx.path("interventions", "comparison.csv")) as tmp:
        tab.to_csv(tmp, index=False)
    return {"outputs": ["interventions/comparison.nc", "interventions/comparison.csv"],
            "headline": [f"{cmp.sizes['intervention']} options compared; table in interventions/comparison.csv"]}


def stage_comparison_figures(ctx: RunContext) -> dict[str, Any]:
    """The comparison's figures for every scenario and horizon (``interventions/*.png``; ``climmig compare``)."""
    from climmig.report.comparison_figures import write_comparison_figures

    cmp_file = ctx.path("interventions", "comparison.nc")
    if not cmp_file.exists():  # no options configured: the comparison stage wrote nothing
        return {"outputs": [], "headline": ["no interventions configured: no comparison figures"]}
    figures = write_comparison_figures(xr.load_dataset(cmp_file), ctx.path("interventions"),
                                       scenarios=list(ctx.cfg.scenarios),
                                       horizons=[h.name for h in ctx.cfg.horizons])
    return {"outputs": [str(p.relative_to(ctx.run_dir)) for p in figures],
            "headline": [f"{len(figures)} comparison figures in interventions/"]}


def _record_comparison(ctx: RunContext, displaced: xr.DataArray, scenario: str, obs: pd.DataFrame) -> pd.DataFrame:
    """The first projected years (up to six) per country and hazard beside IDMC's record (``obs``)."""
    from climmig.projection.fidelity import record_comparison

    first = int(displaced["year"].values[0])
    years = [y for y in range(first, first + 6) if y in set(int(v) for v in displaced["year"].values)]
    hist = ctx.cfg.period.historical
    in_sample = ctx.path("fits", "displacement_in_sample.csv")
    table = record_comparison(displaced, obs, scenario=scenario, years=years,
                              record_years=range(hist.start, hist.end + 1),
                              in_sample=pd.read_csv(in_sample) if in_sample.exists() else None)
    with atomic_path(ctx.path("report_record_comparison.csv")) as tmp:
        table.to_csv(tmp, index=False, float_format="%.2f")
    return table


def _share_paths(ctx: RunContext, drivers: xr.Dataset) -> xr.Dataset:
    """The livelihood shares of the projected regions on their recorded trend (WDI, 2000 to the anchor year)."""
    from climmig.livelihoods.share_trend import share_trend_paths
    from climmig.mobility.covariates import load_covariates

    anchor = ctx.cfg.period.historical.end
    regions = [str(r) for r in drivers["region"].values]
    history = load_covariates(ctx.catalog, regions, list(range(2000, anchor + 1)))
    return share_trend_paths(history, [int(y) for y in drivers["year"].values], anchor_year=anchor)


def _save_section_figures(ctx: RunContext, sections: list) -> list:
    """Write every in-memory figure of the report to ``figures/`` as PNG and link it from the report."""
    import dataclasses
    import re

    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from climmig.report.plots import save_figure

    out = []
    for s in sections:
        figs = []
        slug = re.sub(r"[^a-z0-9]+", "_", s.title.lower()).strip("_")
        for i, f in enumerate(s.figures):
            if isinstance(f.image, Figure):
                target = save_figure(f.image, ctx.path("figures", f"{slug}_{i + 1}.png"))
                plt.close(f.image)
                f = dataclasses.replace(f, image=target)
            figs.append(f)
        out.append(dataclasses.replace(s, figures=tuple(figs)))
    return out


def _elasticity(disp: Any) -> pd.DataFrame | None:
    """The displacement fit's exposure-elasticity summary (prior against posterior), if it has one."""
    text = disp.posterior.attrs.get("climmig_elasticity_summary") if hasattr(disp, "posterior") else None
    return pd.read_json(io.StringIO(text), orient="records") if text else None


def stage_report(ctx: RunContext) -> dict[str, Any]:
    """Figures, CSV summaries and the HTML report for non-programmers."""
    from climmig.projection.attribution import change_attribution, scenario_attribution
    from climmig.report.attribution_sections import change_section, society_section
    from climmig.report.comparison_sections import comparison_section
    from climmig.report.data_sections import hazards_section, plausibility_section, ssp_section
    from climmig.report.html import write_html_report
    from climmig.report.projection_sections import flows_section, projection_section

    proj = xr.load_dataset(ctx.path("projection", "projection.nc"))
    summ = xr.load_dataset(ctx.path("projection", "summary.nc"))
    boundaries = ctx.catalog.open(ctx.cfg.study_area.boundaries)
    sections = [projection_section(proj["displaced_persons"].sum("hazard"), summ["variance"], ctx.cfg.horizons,
                                   boundaries=boundaries, horizon_partition=summ.get("variance_horizon"))]
    last = ctx.cfg.horizons[-1]
    mid_sc = ctx.cfg.scenarios[len(ctx.cfg.scenarios) // 2]
    m = _fitted(ctx)
    disp = m.displacement_fit
    sections.append(hazards_section(m.exposure, _elasticity(disp), period=f"{last.start}-{last.end}",
                                    scenarios=list(ctx.cfg.scenarios),
                                    layer_map=dict(ctx.cfg.mobility.displacement.hazard_layer_map),
                                    displacement_hazards=m.hazards))
    sections.append(ssp_section(m.exposure))
    if len(ctx.cfg.scenarios) > 1:
        # the projection's own draws (same samples and seed) next to the same futures with the middle
        # scenario's people and incomes
        attribution = scenario_attribution(
            disp, m.drivers, reference=mid_sc, years=range(last.start, last.end + 1), samples=m.samples,
            seed=m.seed, projected=proj["displaced_persons"])
        sections.append(society_section(attribution, period=f"{last.start}-{last.end}"))
        write_netcdf(stamp(attribution, f"why the scenarios differ: each scenario with {mid_sc}'s population and "
                                        "income", ctx.cfg_hash, ctx.cfg.seed),
                     ctx.path("report_scenario_attribution.nc"))
    first_year = int(m.drivers["year"].values[0])
    change = change_attribution(disp, m.drivers, today=first_year, years=range(last.start, last.end + 1),
                                samples=m.samples, seed=m.seed, share_paths=_share_paths(ctx, m.drivers))
    income = disp.posterior.attrs.get("climmig_income_coefficients") if hasattr(disp, "posterior") else None
    sections.append(change_section(change, income=pd.read_json(io.StringIO(income), orient="records")
                                   if income else None))
    write_netcdf(stamp(change, f"change of expected displacement from {first_year} to {last.start}-{last.end} by driver",
                       ctx.cfg_hash, ctx.cfg.seed), ctx.path("report_change_attribution.nc"))
    sel = {"scenario": mid_sc, "year": slice(last.start, last.end)}
    sections.append(flows_section(proj["internal_migration"].sel(sel).mean("year"),
                                  proj["cross_border_migration"].sel(sel).mean("year"),
                                  period=f"{last.start}-{last.end}, {mid_sc}"))
    from climmig.report.migration_sections import migration_sections

    sections.extend(migration_sections(ctx.run_dir, scenario=mid_sc, horizon=last.name,
                                       period=f"{last.start}-{last.end}, {mid_sc}"))
    cmp_file = ctx.path("interventions", "comparison.nc")
    if cmp_file.exists():
        sections.append(comparison_section(xr.load_dataset(cmp_file), scenario=mid_sc))
    # present-day plausibility: today's exposure (ratio 1) and the first projection year's population
    from climmig.displacement.calibration import load_observations

    obs, _ = load_observations(ctx.cfg, ctx.catalog)
    check = m.plausibility(mid_sc, observations=obs)
    sections.append(plausibility_section(check.simulated, check.observed,
                                         _record_comparison(ctx, proj["displaced_persons"], mid_sc, obs)))
    with atomic_path(ctx.path("report_plausibility.csv")) as tmp:
        check.table().to_csv(tmp, index=False, float_format="%.0f")
    manifest_bits = {"config sha256": ctx.cfg_hash, "seed": ctx.cfg.seed, "run id": ctx.cfg.run_id,
                     "unconverged fit": proj.attrs.get("climmig_unconverged_fit", "false"),
                     "SSP fallback": m.exposure.attrs.get("climmig_ssp_fallback", "") or "none"}
    intro = (f"Projections of people displaced by floods, storms and droughts, and of people migrating, in "
             f"{', '.join(ctx.cfg.study_area.countries or [])} under {', '.join(ctx.cfg.scenarios)} and "
             f"{len(ctx.cfg.climate_models)} climate models. Every number comes with its uncertainty.")
    sections = _save_section_figures(ctx, sections)
    path = write_html_report(ctx.run_dir, sections, title=f"climmig: {ctx.cfg.run_id}", intro=intro,
                             metadata=manifest_bits)
    figs = sorted(str(p.relative_to(ctx.run_dir)) for p in ctx.path("figures").glob("*.png")) \
        if ctx.path("figures").exists() else []
    extra = ["report_scenario_attribution.nc"] if ctx.path("report_scenario_attribution.nc").exists() else []
    extra += ["report_record_comparison.csv", "report_change_attribution.nc"]
    return {"outputs": [str(path.relative_to(ctx.run_dir)), "report_plausibility.csv", *extra, *figs],
            "headline": [f"report: {path}"]}


#: stages that may run in a second process while the others go on (see :func:`climmig.pipeline.runner.execute`):
#: both need only the inputs, and they overlap the displacement fit's single-threaded model compilation (the
#: comparison of interventions in a second process, alongside the projection, made the demo slower: the
#: second process's start-up and imports cost more than the 6 s projection it overlapped)
BACKGROUND_STAGES: tuple[str, ...] = ("exposure", "fit_migration")


def build_stages(on_demand: bool = False) -> list[Stage]:
    """The stages of a run in dependency order.

    Parameters
    ----------
    on_demand : bool
        Also the stages that run only when named (``Stage.on_demand``): the comparison's figures, which
        ``climmig compare`` asks for.

    Returns
    -------
    list of Stage
    """
    extra = [Stage("comparison_figures", stage_comparison_figures, ("interventions",),
                   "figures of the intervention comparison", on_demand=True)] if on_demand else []
    return [
        Stage("inputs", stage_inputs, (), "verify input data"),
        # version 2: population_baseline stored, so exposure ratios are changes of the exposed share
        # version 3: hazards from real data by warming-level pattern scaling (climmig.hazards.warming_levels);
        # version 4: population, GDP per head and shares anchored to the calibration's last-year record
        # version 5: the SSP model of each country's series recorded (fallback, climmig.livelihoods.ssp_fallback)
        Stage("exposure", stage_exposure, ("inputs",), "hazard and livelihood layers, exposure per region",
              version=5),
        # version 2: the in-sample predictive of each study country's record (fits/displacement_in_sample.csv)
        Stage("fit_displacement", stage_fit_displacement, ("inputs",), "calibrate the displacement model",
              version=2),
        Stage("fit_migration", stage_fit_migration, ("inputs",), "calibrate the migration model"),
        # version 2: migration counts drawn with common random numbers (climmig.mobility.crn_draws)
        # version 3: expected displacement split into pre-emptive evacuations and displacement without warning
        Stage("projection", stage_projection, ("exposure", "fit_displacement", "fit_migration"),
              "posterior predictive projections", version=3),
        # version 2: mitigation keeps the scenario's population; cost per person marked cumulative
        # version 3: outcome split, evidence table and flags, equal discounting, equal-budget ranking, governance
        Stage("interventions", stage_interventions, ("projection",), "compare interventions", version=3),
        # version 2: "why the scenarios differ" section and report_scenario_attribution.nc
        # version 3: "Climate hazards" section (sources, exposure change, exposure elasticity), the record
        # comparison per country and hazard (report_record_comparison.csv), the change from today by driver
        # (report_change_attribution.nc)
        # version 5: "Population and income futures" section (SSP series used per country, fallback)
        # version 6: in-sample columns of the record comparison; livelihood shares on their trend; GDP slopes
        # between and within countries
        # version 7: the decision analysis (outcome split, frontier, who pays and who benefits, evidence)
        Stage("report", stage_report, ("projection", "interventions"), "figures and HTML report",
              version=7),
        *extra,
    ]
