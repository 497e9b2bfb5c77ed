"""Block kernels for region sums: one pass over a block of cells, weights as a per-cell sparse list.

The kernel reads each value once and adds ``w * x`` (and ``w`` where ``x > threshold``) to the regions
that cell belongs to. With numba it is compiled (``nogil`` so dask threads run blocks in parallel); without
numba a scipy.sparse fallback gives the same numbers more slowly.
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["HAVE_NUMBA", "exceed_and_sum"]

logger = logging.getLogger(__name__)

try:  # numba is optional; the fallback is exact but slower
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False


def _exceed_and_sum_py(x: np.ndarray, thr: float, ptr: np.ndarray, ridx: np.ndarray, w: np.ndarray,
                       nreg: int) -> tuple[np.ndarray, np.ndarray]:
    import scipy.sparse as sp

    ncell = x.shape[1]
    wmat = sp.csr_matrix((w.astype(np.float64), ridx, ptr), shape=(ncell, nreg))
    xv = np.nan_to_num(x.astype(np.float64), nan=0.0)
    hit = (x > thr).astype(np.float64)
    return np.asarray(hit @ wmat), np.asarray(xv @ wmat)


if HAVE_NUMBA:

    @numba.njit(nogil=True, cache=True, fastmath=False)
    def _exceed_and_sum_nb(x, thr, ptr, ridx, w, nreg):  # pragma: no cover - compiled
        k_n, c_n = x.shape
        exc = np.zeros((k_n, nreg), dtype=np.float64)
        val = np.zeros((k_n, nreg), dtype=np.float64)
        for k in range(k_n):
            for c in range(c_n):
                a = ptr[c]
                b = ptr[c + 1]
                if a == b:
                    continue
                v = x[k, c]
                if v != v:  # NaN: no value, no exceedance
                    continue
                hit = v > thr
                for j in range(a, b):
                    r = ridx[j]
                    ww = w[j]
                    val[k, r] += ww * v
                    if hit:
                        exc[k, r] += ww
        return exc, val


def exceed_and_sum(x: np.ndarray, thr: float, ptr: np.ndarray, ridx: np.ndarray, w: np.ndarray,
                   nreg: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted exceedance count and weighted sum per region for a (rows x cells) block.

    Parameters
    ----------
    x : numpy.ndarray
        Shape ``(K, C)``, C-contiguous, float32 or float64.
    thr : float
        Exceedance threshold (strict ``>``); use ``inf`` to skip.
    ptr, ridx, w : numpy.ndarray
        Weights in compressed-sparse-row form by cell: cell ``c`` belongs to regions
        ``ridx[ptr[c]:ptr[c+1]]`` with weights ``w[ptr[c]:ptr[c+1]]``.
    nreg : int
        Number of regions.

    Returns
    -------
    tuple of numpy.ndarray
        ``(exceed, total)``, each ``(K, nreg)`` float64: :math:`\\sum_c w_{rc} [x_{kc} > t]` and
        :math:`\\sum_c w_{rc} x_{kc}` (NaN values contribute nothing).
    """
    x = np.ascontiguousarray(x)
    if HAVE_NUMBA:
        return _exceed_and_sum_nb(x, np.float64(thr), ptr, ridx, w, np.int64(nreg))
    return _exceed_and_sum_py(x, thr, ptr, ridx, w, nreg)
