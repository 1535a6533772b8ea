"""The last step of a linear op (a convolution), in place on its fresh output.

``bias_relu(y, bias, relu)``   y += bias (broadcast over the last axis), then y = max(0, y) if relu

Every conv kernel (im2col + GEMM, Winograd, the reference loops) ends with it, unless its last
pass already did the same arithmetic (the fused Winograd output transform).
"""
import numpy as np


def bias_relu(y, bias=None, relu=False):
    """``y + bias``, then ``max(0, .)`` if ``relu``; in place, returns y."""
    if bias is not None:
        y += bias
    if relu:
        np.maximum(y, 0, out=y)
    return y
