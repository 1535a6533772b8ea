"""Shapes, padding and the im2col / col2im rearrangements shared by every conv and pooling op.

All arrays are NHWC: ``x: (N, H, W, C)``. A window of a ``kh x kw`` kernel with
dilation ``d`` spans ``(kh - 1) * d + 1`` rows ("effective kernel size").

Padding follows Keras/TensorFlow:
  ``"valid"``  no padding, output ``(H - k_eff) // s + 1``
  ``"same"``   output ``ceil(H / s)``; total pad ``max((ceil(H/s) - 1) * s + k_eff - H, 0)``,
               ``pad_top = total // 2``, the extra row/column goes to the bottom/right.
Explicit pads are ``((top, bottom), (left, right))``.

im2col turns the sliding windows of ``x`` into the rows of a matrix, so a convolution
becomes one matrix product ``(N*OH*OW, kh*kw*C) @ (kh*kw*C, F)``; col2im is its
adjoint (it adds every window back to where it came from). ``offset_slice`` is the
building block of both: the cells one kernel offset meets, for all outputs at once.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided


def effective_size(k, dilation):
    """Rows spanned by a dilated kernel: ``(k - 1) * d + 1``."""
    return (k - 1) * dilation + 1


def same_padding(size, k, stride, dilation=1):
    """TensorFlow's "same" padding along one axis: ``(before, after)``, the odd row after."""
    out = -(-size // stride)  # ceil(size / stride)
    total = max((out - 1) * stride + effective_size(k, dilation) - size, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, in_hw, kernel_hw, strides, dilation):
    """``"valid"``, ``"same"`` or explicit pads as ``((top, bottom), (left, right))``."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        return tuple(same_padding(n, k, s, d)
                     for n, k, s, d in zip(in_hw, kernel_hw, strides, dilation))
    (top, bottom), (left, right) = padding
    return (int(top), int(bottom)), (int(left), int(right))


def output_hw(in_hw, kernel_hw, strides, pads, dilation):
    """Output height and width: ``(H + pads - k_eff) // s + 1`` per axis (may be <= 0 if too small)."""
    return tuple((n + sum(p) - effective_size(k, d)) // s + 1
                 for n, k, s, p, d in zip(in_hw, kernel_hw, strides, pads, dilation))


def pad(x, pads, value=0.0):
    """Pad the H and W axes of ``x: (N, H, W, C)``; returns ``x`` itself when there is nothing to pad."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def crop(xp, pads, hw):
    """Undo ``pad``: the ``hw`` rows/columns of ``xp`` after the top/left pads (a view)."""
    (top, _), (left, _) = pads
    return xp[:, top:top + hw[0], left:left + hw[1], :]


def offset_slice(xp, i, j, out_hw, strides, dilation):
    """The input cells that kernel offset ``(i, j)`` meets, for every output position: ``(N, OH, OW, C)``.

    ``y[:, p, q] += xp[:, p*s + i*d, q*s + j*d] @ w[i, j]`` is formula 2.4 for one offset.
    """
    (sh, sw), (dh, dw) = strides, dilation
    top, left = i * dh, j * dw
    return xp[:, top:top + sh * (out_hw[0] - 1) + 1:sh, left:left + sw * (out_hw[1] - 1) + 1:sw, :]


def windows(xp, kernel_hw, out_hw, strides, dilation):
    """Every window of ``xp`` as a strided view ``(N, OH, OW, kh, kw, C)`` (no copy)."""
    n, _, _, c = xp.shape
    sn, sh, sw, sc = xp.strides
    shape = (n, out_hw[0], out_hw[1], kernel_hw[0], kernel_hw[1], c)
    view_strides = (sn, sh * strides[0], sw * strides[1], sh * dilation[0], sw * dilation[1], sc)
    return as_strided(xp, shape, view_strides, writeable=False)


#: at most this many channels: im2col copies one kernel offset at a time (see ``im2col``)
FEW_CHANNELS = 4


def im2col(xp, kernel_hw, out_hw, strides, dilation, out=None):
    """The windows of the padded input as rows: ``(N*OH*OW, kh*kw*C)``, columns ordered (kh, kw, C).

    This column order matches ``w.reshape(kh*kw*C, F)`` for a kernel ``w: (kh, kw, C, F)``.
    One copy of the strided window view; ``out`` (any array of that size) is reused if given.

    With few channels (a first layer on 1 or 3 channels) each window row is only C numbers long
    and that copy crawls; then the matrix is built column block by column block instead, one
    kernel offset (i, j) at a time (``offset_slice``: a plain strided slab per offset), laid out
    as its transpose ``(kh*kw*C, N*OH*OW)``; the ``(N*OH*OW, kh*kw*C)`` view of it returned is
    Fortran-ordered, which BLAS takes as it is.
    """
    view = windows(xp, kernel_hw, out_hw, strides, dilation)
    n, oh, ow, kh, kw, c = view.shape
    if c <= FEW_CHANNELS:
        shape = (kh, kw, c, n, oh, ow)
        cols = np.empty(shape, dtype=xp.dtype) if out is None else out.reshape(shape)
        for i in range(kh):
            for j in range(kw):
                cols[i, j] = offset_slice(xp, i, j, out_hw, strides, dilation).transpose(3, 0, 1, 2)
        return cols.reshape(kh * kw * c, n * oh * ow).T
    out = np.empty(view.shape, dtype=xp.dtype) if out is None else out.reshape(view.shape)
    np.copyto(out, view)
    return out.reshape(n * oh * ow, kh * kw * c)


def col2im(cols, padded_shape, kernel_hw, out_hw, strides, dilation):
    """Adjoint of im2col: add each row of ``cols: (N*OH*OW, kh*kw*C)`` back onto its window.

    Returns the padded array ``(N, Hp, Wp, C)``; no scatter, one strided add per kernel offset.
    (``conv.conv_data_grad`` runs the same loop with each offset's block computed by its own
    GEMM, so the whole ``cols`` matrix never exists.)
    """
    n, _, _, c = padded_shape
    kh, kw = kernel_hw
    cols = cols.reshape(n, out_hw[0], out_hw[1], kh, kw, c)
    xp = np.zeros(padded_shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            offset_slice(xp, i, j, out_hw, strides, dilation)[...] += cols[:, :, :, i, j, :]
    return xp
