"""A small, real, deterministic workload for testing and sizing chunked runs on a cluster.

One chunk is one ``(scenario, climate_model)`` pair. For every projection year it draws a synthetic
temperature-anomaly field on the global grid of the config's resolution (seeded from the config seed, the
scenario, the climate model and the year), then reduces it to zonal means and the area fraction above a
threshold. It is *not* climate science; it exercises the same pattern as the real pipeline (a gridded
field per year reduced to a small table), so its throughput (grid cells x years per second) is a stand-in
for sizing until the exposure stage has its own benchmark.
"""

from __future__ import annotations

import hashlib
import logging
import re

import numpy as np
import xarray as xr

from climmig.config import RunConfig

__all__ = ["compute_selftest_chunk", "compute_selftest_reference"]

logger = logging.getLogger(__name__)

_THRESHOLD_K = 3.0


def _seed(*parts: object) -> int:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _forcing(scenario: str) -> float:
    """Radiative forcing level encoded in an SSP/RCP name (``ssp585`` -> 8.5 W m-2), else 4.5."""
    m = re.search(r"(\d)(\d)$", scenario)
    return float(f"{m.group(1)}.{m.group(2)}") if m else 4.5


def compute_selftest_chunk(cfg: RunConfig, scenario: str, climate_model: str,
                           years: list[int] | None = None) -> xr.Dataset:
    """Compute the self-test result of one ``(scenario, climate_model)`` chunk (eager, bounded memory).

    Parameters
    ----------
    cfg : RunConfig
        Run config (seed, grid resolution, projection period).
    scenario, climate_model : str
        The chunk.
    years : list of int, optional
        Default: the projection period.

    Returns
    -------
    xr.Dataset
        ``zonal_mean_anomaly`` (scenario, climate_model, year, lat) in K and ``area_fraction_above``
        (scenario, climate_model, year), deterministic for a given config.
    """
    res = cfg.grid.resolution
    years = years if years is not None else cfg.period.projection.years()
    lat = np.arange(-90 + res / 2, 90, res)
    lon = np.arange(-180 + res / 2, 180, res)
    weights = np.cos(np.deg2rad(lat))
    weights = weights / weights.sum()
    sens_rng = np.random.default_rng(_seed(cfg.seed, "sensitivity", climate_model))
    sensitivity = 0.6 + 0.4 * sens_rng.random()  # K per (W m-2) at 2100
    polar = 1.0 + 1.5 * np.abs(np.sin(np.deg2rad(lat)))[:, None]  # polar amplification
    start = cfg.period.projection.start
    zonal = np.empty((len(years), lat.size))
    frac = np.empty(len(years))
    for k, year in enumerate(years):
        rng = np.random.default_rng(_seed(cfg.seed, scenario, climate_model, year))
        trend = _forcing(scenario) * sensitivity * (year - start + 1) / max(2100 - start + 1, 1)
        field = trend * polar + rng.normal(0.0, 1.0, (lat.size, lon.size))
        zonal[k] = field.mean(axis=1)
        frac[k] = float(((field > _THRESHOLD_K).mean(axis=1) * weights).sum())
    coords = {
        "scenario": [scenario],
        "climate_model": [climate_model],
        "year": np.asarray(years, dtype="int32"),
        "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
    }
    return xr.Dataset(
        {
            "zonal_mean_anomaly": (
                ("scenario", "climate_model", "year", "lat"), zonal[None, None],
                {"units": "K", "long_name": "zonal mean of the synthetic self-test temperature anomaly"},
            ),
            "area_fraction_above": (
                ("scenario", "climate_model", "year"), frac[None, None],
                {"units": "1", "long_name": f"area fraction with synthetic anomaly above {_THRESHOLD_K} K"},
            ),
        },
        coords=coords,
        attrs={"title": "climmig HPC self-test workload (synthetic, not a climate projection)"},
    )


def compute_selftest_reference(cfg: RunConfig) -> xr.Dataset:
    """All chunks of the self-test computed in this process, combined (the single-machine result).

    Parameters
    ----------
    cfg : RunConfig
        Run config.

    Returns
    -------
    xr.Dataset
        Same variables as :func:`compute_selftest_chunk`, all scenarios and climate models.
    """
    parts = [compute_selftest_chunk(cfg, s, m) for s in cfg.scenarios for m in cfg.climate_models]
    return xr.combine_by_coords(parts, combine_attrs="drop_conflicts")
