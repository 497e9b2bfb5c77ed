"""How the report's sections write a count of people in words (thousand, million, billion)."""

from __future__ import annotations


def _n(x: float) -> str:
    ax = abs(x)
    if ax >= 1e9:
        return f"{x / 1e9:.1f} billion"
    if ax >= 1e6:
        return f"{x / 1e6:.1f} million"
    if ax >= 1e4:
        return f"{x / 1e3:.0f} thousand"
    return f"{x:,.0f}"
