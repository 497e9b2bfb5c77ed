"""Data catalog: validated entries, opened lazily with checksum, CRS and unit checks."""

from climmig.catalog.extend import extend_catalog
from climmig.catalog.resolve import ResolvedCatalog, load_catalog, units_equal
from climmig.catalog.schema import Catalog, CatalogEntry, TableOptions, VariableSpec

__all__ = ["Catalog", "CatalogEntry", "ResolvedCatalog", "TableOptions", "VariableSpec", "extend_catalog",
           "load_catalog", "units_equal"]
