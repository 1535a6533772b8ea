"""Winograd convolution for stride-1 3x3 kernels, NHWC (Lavin & Gray 2015, "Fast Algorithms
for Convolutional Neural Networks").

The minimal filtering algorithm F(m x m, 3 x 3) computes an m x m output tile from an
alpha x alpha input tile (alpha = m + 2) with alpha^2 multiplications instead of 9 m^2:

    Y = A^T [ (G g G^T) (.) (B^T d B) ] A                                      (Lavin & Gray, eq. 8)

g is the 3x3 filter, d the input tile, (.) the elementwise product. Over channels this becomes,
for every one of the alpha^2 positions xi = (a, b) of the transformed tile,

    U[xi] = (G g G^T)[xi]          (C, K)    filter transform, once per step
    V[xi] = (B^T d B)[xi]          (P, C)    input transform, P = number of tiles (N * tiles_h * tiles_w)
    M[xi] = V[xi] @ U[xi]          (P, K)    alpha^2 independent GEMMs
    Y     = A^T M A                          output transform, back to (N, H_out, W_out, K)

so the GEMM work drops by 9 m^2 / alpha^2: 2.25x for F(2x2, 3x3), 4x for F(4x4, 3x3).
F(2x2) is exact up to rounding (its matrices hold 0, +-1, 1/2); F(4x4) multiplies by up to 8 and
1/24, so in float32 it is ~10x less accurate than direct convolution (still ~1e-5 relative).

The weight gradient goes back through the three stages (``weight_grad``): dM = A dY A^T,
dU[xi] = V[xi]^T dM[xi] summed over the tiles, dW = (G kron G)^T dU, with V made again from the kept
input (or kept from the forward: ``Transformed``). The input gradient takes the same way back from the
same dM (``backward``, both at once): dV[xi] = dM[xi] U[xi]^T, then dX = B dV B^T added where the
overlapping tiles came from, on the forward's tiles. It is also a stride-1 3x3 convolution itself,
dX = full_conv(dY, rot180(W)) with in/out channels swapped (formula 3.11; ``conv2d_3x3_backward_input``,
the same code as the forward), which a "valid" layer needs more tiles for (its dX is larger than dY).

``winograd_algebra.py`` writes the transforms as small matrix products over all tiles at once,
which shows the algebra; with ``FUSED`` (the default) F(4x4, 3x3) runs them instead as one-pass loops
(``winograd_fused.py``, Numba) that read and write each tile once and, in the output transform,
add the bias, apply ReLU and crop in passing. The alpha^2 GEMMs run in BLAS either way. Images
are processed in chunks of at most CHUNK_BYTES of transformed tiles (bounded memory); layers
with up to 128 x 128 channels go further and run all three stages a block of BLOCK_TILES tiles at a
time on each thread (``winograd_blocks.conv_blocks`` / ``backward_blocks``), so a block's V and M
never leave the core's own cache.
``faltung.ops.conv`` uses all of it for stride-1 3x3 convolutions with enough channels.

Functions (shapes NHWC; ``pads = (top, bottom, left, right)``, each in 0..2):
  ``conv2d_3x3(x, w, pads, m=2, keep_transform=False, bias=None, relu=False)``
                                                y = x (*) w, x: (N, H, W, C), w: (3, 3, C, K)
  ``backward(transformed, dy, w, pads, need_dx=True, relu_output=None)``  (dx, dW) from the kept transform,
                                                dy: (N, Ho, Wo, K); (dx, dW, db) through a ReLU
  ``weight_grad(transformed, dy)``              dW alone
  ``conv2d_3x3_backward_input(dy, w, pads, m)``  dx as the full convolution of dy
  ``filter_transform``, ``input_transform``, ``output_transform``, ``output_grad_transform``: the stages
                                                (from ``winograd_algebra``)
"""
from typing import NamedTuple

import numpy as np

from .chunks import batch_chunks
from .epilogue import bias_grad, bias_relu, relu_backward
from .winograd_algebra import (MATRICES, filter_transform, g_kron_g, input_transform,  # noqa: F401
                               matrices, output_grad_transform, output_transform, stacked_matmul)


#: bytes of transformed input per chunk of images at most. Larger chunks mean larger GEMMs and fewer
#: hand-overs between the BLAS and the transform kernels (8 MiB, a quarter of the L3, made the
#: Fashion CNN's step 1.1-1.2x slower); their price is memory: V and M of one chunk at a time
CHUNK_BYTES = 32 << 20
#: while the transformed filters U (alpha^2 x C x K) take at most this many bytes, a fused F(4x4, 3x3)
#: convolution runs ``BLOCK_TILES`` tiles at a time through all three stages at once
#: (``winograd_blocks.conv_blocks``), U (up to 2.25 MiB) and the block staying near the core; larger U
#: (more than 128 x 128 channels) is read again from L3 for every block, so those go in chunks.
#: Measured (A/B, one process): 128 x 128 blocked made the MNIST CNN's inference 1.31x and training
#: 1.16x faster, the Fashion CNN's 1.10-1.18x; 128 x 256 blocked was 0.95-0.97x
BLOCKED_MAX_FILTER_BYTES = 36 * 128 * 128 * 4
BLOCK_TILES = 32
#: the forward keeps its transformed input V for the backward (2.25x the input) while V takes at most
#: this many bytes (the chunked path); above, it keeps x and the backward makes V again, a chunk at a time
#: (less peak memory, one more input transform per step)
KEEP_TRANSFORMED_MAX_BYTES = 24 << 20
#: the same for the blocked kernels, whose backward can make V again a block at a time in the core's cache:
#: cheaper, on Numba's OpenMP threads, than writing V out in the forward and reading it back (A/B, steps
#: with 0 against 24 MiB: batch 32 Fashion 1.10x, MNIST 1.11x, CIFAR 0.99-1.09x; batch 128 0.99-1.03x),
#: and less memory
BLOCKED_KEEP_TRANSFORMED_MAX_BYTES = 0
#: dX from the forward's tiles, back through its stages (dV = dM U^T, dX = B dV B^T); False: dX as
#: the full convolution of dY with rot180(W) (formula 3.11), also run as Winograd. Fused kernels only
ADJOINT_DATA_GRAD = True
#: F(4x4, 3x3) transforms on the one-pass Numba kernels of ``winograd_fused`` (False: the matrix
#: form of ``winograd_algebra``, which shows the algebra and is what the tests compare the kernels with)
FUSED = True


def _check(x, w, pads, name):
    if x.ndim != 4:
        raise ValueError(f"{name}: expected input of rank 4 (N, H, W, C), got shape {tuple(x.shape)}")
    if w.ndim != 4 or w.shape[:2] != (3, 3) or w.shape[2] != x.shape[3]:
        raise ValueError(f"{name}: expected kernel of shape (3, 3, {x.shape[3]}, K), "
                         f"got {tuple(w.shape)}")
    if len(pads) != 4 or any(int(p) != p or not 0 <= p <= 2 for p in pads):
        raise ValueError(f"{name}: expected pads (top, bottom, left, right) in 0..2, got {pads!r}")
    if x.dtype != w.dtype:
        raise ValueError(f"{name}: expected input and kernel of one dtype, got {x.dtype} and {w.dtype}")


class Transformed(NamedTuple):
    """What the forward keeps for the backward: its transformed input V (2.25x the input's
    size for F(4x4), where im2col would keep 9x), one ``(start, stop, V)`` per chunk of images
    ``start:stop``, V: (alpha^2, tiles of the chunk, C) (the blocked kernels: one chunk of all
    images), or no chunks but the input ``x`` itself (a large V): the backward then transforms x again."""
    chunks: list
    m: int
    tiles_hw: tuple      # (tiles_h, tiles_w)
    x: object = None
    top_left: tuple = None  # x's (top, left) padding
    u: object = None     # the transformed filters (alpha^2, C, K), for dX
    x_shape: tuple = None


def _fused(m, dtype):
    """``run(kernel_name, *args)`` for the one-pass kernels of ``winograd_fused`` (the ``*_blocks``
    kernels: ``winograd_blocks``) if F(m x m, 3 x 3) runs on them for this dtype, else None."""
    from . import jit
    if not FUSED or not jit.AVAILABLE or m != 4 or dtype not in (np.float32, np.float64):
        return None
    from . import winograd_blocks, winograd_fused

    def run(name, *args, blas_inside=False):
        module = winograd_blocks if name.endswith("_blocks") else winograd_fused
        jit.run(getattr(module, name), *args, blas_inside=blas_inside)
    return run


def _blocked(u):
    """Whether the transformed filters (or their gradient) ``u`` are small enough for the blocked kernels."""
    return u.nbytes <= BLOCKED_MAX_FILTER_BYTES


def _chunks(n, m, tiles_h, tiles_w, channels, itemsize):
    """``[(start, stop), ...]``: the n images in even chunks of at most about CHUNK_BYTES of
    transformed tiles each."""
    return batch_chunks(n, (m + 2) ** 2 * tiles_h * tiles_w * channels * itemsize, CHUNK_BYTES)


def conv2d_3x3(x, w, pads=(1, 1, 1, 1), m=2, u=None, keep_transform=False, bias=None, relu=False):
    """Stride-1 3x3 cross-correlation y[n,h,w,k] = sum_{i,j,c} xp[n,h+i,w+j,c] w[i,j,c,k] (+ bias[k]).

    x: (N, H, W, C), w: (3, 3, C, K), pads = (top, bottom, left, right) zero padding
    ("same" = (1, 1, 1, 1), "valid" = (0, 0, 0, 0)); returns (N, H+top+bottom-2, W+left+right-2, K),
    or ``(y, Transformed)`` with ``keep_transform`` (for ``weight_grad``). ``bias`` (K,) is added and
    ``relu`` applies max(0, .) (in the output transform when fused). ``u`` may pass a ready
    ``filter_transform(w, m)``. The images go in cache-sized chunks, or the tiles in blocks (``_blocked``).
    """
    _check(x, w, pads, "winograd conv2d_3x3")
    matrices(m)
    top, bottom, left, right = (int(p) for p in pads)
    n, h, wd, c = x.shape
    h_out, w_out = h + top + bottom - 2, wd + left + right - 2
    if h_out < 1 or w_out < 1:
        raise ValueError(f"winograd conv2d_3x3: input {tuple(x.shape)} with pads {pads} "
                         f"is smaller than the 3x3 kernel")
    alpha, k = m + 2, w.shape[3]
    tiles_h, tiles_w = -(-h_out // m), -(-w_out // m)
    tiles = tiles_h * tiles_w  # per image
    if u is None:
        u = filter_transform(w, m)
    fused = _fused(m, x.dtype)
    if fused is None:  # whole tiles, cropped at the end
        y = np.empty((n, m * tiles_h, m * tiles_w, k), dtype=x.dtype)
    else:  # the fused output transform drops what hangs over the edge
        y = np.empty((n, h_out, w_out, k), dtype=x.dtype)
        fused_bias = np.zeros(k, x.dtype) if bias is None else np.ascontiguousarray(bias, dtype=x.dtype)
    v_bytes = alpha * alpha * n * tiles * c * x.itemsize
    keep_v = keep_transform and v_bytes <= KEEP_TRANSFORMED_MAX_BYTES
    if fused is not None and _blocked(u):  # tile blocks through all stages, no padded copy
        keep_v = keep_transform and v_bytes <= BLOCKED_KEEP_TRANSFORMED_MAX_BYTES
        x = np.ascontiguousarray(x)
        v_all = np.empty((alpha * alpha, n * tiles if keep_v else 0, c), x.dtype)  # every block's V, or none
        fused("conv_blocks", x, top, left, u, fused_bias, relu, tiles_h, tiles_w, BLOCK_TILES, y, v_all,
              blas_inside=True)
        if not keep_transform:
            return y
        kept = [(0, n, v_all)] if keep_v else []
        return y, Transformed(kept, m, (tiles_h, tiles_w), None if keep_v else x, (top, left), u, x.shape)
    kept = []  # (start, stop, V) of every chunk, when keep_v
    chunks = _chunks(n, m, tiles_h, tiles_w, max(c, k), x.itemsize)
    most = max(stop - start for start, stop in chunks)  # one V and one M buffer, reused chunk by chunk
    v_space = None if keep_v else np.empty(most * alpha * alpha * tiles * c, x.dtype)  # a kept V: its own
    m_space = np.empty(most * alpha * alpha * tiles * k, x.dtype)
    for start, stop in chunks:
        shape = (alpha * alpha, (stop - start) * tiles)
        v = _input_chunk(x[start:stop], (top, left), m, (tiles_h, tiles_w), fused,
                         out=_view(v_space, shape + (c,)))
        if keep_v:
            kept.append((start, stop, v))
        mprod = stacked_matmul(v, u, out=_view(m_space, shape + (k,)))  # alpha^2 GEMMs (P, C) @ (C, K)
        if fused is None:
            output_transform(mprod, m, stop - start, tiles_h, tiles_w, out=y[start:stop])
        else:
            fused("output_transform", mprod, tiles_h, tiles_w, fused_bias, relu, y[start:stop])
    if fused is None:
        if y.shape[1] != h_out or y.shape[2] != w_out:
            y = np.ascontiguousarray(y[:, :h_out, :w_out])
        bias_relu(y, bias, relu)
    if keep_transform:
        return y, Transformed(kept, m, (tiles_h, tiles_w), None if keep_v else x, (top, left), u, x.shape)
    return y


def _view(space, shape):
    """The front of the flat buffer ``space`` (one per call, every chunk's V or M in turn) as a
    C-contiguous array of ``shape`` (None: no buffer)."""
    return None if space is None else space[:int(np.prod(shape))].reshape(shape)


def _input_chunk(x, top_left, m, tiles_hw, fused, out=None):
    """V = B^T d B for every tile of the images x: (n, H, W, C) padded by ``top_left`` -> (alpha^2, P, C)
    (the fused kernel writes into ``out`` if given)."""
    (top, left), (tiles_h, tiles_w), (n, h, w, c) = top_left, tiles_hw, x.shape
    if fused is None:  # pad to whole tiles; the extra bottom/right zeros only feed cropped outputs
        xpad = np.zeros((n, m * tiles_h + 2, m * tiles_w + 2, c), dtype=x.dtype)
        xpad[:, top:top + h, left:left + w] = x
        return input_transform(xpad, m, tiles_h, tiles_w)
    v = np.empty(((m + 2) ** 2, n * tiles_h * tiles_w, c), x.dtype) if out is None else out
    fused("input_transform", np.ascontiguousarray(x), top, left, tiles_h, tiles_w, v)
    return v


def _add_weight_grad_in_steps(v, dy, m, tiles_hw, du):
    """du += V[xi]^T @ dM[xi] for one chunk (matrix form), dM = A dY A^T made a cache-sized step of
    images at a time; dy padded to whole tiles."""
    n, k = dy.shape[0], dy.shape[3]
    tiles = tiles_hw[0] * tiles_hw[1]  # per image
    product = np.empty_like(du)
    for start, stop in _chunks(n, m, *tiles_hw, max(v.shape[2], k), dy.itemsize):
        dm = output_grad_transform(dy[start:stop], m)
        du += stacked_matmul(v[:, start * tiles:stop * tiles].transpose(0, 2, 1), dm, out=product)


def weight_grad(transformed, dy):
    """dW of ``conv2d_3x3`` from its kept ``Transformed`` input and dY: (N, H_out, W_out, K) -> (3, 3, C, K).

    Backward through the three stages: dM = A dY A^T (``output_grad_transform``), then for every
    position xi of the tile dU[xi] = V[xi]^T @ dM[xi] (the weight gradient of M = V @ U, summed
    over all tiles), then back through U = (G kron G) g: dg = (G kron G)^T dU.
    """
    chunks, m, (tiles_h, tiles_w), x, top_left, _, _ = transformed
    if _fused(m, dy.dtype) is not None:  # the one-pass kernels: ``backward`` without dX
        return backward(transformed, dy, None, need_dx=False)[1]
    alpha, (n, h_out, w_out, k) = m + 2, dy.shape
    c = chunks[0][2].shape[2] if x is None else x.shape[3]
    if (m * tiles_h, m * tiles_w) != (h_out, w_out):  # cropped outputs: zero gradient
        padded = np.zeros((n, m * tiles_h, m * tiles_w, k), dtype=dy.dtype)
        padded[:, :h_out, :w_out] = dy
        dy = padded
    dy = np.ascontiguousarray(dy)
    du = np.zeros((alpha * alpha, c, k), dtype=dy.dtype)
    if x is not None:  # V made again from x, a chunk of images at a time
        for start, stop in _chunks(n, m, tiles_h, tiles_w, max(c, k), dy.itemsize):
            v = _input_chunk(x[start:stop], top_left, m, (tiles_h, tiles_w), None)
            _add_weight_grad_in_steps(v, dy[start:stop], m, (tiles_h, tiles_w), du)
    for first, last, v in chunks:  # the forward's chunks of images (a kept V)
        _add_weight_grad_in_steps(v, dy[first:last], m, (tiles_h, tiles_w), du)
    return _filter_grad(du, m)


def _filter_grad(du, m):
    """dW = (G kron G)^T dU: the transformed filters' gradient (alpha^2, C, K) back to (3, 3, C, K)."""
    alpha2, c, k = du.shape
    gg = g_kron_g(m, np.dtype(du.dtype))                           # (alpha^2, 9)
    return (gg.T @ du.reshape(alpha2, c * k)).reshape(3, 3, c, k)


def backward(transformed, dy, w, pads=None, need_dx=True, relu_output=None):
    """``(dx, dw)`` of ``conv2d_3x3(x, w, pads)`` from its kept ``Transformed`` input and dY, both
    gradients from one dM = A dY A^T per tile: dU[xi] = V[xi]^T @ dM[xi] as in ``weight_grad``, and
    dV[xi] = dM[xi] @ U[xi]^T, dX = B dV B^T added over the overlapping tiles (the adjoint of the
    forward's stages, so dX takes the forward's tiles: fewer than the full convolution of dY with
    rot180(W) needs for a "valid" layer). Without the fused kernels (or ``ADJOINT_DATA_GRAD``), dX is
    that full convolution (``conv2d_3x3_backward_input``). ``need_dx=False`` returns dx as None.

    ``relu_output``: the forward's output y = max(0, z) (N, H_out, W_out, K) of a layer that applied
    ReLU: dy is then dL/dy, the ReLU's backward dZ = dY [y > 0] (formula 3.9) happens as the tiles
    of dY are read, and the result is ``(dx, dw, db)`` with db = the sum of dZ (the bias's gradient):
    no separate pass over dY, y and dZ.
    """
    chunks, m, (tiles_h, tiles_w), x, top_left, _, x_shape = transformed
    fused = _fused(m, dy.dtype)
    if fused is None or (need_dx and not ADJOINT_DATA_GRAD):
        if relu_output is not None:  # the ReLU's backward first, in NumPy
            dz = relu_backward(dy, relu_output)
            return backward(transformed, dz, w, pads, need_dx) + (bias_grad(dz),)
        dx = conv2d_3x3_backward_input(dy, w, pads, m) if need_dx else None
        return dx, weight_grad(transformed, dy)
    from . import jit
    (top, left), (n, _, _, c), k = top_left, x_shape, dy.shape[3]
    dy = np.ascontiguousarray(dy)
    relu = relu_output is not None
    y = np.ascontiguousarray(relu_output, dtype=dy.dtype) if relu else np.empty((0, 1, 1, k), dy.dtype)
    db_parts = np.empty((jit.thread_count(), k), dy.dtype)
    du = np.empty(((m + 2) ** 2, c, k), dtype=dy.dtype)
    dx = np.empty(x_shape if need_dx else (1, 1, 1, c), dtype=dy.dtype)
    u = transformed.u
    if u is None and need_dx:  # a Transformed made without U
        u = filter_transform(w, m)
    whole = chunks[0][2] if len(chunks) == 1 and chunks[0][:2] == (0, n) else None  # V of all images
    if _blocked(du) and (x is not None or whole is not None):  # block by block; dU as a sum per thread
        ut = np.ascontiguousarray(u.transpose(0, 2, 1)) if need_dx else np.empty((1, 1, 1), dy.dtype)
        parts = np.empty((jit.thread_count(),) + du.shape, dy.dtype)
        v_all = np.empty(((m + 2) ** 2, 0, c), dy.dtype) if whole is None else whole   # none: V from x
        x = np.empty((n, 0, 0, c), dy.dtype) if x is None else x  # not read when V is kept
        fused("backward_blocks", x, top, left, dy, ut, tiles_h, tiles_w, BLOCK_TILES, parts, dx, need_dx,
              v_all, y, db_parts, blas_inside=True)
        grads = (dx if need_dx else None), _filter_grad(parts.sum(axis=0), m)
        return grads + (db_parts.sum(axis=0),) if relu else grads
    # a chunk of images at a time: the forward's kept V, or V made again from x
    pieces = chunks or [(start, stop, None) for start, stop in _chunks(n, m, tiles_h, tiles_w, max(c, k),
                                                                       dy.itemsize)]
    product = np.empty_like(du) if len(pieces) > 1 else None  # the first chunk's dU goes straight into du
    tiles, alpha2 = tiles_h * tiles_w, (m + 2) ** 2
    most = max(stop - start for start, stop, _ in pieces)  # one V/dV and one dM buffer, reused
    v_space = np.empty(most * alpha2 * tiles * c, dy.dtype)
    dm_space = np.empty(most * alpha2 * tiles * k, dy.dtype)
    db = np.zeros(k, dy.dtype)
    for index, (start, stop, kept) in enumerate(pieces):
        shape = (alpha2, (stop - start) * tiles)
        v = kept if kept is not None else _input_chunk(x[start:stop], top_left, m, (tiles_h, tiles_w), fused,
                                                       out=_view(v_space, shape + (c,)))
        dm = _view(dm_space, shape + (k,))
        fused("output_grad_transform", dy[start:stop], tiles_h, tiles_w, dm, y[start:stop] if relu else y, db_parts)
        if relu:
            db += db_parts.sum(axis=0)
        if index == 0:
            stacked_matmul(v.transpose(0, 2, 1), dm, out=du)              # dU[xi] = V[xi]^T dM[xi]
        else:
            du += stacked_matmul(v.transpose(0, 2, 1), dm, out=product)   # dU[xi] += V[xi]^T dM[xi]
        if need_dx:
            dv = stacked_matmul(dm, u.transpose(0, 2, 1), out=_view(v_space, shape + (c,)))  # dM U^T
            dx[start:stop] = 0
            fused("input_grad_transform", dv, top, left, tiles_h, tiles_w, dx[start:stop])
    grads = (dx if need_dx else None), _filter_grad(du, m)
    return grads + (db,) if relu else grads


def rotate_kernel(w):
    """rot180 in space and in/out channels swapped: (3, 3, C, K) -> (3, 3, K, C)."""
    return np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))


def conv2d_3x3_backward_input(dy, w, pads=(1, 1, 1, 1), m=2):
    """dx of ``conv2d_3x3(x, w, pads)``: dX = full_conv(dY, rot180(W)), a stride-1 3x3 conv of dy
    padded by 2 - p on each side with the rotated, channel-swapped kernel.

    dy: (N, Ho, Wo, K), w: (3, 3, C, K) -> dx: (N, Ho - top - bottom + 2, Wo - left - right + 2, C).
    """
    top, bottom, left, right = (int(p) for p in pads)
    return conv2d_3x3(dy, rotate_kernel(w), (2 - top, 2 - bottom, 2 - left, 2 - right), m)
