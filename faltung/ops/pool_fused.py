"""Max pooling in one pass each way (Numba), for ``pool.py``'s fast path.

The NumPy fast path finds each window's maximum offset by offset and, in the backward, the
winning cell again with a compare, a mask and a multiply per offset: some 16 passes over the
data for a 2x2 window. Here the forward walks each window once and remembers which offset won
(the first maximum, as ``pool.py`` and the reference), and the backward sends each gradient to
that cell directly (gradient routing, seed 004 section 3).

  ``max_forward(xp, pool, strides, y, arg)``   y = the maximum of each window of the padded xp,
                                               arg = its offset i * pw + j (uint8)
  ``max_backward(dy, arg, pool, strides, dxp, tiles)``  dxp[window cell arg] += dy; with ``tiles``
                                               (the windows cover dxp exactly once) every cell is
                                               written, 0 or dy, so dxp need not be zeroed first

The channel loop is innermost and contiguous (SIMD); the images are shared out over the threads,
so overlapping windows, which route into the same cells, never race. Run through ``jit.run``.
"""
from numba import njit, prange

from . import jit  # noqa: F401  (sets Numba's threading layer before the first kernel runs)


@njit(parallel=True, cache=True)
def max_forward(xp, pool, strides, y, arg):
    n, oh, ow, c = y.shape
    ph, pw = pool
    sh, sw = strides
    for image in prange(n):
        for p in range(oh):
            for q in range(ow):
                for ch in range(c):
                    y[image, p, q, ch] = xp[image, p * sh, q * sw, ch]
                    arg[image, p, q, ch] = 0
                for i in range(ph):
                    for j in range(pw):
                        if i == 0 and j == 0:
                            continue
                        for ch in range(c):
                            value = xp[image, p * sh + i, q * sw + j, ch]
                            # strictly greater: the first maximum wins; a NaN wins as in np.maximum
                            if value > y[image, p, q, ch] or value != value:
                                y[image, p, q, ch] = value
                                arg[image, p, q, ch] = i * pw + j


@njit(parallel=True, cache=True)
def max_backward(dy, arg, pool, strides, dxp, tiles):
    n, oh, ow, c = dy.shape
    ph, pw = pool
    sh, sw = strides
    zero = dxp.dtype.type(0)
    for image in prange(n):
        for p in range(oh):
            for q in range(ow):
                if tiles:
                    for i in range(ph):
                        for j in range(pw):
                            for ch in range(c):
                                won = arg[image, p, q, ch] == i * pw + j
                                dxp[image, p * sh + i, q * sw + j, ch] = dy[image, p, q, ch] if won else zero
                else:
                    for ch in range(c):
                        i, j = divmod(arg[image, p, q, ch], pw)
                        dxp[image, p * sh + i, q * sw + j, ch] += dy[image, p, q, ch]
