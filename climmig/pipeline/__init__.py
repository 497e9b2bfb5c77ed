"""Wire the stages of a run together: checkpointed, resumable, with a manifest.

``climmig.pipeline.runner`` holds the generic checkpoint machinery; ``climmig.pipeline.stages`` the
concrete stages of a climmig run.
"""

from climmig.pipeline.runner import (
    Stage,
    StageResult,
    execute,
    read_record,
    record_path,
    stage_is_current,
    stage_seed,
    stage_summary,
)

__all__ = ["Stage", "StageResult", "execute", "read_record", "record_path", "stage_is_current", "stage_seed",
           "stage_summary"]
