"""Block kernels for region sums: one compiled pass over a block of slices of one spatial tile.

The region weights of a spatial tile (``(region, lat, lon)``, zero where a region has no share of a cell) are
stored as *16-cell blocks* (:class:`TileWeights`): for every region and every aligned run of 16 consecutive
cells holding any weight of that region, the cells' first index and their 16 weights (zero for cells of
other regions; border cells appear once per region with their fraction). The blocks are sorted by *band*
(``BAND_CELLS`` consecutive cells, about 32 KiB of a float32 slice), then by region, so the kernel

* sums each (band, region) segment in SIMD registers with no gather and no per-run bookkeeping (border
  cells need no special case: they are just a block with fractional weights);
* first reads the band once in memory order (a sequential pass that the hardware prefetcher streams), so
  the region-ordered accesses that follow hit the cache;
* processes two slices per pass over the blocks, so block starts and weights are loaded once per two
  slices.

Lanes accumulate in float32 over at most ``FLUSH_BLOCKS`` blocks, then in float64. It is compiled with
``nogil`` so dask threads run blocks in parallel.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["BAND_CELLS", "BLOCK", "TileWeights", "exceed_and_sum", "tile_weights"]

logger = logging.getLogger(__name__)

#: Cells per block (one 64-byte cache line of float32).
BLOCK = 16
#: Cells per band: blocks are grouped by band so one band (32 KiB of float32) is read from memory at a time.
BAND_CELLS = 8192
#: float32 lane sums are moved into float64 after at most this many blocks.
FLUSH_BLOCKS = 256

_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}  # no "nnan": NaN tests must stay


class TileWeights(NamedTuple):
    """Region weights of one spatial tile as 16-cell blocks (see the module docstring)."""

    start: np.ndarray  # (nblk,) int64: first cell of each block; start + BLOCK <= padded cell count
    weight: np.ndarray  # (nblk, BLOCK) float32: weights of the block's cells for the segment's region
    seg_ptr: np.ndarray  # (nseg + 1,) int64: blocks of segment g are seg_ptr[g]:seg_ptr[g + 1]
    seg_region: np.ndarray  # (nseg,) int64 region index of each segment
    seg_band: np.ndarray  # (nseg,) int64 band of each segment (segments are sorted by band)
    ncell: int  # cells of the tile (lat x lon)
    nreg: int


@numba.njit(nogil=True, cache=True)
def _block_lists(flat, band_cells):  # pragma: no cover - compiled
    """Blocks of a ``(region, cells)`` weight array (cells >= 16), sorted by (band, region, start)."""
    nreg, ncell = flat.shape
    nfull = ncell // 16
    nb = -(-ncell // 16)
    flags = np.zeros((nreg, nb), dtype=np.bool_)
    nblk = 0
    for r in range(nreg):  # one pass over the weights in memory order
        row = flat[r]
        for b in range(nfull):
            blk = row[b * 16:b * 16 + 16]
            s = np.float32(0.0)
            for j in range(16):
                s += abs(blk[j])  # != 0 also for NaN weights, which then show in the results
            if s != 0:
                flags[r, b] = True
                nblk += 1
        if nb > nfull:
            for c in range(nfull * 16, ncell):
                if row[c] != 0 and not flags[r, nb - 1]:
                    flags[r, nb - 1] = True
                    nblk += 1
    start = np.empty(nblk, dtype=np.int64)
    weight = np.zeros((nblk, 16), dtype=np.float32)
    seg_ptr = np.zeros(nblk + 1, dtype=np.int64)
    seg_region = np.empty(nblk, dtype=np.int64)
    seg_band = np.empty(nblk, dtype=np.int64)
    bpb = band_cells // 16  # blocks per band
    i = 0
    nseg = 0
    for band in range(-(-nb // bpb)):
        for r in range(nreg):
            first = i
            for b in range(band * bpb, min(band * bpb + bpb, nb)):
                if flags[r, b]:
                    lo = b * 16
                    s0 = min(lo, ncell - 16)  # a short last block is shifted left to end at the last cell
                    start[i] = s0
                    for j in range(16):
                        if s0 + j >= lo:  # lanes of the previous block keep zero weight
                            weight[i, j] = flat[r, s0 + j]
                    i += 1
            if i > first:
                seg_region[nseg] = r
                seg_band[nseg] = band
                nseg += 1
                seg_ptr[nseg] = i
    return start, weight, seg_ptr[:nseg + 1].copy(), seg_region[:nseg].copy(), seg_band[:nseg].copy()


def tile_weights(wblock: np.ndarray) -> TileWeights:
    """16-cell block weights of a ``(region, lat, lon)`` weight tile.

    Parameters
    ----------
    wblock : numpy.ndarray
        ``(R, ny, nx)`` weights (zero where a region has no share of a cell); converted to float32.

    Returns
    -------
    TileWeights
    """
    nreg = wblock.shape[0]
    ncell = int(np.prod(wblock.shape[1:], dtype=np.int64))
    flat = np.ascontiguousarray(wblock, dtype=np.float32).reshape(nreg, ncell)
    if ncell < BLOCK:  # tiny tile: pad with zero weights (exceed_and_sum pads the data the same way)
        flat = np.concatenate([flat, np.zeros((nreg, BLOCK - ncell), dtype=np.float32)], axis=1)
    return TileWeights(*_block_lists(flat, np.int64(BAND_CELLS)), ncell, nreg)


@intrinsic
def _stack_f32x64(typingctx):  # pragma: no cover - compiled
    """64 float32 on the stack: LLVM keeps them in SIMD registers (a heap array would alias the inputs)."""

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, context.get_value_type(types.float32),
                                   size=context.get_constant(types.intp, 64))

    return types.CPointer(types.float32)(), codegen


@numba.njit(nogil=True, cache=True, fastmath=_FASTMATH, error_model="numpy")
def _block_sums(x, thr, start, weight, seg_ptr, seg_region, seg_band, band_cells, nreg):  # pragma: no cover
    nk, ncell = x.shape
    exc = np.zeros((nk, nreg), dtype=np.float64)
    val = np.zeros((nk, nreg), dtype=np.float64)
    t = np.float32(thr)
    z = np.float32(0.0)
    acc = numba.carray(_stack_f32x64(), 64)  # lanes: [val k0 | exc k0 | val k1 | exc k1] x 16
    touched = np.float32(0.0)
    for k0 in range(0, nk, 2):
        k1 = min(k0 + 1, nk - 1)  # odd count: the last slice is summed twice and stored once
        xa = x[k0]
        xb = x[k1]
        band = -1
        for g in range(seg_region.size):
            if seg_band[g] != band:  # read the new band once in memory order (one float per cache line)
                band = seg_band[g]
                lo = band * band_cells
                hi = min(lo + band_cells, ncell)
                for c in range(lo, hi, 16):
                    touched += xa[c] + xb[c]
            r = seg_region[g]
            a = seg_ptr[g]
            end = seg_ptr[g + 1]
            va = 0.0
            ea = 0.0
            vb = 0.0
            eb = 0.0
            while a < end:
                stop = min(a + FLUSH_BLOCKS, end)
                for j in range(64):
                    acc[j] = z
                for i in range(a, stop):
                    s = start[i]
                    pa = xa[s:s + 16]
                    pb = xb[s:s + 16]
                    w = weight[i]
                    for j in range(16):
                        ww = w[j]
                        v = pa[j]
                        acc[j] += ww * v if v == v else z
                        acc[16 + j] += ww if v > t else z
                        u = pb[j]
                        acc[32 + j] += ww * u if u == u else z
                        acc[48 + j] += ww if u > t else z
                for j in range(16):
                    va += acc[j]
                    ea += acc[16 + j]
                    vb += acc[32 + j]
                    eb += acc[48 + j]
                a = stop
            val[k0, r] += va
            exc[k0, r] += ea
            if k1 != k0:
                val[k1, r] += vb
                exc[k1, r] += eb
    return exc, val, touched  # returning the band reads keeps them from being optimised away


def exceed_and_sum(x: np.ndarray, thr: float, tw: TileWeights) -> tuple[np.ndarray, np.ndarray]:
    """Weighted exceedance and weighted sum per region for a ``(slices x cells)`` block of one tile.

    Parameters
    ----------
    x : numpy.ndarray
        Shape ``(K, C)`` with ``C == tw.ncell``; converted to C-contiguous float32 if needed.
    thr : float
        Exceedance threshold (strict ``>``); ``inf`` gives sums only.
    tw : TileWeights
        Weights of the tile (:func:`tile_weights`).

    Returns
    -------
    tuple of numpy.ndarray
        ``(exceed, total)``, each ``(K, nreg)`` float64: :math:`\\sum_c w_{rc} [x_{kc} > t]` and
        :math:`\\sum_c w_{rc} x_{kc}` (NaN values contribute nothing).
    """
    if x.shape[1] != tw.ncell:
        raise ValueError(f"block has {x.shape[1]} cells, the tile weights {tw.ncell}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if tw.ncell < BLOCK:
        x = np.concatenate([x, np.zeros((x.shape[0], BLOCK - tw.ncell), dtype=np.float32)], axis=1)
    if x.shape[0] == 0:
        return np.zeros((0, tw.nreg)), np.zeros((0, tw.nreg))
    exc, val, _ = _block_sums(x, np.float64(thr), tw.start, tw.weight, tw.seg_ptr, tw.seg_region, tw.seg_band,
                              np.int64(BAND_CELLS), np.int64(tw.nreg))
    return exc, val
