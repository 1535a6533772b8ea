"""Max and average pooling, forward and backward, NHWC.

  ``y, cache = max_pool2d_forward(x, pool_size, strides, padding)``   x: (N, H, W, C) -> y: (N, OH, OW, C)
  ``dx = max_pool2d_backward(dy, cache)``
  ``y, cache = avg_pool2d_forward(x, pool_size, strides, padding)``
  ``dx = avg_pool2d_backward(dy, cache)``

Gradient routing (seed 004, section 3): max pooling sends the gradient to the position
of each window's maximum only (the first one if several are equal, as TensorFlow and
PyTorch do); average pooling spreads it evenly over the window's
real cells ("same" padding cells are not counted, as in Keras).

Max pooling's fast path runs on the one-pass Numba kernels of ``pool_fused`` (``FUSED``); the
NumPy form below it (and average pooling's fast path) loops over the ``ph*pw`` offsets of the
window (a handful), each a strided slice of the whole batch (a sum of 4 strided slices beats a
``mean`` over the axes of a reshape 3-5x); when windows tile the input exactly, the
average-pooling backward is one broadcast copy through a reshape. ``reference.py`` holds the loop-per-window versions.
"""
import numpy as np

from .. import config
from . import reference
from .im2col import crop, offset_slice, output_hw, pad, resolve_padding

#: max pooling on the one-pass kernels of ``pool_fused`` (False: the NumPy offset loop below)
FUSED = True


def _fused_kernels():
    """Max pooling on ``pool_fused``: ``FUSED`` and Numba importable."""
    from . import jit
    return FUSED and jit.AVAILABLE


def _geometry(op, x, pool_size, strides, padding):
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of rank 4 (N, H, W, C), got shape {x.shape}")
    pool, strides = tuple(pool_size), tuple(pool_size if strides is None else strides)
    pads = resolve_padding(padding, x.shape[1:3], pool, strides, (1, 1))
    out_hw = output_hw(x.shape[1:3], pool, strides, pads, (1, 1))
    if min(out_hw) <= 0:
        raise ValueError(f"{op}: expected an input of at least the pool size {pool} with padding "
                         f"{padding!r}, got input of shape {x.shape}")
    return pool, strides, pads, out_hw


def _offsets(pool):
    return [(i, j) for i in range(pool[0]) for j in range(pool[1])]


def _tiles(pool, strides, pads):
    """Windows that tile the input without overlap or padding: pooling becomes a reshape."""
    return pool == strides and pads == ((0, 0), (0, 0))


def _tiles_exactly(in_hw, pool, strides, pads):
    """``_tiles``, and no row or column left over: every cell of the input is in one window."""
    return _tiles(pool, strides, pads) and all(n % k == 0 for n, k in zip(in_hw, pool))


# ---- max pooling -----------------------------------------------------------------------------
def max_pool2d_forward(x, pool_size=(2, 2), strides=None, padding="valid"):
    """``y[p, q] = max`` of each window. The cache keeps x and y (no copies) for the routing."""
    pool, strides, pads, out_hw = _geometry("max_pool2d", x, pool_size, strides, padding)
    if config.implementation() == "reference":
        return reference.max_pool_forward(x, pool, strides, pads), ("reference", x, pool, strides, pads)
    xp = pad(x, pads, -np.inf)  # padding cells never win
    if _fused_kernels() and x.dtype in (np.float32, np.float64) and pool[0] * pool[1] <= 256:
        from . import jit, pool_fused
        y = np.empty((x.shape[0],) + out_hw + (x.shape[3],), dtype=x.dtype)
        arg = np.empty(y.shape, dtype=np.uint8)  # which offset of the window won
        jit.run(pool_fused.max_forward, xp, pool, strides, y, arg)
        return y, ("fused", arg, xp.shape, x.shape, pool, strides, pads)
    y = offset_slice(xp, 0, 0, out_hw, strides, (1, 1)).copy()
    for i, j in _offsets(pool)[1:]:
        np.maximum(y, offset_slice(xp, i, j, out_hw, strides, (1, 1)), out=y)
    return y, ("fast", xp, y, x.shape, pool, strides, pads)


def max_pool2d_backward(dy, cache):
    """Route each ``dy`` to the cell that was the maximum of its window; every other cell gets 0.

    The argmax is found again from x and y: walking the offsets in order, the first cell
    equal to the maximum takes the gradient and the window is marked done (``free``).
    """
    if cache[0] == "reference":
        _, x, pool, strides, pads = cache
        return reference.max_pool_backward(dy, x, pool, strides, pads)
    if cache[0] == "fused":
        from . import jit, pool_fused
        _, arg, xp_shape, x_shape, pool, strides, pads = cache
        # windows that cover x exactly once: the kernel writes every cell, no zeroing pass first
        tiles = _tiles_exactly(xp_shape[1:3], pool, strides, pads)
        dxp = (np.empty if tiles else np.zeros)(xp_shape, dtype=dy.dtype)
        jit.run(pool_fused.max_backward, np.ascontiguousarray(dy), arg, pool, strides, dxp, tiles)
        return dxp if pads == ((0, 0), (0, 0)) else np.ascontiguousarray(crop(dxp, pads, x_shape[1:3]))
    _, xp, y, x_shape, pool, strides, pads = cache
    dxp = np.zeros(xp.shape, dtype=dy.dtype)
    free = np.ones(y.shape, dtype=bool)  # windows whose maximum has not been found yet
    hit = np.empty(y.shape, dtype=bool)
    offsets = _offsets(pool)
    for k, (i, j) in enumerate(offsets):
        np.equal(offset_slice(xp, i, j, dy.shape[1:3], strides, (1, 1)), y, out=hit)
        hit &= free
        if k < len(offsets) - 1:
            free ^= hit
        target = offset_slice(dxp, i, j, dy.shape[1:3], strides, (1, 1))
        if _tiles(pool, strides, pads):
            np.multiply(dy, hit, out=target)  # each cell belongs to one window: assign
        else:
            target += dy * hit
    return dxp if pads == ((0, 0), (0, 0)) else np.ascontiguousarray(crop(dxp, pads, x_shape[1:3]))


# ---- average pooling -------------------------------------------------------------------------
def _window_counts(x_shape, pool, strides, pads, out_hw, dtype):
    """How many real (non-padding) cells each window covers: a scalar, or ``(1, OH, OW, 1)``."""
    if pads == ((0, 0), (0, 0)):
        return pool[0] * pool[1]
    per_axis = []
    for n, k, s, (before, _), m in zip(x_shape[1:3], pool, strides, pads, out_hw):
        first = np.arange(m) * s - before  # first input row of each window
        per_axis.append(np.minimum(first + k, n) - np.maximum(first, 0))
    return np.multiply.outer(*per_axis).astype(dtype)[None, :, :, None]


def _window_sums_by_reshape(x, pool):
    """The sum of every window when the windows tile x exactly: (N, H, W, C) -> (N, H/ph, W/pw, C).

    Rows first: the ph rows of a window row are ph contiguous runs of W*C numbers, added whole;
    then the pw columns, runs of C. (Two passes with long runs beat ph*pw strided slices of C.)
    """
    (n, h, w, c), (ph, pw) = x.shape, pool
    rows = x.reshape(n * (h // ph), ph, w * c)
    total = rows[:, 0].copy()
    for i in range(1, ph):
        total += rows[:, i]
    cols = total.reshape(n * (h // ph), w // pw, pw * c)
    y = cols[:, :, :c].copy()
    for j in range(1, pw):
        y += cols[:, :, j * c:(j + 1) * c]
    return y.reshape(n, h // ph, w // pw, c)


def avg_pool2d_forward(x, pool_size=(2, 2), strides=None, padding="valid"):
    """``y[p, q] = mean`` of the real cells of each window."""
    pool, strides, pads, out_hw = _geometry("avg_pool2d", x, pool_size, strides, padding)
    if config.implementation() == "reference":
        return reference.avg_pool_forward(x, pool, strides, pads), ("reference", x.shape, pool, strides, pads)
    cache = ("fast", x.shape, pool, strides, pads, out_hw)
    if _tiles_exactly(x.shape[1:3], pool, strides, pads):
        return _window_sums_by_reshape(x, pool) * x.dtype.type(1 / (pool[0] * pool[1])), cache
    xp = pad(x, pads)
    y = offset_slice(xp, 0, 0, out_hw, strides, (1, 1)).copy()
    for i, j in _offsets(pool)[1:]:
        y += offset_slice(xp, i, j, out_hw, strides, (1, 1))
    if pads == ((0, 0), (0, 0)):
        y *= x.dtype.type(1 / (pool[0] * pool[1]))  # every window has ph*pw real cells
    else:
        y /= _window_counts(x.shape, pool, strides, pads, out_hw, x.dtype)
    return y, cache


def avg_pool2d_backward(dy, cache):
    """Spread each ``dy`` evenly: every real cell of its window gets ``dy / count``."""
    if cache[0] == "reference":
        _, x_shape, pool, strides, pads = cache
        return reference.avg_pool_backward(dy, x_shape, pool, strides, pads)
    _, x_shape, pool, strides, pads, out_hw = cache
    share = dy / _window_counts(x_shape, pool, strides, pads, out_hw, dy.dtype)
    (top, bottom), (left, right) = pads
    dxp = np.zeros((x_shape[0], x_shape[1] + top + bottom, x_shape[2] + left + right, x_shape[3]),
                   dtype=dy.dtype)
    if _tiles_exactly(x_shape[1:3], pool, strides, pads):
        # windows tile x exactly: one broadcast copy through the (N, OH, ph, OW, pw, C) view
        (ph, pw), (oh, ow) = pool, out_hw
        dxp.reshape(x_shape[0], oh, ph, ow, pw, x_shape[3])[...] = share[:, :, None, :, None, :]
        return dxp
    for i, j in _offsets(pool):
        target = offset_slice(dxp, i, j, out_hw, strides, (1, 1))
        if _tiles(pool, strides, pads):
            target[...] = share
        else:
            target += share
    return dxp if pads == ((0, 0), (0, 0)) else np.ascontiguousarray(crop(dxp, pads, x_shape[1:3]))
