"""Config parameters named by dotted paths: list them, read them, and set them in a new validated config.

A path walks a :class:`~climmig.config.schema.RunConfig` from the top: mapping keys by name
(``comparison.discount_rate``, ``...priors.exposure_elasticity.params.sigma``) and list items by their
``name`` or ``id`` field (``hazards.flood.threshold`` is the ``threshold`` of the hazard named ``flood``;
``interventions.early_warning.effect.params.alpha``). Lists without names are indexed by position
(``projection.quantiles.0``).

A leaf is either a number or a quantity text such as ``"0.5 m"``; for quantities the number is replaced and
the unit text kept, so sampled values are always in the units the config writes. ``compute`` and
``outputs`` are not science and cannot be varied.
"""

from __future__ import annotations

import difflib
import functools
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from climmig.config.load import format_validation_error
from climmig.config.schema import RunConfig
from climmig.sensitivity.problem import SensitivityError, SensitivityProblem, support

__all__ = ["apply_parameters", "config_evaluator", "current_values", "get_value", "numeric_paths",
           "validate_problem"]

logger = logging.getLogger(__name__)

_NOT_SCIENCE = ("compute", "outputs")
_ITEM_KEYS = ("name", "id")

Loc = list[str | int]


def _item_label(item: Any) -> str | None:
    if isinstance(item, Mapping):
        for k in _ITEM_KEYS:
            if isinstance(item.get(k), str):
                return item[k]
    return None


def _children(node: Any) -> list[tuple[str, str | int]]:
    """(path segment, key or index) of each child of a dumped config node."""
    if isinstance(node, Mapping):
        return [(str(k), k) for k in node]
    if isinstance(node, list):
        out: list[tuple[str, str | int]] = []
        for i, item in enumerate(node):
            label = _item_label(item)
            out.append((label if label is not None else str(i), i))
        return out
    return []


def _quantity(text: str) -> tuple[float, str] | None:
    """Split ``"0.5 m"`` into ``(0.5, "m")``; None if the text does not start with a number."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return None
    try:
        value = float(parts[0])
    except ValueError:
        return None
    return value, parts[1] if len(parts) > 1 else ""


def _is_numeric_leaf(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and _quantity(value) is not None


def _walk(node: Any, prefix: str) -> Iterator[str]:
    for seg, key in _children(node):
        child = node[key]
        path = f"{prefix}.{seg}" if prefix else seg
        if _is_numeric_leaf(child):
            yield path
        else:
            yield from _walk(child, path)


def _dump(cfg: RunConfig) -> dict[str, Any]:
    return cfg.model_dump(mode="json")


def numeric_paths(cfg: RunConfig) -> list[str]:
    """Every path of a config that can be varied (numbers and quantities outside ``compute``/``outputs``).

    Parameters
    ----------
    cfg : RunConfig
        Validated config.

    Returns
    -------
    list of str
        Dotted paths in config order.
    """
    data = _dump(cfg)
    for k in _NOT_SCIENCE:
        data.pop(k, None)
    return list(_walk(data, ""))


def _suggest(path: str, cfg: RunConfig | None, data: Mapping[str, Any]) -> str:
    candidates = numeric_paths(cfg) if cfg is not None else list(_walk(data, ""))
    close = difflib.get_close_matches(path, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _locate(data: dict[str, Any], path: str, cfg: RunConfig | None = None) -> tuple[Loc, Any]:
    """Find a path in dumped config data; return the concrete keys/indices and the leaf value."""
    segs = path.split(".")
    if segs[0] in _NOT_SCIENCE:
        raise SensitivityError(f"{path}: `{segs[0]}` settings say where a run goes, not what it computes; "
                               "they cannot be varied")
    node: Any = data
    loc: Loc = []
    i = 0
    while i < len(segs):
        kids = _children(node)
        done = ".".join(segs[:i]) or "the config"
        if not kids:
            if isinstance(node, Mapping | list):
                raise SensitivityError(f"{path}: {done!r} is empty in this config; add the entry there "
                                       "(e.g. write out the prior) to vary it")
            raise SensitivityError(f"{path}: {done!r} is a value, not a section; the path stops there"
                                   f"{_suggest(path, cfg, data)}")
        by_seg = {seg: key for seg, key in kids}
        # names may contain dots: try the longest run of segments that names a child
        for j in range(len(segs), i, -1):
            seg = ".".join(segs[i:j])
            if seg in by_seg:
                key = by_seg[seg]
                node = node[key]
                loc.append(key)
                i = j
                break
        else:
            options = list(by_seg)
            close = difflib.get_close_matches(segs[i], options, n=1, cutoff=0.5)
            if close:
                hint = f"; did you mean {close[0]!r}?"
            else:
                hint = _suggest(path, cfg, data) or f"; choose one of {', '.join(options)}"
            raise SensitivityError(f"{path}: {done} has no {segs[i]!r}{hint}")
    if not _is_numeric_leaf(node):
        kind = "a section" if isinstance(node, Mapping | list) else f"{node!r}, not a number"
        raise SensitivityError(f"{path}: this is {kind}; a parameter must be a number or a quantity such as "
                               f"'0.5 m'{_suggest(path, cfg, data)}")
    return loc, node


def _leaf_value(leaf: Any) -> float:
    if isinstance(leaf, str):
        q = _quantity(leaf)
        assert q is not None
        return q[0]
    return float(leaf)


def _format_number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _new_leaf(leaf: Any, value: float) -> Any:
    if _leaf_value(leaf) == value:
        return leaf  # keep the exact original text/type
    if isinstance(leaf, str):
        _, unit = _quantity(leaf)  # type: ignore[misc]
        return f"{_format_number(value)} {unit}".strip()
    if isinstance(leaf, int):
        return int(round(value))
    return value


def get_value(cfg: RunConfig, path: str) -> float:
    """The current numeric value at ``path`` (the number of a quantity, in the config's units).

    Parameters
    ----------
    cfg : RunConfig
        Validated config.
    path : str
        Dotted path.

    Returns
    -------
    float

    Raises
    ------
    SensitivityError
        If the path does not name a number in the config.
    """
    _, leaf = _locate(_dump(cfg), path, cfg)
    return _leaf_value(leaf)


def current_values(cfg: RunConfig, paths: list[str]) -> dict[str, float]:
    """Current values of several paths (see :func:`get_value`).

    Parameters
    ----------
    cfg : RunConfig
        Validated config.
    paths : list of str
        Dotted paths.

    Returns
    -------
    dict of str to float
    """
    return {p: get_value(cfg, p) for p in paths}


def apply_parameters(cfg: RunConfig, values: Mapping[str, float]) -> RunConfig:
    """Return a new validated config with the given parameters set; ``cfg`` is not changed.

    Quantities keep their unit text (``"0.5 m"`` set to 0.8 becomes ``"0.8 m"``); integer fields are rounded
    to the nearest integer; a value equal to the current one leaves the field exactly as it was.

    Parameters
    ----------
    cfg : RunConfig
        Validated config.
    values : mapping of str to float
        Path to new value (in the units the config writes).

    Returns
    -------
    RunConfig
        A new config, validated by :class:`RunConfig`.

    Raises
    ------
    SensitivityError
        If a path does not exist, a value is not finite, or the new config is invalid.
    """
    data = _dump(cfg)
    for path, value in values.items():
        v = float(value)
        if not math.isfinite(v):
            raise SensitivityError(f"{path}: value {value!r} is not a finite number")
        loc, leaf = _locate(data, path, cfg)
        parent: Any = data
        for key in loc[:-1]:
            parent = parent[key]
        parent[loc[-1]] = _new_leaf(leaf, v)
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        shown = ", ".join(f"{p}={float(v):.6g}" for p, v in values.items())
        lines = "\n".join(f"  - {e}" for e in format_validation_error(exc))
        raise SensitivityError(f"parameter values {shown} make the config invalid:\n{lines}") from None


def _units_problem(path: str, leaf: Any, units: str) -> str | None:
    from climmig.units import parse_quantity

    if not isinstance(leaf, str):
        return None  # plain number: units only label it
    _, unit = _quantity(leaf)  # type: ignore[misc]
    try:
        same = parse_quantity(f"1 {unit}" if unit else 1) == parse_quantity(f"1 {units}")
    except ValueError as exc:
        return f"{path}: units {units!r} are not understood ({exc})"
    if not same:
        return (f"{path}: the config writes this in {unit or 'no units'!r} but the problem gives {units!r}; "
                f"give the range in {unit!r} (sampled values replace the number and keep the config's unit)")
    return None


def validate_problem(problem: SensitivityProblem, cfg: RunConfig) -> None:
    """Check a problem against a config before any evaluation.

    Every path must name a number or quantity in ``cfg``; declared units must match the config's; and each
    parameter set alone to either end of its range (or its 0.01 %/99.99 % quantiles if unbounded) must still
    give a valid config.

    Parameters
    ----------
    problem : SensitivityProblem
        Validated problem.
    cfg : RunConfig
        The config it varies.

    Raises
    ------
    SensitivityError
        Listing every problem, one per line.
    """
    data = _dump(cfg)
    problems: list[str] = []
    for spec in problem.parameters:
        try:
            _, leaf = _locate(data, spec.path, cfg)
        except SensitivityError as exc:
            problems.append(str(exc))
            continue
        if spec.units is not None:
            msg = _units_problem(spec.path, leaf, spec.units)
            if msg:
                problems.append(msg)
                continue
        if isinstance(leaf, int) and not isinstance(leaf, bool):
            logger.info("%s is an integer field: sampled values are rounded", spec.path)
        lo, hi = support(spec)
        for end, value in (("lower", lo), ("upper", hi)):
            try:
                apply_parameters(cfg, {spec.path: value})
            except SensitivityError as exc:
                detail = str(exc).split("\n", 1)[-1].strip().removeprefix("- ")
                problems.append(f"{spec.path}: the {end} end of its range ({value:.6g}) makes the config "
                                f"invalid: {detail}")
    if problems:
        raise SensitivityError(f"the sensitivity problem does not fit config {cfg.run_id!r}:\n"
                               + "\n".join(f"  - {p}" for p in problems))


def _evaluate_config(cfg: RunConfig, compute: Callable[[RunConfig], Any], values: dict[str, float]) -> Any:
    return compute(apply_parameters(cfg, values))


def config_evaluator(cfg: RunConfig, compute: Callable[[RunConfig], Any]) -> Callable[[dict[str, float]], Any]:
    """An evaluator for :func:`~climmig.sensitivity.run.run_sensitivity` that varies ``cfg``.

    Each call applies the sampled values with :func:`apply_parameters` and passes the new config to
    ``compute``, which returns the outputs (an ``xr.Dataset`` or a mapping of names to numbers/DataArrays).
    The result pickles when ``compute`` does (for ``distributed`` clients).

    Parameters
    ----------
    cfg : RunConfig
        The config being varied.
    compute : callable
        ``compute(new_cfg) -> outputs``; should reuse cached layers and fitted posteriors and use the
        config's seed, so that evaluations differ only through the parameters.

    Returns
    -------
    callable
        ``evaluate(values) -> outputs``.
    """
    return functools.partial(_evaluate_config, cfg, compute)
