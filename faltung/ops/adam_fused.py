"""Adam's update in one pass (Numba), for ``optimizers.Adam``: each number of w, g, m and v read once.

NumPy takes about ten passes for the same formula, each making a temporary array the size of the weight
(the seed CIFAR CNN's 558,186 parameters: 2.2 ms per step, a twentieth of a batch-32 step).

  ``adam_update(g, w, m, v, c1, c2, alpha, epsilon)``   flat arrays of one dtype, in place:
        m += (g - m) c1;  v += (g^2 - v) c2;  w -= (m alpha) / (sqrt(v) + epsilon)

with c1 = 1 - beta_1, c2 = 1 - beta_2 and the scalars already in the arrays' dtype, so every operation is
the one NumPy does, in the same order and precision: the same bits (tested). Division by zero gives
inf or nan as in NumPy (``error_model="numpy"``): Numba's default check for it, one branch per number,
kept the loop from being vectorised (1.57 against 0.18 ms for 558,186 numbers). Run through ``jit.run``.
"""
import numpy as np
from numba import njit, prange

from . import jit  # noqa: F401  (sets Numba's threading layer before the first kernel runs)


@njit(parallel=True, cache=True, error_model="numpy")  # x / 0 as IEEE says, no check (which stops SIMD)
def adam_update(g, w, m, v, c1, c2, alpha, epsilon):
    for i in prange(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] + (gi * gi - v[i]) * c2
        m[i] = mi
        v[i] = vi
        w[i] -= (mi * alpha) / (np.sqrt(vi) + epsilon)
