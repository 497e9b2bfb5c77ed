"""Exception hierarchy of climmig.

Every error a user can cause (a bad config, a bad data file, a failed convergence gate) is a
:class:`ClimmigError`; the CLI turns these into a short message and exit code 2, never a traceback.
"""

from __future__ import annotations

import logging
import warnings
from typing import Literal

__all__ = [
    "CatalogError",
    "ClimmigError",
    "ConfigError",
    "ConvergenceError",
    "DataError",
    "ProvenanceMismatchError",
    "raise_warn_or_log",
]

logger = logging.getLogger(__name__)


class ClimmigError(Exception):
    """Base class of all errors a user can act on."""


class ConfigError(ClimmigError):
    """A run configuration is invalid.

    Parameters
    ----------
    errors : list of str
        One line per problem, each naming the YAML path and the fix.
    source : str, optional
        The file the config was read from.
    """

    def __init__(self, errors: list[str], source: str | None = None) -> None:
        self.errors = list(errors)
        self.source = source
        head = f"invalid config {source}" if source else "invalid config"
        super().__init__(head + ":\n" + "\n".join(f"  - {e}" for e in self.errors))


class CatalogError(ClimmigError):
    """A catalog entry cannot be opened: missing file, bad checksum, CRS or unit mismatch."""


class DataError(ClimmigError):
    """Input data are present but unusable (absurd values, empty study area, ...)."""


class ConvergenceError(ClimmigError):
    """A fitted model failed the convergence gate and the config does not allow it."""


class ProvenanceMismatchError(ClimmigError):
    """A stored artefact was produced from a different config or different data."""


def raise_warn_or_log(
    err: ClimmigError, mode: Literal["raise", "warn", "log"] = "raise", stacklevel: int = 2
) -> None:
    """Raise, warn about or log a data-quality problem, depending on ``mode``.

    Parameters
    ----------
    err : ClimmigError
        The problem.
    mode : {"raise", "warn", "log"}
        What to do with it.
    stacklevel : int
        Passed to :func:`warnings.warn`.
    """
    if mode == "raise":
        raise err
    if mode == "warn":
        warnings.warn(str(err), UserWarning, stacklevel=stacklevel + 1)
    else:
        logger.info("%s", err)
