"""The ``climmig`` command line: thin wrappers that parse arguments, load the config and call the library.

Logging handlers are configured here and only here. Every :class:`~climmig.errors.ClimmigError` ends as a
short message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import logging
import sys
import warnings

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

    for name in ("_catalog", "_compare", "_config", "_exposure", "_fits", "_hpc", "_migration", "_mobility", "_run",
                 "_sensitivity"):
        try:
            importlib.import_module(f"climmig.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"climmig.cli.{name}":
                raise


#: (category, message regex, module regex) of library warnings that tell a user nothing they can act on;
#: ``--verbose`` shows them
LIBRARY_NOISE: tuple[tuple[type[Warning], str, str], ...] = (
    # printed by ArviZ on import, about its next major version
    (FutureWarning, r"\s*ArviZ is undergoing a major refactor", "arviz"),
    # climmig compiles its models with numba, which does its own linear algebra, not with PyTensor's C backend
    (UserWarning, "PyTensor could not link to a BLAS installation", "pytensor"),
    # climmig writes Zarr v3 with consolidated metadata on purpose (one read opens a store); xarray reads it
    (UserWarning, "Consolidated metadata is currently not part in the Zarr format 3", "zarr"),
)


def quiet_library_warnings() -> None:
    """Ignore the warnings in :data:`LIBRARY_NOISE` (the CLI's default; ``--verbose`` keeps them)."""
    for category, message, module in LIBRARY_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


class _OncePerMessage(logging.Filter):
    """Pass each distinct (logger, level, message) once: stages that load the same data repeat its notes."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, record.getMessage())
        if key in self._seen:
            return False
        self._seen.add(key)
        return True


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v",
                                       help="Show progress logging and the libraries' own warnings.")) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_OncePerMessage())
    if not verbose:
        quiet_library_warnings()


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
