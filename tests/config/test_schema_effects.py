"""Every config option reaches the run: read by a stage, and changing it changes an output.

Two walks over :class:`~climmig.config.schema.RunConfig`, on the reduced demo that the test session runs once
(``small_demo_run``, traced by :class:`tests.config.trace.ReadTrace`):

* **reach**: every field, by full path (``mobility.sampler.draws``, not only the name ``draws``), is read by a
  stage of the run, or is listed in :data:`NOT_READ_BY_THE_DEMO` with the mode that reads it;
* **effect**: for every numeric or choice field, a changed value (:func:`changed_values`) changes the content
  of some output of a stage that reads it (the cheapest such stage is rerun in a copy of the run directory,
  with the changed config), or the schema documents the field as not affecting outputs
  (``json_schema_extra={"affects_outputs": False}``), or the field is listed in :data:`EFFECT_TESTED_ELSEWHERE`
  with the test that shows its effect (fields whose only reader is a sampler: a refit per field would take
  minutes).

The effect walk reruns a stage per field (about 6 minutes on 2 cores), too long for the default run next to the
rest of the suite; it runs with ``pytest --walk tests/config/test_schema_effects.py``. The reach walk runs by
default.
"""

from __future__ import annotations

import enum
import json
import shutil
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from pydantic import BaseModel, ValidationError

from climmig.config.schema import RunConfig

#: Fields the reduced demo does not read, and where they are read instead.
NOT_READ_BY_THE_DEMO: dict[str, str] = {
    "description": "free text for the reader of the config; not part of the science hash",
    "study_area.bbox": "the demo names countries; exposure/build.py reads the box when no countries are given "
                       "(tests/reliability/test_bad_data.py::test_empty_study_area_is_a_clear_error)",
    "study_area.bbox.west": "as study_area.bbox",
    "study_area.bbox.south": "as study_area.bbox",
    "study_area.bbox.east": "as study_area.bbox",
    "study_area.bbox.north": "as study_area.bbox",
    "mobility.displacement.priors.dist": "the demo overrides no displacement prior; a configured prior reaches "
                                         "the model in tests/mobility/test_displacement.py::"
                                         "test_zero_sum_effects_and_config_overrides",
    "mobility.displacement.priors.params": "as mobility.displacement.priors.dist",
    "mobility.displacement.priors.source": "as mobility.displacement.priors.dist",
    "mobility.migration.priors": "read by the single-period migration model (`fit: nuts`); the demo fits the "
                                 "all-country gravity model (`fit: laplace`)",
    "mobility.migration.priors.dist": "as mobility.migration.priors",
    "mobility.migration.priors.params": "as mobility.migration.priors",
    "mobility.migration.priors.source": "as mobility.migration.priors",
    "mobility.migration.internal_priors.dist": "the demo overrides no internal-migration prior; a changed one refuses "
                                                "the saved fit in tests/mobility/test_lifecycle.py",
    "mobility.migration.internal_priors.params": "as mobility.migration.internal_priors.dist",
    "mobility.migration.internal_priors.source": "as mobility.migration.internal_priors.dist",
    "mobility.migration.sampler": "the sampler of the single-period migration model (`fit: nuts`)",
    "mobility.migration.sampler.backend": "as mobility.migration.sampler",
    "mobility.migration.sampler.draws": "as mobility.migration.sampler",
    "mobility.migration.sampler.tune": "as mobility.migration.sampler",
    "mobility.migration.sampler.chains": "as mobility.migration.sampler",
    "mobility.migration.sampler.cores": "as mobility.migration.sampler",
    "mobility.migration.sampler.target_accept": "as mobility.migration.sampler",
    "mobility.migration.sampler.mass_matrix": "as mobility.migration.sampler",
    "mobility.migration.sampler.max_tree_depth": "as mobility.migration.sampler",
    "interventions.cost.fixed_cost.dist": "no demo option gives its fixed cost as a distribution",
    "interventions.cost.fixed_cost.params": "as interventions.cost.fixed_cost.dist",
    "interventions.cost.fixed_cost.source": "as interventions.cost.fixed_cost.dist",
    "interventions.cost.source": "the fallback source of a cost part given as a plain number or as a "
                                 "distribution without its own; every non-zero cost part of the demo's options "
                                 "has its own (tests/interventions/test_decision.py reads it)",
    "compute.memory_limit": "read when compute.backend is local or slurm (tests/hpc/test_compute.py)",
    "compute.scheduler_address": "read when compute.backend is address (tests/hpc/test_compute.py)",
    "compute.site": "read when compute.backend is slurm (tests/hpc/test_site.py)",
}

#: Fields whose only reader in the demo is a sampler (or a fit that a changed value redoes), with the test
#: that shows a changed value changes what is fitted.
EFFECT_TESTED_ELSEWHERE: dict[str, str] = {
    **{f"mobility.sampler.{k}": "tests/mobility/test_fit.py::test_every_sampler_field_reaches_the_sampler"
       for k in ("backend", "draws", "tune", "chains", "target_accept", "mass_matrix", "max_tree_depth")},
    "mobility.displacement.parameterization": "tests/mobility/test_displacement.py::test_parameterization_rule "
                                              "(the option forces the centred or non-centred form)",
}

#: Values to try first for a field (where the demo leaves it unset, or where a small change shows nothing:
#: a threshold the reduced demo's fit is far from, a coverage share its inputs pass either way).
VALUES_TO_TRY: dict[str, list[Any]] = {
    "comparison.budget": [5.0e6],
    "interventions.min_hazard": [0.5, 5.0],
    "interventions.cost_share": [0.5],
    "livelihoods.min_coverage": [1.0, 0.05],
    "mobility.gate.ess_min": [10.0, 1.0],
    "mobility.gate.r_hat_max": [1.5],
    "mobility.gate.max_divergences": [10_000],
}

#: Fields that every element of a list must share (a change applies to all of them at once).
ALL_AT_ONCE = {"interventions.cost.currency", "interventions.cost.price_year"}

#: Fields whose changed value makes the stage refuse to run, which is their effect (the message it must give).
REFUSALS: dict[str, str] = {"mobility.gate.allow_unconverged": "refusing to project"}

#: Choice fields that identify an entry rather than tune it: each allowed value is used once in the demo (or
#: another value needs other fields), so no one-field change validates; what each value does is tested
#: where it is implemented.
KEYS: dict[str, str] = {
    "livelihoods.name": "which layer the entry is; the demo lists each of the four once",
    "interventions.kind": "the option's mechanism; another kind needs other fields (tests/interventions/)",
    "period.projection.end": "the demo's last horizon and its SSP table both end in 2100, so a later end has "
                             "no drivers and an earlier one cuts a horizon; the exposure over other periods "
                             "is tested in tests/exposure/",
    "hazards.source": "each demo hazard has one source that serves it (warming-level pattern scaling); the "
                      "other sources are tested in tests/hazards/test_recipes.py and test_emulator.py",
    "livelihoods.ssp_fallback": "used only for a country the ssp_model lacks; the demo's models have every "
                                "study country (tests/livelihoods/test_ssp_fallback.py)",
}

#: Stage cost order (cheapest first), for choosing which reading stage to rerun.
STAGE_ORDER = ["inputs", "projection", "interventions", "report", "exposure", "fit_migration", "fit_displacement"]


def _unwrap(tp: Any) -> list[Any]:
    if typing.get_origin(tp) is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(tp) if a is not type(None) for t in _unwrap(a)]
    return [tp]


def _kind(tp: Any) -> str | None:
    """``bool``, ``choice``, ``int`` or ``float`` for a numeric or choice annotation, else None."""
    kinds = set()
    for t in _unwrap(tp):
        if typing.get_origin(t) is typing.Literal or (isinstance(t, type) and issubclass(t, enum.Enum)):
            kinds.add("choice")
        elif t is bool:
            kinds.add("bool")
        elif t in (int, float):
            kinds.add(t.__name__)
    return "float" if kinds == {"int", "float"} else (kinds.pop() if len(kinds) == 1 else None)


def _choices(tp: Any) -> list[Any]:
    out: list[Any] = []
    for t in _unwrap(tp):
        if typing.get_origin(t) is typing.Literal:
            out += list(typing.get_args(t))
        elif isinstance(t, type) and issubclass(t, enum.Enum):
            out += [m.value for m in t]
    return out


def _submodels(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for a in typing.get_args(tp) for m in _submodels(a)]


def schema_fields(model: type[BaseModel] = RunConfig, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """``(path, annotation, FieldInfo)`` of every field reachable from ``model``."""
    for name, info in model.model_fields.items():
        yield f"{prefix}{name}", info.annotation, info
        for sub in _submodels(info.annotation):
            yield from schema_fields(sub, f"{prefix}{name}.")


def affects_outputs(info: Any) -> bool:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return bool(extra.get("affects_outputs", True))


NUMERIC_OR_CHOICE = [(p, tp) for p, tp, info in schema_fields() if _kind(tp) and affects_outputs(info)]


def changed_values(path: str, tp: Any, value: Any) -> list[Any]:
    """Values to try in place of ``value``, in order of preference."""
    kind = _kind(tp)
    first = [v for v in VALUES_TO_TRY.get(path, []) if v != value]
    if value is None:
        return first
    if isinstance(value, (dict, list)):  # a distribution or list where a number may also go: not this slot
        return []
    if kind == "bool":
        return [not value]
    return first + _nearby(kind, tp, value)


def _nearby(kind: str | None, tp: Any, value: Any) -> list[Any]:
    if kind == "bool":
        return [not value]
    if kind == "choice":
        return [c for c in _choices(tp) if c != value]
    if kind == "int":
        return [value + 1, value - 1, value + 5]
    return [value * 1.25 if value else 0.1, value * 0.8 if value else 0.5, value + 0.01]


def _slots(data: Any, parts: list[str]) -> Iterator[tuple[Any, str]]:
    """``(container, key)`` of every place ``parts`` names in a config dict (through lists and dict values)."""
    if not parts or data is None:
        return
    head, rest = parts[0], parts[1:]
    if isinstance(data, list):
        for item in data:
            yield from _slots(item, parts)
        return
    if not isinstance(data, dict) or head not in data:
        return
    if not rest:
        yield data, head
        return
    child = data[head]
    if isinstance(child, dict) and rest[0] not in child and all(isinstance(v, dict) for v in child.values()):
        for v in child.values():  # a dict of models (priors): its keys are names, not fields
            yield from _slots(v, rest)
    else:
        yield from _slots(child, rest)


def _other_distribution(spec: dict) -> list[dict]:
    """The same quantity as a fixed value if it is a distribution, or as a spread one if it is fixed."""
    centre = next(iter(spec["params"].values()))
    if spec["dist"] != "Fixed":
        return [{**spec, "dist": "Fixed", "params": {"value": centre}}]
    return [{**spec, "dist": "Normal", "params": {"mu": centre, "sigma": 0.2 * abs(centre) + 1e-3}}]


def _validated(base: dict, slots: list[tuple[Any, Any]], new: Any) -> RunConfig | None:
    """``base`` validated with ``new`` in every one of ``slots`` (restored afterwards), or None if invalid."""
    olds = [c[k] for c, k in slots]
    for c, k in slots:
        c[k] = new
    try:
        return RunConfig.model_validate(base)
    except ValidationError:
        return None
    finally:
        for (c, k), old in zip(slots, olds, strict=True):
            c[k] = old


def changed_configs(base: dict, path: str, tp: Any) -> Iterator[tuple[RunConfig, str]]:
    """Valid configs that differ from ``base`` in one place of ``path`` (in every place for
    :data:`ALL_AT_ONCE`), with a description of the change.

    A distribution's family (``....dist``) is changed with its parameters (each family has its own)."""
    parts = path.split(".")
    if parts[-1] == "dist":
        tries = []
        for container, key in _slots(base, parts[:-1]):
            value = container[key]
            if isinstance(value, dict) and "dist" not in value:  # a dict of distributions (by outcome)
                tries += [([(value, k)], v) for k, v in value.items() if isinstance(v, dict) and "dist" in v]
            elif isinstance(value, dict):
                tries.append(([(container, key)], value))
        changes = [(slots, new, f"{path}: {old['dist']} -> {new['dist']}")
                   for slots, old in tries for new in _other_distribution(old)]
    elif path in ALL_AT_ONCE:
        slots = list(_slots(base, parts))
        old = slots[0][0][slots[0][1]] if slots else None
        changes = [(slots, new, f"{path}: {old!r} -> {new!r} in every entry")
                   for new in (changed_values(path, tp, old) if slots else [])]
    else:
        changes = [([(c, k)], new, f"{path}: {c[k]!r} -> {new!r}")
                   for c, k in _slots(base, parts) for new in changed_values(path, tp, c[k])]
    for slots, new, change in changes:
        cfg = _validated(base, slots, new)
        if cfg is not None:
            yield cfg, change


def _content(path: Path) -> Any:
    """What an output says, without the run's provenance (config hash, times)."""
    if path.suffix == ".nc" or path.suffix == ".zarr":
        ds = xr.open_zarr(path) if path.suffix == ".zarr" else xr.open_dataset(path)
        with ds:
            out: dict[str, Any] = {k: np.asarray(v.values) for k, v in {**ds.coords, **ds.data_vars}.items()}
            # a variable's units, currency and price year say what its numbers are; other attributes echo the
            # config or carry the run's provenance (config hash, history) and are left out
            out.update({f"{k}.{a}": np.asarray(str(v.attrs[a])) for k, v in ds.data_vars.items()
                        for a in ("units", "currency", "price_year") if a in v.attrs})
            return out
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return path.read_bytes()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.shape == b.shape and a.equals(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(
            np.asarray(a[k]).shape == np.asarray(b[k]).shape
            and np.array_equal(np.asarray(a[k]), np.asarray(b[k]), equal_nan=np.asarray(a[k]).dtype.kind == "f")
            for k in a)
    return a == b


def changed_outputs(base_dir: Path, new_dir: Path, outputs: list[str]) -> list[str]:
    """Outputs whose content differs between two run directories (``report.html`` holds the config hash and is
    left out; its numbers are in the report's CSV and NetCDF files)."""
    out = []
    for rel in outputs:
        if rel.endswith(".html"):
            continue
        a, b = base_dir / rel, new_dir / rel
        if not b.exists() or not a.exists() or not _same(_content(a), _content(b)):
            out.append(rel)
    return out


@pytest.fixture(scope="module")
def demo(small_demo_run: Path, small_demo_reads: dict[str, list[str]]) -> dict[str, Any]:
    from climmig.config import load_config

    cfg = load_config(small_demo_run)
    return {"config": small_demo_run, "run": small_demo_run.parent / "run", "reads": small_demo_reads,
            "data": cfg.model_dump(mode="json")}


@pytest.mark.slow  # needs the session's reduced demo run
def test_every_field_is_read_by_a_stage_or_its_mode_is_named(demo: dict[str, Any]) -> None:
    reads = demo["reads"]
    unread = [p for p, _, _ in schema_fields() if p not in reads and p not in NOT_READ_BY_THE_DEMO]
    assert not unread, f"config fields the run never reads (wire them in or remove them): {unread}"
    # the list stays honest: a field it names must really be unread by the demo
    stale = [p for p in NOT_READ_BY_THE_DEMO if p in reads]
    assert not stale, f"read by the demo after all; remove from NOT_READ_BY_THE_DEMO: {stale}"
    known = {p for p, _, _ in schema_fields()}
    assert set(NOT_READ_BY_THE_DEMO) <= known and set(EFFECT_TESTED_ELSEWHERE) <= known


def _ancestors(stages: dict[str, Any], name: str) -> set[str]:
    out: set[str] = set()
    for dep in stages[name].depends_on:
        out |= {dep} | _ancestors(stages, dep)
    return out


def _summary(run: Path, name: str) -> dict[str, Any]:
    from climmig.pipeline.runner import stage_summary

    return {k: v for k, v in stage_summary(run, name).items() if k not in ("outputs", "seconds", "reused")}


@pytest.mark.slow
@pytest.mark.walk
@pytest.mark.parametrize(("path", "tp"), NUMERIC_OR_CHOICE, ids=[p for p, _ in NUMERIC_OR_CHOICE])
def test_changing_a_field_changes_an_output(path: str, tp: Any, demo: dict[str, Any], tmp_path: Path) -> None:
    from climmig.config import science_hash
    from climmig.errors import ClimmigError
    from climmig.pipeline.context import make_context
    from climmig.pipeline.runner import record_path
    from climmig.pipeline.stages import build_stages

    for table in (EFFECT_TESTED_ELSEWHERE, NOT_READ_BY_THE_DEMO, KEYS):
        if path in table:
            pytest.skip(table[path])
    stages = {s.name: s for s in build_stages()}
    reading = set(demo["reads"].get(path, [])) & set(stages)
    # rerun a reader none of whose upstream stages reads the field: their outputs stand for the changed config
    first = [s for s in STAGE_ORDER if s in reading and not (_ancestors(stages, s) & reading)]
    assert first, f"{path} is read by no stage of the demo"
    variants = list(changed_configs(yaml.safe_load(yaml.safe_dump(demo["data"])), path, tp))[:3]
    assert variants, f"{path}: no other valid value to try; add one to VALUES_TO_TRY or document the field"
    tried = []
    for cfg, change in variants:
        for name in first:
            run = tmp_path / f"{name}-{len(tried)}"
            shutil.copytree(demo["run"], run)
            for up in _ancestors(stages, name):
                rec = json.loads(record_path(run, up).read_text())
                rec["config_sha256"] = science_hash(cfg)
                record_path(run, up).write_text(json.dumps(rec))
            ctx = make_context(demo["config"], output=run, progress=False, cfg=cfg)
            try:
                summary = stages[name].func(ctx)
            except ClimmigError as exc:  # a value the data cannot serve (e.g. a year beyond the SSP table)
                if path in REFUSALS and REFUSALS[path] in str(exc):
                    return
                tried.append(f"{change} in {name}: {exc}")
                continue
            base = _summary(demo["run"], name)
            if ({k: v for k, v in summary.items() if k not in ("outputs", "seconds", "reused")} != base
                    or set(summary["outputs"]) != set(stage_outputs(demo["run"], name))
                    or changed_outputs(demo["run"], run, summary["outputs"])):
                return
            tried.append(f"{change} in {name}: no output changed")
    pytest.fail(f"{path}: no change of it changed an output of the stages that read it first:\n  "
                + "\n  ".join(tried) + "\nwire it into the computation, remove it, or mark it "
                "json_schema_extra={'affects_outputs': False}")


def stage_outputs(run: Path, name: str) -> list[str]:
    from climmig.pipeline.runner import read_record

    return list((read_record(run, name) or {}).get("outputs", {}))
