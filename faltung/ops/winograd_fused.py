"""The three F(4x4, 3x3) tile transforms of ``winograd.py``, each fused into one pass (Numba).

``winograd.py`` applies B^T . B, A^T . A and A . A^T as small GEMMs over copies of the tiles:
clear, but every stage reads and writes the whole transformed array again, and at 2.25x the
size of the feature map that traffic, not the multiplications, is what the step waits for.
Here each tile is read once, transformed in registers with the explicit rows of B^T and A^T
(Lavin & Gray 2015, section 4.2) and written once; the channel loop is innermost and
contiguous, so it runs in SIMD, and the tiles are shared out over the threads (``prange``).

  ``input_transform(x, top, left, th, tw, v)``           x (N, H, W, C) -> v (36, P, C), zero padding
                                                        read as zeros, never copied
  ``output_transform(m, th, tw, bias, relu, y)``        m (36, P, K) -> y (N, H_out, W_out, K), with
                                                        the bias added and ReLU applied in passing
  ``output_grad_transform(dy, th, tw, dm)``             dy (N, H_out, W_out, K) -> dm (36, P, K)

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


@njit(inline="always")
def _tile(x, image, row0, col0, rows, cols, d):
    """d = the rows x cols window of image at (row0, col0), zero where it hangs over x's edges
    (the convolution's zero padding, and the bottom/right rows that only fill whole tiles)."""
    _, h, w, channels = x.shape
    for a in range(rows):
        for b in range(cols):
            r, c = row0 + a, col0 + b
            if 0 <= r < h and 0 <= c < w:
                for ch in range(channels):
                    d[a, b, ch] = x[image, r, c, ch]
            else:
                for ch in range(channels):
                    d[a, b, ch] = 0


@njit(parallel=True, cache=True)
def input_transform(x, top, left, tiles_h, tiles_w, v):
    """V[xi, p, c] = (B^T d B)[xi] for the 6x6 tile d of tile p: tile (t, u) of an image starts at
    row 4t - top, column 4u - left of x (N, H, W, C); tiles overlap by 2."""
    n, _, _, channels = x.shape
    per_image = tiles_h * tiles_w
    for p in prange(n * per_image):
        image, rest = p // per_image, p % per_image
        d = np.empty((6, 6, channels), dtype=x.dtype)
        _tile(x, image, 4 * (rest // tiles_w) - top, 4 * (rest % tiles_w) - left, 6, 6, d)
        t = np.empty((6, 6, channels), dtype=x.dtype)
        for b in range(6):  # t = B^T d, column by column
            for c in range(channels):
                r = _bt(d[0, b, c], d[1, b, c], d[2, b, c], d[3, b, c], d[4, b, c], d[5, b, c])
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
    per_image = tiles_h * tiles_w
    zero = y.dtype.type(0)
    for p in prange(n * per_image):
        image, rest = p // per_image, p % per_image
        top, left = 4 * (rest // tiles_w), 4 * (rest % tiles_w)
        t = np.empty((4, 6, channels), dtype=m.dtype)
        for b in range(6):  # t = A^T M
            for k in range(channels):
                r = _at(m[b, p, k], m[6 + b, p, k], m[12 + b, p, k],
                        m[18 + b, p, k], m[24 + b, p, k], m[30 + b, p, k])
                for i in range(4):
                    t[i, b, k] = r[i]
        out = np.empty((4, 4, channels), dtype=m.dtype)
        for i in range(4):  # t A, plus bias
            for k in range(channels):
                r = _at(t[i, 0, k], t[i, 1, k], t[i, 2, k], t[i, 3, k], t[i, 4, k], t[i, 5, k])
                for j in range(4):
                    out[i, j, k] = r[j] + bias[k]
        for i in range(min(4, h - top)):
            for j in range(min(4, w - left)):
                for k in range(channels):
                    value = out[i, j, k]
                    y[image, top + i, left + j, k] = zero if relu and value < zero else value


@njit(parallel=True, cache=True)
def output_grad_transform(dy, tiles_h, tiles_w, dm):
    """dM[xi, p, k] = (A dY A^T)[xi] for the 4x4 tile of dY (N, H, W, K) of tile p, zero beyond dY's
    edge (those outputs were dropped): the adjoint of ``output_transform``."""
    n, _, _, channels = dy.shape
    per_image = tiles_h * tiles_w
    for p in prange(n * per_image):
        image, rest = p // per_image, p % per_image
        d = np.empty((4, 4, channels), dtype=dy.dtype)
        _tile(dy, image, 4 * (rest // tiles_w), 4 * (rest % tiles_w), 4, 4, d)
        t = np.empty((6, 4, channels), dtype=dy.dtype)
        for s in range(4):  # t = A dY
            for k in range(channels):
                r = _a(d[0, s, k], d[1, s, k], d[2, s, k], d[3, s, k])
                for a in range(6):
                    t[a, s, k] = r[a]
        for a in range(6):  # dM = t A^T
            for k in range(channels):
                r = _a(t[a, 0, k], t[a, 1, k], t[a, 2, k], t[a, 3, k])
                for b in range(6):
                    dm[6 * a + b, p, k] = r[b]
