"""Data catalog: validated entries, opened lazily with checksum, CRS and unit checks."""

from climmig.catalog.resolve import ResolvedCatalog, load_catalog, units_equal
from climmig.catalog.schema import Catalog, CatalogEntry, TableOptions, VariableSpec

__all__ = ["Catalog", "CatalogEntry", "ResolvedCatalog", "TableOptions", "VariableSpec", "load_catalog",
           "units_equal"]
