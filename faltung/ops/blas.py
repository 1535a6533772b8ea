"""Matrix products called from inside Numba kernels, on NumPy's own BLAS.

A Numba kernel that runs the Winograd stages a block of tiles at a time (``winograd_fused``)
multiplies small matrices from each of its threads. Numba's ``np.dot`` would call SciPy's copy of
OpenBLAS, and that copy lets only one caller in at a time (measured: two threads calling it got
67 GFLOP/s where one got 62; NumPy's OpenBLAS gave 152 against 80). So the kernels call NumPy's
OpenBLAS directly, by its CBLAS symbol, each call on the calling thread (``jit.run`` holds the
BLAS to one thread meanwhile).

  ``gemm(a, b, out, transpose_a, beta)``   out = op(a) @ b + beta * out, op(a) = a.T if transpose_a
                                           a, b, out: C-contiguous 2-D float32 or float64 arrays
  ``transposed_product(a, a_is_cols_t, b, parts, rows)``
                                           parts[t] = thread t's share of colsᵀ @ b (a weight
                                           gradient dW = colsᵀ @ dY; the caller sums the parts)

``NUMPY_BLAS`` says whether NumPy's BLAS was found (the PyPI wheels on Linux and Windows ship
OpenBLAS with 64-bit integers, ``scipy_cblas_sgemm64_``); where it is not, ``gemm`` falls back to
Numba's ``np.dot`` (correct, just not parallel).
"""
import numpy as np
from numba import njit, prange, types

_SYMBOLS = {"scipy_cblas_sgemm64_": "scipy_cblas_dgemm64_", "cblas_sgemm64_": "cblas_dgemm64_"}
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _numpy_openblas():
    """(sgemm, dgemm) symbol names of NumPy's OpenBLAS, made visible to Numba, or None."""
    import llvmlite.binding as llvm
    from .threads import numpy_openblas_path
    path = numpy_openblas_path()
    if path is None:
        return None
    llvm.load_library_permanently(path)
    for single, double in _SYMBOLS.items():
        if llvm.address_of_symbol(single) and llvm.address_of_symbol(double):
            return single, double
    return None


_FOUND = _numpy_openblas()
NUMPY_BLAS = _FOUND is not None

if NUMPY_BLAS:
    def _cblas_gemm(symbol, real):
        """cblas_?gemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), 64-bit ints."""
        i32, i64, ptr = types.int32, types.int64, types.voidptr
        return types.ExternalFunction(symbol, types.void(i32, i32, i32, i64, i64, i64, real, ptr, i64,
                                                         ptr, i64, real, ptr, i64))
    _sgemm = _cblas_gemm(_FOUND[0], types.float32)
    _dgemm = _cblas_gemm(_FOUND[1], types.float64)

    @njit(cache=True)
    def _gemm_lda(a, lda, b, out, transpose_a, beta, k):
        """out = op(a) @ b[:k] + beta * out, with a's rows ``lda`` elements apart (a may be a slice
        of a wider C-contiguous matrix: its columns s: or its rows s:)."""
        m, n = out.shape
        trans = _TRANS if transpose_a else _NO_TRANS
        if a.itemsize == 4:
            _sgemm(_ROW_MAJOR, trans, _NO_TRANS, m, n, k, np.float32(1), a.ctypes, lda,
                   b.ctypes, n, np.float32(beta), out.ctypes, n)
        else:
            _dgemm(_ROW_MAJOR, trans, _NO_TRANS, m, n, k, 1.0, a.ctypes, lda,
                   b.ctypes, n, np.float64(beta), out.ctypes, n)

    @njit(cache=True)
    def _gemm_cblas(a, b, out, transpose_a, beta):
        _gemm_lda(a, a.shape[1], b, out, transpose_a, beta, b.shape[0])

    @njit(parallel=True, cache=True)
    def transposed_product(a, a_is_cols_t, b, parts, rows):
        """``parts[t] = Σ_p cols[p]ᵀ b[p]`` over thread t's share of the P rows, ``rows`` at a time.

        cols: (P, K), given as ``a`` itself (C-contiguous) or, if ``a_is_cols_t``, as its C-contiguous
        transpose ``a: (K, P)`` (im2col's layout for few channels); b: (P, F) C-contiguous;
        parts: (T, K, F). The rows are split over the threads (OpenBLAS threads such a product, with
        a long inner dimension and a small (K, F) output, poorly), and each thread multiplies blocks
        of ``rows`` rows, small enough for OpenBLAS's small-matrix kernels (``conv.SMALL_PRODUCT``).
        """
        p = b.shape[0]
        threads = parts.shape[0]
        share = (p + threads - 1) // threads
        for t in prange(threads):
            out = parts[t]
            out[:] = 0
            stop = min(p, (t + 1) * share)
            beta = 0.0
            for start in range(t * share, stop, rows):
                k = min(stop, start + rows) - start
                if a_is_cols_t:  # columns start: of (K, P), row length P
                    _gemm_lda(a[:, start:], a.shape[1], b[start:], out, False, beta, k)
                else:            # rows start: of (P, K), transposed
                    _gemm_lda(a[start:], a.shape[1], b[start:], out, True, beta, k)
                beta = 1.0


@njit(cache=True)
def gemm_by_dot(a, b, out, transpose_a, beta):
    """``gemm`` on Numba's ``np.dot`` (SciPy's BLAS): the fallback where NumPy's BLAS is not found."""
    product = np.dot(a.T, b) if transpose_a else np.dot(a, b)
    if beta == 0:
        out[:] = product
    else:
        out *= beta
        out += product


gemm = _gemm_cblas if NUMPY_BLAS else gemm_by_dot
