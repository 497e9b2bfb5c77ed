"""Draw uncertain intervention effect sizes from their distributions."""

from __future__ import annotations

import hashlib
import logging

import numpy as np
from scipy import stats

from climmig.config.schema_statistics import DistSpec

__all__ = ["effect_mean", "effect_median", "effect_rng", "sample_effect"]

logger = logging.getLogger(__name__)


def _frozen(spec: DistSpec):
    p = spec.params
    match spec.dist:
        case "Normal":
            return stats.norm(loc=p["mu"], scale=p["sigma"])
        case "HalfNormal":
            return stats.halfnorm(scale=p["sigma"])
        case "LogNormal":
            return stats.lognorm(s=p["sigma"], scale=np.exp(p["mu"]))
        case "Exponential":
            return stats.expon(scale=1.0 / p["lam"])
        case "Gamma":
            return stats.gamma(a=p["alpha"], scale=1.0 / p["beta"])
        case "Beta":
            return stats.beta(a=p["alpha"], b=p["beta"])
        case "Uniform":
            return stats.uniform(loc=p["lower"], scale=p["upper"] - p["lower"])
        case "StudentT":
            return stats.t(df=p["nu"], loc=p["mu"], scale=p["sigma"])
        case "TruncatedNormal":
            mu, sd = p["mu"], p["sigma"]
            return stats.truncnorm(a=(p["lower"] - mu) / sd, b=(p["upper"] - mu) / sd, loc=mu, scale=sd)
        case "Triangular":
            lo, hi = p["lower"], p["upper"]
            return stats.triang(c=(p["c"] - lo) / (hi - lo), loc=lo, scale=hi - lo)
    raise ValueError(f"no sampler for distribution {spec.dist!r}")  # pragma: no cover - schema forbids


def sample_effect(spec: DistSpec | None, n: int, rng: np.random.Generator, default: float = 1.0) -> np.ndarray:
    """Draw ``n`` effect sizes from a distribution spec.

    Parameters
    ----------
    spec : DistSpec or None
        Distribution (``Fixed`` gives ``n`` copies of its value). ``None`` means a certain effect of
        ``default``.
    n : int
        Number of draws (the number of posterior samples: draw *i* is paired with posterior draw *i*).
    rng : numpy.random.Generator
        Random source.
    default : float
        Effect used when ``spec`` is None.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``, float64.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if spec is None:
        return np.full(n, float(default))
    if spec.dist == "Fixed":
        return np.full(n, float(spec.params["value"]))
    if spec.dist == "HalfStudentT":
        return np.abs(stats.t(df=spec.params["nu"], scale=spec.params["sigma"]).rvs(size=n, random_state=rng))
    return np.asarray(_frozen(spec).rvs(size=n, random_state=rng), dtype=np.float64)


def effect_rng(seed: int, key: str) -> np.random.Generator:
    """A generator for one intervention's effect draws, stable under adding or removing other ones.

    Parameters
    ----------
    seed : int
        Run-level seed.
    key : str
        Stream key (e.g. kind and effect distribution).

    Returns
    -------
    numpy.random.Generator
    """
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return np.random.default_rng([int(seed), digest])


def effect_median(spec: DistSpec) -> float:
    """The median of an effect distribution (its value for ``Fixed``).

    Parameters
    ----------
    spec : DistSpec
        Distribution.

    Returns
    -------
    float
    """
    if spec.dist == "Fixed":
        return float(spec.params["value"])
    if spec.dist == "HalfStudentT":
        return float(stats.t(df=spec.params["nu"], scale=spec.params["sigma"]).ppf(0.75))
    return float(_frozen(spec).median())


def effect_mean(spec: DistSpec) -> float:
    """The mean of a distribution (its value for ``Fixed``).

    Parameters
    ----------
    spec : DistSpec
        Distribution.

    Returns
    -------
    float
    """
    if spec.dist == "Fixed":
        return float(spec.params["value"])
    if spec.dist == "HalfStudentT":
        return float(stats.t(df=spec.params["nu"], scale=spec.params["sigma"]).expect(abs))
    return float(_frozen(spec).mean())
