"""``climmig catalog list`` and ``climmig catalog show``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from climmig.catalog import load_catalog
from climmig.cli import app

catalog_app = typer.Typer(help="List and inspect data catalog entries.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

_DEFAULT = Path("data_catalog/catalog.yaml")


@catalog_app.command("list")
def list_entries(
    catalog: Path = typer.Option(_DEFAULT, "--catalog", "-c", help="Catalog file."),
) -> None:
    """List every dataset in a catalog."""
    cat = load_catalog(catalog)
    t = Table(title=f"{cat.file} ({len(cat.ids())} entries)")
    t.add_column("id", no_wrap=True)
    for col in ("format", "title", "licence", "synthetic"):
        t.add_column(col)
    for e in cat.catalog.entries:
        t.add_row(e.id, e.format, e.title, e.license, "yes" if e.synthetic else "no")
    Console(highlight=False).print(t)


@catalog_app.command("show")
def show(
    entry_id: str = typer.Argument(..., help="Catalog id."),
    catalog: Path = typer.Option(_DEFAULT, "--catalog", "-c", help="Catalog file."),
    open_: bool = typer.Option(True, "--open/--no-open", help="Open the data lazily and describe it."),
) -> None:
    """Show one entry (and, by default, open it lazily and verify its checksums)."""
    cat = load_catalog(catalog)
    e = cat.get(entry_id)
    out = Console(highlight=False)
    t = Table(show_header=False, title=e.id)
    for k, v in e.model_dump(exclude_none=True).items():
        t.add_row(k, str(v))
    t.add_row("resolved paths", "\n".join(str(p) for p in cat.paths(e)))
    out.print(t)
    if open_:
        obj = cat.open(entry_id)
        out.print(repr(obj) if e.kind == "grid" else obj.head().to_string())
