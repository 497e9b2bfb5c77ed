"""Read a run config from YAML: the only place that parses config files.

Errors are collected into one :class:`~climmig.errors.ConfigError` with one line per problem, each naming
the YAML path (``hazards -> 1 -> threshold``) and the fix.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from climmig.config.schema import RunConfig
from climmig.errors import ConfigError

__all__ = ["catalog_path", "format_validation_error", "load_config", "parse_config", "referenced_catalog_ids"]

_FIX = {
    "missing": "add this key",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "int_from_float": "write a whole number",
    "float_parsing": "write a number",
    "float_type": "write a number",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write text",
    "list_type": "write a YAML list",
    "dict_type": "write a YAML mapping (key: value)",
    "model_type": "write a YAML mapping (key: value)",
    "too_short": "add entries",
    "greater_than": "use a larger value",
    "greater_than_equal": "use a larger value",
    "less_than": "use a smaller value",
    "less_than_equal": "use a smaller value",
}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """Find the pydantic model inside an annotation such as ``list[HazardSpec] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _fields_at(loc: Iterable[Any]) -> list[str]:
    """Field names of the model found at YAML path ``loc`` (for "did you mean" hints)."""
    model: type[BaseModel] | None = RunConfig
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model = _model_in(field.annotation)
    return list(model.model_fields) if model is not None else []


def _path(loc: Iterable[Any]) -> str:
    parts = [(str(p) if str(p).strip() else repr(p)) for p in loc
             if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    return " -> ".join(parts) if parts else "(top level)"


def format_validation_error(exc: ValidationError) -> list[str]:
    """Turn a pydantic ``ValidationError`` into one readable line per problem.

    Parameters
    ----------
    exc : ValidationError
        The error raised by ``RunConfig.model_validate``.

    Returns
    -------
    list of str
        Lines like ``"hazards -> 1 -> threshold: ... ; write it like '0.5 m'"``.
    """
    lines: list[str] = []
    for err in exc.errors():
        loc = list(err["loc"])
        etype = err["type"]
        if etype == "extra_forbidden":
            key = str(loc[-1])
            known = _fields_at(loc[:-1])
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(known)}"
            lines.append(f"{_path(loc)}: unknown key {key!r}; {hint}")
            continue
        msg = str(err.get("msg", ""))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if msg.startswith("Assertion failed, "):
            msg = msg[len("Assertion failed, "):]
        # model validators encode the exact path as "@a -> b: message" (one per line)
        if "@" in msg and any(line.startswith("@") for line in msg.splitlines()):
            for line in msg.splitlines():
                if line.startswith("@"):
                    path, _, rest = line[1:].partition(": ")
                    lines.append(f"{path}: {rest}")
                elif line.strip():
                    lines.append(f"{_path(loc)}: {line}")
            continue
        if etype == "literal_error":
            got = err.get("input")
            expected = str(err.get("ctx", {}).get("expected", ""))
            options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",")]
            close = difflib.get_close_matches(str(got), options, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            lines.append(f"{_path(loc)}: {got!r} is not allowed{hint}; use one of {expected}")
            continue
        fix = _FIX.get(etype)
        got = err.get("input")
        shown = ("" if etype in ("missing", "value_error", "assertion_error") or isinstance(got, dict | list)
                 else f" (got {got!r})")
        lines.append(f"{_path(loc)}: {msg}{shown}" + (f"; {fix}" if fix else ""))
    return lines


def parse_config(data: Any, source: str | None = None) -> RunConfig:
    """Validate already-parsed YAML data into a :class:`RunConfig`.

    Parameters
    ----------
    data : Any
        Output of ``yaml.safe_load``.
    source : str, optional
        File name for messages.

    Returns
    -------
    RunConfig

    Raises
    ------
    ConfigError
        With one line per problem.
    """
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError([f"(top level): the file is {kind}; a config is a YAML mapping with run_id, seed, ..."],
                          source)
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise ConfigError([f"(top level): key {k!r} is not text; keys are names like run_id" for k in bad_keys],
                          source)
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc), source) from None


def load_config(path: str | Path, check_catalog: bool = True) -> RunConfig:
    """Load and validate a run config from a YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    check_catalog : bool
        Also check that every catalog id the config names exists in its catalog.

    Returns
    -------
    RunConfig
        The validated, frozen config.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or fails validation.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError([f"file not found: {p.resolve()}; check the path"], str(path))
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"(YAML syntax) {where}: {problem}; fix the indentation or quoting there"],
                          str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError(["(file) is not UTF-8 text; save it as UTF-8"], str(path)) from None
    cfg = parse_config(data, str(path))
    if check_catalog:
        problems = _check_catalog_ids(cfg, p)
        if problems:
            raise ConfigError(problems, str(path))
    return cfg


def catalog_path(cfg: RunConfig, config_file: str | Path) -> Path:
    """The catalog file a config refers to, resolved relative to the config file.

    Parameters
    ----------
    cfg : RunConfig
        Validated config.
    config_file : str or Path
        Where the config was read from.

    Returns
    -------
    Path
        Absolute path of the catalog YAML.
    """
    cat = Path(cfg.catalog)
    if not cat.is_absolute():
        cat = Path(config_file).resolve().parent / cat
    return cat.resolve()


def referenced_catalog_ids(cfg: RunConfig) -> list[tuple[str, str]]:
    """Every catalog id a config names, with the YAML path that names it."""
    refs = [("study_area -> boundaries", cfg.study_area.boundaries)]
    for i, h in enumerate(cfg.hazards):
        refs.append((f"hazards -> {i} -> input", h.input))
        second = h.second_input()
        if second:
            refs.append((f"hazards -> {i} -> params -> {second[0]}", second[1]))
    for i, lv in enumerate(cfg.livelihoods):
        for j, cid in enumerate(lv.inputs()):
            refs.append((f"livelihoods -> {i} -> input" + (f" -> {j}" if isinstance(lv.input, list) else ""), cid))
        if lv.projection:
            refs.append((f"livelihoods -> {i} -> projection", lv.projection))
    refs.append(("mobility -> displacement -> observations", cfg.mobility.displacement.observations))
    for hazard, cid in cfg.mobility.displacement.historical_intensity.items():
        refs.append((f"mobility -> displacement -> historical_intensity -> {hazard}", cid))
    refs.append(("mobility -> migration -> flows", cfg.mobility.migration.flows))
    refs.append(("mobility -> migration -> regimes", cfg.mobility.migration.regimes))
    if cfg.mobility.migration.fit == "laplace":
        refs.append(("mobility -> migration -> stocks", cfg.mobility.migration.stocks))
    if cfg.mobility.migration.internal_flows:
        refs.append(("mobility -> migration -> internal_flows", cfg.mobility.migration.internal_flows))
    return refs


def _check_catalog_ids(cfg: RunConfig, config_file: Path) -> list[str]:
    from climmig.catalog import load_catalog
    from climmig.errors import CatalogError

    cat_file = catalog_path(cfg, config_file)
    try:
        catalog = load_catalog(cat_file)
    except CatalogError as exc:
        return [f"catalog: {exc}"]
    known = catalog.ids()
    out = []
    for where, cid in referenced_catalog_ids(cfg):
        if cid not in known:
            close = difflib.get_close_matches(cid, known, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            out.append(f"{where}: {cid!r} is not in the catalog {cat_file}{hint}; "
                       "add an entry or use `climmig catalog list`")
    return out
