"""``climmig compare CONFIG``: compare the config's interventions and print the ranking."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from climmig.cli import app
from climmig.errors import ConfigError


@app.command()
def compare(
    config: Path = typer.Argument(..., help="Run config (YAML)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Run directory (overrides the config)."),
    scenario: str | None = typer.Option(None, "--scenario", help="Scenario to rank (default: the middle one)."),
    horizon: list[str] | None = typer.Option(None, "--horizon", help="Horizon(s) to print (default: all)."),
    force: bool = typer.Option(False, "--force", help="Recompute the comparison even if it is current."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """Compare interventions and portfolios under uncertainty (runs what the comparison needs).

    The comparison and its table are outputs of the run's ``interventions`` stage, its figures of the
    on-demand ``comparison_figures`` stage (recorded and reused like every stage's); this command runs what is
    not current and prints the ranking.
    """
    import pandas as pd

    from climmig.config import load_config
    from climmig.pipeline.run import run_pipeline
    from climmig.report.comparison_figures import comparison_figure_name, has_frontier
    from climmig.report.tables import headline_table

    cfg = load_config(config)
    if not cfg.interventions and not cfg.border_regimes:
        raise ConfigError(["interventions: the config has no interventions or border_regimes to compare; "
                           "add an 'interventions:' list (see configs/demo.yaml)"], source=str(config))
    sc = scenario or cfg.scenarios[len(cfg.scenarios) // 2]
    if sc not in cfg.scenarios:
        raise typer.BadParameter(f"{sc!r} is not one of the config's scenarios {list(cfg.scenarios)}",
                                 param_hint="--scenario")
    names = [h.name for h in cfg.horizons]
    wanted = horizon or names
    bad = [h for h in wanted if h not in names]
    if bad:
        raise typer.BadParameter(f"{bad[0]!r} is not one of the config's horizons {names}",
                                 param_hint="--horizon")
    console = Console(highlight=False)
    summary = run_pipeline(config, output=output, only=["interventions", "comparison_figures"], force=force,
                           progress=progress, console=console)
    run_dir = summary.run_dir
    import xarray as xr

    table = pd.read_csv(run_dir / "interventions" / "comparison.csv")
    with xr.open_dataset(run_dir / "interventions" / "comparison.nc") as cmp:
        cmp = cmp.load()
    currency = str(cmp["discounted_cost"].attrs.get("currency", "USD"))
    kinds = ["averted_vs_cost", *(["frontier"] if has_frontier(cmp) else [])]
    figs = [run_dir / "interventions" / comparison_figure_name("ranked", sc),
            *(run_dir / "interventions" / comparison_figure_name(k, sc, h) for h in wanted for k in kinds)]
    for h in wanted:
        spec = next(x for x in cfg.horizons if x.name == h)
        df = headline_table(table, scenario=sc, horizon=h, currency=currency)
        t = Table(title=f"{sc}, horizon {h} ({spec.start}-{spec.end}): options at an equal budget, displacement averted in the horizon, "
                        "median (90 % interval)")
        for col in df.columns:
            if col == "option":  # option ids are what users type in configs: never cut them
                t.add_column(col, no_wrap=True, min_width=max(len(str(x)) for x in df[col]))
            else:
                t.add_column(col, justify="left" if col == "timescale" else "right")
        for row in df.itertuples(index=False):
            t.add_row(*[str(v) for v in row])
        console.print(t)
    console.print(f"table: {run_dir / 'interventions' / 'comparison.csv'} (every scenario and horizon)")
    console.print("figures: " + ", ".join(str(p) for p in figs))
