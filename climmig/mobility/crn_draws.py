"""Count draws with common random numbers: the random numbers used do not depend on the means.

Interventions are compared by projecting the same posterior draws with the same seed twice, with and
without the measure, and taking the difference ("common random numbers"). That only cancels the chance
part of the difference if every cell gets the same random numbers in both projections. NumPy's Poisson and
negative-binomial samplers use rejection, so the number of random numbers they consume depends on the
mean: a measure that changes the mean of one cell shifts the stream for every later cell, and an option
that changes nothing in the 2080s still shows noise there.

Here a negative-binomial draw is a gamma-Poisson mixture whose gamma part is drawn with the shape only
(:math:`g \\sim \\mathrm{Gamma}(\\alpha, 1/\\alpha)`, the stream consumed depends on :math:`\\alpha`, which a
measure does not change) and whose Poisson part is the inverse CDF at a fixed uniform. A draw is therefore
a non-decreasing function of its mean with everything else fixed, and cells a measure does not touch get
identical draws.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy import special

__all__ = ["negbin_draws", "poisson_quantile"]

#: Below this mean the Poisson quantile is found by exact inversion of the CDF; above it by the
#: Cornish-Fisher expansion (error below one count there, and far below the gamma part's spread).
EXACT_BELOW = 50.0
#: No flow exceeds the world's population; gamma draws with small shapes and extrapolated means can.
MAX_COUNT = 8e9


def poisson_quantile(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson quantile function: the smallest ``k`` with ``P(X <= k) >= u`` for ``X ~ Poisson(lam)``.

    Parameters
    ----------
    u : np.ndarray
        Probabilities in [0, 1).
    lam : np.ndarray
        Means (>= 0), same shape as ``u``.

    Returns
    -------
    np.ndarray of float
        Counts (NaN where ``lam`` is NaN). Exact for ``lam < EXACT_BELOW``; above, the Cornish-Fisher expansion
        :math:`\\lambda + \\sqrt{\\lambda} z + (z^2 - 1)/6` rounded, with :math:`z = \\Phi^{-1}(u)`. Both
        parts are non-decreasing in ``lam`` and in ``u``.
    """
    u = np.asarray(u, dtype=float)
    lam = np.asarray(lam, dtype=float)
    z = special.ndtri(u)  # cheap beside the branches; the compiled loop picks per cell
    return _quantile(u.ravel(), z.ravel(), lam.ravel()).reshape(lam.shape)


@numba.njit(cache=True, nogil=True)
def _quantile(u: np.ndarray, z: np.ndarray, lam: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Per cell: exact inversion by ``p_k = p_{k-1} lam / k`` below :data:`EXACT_BELOW`, else Cornish-Fisher."""
    out = np.empty(lam.shape)
    for i in range(lam.size):
        li = lam[i]
        if np.isnan(li):  # an undefined mean stays undefined (numpy's sampler raised here)
            out[i] = np.nan
            continue
        if li >= EXACT_BELOW:
            out[i] = max(np.floor(li + np.sqrt(li) * z[i] + (z[i] * z[i] - 1.0) / 6.0 + 0.5), 0.0)
            continue
        p = np.exp(-li)
        cdf = p
        k = 0
        # P(X > lam + 20 sqrt(lam) + 40) is below 1e-80 for lam < 50: the bound is never reached
        while cdf < u[i] and k < 400:
            k += 1
            p = p * li / k
            cdf += p
        out[i] = k
    return out


def negbin_draws(rng: np.random.Generator, mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Negative-binomial draws with mean ``mu`` and shape ``alpha``, with common random numbers.

    Parameters
    ----------
    rng : np.random.Generator
        Consumed by an amount that depends on ``alpha`` and the shape of the arrays only.
    mu : np.ndarray
        Means (>= 0).
    alpha : np.ndarray
        Shapes (> 0), broadcastable to ``mu``.

    Returns
    -------
    np.ndarray of float
        Counts, capped at :data:`MAX_COUNT`. Variance ``mu + mu**2 / alpha``.
    """
    mu = np.asarray(mu, dtype=float)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), mu.shape)
    g = rng.gamma(alpha, 1.0 / alpha)
    u = rng.random(mu.shape)
    return poisson_quantile(u, np.minimum(mu * g, MAX_COUNT))
