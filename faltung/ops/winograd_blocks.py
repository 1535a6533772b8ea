"""F(4x4, 3x3) Winograd convolution a block of tiles at a time (Numba), for ``winograd.py``.

All three stages at once, ``block`` tiles at a time on each thread, calling BLAS for the GEMMs from
that thread (``blas.gemm``, run with ``jit.run(..., blas_inside=True)``), so a block's V and M never
leave the core's cache. The tile functions are those of ``winograd_fused.py``:
  ``conv_blocks(x, top, left, u, bias, relu, th, tw, block, y, v_all)``     the convolution (V kept
                                                     in v_all for the backward if it has room)
  ``backward_blocks(x, top, left, dy, ut, th, tw, block, du, dx, need_dx, v_all, y, db)``  dU = sum V^T dM
                                                     and dX = B (dM U^T) B^T (dY through the ReLU's
                                                     backward first if y is given)
Pays off while the transformed filters U stay cached beside the block (``winograd.BLOCKED_MAX_FILTER_BYTES``).
The tests check both against the one-stage kernels with NumPy's GEMMs between them. Run them through
``jit.run`` (threads, one caller at a time).
"""
import numpy as np
from numba import njit, prange

from . import jit  # noqa: F401  (sets Numba's threading layer before the first kernel runs)
from .blas import gemm
from .winograd_fused import _input_grad_tile, _input_tile, _output_grad_tile, _output_tile


@njit(parallel=True, cache=True)
def conv_blocks(x, top, left, u, bias, relu, tiles_h, tiles_w, block, y, v_all):
    """The whole F(4x4, 3x3) convolution, ``block`` tiles at a time: each block's V (36, block, C)
    and M (36, block, K) stay in the core's cache between the input transform, the 36 GEMMs
    M[xi] = V[xi] @ U[xi] (BLAS, on this thread) and the output transform (bias, ReLU, crop).

    u: (36, C, K) transformed filters. Pays off while U is small enough to stay cached as well.
    v_all: (36, P, C) to keep every block's V in for the backward, or (36, 0, C) to keep none.
    """
    channels, filters = x.shape[3], u.shape[2]
    tiles = x.shape[0] * tiles_h * tiles_w
    keep = v_all.shape[1] > 0
    for first in prange((tiles + block - 1) // block):
        start = first * block
        size = min(tiles, start + block) - start
        v = v_all[:, start:start + size] if keep else np.empty((36, block, channels), dtype=x.dtype)[:, :size]
        d = np.empty((1, 6, 6, channels), dtype=x.dtype)
        t = np.empty((6, 6, channels), dtype=x.dtype)
        for q in range(size):
            _input_tile(x, top, left, start + q, tiles_h, tiles_w, d, t, v, q)
        m = np.empty((36, size, filters), dtype=y.dtype)
        for xi in range(36):
            gemm(v[xi], u[xi], m[xi], False, 0.0)
        t_out = np.empty((4, 6, filters), dtype=y.dtype)
        out = np.empty((4, 4, filters), dtype=y.dtype)
        for q in range(size):
            _output_tile(m, q, start + q, tiles_h, tiles_w, bias, relu, t_out, out, y)


@njit(parallel=True, cache=True)
def backward_blocks(x, top, left, dy, ut, tiles_h, tiles_w, block, du, dx, need_dx, v_all, y, db):
    """Both gradients of ``conv_blocks``, ``block`` tiles at a time through every stage:
    dM = A dY A^T and V = B^T d B (the forward's, or made again from x), du[part] += V[xi]^T @ dM[xi]
    and, if ``need_dx``, dV[xi] = dM[xi] @ U[xi]^T, added into dx as B dV B^T.

    x: (N, H, W, C) the forward's input (padding top/left), dy: (N, H_out, W_out, K), ut: (36, K, C)
    the transformed filters transposed, du: (parts, 36, C, K) one partial sum per part (the caller
    adds them: a fixed split, so the same thread count gives the same bits), dx: (N, H, W, C)
    (overwritten), v_all: the forward's V (36, P, C), or (36, 0, C) to make it again from x.
    y: the forward's output max(0, z) (N, H_out, W_out, K) to take dY through the ReLU's backward
    (dZ = dY [y > 0]) as its tiles are read, db: (parts, K) the sums of dZ; or y of length 0.
    Each part takes whole images, so tiles that overlap are added by one thread.
    """
    parts, n, per_image = du.shape[0], dy.shape[0], tiles_h * tiles_w
    channels, filters = du.shape[2], dy.shape[3]
    kept = v_all.shape[1] > 0
    for part in prange(parts):
        du[part] = 0
        db[part] = 0
        db_block = np.empty(filters, dtype=dy.dtype)  # a sum per block, then into the part's
        first_image, last_image = part * n // parts, (part + 1) * n // parts
        if need_dx:
            dx[first_image:last_image] = 0
        v = np.empty((36, block, channels), dtype=x.dtype)
        d_in = np.empty((1, 6, 6, channels), dtype=x.dtype)
        t_in = np.empty((6, 6, channels), dtype=x.dtype)
        dd = np.empty((6, 6, channels), dtype=x.dtype)
        dm = np.empty((36, block, filters), dtype=dy.dtype)
        d = np.empty((1, 4, 4, filters), dtype=dy.dtype)
        t = np.empty((6, 4, filters), dtype=dy.dtype)
        last = last_image * per_image
        for start in range(first_image * per_image, last, block):
            size = min(last, start + block) - start
            db_block[:] = 0
            for q in range(size):
                if not kept:
                    _input_tile(x, top, left, start + q, tiles_h, tiles_w, d_in, t_in, v, q)
                _output_grad_tile(dy, start + q, tiles_h, tiles_w, d, t, dm, q, y, db_block)
            db[part] += db_block
            vb = v_all[:, start:start + size] if kept else v[:, :size]
            for xi in range(36):
                gemm(vb[xi], dm[xi, :size], du[part, xi], True, 1.0)
            if need_dx:
                for xi in range(36):  # the block buffer is free (again): dV takes its place
                    gemm(dm[xi, :size], ut[xi], v[xi, :size], False, 0.0)
                for q in range(size):
                    _input_grad_tile(v, q, start + q, tiles_h, tiles_w, top, left, t_in, dd, dx)
