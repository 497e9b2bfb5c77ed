"""The sensitivity problem: which config parameters vary, over what range or distribution, and what is measured.

A problem is a small YAML file or dict, validated into a frozen :class:`SensitivityProblem`::

    method: sobol          # or morris
    n: 256                 # base samples (Sobol, a power of two) or trajectories (Morris)
    seed: 20261122
    parameters:
      - {path: hazards.flood.threshold, bounds: [0.3, 1.0], units: m}
      - {path: interventions.early_warning.effect.params.alpha,
         dist: {dist: TruncatedNormal, params: {mu: 3, sigma: 1, lower: 1, upper: 6}}}
    outputs: [displaced_persons, averted_displacement.early_warning]
    samples: 100           # optional: posterior samples per evaluation of a run (default projection.samples)

Distributions use the same ``{dist, params}`` shape as priors and intervention effects in run configs and are
translated to SALib's ``dists``/``bounds`` problem description by :func:`to_salib`.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from climmig.errors import ClimmigError
from climmig.provenance import config_hash

__all__ = [
    "ParameterDist",
    "ParameterSpec",
    "SensitivityError",
    "SensitivityProblem",
    "load_problem",
    "parse_problem",
    "problem_hash",
    "support",
    "to_salib",
]

logger = logging.getLogger(__name__)

_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")


class SensitivityError(ClimmigError):
    """A sensitivity problem is invalid, does not fit the config, or an evaluation cannot be analysed."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_DIST_PARAMS: dict[str, tuple[str, ...]] = {
    "Uniform": ("lower", "upper"),
    "LogUniform": ("lower", "upper"),
    "Triangular": ("lower", "c", "upper"),
    "Normal": ("mu", "sigma"),
    "TruncatedNormal": ("mu", "sigma", "lower", "upper"),
    "LogNormal": ("mu", "sigma"),
}
_UNBOUNDED = {"Normal", "LogNormal"}


class ParameterDist(_Frozen):
    """Distribution of an uncertain parameter (the ``{dist, params}`` shape used in run configs)."""

    dist: Literal["Uniform", "LogUniform", "Triangular", "Normal", "TruncatedNormal", "LogNormal"]
    params: dict[str, float]

    @model_validator(mode="after")
    def _params_match(self) -> ParameterDist:
        want, got = set(_DIST_PARAMS[self.dist]), set(self.params)
        if want != got:
            parts = []
            if want - got:
                parts.append(f"missing {sorted(want - got)}")
            if got - want:
                parts.append(f"unexpected {sorted(got - want)}")
            raise ValueError(f"{self.dist} takes parameters {sorted(want)}: {', '.join(parts)}")
        p = self.params
        if any(not math.isfinite(v) for v in p.values()):
            raise ValueError(f"{self.dist} parameters must be finite numbers")
        if "sigma" in p and not p["sigma"] > 0:
            raise ValueError(f"{self.dist} parameter sigma must be > 0, got {p['sigma']}")
        if "lower" in p and not p["lower"] < p["upper"]:
            raise ValueError(f"lower ({p['lower']}) must be less than upper ({p['upper']})")
        if self.dist == "LogUniform" and not p["lower"] > 0:
            raise ValueError("LogUniform needs lower > 0")
        if self.dist == "Triangular" and not p["lower"] <= p["c"] <= p["upper"]:
            raise ValueError("Triangular mode c must lie between lower and upper")
        if self.dist == "TruncatedNormal" and not p["lower"] <= p["mu"] <= p["upper"]:
            # SALib allows it, but a mean outside the window is almost always a typo
            raise ValueError("TruncatedNormal mu must lie between lower and upper")
        return self

    @property
    def bounded(self) -> bool:
        """Whether the distribution has finite support."""
        return self.dist not in _UNBOUNDED


class ParameterSpec(_Frozen):
    """One uncertain parameter: its config path and either uniform ``bounds`` or a ``dist``."""

    path: str = Field(description="dotted path into the run config, e.g. 'hazards.flood.threshold'")
    bounds: tuple[float, float] | None = Field(default=None, description="uniform range [lower, upper]")
    dist: ParameterDist | None = None
    units: str | None = Field(default=None, description="units of the sampled values (for quantity fields)")
    label: str | None = Field(default=None, description="short name for figures")

    @field_validator("path")
    @classmethod
    def _path_syntax(cls, v: str) -> str:
        if not _PATH.match(v) or ".." in v or v.endswith("."):
            raise ValueError(f"{v!r} is not a dotted path like 'hazards.flood.threshold'")
        return v

    @field_validator("bounds")
    @classmethod
    def _bounds(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None:
            lo, hi = v
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError("bounds must be finite numbers")
            if not lo < hi:
                raise ValueError(f"bounds [{lo}, {hi}]: lower must be less than upper")
        return v

    @model_validator(mode="after")
    def _one_of(self) -> ParameterSpec:
        if (self.bounds is None) == (self.dist is None):
            raise ValueError(f"{self.path}: give exactly one of `bounds: [lower, upper]` or `dist: {{dist, params}}`")
        return self

    @property
    def name(self) -> str:
        """Label for figures (``label`` or the last two path parts)."""
        return self.label or ".".join(self.path.split(".")[-2:])


class SensitivityProblem(_Frozen):
    """A global sensitivity analysis over run-config parameters."""

    method: Literal["sobol", "morris"] = "sobol"
    n: int = Field(ge=2, le=2**20, description="Sobol base samples (power of two) or Morris trajectories")
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    parameters: list[ParameterSpec] = Field(min_length=1)
    outputs: list[str] = Field(min_length=1)
    num_levels: int = Field(default=4, ge=2, le=100, description="Morris grid levels")
    num_resamples: int = Field(default=100, ge=10, le=10_000, description="bootstrap resamples")
    conf_level: float = Field(default=0.95, gt=0.5, lt=1.0)
    samples: int | None = Field(default=None, ge=2, le=100_000,
                                description="posterior samples per evaluation of a run config (default: the "
                                            "config's projection.samples); fewer is faster, outputs noisier")

    @model_validator(mode="after")
    def _check(self) -> SensitivityProblem:
        problems = []
        paths = [p.path for p in self.parameters]
        for p in sorted({p for p in paths if paths.count(p) > 1}):
            problems.append(f"parameter {p!r} is listed twice; list each once")
        for o in sorted({o for o in self.outputs if self.outputs.count(o) > 1}):
            problems.append(f"output {o!r} is listed twice; list each once")
        if self.method == "sobol":
            if self.n & (self.n - 1):
                lo = 1 << (self.n.bit_length() - 1)
                problems.append(f"n = {self.n}: Sobol' sequences need a power of two; use {lo} or {lo * 2}")
            if len(self.parameters) < 2:
                problems.append("Sobol analysis needs at least two parameters")
        else:
            for p in self.parameters:
                if p.dist is not None and not p.dist.bounded:
                    problems.append(f"{p.path}: Morris screening samples the ends of each range, so it needs a "
                                    f"bounded distribution; {p.dist.dist} is unbounded (use TruncatedNormal)")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def paths(self) -> list[str]:
        """Parameter paths in problem order."""
        return [p.path for p in self.parameters]


def support(spec: ParameterSpec, tail: float = 1e-4) -> tuple[float, float]:
    """Smallest and largest value a parameter can be sampled at (quantiles ``tail`` if unbounded).

    Parameters
    ----------
    spec : ParameterSpec
        The parameter.
    tail : float
        Tail probability used for unbounded distributions.

    Returns
    -------
    tuple of float
        ``(low, high)``.
    """
    if spec.bounds is not None:
        return float(spec.bounds[0]), float(spec.bounds[1])
    assert spec.dist is not None
    p = spec.dist.params
    if "lower" in p:
        return float(p["lower"]), float(p["upper"])
    from scipy import stats

    z = float(stats.norm.ppf(1 - tail))
    lo, hi = p["mu"] - z * p["sigma"], p["mu"] + z * p["sigma"]
    if spec.dist.dist == "LogNormal":
        return math.exp(lo), math.exp(hi)
    return lo, hi


def to_salib(problem: SensitivityProblem) -> dict[str, Any]:
    """SALib's problem description (``num_vars``, ``names``, ``bounds``, ``dists``).

    Parameters
    ----------
    problem : SensitivityProblem
        Validated problem.

    Returns
    -------
    dict
        Names are the parameter paths.
    """
    bounds: list[list[float]] = []
    dists: list[str] = []
    for spec in problem.parameters:
        if spec.bounds is not None:
            bounds.append([float(spec.bounds[0]), float(spec.bounds[1])])
            dists.append("unif")
            continue
        assert spec.dist is not None
        d, p = spec.dist.dist, spec.dist.params
        if d == "Uniform":
            bounds.append([p["lower"], p["upper"]])
            dists.append("unif")
        elif d == "LogUniform":
            bounds.append([p["lower"], p["upper"]])
            dists.append("logunif")
        elif d == "Triangular":
            width = p["upper"] - p["lower"]
            bounds.append([p["lower"], p["upper"], (p["c"] - p["lower"]) / width])
            dists.append("triang")
        elif d == "Normal":
            bounds.append([p["mu"], p["sigma"]])
            dists.append("norm")
        elif d == "TruncatedNormal":
            bounds.append([p["lower"], p["upper"], p["mu"], p["sigma"]])
            dists.append("truncnorm")
        else:  # LogNormal
            bounds.append([p["mu"], p["sigma"]])
            dists.append("lognorm")
    return {"num_vars": len(problem.parameters), "names": problem.paths, "bounds": bounds, "dists": dists}


def problem_hash(problem: SensitivityProblem) -> str:
    """SHA-256 of the canonical JSON of a problem.

    Parameters
    ----------
    problem : SensitivityProblem
        Validated problem.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    return config_hash(problem.model_dump(mode="json"))


def _fields_at(loc: list[Any]) -> list[str]:
    model: type[BaseModel] | None = SensitivityProblem
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model = {"parameters": ParameterSpec, "dist": ParameterDist}.get(str(part))
    return list(model.model_fields) if model is not None else []


def _format(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
        where = " -> ".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            known = _fields_at(loc[:-1])
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(known)}"
            lines.append(f"{where}: unknown key {key!r}; {hint}")
            continue
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        for line in msg.splitlines():
            lines.append(f"{where}: {line}")
    return lines


def parse_problem(data: Any, source: str | None = None) -> SensitivityProblem:
    """Validate a problem given as a dict (e.g. parsed YAML).

    Parameters
    ----------
    data : Any
        Mapping with ``method``, ``n``, ``seed``, ``parameters``, ``outputs``.
    source : str, optional
        File name for messages.

    Returns
    -------
    SensitivityProblem

    Raises
    ------
    SensitivityError
        One line per problem, naming where it is.
    """
    head = f"invalid sensitivity problem {source}" if source else "invalid sensitivity problem"
    if isinstance(data, SensitivityProblem):
        return data
    if not isinstance(data, Mapping):
        raise SensitivityError(f"{head}: expected a mapping with method, n, parameters, outputs")
    try:
        return SensitivityProblem.model_validate(dict(data))
    except ValidationError as exc:
        raise SensitivityError(head + ":\n" + "\n".join(f"  - {e}" for e in _format(exc))) from None


def load_problem(path: str | Path) -> SensitivityProblem:
    """Read and validate a problem YAML file.

    Parameters
    ----------
    path : str or Path
        YAML file.

    Returns
    -------
    SensitivityProblem

    Raises
    ------
    SensitivityError
        If the file is missing, not YAML, or invalid.
    """
    p = Path(path)
    if not p.is_file():
        raise SensitivityError(f"sensitivity problem file not found: {p.resolve()}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SensitivityError(f"cannot read {p} as YAML: {str(exc).splitlines()[0]}") from None
    return parse_problem(data, str(path))
