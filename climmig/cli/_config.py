"""``climmig validate`` and ``climmig schema``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from climmig.cli import app
from climmig.config import RunConfig, load_config, science_hash


@app.command()
def validate(config: Path = typer.Argument(..., help="Run config (YAML).")) -> None:
    """Check a run config and print a summary (exit code 2 and one line per error if it is invalid)."""
    cfg = load_config(config)
    out = Console(highlight=False)
    t = Table(title=f"{config} is valid", show_header=False)
    t.add_row("run id", cfg.run_id)
    t.add_row("config sha256", science_hash(cfg))
    area = ", ".join(cfg.study_area.countries) if cfg.study_area.countries else str(cfg.study_area.bbox)
    t.add_row("study area", area)
    t.add_row("grid", f"{cfg.grid.resolution} degree")
    t.add_row("historical", f"{cfg.period.historical.start}-{cfg.period.historical.end}")
    t.add_row("projection", f"{cfg.period.projection.start}-{cfg.period.projection.end}")
    t.add_row("horizons", ", ".join(f"{h.name} {h.start}-{h.end}" for h in cfg.horizons))
    t.add_row("scenarios", ", ".join(cfg.scenarios))
    t.add_row("climate models", ", ".join(cfg.climate_models))
    t.add_row("hazards", ", ".join(f"{h.name} ({h.indicator} > {h.threshold})" for h in cfg.hazards))
    t.add_row("livelihoods", ", ".join(lv.name for lv in cfg.livelihoods) or "-")
    t.add_row("sampler", f"{cfg.mobility.sampler.backend}, {cfg.mobility.sampler.chains} chains x "
              f"{cfg.mobility.sampler.draws} draws")
    t.add_row("interventions", ", ".join(f"{i.id} ({i.timescale})" for i in cfg.interventions) or "-")
    t.add_row("border regimes", ", ".join(b.id for b in cfg.border_regimes) or "-")
    t.add_row("compute", cfg.compute.backend)
    out.print(t)


@app.command()
def schema() -> None:
    """Print the JSON schema of run configs."""
    typer.echo(json.dumps(RunConfig.model_json_schema(), indent=2))
