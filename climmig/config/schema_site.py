"""Config models of the site settings: where the work runs and where a run writes.

Neither is part of the science hash (:func:`climmig.config.schema.science_hash`): they change how and where
a run executes, not what it computes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from climmig.config.schema_types import SafeId, _Frozen

__all__ = ["ComputeSpec", "OutputSpec"]

#: Marks a field that changes how a run executes, not its results (the schema-walk tests skip it).
_SITE = {"affects_outputs": False}


class ComputeSpec(_Frozen):
    """Where the work runs (site settings; not part of the science hash)."""

    backend: Literal["threads", "local", "scheduler", "slurm"] = Field(
        default="threads", json_schema_extra=_SITE, description="where dask runs the gridded work")
    n_workers: int = Field(default=2, ge=1, le=10_000, json_schema_extra=_SITE)
    threads_per_worker: int = Field(default=1, ge=1, le=256, json_schema_extra=_SITE)
    memory_limit: str = "4GiB"
    scheduler_address: str | None = None
    site: SafeId | None = None
    chunks: dict[str, int] = Field(default_factory=lambda: {"lat": 256, "lon": 256})
    background_stages: bool = Field(default=True, json_schema_extra=_SITE, description=(
        "run the exposure and the migration fit in a second process while the displacement fit compiles and "
        "samples (compilation is single-threaded, so on 2 cores the stages overlap); false runs every stage "
        "in turn in one process"))
    fit_cache: str = Field(default="auto", json_schema_extra=_SITE, description=(
        "where fits are kept for reuse by later runs of a model with the same signature, in any output folder "
        "(climmig.mobility.fit_cache): 'auto' ($XDG_CACHE_HOME/climmig/fits or ~/.cache/climmig/fits), 'off', "
        "or a directory; the environment variable CLIMMIG_FIT_CACHE overrides it"))

    @field_validator("fit_cache")
    @classmethod
    def _cache_setting(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty; write 'auto' (~/.cache/climmig/fits), 'off', or a directory")
        return value

    @model_validator(mode="after")
    def _needs(self) -> ComputeSpec:
        if self.backend == "scheduler" and not self.scheduler_address:
            raise ValueError("backend 'scheduler' needs `scheduler_address`, e.g. 'tcp://10.0.0.1:8786'")
        if self.backend == "slurm" and not self.site:
            raise ValueError("backend 'slurm' needs `site`, the name of a profile in climmig/data/hpc/sites/")
        return self


class OutputSpec(_Frozen):
    """Where a run writes (not part of the science hash). Every run writes the same files (README lists them)."""

    run_dir: str = "runs/${run_id}"
