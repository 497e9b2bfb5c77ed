"""Pydantic models of a data catalog (``data_catalog/*.yaml``), in the spirit of intake-esm."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Catalog", "CatalogEntry", "TableOptions", "VariableSpec"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariableSpec(_Frozen):
    """Expected units (and optional CF standard name) of one variable or column."""

    units: str
    standard_name: str | None = None
    long_name: str | None = None


class TableOptions(_Frozen):
    """How to read a CSV table into tidy columns."""

    skiprows: int = Field(default=0, ge=0)
    header_rows: int = Field(default=1, ge=1, le=2, description="2 for HDX files with an HXL hashtag row")
    columns: dict[str, str] = Field(default_factory=dict, description="file column -> standard name")
    na_values: list[str] = Field(default_factory=list)
    keep_default_na: bool = True


class CatalogEntry(_Frozen):
    """One dataset: where it is, how to read it, what it contains and where it comes from."""

    id: str
    title: str
    format: Literal["netcdf", "zarr", "geotiff", "raster", "csv", "shapefile", "geojson"]
    path: str | list[str] = Field(description="file, glob or list, relative to the catalog file")
    variables: dict[str, VariableSpec] = Field(default_factory=dict)
    crs: str | None = None
    time_coverage: str | None = None
    license: str
    citation: str
    source: str
    version: str | None = None
    provenance: str | None = Field(default=None, description="PROVENANCE.md relative to the catalog")
    sha256: dict[str, str] = Field(default_factory=dict, description="file name -> sha256")
    synthetic: bool = False
    chunks: dict[str, int] | None = None
    table: TableOptions | None = None
    dims: dict[str, str] = Field(default_factory=dict, description="file dim -> standard dim (renames)")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"catalog id {v!r} must be 1-64 letters, digits, '.', '_' or '-'")
        return v

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: dict[str, str]) -> dict[str, str]:
        for name, h in v.items():
            if not re.fullmatch(r"[0-9a-f]{64}", h):
                raise ValueError(f"sha256 of {name!r} must be 64 lower-case hex digits")
        return v

    @model_validator(mode="after")
    def _kind(self) -> CatalogEntry:
        if self.format == "csv" and self.table is None:
            object.__setattr__(self, "table", TableOptions())
        return self

    @property
    def kind(self) -> Literal["grid", "table", "vector"]:
        """``grid`` for NetCDF/Zarr/raster, ``table`` for CSV, ``vector`` for boundaries."""
        if self.format in ("csv",):
            return "table"
        if self.format in ("shapefile", "geojson"):
            return "vector"
        return "grid"


class Catalog(_Frozen):
    """A catalog file: a name, a description and its entries."""

    name: str = "climmig catalog"
    description: str = ""
    entries: list[CatalogEntry]

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        ids = [e.id for e in self.entries]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate catalog ids: {sorted(dup)}")
        return self
