"""What a SLURM name may be: the one declaration that site profiles and job-script rendering share.

A value that a site profile accepts must also render; with two copies of these patterns, ``partition:
"cpu,gpu"`` passed the profile and then failed the renderer. Both now check the same patterns through
:func:`check`, each raising its own error type.
"""

from __future__ import annotations

import re

__all__ = ["SLURM_NAME", "SLURM_NAME_LIST", "SITE_FIELD_PATTERNS", "check"]

#: one SLURM name (account, qos, job name, run id, network interface): no spaces or shell metacharacters
SLURM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")
#: a comma-separated list of names: ``--partition=cpu,gpu`` lets SLURM start the job in whichever is free first
SLURM_NAME_LIST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}(,[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}){0,31}$")

#: the site-profile fields that are SLURM names, and what each may hold
SITE_FIELD_PATTERNS: dict[str, re.Pattern[str]] = {
    "name": SLURM_NAME,
    "partition": SLURM_NAME_LIST,
    "account": SLURM_NAME,
    "qos": SLURM_NAME,
    "interface": SLURM_NAME,
}


def check(pattern: re.Pattern[str], what: str, value: str) -> str:
    """Return ``value`` if it matches ``pattern``, else raise a ``ValueError`` naming ``what``.

    Parameters
    ----------
    pattern : re.Pattern
        :data:`SLURM_NAME` or :data:`SLURM_NAME_LIST`.
    what : str
        The field, for the message.
    value : str
        The value to check.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If the value does not match.
    """
    if not pattern.match(value):
        kind = "a comma-separated list of SLURM names" if pattern is SLURM_NAME_LIST else "one SLURM name"
        raise ValueError(
            f"{what} {value!r} is not {kind}: it may hold letters, digits and '_', '.', '+', '-' "
            f"(and start with a letter or digit), but no spaces, quotes, ';', '&', '|', '$', '`', '<', '>' "
            f"or other characters that are not allowed in a job script"
        )
    return value
