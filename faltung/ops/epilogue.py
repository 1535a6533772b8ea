"""The last step of a linear op (a convolution), in place on its fresh output, and its backward.

``bias_relu(y, bias, relu)``             y += bias (broadcast over the last axis), then y = max(0, y) if relu
``bias_relu_backward(dy, y, relu, bias)``  dz = dy * [y > 0] if relu (formula 3.9 with ReLU' = [z > 0]),
                                         db = sum of dz over (N, H, W) if bias
``bias_grad(dy)``                        db = sum of dy over (N, H, W)

Every conv kernel (im2col + GEMM, Winograd, the reference loops) ends with ``bias_relu``, unless
its last pass already did the same arithmetic (the fused Winograd output transform). The
backward runs in one pass on ``epilogue_fused`` (Numba) where it can (``FUSED``).
"""
import numpy as np

from .. import config

#: ReLU's backward and the bias gradient in one pass (``epilogue_fused``); False: NumPy's passes
FUSED = True


def bias_relu(y, bias=None, relu=False):
    """``y + bias``, then ``max(0, .)`` if ``relu``; in place, returns y."""
    if bias is not None:
        y += bias
    if relu:
        np.maximum(y, 0, out=y)
    return y


def bias_grad(dy):
    """``db = Σ_{n,h,w} dY[n, h, w, :]``: (N, H, W, F) -> (F,). einsum sums the rows of the
    (N*H*W, F) view in one pass, 2-4x faster than ``sum(axis=(0, 1, 2))`` for few channels."""
    return np.einsum("pf->f", dy.reshape(-1, dy.shape[-1]))


def bias_relu_backward(dy, y, relu=True, bias=True):
    """The backward of ``bias_relu``: ``(dz, db)``, dz = dy * [y > 0] if ``relu`` (y > 0 exactly where
    the input was), db = the sum of dz over all axes but the last if ``bias`` (else None).

    dy, y: (..., F) of one shape; dz is a new array.
    """
    from . import jit
    if relu and FUSED and jit.AVAILABLE and config.implementation() == "fast" and dy.dtype == y.dtype:
        from . import epilogue_fused
        channels = dy.shape[-1]
        dy2 = np.ascontiguousarray(dy).reshape(-1, channels)
        dz = np.empty(dy2.shape, dy.dtype)
        parts = np.empty((jit.thread_count(), channels), dy.dtype)
        jit.run(epilogue_fused.relu_backward, dy2, np.ascontiguousarray(y).reshape(-1, channels), dz, parts)
        return dz.reshape(dy.shape), (parts.sum(axis=0) if bias else None)
    dz = dy * (y > 0) if relu else dy
    return dz, (bias_grad(dz) if bias else None)
