"""Config models of the statistics: distributions (priors, effects), sampler, gate and projection.

:class:`DistSpec` names a distribution and checks its parameters; :class:`SamplerSpec` and :class:`GateSpec`
set the MCMC fits and the convergence gate; :class:`ProjectionSpec` says how posterior draws are combined
with climate models and scenarios.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from climmig.config.schema_types import _Frozen

__all__ = ["DistSpec", "GateSpec", "ProjectionSpec", "SamplerSpec"]


_DIST_PARAMS: dict[str, set[str]] = {
    "Normal": {"mu", "sigma"},
    "HalfNormal": {"sigma"},
    "LogNormal": {"mu", "sigma"},
    "Exponential": {"lam"},
    "Gamma": {"alpha", "beta"},
    "Beta": {"alpha", "beta"},
    "Uniform": {"lower", "upper"},
    "StudentT": {"nu", "mu", "sigma"},
    "HalfStudentT": {"nu", "sigma"},
    "TruncatedNormal": {"mu", "sigma", "lower", "upper"},
    "Triangular": {"lower", "c", "upper"},
    "Fixed": {"value"},
}


class DistSpec(_Frozen):
    """A probability distribution by name and parameters (a prior, or an uncertain effect size)."""

    dist: Literal[
        "Normal", "HalfNormal", "LogNormal", "Exponential", "Gamma", "Beta", "Uniform", "StudentT",
        "HalfStudentT", "TruncatedNormal", "Triangular", "Fixed",
    ]
    params: dict[str, float]
    source: str | None = Field(default=None, description="where the default comes from")

    @model_validator(mode="after")
    def _params_match(self) -> DistSpec:
        want = _DIST_PARAMS[self.dist]
        got = set(self.params)
        if got != want:
            missing, extra = sorted(want - got), sorted(got - want)
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if extra:
                parts.append(f"unexpected {extra}")
            raise ValueError(f"{self.dist} takes parameters {sorted(want)}: {', '.join(parts)}")
        for k in ("sigma", "lam", "alpha", "beta", "nu"):
            if k in self.params and not self.params[k] > 0:
                raise ValueError(f"{self.dist} parameter {k} must be > 0, got {self.params[k]}")
        lo, hi = self.params.get("lower"), self.params.get("upper")
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(f"lower ({lo}) must be less than upper ({hi})")
        if self.dist == "Triangular" and not (lo <= self.params["c"] <= hi):
            raise ValueError("Triangular mode c must lie between lower and upper")
        return self


class SamplerSpec(_Frozen):
    """MCMC settings."""

    backend: Literal["nutpie", "pymc"] = "nutpie"
    draws: int = Field(default=1000, ge=10, le=100_000)
    tune: int = Field(default=1000, ge=10, le=100_000)
    chains: int = Field(default=4, ge=1, le=64)
    cores: int | None = Field(default=None, ge=1, le=1024, json_schema_extra={"affects_outputs": False},
                              description=("chains sampled at once (default: one per core, at most `chains`); "
                                           "each chain has its own seed, so the draws do not depend on it"))
    target_accept: float = Field(default=0.9, gt=0.5, lt=1.0)
    #: nutpie's mass matrix: ``low_rank`` (diagonal plus low-rank corrections learnt from the draws and
    #: gradients during tuning) or ``diagonal``. On the global displacement fit, ``low_rank`` doubled the
    #: minimum bulk ESS (362 -> 712 in 4 x 1000 draws) for 30 % more sampling time. PyMC's NUTS ignores it.
    mass_matrix: Literal["low_rank", "diagonal"] = "low_rank"
    #: Largest NUTS tree depth (at most ``2**max_tree_depth - 1`` leapfrog steps per draw), as Stan's and
    #: PyMC's ``max_treedepth``; 10 is their default. It bounds the long trajectories of early tuning, when
    #: the mass matrix is still the identity: on the global displacement fit a chain's first 100 tuning
    #: iterations took 15,556 leapfrog steps at depth 10 and 5,403 at depth 7, while its draws stop at depth
    #: 5 (31 steps) by themselves. Draws that hit the limit are counted in the diagnostics
    #: (``tree_depth_hits``). PyMC's NUTS also caps its first 200 tuning iterations at depth 8.
    max_tree_depth: int = Field(default=10, ge=2, le=15, description=(
        "largest NUTS tree depth (at most 2**depth - 1 leapfrog steps per draw); lower it to bound the long "
        "trajectories of early tuning"))


class GateSpec(_Frozen):
    """Convergence gate: projections refuse a fit that fails it unless ``allow_unconverged``."""

    r_hat_max: float = Field(default=1.01, gt=1.0, le=2.0)
    ess_min: float = Field(default=400, ge=1)
    max_divergences: int = Field(default=0, ge=0)
    allow_unconverged: bool = False


class ProjectionSpec(_Frozen):
    """How posterior draws are combined with climate models and scenarios."""

    samples: int = Field(default=400, ge=10, le=100_000, description="posterior draws used")
    quantiles: list[float] = Field(default_factory=lambda: [0.05, 0.25, 0.5, 0.75, 0.95])

    @field_validator("quantiles")
    @classmethod
    def _q(cls, v: list[float]) -> list[float]:
        if any(not 0 < q < 1 for q in v):
            raise ValueError("quantiles must lie strictly between 0 and 1")
        return sorted(set(v))
