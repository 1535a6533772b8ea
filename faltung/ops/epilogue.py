"""The last step of a linear op (a convolution), in place on its fresh output, and its backward.

``bias_relu(y, bias, relu)``                    y += bias (broadcast over the last axis), then max(0, y) if relu
``activation_backward(dy, y, activation, bias)``  dz = f'(z) * dY from the output y = f(z) (formula 3.9),
                                                db = sum of dz over (N, H, W) if bias
``bias_grad(dy)``                               db = sum of dy over (N, H, W)
``relu_backward(dy, y)``                        dz = dY [y > 0], the ReLU's backward alone

Every conv kernel (im2col + GEMM, Winograd, the reference loops) ends with ``bias_relu``, unless
its last pass already did the same arithmetic (the fused Winograd output transform). The
epilogue and its backward each run in one pass on ``epilogue_fused`` (Numba) where they can (``FUSED``).
"""
import numpy as np

from .. import config

#: bias + ReLU, and the activation's backward with the bias gradient, each in one pass
#: (``epilogue_fused``); False: NumPy's passes
FUSED = True
#: smaller gradients take NumPy's passes (a kernel launch costs more than it saves)
FUSED_MIN_SIZE = 1 << 15
#: fewer channels than this: the bias is added and summed through the (N*H, W*F) view of y, since
#: NumPy's loops over a row of only F numbers run slowly
FEW_CHANNELS = 32
#: activations the one-pass kernel knows (by name): their derivative from the output alone
_FUSED_KINDS = {"relu": "RELU", "tanh": "TANH", "sigmoid": "SIGMOID"}


def _wide_rows(y):
    """The (N*H, W*F) view of y: (N, H, W, F) when F is small and y contiguous, else None."""
    if y.ndim == 4 and y.shape[-1] < FEW_CHANNELS and y.flags.c_contiguous:
        return y.reshape(-1, y.shape[-2] * y.shape[-1])
    return None


def _fused(y):
    """Whether ``y`` goes to the one-pass kernels of ``epilogue_fused``: a large enough float array,
    with Numba there and the fast implementation chosen."""
    if not (FUSED and config.implementation() == "fast" and y.size >= FUSED_MIN_SIZE
            and y.dtype in (np.float32, np.float64) and y.ndim >= 2):
        return False
    from . import jit  # imports Numba: only once a kernel is wanted
    return jit.AVAILABLE


def _fold(sums, channels):
    """Column sums of the (N*H*W, F) or the wide (N*H, W*F) view -> per channel (F,)."""
    return sums.reshape(-1, channels).sum(axis=0)


def bias_relu(y, bias=None, relu=False):
    """``y + bias``, then ``max(0, .)`` if ``relu``; in place, returns y."""
    if bias is None and not relu:
        return y
    rows = _wide_rows(y)
    # one pass (Numba); a bias alone on few channels is as fast in NumPy through the wide rows
    if ((relu or rows is None) and y.flags.c_contiguous and (bias is None or bias.dtype == y.dtype)
            and _fused(y)):
        from . import epilogue_fused, jit
        channels = y.shape[-1]
        bias = np.zeros(channels, y.dtype) if bias is None else np.ascontiguousarray(bias)
        if rows is not None:
            bias = np.tile(bias, y.shape[-2])
        jit.run(epilogue_fused.bias_relu, y.reshape(-1, channels) if rows is None else rows, bias, relu)
        return y
    if bias is not None:
        if rows is None:
            y += bias
        else:  # the bias repeated once per pixel of a row
            rows += np.tile(bias, y.shape[-2])
    if relu:
        np.maximum(y, 0, out=y)
    return y


def bias_grad(dy):
    """``db = Σ_{n,h,w} dY[n, h, w, :]``: (N, H, W, F) -> (F,). einsum sums the rows of the
    (N*H*W, F) view (or of the (N*H, W*F) view, for few channels) in one pass, several times
    faster than ``sum(axis=(0, 1, 2))``."""
    rows = _wide_rows(dy)
    return _fold(np.einsum("pf->f", dy.reshape(-1, dy.shape[-1]) if rows is None else rows), dy.shape[-1])


def relu_backward(dy, y):
    """dZ = dY [y > 0] (formula 3.9) from the ReLU's output y = max(0, z), for an op handed dY and y
    whose kernels do not apply the mask as they read dY. dy, y: same shape; dz is a new array."""
    return np.where(y > 0, dy, dy.dtype.type(0))


def activation_backward(dy, y, activation, bias=True):
    """The backward of a conv's epilogue ``y = f(z)``, ``z = conv + bias``: ``(dz, db)`` with
    dz = f'(z) * dY (formula 3.9) and db = the sum of dz over all axes but the last if ``bias``
    (else None). ``activation`` is one whose derivative needs only the output y
    (``activation.needs_only_output``); ReLU, tanh and sigmoid run in one pass on ``epilogue_fused``.

    dy, y: (N, H, W, F); dz is a new array.
    """
    from . import jit
    kind = _FUSED_KINDS.get(activation.name)
    if kind is None or not _fused(dy) or dy.dtype != y.dtype or dy.ndim != 4:
        dz = activation.backward(dy, None, y)
        return dz, (bias_grad(dz) if bias else None)
    from . import epilogue_fused
    y = np.ascontiguousarray(y)
    wide = _wide_rows(y)
    y2 = y.reshape(-1, y.shape[-1]) if wide is None else wide
    dz = np.empty(y2.shape, dy.dtype)
    parts = np.empty((jit.thread_count(), y2.shape[1]), dy.dtype)
    jit.run(epilogue_fused.activation_backward, np.ascontiguousarray(dy).reshape(y2.shape), y2,
            getattr(epilogue_fused, kind), dz, parts)
    return dz.reshape(dy.shape), (_fold(parts.sum(axis=0), y.shape[-1]) if bias else None)

