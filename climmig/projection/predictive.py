"""Vectorised negative-binomial posterior predictive, lazy and reproducible under dask.

The generic form used by the displacement model (``docs/interfaces.md`` section 2):
:math:`\\mu = \\exp(a + b \\log r) \\, P \\, m` with :math:`r` the exposure ratio, :math:`P` population and
:math:`m` an optional rate multiplier, and counts drawn from a negative binomial with mean :math:`\\mu` and
dispersion :math:`\\alpha`. Random numbers are drawn block by block with a seed derived from the run seed
and the block's position, so a result is the same whatever the scheduler or number of workers (but it
depends on the chunking, which is recorded in the output attrs).
"""

from __future__ import annotations

import logging
from typing import Literal

import dask.array as dsa
import numpy as np
import xarray as xr

from climmig.mobility.crn_draws import negbin_draws

__all__ = ["expected_negbin", "sample_negbin"]

logger = logging.getLogger(__name__)


def expected_negbin(
    a: xr.DataArray,
    b: xr.DataArray,
    exposure_ratio: xr.DataArray,
    population: xr.DataArray,
    rate_multiplier: xr.DataArray | None = None,
) -> xr.DataArray:
    r"""Expected count :math:`\mu = \exp(a + b \log r) P m` (lazy, broadcast by dimension name).

    Parameters
    ----------
    a : xr.DataArray
        Log-rate intercept per posterior sample (dims e.g. ``sample`` or ``sample, region``).
    b : xr.DataArray
        Exposure elasticity per posterior sample.
    exposure_ratio : xr.DataArray
        Exposure relative to the baseline (1 = no change), dimensionless, non-negative.
    population : xr.DataArray
        People.
    rate_multiplier : xr.DataArray, optional
        Factor on the rate (1 = no change), e.g. from an intervention.

    Returns
    -------
    xr.DataArray, [1]
        Expected displaced people, dims the union of the inputs' dims.
    """
    with np.errstate(divide="ignore"):
        mu = np.exp(a + b * np.log(exposure_ratio)) * population
    if rate_multiplier is not None:
        mu = mu * rate_multiplier
    mu.name = "expected_displacement"
    mu.attrs = {"long_name": "expected number of people displaced", "units": "1"}
    return mu


def _block_sampler(seed: int, method: str):
    def _draw(mu: np.ndarray, alpha: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        loc = tuple(block_info[None]["chunk-location"]) if block_info else (0,) * mu.ndim
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=loc))
        if method == "inversion":
            return negbin_draws(rng, np.maximum(mu, 0.0), alpha)
        p = alpha / (alpha + np.maximum(mu, 0.0))
        return rng.negative_binomial(alpha, p).astype(np.float64)

    return _draw


def sample_negbin(
    mu: xr.DataArray,
    alpha: xr.DataArray | float,
    seed: int,
    method: Literal["generator", "inversion"] = "generator",
) -> xr.DataArray:
    r"""Draw negative-binomial counts with mean ``mu`` and dispersion ``alpha`` (lazy on dask input).

    Parameters
    ----------
    mu : xr.DataArray
        Expected counts (non-negative), possibly dask-backed.
    alpha : xr.DataArray or float
        Dispersion (> 0; variance :math:`\mu + \mu^2/\alpha`), broadcastable to ``mu`` by name, e.g. one
        value per ``sample``.
    seed : int
        Seed; each block draws from ``SeedSequence(seed, spawn_key=block position)``.
    method : {"generator", "inversion"}
        ``"generator"``: numpy's gamma-Poisson sampler (fast). ``"inversion"``: a gamma draw that depends on
        ``alpha`` only and a uniform pushed through the Poisson quantile function
        (:func:`climmig.mobility.crn_draws.negbin_draws`; about 2x slower, but a value changes only where
        its mean changes and is monotone in the mean, so comparisons of variants with the same seed use
        exactly common random numbers).

    Returns
    -------
    xr.DataArray, [1]
        Counts as float64, same dims, coords and chunks as ``mu``.
    """
    alpha_da = alpha if isinstance(alpha, xr.DataArray) else xr.DataArray(float(alpha))
    mu_b, alpha_b = xr.broadcast(mu, alpha_da)
    alpha_b = alpha_b.transpose(*mu_b.dims)
    if method not in ("generator", "inversion"):
        raise ValueError(f"method must be 'generator' or 'inversion', got {method!r}")
    draw = _block_sampler(int(seed), method)
    if mu_b.chunks is not None:
        chunks = dict(zip(mu_b.dims, mu_b.chunks, strict=True))
        alpha_b = alpha_b.chunk(chunks)
        data = dsa.map_blocks(draw, mu_b.data, alpha_b.data, dtype=np.float64)
        chunking = {d: list(c) for d, c in chunks.items()}
    else:
        data = draw(np.asarray(mu_b.values, dtype=float), np.asarray(alpha_b.values, dtype=float))
        chunking = {}
    out = xr.DataArray(data, dims=mu_b.dims, coords=mu_b.coords, name="displaced_persons")
    out.attrs = {
        "long_name": "number of people displaced (posterior predictive draw)",
        "units": "1",
        "climmig_rng": f"numpy PCG64, SeedSequence({int(seed)}, spawn_key=block position), {method}",
        "climmig_chunks": str(chunking),
    }
    return out
