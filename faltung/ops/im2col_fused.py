"""col2im in one pass (Numba), for ``conv.conv_data_grad``: each row of ``cols`` added back onto its window.

  ``col2im(cols, kh, kw, sh, sw, xp)``   cols: (N*OH*OW, kh*kw*C) -> xp: (N, Hp, Wp*C), zeroed by the
        caller: xp[n, p*sh + i, (q*sw + j)*C + c] += cols[(n, p, q), (i*kw + j)*C + c]  (dilation 1)

``im2col.col2im`` adds one kernel offset at a time: kh*kw strided passes over xp that move runs of
only C numbers (LeNet-5's 6 channels: slow). Here a window's row i is one contiguous run of kw*C
numbers in xp and in the row of cols, so each is added in one vectorised loop; each image is one
task (the windows of different images never overlap).
"""
from numba import njit, prange

from . import jit  # noqa: F401  (sets Numba's threading layer before the first kernel runs)


@njit(parallel=True, cache=True)
def col2im(cols, kh, kw, sh, sw, xp):
    n, hp, row_length = xp.shape
    run = cols.shape[1] // kh                 # kw * C
    channels = run // kw
    oh = (hp - kh) // sh + 1
    ow = (row_length // channels - kw) // sw + 1
    for image in prange(n):
        for p in range(oh):
            for q in range(ow):
                window = cols[(image * oh + p) * ow + q]
                start = q * sw * channels
                for i in range(kh):
                    # one row of the window, a run of kw*C numbers in both, as 1-D views: indexed by e
                    # alone, the add vectorises (xp[..., start + e] kept Numba's negative-index wrap
                    # inside the loop, which then stayed scalar: 2.2x slower)
                    target = xp[image, p * sh + i, start:start + run]
                    source = window[i * run:(i + 1) * run]
                    for e in range(run):
                        target[e] += source[e]
