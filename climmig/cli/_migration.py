"""``climmig backtest-flows`` and ``climmig fit-migration``."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from climmig.cli import app
from climmig.config import catalog_path, load_config, science_hash
from climmig.errors import ConfigError
from climmig.pipeline.context import resolve_run_dir

logger = logging.getLogger(__name__)


def _flow_table(flows: Path | None):
    """The flow table given with ``--flows`` (None: the config's catalog entry)."""
    from climmig.errors import DataError
    from climmig.io.readers import read_table

    if flows is None:
        return None
    if not flows.is_file():
        raise DataError(f"flow table not found: {flows}")
    return read_table(flows)


def _inputs(config: Path, flows: Path | None):
    from climmig.catalog import load_catalog
    from climmig.migration.model import load_flow_data

    cfg = load_config(config)
    cat = load_catalog(catalog_path(cfg, config))
    mig = cfg.mobility.migration
    inputs, cov, geo, regimes = load_flow_data(
        cat, flows=_flow_table(flows), flows_id=mig.flows, regimes_id=mig.regimes,
        boundaries_id=cfg.study_area.boundaries, extra_countries=cfg.study_area.countries or ())
    return cfg, cat, inputs, cov, geo, regimes


@app.command("backtest-flows")
def backtest_flows_cmd(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    holdout: float = typer.Option(0.2, "--holdout", min=0.01, max=0.9, help="Share of pairs held out."),
    seed: int = typer.Option(1, "--seed", help="Seed of the split, the fit and the predictive draws."),
    flows: Path | None = typer.Option(None, "--flows", help="Flow CSV (origin, destination, flow[, "
                                      "period_start]) instead of the config's catalog entry."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the scores as JSON here."),
    plot: Path | None = typer.Option(None, "--plot", help="Observed-vs-predicted PNG (default: next to "
                                     "--json, else not drawn)."),
    samples: int = typer.Option(1000, "--samples", min=50, help="Posterior draws used to predict."),
    countries: int = typer.Option(0, "--holdout-countries", min=0, help="Hold out every pair of this many "
                                  "seeded-random countries instead of a share of pairs (tests prediction "
                                  "for countries outside the fit)."),
) -> None:
    """Hold out pairs of the flow table, fit the migration model on the rest and score its predictions.

    With the all-country model (``mobility.migration.fit: laplace``, no ``--flows``): a pair hold-out and a
    time hold-out (fit up to 2005-2010, predict 2010-2015) on the full table, against a negative-binomial
    gravity GLM.
    """
    from climmig.migration.flows_backtest import backtest_flows, plot_observed_vs_predicted

    cfg0 = load_config(config)
    if flows is None and cfg0.mobility.migration.fit == "laplace":
        _backtest_gravity(cfg0, config, holdout, seed, samples, json_out, plot)
        return
    cfg, _cat, inputs, *_ = _inputs(config, flows)
    scores, pred, _ = backtest_flows(inputs, cfg.mobility.migration.priors, cfg.mobility.migration_sampler,
                                     holdout=holdout, seed=seed, samples=samples, countries=countries)
    scores["config_sha256"] = science_hash(cfg)
    what = (f"the pairs of {countries} countries" if countries else f"{holdout:.0%}") + f" of {len(inputs.pairs)}"
    t = Table(title=f"migration back-test: {what} pairs held out (seed {seed})", show_header=False)
    for k, v in scores.items():
        t.add_row(k, f"{v:.4f}" if isinstance(v, float) else (", ".join(v) if isinstance(v, list) else str(v)))
    Console(highlight=False).print(t)
    if json_out is not None:
        from climmig.io.writers import write_json, write_text

        write_json(scores, json_out)
        write_text(pred.to_csv(index=False), json_out.with_suffix(".predictions.csv"))
        plot = plot or json_out.with_suffix(".png")
    if plot is not None:
        import numpy as np

        plot_observed_vs_predicted(
            pred["observed"].to_numpy(), np.vstack([pred["q05"], pred["q50"], pred["q95"]]),
            pred["poisson_glm"].to_numpy(), plot,
            f"held-out flows (n={scores['n']}): coverage_90 {scores['coverage_90']:.2f}")
        typer.echo(f"plot: {plot}")


def _backtest_gravity(cfg, config: Path, holdout: float, seed: int, samples: int, json_out: Path | None,
                      plot: Path | None) -> None:
    import numpy as np

    from climmig.catalog import load_catalog
    from climmig.migration.flows_backtest import backtest_gravity, plot_observed_vs_predicted
    from climmig.migration.flows_panel import load_flow_panel

    mig = cfg.mobility.migration
    cat = load_catalog(catalog_path(cfg, config))
    measure = "flow" if mig.flow_measure == "da_pb_closed" else mig.flow_measure
    panel, _geo, _table = load_flow_panel(cat, flows_id=mig.flows, stocks_id=mig.stocks, regimes_id=mig.regimes,
                                          boundaries_id=cfg.study_area.boundaries, measure=measure)
    panel = type(panel)(panel.rows, panel.countries, panel.dropped, mig.flow_measure)
    scores, pred = backtest_gravity(panel, holdout=holdout, seed=seed, samples=min(samples, 400))
    scores["config_sha256"] = science_hash(cfg)
    scores["flows"] = mig.flows
    scores["dropped_countries"] = sorted(panel.dropped.get("countries", {}))
    scores["dropped_share_of_flows"] = panel.dropped.get("share_of_flows", 0.0)
    con = Console(highlight=False)
    t = Table(title=f"all-country migration back-test ({mig.flows}, {mig.flow_measure}, seed {seed}): climmig "
                    "gravity GLMM vs negative-binomial gravity GLM")
    for c in ("check", "held out", "log score", "log score NB GLM", "90 % coverage", "coverage NB GLM",
              "median |log err|", "NB GLM", "log score (flows > 0)", "NB GLM (flows > 0)"):
        t.add_column(c)
    for name, label in (("pairs", f"{holdout:.0%} of pairs, every period"),
                        ("time", f"period {scores['time']['test_period']} (fit to "
                                 f"{scores['time']['train_periods'][-1]})")):
        s = scores[name]
        t.add_row(label, f"{s['n']:,}", f"{s['log_score']:.3f}", f"{s['log_score_nb_glm']:.3f}",
                  f"{s['coverage_90']:.3f}", f"{s['coverage_90_nb_glm']:.3f}", f"{s['median_abs_log_error']:.2f}",
                  f"{s['median_abs_log_error_nb_glm']:.2f}", f"{s['log_score_nonzero']:.3f}",
                  f"{s['log_score_nb_glm_nonzero']:.3f}")
    con.print(t)
    if json_out is not None:
        from climmig.io.writers import write_json, write_text

        write_json(scores, json_out)
        write_text(pred.to_csv(index=False), json_out.with_suffix(".predictions.csv"))
        plot = plot or json_out.with_suffix(".png")
    if plot is not None:
        sub = pred[(pred["check"] == "time") & (pred["observed"] > 0)]
        sub = sub.sample(n=min(len(sub), 3000), random_state=seed)
        plot_observed_vs_predicted(sub["observed"].to_numpy(), np.vstack([sub["q05"], sub["q50"], sub["q95"]]),
                                   sub["nb_glm"].to_numpy(), plot,
                                   f"2010-2015 flows predicted from 1990-2010 (3,000 nonzero pairs shown); "
                                   f"coverage_90 {scores['time']['coverage_90']:.2f}")
        typer.echo(f"plot: {plot}")


@app.command("fit-migration")
def fit_migration_cmd(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    internal_flows: Path | None = typer.Option(None, "--internal-flows", help="Internal OD flow CSV "
                                               "(docs/migration.md) to fit the internal-migration model."),
    flows: Path | None = typer.Option(None, "--flows", help="Cross-border flow CSV instead of the catalog's."),
    out: Path | None = typer.Option(None, "--out", help="Fit file (default RUN_DIR/fits/migration.nc)."),
    cross_border: bool = typer.Option(True, "--cross-border/--no-cross-border",
                                      help="Fit the cross-border model (skip it to fit only internal flows)."),
    refit: bool = typer.Option(False, "--refit", help="Refit even if a saved fit of the same signature exists."),
) -> None:
    """Fit the cross-border migration model (and, with --internal-flows, the internal one); report frictions.

    A saved fit whose signature (model, fit config, data, model structure) matches is reused, as by
    ``climmig run``: both go through :class:`climmig.migration.lifecycle.MigrationModel` with the same seed.
    """
    from climmig.catalog import load_catalog
    from climmig.migration.lifecycle import MigrationModel
    from climmig.mobility.diagnostics import enforce_gate

    out_console = Console(highlight=False)
    cfg = load_config(config)
    target = out or resolve_run_dir(cfg, config) / "fits" / "migration.nc"
    if not cross_border:
        if internal_flows is None:
            raise ConfigError(["nothing to fit: give --internal-flows or drop --no-cross-border"])
        _fit_internal(cfg, internal_flows, target.with_name("internal_migration.nc"), out_console, refit)
        return
    table = _flow_table(flows)
    cat = load_catalog(catalog_path(cfg, config))
    model = MigrationModel(cfg).calibrate(cat, path=target, reuse=not refit, flows=table)
    passed, gate, diag = model.gate()
    (_report_gravity if model.method == "laplace" else _report_single_period)(model, gate, out_console)
    out_console.print(f"fit {'reused' if model.reused else 'saved'}: {target}")
    if internal_flows is not None:
        _fit_internal(cfg, internal_flows, target.with_name("internal_migration.nc"), out_console, refit)
    if diag is not None:
        enforce_gate(diag, cfg.mobility.gate, "migration")
    elif not passed:
        from climmig.errors import ConvergenceError

        raise ConvergenceError(f"the all-country migration fit did not converge: {gate}")


def _report_single_period(model, gate: str, con: Console) -> None:
    from climmig.migration.model import max_emigration_rate, regime_frictions, regime_scenario_summary

    cfg, idata, data = model.cfg, model.idata, model.data
    fr = regime_frictions(idata)
    t = Table(title="border-regime effects on flows (relative to unilateral), 90 % HDI")
    for c in ("regime", "log effect", "90 % HDI", "flow multiplier", "90 % HDI (multiplier)", "pairs"):
        t.add_column(c)
    for r, row in fr.iterrows():
        t.add_row(str(r), f"{row['mean']:+.2f}", f"[{row['hdi_low']:+.2f}, {row['hdi_high']:+.2f}]",
                  f"{row['multiplier_mean']:.2f}", f"[{row['multiplier_low']:.2f}, {row['multiplier_high']:.2f}]",
                  str(int(row["n_pairs"])))
    con.print(t)
    con.print(_coefficient_table(idata))
    con.print(gate)
    rate, origin = max_emigration_rate(idata)
    con.print(f"emigration bound used in projections: {rate:.2%} of the population per year (the "
              f"highest rate in the fitted flows, {origin})")
    if cfg.border_regimes:
        countries = cfg.study_area.countries or list(data.inputs.countries)
        summ = regime_scenario_summary(idata, data.covariates, data.geography, data.regimes, countries,
                                       cfg.border_regimes, samples=cfg.projection.samples, seed=cfg.seed)
        t = Table(title="border-regime scenario: change in typical (median) cross-border emigration among "
                        f"{', '.join(countries)} (people/yr, today's covariates; "
                        + "; ".join(f"{c.id}: {c.regime} from {c.from_year}" for c in cfg.border_regimes) + ")")
        for c in ("region", "baseline", "change (median)", "90 % interval", "relative"):
            t.add_column(c)
        for r, row in summ.iterrows():
            t.add_row(str(r), f"{row['baseline']:,.0f}", f"{row['change_median']:+,.0f}",
                      f"[{row['change_q05']:+,.0f}, {row['change_q95']:+,.0f}]", f"{row['relative_median']:+.0%}")
        con.print(t)


def _report_gravity(model, gate: str, con: Console) -> None:
    from climmig.migration.run import gravity_coefficients

    idata, panel = model.idata, model.data.panel
    coef = gravity_coefficients(idata)
    t = Table(title=f"all-country gravity model ({model.cfg.mobility.migration.flows}, {panel.measure}, "
                    f"{len(panel.rows):,} pair-periods, {len(panel.countries)} countries): posterior mean, sd, 90 %")
    for c in ("parameter", "mean", "sd", "90 % interval"):
        t.add_column(c)
    for name, row in coef.iterrows():
        t.add_row(str(name), f"{row['mean']:.3f}", f"{row['sd']:.3f}", f"[{row['q05']:.3f}, {row['q95']:.3f}]")
    con.print(t)
    con.print(gate)
    dropped = panel.dropped.get("countries", {})
    con.print(f"countries without covariates or boundary (dropped): {', '.join(sorted(dropped)) or 'none'} "
              f"({panel.dropped.get('share_of_flows', 0.0):.2%} of the flows)")
    con.print("no emigration cap: projections keep every draw; the highest observed annual emigration rate "
              f"({float(idata.posterior.attrs['gravity_max_emigration_rate']):.2%}, "
              f"{idata.posterior.attrs['gravity_max_emigration_where']}) is only a check")


def _coefficient_table(idata) -> Table:
    import arviz as az

    names = ["mig_intercept", "mig_pop_origin", "mig_pop_destination", "mig_distance_decay", "mig_income",
             "mig_origin_income", "mig_climate_stress", "mig_contiguity", "mig_sigma_origin",
             "mig_sigma_destination", "mig_alpha"]
    names = [n for n in names if n in idata.posterior]
    s = az.summary(idata, var_names=names, hdi_prob=0.9, kind="stats")
    t = Table(title="gravity coefficients (posterior mean, 90 % HDI)")
    for c in ("parameter", "mean", "90 % HDI"):
        t.add_column(c)
    for name, row in s.iterrows():
        t.add_row(str(name), f"{row['mean']:.3f}", f"[{row['hdi_5%']:.3f}, {row['hdi_95%']:.3f}]")
    return t


def _fit_internal(cfg, path: Path, target: Path, console: Console, refit: bool = False) -> None:
    import arviz as az

    from climmig.migration.lifecycle import InternalMigrationModel
    from climmig.mobility.diagnostics import enforce_gate, gate_summary

    model = InternalMigrationModel(cfg).calibrate(None, path=target, reuse=not refit, flows=path)
    idata, df = model.idata, model.data
    diag = model.diagnostics()
    names = [str(v) for v in idata.posterior.data_vars if not str(v).endswith("__")]
    s = az.summary(idata, var_names=names, hdi_prob=0.9, kind="stats")
    t = Table(title=f"internal migration parameters ({df['origin_zone'].nunique()} zones, {len(df)} pairs)")
    for c in ("parameter", "mean", "sd", "90 % HDI"):
        t.add_column(c)
    for name, row in s.iterrows():
        t.add_row(str(name), f"{row['mean']:.4g}", f"{row['sd']:.3g}", f"[{row['hdi_5%']:.4g}, {row['hdi_95%']:.4g}]")
    console.print(t)
    console.print(gate_summary(diag))
    console.print(f"internal fit {'reused' if model.reused else 'saved'}: {target}")
    enforce_gate(diag, cfg.mobility.gate, "internal migration")
