"""The stages of Winograd's F(m x m, 3 x 3) in matrix form (Lavin & Gray 2015), over all tiles at once.

Each stage is a few small matrix products over copies of the tiles, which shows the algebra
of ``winograd.py`` line by line; ``winograd_fused.py`` runs the same stages as one-pass loops, and
the tests compare the two.

  ``filter_transform(w, m)``                      U = G g G^T:    w (3, 3, C, K) -> (alpha^2, C, K)
  ``input_transform(xpad, m, th, tw)``            V = B^T d B:    padded x -> (alpha^2, P, C)
  ``output_transform(mprod, m, n, th, tw, out)``  Y = A^T M A:    (alpha^2, P, K) -> (N, m*th, m*tw, K)
  ``output_grad_transform(dy_tiles, m)``          dM = A dY A^T:  its adjoint
"""
import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided


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

def matrices(m):
    if m not in MATRICES:
        raise ValueError(f"winograd: expected output tile size m in {sorted(MATRICES)}, got {m!r}")
    return MATRICES[m]


@functools.lru_cache(maxsize=None)
def g_kron_g(m, dtype):
    """G kron G: (alpha^2, 9), the filter transform as one matrix (made once per m and dtype)."""
    _, G, _ = matrices(m)
    gg = np.kron(G, G).astype(dtype)
    gg.flags.writeable = False
    return gg


def filter_transform(w, m=2):
    """U = G g G^T for every (C, K) pair: w (3, 3, C, K) -> U (alpha^2, C, K), same dtype.

    Row-major, (G g G^T)[a, b] = sum_{i,j} G[a, i] G[b, j] g[i, j], i.e. U = (G kron G) @ g as
    one GEMM (alpha^2, 9) @ (9, C*K) over all filters at once.
    """
    alpha = m + 2
    c, k = w.shape[2], w.shape[3]
    gg = g_kron_g(m, np.dtype(w.dtype))
    return (gg @ w.reshape(9, c * k)).reshape(alpha * alpha, c, k)


def input_transform(xpad, m, tiles_h, tiles_w):
    """V = B^T d B for every alpha x alpha tile d (tiles overlap by 2, stride m).

    xpad: (N, m*tiles_h + 2, m*tiles_w + 2, C), already padded -> V: (alpha^2, P, C), P = N*tiles_h*tiles_w.
    The tiles are copied out once as D[a, b] (alpha, alpha, P*C); then B^T is applied along a as
    one GEMM (alpha, alpha) @ (alpha, alpha*P*C), and along b as alpha GEMMs of the same kind, so
    both transforms run in BLAS instead of elementwise NumPy passes.
    """
    BT, _, _ = matrices(m)
    BT = BT.astype(xpad.dtype)
    alpha = m + 2
    n, _, _, c = xpad.shape
    sn, sh, sw, sc = xpad.strides
    tiles = as_strided(xpad, (alpha, alpha, n, tiles_h, tiles_w, c),
                       (sh, sw, sn, m * sh, m * sw, sc), writeable=False)  # d[a, b] of every tile
    d = np.empty((alpha, alpha * n * tiles_h * tiles_w * c), dtype=xpad.dtype)
    np.copyto(d.reshape(tiles.shape), tiles)
    rows = (BT @ d).reshape(alpha, alpha, -1)     # (B^T d)[i, b] = sum_a BT[i, a] d[a, b]
    v = stacked_matmul(BT, rows)            # (B^T d B)[i, j] = sum_b BT[j, b] (B^T d)[i, b]
    return v.reshape(alpha * alpha, n * tiles_h * tiles_w, c)


def stacked_matmul(a, b, out=None):
    """``np.matmul(a, b)`` for stacks of matrices: ``a``: (S, m, k) or one (m, k) for all,
    ``b``: (S, k, n) -> (S, m, n), into ``out`` if given.

    Two stacks go to NumPy's stacked matmul (one BLAS call per matrix, from C: up to 1.7x faster
    than a Python loop for the 36 GEMMs of a 256-channel layer). One matrix against a stack is
    looped here: NumPy would broadcast it into its own non-BLAS loop, 7-100x slower.
    """
    if out is None:
        out = np.empty((b.shape[0], a.shape[-2], b.shape[-1]), dtype=np.result_type(a, b))
    if a.ndim == 3:
        return np.matmul(a, b, out=out)
    for i in range(b.shape[0]):
        np.matmul(a, b[i], out=out[i])
    return out


def output_transform(mprod, m, n, tiles_h, tiles_w, out=None):
    """Y = A^T M A for every tile: mprod (alpha^2, P, K) -> y (N, m*tiles_h, m*tiles_w, K) (into ``out``)."""
    _, _, AT = matrices(m)
    AT = AT.astype(mprod.dtype)
    alpha = m + 2
    k = mprod.shape[-1]
    z = (AT @ mprod.reshape(alpha, -1)).reshape(m, alpha, -1)   # (A^T M)[r, b] = sum_a AT[r, a] M[a, b]
    y = stacked_matmul(AT, z).reshape(m, m, n, tiles_h, tiles_w, k)  # (A^T M A)[r, s] = sum_b AT[s, b] (A^T M)[r, b]
    # y[r, s, n, t, u, k] is output pixel (m*t + r, m*u + s) of image n
    if out is None:
        out = np.empty((n, tiles_h * m, tiles_w * m, k), dtype=mprod.dtype)
    np.copyto(out.reshape(n, tiles_h, m, tiles_w, m, k), y.transpose(2, 3, 0, 4, 1, 5))
    return out


def output_grad_transform(dy_tiles, m):
    """The adjoint of ``output_transform``: dM = A dY A^T for every m x m tile of dY.

    dy_tiles: (N, m*tiles_h, m*tiles_w, K) (zeros where the forward cropped) -> dM (alpha^2, P, K).
    Y = A^T M A is linear in M, so dM[a, b] = sum_{r,s} AT[r, a] AT[s, b] dY[r, s].
    """
    _, _, AT = matrices(m)
    AT = AT.astype(dy_tiles.dtype)
    alpha = m + 2
    n, hh, ww, k = dy_tiles.shape
    tiles = dy_tiles.reshape(n, hh // m, m, ww // m, m, k).transpose(2, 4, 0, 1, 3, 5)  # dY[r, s] per tile
    d = np.ascontiguousarray(tiles).reshape(m, -1)
    rows = (AT.T @ d).reshape(alpha, m, -1)             # (A dY)[a, s] = sum_r AT[r, a] dY[r, s]
    dm = stacked_matmul(AT.T, rows)                    # (A dY A^T)[a, b] = sum_s AT[s, b] (A dY)[a, s]
    return dm.reshape(alpha * alpha, -1, k)
