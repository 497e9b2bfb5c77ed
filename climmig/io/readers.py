"""Readers for gridded data (NetCDF, Zarr, GeoTIFF/raster), tables (CSV) and boundaries (vector files).

Gridded readers return lazy, dask-backed objects. Chunking policy: keep ``time`` (and ``year``) whole and
chunk in space, because hazard indicators reduce over time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from climmig.io.direct import with_direct_reads

__all__ = ["DEFAULT_SPATIAL_CHUNK", "DEFAULT_ZARR_PREFETCH", "open_netcdf", "open_raster", "open_zarr", "read_table",
           "read_vector", "sha256_file"]

DEFAULT_SPATIAL_CHUNK = 512
#: Chunk files hinted ahead of the reads by :func:`open_zarr` (measured best at 4-8 for 28 MB chunks).
DEFAULT_ZARR_PREFETCH = 4


def sha256_file(path: str | Path, block: int = 1 << 20) -> str:
    """SHA-256 of a file, read in blocks (bounded memory).

    Parameters
    ----------
    path : str or Path
        File to hash.
    block : int
        Read size in bytes.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def _default_chunks(ds: xr.Dataset, chunks: Mapping[str, int] | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for dim in ds.dims:
        if dim in ("time", "year"):
            out[str(dim)] = -1
        elif dim in ("lat", "lon", "y", "x"):
            out[str(dim)] = DEFAULT_SPATIAL_CHUNK
    if chunks:
        out.update({k: v for k, v in chunks.items() if k in ds.dims})
    return out


def open_netcdf(paths: str | Path | Sequence[str | Path], chunks: Mapping[str, int] | None = None,
                **kwargs: Any) -> xr.Dataset:
    """Open one or several NetCDF files lazily (several files are combined by coordinates).

    Parameters
    ----------
    paths : path or sequence of paths
        A file or a list of files (e.g. one per scenario/climate model/decade).
    chunks : mapping, optional
        Chunk sizes overriding the default policy.
    **kwargs
        Passed to :func:`xarray.open_dataset` / :func:`xarray.open_mfdataset`.

    Returns
    -------
    xr.Dataset
        Dask-backed dataset (cftime for non-standard calendars).
    """
    time_coder = xr.coders.CFDatetimeCoder(use_cftime=None)
    if isinstance(paths, str | Path):
        ds = xr.open_dataset(paths, chunks={}, decode_times=time_coder, **kwargs)
    else:
        ds = xr.open_mfdataset([str(p) for p in paths], combine="by_coords", chunks={},
                               decode_times=time_coder, data_vars="all", coords="minimal",
                               compat="override", join="outer", **kwargs)
    return _grid_mappings_as_coords(ds).chunk(_default_chunks(ds, chunks))


def _grid_mappings_as_coords(ds: xr.Dataset) -> xr.Dataset:
    """Make CF grid-mapping variables (``spatial_ref``, ``crs``) coordinates, so the file's CRS is seen.

    xarray leaves them as data variables, where rioxarray does not look: a file in UTM would then pass as
    having no CRS and take the catalog's.
    """
    names = [str(v) for v, var in ds.data_vars.items()
             if var.ndim == 0 and ({"crs_wkt", "spatial_ref", "grid_mapping_name"} & set(var.attrs))]
    return ds.set_coords(names) if names else ds


def open_zarr(path: str | Path, chunks: Mapping[str, int] | None = None, *, direct: bool = True,
              prefetch: int = DEFAULT_ZARR_PREFETCH) -> xr.Dataset:
    """Open a Zarr store lazily, keeping its on-disk chunks unless ``chunks`` is given.

    Parameters
    ----------
    path : str or Path
        The store.
    chunks : mapping, optional
        Chunk sizes.
    direct : bool
        Read the chunks of uncompressed Zarr v3 arrays of a local store straight from their files
        (:mod:`climmig.io.direct`: one ``readinto`` per chunk, no extra copy); other arrays, and all arrays
        when False, are read by zarr-python. The values are the same either way.
    prefetch : int
        With ``direct``: chunk files, per array, that the kernel is asked to start reading ahead of the reads
        (``posix_fadvise(POSIX_FADV_WILLNEED)`` in the direction the reads go; page cache, not process
        memory). 0 disables the hints.

    Returns
    -------
    xr.Dataset
    """
    ds = xr.open_zarr(path, chunks={} if chunks is None else dict(chunks))
    return with_direct_reads(ds, path, prefetch) if direct else ds


def open_raster(path: str | Path, name: str, chunks: Mapping[str, int] | None = None) -> xr.Dataset:
    """Open a GeoTIFF (or any GDAL raster, e.g. ESRI ASCII) lazily with rioxarray.

    Parameters
    ----------
    path : str or Path
        The raster file.
    name : str
        Variable name to give the (single-band) data.
    chunks : mapping, optional
        Chunk sizes for ``y``/``x``.

    Returns
    -------
    xr.Dataset
        One variable with dims ``(y, x)`` (``band`` kept only if there are several), nodata masked as NaN,
        CRS in a ``spatial_ref`` coordinate (if the file has one).
    """
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    spatial = {"x": DEFAULT_SPATIAL_CHUNK, "y": DEFAULT_SPATIAL_CHUNK, "band": 1}
    if chunks:
        spatial.update(chunks)
    da = rioxarray.open_rasterio(path, chunks=spatial, masked=True)
    if "band" in da.dims and da.sizes["band"] == 1:
        da = da.squeeze("band", drop=True)
    attrs = {k: v for k, v in da.attrs.items() if k not in ("_FillValue", "scale_factor", "add_offset")}
    da.attrs = attrs
    return da.to_dataset(name=name)


def read_table(path: str | Path, skiprows: int = 0, header_rows: int = 1,
               columns: Mapping[str, str] | None = None, na_values: Sequence[str] = (),
               keep_default_na: bool = True) -> pd.DataFrame:
    """Read a CSV (or xlsx) table and rename its columns to climmig's standard names.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    skiprows : int
        Lines to skip before the header (World Bank files have 4).
    header_rows : int
        1, or 2 when the second row is an HXL hashtag row (HDX exports); the hashtag row is dropped.
    columns : mapping, optional
        File column name -> standard name.
    na_values : sequence of str
        Extra strings to read as missing.
    keep_default_na : bool
        Whether pandas' default missing markers apply.

    Returns
    -------
    pandas.DataFrame
        Blank cells are NaN (meaning "not reported"), never zero.
    """
    if Path(path).suffix.lower() in (".xlsx", ".xls"):  # e.g. IDMC's GIDD downloads (first sheet)
        df = pd.read_excel(path, sheet_name=0, skiprows=skiprows, na_values=list(na_values),
                           keep_default_na=keep_default_na)
    else:
        df = pd.read_csv(path, skiprows=skiprows, na_values=list(na_values), keep_default_na=keep_default_na,
                         low_memory=False)
    if header_rows == 2 and len(df) and str(df.iloc[0, 0]).startswith("#"):
        df = df.iloc[1:].reset_index(drop=True)
        for col in df.columns:
            converted = pd.to_numeric(df[col], errors="coerce")
            # keep text columns as text: convert only where every non-blank cell is numeric
            if converted.notna().sum() == df[col].notna().sum():
                df[col] = converted
    if columns:
        df = df.rename(columns=dict(columns))
    return df


def read_vector(path: str | Path) -> Any:
    """Read a boundary file (shapefile, GeoJSON, GeoPackage) with geopandas/pyogrio.

    Parameters
    ----------
    path : str or Path
        The vector file.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    import geopandas as gpd

    return gpd.read_file(path, engine="pyogrio")
