"""The three F(4x4, 3x3) tile transforms of ``winograd.py``, each fused into one pass (Numba).

``winograd.py`` applies B^T . B, A^T . A and A . A^T as small GEMMs over copies of the tiles:
clear, but every stage reads and writes the whole transformed array again, and at 2.25x the
size of the feature map that traffic, not the multiplications, is what the step waits for.
Here each tile is read once, transformed in registers with the explicit rows of B^T and A^T
(Lavin & Gray 2015, section 4.2) and written once; the channel loop is innermost and
contiguous, so it runs in SIMD, and the tiles are shared out over the threads (``prange``).

  ``input_transform(xpad, th, tw, v)``            xpad (N, 4*th+2, 4*tw+2, C) -> v (36, P, C)
  ``output_transform(m, th, tw, bias, relu, y)``   m (36, P, K) -> y (N, H_out, W_out, K): the bias
                                                  added, ReLU applied, the overhang dropped in passing
  ``output_grad_transform(dy, dm)``               dy (N, 4*th, 4*tw, K) -> dm (36, P, K)

P = N * th * tw tiles, numbered image by image, row by row; xi = 6*a + b is the position in the
6x6 transformed tile. The tests check each against the GEMM form in ``winograd.py``.

Run them through ``jit.run`` (threads, one caller at a time).
"""
import numpy as np
from numba import njit, prange

from . import jit  # noqa: F401  (sets Numba's threading layer before the first kernel runs)


# Multiplying by 2, 4, 8 as repeated additions keeps float32 in float32 (Numba would promote
# ``4 * x`` to float64) and is exact.
@njit(inline="always")
def _x2(x):
    return x + x


@njit(inline="always")
def _x4(x):
    return _x2(_x2(x))


@njit(inline="always")
def _bt(d0, d1, d2, d3, d4, d5):
    """The six rows of B^T (F(4x4, 3x3)) applied to a column d:
    (4d0 - 5d2 + d4, -4d1 - 4d2 + d3 + d4, 4d1 - 4d2 - d3 + d4, -2d1 - d2 + 2d3 + d4,
     2d1 - d2 - 2d3 + d4, 4d1 - 5d3 + d5)."""
    odd, even = _x2(d3 - d1), d4 - d2
    return (_x4(d0 - d2) - d2 + d4,
            (d3 + d4) - _x4(d1 + d2),
            (d4 - d3) + _x4(d1 - d2),
            even + odd,
            even - odd,
            _x4(d1 - d3) - d3 + d5)


@njit(inline="always")
def _at(m0, m1, m2, m3, m4, m5):
    """The four rows of A^T applied to a column m:
    (m0 + m1 + m2 + m3 + m4, m1 - m2 + 2m3 - 2m4, m1 + m2 + 4m3 + 4m4, m1 - m2 + 8m3 - 8m4 + m5)."""
    plus, minus = m1 + m2, m1 - m2
    plus2, minus2 = m3 + m4, m3 - m4
    return (m0 + plus + plus2,
            minus + _x2(minus2),
            plus + _x4(plus2),
            minus + _x2(_x4(minus2)) + m5)


@njit(inline="always")
def _a(g0, g1, g2, g3):
    """The six rows of A (the columns of A^T) applied to a column g, the adjoint of ``_at``:
    (g0, g0 + g1 + g2 + g3, g0 - g1 + g2 - g3, g0 + 2g1 + 4g2 + 8g3, g0 - 2g1 + 4g2 - 8g3, g3)."""
    even, odd = g0 + g2, g1 + g3
    even4, odd4 = g0 + _x4(g2), _x2(g1 + _x4(g3))
    return (g0, even + odd, even - odd, even4 + odd4, even4 - odd4, g3)


@njit(parallel=True, cache=True)
def input_transform(xpad, tiles_h, tiles_w, v):
    """V[xi, p, c] = (B^T d B)[xi] for the 6x6 tile d of tile p (tiles overlap by 2, stride 4)."""
    n, _, _, channels = xpad.shape
    per_image = tiles_h * tiles_w
    for p in prange(n * per_image):
        image, rest = p // per_image, p % per_image
        top, left = 4 * (rest // tiles_w), 4 * (rest % tiles_w)
        t = np.empty((6, 6, channels), dtype=xpad.dtype)
        for b in range(6):  # t = B^T d, column by column
            for c in range(channels):
                r = _bt(xpad[image, top, left + b, c], xpad[image, top + 1, left + b, c],
                        xpad[image, top + 2, left + b, c], xpad[image, top + 3, left + b, c],
                        xpad[image, top + 4, left + b, c], xpad[image, top + 5, left + b, c])
                for i in range(6):
                    t[i, b, c] = r[i]
        for i in range(6):  # V = t B, row by row
            for c in range(channels):
                r = _bt(t[i, 0, c], t[i, 1, c], t[i, 2, c], t[i, 3, c], t[i, 4, c], t[i, 5, c])
                for j in range(6):
                    v[6 * i + j, p, c] = r[j]


@njit(parallel=True, cache=True)
def output_transform(m, tiles_h, tiles_w, bias, relu, y):
    """y[image, 4t + r, 4u + s, k] = (A^T M A)[r, s] + bias[k] for the 6x6 tile M[:, p, k] of tile
    p = (image, t, u), then max(0, .) if ``relu``; the part of a tile beyond y's edge is dropped."""
    n, h, w, channels = y.shape
    zero = y.dtype.type(0)
    for row in prange(n * tiles_h):  # one row of tiles of one image per task
        image, t_row = row // tiles_h, row % tiles_h
        t = np.empty((4, 6, channels), dtype=m.dtype)
        out = np.empty((4, 4, channels), dtype=m.dtype)
        top = 4 * t_row
        for t_col in range(tiles_w):
            p, left = row * tiles_w + t_col, 4 * t_col
            for b in range(6):  # t = A^T M
                for k in range(channels):
                    r = _at(m[b, p, k], m[6 + b, p, k], m[12 + b, p, k],
                            m[18 + b, p, k], m[24 + b, p, k], m[30 + b, p, k])
                    for i in range(4):
                        t[i, b, k] = r[i]
            for i in range(4):  # out = t A + bias
                for k in range(channels):
                    r = _at(t[i, 0, k], t[i, 1, k], t[i, 2, k], t[i, 3, k], t[i, 4, k], t[i, 5, k])
                    for j in range(4):
                        out[i, j, k] = r[j] + bias[k]
            if relu:
                for i in range(4):
                    for j in range(4):
                        for k in range(channels):
                            out[i, j, k] = max(out[i, j, k], zero)
            for i in range(min(4, h - top)):
                for j in range(min(4, w - left)):
                    for k in range(channels):
                        y[image, top + i, left + j, k] = out[i, j, k]


@njit(parallel=True, cache=True)
def output_grad_transform(dy, dm):
    """dM[xi, p, k] = (A dY A^T)[xi] for the 4x4 tile of dY of tile p (the adjoint of ``output_transform``)."""
    n, height, width, channels = dy.shape
    tiles_h, tiles_w = height // 4, width // 4
    per_image = tiles_h * tiles_w
    for p in prange(n * per_image):
        image, rest = p // per_image, p % per_image
        top, left = 4 * (rest // tiles_w), 4 * (rest % tiles_w)
        t = np.empty((6, 4, channels), dtype=dy.dtype)
        for s in range(4):  # t = A dY
            for k in range(channels):
                r = _a(dy[image, top, left + s, k], dy[image, top + 1, left + s, k],
                       dy[image, top + 2, left + s, k], dy[image, top + 3, left + s, k])
                for a in range(6):
                    t[a, s, k] = r[a]
        for a in range(6):  # dM = t A^T
            for k in range(channels):
                r = _a(t[a, 0, k], t[a, 1, k], t[a, 2, k], t[a, 3, k])
                for b in range(6):
                    dm[6 * a + b, p, k] = r[b]
