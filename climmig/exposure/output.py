"""Finalise and write the exposure dataset: CF attributes, provenance, NetCDF and Zarr (atomic)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from climmig.io.writers import write_netcdf, write_zarr
from climmig.provenance import stamp

__all__ = ["finalise_exposure", "input_checksums", "write_exposure"]

logger = logging.getLogger(__name__)


def input_checksums(cfg: Any, catalog: Any) -> dict[str, str]:
    """Catalog ids of the exposure inputs mapped to their recorded sha256 (as in the catalog).

    Parameters
    ----------
    cfg : climmig.config.schema.RunConfig
        Run config.
    catalog : climmig.catalog.ResolvedCatalog
        Catalog.

    Returns
    -------
    dict of str to str
    """
    ids = [cfg.study_area.boundaries] + [h.input for h in cfg.hazards]
    for lv in cfg.livelihoods:
        ids += lv.inputs() + ([lv.projection] if lv.projection else [])
    out = {}
    for cid in dict.fromkeys(ids):
        e = catalog.get(cid)
        out[cid] = ";".join(f"{k}:{v}" for k, v in sorted(e.sha256.items())) or "no checksum recorded"
    return out


def finalise_exposure(ds: xr.Dataset, cfg: Any, catalog: Any) -> xr.Dataset:
    """Add CF coordinate attributes and provenance (config hash, seed, inputs, versions, history).

    Parameters
    ----------
    ds : xr.Dataset
        Output of :func:`climmig.exposure.build_exposure` (lazy or computed).
    cfg : climmig.config.schema.RunConfig
        Run config.
    catalog : climmig.catalog.ResolvedCatalog
        Catalog.

    Returns
    -------
    xr.Dataset
    """
    from climmig.config import science_hash

    out = ds.copy()
    out["region"].attrs.update(long_name="region id (ISO 3166-1 alpha-3 for countries)", cf_role="timeseries_id")
    out["scenario"].attrs.update(long_name="SSP-RCP scenario (ScenarioMIP)")
    out["climate_model"].attrs.update(long_name="climate model (CMIP6 source_id)")
    out["hazard"].attrs.update(long_name="configured hazard name")
    out["year"].attrs.update(long_name="calendar year", units="1")
    out["region_name"].attrs.update(long_name="region name")
    return stamp(out, f"climmig exposure {cfg.run_id}", cfg_hash=science_hash(cfg), seed=cfg.seed,
                 inputs=input_checksums(cfg, catalog))


def write_exposure(ds: xr.Dataset, outdir: str | Path, formats: tuple[str, ...] = ("netcdf", "zarr")
                   ) -> list[Path]:
    """Write a (computed) exposure dataset as ``exposure.nc`` and ``exposure.zarr``, each atomically.

    Parameters
    ----------
    ds : xr.Dataset
        Finalised dataset (compute it first to avoid computing twice).
    outdir : str or Path
        Output directory (created).
    formats : tuple of str
        Any of ``netcdf``, ``zarr``.

    Returns
    -------
    list of Path
    """
    outdir = Path(outdir)
    paths = []
    if "netcdf" in formats:
        paths.append(write_netcdf(ds, outdir / "exposure.nc"))
    if "zarr" in formats:
        # variable-length strings have a Zarr v3 data type; fixed-width numpy unicode does not (yet)
        zds = ds.chunk()
        zds = zds.assign_coords({k: (v.dims, np.asarray(ds[k].values).astype(object))
                                 for k, v in ds.coords.items() if v.dtype.kind == "U"})
        paths.append(write_zarr(zds, outdir / "exposure.zarr"))
    return paths
