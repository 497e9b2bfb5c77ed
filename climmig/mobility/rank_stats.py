"""Rank-normalised split R-hat and bulk/tail effective sample size, vectorised over quantities.

The definitions are those of Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC", Bayesian Analysis 16(2),
and the numbers equal ArviZ's ``az.rhat(method="rank")`` and ``az.ess(method="bulk"|"tail")`` (the tests
compare them). ArviZ evaluates each scalar quantity in a Python call of its own; a fit with ~1300 gated
quantities spent 5.7 s there. Here every quantity is a column of one ``(chain, draw, quantity)`` array and
each step (ranking, FFT autocovariance, Geyer's initial monotone sequence) runs over all columns at once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import fft, special
from scipy.stats import mstats

__all__ = ["ess_bulk", "ess_tail", "rhat_rank"]

# quantities per block: every temporary then stays a few MB. Arrays larger than glibc's mmap threshold
# (at most 32 MB) are mapped fresh from the OS and page-faulted in on every allocation, and on this project's
# sandboxed machines that made the whole-array version 5 times slower (1.38 s against 0.26 s to rank 1313 x
# 6000 draws)
_BLOCK = 64


# Internally every array is laid out (quantity, chain, draw), C-contiguous, so that ranking, sorting and the
# FFTs run along the last, contiguous axis (with (chain, draw, quantity) they were 5 times slower).


def _columns(x: np.ndarray) -> np.ndarray:
    """(chain, draw, q) input -> contiguous (q, chain, draw) float array."""
    return np.ascontiguousarray(np.moveaxis(np.asarray(x, dtype=float), -1, 0))


def _blockwise(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Apply ``fn`` (a (q, chain, draw) block -> (q,)) to blocks of ``_BLOCK`` quantities of a (chain, draw, q) array."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"draws must be shaped (chain, draw, quantity), got shape {x.shape}")
    out = np.empty(x.shape[2])
    for start in range(0, x.shape[2], _BLOCK):
        out[start:start + _BLOCK] = fn(_columns(x[:, :, start:start + _BLOCK]))
    return out


def _split(x: np.ndarray) -> np.ndarray:
    """(q, chain, draw) -> (q, 2 chain, draw // 2): each chain's first and last halves as chains."""
    half = x.shape[2] // 2
    return np.concatenate([x[:, :, :half], x[:, :, x.shape[2] - half:]], axis=1)


def _average_ranks(flat: np.ndarray) -> np.ndarray:
    """1-based ranks within each row, ties given their average rank (``scipy.stats.rankdata`` "average").

    One unstable argsort and a group-by over the sorted rows; ``rankdata(axis=1)`` took 7 times as long on
    a (1313, 6000) array.
    """
    n = flat.shape[1]
    order = np.argsort(flat, axis=1)
    srt = np.take_along_axis(flat, order, axis=1)
    first = np.ones(srt.shape, dtype=bool)
    first[:, 1:] = srt[:, 1:] != srt[:, :-1]  # a new value starts a tie group; every row starts one
    first = first.ravel()
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, first.size))
    group_rank = starts % n + (counts + 1) / 2.0
    ranks = np.empty(flat.shape)
    np.put_along_axis(ranks, order, group_rank[np.cumsum(first) - 1].reshape(flat.shape), axis=1)
    return ranks


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks of each quantity (average ranks for ties, Blom's offset 3/8)."""
    flat = x.reshape(x.shape[0], -1)
    ranks = _average_ranks(flat)
    return special.ndtri((ranks - 0.375) / (flat.shape[1] + 0.25)).reshape(x.shape)


def _rhat(x: np.ndarray) -> np.ndarray:
    """Classic R-hat of each quantity of a (q, chain, draw) array."""
    n = x.shape[2]
    between = n * np.var(x.mean(axis=2), axis=1, ddof=1)
    within = np.var(x, axis=2, ddof=1).mean(axis=1)
    return np.sqrt((between / within + n - 1) / n)


def _invalid(x: np.ndarray, min_chains: int) -> np.ndarray:
    """Quantities with a NaN, or too few chains or draws for the statistic (NaN result, as in ArviZ)."""
    bad = np.isnan(x).any(axis=(1, 2))
    if x.shape[1] < min_chains or x.shape[2] < 4:
        bad[:] = True
    return bad


def _between_chain_var(means: np.ndarray) -> np.ndarray:
    """Sample variance (ddof 1) of each row of chain means, in ArviZ's floating-point steps.

    ArviZ (with numba) sums the values and their squares chain by chain, ``sum(x^2)/n - (sum(x)/n)^2``.
    ``np.var`` rounds differently in the last bits, and where two autocorrelations cancel exactly (indicator
    draws of the tail ESS) the sign of a pair sum of order 1e-16 decides where Geyer's sequence stops: the
    ESS then differed by 10 % (122.3 against 110.2 at 4 x 25 split draws).
    """
    n = means.shape[1]
    a = np.zeros(means.shape[0])
    b = np.zeros(means.shape[0])
    for j in range(n):
        a = a + means[:, j]
        b = b + means[:, j] * means[:, j]
    return (b / n - (a / n) ** 2) * (n / (n - 1))


def _ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size of each quantity of a (q, chain, draw) array (Geyer's initial monotone sequence)."""
    n_q, n_chain, n_draw = x.shape
    out = np.full(n_q, np.nan)
    valid = ~np.isnan(x).any(axis=(1, 2))
    constant = valid & (x.max(axis=(1, 2), initial=-np.inf) - x.min(axis=(1, 2), initial=np.inf)
                        < np.finfo(float).resolution)
    out[constant] = n_chain * n_draw
    cols = np.flatnonzero(valid & ~constant)
    if cols.size == 0 or n_draw < 2:
        return out
    y = x[cols]
    centred = y - y.mean(axis=2, keepdims=True)
    m = fft.next_fast_len(2 * n_draw, real=True)
    spec = fft.rfft(centred, n=m, axis=2)
    acov = fft.irfft(spec * np.conjugate(spec), n=m, axis=2)[:, :, :n_draw] / n_draw
    mean_acov = acov.mean(axis=1).T  # (draw, q)
    mean_var = mean_acov[0] * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus = var_plus + _between_chain_var(y.mean(axis=2))
    rho = 1.0 - (mean_var - mean_acov) / var_plus  # (draw, q); lag 0 is 1 by definition
    rho[0] = 1.0
    # pair sums P_k = rho_2k + rho_2k+1; the initial positive sequence runs k = 1, 2, ... while the previous
    # pair is positive and 2k - 1 < n_draw - 3; k_stop is the first k that is not computed
    n_pairs = max((n_draw - 1) // 2, 1)
    pairs = rho[0:2 * n_pairs:2] + rho[1:2 * n_pairs:2]  # (n_pairs, q), pair k at row k
    k = np.arange(n_pairs)[:, None]
    stops = ~(pairs > 0) | ~(2 * (k + 1) - 1 < n_draw - 3)  # pair k ends the sequence before pair k + 1
    k_stop = np.argmax(stops, axis=0) + 1  # there is always a stop: the bound holds for the last row
    last = k_stop - 1  # the last pair computed (0 = none beyond the first)
    q_idx = np.arange(cols.size)
    # Geyer's initial monotone sequence: pair sums 0 .. k_stop - 2 replaced by their running minimum
    running = np.minimum.accumulate(pairs, axis=0)
    keep = k < last[None, :]
    full_pairs = np.where(keep, running, 0.0).sum(axis=0)
    last_even = rho[2 * last, q_idx]
    last_kept = (last == 0) | (pairs[last, q_idx] >= 0) | (last_even > 0)
    tau = -1.0 + 2.0 * full_pairs + np.where(last_kept, last_even, 0.0)
    total = n_chain * n_draw
    tau = np.maximum(tau, 1.0 / np.log10(total))
    ess = total / tau
    # NaN autocorrelations (zero pooled variance) give NaN, as in ArviZ
    out[cols] = np.where(np.isnan(rho[1]) | np.isnan(tau), np.nan, ess)
    return out


def rhat_rank(x: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) R-hat.

    Parameters
    ----------
    x : numpy.ndarray
        Draws, shaped ``(chain, draw, quantity)``.

    Returns
    -------
    numpy.ndarray
        One value per quantity; NaN for a quantity with a NaN draw, fewer than 2 chains or 4 draws, or no
        variance at all.
    """
    return _blockwise(_rhat_rank, x)


def _rhat_rank(x: np.ndarray) -> np.ndarray:
    bad = _invalid(x, min_chains=2)
    split = _split(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        bulk = _rhat(_z_scale(split))
        folded = np.abs(split - np.median(split.reshape(split.shape[0], -1), axis=1)[:, None, None])
        tail = _rhat(_z_scale(folded))
        # ArviZ's max(bulk, tail): a NaN tail leaves the bulk value. Chains each stuck at a different value
        # have a constant fold (NaN tail R-hat) and an infinite bulk R-hat; they must fail the gate, not
        # drop out of it as a NaN would
        out = np.where(tail > bulk, tail, bulk)
    return np.where(bad, np.nan, out)


def ess_bulk(x: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: ESS of the rank-normalised split chains.

    Parameters
    ----------
    x : numpy.ndarray
        Draws, shaped ``(chain, draw, quantity)``.

    Returns
    -------
    numpy.ndarray
        One value per quantity (NaN where a draw is NaN or there are fewer than 4 draws).
    """
    return _blockwise(_ess_bulk, x)


def _ess_bulk(x: np.ndarray) -> np.ndarray:
    return np.where(_invalid(x, min_chains=1), np.nan, _ess(_z_scale(_split(x))))


def ess_tail(x: np.ndarray, prob: tuple[float, float] = (0.05, 0.95)) -> np.ndarray:
    """Tail effective sample size: the smaller ESS of the indicators of the 5 % and 95 % quantiles.

    Parameters
    ----------
    x : numpy.ndarray
        Draws, shaped ``(chain, draw, quantity)``.
    prob : tuple of float
        The two quantile levels.

    Returns
    -------
    numpy.ndarray
        One value per quantity (NaN where a draw is NaN or there are fewer than 4 draws).
    """

    def block(x: np.ndarray) -> np.ndarray:
        pooled = x.reshape(x.shape[0], -1)
        with np.errstate(invalid="ignore"):
            # ArviZ's own quantile (type 7 by mquantiles). np.quantile is the same mathematically but rounds
            # differently where the quantile falls on a draw: x <= q then counts one draw more or less, and
            # the ESS moves with it (at 41 draws, 28.6 against ArviZ's 38.9)
            qs = np.asarray(mstats.mquantiles(pooled, prob=list(prob), alphap=1, betap=1, axis=1))
            ess = [_ess(_split((x <= qs[:, i, None, None]).astype(float))) for i in range(len(prob))]
        return np.where(_invalid(x, min_chains=1), np.nan, np.minimum(*ess))

    return _blockwise(block, x)
