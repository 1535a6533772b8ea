"""A conv's epilogue (bias + activation) and its backward, each in one pass (Numba), for ``epilogue.py``.

NumPy needs three or more passes for it: the activation's derivative from the output y, its
product with dY and the sum over all pixels for the bias. Here each row of dY is read once,
multiplied by the derivative (formula 3.9) and added to the bias gradient while it is in a register.

  ``bias_relu(y, bias, relu)``                        y: (rows, F') in place: y += bias, then max(0, y)
        if ``relu`` (NaN stays NaN, as with np.maximum): one pass where NumPy takes two, each of
        them several times slower on a 128-channel map than this loop
  ``activation_backward(dy, y, kind, dz, db_parts)``   dy, y, dz: (rows, F'), db_parts: (parts, F')
        dz = f'(z) * dy from the output y, for ``kind`` RELU ([y > 0]), TANH (1 - y^2) or
        SIGMOID (y (1 - y)); db_parts[t] = the sum of dz over the t-th of ``parts`` equal runs of
        rows (the caller adds them, and folds F' = W*F columns back to F when it passed that view)

Rows are summed in blocks of ``_BLOCK`` before they are added to the part's total, which keeps the
float32 rounding error of a long sum down (as NumPy's pairwise sum does). Run through ``jit.run``.
"""
import numpy as np
from numba import njit, prange

from . import jit  # noqa: F401  (sets Numba's threading layer before the first kernel runs)

RELU, TANH, SIGMOID = 1, 2, 3
_BLOCK = 64


@njit(inline="always")
def _times_derivative(kind, g, y, zero, one):
    """dY * f'(z), f' written with the output y = f(z)."""
    if kind == RELU:
        return g if y > zero else zero
    if kind == TANH:
        return g * (one - y * y)
    return g * y * (one - y)


@njit(parallel=True, cache=True)
def activation_backward(dy, y, kind, dz, db_parts):
    rows, channels = dy.shape
    parts = db_parts.shape[0]
    zero, one = dy.dtype.type(0), dy.dtype.type(1)
    for part in prange(parts):
        total = db_parts[part]
        total[:] = 0
        block = np.empty(channels, dtype=dy.dtype)
        first, last = part * rows // parts, (part + 1) * rows // parts
        for start in range(first, last, _BLOCK):
            block[:] = 0
            for r in range(start, min(last, start + _BLOCK)):
                for k in range(channels):
                    g = _times_derivative(kind, dy[r, k], y[r, k], zero, one)
                    dz[r, k] = g
                    block[k] += g
            total += block


@njit(parallel=True, cache=True)
def bias_relu(y, bias, relu):
    rows, channels = y.shape
    zero = y.dtype.type(0)
    for r in prange(rows):
        row = y[r]
        for k in range(channels):
            value = row[k] + bias[k]
            if relu and value < zero:
                value = zero
            row[k] = value
