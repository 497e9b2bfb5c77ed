"""File input and output: readers (chunking policy lives here) and atomic, CF-stamped writers."""

from climmig.io.readers import (
    open_netcdf,
    open_raster,
    open_zarr,
    read_table,
    read_vector,
    sha256_file,
)
from climmig.io.writers import atomic_path, write_json, write_netcdf, write_text, write_zarr

__all__ = [
    "atomic_path",
    "open_netcdf",
    "open_raster",
    "open_zarr",
    "read_table",
    "read_vector",
    "sha256_file",
    "write_json",
    "write_netcdf",
    "write_text",
    "write_zarr",
]
