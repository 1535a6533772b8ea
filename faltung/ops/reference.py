"""Plain, obviously-right reference kernels: the formulas of seed 004, written as loops.

Every fast path in ``conv.py`` and ``pool.py`` is tested against these. They are slow
(a Python loop per output position or per kernel offset), but each one is the formula:

  forward      Y[p, q, f]  = Σ_{i,j,c} X[p*s + i*d, q*s + j*d, c] · W[i, j, c, f]    (2.4, cross-correlation)
  weight grad  dW[i, j]    = Σ_{p,q}   X[p*s + i*d, q*s + j*d] ⊗ dY[p, q]           (3.10, dW = xcorr(X, dY))
  data grad    dX          = full_conv(dY, rot180(W))                              (3.11)

Shapes: ``x: (N, H, W, C)``, ``w: (kh, kw, C, F)``, ``dy: (N, OH, OW, F)``; ``pads`` are
``((top, bottom), (left, right))``. The conv kernels share their signatures with the fast ones
in ``conv.py``, so ``faltung.config.use_implementation("reference")`` swaps them.
"""
import numpy as np

from .epilogue import bias_relu
from .im2col import crop, effective_size, offset_slice, output_hw, pad


# ---- convolution --------------------------------------------------------------------
def conv_forward(x, w, pads, strides, dilation, workspace=None, for_backward=True, bias=None, relu=False):
    """Formula 2.4, one output position at a time, then ``+ bias`` and max(0, .) if ``relu``.
    Returns ``(y, x_padded)``.

    (``workspace`` and ``for_backward`` are accepted for the fast kernels' signature and not used.)
    """
    kh, kw, _, f = w.shape
    (sh, sw), (dh, dw) = strides, dilation
    xp = pad(x, pads)
    oh, ow = output_hw(x.shape[1:3], (kh, kw), strides, pads, dilation)
    y = np.zeros((x.shape[0], oh, ow, f), dtype=np.result_type(x, w))
    for p in range(oh):
        for q in range(ow):
            # the receptive field of output (p, q): rows p*s + i*d, i = 0..kh-1
            window = xp[:, p * sh:p * sh + effective_size(kh, dh):dh,
                        q * sw:q * sw + effective_size(kw, dw):dw, :]
            y[:, p, q, :] = np.einsum("nijc,ijcf->nf", window, w)
    return bias_relu(y, bias, relu), xp


def conv_weight_grad(xp, dy, w_shape, pads, strides, dilation):
    """Formula 3.10, dW = xcorr(X, dY): one kernel offset (i, j) at a time."""
    kh, kw, c, f = w_shape
    out_hw = dy.shape[1:3]
    dw = np.zeros(w_shape, dtype=np.result_type(xp, dy))
    for i in range(kh):
        for j in range(kw):
            dw[i, j] = np.einsum("npqc,npqf->cf", offset_slice(xp, i, j, out_hw, strides, dilation), dy)
    return dw


def conv_data_grad(dy, w, x_shape, pads, strides, dilation, workspace=None):
    """Formula 3.11, dX = full_conv(dY, rot180(W)).

    Strides are undone by spreading dY onto the stride grid (zeros in between); "full"
    means padding it by ``k_eff - 1`` on every side. Rotating W by 180° and swapping its
    channel axes turns the forward cross-correlation into the transposed map.
    """
    kh, kw, c, f = w.shape
    (sh, sw), (dh, dw) = strides, dilation
    n, oh, ow, _ = dy.shape
    keh, kew = effective_size(kh, dh), effective_size(kw, dw)
    span_h, span_w = (oh - 1) * sh + 1, (ow - 1) * sw + 1
    spread = np.zeros((n, span_h + 2 * (keh - 1), span_w + 2 * (kew - 1), f), dtype=dy.dtype)
    spread[:, keh - 1:keh - 1 + span_h:sh, kew - 1:kew - 1 + span_w:sw, :] = dy
    w_rot180 = w[::-1, ::-1].transpose(0, 1, 3, 2)  # (kh, kw, F, C)
    core, _ = conv_forward(spread, w_rot180, ((0, 0), (0, 0)), (1, 1), dilation)
    # rows/columns of the padded input that no window reached get no gradient
    (top, bottom), (left, right) = pads
    dxp = np.zeros((n, x_shape[1] + top + bottom, x_shape[2] + left + right, c), dtype=core.dtype)
    dxp[:, :core.shape[1], :core.shape[2], :] = core
    return crop(dxp, pads, x_shape[1:3])


# ---- pooling --------------------------------------------------------------------------
def _pool_windows(shape, pool, strides, pads):
    """Yield ``(p, q, row_slice, col_slice)`` for every output position of a pooling."""
    oh, ow = output_hw(shape[1:3], pool, strides, pads, (1, 1))
    for p in range(oh):
        for q in range(ow):
            yield p, q, slice(p * strides[0], p * strides[0] + pool[0]), \
                slice(q * strides[1], q * strides[1] + pool[1])


def max_pool_forward(x, pool, strides, pads):
    """``y[p, q] = max`` over the window (padding cells are -inf, so they never win)."""
    xp = pad(x, pads, -np.inf)
    oh, ow = output_hw(x.shape[1:3], pool, strides, pads, (1, 1))
    y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    for p, q, rows, cols in _pool_windows(x.shape, pool, strides, pads):
        y[:, p, q, :] = xp[:, rows, cols, :].max(axis=(1, 2))
    return y


def max_pool_backward(dy, x, pool, strides, pads):
    """Gradient routing: each dy goes to the (first) argmax of its window only."""
    xp = pad(x, pads, -np.inf)
    dxp = np.zeros(xp.shape, dtype=dy.dtype)
    n, c = x.shape[0], x.shape[3]
    batch, channel = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    for p, q, rows, cols in _pool_windows(x.shape, pool, strides, pads):
        window = xp[:, rows, cols, :].reshape(n, -1, c)
        a, b = np.divmod(window.argmax(axis=1), pool[1])  # (N, C) row and column in the window
        dxp[batch, rows.start + a, cols.start + b, channel] += dy[:, p, q, :]
    return crop(dxp, pads, x.shape[1:3])


def _real_cells(x_shape, pads):
    """1 where a padded cell is part of the input, 0 where it is padding: ``(1, Hp, Wp, 1)``."""
    return pad(np.ones((1, x_shape[1], x_shape[2], 1)), pads)


def avg_pool_forward(x, pool, strides, pads):
    """``y[p, q] = mean`` of the real (non-padding) cells of the window, as Keras."""
    xp, real = pad(x, pads), _real_cells(x.shape, pads)
    oh, ow = output_hw(x.shape[1:3], pool, strides, pads, (1, 1))
    y = np.empty((x.shape[0], oh, ow, x.shape[3]), dtype=x.dtype)
    for p, q, rows, cols in _pool_windows(x.shape, pool, strides, pads):
        y[:, p, q, :] = xp[:, rows, cols, :].sum(axis=(1, 2)) / int(real[0, rows, cols, 0].sum())
    return y


def avg_pool_backward(dy, x_shape, pool, strides, pads):
    """Each dy is spread evenly over the real cells of its window."""
    real = _real_cells(x_shape, pads)
    dxp = np.zeros((x_shape[0],) + real.shape[1:3] + (x_shape[3],), dtype=dy.dtype)
    for p, q, rows, cols in _pool_windows(x_shape, pool, strides, pads):
        dxp[:, rows, cols, :] += dy[:, p, q, None, None, :] / int(real[0, rows, cols, 0].sum())
    return crop(dxp, pads, x_shape[1:3])
