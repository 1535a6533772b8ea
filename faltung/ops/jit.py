"""Running the Numba kernels (``winograd_fused``, ``pool_fused``): threads and one caller at a time.

The kernels use as many threads as the BLAS is allowed (the user's setting: ``threads.set_num_threads``,
threadpoolctl, ``OMP_NUM_THREADS``), capped at Numba's own maximum (the number of cores).

Numba's threads come from its OpenMP layer (GNU libgomp, on every Linux with GCC's runtime), else
from its own "workqueue" layer, unless NUMBA_THREADING_LAYER says otherwise. OpenMP starts a kernel
faster: the calling thread works as one of the threads, where workqueue hands every part to a
worker and waits for them (a kernel start measured 68 against 112 µs); training steps ran 1.1-1.3x
faster (A/B, alternating processes: the CIFAR CNN at batch 32 1.23x, at 128 1.09-1.11x, the MNIST CNN
1.18x and 1.26x, the Fashion CNN 1.20x and 1.19x; LeNet-5, whose kernels mostly run serially, within
noise). libgomp's threads are started with GOMP_SPINCOUNT=0 (unless the user set it or
OMP_WAIT_POLICY): they sleep as soon as a kernel ends instead of spinning, which on a 2-core
machine took the cores from the BLAS threads of the GEMM that follows (measured earlier: 2x slower
than one thread). The variable is set only while libgomp starts, so child processes do not inherit it.

GNU OpenMP cannot run parallel code in a process forked from one that used it (the child would be
terminated), so a forked child runs every kernel as its serial twin (below). ``run`` lets one
caller in at a time (workqueue cannot run two kernels at once; a web server answering two requests).

A kernel that calls BLAS itself (``blas.gemm`` inside a ``prange``: Winograd's blocked convolution)
runs with ``blas_inside=True``: the BLAS is then held to one thread while the kernel runs, so that
the kernel's threads share the cores among them instead of each starting BLAS threads of its own.

Starting a parallel kernel wakes Numba's sleeping worker threads (they sleep between kernels), which
on this project's virtual machines costs ~0.1 ms per kernel even with one thread, more than a pass
over a few hundred KB takes. So a kernel whose arrays are small
(``SERIAL_MAX_BYTES``), or that is to run on one thread, runs instead as its serial twin on the
calling thread: the same Python function compiled without ``parallel`` (its ``prange`` a plain
``range``, so the same loop order and partial sums: the same bits). LeNet-5's training step at batch
32 spent a quarter of its time waking threads for three small kernels.

If Numba cannot be imported (no wheel for this Python yet, a broken LLVM), ``AVAILABLE`` is False
and the ops run their NumPy forms instead: slower, same numbers.
"""
import contextlib
import os
import threading
import types

from threadpoolctl import ThreadpoolController

from . import threads

try:
    import numba
except ImportError:  # pragma: no cover - depends on the installation
    numba = None
AVAILABLE = numba is not None
if AVAILABLE and "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "default"  # the first of these that loads
    numba.config.THREADING_LAYER_PRIORITY = ["omp", "workqueue", "tbb"]


def wide_vector_features():
    """The host CPU's LLVM features with ``-prefer-256-bit`` added on a CPU with AVX-512, else None.

    LLVM's tuning for Intel's AVX-512 cores (Skylake-X to Sapphire Rapids) prefers 256-bit vectors,
    a guard against the clock drop of the first AVX-512 chips; for AMD's Zen 4 it uses 512 bits.
    Without the preference the kernels' channel loops run 16 floats per instruction instead of 8
    (measured on an Intel Xeon with AVX-512, model 167: the CIFAR CNN's 32 -> 32 Winograd forward
    1.35x faster, its training step at batch 128 1.03-1.06x). The same loops and sums: elementwise
    work gives the same bits, and no kernel lets LLVM reorder a sum (no ``fastmath``).
    """
    from numba.core.codegen import get_host_cpu_features
    features = get_host_cpu_features()
    if "+avx512f" not in features.split(","):
        return None
    return features + ",-prefer-256-bit"


if (AVAILABLE and numba.config.CPU_FEATURES is None and numba.config.CPU_NAME is None
        and os.environ.get("FALTUNG_WIDE_VECTORS", "1") != "0"):
    # read once, when Numba's CPU code generator starts (at its first compilation); a user's
    # NUMBA_CPU_NAME / NUMBA_CPU_FEATURES, or FALTUNG_WIDE_VECTORS=0, leaves LLVM's choice alone
    numba.config.CPU_FEATURES = wide_vector_features()

_LOCK = threading.Lock()
_STARTED = False
_FORKED = False
_BLAS = None
#: threads for every kernel (None: as many as the BLAS)
THREADS = None
#: a kernel whose array arguments take fewer bytes than this in all runs serially on the caller's
#: thread (``serial_twin``): waking the workers would cost more than they save. Measured (A/B, one
#: process): LeNet-5 training 1.12-1.14x (batch 32) and 1.07x (128), the CIFAR CNN at batch 32
#: 1.04-1.10x, others within noise; 4 and 8 MiB did as well or a little less
SERIAL_MAX_BYTES = 16 << 20
_SERIAL = {}


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
    ``blas_inside``: the kernel calls BLAS from its threads, each to run on one thread. On one thread,
    or on arrays of fewer than ``SERIAL_MAX_BYTES`` (unless ``blas_inside``: those kernels are bound
    by arithmetic, not by their bytes), its serial twin runs instead."""
    count = thread_count(num_threads)
    small = sum(getattr(a, "nbytes", 0) for a in args) < SERIAL_MAX_BYTES
    serial = count == 1 or (small and not blas_inside)
    with _LOCK, (_one_blas_thread() if blas_inside else contextlib.nullcontext()):
        if serial:
            serial_twin(kernel)(*args)
        else:
            _start_threads()
            numba.set_num_threads(count)
            kernel(*args)


def _start_threads():
    """Start Numba's threads once, libgomp's with GOMP_SPINCOUNT=0 (read only as it starts) unless the
    user chose a wait; the variable is removed again, so that child processes do not inherit it."""
    global _STARTED
    if _STARTED:
        return
    own = "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ
    if own:
        os.environ["GOMP_SPINCOUNT"] = "0"
    try:
        numba.get_num_threads()  # loads the threading layer and starts its threads
    finally:
        if own:
            del os.environ["GOMP_SPINCOUNT"]
    _STARTED = True


def _after_fork_in_child():
    """A forked child runs every kernel serially (GNU OpenMP cannot run in it) and has its own lock."""
    global _FORKED, _LOCK
    _FORKED = True
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def serial_twin(kernel):
    """The parallel Numba ``kernel`` compiled once more without ``parallel``, its other options kept
    (cached on disk under its own name, ``<name>_serial``): the same loops, run on the calling thread.
    Anything else that is not a Numba kernel (a test's wrapper) is returned as it is."""
    twin = _SERIAL.get(kernel)
    if twin is None and not isinstance(kernel, numba.core.dispatcher.Dispatcher):
        return kernel
    if twin is None:
        f = kernel.py_func
        copy = types.FunctionType(f.__code__, f.__globals__, f.__name__ + "_serial", f.__defaults__,
                                  f.__closure__)
        copy.__qualname__, copy.__module__ = f.__qualname__ + "_serial", f.__module__
        copy.__doc__ = f.__doc__
        options = {name: value for name, value in kernel.targetoptions.items()  # fastmath, error model...
                   if name not in ("parallel", "nopython")}
        twin = _SERIAL[kernel] = numba.njit(cache=True, **options)(copy)
    return twin


def thread_count(num_threads=None):
    """The threads ``run`` gives a kernel: ``num_threads``, else ``THREADS``, else the BLAS's count,
    at most Numba's maximum (the number of cores)."""
    if _FORKED:
        return 1
    count = num_threads or THREADS or threads.get_num_threads()
    return max(1, min(count, numba.config.NUMBA_NUM_THREADS))
