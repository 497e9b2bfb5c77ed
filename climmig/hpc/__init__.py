"""Running climmig on clusters: site profiles, SLURM job scripts, resumable chunked runs."""

from climmig.hpc.chunks import ChunkError, chunk_path, chunk_status, merge_chunks, missing_chunks, run_chunk
from climmig.hpc.commands import TASK_ID, chunk_argv, merge_argv, run_argv, shell_command
from climmig.hpc.render import (
    HpcError,
    array_spec,
    chunk_table,
    render_array_job,
    render_dask_job,
    render_merge_job,
)
from climmig.hpc.site import SiteError, SiteProfile, load_site, parse_site

__all__ = [
    "TASK_ID",
    "ChunkError",
    "HpcError",
    "SiteError",
    "SiteProfile",
    "array_spec",
    "chunk_argv",
    "chunk_path",
    "chunk_status",
    "chunk_table",
    "load_site",
    "merge_argv",
    "merge_chunks",
    "missing_chunks",
    "parse_site",
    "render_array_job",
    "render_dask_job",
    "render_merge_job",
    "run_argv",
    "run_chunk",
    "shell_command",
]
