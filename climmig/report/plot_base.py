"""What the report's figures share: people counts on labels and axes, and quantiles over draws and models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xarray as xr


def _people(x: float) -> str:
    ax = abs(x)
    if ax >= 1e7:
        return f"{x / 1e6:.0f} M"
    if ax >= 1e6:
        return f"{x / 1e6:.1f} M"
    if ax >= 1e3:
        return f"{x / 1e3:.0f} k"
    return f"{x:.0f}"


def _people_axis(ax: Any, axis: str = "y", nbins: int | None = None) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _pos: _people(v)))
    if nbins is not None:  # narrow panels: few ticks so that labels like "250 M" never overlap
        target.set_major_locator(MaxNLocator(nbins=nbins))


def _sample_dims(da: xr.DataArray) -> list[str]:
    return [d for d in ("sample", "climate_model") if d in da.dims]


def _q(da: xr.DataArray, q: Sequence[float]) -> xr.DataArray:
    return da.quantile(list(q), dim=_sample_dims(da))
