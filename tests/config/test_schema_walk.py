"""Every field of the run config is read by the code that runs, or it is not in the schema.

A field that validates but that no code reads is an option a user can set with no effect (a config option
that never reaches the run). The walk collects every field of :class:`RunConfig`, through nested models,
lists, dicts and optionals, and looks for its name among the attribute names, keyword arguments and string
constants of the package outside the schema itself (``config/schema.py`` and the ``config/schema_*.py``
modules that define the sections' models).
"""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path

from pydantic import BaseModel

import climmig
from climmig.config.schema import RunConfig

PACKAGE = Path(climmig.__file__).parent
CONFIG = PACKAGE / "config"
#: the schema's own modules: their validators read fields, which is not the run reading them
SCHEMA = sorted(CONFIG.glob("schema*.py"))


def _models_in(tp: object) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for arg in typing.get_args(tp) for m in _models_in(arg)]


def _models_reached(model: type[BaseModel], seen: frozenset = frozenset()) -> set[type[BaseModel]]:
    out = {model}
    for field in model.model_fields.values():
        for sub in _models_in(field.annotation):
            if sub not in seen:
                out |= _models_reached(sub, seen | {sub})
    return out


def _fields(model: type[BaseModel], prefix: str = "", seen: frozenset = frozenset()) -> list[tuple[str, str]]:
    out = []
    for name, field in model.model_fields.items():
        out.append((f"{prefix}{name}", name))
        for sub in _models_in(field.annotation):
            if sub not in seen:
                out += _fields(sub, f"{prefix}{name}.", seen | {sub})
    return out


def _names_read(files: list[Path]) -> set[str]:
    names: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.keyword) and node.arg:
                names.add(node.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
    return names


def test_every_config_field_is_read_outside_the_schema() -> None:
    fields = _fields(RunConfig)
    assert len(fields) > 150  # the walk reaches the nested sections
    read = _names_read([p for p in PACKAGE.rglob("*.py") if p not in SCHEMA])
    unread = [path for path, name in fields if name not in read]
    assert not unread, f"config fields no code reads (wire them into the run or remove them): {unread}"


def test_the_excluded_files_are_the_whole_schema() -> None:
    # every model the walk reaches, and every base class they share, is defined in a file left out above;
    # a model defined anywhere else would have its own validators counted as code that reads its fields
    defined = {Path(inspect.getsourcefile(c)) for m in _models_reached(RunConfig) for c in m.__mro__
               if c.__module__.startswith("climmig.")}
    assert CONFIG / "schema.py" in defined
    assert defined == set(SCHEMA), (f"schema files {sorted(p.name for p in SCHEMA)}, models defined in "
                                    f"{sorted(p.name for p in defined)}")


def test_the_walk_finds_a_field_no_code_reads() -> None:
    # negative control: the same walk over a model with a field named like nothing in the package
    class Section(BaseModel):
        zones_nobody_reads_xq: int = 4

    class Config(BaseModel):
        section: Section | None = None

    paths = [p for p, name in _fields(Config) if name not in _names_read([CONFIG / "load.py"])]
    assert paths == ["section", "section.zones_nobody_reads_xq"]
