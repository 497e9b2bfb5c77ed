"""``climmig fit`` and ``climmig backtest``: calibrate and back-test the displacement model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from rich.console import Console

from climmig.cli import app
from climmig.errors import ClimmigError


class UsageError(ClimmigError):
    """A command-line argument is malformed."""


def _setup(config: Path, output: Path | None) -> tuple[object, object, Path]:
    from climmig.catalog import load_catalog
    from climmig.config import load_config
    from climmig.config.load import catalog_path

    cfg = load_config(config)
    catalog = load_catalog(catalog_path(cfg, config))
    from climmig.pipeline.context import resolve_run_dir

    return cfg, catalog, resolve_run_dir(cfg, config, output) / "mobility"


@app.command("fit")
def fit_cmd(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    output: Path | None = typer.Option(None, "--output", help="Run directory (default: outputs.run_dir)."),
    refit: bool = typer.Option(False, "--refit", help="Refit even if a matching saved fit exists."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Write prior/posterior predictive PNGs."),
) -> None:
    """Fit the displacement model on all observed countries and save it (reused when provenance matches)."""
    from climmig.displacement.calibration import plot_predictive_checks
    from climmig.displacement.lifecycle import DisplacementModel
    from climmig.io.writers import write_netcdf
    from climmig.mobility.diagnostics import gate_summary

    cfg, catalog, out = _setup(config, output)
    # the same class, seed and reuse rule as `climmig run`'s fit_displacement stage
    model = DisplacementModel(cfg)
    cal = model.calibrate(catalog, path=model.default_path(out), reuse=not refit).calibration()
    con = Console(highlight=False)
    con.print(f"displacement fit {'reused' if cal.reused else 'saved'}: {cal.path}")
    con.print(f"{len(cal.inputs.coords['country'])} countries, {len(cal.inputs.coords['year'])} years, "
              f"hazards {', '.join(cal.inputs.coords['hazard'])}; {len(cal.inputs.coords['obs'])} observations")
    if cal.inputs.meta.get("unknown_countries"):
        con.print("not modelled (no covariates): " + ", ".join(cal.inputs.meta["unknown_countries"]))
    diag = cal.diagnostics
    write_netcdf(diag.assign(passed=diag["passed"].astype("int8").assign_attrs(
        long_name="fit passed the convergence gate (1) or not (0)")), out / "displacement_diagnostics.nc")
    con.print(gate_summary(cal.diagnostics))
    from climmig.mobility.hazard_history import elasticity_summary
    from climmig.mobility.priors import resolve_priors

    summary = elasticity_summary(cal.idata, resolve_priors(cfg.mobility.displacement.priors))
    con.print("exposure elasticity (prior -> posterior; identified if posterior sd <= half the prior's):")
    for r in summary.itertuples():
        con.print(f"  {r.hazard}: {r.prior_mean:.2f} +- {r.prior_sd:.3f} -> {r.posterior_mean:.3f} +- "
                  f"{r.posterior_sd:.3f} (sd ratio {r.sd_ratio:.2f}; {r.source})")
    if plots:
        for p in plot_predictive_checks(cal, out, seed=cfg.seed):
            con.print(f"wrote {p}")


def _years(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*", text)
    if not m:
        raise UsageError(f"--evaluate {text!r}: write YEAR-YEAR, e.g. 2018-2022")
    a, b = int(m.group(1)), int(m.group(2) or m.group(1))
    if a > b:
        raise UsageError(f"--evaluate {text!r}: the first year is after the last")
    return a, b


@app.command("backtest")
def backtest_cmd(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    fit_until: int = typer.Option(..., "--fit-until", help="Last calibration year."),
    evaluate: str = typer.Option(..., "--evaluate", help="Evaluation years, YEAR-YEAR."),
    observations: Path | None = typer.Option(None, "--observations", help="IDMC file instead of the catalog's."),
    fmt: str | None = typer.Option(None, "--format",
                                   help="gidd-country-year | gidd-events | hdx-events (default: detect)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the scores as JSON here."),
    output: Path | None = typer.Option(None, "--output", help="Run directory (default: outputs.run_dir)."),
    samples: int = typer.Option(1000, "--samples", help="Predictive samples per cell."),
) -> None:
    """Fit up to --fit-until, predict the --evaluate years and score against per-country climatology and a
    Poisson GLM (coverage, CRPS, log score)."""
    from climmig.displacement.backtest import backtest_scores
    from climmig.displacement.calibration import load_observations
    from climmig.displacement.lifecycle import DisplacementModel
    from climmig.displacement.observations import FORMATS
    from climmig.io.writers import write_json
    from climmig.mobility.diagnostics import gate_summary

    ev = _years(evaluate)
    if fit_until >= ev[0]:
        raise UsageError(f"--fit-until {fit_until} must be before the first evaluation year {ev[0]}")
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    cfg, catalog, out = _setup(config, output)
    obs, sha = load_observations(cfg, catalog, observations, fmt)
    if fit_until < int(obs["year"].min()):
        raise UsageError(f"--fit-until {fit_until} is before the first observed year {int(obs['year'].min())}")
    model = DisplacementModel(cfg)
    cal = model.calibrate(catalog, path=model.default_path(out, fit_until), fit_until=fit_until, observations=obs,
                          observations_sha256=sha).calibration()
    n_draws = cal.idata.posterior.sizes["chain"] * cal.idata.posterior.sizes["draw"]
    res = backtest_scores(cal.idata, obs, cal.covariates, fit_until=fit_until, evaluate=ev,
                          samples=min(samples, n_draws), seed=cfg.seed)
    res["format"] = obs.attrs.get("format")
    res["convergence"] = gate_summary(cal.diagnostics)
    res["converged"] = bool(cal.diagnostics["passed"])
    res["config_sha256"] = cal.idata.posterior.attrs.get("config_sha256")
    res["data_sha256"] = cal.data_sha256
    con = Console(highlight=False)
    con.print(res["convergence"])
    con.print(f"country-year totals (n={res['n']}): coverage50 {res['coverage_50']:.2f}, coverage90 "
              f"{res['coverage_90']:.2f}; CRPS model {res['crps']:.4g}, climatology "
              f"{res['crps_climatology']:.4g}, Poisson GLM {res['crps_poisson_glm']:.4g}; CRPS of log1p model "
              f"{res['crps_log1p']:.3f}, climatology {res['crps_log1p_climatology']:.3f}, Poisson GLM "
              f"{res['crps_log1p_poisson_glm']:.3f}")
    for hz, r in res["by_hazard"].items():
        con.print(f"  {hz} (n={r['n']}): coverage90 {r['coverage_90']:.2f}; CRPS model {r['crps']:.4g}, "
                  f"climatology {r['crps_climatology']:.4g}, Poisson GLM {r['crps_poisson_glm']:.4g}")
    top = res["by_country"][:3]
    if top:
        con.print("largest CRPS of the totals (model / climatology): " + "; ".join(
            f"{r['iso3']} {r['crps']:.3g} / {r['crps_climatology']:.3g}" for r in top))
    if res["unscored_countries"]:
        con.print("not scored (unknown to the model): " + ", ".join(res["unscored_countries"]))
    if json_path is not None:
        write_json(res, json_path)
        con.print(f"wrote {json_path}")
    else:
        typer.echo(json.dumps({k: v for k, v in res.items() if k != "by_hazard"}, default=str))
