"""Affine resampling of a whole batch of images at once (shared by ImageDataGenerator and the layers).

Every image n has a 3x3 matrix ``A[n]`` that maps an OUTPUT pixel position
``(x, y) = (column, row)`` to the INPUT point it is read from::

    (x_in, y_in, 1)^T = A[n] @ (x, y, 1)^T          (the convention of Keras 3 and scipy.ndimage)

The value at the (generally fractional) input point is interpolated:

* ``"bilinear"``: with ``x0 = floor(x_in)``, ``fx = x_in - x0`` (same for y), the value is
  ``(1-fx)(1-fy) I[y0,x0] + fx(1-fy) I[y0,x0+1] + (1-fx)fy I[y0+1,x0] + fx fy I[y0+1,x0+1]``;
* ``"nearest"``: ``I[floor(y_in + 0.5), floor(x_in + 0.5)]``.

Neighbours that fall outside the image are replaced according to ``fill_mode``
(the input ``a b c d`` extended to both sides, as in Keras):

* ``"reflect"``   ``d c b a | a b c d | d c b a``
* ``"mirror"``    ``  d c b | a b c d | c b a``
* ``"wrap"``      ``a b c d | a b c d | a b c d``
* ``"nearest"``   ``a a a a | a b c d | d d d d``
* ``"constant"``  ``k k k k | a b c d | k k k k``  with ``k = fill_value``

Resampling is linear in the pixels, ``y = S x + k f`` with a sparse matrix ``S`` (at most
4 entries per output pixel), so the backward is ``dx = S^T dy`` (``resample_transpose``).
Everything is index arithmetic on the flattened batch: no Python loop over pixels.
"""
from collections import namedtuple

import numpy as np

INTERPOLATIONS = ("bilinear", "nearest")
FILL_MODES = ("reflect", "mirror", "wrap", "nearest", "constant")

#: indices/weights: lists of (N*P,) arrays into the flattened input (N*H*W, C);
#: fill_weight: (N*P,) weight of fill_value ("constant" mode) or None
SamplingPlan = namedtuple("SamplingPlan", "indices weights fill_weight input_shape output_hw")


def check_options(interpolation, fill_mode, who):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{who}: expected interpolation to be one of {list(INTERPOLATIONS)}, "
                         f"got {interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"{who}: expected fill_mode to be one of {list(FILL_MODES)}, got {fill_mode!r}")


def fold_index(i, n, fill_mode):
    """Integer positions ``i`` (any int array) folded into ``[0, n)``; also the mask of valid ones."""
    if fill_mode == "reflect":        # period 2n: 0..n-1 then n-1..0
        i = np.mod(i, 2 * n)
        return np.where(i >= n, 2 * n - 1 - i, i), None
    if fill_mode == "mirror":         # period 2n-2: the edge pixel is not repeated
        if n == 1:
            return np.zeros_like(i), None
        i = np.mod(i, 2 * n - 2)
        return np.where(i >= n, 2 * n - 2 - i, i), None
    if fill_mode == "wrap":
        return np.mod(i, n), None
    if fill_mode == "nearest":
        return np.clip(i, 0, n - 1), None
    valid = (i >= 0) & (i < n)        # "constant": outside pixels contribute fill_value
    return np.clip(i, 0, n - 1), valid


def sampling_plan(matrices, input_shape, output_hw=None, interpolation="bilinear", fill_mode="reflect",
                  dtype=np.float64):
    """Where each output pixel reads from: ``matrices (N, 3, 3)``, ``input_shape (N, H, W, C)``.

    Coordinates are computed in float64; the weights are stored in ``dtype`` (the images' dtype)
    and the indices as int32 when the batch is small enough, to keep the plan small.
    """
    n, h, w = input_shape[0], input_shape[1], input_shape[2]
    ho, wo = (h, w) if output_hw is None else output_hw
    matrices = np.asarray(matrices, dtype=np.float64)
    rows, cols = np.meshgrid(np.arange(ho, dtype=np.float64), np.arange(wo, dtype=np.float64),
                             indexing="ij")
    cols, rows = cols.reshape(1, -1), rows.reshape(1, -1)                  # (1, P)
    x_in = matrices[:, 0, 0:1] * cols + matrices[:, 0, 1:2] * rows + matrices[:, 0, 2:3]
    y_in = matrices[:, 1, 0:1] * cols + matrices[:, 1, 1:2] * rows + matrices[:, 1, 2:3]
    base = (np.arange(n) * (h * w)).reshape(-1, 1)                        # image offset in the flat batch

    if interpolation == "nearest":
        rows_in = [(np.floor(y_in + 0.5), 1.0)]
        cols_in = [(np.floor(x_in + 0.5), 1.0)]
    else:   # bilinear: rows y0, y0+1 with weights 1-fy, fy; columns likewise
        y0, x0 = np.floor(y_in), np.floor(x_in)
        fy, fx = y_in - y0, x_in - x0
        rows_in = [(y0, 1.0 - fy), (y0 + 1, fy)]
        cols_in = [(x0, 1.0 - fx), (x0 + 1, fx)]
    # fold each row and column position once, then combine them into the 1 or 4 neighbours
    rows = [(fold_index(r.astype(np.int64), h, fill_mode), wr) for r, wr in rows_in]
    cols = [(fold_index(c.astype(np.int64), w, fill_mode), wc) for c, wc in cols_in]
    index_dtype = np.int32 if n * h * w < 2**31 else np.int64
    indices, weights, fill_weight = [], [], None
    for (r, valid_r), wr in rows:
        offset = base + r * w
        for (c, valid_c), wc in cols:
            wgt = np.broadcast_to(wr * wc, x_in.shape)
            if valid_r is not None:
                valid = valid_r & valid_c
                fill_weight = (0 if fill_weight is None else fill_weight) + np.where(valid, 0.0, wgt)
                wgt = np.where(valid, wgt, 0.0)
            indices.append((offset + c).reshape(-1).astype(index_dtype, copy=False))
            weights.append(wgt.reshape(-1).astype(dtype, copy=False))
    if fill_weight is not None:
        fill_weight = fill_weight.reshape(-1).astype(dtype, copy=False)
    return SamplingPlan(indices, weights, fill_weight, tuple(input_shape), (ho, wo))


def resample(images, plan, fill_value=0.0):
    """Apply a plan: ``images (N, H, W, C)`` -> ``(N, Ho, Wo, C)`` in the images' float dtype."""
    n, h, w, c = images.shape
    dtype = images.dtype if images.dtype.kind == "f" else np.dtype(np.float32)
    flat = images.reshape(n * h * w, c)
    out = np.zeros((plan.indices[0].size, c), dtype=dtype)
    for idx, wgt in zip(plan.indices, plan.weights):
        out += wgt.astype(dtype, copy=False)[:, None] * np.take(flat, idx, axis=0).astype(dtype, copy=False)
    if plan.fill_weight is not None and fill_value != 0:
        out += (plan.fill_weight * fill_value).astype(dtype)[:, None]
    return out.reshape(n, plan.output_hw[0], plan.output_hw[1], c)


def resample_transpose(dy, plan):
    """The backward of ``resample``: ``dx = S^T dy``, ``dy (N, Ho, Wo, C)`` -> ``dx (N, H, W, C)``."""
    n, h, w, c = plan.input_shape
    dy_flat = dy.reshape(-1, c)
    dx = np.zeros((n * h * w, c), dtype=np.float64)
    for idx, wgt in zip(plan.indices, plan.weights):
        for ch in range(c):   # scatter-add: dx[idx] += wgt * dy, as a bincount per channel
            dx[:, ch] += np.bincount(idx, weights=wgt * dy_flat[:, ch], minlength=n * h * w)
    return dx.reshape(n, h, w, c).astype(dy.dtype, copy=False)


def affine_transform(images, matrices, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                     output_hw=None):
    """Resample ``images (N, H, W, C)`` with one matrix per image ``(N, 3, 3)`` (see module docstring)."""
    check_options(interpolation, fill_mode, "affine_transform")
    dtype = images.dtype if images.dtype.kind == "f" else np.dtype(np.float32)
    plan = sampling_plan(matrices, images.shape, output_hw, interpolation, fill_mode, dtype)
    return resample(images, plan, fill_value)


# ---- matrices (output (x, y) -> input (x, y)), one per image ----------------------------------------
def stack_matrices(rows):
    """``[[a, b, c], [d, e, f]]`` of (N,) arrays or scalars -> (N, 3, 3) with last row (0, 0, 1)."""
    (a, b, c), (d, e, f) = [[np.asarray(v, np.float64) for v in row] for row in rows]
    a, b, c, d, e, f = np.broadcast_arrays(a, b, c, d, e, f)
    m = np.zeros(a.shape + (3, 3))
    m[..., 0, 0], m[..., 0, 1], m[..., 0, 2] = a, b, c
    m[..., 1, 0], m[..., 1, 1], m[..., 1, 2] = d, e, f
    m[..., 2, 2] = 1.0
    return m


def identity_matrices(n):
    return np.broadcast_to(np.eye(3), (n, 3, 3)).copy()


def translation_matrices(dx, dy):
    """Content moves by ``(+dx, +dy)`` pixels: output ``(x, y)`` reads input ``(x - dx, y - dy)``."""
    return stack_matrices([[1, 0, -np.asarray(dx)], [0, 1, -np.asarray(dy)]])


def about_center(matrices, height, width):
    """``C @ M @ C^-1``: the linear part of M acts about the image centre ``((W-1)/2, (H-1)/2)``."""
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    to_center = stack_matrices([[1, 0, cx], [0, 1, cy]])
    from_center = stack_matrices([[1, 0, -cx], [0, 1, -cy]])
    return to_center @ matrices @ from_center


def rotation_matrices(theta, height, width):
    """Rotate the content counter-clockwise by ``theta`` radians (as on screen, y pointing down).

    Output (x, y) reads input ``(cos t (x-cx) - sin t (y-cy) + cx, sin t (x-cx) + cos t (y-cy) + cy)``,
    Keras 3's rotation matrix; ``theta = pi/2`` is ``np.rot90``.
    """
    cos, sin = np.cos(theta), np.sin(theta)
    return about_center(stack_matrices([[cos, -sin, 0], [sin, cos, 0]]), height, width)


def zoom_matrices(zx, zy, height, width):
    """Output (x, y) reads input ``(cx + zx (x - cx), cy + zy (y - cy))``: ``z < 1`` zooms in."""
    return about_center(stack_matrices([[zx, 0, 0], [0, zy, 0]]), height, width)


def resize_matrices(n, crop_box, output_hw):
    """Resize the window ``crop_box = (top, left, height, width)`` to ``output_hw`` (half-pixel centres).

    ``x_in = left + (x + 0.5) * width / Wo - 0.5``, as ``tf.image.resize`` without antialiasing.
    """
    top, left, ch, cw = crop_box
    sy, sx = ch / output_hw[0], cw / output_hw[1]
    m = stack_matrices([[sx, 0, left + 0.5 * sx - 0.5], [0, sy, top + 0.5 * sy - 0.5]])
    return np.broadcast_to(m, (n, 3, 3)).copy()
