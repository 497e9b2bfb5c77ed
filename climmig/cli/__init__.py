"""The ``climmig`` command line: thin wrappers that parse arguments, load the config and call the library.

Logging handlers are configured here and only here. Every :class:`~climmig.errors.ClimmigError` ends as a
short message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console

from climmig.errors import ClimmigError

__all__ = ["app", "main"]

app = typer.Typer(
    name="climmig",
    help="Project climate-driven displacement and migration, and compare the policies that could reduce it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    # each command group lives in its own module and adds itself to `app`
    import importlib

    for name in ("_catalog", "_compare", "_config", "_exposure", "_hpc", "_migration", "_mobility", "_run", "_sensitivity"):
        try:
            importlib.import_module(f"climmig.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"climmig.cli.{name}":
                raise


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show progress logging.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``climmig`` console script.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).
    """
    _register()
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        app(args=argv, prog_name="climmig", standalone_mode=True)
    except ClimmigError as exc:
        err.print("error:", style="bold red", end=" ")
        err.print(str(exc), markup=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted; rerun the same command to resume")
        sys.exit(130)
