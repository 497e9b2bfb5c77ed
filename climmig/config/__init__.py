"""Run configuration: pydantic schema and the YAML loader."""

from climmig.config.load import (
    catalog_path,
    format_validation_error,
    load_config,
    parse_config,
    referenced_catalog_ids,
)
from climmig.config.schema import RunConfig, science_hash

__all__ = ["RunConfig", "catalog_path", "format_validation_error", "load_config", "parse_config",
           "referenced_catalog_ids",
           "science_hash"]
