"""Resolve and open catalog entries: checksums, CRS and unit checks, standard names, catalog attrs."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr
import yaml
from pydantic import ValidationError

from climmig.catalog.schema import Catalog, CatalogEntry
from climmig.errors import CatalogError
from climmig.io import readers
from climmig.units import ureg

__all__ = ["ResolvedCatalog", "load_catalog", "units_equal"]


def units_equal(a: str, b: str) -> bool:
    """Whether two unit strings denote the same unit (``"K"`` == ``"kelvin"`` == ``"degK"``).

    Parameters
    ----------
    a, b : str
        Unit strings (CF or pint syntax).

    Returns
    -------
    bool
    """
    if a.strip() == b.strip():
        return True
    reg = ureg()
    aliases = {"1": "dimensionless", "": "dimensionless", "degK": "K", "deg_K": "K", "people": "dimensionless",
               "persons": "dimensionless", "percent": "percent", "%": "percent"}
    try:
        ua = reg.parse_units(aliases.get(a.strip(), a.strip()))
        ub = reg.parse_units(aliases.get(b.strip(), b.strip()))
    except Exception:  # noqa: BLE001 - any parse failure means "not provably equal"
        return False
    if ua == ub:
        return True
    try:
        return abs(reg.Quantity(1.0, ua).to(ub).magnitude - 1.0) < 1e-12 and \
            reg.Quantity(0.0, ua).to(ub).magnitude == 0.0
    except Exception:  # noqa: BLE001
        return False


@dataclass(frozen=True)
class ResolvedCatalog:
    """A validated catalog together with the directory its relative paths are resolved against."""

    catalog: Catalog
    root: Path
    file: Path

    def ids(self) -> list[str]:
        """All entry ids."""
        return [e.id for e in self.catalog.entries]

    def get(self, entry_id: str) -> CatalogEntry:
        """The entry with this id.

        Parameters
        ----------
        entry_id : str
            Catalog id.

        Returns
        -------
        CatalogEntry

        Raises
        ------
        CatalogError
            If there is no such entry.
        """
        for e in self.catalog.entries:
            if e.id == entry_id:
                return e
        import difflib

        close = difflib.get_close_matches(entry_id, self.ids(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CatalogError(f"no entry {entry_id!r} in catalog {self.file}{hint}")

    def paths(self, entry: CatalogEntry | str) -> list[Path]:
        """The files of an entry, resolved (globs expanded, sorted).

        Parameters
        ----------
        entry : CatalogEntry or str
            Entry or its id.

        Returns
        -------
        list of Path

        Raises
        ------
        CatalogError
            If a file is missing (the message shows the resolved path).
        """
        e = self.get(entry) if isinstance(entry, str) else entry
        raw = [e.path] if isinstance(e.path, str) else list(e.path)
        out: list[Path] = []
        for r in raw:
            p = Path(r).expanduser()
            if not p.is_absolute():
                p = self.root / p
            if any(ch in str(p) for ch in "*?["):
                p = p.resolve()
                matches = sorted(Path(m) for m in glob.glob(str(p)))
                if not matches:
                    raise CatalogError(f"{e.id}: no files match {p}")
                out.extend(matches)
            else:
                if not p.exists():
                    raise CatalogError(f"{e.id}: file not found: {p.resolve()}")
                out.append(p.resolve())
        return out

    def verify(self, entry: CatalogEntry | str) -> dict[str, str]:
        """Check the sha256 of every file that has one in the catalog.

        Parameters
        ----------
        entry : CatalogEntry or str
            Entry or its id.

        Returns
        -------
        dict of str to str
            File name to verified sha256.

        Raises
        ------
        CatalogError
            On a mismatch, naming the file and both checksums.
        """
        e = self.get(entry) if isinstance(entry, str) else entry
        files = {p.name: p for p in self.paths(e)}
        # companion files of a shapefile are checked too
        for name in e.sha256:
            if name not in files:
                cand = (self.paths(e)[0].parent / name)
                if not cand.exists():
                    raise CatalogError(f"{e.id}: file not found: {cand.resolve()}")
                files[name] = cand
        out = {}
        for name, expected in e.sha256.items():
            got = readers.sha256_file(files[name])
            if got != expected:
                raise CatalogError(
                    f"{e.id}: checksum mismatch for {files[name]}: expected sha256 {expected[:16]}..., got "
                    f"{got[:16]}...; the file is corrupted or was replaced: restore it, or update the "
                    "catalog's sha256 if the change is intended"
                )
            out[name] = got
        return out

    def open(self, entry_id: str, verify: bool = True, chunks: dict[str, int] | None = None) -> Any:
        """Open an entry lazily with the reader its format needs.

        Parameters
        ----------
        entry_id : str
            Catalog id.
        verify : bool
            Verify checksums first.
        chunks : dict, optional
            Chunk sizes for gridded data.

        Returns
        -------
        xr.Dataset or pandas.DataFrame or geopandas.GeoDataFrame
            Gridded entries as dask-backed datasets, tables as DataFrames, boundaries as GeoDataFrames;
            all with ``climmig_catalog_id``, ``source``, ``license`` and ``citation`` in their attrs.

        Raises
        ------
        CatalogError
            Missing file, checksum mismatch, missing or mismatched CRS, unit mismatch, unreadable file.
        """
        e = self.get(entry_id)
        paths = self.paths(e)
        checksums = self.verify(e) if verify else {}
        try:
            if e.kind == "grid":
                obj: Any = self._open_grid(e, paths, chunks)
            elif e.kind == "table":
                obj = self._open_table(e, paths)
            else:
                obj = self._open_vector(e, paths)
        except CatalogError:
            raise
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise CatalogError(f"{e.id}: cannot read {paths[0]}: {exc}") from None
        attrs = {
            "climmig_catalog_id": e.id,
            "source": e.source,
            "license": e.license,
            "citation": e.citation,
            "climmig_synthetic": str(bool(e.synthetic)).lower(),
        }
        if checksums:
            attrs["climmig_sha256"] = ";".join(f"{k}:{v}" for k, v in sorted(checksums.items()))
        obj.attrs.update(attrs)
        return obj

    # -- readers per kind ------------------------------------------------------------------------------
    def _open_grid(self, e: CatalogEntry, paths: list[Path], chunks: dict[str, int] | None) -> xr.Dataset:
        chunks = chunks or e.chunks
        if e.format == "netcdf":
            ds = readers.open_netcdf(paths[0] if len(paths) == 1 else paths, chunks=chunks)
        elif e.format == "zarr":
            ds = readers.open_zarr(paths[0], chunks=chunks)
        else:
            if len(e.variables) != 1:
                raise CatalogError(f"{e.id}: a raster entry declares exactly one variable")
            name = next(iter(e.variables))
            if len(paths) == 1:
                ds = readers.open_raster(paths[0], name, chunks)
            else:
                parts = [readers.open_raster(p, name, chunks) for p in paths]
                ds = xr.concat(parts, dim="file").assign_coords(file=[p.name for p in paths])
        if e.dims:
            ds = ds.rename({k: v for k, v in e.dims.items() if k in ds.dims or k in ds.variables})
        ds = self._check_crs(e, ds)
        self._check_units(e, ds)
        return ds

    def _check_crs(self, e: CatalogEntry, ds: xr.Dataset) -> xr.Dataset:
        import rioxarray  # noqa: F401

        file_crs = None
        try:
            file_crs = ds.rio.crs
        except Exception:  # noqa: BLE001 - rioxarray raises several types for odd grids
            file_crs = None
        geographic = any(d in ds.dims for d in ("lat", "latitude"))
        if file_crs is None:
            if e.crs is None:
                if geographic:
                    return ds  # lat/lon coordinates are self-describing (CF)
                raise CatalogError(
                    f"{e.id}: the file has no CRS and the catalog declares none; add `crs: EPSG:4326` "
                    "(or the right one) to the catalog entry"
                )
            return ds.rio.write_crs(e.crs)
        if e.crs is not None:
            from pyproj import CRS

            if not CRS.from_user_input(e.crs).equals(CRS.from_user_input(file_crs), ignore_axis_order=True):
                raise CatalogError(
                    f"{e.id}: the file's CRS ({file_crs}) differs from the catalog's ({e.crs}); fix the "
                    "catalog entry or reproject the file"
                )
        return ds

    def _check_units(self, e: CatalogEntry, ds: xr.Dataset) -> None:
        for name, spec in e.variables.items():
            if name not in ds.data_vars:
                raise CatalogError(
                    f"{e.id}: variable {name!r} declared in the catalog is not in the file "
                    f"(it has {sorted(map(str, ds.data_vars))})"
                )
            var = ds[name]
            file_units = var.attrs.get("units")
            if file_units is None:
                var.attrs["units"] = spec.units
                var.attrs["climmig_units_source"] = "catalog (the file has no units attribute)"
            elif not units_equal(str(file_units), spec.units):
                raise CatalogError(
                    f"{e.id}: variable {name!r} has units {file_units!r} in the file but the catalog expects "
                    f"{spec.units!r}; convert the file or correct the catalog entry"
                )
            if spec.standard_name and "standard_name" not in var.attrs:
                var.attrs["standard_name"] = spec.standard_name
            if spec.long_name and "long_name" not in var.attrs:
                var.attrs["long_name"] = spec.long_name

    def _open_table(self, e: CatalogEntry, paths: list[Path]) -> pd.DataFrame:
        t = e.table
        assert t is not None
        frames = [readers.read_table(p, skiprows=t.skiprows, header_rows=t.header_rows, columns=t.columns,
                                     na_values=t.na_values, keep_default_na=t.keep_default_na) for p in paths]
        df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        missing = [c for c in e.variables if c not in df.columns]
        if missing:
            raise CatalogError(f"{e.id}: columns {missing} declared in the catalog are not in {paths[0]} "
                               f"(it has {list(df.columns)[:12]}...)")
        df.attrs["units"] = {k: v.units for k, v in e.variables.items()}
        return df

    def _open_vector(self, e: CatalogEntry, paths: list[Path]) -> Any:
        gdf = readers.read_vector(paths[0])
        if gdf.crs is None:
            if e.crs is None:
                raise CatalogError(f"{e.id}: the boundary file has no CRS and the catalog declares none; "
                                   "add `crs: EPSG:4326` (or the right one) to the entry")
            gdf = gdf.set_crs(e.crs)
        elif e.crs is not None:
            from pyproj import CRS

            if not CRS.from_user_input(e.crs).equals(gdf.crs, ignore_axis_order=True):
                raise CatalogError(f"{e.id}: the file's CRS ({gdf.crs}) differs from the catalog's ({e.crs})")
        if e.table and e.table.columns:
            gdf = gdf.rename(columns=dict(e.table.columns))
        return gdf


def load_catalog(path: str | Path) -> ResolvedCatalog:
    """Read and validate a catalog YAML file.

    Parameters
    ----------
    path : str or Path
        Catalog file; relative entry paths are resolved against its directory.

    Returns
    -------
    ResolvedCatalog

    Raises
    ------
    CatalogError
        If the file is missing or invalid (each problem with its YAML path).
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise CatalogError(f"catalog file not found: {p.resolve()}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog {p} is not valid YAML: {exc}") from None
    try:
        cat = Catalog.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = list(err["loc"])
            if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int) and isinstance(data, dict):
                try:
                    loc[1] = f"{loc[1]} ({data['entries'][loc[1]].get('id', '?')})"
                except (KeyError, IndexError, AttributeError, TypeError):
                    pass
            lines.append(f"{' -> '.join(map(str, loc))}: {err['msg']}")
        raise CatalogError(f"invalid catalog {p}:\n" + "\n".join(f"  - {x}" for x in lines)) from None
    return ResolvedCatalog(catalog=cat, root=p.resolve().parent, file=p.resolve())
