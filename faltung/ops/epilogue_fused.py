"""The backward of the conv epilogue (bias + ReLU) in one pass (Numba), for ``epilogue.py``.

NumPy needs three passes for it: the mask ``y > 0``, the product ``dy * mask`` and the sum over
all pixels for the bias. Here each row of dY is read once, masked where the ReLU's output was 0
and added to the bias gradient while it is in a register.

  ``relu_backward(dy, y, dz, db_parts)``   dy, y, dz: (P, F) (P = N*H*W pixels), db_parts: (parts, F)
                                           dz = dy * [y > 0]; db_parts[t] = the sum of dz over the
                                           t-th of ``parts`` equal runs of rows (the caller adds them)

Rows are summed in blocks of ``_BLOCK`` before they are added to the part's total, which keeps the
float32 rounding error of a long sum down (as NumPy's pairwise sum does). Run through ``jit.run``.
"""
import numpy as np
from numba import njit, prange

from . import jit  # noqa: F401  (sets Numba's threading layer before the first kernel runs)

_BLOCK = 64


@njit(parallel=True, cache=True)
def relu_backward(dy, y, dz, db_parts):
    rows, channels = dy.shape
    parts = db_parts.shape[0]
    zero = dy.dtype.type(0)
    for part in prange(parts):
        total = db_parts[part]
        total[:] = 0
        block = np.empty(channels, dtype=dy.dtype)
        first, last = part * rows // parts, (part + 1) * rows // parts
        for start in range(first, last, _BLOCK):
            block[:] = 0
            for r in range(start, min(last, start + _BLOCK)):
                for k in range(channels):
                    g = dy[r, k] if y[r, k] > zero else zero
                    dz[r, k] = g
                    block[k] += g
            total += block
