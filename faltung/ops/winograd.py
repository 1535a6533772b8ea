"""Winograd convolution for stride-1 3x3 kernels, NHWC (Lavin & Gray 2015, "Fast Algorithms
for Convolutional Neural Networks").

The minimal filtering algorithm F(m x m, 3 x 3) computes an m x m output tile from an
alpha x alpha input tile (alpha = m + 2) with alpha^2 multiplications instead of 9 m^2:

    Y = A^T [ (G g G^T) (.) (B^T d B) ] A                                      (Lavin & Gray, eq. 8)

g is the 3x3 filter, d the input tile, (.) the elementwise product. Over channels this becomes,
for every one of the alpha^2 positions xi = (a, b) of the transformed tile,

    U[xi] = (G g G^T)[xi]          (C, K)    filter transform, once per step
    V[xi] = (B^T d B)[xi]          (P, C)    input transform, P = number of tiles (N * tiles_h * tiles_w)
    M[xi] = V[xi] @ U[xi]          (P, K)    alpha^2 independent GEMMs (one batched np.matmul)
    Y     = A^T M A                          output transform, back to (N, H_out, W_out, K)

so the GEMM work drops by 9 m^2 / alpha^2: 2.25x for F(2x2, 3x3), 4x for F(4x4, 3x3).
F(2x2) is exact up to rounding (its matrices hold 0, +-1, 1/2); F(4x4) multiplies by up to 8 and
1/24, so in float32 it is ~10x less accurate than direct convolution (still ~1e-5 relative).

The input gradient of a stride-1 3x3 convolution is itself one (dX = full_conv(dY, rot180(W))
with in/out channels swapped), so ``conv2d_3x3_backward_input`` reuses the same code.

Functions (shapes NHWC; ``pads = (top, bottom, left, right)``, each in 0..2):
  ``conv2d_3x3(x, w, pads, m=2)``               y = x (*) w, x: (N, H, W, C), w: (3, 3, C, K)
  ``conv2d_3x3_backward_input(dy, w, pads, m)``  dx for that convolution, dy: (N, Ho, Wo, K)
  ``filter_transform``, ``input_transform``, ``output_transform``: the three stages.
"""
import numpy as np

# F(2x2, 3x3): Lavin & Gray 2015, section 4.1.
_BT_2 = np.array([[1, 0, -1, 0],
                  [0, 1, 1, 0],
                  [0, -1, 1, 0],
                  [0, 1, 0, -1]], dtype=np.float64)
_G_2 = np.array([[1, 0, 0],
                 [0.5, 0.5, 0.5],
                 [0.5, -0.5, 0.5],
                 [0, 0, 1]], dtype=np.float64)
_AT_2 = np.array([[1, 1, 1, 0],
                  [0, 1, -1, -1]], dtype=np.float64)

# F(4x4, 3x3): Lavin & Gray 2015, section 4.2 (interpolation points 0, +-1, +-2, infinity).
_BT_4 = np.array([[4, 0, -5, 0, 1, 0],
                  [0, -4, -4, 1, 1, 0],
                  [0, 4, -4, -1, 1, 0],
                  [0, -2, -1, 2, 1, 0],
                  [0, 2, -1, -2, 1, 0],
                  [0, 4, 0, -5, 0, 1]], dtype=np.float64)
_G_4 = np.array([[1 / 4, 0, 0],
                 [-1 / 6, -1 / 6, -1 / 6],
                 [-1 / 6, 1 / 6, -1 / 6],
                 [1 / 24, 1 / 12, 1 / 6],
                 [1 / 24, -1 / 12, 1 / 6],
                 [0, 0, 1]], dtype=np.float64)
_AT_4 = np.array([[1, 1, 1, 1, 1, 0],
                  [0, 1, -1, 2, -2, 0],
                  [0, 1, 1, 4, 4, 0],
                  [0, 1, -1, 8, -8, 1]], dtype=np.float64)

MATRICES = {2: (_BT_2, _G_2, _AT_2), 4: (_BT_4, _G_4, _AT_4)}


def _matrices(m):
    if m not in MATRICES:
        raise ValueError(f"winograd: expected output tile size m in {sorted(MATRICES)}, got {m!r}")
    return MATRICES[m]


def _combine(row, terms, out):
    """out = sum_i row[i] * terms[i], skipping zero coefficients (the matrices are sparse)."""
    first = True
    scratch = None
    for c, term in zip(row, terms):
        if c == 0:
            continue
        c = float(c)
        if first:
            if c == 1:
                np.copyto(out, term)
            elif c == -1:
                np.negative(term, out=out)
            else:
                np.multiply(term, c, out=out)
            first = False
        elif c == 1:
            np.add(out, term, out=out)
        elif c == -1:
            np.subtract(out, term, out=out)
        else:
            if scratch is None:
                scratch = np.empty_like(out)
            np.multiply(term, c, out=scratch)
            np.add(out, scratch, out=out)
    return out


def filter_transform(w, m=2):
    """U = G g G^T for every (C, K) pair: w (3, 3, C, K) -> U (alpha^2, C, K), same dtype."""
    _, G, _ = _matrices(m)
    alpha = m + 2
    c, k = w.shape[2], w.shape[3]
    gw = np.empty((alpha, 3, c, k), dtype=w.dtype)
    for a in range(alpha):
        _combine(G[a], [w[i] for i in range(3)], gw[a])              # (G g)[a] = sum_i G[a, i] g[i]
    u = np.empty((alpha, alpha, c, k), dtype=w.dtype)
    for a in range(alpha):
        for b in range(alpha):
            _combine(G[b], [gw[a, j] for j in range(3)], u[a, b])     # ((G g) G^T)[a, b]
    return u.reshape(alpha * alpha, c, k)


def input_transform(xpad, m, tiles_h, tiles_w):
    """V = B^T d B for every alpha x alpha tile d (tiles overlap by 2, stride m).

    xpad: (N, m*tiles_h + 2, m*tiles_w + 2, C), already padded -> V: (alpha^2, P, C), P = N*tiles_h*tiles_w.
    Rows first on whole tile rows (neighbouring tiles share columns), then columns.
    """
    BT, _, _ = _matrices(m)
    alpha = m + 2
    n, hp, wp, c = xpad.shape
    # rows[a][n, t, :, c] = sum_i BT[a, i] * xpad[n, m*t + i, :, c]
    row_terms = [xpad[:, i:i + m * tiles_h:m] for i in range(alpha)]
    rows = np.empty((alpha, n, tiles_h, wp, c), dtype=xpad.dtype)
    for a in range(alpha):
        _combine(BT[a], row_terms, rows[a])
    v = np.empty((alpha, alpha, n, tiles_h, tiles_w, c), dtype=xpad.dtype)
    for a in range(alpha):
        # v[a, b][n, t, s, c] = sum_j BT[b, j] * rows[a][n, t, m*s + j, c]
        col_terms = [rows[a][:, :, j:j + m * tiles_w:m] for j in range(alpha)]
        for b in range(alpha):
            _combine(BT[b], col_terms, v[a, b])
    return v.reshape(alpha * alpha, n * tiles_h * tiles_w, c)


def output_transform(mprod, m, n, tiles_h, tiles_w):
    """Y = A^T M A for every tile: mprod (alpha^2, P, K) -> y (N, m*tiles_h, m*tiles_w, K)."""
    _, _, AT = _matrices(m)
    alpha = m + 2
    k = mprod.shape[-1]
    mprod = mprod.reshape(alpha, alpha, n, tiles_h, tiles_w, k)
    z = np.empty((m, alpha, n, tiles_h, tiles_w, k), dtype=mprod.dtype)
    for r in range(m):
        # z[r, b] = sum_a AT[r, a] * M[a, b]
        _combine(AT[r], [mprod[a] for a in range(alpha)], z[r])
    y = np.empty((n, tiles_h, m, tiles_w, m, k), dtype=mprod.dtype)
    for r in range(m):
        for s in range(m):
            # y[n, m*t + r, m*u + s, k] = sum_b AT[s, b] * z[r, b]
            _combine(AT[s], [z[r, b] for b in range(alpha)], y[:, :, r, :, s, :])
    return y.reshape(n, tiles_h * m, tiles_w * m, k)


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


def conv2d_3x3(x, w, pads=(1, 1, 1, 1), m=2, u=None):
    """Stride-1 3x3 cross-correlation y[n,h,w,k] = sum_{i,j,c} xp[n,h+i,w+j,c] w[i,j,c,k] (no bias).

    x: (N, H, W, C), w: (3, 3, C, K), pads = (top, bottom, left, right) zero padding
    ("same" = (1, 1, 1, 1), "valid" = (0, 0, 0, 0)); returns (N, H+top+bottom-2, W+left+right-2, K).
    ``u`` may pass a ready ``filter_transform(w, m)``.
    """
    _check(x, w, pads, "winograd conv2d_3x3")
    _matrices(m)
    top, bottom, left, right = (int(p) for p in pads)
    n, h, wd, c = x.shape
    h_out, w_out = h + top + bottom - 2, wd + left + right - 2
    if h_out < 1 or w_out < 1:
        raise ValueError(f"winograd conv2d_3x3: input {tuple(x.shape)} with pads {pads} "
                         f"is smaller than the 3x3 kernel")
    tiles_h, tiles_w = -(-h_out // m), -(-w_out // m)
    # Pad to whole tiles; the extra bottom/right zeros only feed outputs that are cropped.
    xpad = np.zeros((n, m * tiles_h + 2, m * tiles_w + 2, c), dtype=x.dtype)
    xpad[:, top:top + h, left:left + wd] = x
    v = input_transform(xpad, m, tiles_h, tiles_w)
    if u is None:
        u = filter_transform(w, m)
    mprod = np.matmul(v, u)                      # alpha^2 GEMMs (P, C) @ (C, K)
    y = output_transform(mprod, m, n, tiles_h, tiles_w)
    if y.shape[1] != h_out or y.shape[2] != w_out:
        y = np.ascontiguousarray(y[:, :h_out, :w_out])
    return y


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
