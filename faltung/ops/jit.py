"""Running the Numba kernels (``winograd_fused``, ``pool_fused``): threads and one caller at a time.

The kernels use as many threads as the BLAS is allowed (the user's setting: ``threads.set_num_threads``,
threadpoolctl, ``OMP_NUM_THREADS``), capped at Numba's own maximum (the number of cores).

Numba's threads come from its "workqueue" layer unless NUMBA_THREADING_LAYER says otherwise:
its OpenMP layer keeps its threads spinning after each kernel, which on a 2-core machine starves
the BLAS threads of the GEMM that follows (measured: 2x slower than one thread). workqueue does
not allow two kernels at once, so ``run`` lets one caller in at a time (a web server answering
two requests, say).

If Numba cannot be imported (no wheel for this Python yet, a broken LLVM), ``AVAILABLE`` is False
and the ops run their NumPy forms instead: slower, same numbers.
"""
import os
import threading

from . import threads

try:
    import numba
except ImportError:  # pragma: no cover - depends on the installation
    numba = None
AVAILABLE = numba is not None
if AVAILABLE and "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"
_LOCK = threading.Lock()
#: threads for every kernel (None: as many as the BLAS)
THREADS = None


def run(kernel, *args, num_threads=None):
    """``kernel(*args)`` on ``num_threads`` threads (default: the BLAS's count), one caller at a time."""
    count = num_threads or THREADS or threads.get_num_threads()
    with _LOCK:
        numba.set_num_threads(max(1, min(count, numba.config.NUMBA_NUM_THREADS)))
        kernel(*args)
