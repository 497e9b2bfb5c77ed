"""Units: one pint registry with CF conventions (from cf-xarray), never installed globally.

Money is not a pint unit: costs carry ``currency`` and ``price_year`` instead.
"""

from __future__ import annotations

from functools import cache

import pint

__all__ = ["convert", "dimensionality", "parse_quantity", "ureg"]


@cache
def ureg() -> pint.UnitRegistry:
    """The CF-aware unit registry (built on first use, not at import)."""
    import logging

    # cf-xarray redefines a few pint units on import and pint logs each one as a warning; silence that
    # for the duration of the import only, then restore the logger as it was.
    pint_log = logging.getLogger("pint.util")
    level = pint_log.level
    pint_log.setLevel(logging.ERROR)
    try:
        from cf_xarray.units import units as cf_units
    finally:
        pint_log.setLevel(level)
    return cf_units


def parse_quantity(text: str | float | int) -> pint.Quantity:
    """Parse ``"35 degC"``, ``"0.5 m"`` or a bare number (dimensionless).

    Parameters
    ----------
    text : str or float or int
        Quantity with units.

    Returns
    -------
    pint.Quantity

    Raises
    ------
    ValueError
        If the text is not a quantity pint understands.
    """
    reg = ureg()
    if isinstance(text, int | float) and not isinstance(text, bool):
        return reg.Quantity(float(text), "dimensionless")
    s = str(text).strip()
    if not s:
        raise ValueError("empty quantity")
    try:
        parts = s.split(maxsplit=1)
        value = float(parts[0])
        unit = parts[1] if len(parts) > 1 else "dimensionless"
        if unit in ("1", "%"):
            unit = {"1": "dimensionless", "%": "percent"}[unit]
        return reg.Quantity(value, reg.parse_units(unit))
    except (ValueError, pint.errors.PintError, AttributeError, TypeError) as exc:
        raise ValueError(f"cannot read {s!r} as a number with units ({exc})") from exc


def dimensionality(text: str | float | int) -> str:
    """The dimensionality of a quantity as a string like ``"[length]"`` (``"[]"`` if dimensionless)."""
    dim = parse_quantity(text).dimensionality
    return str(dim) if dim else "[]"


def convert(value: str | float | int, to_units: str) -> float:
    """Convert a quantity to ``to_units`` and return the magnitude.

    Parameters
    ----------
    value : str or float or int
        Quantity such as ``"35 degC"``.
    to_units : str
        Target units, e.g. ``"K"`` (CF strings such as ``"1"`` work).

    Returns
    -------
    float
        Magnitude in ``to_units``.
    """
    reg = ureg()
    q = parse_quantity(value)
    target = "dimensionless" if to_units in ("1", "") else to_units
    return float(q.to(reg.parse_units(target)).magnitude)
