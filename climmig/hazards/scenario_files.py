"""Readers for CMIP6/ISIMIP-style scenario files: several files per scenario and climate model.

A catalog entry points at the files with a glob (e.g. ``isimip3b/*/*_ssp*_flddph_*.nc``). Each file's
scenario (``ssp126``...) and climate model (a registry name, matched case-insensitively, so ISIMIP's
``gfdl-esm4`` and CMIP6's ``GFDL-ESM4`` both work) are read from its name; the files of one
scenario x model are opened together with :func:`xarray.open_mfdataset` (through
:func:`climmig.io.readers.open_netcdf`) and the groups are stacked into dims
``(scenario, climate_model, time, lat, lon)``.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import xarray as xr

from climmig import registry
from climmig.errors import CatalogError
from climmig.grid.lonlat import normalize_lonlat
from climmig.io import readers

__all__ = ["group_scenario_files", "names_scenario_files", "open_scenario_files"]

logger = logging.getLogger(__name__)

_SCENARIO = re.compile(r"(?<![a-z0-9])(ssp\d{3}|historical|picontrol)(?![a-z0-9])", re.IGNORECASE)


def names_scenario_files(paths: list[Path]) -> bool:
    """Whether any of ``paths`` names a scenario in its file name (scenario files, not a static field)."""
    return any(_SCENARIO.search(p.name) for p in paths)


def group_scenario_files(paths: list[Path]) -> dict[tuple[str, str], list[Path]]:
    """Group file paths by (scenario, climate model) parsed from their names.

    Parameters
    ----------
    paths : list of Path
        Scenario files.

    Returns
    -------
    dict
        ``(scenario, climate_model) -> sorted paths``; climate model spelled as in the registry.

    Raises
    ------
    CatalogError
        If a file name names no scenario or no known climate model.
    """
    models = sorted(registry.climate_models(), key=len, reverse=True)
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for p in paths:
        name = p.name
        sm = _SCENARIO.search(name)
        mm = next((m for m in models if re.search(rf"(?<![A-Za-z0-9]){re.escape(m)}(?![A-Za-z0-9])", name,
                                                   re.IGNORECASE)), None)
        if sm is None or mm is None:
            raise CatalogError(f"cannot tell the scenario and climate model of {name}; scenario files must name "
                               "both (e.g. gfdl-esm4_..._ssp126_..._2015_2020.nc)")
        groups[(sm.group(1).lower(), mm)].append(p)
    return {k: sorted(v) for k, v in sorted(groups.items())}


def open_scenario_files(catalog: Any, entry_id: str, variable: str | None = None,
                        chunks: dict[str, int] | None = None) -> xr.DataArray:
    """Open a catalog entry of scenario files as one lazy array.

    Parameters
    ----------
    catalog : climmig.catalog.ResolvedCatalog
        The catalog.
    entry_id : str
        Entry whose ``path`` globs the files.
    variable : str, optional
        Variable to read (default: the entry's only declared variable).
    chunks : dict, optional
        Spatial chunks.

    Returns
    -------
    xr.DataArray
        Dims ``(scenario, climate_model, time, lat, lon)``, lon in -180..180, lat ascending; attrs of the
        variable plus ``climmig_catalog_id``.

    Raises
    ------
    CatalogError
        Missing files, checksum mismatch, unparseable names, missing variable.
    """
    entry = catalog.get(entry_id)
    if entry.sha256:
        catalog.verify(entry)
    var = variable or (next(iter(entry.variables)) if len(entry.variables) == 1 else None)
    if var is None:
        raise CatalogError(f"{entry_id}: name the variable to read (params.variable); the entry declares "
                           f"{sorted(entry.variables)}")
    groups = group_scenario_files(catalog.paths(entry))
    parts = []
    for (scen, model), files in groups.items():
        names = ", ".join(f.name for f in files)
        try:
            ds = readers.open_netcdf(files if len(files) > 1 else files[0], chunks=chunks)
        except ValueError as exc:  # overlapping files cannot be combined in time order
            raise CatalogError(f"{entry_id}: cannot combine {names} ({exc}); the files repeat time steps or "
                               "overlap: remove the duplicate file or cut the overlap") from None
        times = ds.indexes.get("time")
        if times is not None and times.has_duplicates:
            raise CatalogError(f"{entry_id}: {names} repeat time steps (e.g. {times[times.duplicated()][0]}); "
                               "remove the duplicate file or cut the overlap")
        if entry.dims:
            ds = ds.rename({k: v for k, v in entry.dims.items() if k in ds.dims or k in ds.variables})
        if var not in ds:
            raise CatalogError(f"{entry_id}: {files[0].name} has no variable {var!r} (it has {sorted(ds.data_vars)})")
        da = normalize_lonlat(ds[var]).expand_dims(scenario=[scen], climate_model=[model])
        parts.append(da)
    scen_order = sorted({s for s, _ in groups})
    rows = []
    for s in scen_order:
        rows.append(xr.concat([p for p in parts if p.scenario.item() == s], dim="climate_model", join="outer"))
    out = xr.concat(rows, dim="scenario", join="outer").transpose("scenario", "climate_model", "time", "lat", "lon")
    spec = entry.variables.get(var)
    if "units" not in out.attrs and spec is not None:
        out.attrs["units"] = spec.units
    out.attrs.update(climmig_catalog_id=entry_id, climmig_emulated="false")
    return out.rename(var)
