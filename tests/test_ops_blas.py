"""``blas.gemm``: NumPy's OpenBLAS called from inside Numba kernels, checked against ``@``."""
import numpy as np
import pytest
from numba import njit, prange

from faltung.ops import blas, jit


@njit
def _gemm(a, b, out, transpose_a, beta):
    blas.gemm(a, b, out, transpose_a, beta)


@njit
def _gemm_by_dot(a, b, out, transpose_a, beta):
    blas.gemm_by_dot(a, b, out, transpose_a, beta)


@njit(parallel=True)
def _rows_in_parallel(a, b, out):
    for part in prange(4):
        start, stop = part * a.shape[0] // 4, (part + 1) * a.shape[0] // 4
        blas.gemm(a[start:stop], b, out[start:stop], False, 0.0)


def test_numpy_openblas_is_found():
    """The PyPI NumPy wheels ship OpenBLAS with 64-bit integers; the kernels must use it (SciPy's
    copy, Numba's default, runs one caller at a time)."""
    assert blas.NUMPY_BLAS


@pytest.mark.parametrize("kernel", [_gemm, _gemm_by_dot], ids=["numpy-openblas", "numba-dot-fallback"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5])
def test_gemm_equals_matmul(dtype, transpose_a, beta, kernel):
    rng = np.random.default_rng(int(beta * 10) + transpose_a)
    m, k, n = 7, 5, 3
    a = rng.standard_normal((k, m) if transpose_a else (m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = rng.standard_normal((m, n)).astype(dtype)
    expected = (a.T if transpose_a else a) @ b + beta * out
    kernel(a, b, out, transpose_a, beta)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


def test_gemm_from_several_threads_at_once():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((203, 64)).astype(np.float32), rng.standard_normal((64, 48)).astype(np.float32)
    out = np.full((203, 48), np.nan, np.float32)
    jit.run(_rows_in_parallel, a, b, out, num_threads=2, blas_inside=True)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-4)
