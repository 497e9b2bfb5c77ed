"""Which config fields a run reads, by full path and stage (for the schema-walk tests).

:class:`ReadTrace` records, while it is installed, every read of a field of the run config's models
(``cfg.mobility.sampler.draws`` is recorded as ``mobility.sampler.draws``) and the stage that read it. It
works by wrapping ``__getattribute__`` of the schema's common base class, so it sees reads in this process
only: a traced run must keep every stage in-process (``compute.background_stages: false``). Reads through
``model_dump`` (hashing a section, passing it on whole) are not attribute reads and are not recorded; a
field read only that way reaches no computation by name.

Models the code builds or copies (``model_copy``) are not at a path of the run's config; their reads are
recorded under the path of their class when it occurs at one path of the config, else as ``?ClassName.field``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from climmig.config.schema_types import _Frozen

__all__ = ["ReadTrace", "model_paths", "schema_path"]


def schema_path(path: str) -> str:
    """A config path without list indices and dict keys (``hazards[0].input`` -> ``hazards.input``)."""
    return re.sub(r"\[[^\]]*\]", "", path)


def model_paths(model: BaseModel, prefix: str = "") -> dict[int, tuple[str, BaseModel]]:
    """``id(submodel) -> (dotted path, submodel)`` of every model reachable from ``model`` (lists and dicts
    included)."""
    out = {id(model): (prefix.rstrip("."), model)}

    def visit(value: Any, path: str) -> None:
        if isinstance(value, BaseModel):
            out.update(model_paths(value, path + "."))
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                visit(v, f"{path}[{i}]")
        elif isinstance(value, dict):
            for k, v in value.items():
                visit(v, f"{path}[{k}]")

    for name in type(model).model_fields:
        visit(getattr(model, name), f"{prefix}{name}")
    return out


class ReadTrace:
    """Record field reads of a config's models, per stage, while installed."""

    def __init__(self) -> None:
        self.paths: dict[int, str] = {}
        self.class_paths: dict[str, set[str]] = defaultdict(set)
        self.reads: dict[str, set[str]] = defaultdict(set)  # field path -> stages
        self.stage = "(outside a stage)"
        self._watching = False

    def watch(self, cfg: BaseModel) -> None:
        """Add the models of ``cfg`` (call for each config object the run builds)."""
        self._watching = True  # the walk's own reads are not the run's
        try:
            for i, (path, obj) in model_paths(cfg).items():
                self.paths[i] = path
                self.class_paths[type(obj).__name__].add(schema_path(path))
        finally:
            self._watching = False

    def record(self, obj: BaseModel, name: str) -> None:
        """Note that ``obj.name`` was read in the current stage."""
        if self._watching:
            return
        path = self.paths.get(id(obj))
        if path is None:  # a copy, or a model the code built: known if its class is at one path only
            at = self.class_paths.get(type(obj).__name__, set())
            path = next(iter(at)) if len(at) == 1 else f"?{type(obj).__name__}"
        key = f"{path}.{name}" if path else name
        self.reads[key].add(self.stage)

    @contextmanager
    def installed(self) -> Iterator[ReadTrace]:
        """Wrap the schema base class's attribute lookup and the stage functions while the block runs."""
        import climmig.pipeline.context as context_mod
        import climmig.pipeline.run as run_mod

        trace = self
        original_get = _Frozen.__getattribute__
        original_build = run_mod.build_stages
        original_context = run_mod.make_context
        original_load = run_mod.load_config
        original_context_load = context_mod.load_config

        def getattribute(obj: Any, name: str) -> Any:
            value = original_get(obj, name)
            if not name.startswith("_") and name in type(obj).model_fields:
                trace.record(obj, name)
            return value

        def wrap(stage: Any) -> Any:
            func = stage.func

            def traced(ctx: Any) -> Any:
                trace.watch(ctx.cfg)
                before, trace.stage = trace.stage, stage.name
                try:
                    return func(ctx)
                finally:
                    trace.stage = before

            return replace(stage, func=traced)

        def build_stages(*args: Any, **kwargs: Any) -> Any:
            return [wrap(s) for s in original_build(*args, **kwargs)]

        def load_config(*args: Any, **kwargs: Any) -> Any:
            cfg = original_load(*args, **kwargs)
            trace.watch(cfg)
            return cfg

        def make_context(*args: Any, **kwargs: Any) -> Any:
            ctx = original_context(*args, **kwargs)
            trace.watch(ctx.cfg)
            return ctx

        _Frozen.__getattribute__ = getattribute  # type: ignore[method-assign]
        run_mod.build_stages = build_stages
        run_mod.make_context = make_context
        run_mod.load_config = load_config
        context_mod.load_config = load_config
        try:
            yield self
        finally:
            _Frozen.__getattribute__ = original_get  # type: ignore[method-assign]
            run_mod.build_stages = original_build
            run_mod.make_context = original_context
            run_mod.load_config = original_load
            context_mod.load_config = original_context_load

    def save(self, path: Path) -> None:
        """Write the reads as JSON (``field path -> sorted stages``)."""
        path.write_text(json.dumps({k: sorted(v) for k, v in sorted(self.reads.items())}, indent=1))
