"""``climmig fits list`` and ``climmig fits clear``: the fits kept for reuse by later runs (the fit cache)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from climmig.cli import app
from climmig.mobility import fit_cache

fits_app = typer.Typer(help="List or clear the fits kept for reuse by later runs (compute.fit_cache).",
                       no_args_is_help=True)
app.add_typer(fits_app, name="fits")

_CONFIG = typer.Option(None, "--config", "-c", help="A run config whose compute.fit_cache names the cache "
                       "(default: 'auto'; the environment variable CLIMMIG_FIT_CACHE overrides both).")


def _root(config: Path | None) -> Path | None:
    if config is None:
        return fit_cache.cache_root("auto")
    from climmig.config import load_config

    return fit_cache.cache_root(load_config(config).compute.fit_cache)


@fits_app.command("list")
def list_fits(config: Path | None = _CONFIG) -> None:
    """List the fits in the cache: model, size and when each was kept."""
    root = _root(config)
    out = Console(highlight=False)
    if root is None:
        out.print("the fit cache is off (compute.fit_cache or CLIMMIG_FIT_CACHE is 'off')")
        return
    files = fit_cache.entries(root)
    t = Table(title=f"{root} ({len(files)} fits, {sum(p.stat().st_size for p in files) / 1e6:,.0f} MB)")
    t.add_column("model", overflow="fold")
    t.add_column("MB", justify="right")
    t.add_column("kept", no_wrap=True)
    for p in files:
        kept = _dt.datetime.fromtimestamp(p.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        t.add_row(p.stem.rsplit("-", 1)[0], f"{p.stat().st_size / 1e6:,.1f}", kept)
    out.print(t)


@fits_app.command("clear")
def clear_fits(config: Path | None = _CONFIG,
               yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Delete every fit in the cache (later runs sample their fits again; saved run folders are not touched)."""
    root = _root(config)
    out = Console(highlight=False)
    if root is None or not fit_cache.entries(root):
        out.print(f"nothing to clear in {root}" if root is not None else "the fit cache is off")
        return
    if not yes:
        typer.confirm(f"delete the {len(fit_cache.entries(root))} fits in {root}?", abort=True)
    n, size = fit_cache.clear(root)
    out.print(f"deleted {n} files ({size / 1e6:,.0f} MB) from {root}")
