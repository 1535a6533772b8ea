"""Running the Numba kernels (``winograd_fused``, ``pool_fused``): threads and one caller at a time.

The kernels use as many threads as the BLAS is allowed (the user's setting: ``threads.set_num_threads``,
threadpoolctl, ``OMP_NUM_THREADS``), capped at Numba's own maximum (the number of cores).

Numba's threads come from its "workqueue" layer unless NUMBA_THREADING_LAYER says otherwise:
its OpenMP layer keeps its threads spinning after each kernel, which on a 2-core machine starves
the BLAS threads of the GEMM that follows (measured: 2x slower than one thread). workqueue does
not allow two kernels at once, so ``run`` lets one caller in at a time (a web server answering
two requests, say).

A kernel that calls BLAS itself (``blas.gemm`` inside a ``prange``: Winograd's blocked convolution)
runs with ``blas_inside=True``: the BLAS is then held to one thread while the kernel runs, so that
the kernel's threads share the cores among them instead of each starting BLAS threads of its own.

If Numba cannot be imported (no wheel for this Python yet, a broken LLVM), ``AVAILABLE`` is False
and the ops run their NumPy forms instead: slower, same numbers.
"""
import contextlib
import os
import threading

from threadpoolctl import ThreadpoolController

from . import threads

try:
    import numba
except ImportError:  # pragma: no cover - depends on the installation
    numba = None
AVAILABLE = numba is not None
if AVAILABLE and "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"
_LOCK = threading.Lock()
_BLAS = None
#: threads for every kernel (None: as many as the BLAS)
THREADS = None


def _one_blas_thread():
    """Every loaded BLAS on one thread until the block ends: NumPy's (``blas.gemm``) and SciPy's
    (what Numba's ``np.dot``, ``blas.gemm``'s fallback, calls; imported here before threadpoolctl
    looks for libraries)."""
    global _BLAS
    if _BLAS is None:
        import scipy.linalg.cython_blas  # noqa: F401  (what Numba's np.dot runs on)
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def run(kernel, *args, num_threads=None, blas_inside=False):
    """``kernel(*args)`` on ``num_threads`` threads (default: the BLAS's count), one caller at a time;
    ``blas_inside``: the kernel calls BLAS from its threads, each to run on one thread."""
    count = thread_count(num_threads)
    with _LOCK, (_one_blas_thread() if blas_inside else contextlib.nullcontext()):
        numba.set_num_threads(count)
        kernel(*args)


def thread_count(num_threads=None):
    """The threads ``run`` gives a kernel: ``num_threads``, else ``THREADS``, else the BLAS's count,
    at most Numba's maximum (the number of cores)."""
    count = num_threads or THREADS or threads.get_num_threads()
    return max(1, min(count, numba.config.NUMBA_NUM_THREADS))
