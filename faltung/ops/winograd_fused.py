"""F(4x4, 3x3) Winograd convolution in one pass per tile (Numba), for ``winograd.py``.

``winograd_algebra.py`` applies B^T . B, A^T . A and A . A^T as small GEMMs over copies of the tiles:
clear, but every stage reads and writes the whole transformed array again, and at 2.25x the
size of the feature map that traffic, not the multiplications, is what the step waits for.
Here each tile is read once, transformed in registers with the explicit rows of B^T and A^T
(Lavin & Gray 2015, section 4.2) and written once; the channel loop is innermost and
contiguous, so it runs in SIMD, and the tiles are shared out over the threads (``prange``).
A tile is read from the input in place; one that reaches into the padding is first gathered into
a small zero-filled buffer, so no padded copy of the input is ever made.

The stages one at a time (the GEMMs between them run in NumPy):
  ``input_transform(x, top, left, th, tw, v)``        x (N, H, W, C) -> v (36, P, C); the tiles start
                                                     at (-top, -left), zeros outside x
  ``output_transform(m, th, tw, bias, relu, y)``       m (36, P, K) -> y (N, H_out, W_out, K): the bias
                                                     added, ReLU applied, the overhang dropped in passing
  ``output_grad_transform(dy, th, tw, dm, y, db)``     dy (N, H_out, W_out, K) -> dm (36, P, K); with
                                                     the output y, through the ReLU's backward (db: its sum)
  ``input_grad_transform(dv, top, left, th, tw, dx)``  dv (36, P, C) -> dx (N, H, W, C) += B dV B^T of
                                                     every tile, where it lies on x (the adjoint)
All stages at once, a block of tiles at a time: ``winograd_blocks.py``, built on the tile
functions here.

P = N * th * tw tiles, numbered image by image, row by row; xi = 6*a + b is the position in the
6x6 transformed tile. The tests check each against the GEMM form in ``winograd_algebra.py``.

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
def _b(v0, v1, v2, v3, v4, v5):
    """The six rows of B (the columns of B^T) applied to a column v, the adjoint of ``_bt``:
    (4v0, -4v1 + 4v2 - 2v3 + 2v4 + 4v5, -5v0 - 4v1 - 4v2 - v3 - v4, v1 - v2 + 2v3 - 2v4 - 5v5,
     v0 + v1 + v2 + v3 + v4, v5)."""
    plus, minus = v1 + v2, v2 - v1
    plus2, minus2 = v3 + v4, v4 - v3
    return (_x4(v0),
            _x4(minus + v5) + _x2(minus2),
            -_x4(v0 + plus) - v0 - plus2,
            _x2(-minus2) - minus - _x4(v5) - v5,
            v0 + plus + plus2,
            v5)


@njit(cache=True)
def _tile_corner(p, tiles_h, tiles_w):
    """Image, top row and left column (in tile units times 4) of tile p."""
    per_image = tiles_h * tiles_w
    image, rest = p // per_image, p % per_image
    return image, 4 * (rest // tiles_w), 4 * (rest % tiles_w)


@njit(cache=True)
def _window(src, image, row, col, d):
    """The (rows, cols) window of src[image] at (row, col) as ``(array, image, row, col)`` to read it
    from: src itself where the window lies inside it, else d (1, rows, cols, C) holding a copy with
    zeros where the window leaves src (the padding)."""
    rows, cols = d.shape[1], d.shape[2]
    height, width = src.shape[1], src.shape[2]
    if row >= 0 and col >= 0 and row + rows <= height and col + cols <= width:
        return src, image, row, col
    d[:] = 0
    for i in range(max(0, -row), min(rows, height - row)):
        for j in range(max(0, -col), min(cols, width - col)):
            for c in range(src.shape[3]):
                d[0, i, j, c] = src[image, row + i, col + j, c]
    return d, 0, 0, 0


# Stores inside a channel loop run in SIMD when the six results of a row go to six slices of one
# scratch array along its *first* axis (w[j, i, c], j = 0..5); to six far-apart rows of V, or along
# a middle axis, LLVM left the loop scalar (one pass alone: 0.6 ns per number against 0.1). So the
# input transform's last pass writes a (6, 6, C) scratch that ``_rows_out`` copies out, and the
# input-gradient transform keeps its intermediate transposed (each 10-40% faster; the same change
# to the output transforms measured no faster, so they write directly).
@njit(inline="always")
def _rows_out(w, v, q):
    """v[6 * i + j, q, :] = w[j, i, :] for the 6x6 tile held transposed in w: (6, 6, C)."""
    for i in range(6):
        for j in range(6):
            for c in range(w.shape[2]):
                v[6 * i + j, q, c] = w[j, i, c]


@njit(cache=True)
def _input_tile(x, top, left, p, tiles_h, tiles_w, d, t, v, q):
    """v[:, q, :] = B^T d B for the 6x6 tile d of tile p (padding ``top``/``left``);
    d: (1, 6, 6, C), t: (6, 6, C) scratch."""
    image, row, col = _tile_corner(p, tiles_h, tiles_w)
    src, n, r0, c0 = _window(x, image, row - top, col - left, d)
    for b in range(6):  # t = B^T d, column by column
        for c in range(x.shape[3]):
            r = _bt(src[n, r0, c0 + b, c], src[n, r0 + 1, c0 + b, c], src[n, r0 + 2, c0 + b, c],
                    src[n, r0 + 3, c0 + b, c], src[n, r0 + 4, c0 + b, c], src[n, r0 + 5, c0 + b, c])
            for i in range(6):
                t[i, b, c] = r[i]
    w = d[0]  # free again (the tile was read): V^T = (t B)^T, a row of t at a time
    for i in range(6):
        for c in range(x.shape[3]):
            r = _bt(t[i, 0, c], t[i, 1, c], t[i, 2, c], t[i, 3, c], t[i, 4, c], t[i, 5, c])
            for j in range(6):
                w[j, i, c] = r[j]
    _rows_out(w, v, q)


@njit(cache=True)
def _output_tile(m, q, p, tiles_h, tiles_w, bias, relu, t, out, y):
    """y's 4x4 tile p = (A^T M A) + bias for the 6x6 tile M[:, q, :], max(0, .) if ``relu``; the part
    beyond y's edge is dropped. t: (4, 6, K), out: (4, 4, K) scratch."""
    image, top, left = _tile_corner(p, tiles_h, tiles_w)
    channels = y.shape[3]
    zero = y.dtype.type(0)
    for b in range(6):  # t = A^T M
        for k in range(channels):
            r = _at(m[b, q, k], m[6 + b, q, k], m[12 + b, q, k],
                    m[18 + b, q, k], m[24 + b, q, k], m[30 + b, q, k])
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
    for i in range(min(4, y.shape[1] - top)):
        for j in range(min(4, y.shape[2] - left)):
            for k in range(channels):
                y[image, top + i, left + j, k] = out[i, j, k]


@njit(cache=True)
def _relu_window(dy, y, image, row, col, d, db):
    """d (1, 4, 4, K) = the 4x4 window of dY at (row, col) through the ReLU's backward: dZ = dY where
    y = max(0, z) > 0, else 0 (formula 3.9), zeros beyond dY's edge; db (K,) += the window's sum of dZ."""
    d[:] = 0
    zero = d.dtype.type(0)
    for i in range(min(4, dy.shape[1] - row)):
        for j in range(min(4, dy.shape[2] - col)):
            for k in range(dy.shape[3]):
                g = dy[image, row + i, col + j, k] if y[image, row + i, col + j, k] > zero else zero
                d[0, i, j, k] = g
                db[k] += g
    return d, 0, 0, 0


@njit(cache=True)
def _output_grad_tile(dy, p, tiles_h, tiles_w, d, t, dm, q, y, db):
    """dm[:, q, :] = A dY A^T for the 4x4 tile of dY of tile p (zero beyond dY's edge: the
    outputs the forward dropped); d: (1, 4, 4, K), t: (6, 4, K) scratch. With the forward's
    output y = max(0, z) (N, H_out, W_out, K) (none: y of length 0), the tile is dZ = dY [y > 0]
    instead, and db (K,) += its sum: the ReLU's and the bias's backward on the way."""
    image, top, left = _tile_corner(p, tiles_h, tiles_w)
    if y.shape[0] > 0:
        src, n, r0, c0 = _relu_window(dy, y, image, top, left, d, db)
    else:
        src, n, r0, c0 = _window(dy, image, top, left, d)
    for s in range(4):  # t = A dY
        for k in range(dy.shape[3]):
            r = _a(src[n, r0, c0 + s, k], src[n, r0 + 1, c0 + s, k], src[n, r0 + 2, c0 + s, k],
                   src[n, r0 + 3, c0 + s, k])
            for a in range(6):
                t[a, s, k] = r[a]
    for a in range(6):  # dM = t A^T
        for k in range(dy.shape[3]):
            r = _a(t[a, 0, k], t[a, 1, k], t[a, 2, k], t[a, 3, k])
            for b in range(6):
                dm[6 * a + b, q, k] = r[b]


@njit(cache=True)
def _input_grad_tile(dv, q, p, tiles_h, tiles_w, top, left, t, dd, dx):
    """dx += B dV B^T for the 6x6 tile dV[:, q, :] of tile p, the part of it that lies on x (padding
    ``top``/``left``): the adjoint of ``_input_tile``. t, dd: (6, 6, C) scratch."""
    image, row, col = _tile_corner(p, tiles_h, tiles_w)
    row, col = row - top, col - left
    channels = dx.shape[3]
    for a in range(6):  # t^T = (dV B^T)^T, row by row (stored transposed: see _rows_out)
        for c in range(channels):
            r = _b(dv[6 * a, q, c], dv[6 * a + 1, q, c], dv[6 * a + 2, q, c],
                   dv[6 * a + 3, q, c], dv[6 * a + 4, q, c], dv[6 * a + 5, q, c])
            for s in range(6):
                t[s, a, c] = r[s]
    for s in range(6):  # dd = B t, column by column
        for c in range(channels):
            r = _b(t[s, 0, c], t[s, 1, c], t[s, 2, c], t[s, 3, c], t[s, 4, c], t[s, 5, c])
            for i in range(6):
                dd[i, s, c] = r[i]
    for i in range(max(0, -row), min(6, dx.shape[1] - row)):
        for j in range(max(0, -col), min(6, dx.shape[2] - col)):
            for c in range(channels):
                dx[image, row + i, col + j, c] += dd[i, j, c]


@njit(parallel=True, cache=True)
def input_transform(x, top, left, tiles_h, tiles_w, v):
    """V[xi, p, c] = (B^T d B)[xi] for the 6x6 tile d of tile p (tiles overlap by 2, stride 4)."""
    for p in prange(x.shape[0] * tiles_h * tiles_w):
        d = np.empty((1, 6, 6, x.shape[3]), x.dtype)
        _input_tile(x, top, left, p, tiles_h, tiles_w, d, np.empty((6, 6, x.shape[3]), x.dtype), v, p)


@njit(parallel=True, cache=True)
def output_transform(m, tiles_h, tiles_w, bias, relu, y):
    """y[image, 4t + r, 4u + s, k] = (A^T M A)[r, s] + bias[k] for the 6x6 tile M[:, p, k] of tile
    p = (image, t, u), then max(0, .) if ``relu``; the part of a tile beyond y's edge is dropped."""
    channels = y.shape[3]
    for row in prange(y.shape[0] * tiles_h):  # one row of tiles of one image per task
        t = np.empty((4, 6, channels), dtype=m.dtype)
        out = np.empty((4, 4, channels), dtype=m.dtype)
        for p in range(row * tiles_w, (row + 1) * tiles_w):
            _output_tile(m, p, p, tiles_h, tiles_w, bias, relu, t, out, y)


@njit(parallel=True, cache=True)
def output_grad_transform(dy, tiles_h, tiles_w, dm, y, db_parts):
    """dM[xi, p, k] = (A dY A^T)[xi] for the 4x4 tile of dY of tile p (the adjoint of ``output_transform``).

    With the forward's output y (else y of length 0), dY goes through the ReLU's backward first
    and db_parts (parts, K) gets one partial sum of dZ per part of the tiles (a fixed split: the
    same bits on any number of threads)."""
    tiles, parts, filters = dy.shape[0] * tiles_h * tiles_w, db_parts.shape[0], dy.shape[3]
    for part in prange(parts):
        db_parts[part] = 0
        d = np.empty((1, 4, 4, filters), dy.dtype)
        t = np.empty((6, 4, filters), dy.dtype)
        db = np.empty(filters, dy.dtype)  # a sum per 32 tiles, then into the part's: shorter float sums
        last = (part + 1) * tiles // parts
        for start in range(part * tiles // parts, last, 32):
            db[:] = 0
            for p in range(start, min(last, start + 32)):
                _output_grad_tile(dy, p, tiles_h, tiles_w, d, t, dm, p, y, db)
            db_parts[part] += db


@njit(parallel=True, cache=True)
def input_grad_transform(dv, top, left, tiles_h, tiles_w, dx):
    """dx += B dV B^T of every tile p, added where the tile lies on x (the adjoint of ``input_transform``).

    dv: (36, P, C), dx: (N, H, W, C). Tiles overlap by 2 rows, so one task adds one row of tiles,
    left to right, and the even rows of tiles run before the odd ones: no two tasks add to one cell.
    """
    rows = dx.shape[0] * tiles_h
    for parity in range(2):
        for task in prange((rows + 1 - parity) // 2):
            row = 2 * task + parity
            t = np.empty((6, 6, dx.shape[3]), dtype=dx.dtype)
            dd = np.empty((6, 6, dx.shape[3]), dtype=dx.dtype)
            for p in range(row * tiles_w, (row + 1) * tiles_w):
                _input_grad_tile(dv, p, p, tiles_h, tiles_w, top, left, t, dd, dx)
