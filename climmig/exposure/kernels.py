"""Block kernels for region sums: one pass over a block of cells.

Weights of a spatial block are kept per cell: most cells belong to one region (``cell_region``,
``cell_weight``); cells split between regions (borders) are listed separately in compressed-sparse-row
form. The compiled kernel walks each row of the block once, accumulating runs of cells of the same region in
eight float32 lanes (one SIMD register; float64 across runs and blocks), and adds ``w * x`` and
``w * [x > t]``. With numba
it is compiled with ``nogil`` so dask threads run blocks in parallel; without numba a scipy.sparse fallback
gives the same numbers more slowly.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

__all__ = ["HAVE_NUMBA", "CellWeights", "cell_weights", "exceed_and_sum", "grid_cell_weights"]

logger = logging.getLogger(__name__)

NO_REGION = -1
SPLIT = -2

try:  # numba is optional; the fallback is exact but slower
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False


class CellWeights(NamedTuple):
    """Region weights of one spatial block, by cell (see module docstring)."""

    cell_region: np.ndarray  # (C,) int64: region index, NO_REGION or SPLIT
    cell_weight: np.ndarray  # (C,) float64 weight of single-region cells
    split_ptr: np.ndarray  # (C + 1,) int64 offsets into split_region/split_weight (only split cells non-empty)
    split_region: np.ndarray  # (nnz,) int64
    split_weight: np.ndarray  # (nnz,) float64
    nreg: int
    run_start: np.ndarray  # (n_runs,) int64: runs of consecutive cells with the same cell_region
    run_end: np.ndarray  # (n_runs,) int64
    weight32: np.ndarray  # (C,) float32 copy of cell_weight (vectorised inner loop)


def _assemble(count: np.ndarray, first: np.ndarray, wfirst: np.ndarray, split_cols: np.ndarray,
              split_matrix: np.ndarray, nreg: int) -> CellWeights:
    """CellWeights from per-cell region counts, first region and its weight, and the split cells' columns."""
    ncell = count.size
    region = np.where(count == 1, first, np.where(count == 0, NO_REGION, SPLIT)).astype(np.int64)
    weight = np.where(count == 1, wfirst, 0.0).astype(np.float64)
    sc, sr = np.nonzero(split_matrix.T != 0)  # (split cell, region) pairs, cell-major
    ptr = np.zeros(ncell + 1, dtype=np.int64)
    per_cell = np.zeros(ncell, dtype=np.int64)
    per_cell[split_cols] = count[split_cols]
    np.cumsum(per_cell, out=ptr[1:])
    change = np.nonzero(np.diff(region) != 0)[0] + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    ends = np.concatenate([change, [ncell]]).astype(np.int64)
    return CellWeights(region, weight, ptr, sr.astype(np.int64), split_matrix[sr, sc].astype(np.float64), nreg,
                       starts, ends, weight.astype(np.float32))


def cell_weights(wblock: np.ndarray) -> CellWeights:
    """Per-cell weights of a ``(region, lat, lon)`` block.

    Parameters
    ----------
    wblock : numpy.ndarray
        ``(R, ny, nx)`` weights (zero where a region has no share of a cell).

    Returns
    -------
    CellWeights
    """
    nreg = wblock.shape[0]
    flat = wblock.reshape(nreg, -1)
    nz = flat != 0
    count = nz.sum(axis=0)
    first = nz.argmax(axis=0)
    wfirst = flat[first, np.arange(flat.shape[1])]
    split_cols = np.nonzero(count > 1)[0]
    return _assemble(count, first, wfirst, split_cols, flat[:, split_cols], nreg)


def grid_cell_weights(weights: np.ndarray, lat_chunks: tuple[int, ...], lon_chunks: tuple[int, ...]
                      ) -> dict[tuple[int, int], CellWeights]:
    """Per-cell weights of every spatial block of an in-memory ``(region, lat, lon)`` weight array.

    One pass over the whole array (counts, first region) instead of one per block.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(R, ny, nx)``.
    lat_chunks, lon_chunks : tuple of int
        Block sizes of the field the weights will be applied to.

    Returns
    -------
    dict
        ``(iy, ix) -> CellWeights``.
    """
    nreg = weights.shape[0]
    nz = weights != 0
    count = nz.sum(axis=0)
    first = nz.argmax(axis=0)
    wfirst = np.take_along_axis(weights, first[None], axis=0)[0]
    table = {}
    y0 = 0
    for iy, ny in enumerate(lat_chunks):
        x0 = 0
        for ix, nx in enumerate(lon_chunks):
            cnt = count[y0:y0 + ny, x0:x0 + nx].ravel()
            split_cols = np.nonzero(cnt > 1)[0]
            yy, xx = np.divmod(split_cols, nx)
            split_matrix = weights[:, y0 + yy, x0 + xx]
            table[(iy, ix)] = _assemble(cnt, first[y0:y0 + ny, x0:x0 + nx].ravel(),
                                        wfirst[y0:y0 + ny, x0:x0 + nx].ravel(), split_cols, split_matrix, nreg)
            x0 += nx
        y0 += ny
    return table


def _exceed_and_sum_py(x: np.ndarray, thr: float, cw: CellWeights) -> tuple[np.ndarray, np.ndarray]:
    import scipy.sparse as sp

    ncell = x.shape[1]
    single = np.nonzero(cw.cell_region >= 0)[0]
    rows = np.concatenate([single, np.repeat(np.arange(ncell), np.diff(cw.split_ptr))])
    cols = np.concatenate([cw.cell_region[single], cw.split_region])
    vals = np.concatenate([cw.cell_weight[single], cw.split_weight])
    wmat = sp.csr_matrix((vals, (rows, cols)), shape=(ncell, cw.nreg))
    xv = np.nan_to_num(x.astype(np.float64), nan=0.0)
    hit = (x > thr).astype(np.float64)
    return np.asarray(hit @ wmat), np.asarray(xv @ wmat)


if HAVE_NUMBA:

    @numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract", "nsz", "arcp"})
    def _exceed_and_sum_nb(x, thr, region, w32, ptr, sreg, sw, nreg, starts, ends):  # pragma: no cover
        k_n = x.shape[0]
        exc = np.zeros((k_n, nreg), dtype=np.float64)
        val = np.zeros((k_n, nreg), dtype=np.float64)
        t32 = np.float32(thr)
        zero = np.float32(0.0)
        accv = np.zeros(8, dtype=np.float32)  # 8 lanes: the compiler keeps them in one SIMD register
        acce = np.zeros(8, dtype=np.float32)
        for k in range(k_n):
            for i in range(starts.size):
                a = starts[i]
                b = ends[i]
                r = region[a]
                if r >= 0:  # a run of cells of one region
                    for j in range(8):
                        accv[j] = zero
                        acce[j] = zero
                    n8 = a + ((b - a) // 8) * 8
                    for c0 in range(a, n8, 8):
                        for j in range(8):
                            v = x[k, c0 + j]
                            ww = w32[c0 + j]
                            accv[j] += ww * v
                            acce[j] += ww if v > t32 else zero
                    av = zero
                    ae = zero
                    for c in range(n8, b):
                        v = x[k, c]
                        ww = w32[c]
                        av += ww * v
                        ae += ww if v > t32 else zero
                    for j in range(8):
                        av += accv[j]
                        ae += acce[j]
                    if av != av:  # a NaN in the run (rare): redo the sum skipping NaN
                        av = zero
                        for c in range(a, b):
                            v = x[k, c]
                            if v == v:
                                av += w32[c] * v
                    val[k, r] += av
                    exc[k, r] += ae
                elif r == -2:  # cells split between regions
                    for c in range(a, b):
                        v = np.float64(x[k, c])
                        if v == v:
                            for j in range(ptr[c], ptr[c + 1]):
                                rr = sreg[j]
                                val[k, rr] += sw[j] * v
                                if v > thr:
                                    exc[k, rr] += sw[j]
        return exc, val


def exceed_and_sum(x: np.ndarray, thr: float, cw: CellWeights) -> tuple[np.ndarray, np.ndarray]:
    """Weighted exceedance count and weighted sum per region for a (rows x cells) block.

    Parameters
    ----------
    x : numpy.ndarray
        Shape ``(K, C)``, float32 or float64 (made C-contiguous).
    thr : float
        Exceedance threshold (strict ``>``); ``inf`` gives sums only.
    cw : CellWeights
        Weights of the block's cells (:func:`cell_weights`).

    Returns
    -------
    tuple of numpy.ndarray
        ``(exceed, total)``, each ``(K, nreg)`` float64: :math:`\\sum_c w_{rc} [x_{kc} > t]` and
        :math:`\\sum_c w_{rc} x_{kc}` (NaN values contribute nothing).
    """
    x = np.ascontiguousarray(x)
    if HAVE_NUMBA:
        if x.dtype != np.float32:
            x = x.astype(np.float32)
        return _exceed_and_sum_nb(x, np.float64(thr), cw.cell_region, cw.weight32, cw.split_ptr,
                                  cw.split_region, cw.split_weight, np.int64(cw.nreg), cw.run_start, cw.run_end)
    return _exceed_and_sum_py(x, thr, cw)
