"""Scores of predictive samples against observations: interval coverage, CRPS and log score.

All functions take predictive samples as an array whose last axis is the sample axis and observations of
the leading shape, so the model and the baselines are scored with exactly the same code.
"""

from __future__ import annotations

import numpy as np
import scoringrules as sr

__all__ = ["coverage", "crps_samples", "log_score_samples", "summarise_scores"]


def coverage(samples: np.ndarray, y: np.ndarray, level: float) -> np.ndarray:
    """Whether ``y`` lies in the central ``level`` interval of the samples (inclusive ends).

    Parameters
    ----------
    samples : numpy.ndarray
        (..., n) predictive samples.
    y : numpy.ndarray
        (...) observations.
    level : float
        e.g. 0.9 for the 5-95 % interval.

    Returns
    -------
    numpy.ndarray of bool
    """
    lo, hi = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=-1)
    return (y >= lo) & (y <= hi)


def crps_samples(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score of an ensemble (``scoringrules.crps_ensemble``).

    Parameters
    ----------
    samples : numpy.ndarray
        (..., n) predictive samples.
    y : numpy.ndarray
        (...) observations.

    Returns
    -------
    numpy.ndarray
        CRPS in the units of ``y`` (lower is better).

    Notes
    -----
    The CRPS of the samples' empirical distribution, ``E|X - y| - E|X - X'| / 2``: the quantile-decomposition
    estimator ("qd", O(n log n)), which equals the energy form exactly. The "fair" and "pwm" estimators
    divide ``E|X - X'|`` by ``n (n - 1)`` instead of ``n^2``; the model and the baselines are scored with the
    same ``n``, so either would rank them alike, but the empirical form keeps a point mass's CRPS ``|x - y|``.
    """
    return np.asarray(sr.crps_ensemble(np.asarray(y, float), np.asarray(samples, float), m_axis=-1,
                                       estimator="qd"))


def log_score_samples(samples: np.ndarray, y: np.ndarray, min_bandwidth: float = 0.25) -> np.ndarray:
    """Log predictive density of ``log1p(y)`` under a Gaussian kernel density of ``log1p(samples)``.

    Counts of displaced people span seven orders of magnitude and an empirical distribution gives zero
    mass to unseen values, so every method is scored on the ``log1p`` scale with the same kernel estimate
    (Silverman bandwidth, at least ``min_bandwidth``).

    Parameters
    ----------
    samples : numpy.ndarray
        (..., n) predictive samples.
    y : numpy.ndarray
        (...) observations.
    min_bandwidth : float
        Smallest kernel width on the log1p scale.

    Returns
    -------
    numpy.ndarray
        Log density (higher is better).
    """
    z = np.log1p(np.asarray(samples, float))
    t = np.log1p(np.asarray(y, float))[..., None]
    n = z.shape[-1]
    sd = z.std(-1, keepdims=True)
    iqr = np.subtract(*np.quantile(z, [0.75, 0.25], axis=-1))[..., None] / 1.34
    spread = np.where(iqr > 0, np.minimum(sd, iqr), sd)
    h = np.maximum(0.9 * spread * n ** (-0.2), min_bandwidth)
    dens = np.exp(-0.5 * ((t - z) / h) ** 2).mean(-1, keepdims=True) / (h * np.sqrt(2 * np.pi))
    return np.log(np.maximum(dens[..., 0], 1e-300))


def summarise_scores(samples: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Mean scores of one method over a set of cells.

    Parameters
    ----------
    samples : numpy.ndarray
        (cells, n) predictive samples.
    y : numpy.ndarray
        (cells,) observations.

    Returns
    -------
    dict
        ``n``, ``coverage_50``, ``coverage_90``, ``crps`` (people), ``crps_log1p`` (CRPS of
        ``log1p`` of samples and observations: every country counts, not only the few with millions;
        Bosse et al. 2023, *PLOS Comput. Biol.* 19:e1011393, score counts on such a transformed scale),
        ``log_score``.
    """
    if y.size == 0:
        return {"n": 0, "coverage_50": float("nan"), "coverage_90": float("nan"), "crps": float("nan"),
                "crps_log1p": float("nan"), "log_score": float("nan")}
    return {
        "n": int(y.size),
        "coverage_50": float(coverage(samples, y, 0.5).mean()),
        "coverage_90": float(coverage(samples, y, 0.9).mean()),
        "crps": float(crps_samples(samples, y).mean()),
        "crps_log1p": float(crps_samples(np.log1p(samples), np.log1p(y)).mean()),
        "log_score": float(log_score_samples(samples, y).mean()),
    }
