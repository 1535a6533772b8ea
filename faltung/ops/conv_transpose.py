"""2-D transposed convolution ("deconvolution", seed 004 section 2.5): forward and backward, NHWC.

  ``y, cache = conv2d_transpose_forward(x, w, b, strides, padding, output_padding, dilation_rate)``
                                                                           x: (N, H, W, C), w: (kh, kw, F, C)
  ``dx, dw, db = conv2d_transpose_backward(dy, cache)``
  ``conv2d_transpose_output_hw(in_hw, kernel_hw, strides, padding, output_padding, dilation)``  Keras's sizes

The same three kernels as a convolution (``conv.py``), the other way round: the forward is the
data gradient of a convolution (``y = Kᵀx``, eq. 2.8), the backward the convolution's forward
(``dx = K dy``) plus its weight gradient with the roles of x and dy swapped.
"""
from .conv import _check_operands, _kernels
from .epilogue import bias_grad
from .im2col import effective_size, output_hw, resolve_padding


def conv2d_transpose_output_hw(in_hw, kernel_hw, strides, padding, output_padding=None, dilation=(1, 1)):
    """Keras's output size of a transposed convolution.

    valid: ``H*s + max(k_eff - s, 0)``; same: ``H*s``; with ``output_padding`` p:
    ``(H - 1)*s + k_eff - 2*pad + p`` where pad is 0 (valid) or ``k_eff // 2`` (same).
    """
    sizes = []
    for axis, (n, k, s, d) in enumerate(zip(in_hw, kernel_hw, strides, dilation)):
        k_eff = effective_size(k, d)
        if output_padding is None:
            sizes.append(n * s + max(k_eff - s, 0) if padding == "valid" else n * s)
        else:
            half = 0 if padding == "valid" else k_eff // 2
            sizes.append((n - 1) * s + k_eff - 2 * half + output_padding[axis])
    return tuple(sizes)


def conv2d_transpose_forward(x, w, b=None, strides=(1, 1), padding="valid", output_padding=None,
                             dilation_rate=(1, 1), workspace=None):
    """``y = Kᵀx + b`` (eq. 2.8): the data gradient of the convolution with kernel w.

    x: (N, H, W, C), w: (kh, kw, F, C) as Keras, b: (F,) -> y: (N, OH, OW, F) with Keras's sizes.
    """
    _check_operands("conv2d_transpose", x, w, channel_axis=3)
    strides, dilation = tuple(strides), tuple(dilation_rate)
    kernel_hw, f = w.shape[:2], w.shape[2]
    out_hw = conv2d_transpose_output_hw(x.shape[1:3], kernel_hw, strides, padding, output_padding, dilation)
    # the convolution that maps y's shape back to x's shape, with its own padding
    pads = resolve_padding(padding, out_hw, kernel_hw, strides, dilation)
    if min(out_hw) <= 0 or output_hw(out_hw, kernel_hw, strides, pads, dilation) != x.shape[1:3]:
        raise ValueError(f"conv2d_transpose: output size {out_hw} (padding {padding!r}, output_padding "
                         f"{output_padding}) does not map back to the input size {x.shape[1:3]}; "
                         f"expected 0 <= output_padding < strides {strides}")
    kernels = _kernels()
    y = kernels.conv_data_grad(x, w, (x.shape[0],) + out_hw + (f,), pads, strides, dilation, workspace)
    if b is not None:
        y += b
    cache = (kernels, x, w, pads, strides, dilation, b is not None, workspace)
    return y, cache


def conv2d_transpose_backward(dy, cache, need_dx=True, need_db=True):
    """``dx = conv(dY, W)`` (the forward convolution), ``dW = xcorr(dY, X)``, ``db = Σ dY``.

    ``need_dx=False`` returns dx as None (dW still needs the windows of dY); ``need_db=False`` db.
    """
    kernels, x, w, pads, strides, dilation, has_bias, workspace = cache
    dx, saved = kernels.conv_forward(dy, w, pads, strides, dilation, workspace)
    dw = kernels.conv_weight_grad(saved, x, w.shape, pads, strides, dilation)
    dx = dx if need_dx else None
    db = bias_grad(dy) if has_bias and need_db else None
    return dx, dw, db
