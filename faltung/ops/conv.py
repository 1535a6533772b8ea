"""2-D convolution: forward and backward, NHWC.

  ``y, cache = conv2d_forward(x, w, b, strides, padding, dilation_rate)``   x: (N, H, W, C), w: (kh, kw, C, F)
  ``dx, dw, db = conv2d_backward(dy, cache)``

Three kernels do all the work, here with GEMMs (the fast path) and in ``reference.py``
as loops (``faltung.config.implementation()`` picks one):

  conv_forward      Y  = xcorr(X, W)                  formula 2.4 of seed 004    im2col + one GEMM
  conv_weight_grad  dW = xcorr(X, dY)                 formula 3.10               colsᵀ @ dY
  conv_data_grad    dX = full_conv(dY, rot180(W))     formula 3.11               dY @ W[i, j]ᵀ per offset

Fast-path choices (each tested against the reference): stride-1 3x3 convolutions with at least
``WINOGRAD_MIN_CHANNELS`` input and output channels run as Winograd F(4x4, 3x3) (``winograd.py``:
4x fewer multiplications): the forward, dW from the forward's transformed input, and dX
(itself a stride-1 3x3 convolution). A forward whose im2col matrix exceeds ``CHUNK_BYTES`` runs
in batch chunks that fit the L3 cache and keeps X instead of that 9x larger matrix; dW then cuts
the windows again, a chunk at a time.

The transposed convolution (``conv_transpose.py``) runs the same three kernels the other way round.
"""
import sys
import weakref

import numpy as np

from .. import config
from . import winograd
from .chunks import batch_chunks
from .epilogue import bias_grad, bias_relu, relu_backward
from .im2col import crop, effective_size, im2col, offset_slice, output_hw, pad, resolve_padding

_NO_PADS = ((0, 0), (0, 0))
#: Winograd for a stride-1 3x3 conv when both channel counts reach this (fewer: the tile
#: copies cost more than the multiplications they save)
WINOGRAD_MIN_CHANNELS = 16
#: output tile size m of F(m x m, 3 x 3): 4 (fastest) or 2 (most accurate in float32)
WINOGRAD_TILE = 4
#: Winograd also for the forward (and then for dW, from the kept transformed input). Off: im2col
#: + GEMM forward and dW; the data gradient always takes Winograd
WINOGRAD_FORWARD = True
#: an im2col matrix larger than this is built a batch chunk of about this size at a time
#: (forward and dW), so it stays in the 32 MiB L3 cache and is never kept whole; smaller
#: problems also compute dX in one batched matmul
CHUNK_BYTES = 16 << 20
#: a data gradient whose (P, kh*kw*C) matrix fits CHUNK_BYTES is one GEMM and a one-pass col2im
#: (``im2col_fused``); False: kh*kw products and strided adds, one per kernel offset
COL2IM_FUSED = True
#: dW = colsᵀ @ dY runs a block of rows at a time when a block's product has at most this many
#: multiply-adds, with at least ``MIN_BLOCK_ROWS`` rows: OpenBLAS multiplies such small products with
#: its small-matrix kernels, which for an output of few cells (kh*kw*C x F: LeNet-5's 25 x 6) are
#: 2.5x faster than its packed, threaded path on the whole (measured here: one product of 6,660 rows
#: 49 µs, of 6,673 rows 132 µs; LeNet-5's first dW at batch 128 1.9 -> 0.9 ms, its training step
#: 1.05-1.07x faster). 0: always one product
SMALL_PRODUCT = 1_000_000
MIN_BLOCK_ROWS = 512
#: dW = colsᵀ @ dY with at least this many multiply-adds has its rows split over the threads, each
#: thread multiplying blocks of SMALL_PRODUCT: OpenBLAS runs such a product (a long inner dimension,
#: a (kh*kw*C, F) output of a few thousand cells) on one thread. Measured on an Intel Xeon (AVX-512),
#: two threads: the CIFAR CNN's first dW (131,072 x 27 x 32) 3.3 -> 1.1 ms, the Fashion CNN's
#: (100,352 x 49 x 64) 4.8 -> 2.9 ms, LeNet-5's (100,352 x 25 x 6) 0.62 -> 0.46 ms; in the steps 1.00-1.03x.
#: Smaller products (LeNet-5's second dW at batch 32: 7.7 million, 0.93x) spend more on waking the
#: threads than they save
SPLIT_MIN_PRODUCT = 10_000_000


# ---- the fast kernels: im2col + GEMM ------------------------------------------------------
def _windows_are_rows(in_hw, kernel_hw, strides, pads, dilation):
    """im2col would only reshape x: the windows are x's own rows, ``cols = x.reshape(-1, kh*kw*C)``.

    Either a 1x1 kernel with stride 1 and no padding (one window per pixel: a matmul over pixels)
    or a kernel spanning the whole unpadded input (one window per image, LeNet's C5: a Dense layer
    on the flattened image).
    """
    pointwise = tuple(kernel_hw) == (1, 1) and tuple(strides) == (1, 1) and pads == _NO_PADS
    whole = tuple(kernel_hw) == tuple(in_hw) and pads == _NO_PADS and tuple(dilation) == (1, 1)
    return pointwise or whole


def _scratch(workspace, key, size, dtype):
    """A buffer of ``size`` elements from the caller's ``workspace`` dict (None: allocate anew).

    Reusing the big im2col matrix saves the page faults of a fresh allocation on every call.
    The buffer is reused only once the array lent from it last time (see ``_lend``) is gone,
    so a cache that is still alive (a shared layer's other call) is never overwritten.
    """
    if workspace is None:
        return None
    buffer, lent = workspace.get(key, (None, None))
    in_use = lent is not None and lent() is not None
    if in_use or buffer is None or buffer.size < size or buffer.dtype != dtype:
        buffer = np.empty(size, dtype=dtype)
    workspace[key] = (buffer, None)
    return buffer[:size]


def _lend(workspace, key, array):
    """Remember (weakly) that ``array`` lives in the workspace buffer ``key``."""
    if workspace is not None and key in workspace:
        workspace[key] = (workspace[key][0], weakref.ref(array))


def _winograd_pads(x, w, pads, strides, dilation):
    """``(top, bottom, left, right)`` if ``x (*) w`` runs as Winograd F(m x m, 3 x 3), else None."""
    kh, kw, c, f = w.shape
    if ((kh, kw) != (3, 3) or tuple(strides) != (1, 1) or tuple(dilation) != (1, 1)
            or min(c, f) < WINOGRAD_MIN_CHANNELS or x.dtype != w.dtype):
        return None
    flat = pads[0] + pads[1]
    return flat if all(0 <= p <= 2 for p in flat) else None


def conv_forward(x, w, pads, strides, dilation, workspace=None, for_backward=True, bias=None, relu=False,
                 key="cols"):
    """``Y = cols(X) @ W (+ bias)``, max(0, Y) if ``relu``, with ``cols: (N*OH*OW, kh*kw*C)``.
    Returns ``(y, saved)``; ``saved`` feeds dW.

    ``saved`` is cols itself while it is at most CHUNK_BYTES; above, cols is built and multiplied
    a batch chunk at a time (the chunk stays in the cache) and ``saved`` is x: dW then cuts the
    windows from x again, so the 9x larger matrix is never kept (peak memory). With
    ``WINOGRAD_FORWARD``, stride-1 3x3 convolutions run as Winograd F(m x m, 3 x 3) and ``saved``
    is a ``winograd.Transformed`` (the transformed input, or x for the blocked kernels), or x when
    ``for_backward`` is False (inference keeps less; a backward that comes anyway then cuts the
    windows from x).
    """
    kh, kw, c, f = w.shape
    winograd_pads = _winograd_pads(x, w, pads, strides, dilation) if WINOGRAD_FORWARD else None
    if winograd_pads is not None:
        result = winograd.conv2d_3x3(x, w, winograd_pads, m=WINOGRAD_TILE, keep_transform=for_backward,
                                     bias=bias, relu=relu)
        return result if for_backward else (result, x)
    n, w2 = x.shape[0], w.reshape(kh * kw * c, f)
    out_hw = output_hw(x.shape[1:3], (kh, kw), strides, pads, dilation)
    if _windows_are_rows(x.shape[1:3], (kh, kw), strides, pads, dilation):
        cols = x.reshape(-1, kh * kw * c)
        return bias_relu((cols @ w2).reshape((n,) + out_hw + (f,)), bias, relu), cols
    per_image = out_hw[0] * out_hw[1] * kh * kw * c * x.itemsize
    if n * per_image <= CHUNK_BYTES:
        buffer = _scratch(workspace, key, n * out_hw[0] * out_hw[1] * kh * kw * c, x.dtype)
        cols = im2col(pad(x, pads), (kh, kw), out_hw, strides, dilation, out=buffer)
        _lend(workspace, key, cols)
        return bias_relu((cols @ w2).reshape(n, out_hw[0], out_hw[1], f), bias, relu), cols
    y = np.empty((n, out_hw[0], out_hw[1], f), dtype=np.result_type(x, w))
    chunks = batch_chunks(n, per_image, CHUNK_BYTES)
    size = max(stop - start for start, stop in chunks) * per_image // x.itemsize
    buffer = _scratch(workspace, key + "_chunk", size, x.dtype)  # free again when this call returns
    buffer = np.empty(size, dtype=x.dtype) if buffer is None else buffer
    for start, stop in chunks:
        cols = im2col(pad(x[start:stop], pads), (kh, kw), out_hw, strides, dilation,
                      out=buffer[:(stop - start) * per_image // x.itemsize])
        np.matmul(cols, w2, out=y[start:stop].reshape(-1, f))
        bias_relu(y[start:stop], bias, relu)  # while in cache
    return y, x


def conv_weight_grad(cols, dy, w_shape, pads, strides, dilation):
    """``dW = colsᵀ @ dY``: formula 3.10 with the windows already laid out as rows.

    ``cols`` may instead be the input x itself (N, H, W, C) (a large im2col, inference): then
    ``dW = Σ_chunks cols(X_chunk)ᵀ @ dY_chunk`` over batch chunks of about CHUNK_BYTES; or the
    Winograd forward's ``Transformed`` input: then ``winograd.weight_grad``.
    """
    if isinstance(cols, winograd.Transformed):
        return winograd.weight_grad(cols, dy)
    if cols.ndim == 2:
        return _transposed_product(cols, dy.reshape(-1, w_shape[3])).reshape(w_shape)
    x, (kh, kw, c, f) = cols, w_shape
    n, out_hw = x.shape[0], dy.shape[1:3]
    per_image = out_hw[0] * out_hw[1] * kh * kw * c * x.itemsize
    dw = None
    for start, stop in batch_chunks(n, per_image, CHUNK_BYTES):
        chunk_cols = im2col(pad(x[start:stop], pads), (kh, kw), out_hw, strides, dilation)
        part = _transposed_product(chunk_cols, dy[start:stop].reshape(-1, f))
        dw = part if dw is None else np.add(dw, part, out=dw)
    return dw.reshape(w_shape)


def _transposed_product(cols, dy2):
    """``colsᵀ @ dY``, (P, K) and (P, F) -> (K, F): the sum over blocks of rows of each block's product
    when the blocks can be small enough for OpenBLAS's small-matrix kernels (``SMALL_PRODUCT``).
    A large product (``SPLIT_MIN_PRODUCT``) has its rows split over the threads (``blas.transposed_product``)."""
    k, f = cols.shape[1], dy2.shape[1]
    rows = SMALL_PRODUCT // (k * f)
    if cols.shape[0] * k * f >= SPLIT_MIN_PRODUCT and _split_rows_possible(cols, dy2):
        from . import blas, jit
        layout_t = not cols.flags.c_contiguous  # im2col's (K, P) layout for few channels
        parts = np.empty((jit.thread_count(), k, f), dtype=dy2.dtype)
        jit.run(blas.transposed_product, cols.T if layout_t else cols, layout_t, np.ascontiguousarray(dy2),
                parts, max(1, rows), blas_inside=True)
        return parts[0] if len(parts) == 1 else parts.sum(axis=0)
    if rows < MIN_BLOCK_ROWS or cols.shape[0] <= rows:
        return cols.T @ dy2
    total = cols[:rows].T @ dy2[:rows]
    for start in range(rows, cols.shape[0], rows):
        total += cols[start:start + rows].T @ dy2[start:start + rows]
    return total


def _split_rows_possible(cols, dy2):
    """Whether ``blas.transposed_product`` can take cols and dY: Numba and NumPy's OpenBLAS there,
    one float dtype, cols C-contiguous or the transpose of a C-contiguous array."""
    if (dy2.dtype not in (np.float32, np.float64) or cols.dtype != dy2.dtype
            or not (cols.flags.c_contiguous or cols.T.flags.c_contiguous)):
        return False
    from . import jit
    if not jit.AVAILABLE:
        return False
    from . import blas
    return blas.NUMPY_BLAS


def conv_data_grad(dy, w, x_shape, pads, strides, dilation, workspace=None):
    """``dX`` as the adjoint of the forward, one kernel offset at a time, or as full_conv(dY, rot180(W)).

    Per offset (i, j), every output position sent ``x[p*s + i*d, q*s + j*d] @ W[i, j]`` to y, so
    ``dY @ W[i, j]ᵀ`` goes back to those cells: col2im fused with its GEMM, no ``(P, kh*kw*C)``
    matrix. When F is much smaller than C (stride 1), the convolution form (3.11), one GEMM
    over an im2col of dY, is cheaper.
    """
    kh, kw, c, f = w.shape
    winograd_pads = _winograd_pads(dy, w, pads, strides, dilation)
    if winograd_pads is not None:  # a stride-1 3x3 convolution of dY with rot180(W)
        return winograd.conv2d_3x3_backward_input(dy, w, winograd_pads, m=WINOGRAD_TILE)
    dy2 = dy.reshape(-1, f)
    if _windows_are_rows(x_shape[1:3], (kh, kw), strides, pads, dilation):
        return (dy2 @ w.reshape(-1, f).T).reshape(x_shape)  # each dY row back onto its one window
    (top, bottom), (left, right) = pads
    keh, kew = effective_size(kh, dilation[0]), effective_size(kw, dilation[1])
    full_pads = ((keh - 1 - top, keh - 1 - bottom), (kew - 1 - left, kew - 1 - right))
    if tuple(strides) == (1, 1) and 2 * f <= c and min(min(full_pads)) >= 0:
        w_rot180 = np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))  # (kh, kw, F, C)
        dx, _ = conv_forward(dy, w_rot180, full_pads, (1, 1), dilation, workspace, key="dy_cols")
        return dx
    padded_shape = (x_shape[0], x_shape[1] + top + bottom, x_shape[2] + left + right, c)
    dxp = np.zeros(padded_shape, dtype=np.result_type(dy, w))
    small = dy2.shape[0] * kh * kw * c * dy.itemsize <= CHUNK_BYTES  # the (P, kh*kw*C) matrix (LeNet)
    if small and _col2im_fused(dilation, dxp.dtype):
        # dcols = dY @ Wᵀ in one GEMM, then col2im in one pass (dilation 1)
        from . import im2col_fused, jit
        dcols = dy2 @ np.ascontiguousarray(w.reshape(-1, f).T)            # (P, kh*kw*C)
        jit.run(im2col_fused.col2im, dcols.astype(dxp.dtype, copy=False), kh, kw, *strides,
                dxp.reshape(padded_shape[0], padded_shape[1], -1))
    else:
        # small: all kh*kw products in one batched matmul call, each block contiguous
        blocks = np.matmul(dy2, w.reshape(kh * kw, c, f).transpose(0, 2, 1)) if small else None  # (kh*kw, P, C)
        for i in range(kh):
            for j in range(kw):
                block = dy2 @ w[i, j].T if blocks is None else blocks[i * kw + j]
                cells = offset_slice(dxp, i, j, dy.shape[1:3], strides, dilation)
                cells += block.reshape(dy.shape[:3] + (c,))
    return dxp if pads == _NO_PADS else np.ascontiguousarray(crop(dxp, pads, x_shape[1:3]))


def _col2im_fused(dilation, dtype):
    """Whether a small dX goes as one GEMM + ``im2col_fused.col2im`` (no dilation, float, Numba there)."""
    if not COL2IM_FUSED or tuple(dilation) != (1, 1) or dtype not in (np.float32, np.float64):
        return False
    from . import jit
    return jit.AVAILABLE


def _kernels():
    """This module (fast) or ``reference``, as ``faltung.config.implementation()`` says."""
    if config.implementation() == "reference":
        from . import reference
        return reference
    return sys.modules[__name__]


# ---- checks and sizes ----------------------------------------------------------------------
def _check_operands(op, x, w, channel_axis):
    if x.ndim != 4:
        raise ValueError(f"{op}: expected input of rank 4 (N, H, W, C), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"{op}: expected a kernel of rank 4, got shape {w.shape}")
    if x.shape[3] != w.shape[channel_axis]:
        raise ValueError(f"{op}: expected {w.shape[channel_axis]} input channels for kernel "
                         f"{w.shape}, got input of shape {x.shape}")


# ---- public ops: convolution ---------------------------------------------------------------
def conv2d_forward(x, w, b=None, strides=(1, 1), padding="valid", dilation_rate=(1, 1), workspace=None,
                   for_backward=True, relu=False):
    """``y = xcorr(x, w) + b`` (formula 2.4). x: (N, H, W, C), w: (kh, kw, C, F), b: (F,) -> y: (N, OH, OW, F).

    ``workspace``: an optional dict the caller keeps between calls, to reuse scratch buffers from.
    ``for_backward=False`` (inference) keeps less for a backward (which still works, slower).
    ``relu=True`` returns max(0, y), fused into the kernel's last pass (the caller's ReLU backward
    needs only that output).
    """
    _check_operands("conv2d", x, w, channel_axis=2)
    strides, dilation = tuple(strides), tuple(dilation_rate)
    pads = resolve_padding(padding, x.shape[1:3], w.shape[:2], strides, dilation)
    out_hw = output_hw(x.shape[1:3], w.shape[:2], strides, pads, dilation)
    if min(out_hw) <= 0:
        raise ValueError(f"conv2d: expected an input of at least the (dilated) kernel size "
                         f"{w.shape[:2]} with padding {padding!r}, got input of shape {x.shape}")
    kernels = _kernels()
    y, saved = kernels.conv_forward(x, w, pads, strides, dilation, workspace, for_backward, b, relu)
    cache = (kernels, saved, w, x.shape, pads, strides, dilation, b is not None, workspace)
    return y, cache


def fuses_relu_backward(cache):
    """Whether ``conv2d_backward`` with ``relu_output`` does the ReLU's backward inside its kernels
    (the forward ran Winograd): then a layer need not make dZ = dY [y > 0] itself."""
    return isinstance(cache[1], winograd.Transformed)


def conv2d_backward(dy, cache, need_dx=True, need_db=True, relu_output=None):
    """``dW = xcorr(X, dY)`` (3.10), ``dX = full_conv(dY, rot180(W))`` (3.11), ``db = Σ dY``.

    ``need_dx=False`` skips dX (returned as None), e.g. for a first layer; ``need_db=False``
    skips db (None: the caller has it from the epilogue's backward). ``relu_output``: the output
    y = max(0, z) of a forward with ``relu=True``; dy is then dL/dy and goes through the ReLU's
    backward dZ = dY [y > 0] (3.9) first: inside the Winograd kernels where ``fuses_relu_backward``.
    """
    kernels, saved, w, x_shape, pads, strides, dilation, has_bias, workspace = cache
    if isinstance(saved, winograd.Transformed) and relu_output is not None:  # ReLU and db on the way
        dx, dw, db = winograd.backward(saved, dy, w, pads[0] + pads[1], need_dx, relu_output=relu_output)
        return dx, dw, (db if has_bias and need_db else None)
    if relu_output is not None:
        dy = relu_backward(dy, relu_output)
    if isinstance(saved, winograd.Transformed):  # both from one pass back through the Winograd stages
        dx, dw = winograd.backward(saved, dy, w, pads[0] + pads[1], need_dx)
    else:
        dw = kernels.conv_weight_grad(saved, dy, w.shape, pads, strides, dilation)
        dx = kernels.conv_data_grad(dy, w, x_shape, pads, strides, dilation, workspace) if need_dx else None
    db = bias_grad(dy) if has_bias and need_db else None
    return dx, dw, db
