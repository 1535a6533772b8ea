"""How many threads the BLAS library (the matrix products behind every fast conv and Dense) uses.

faltung's kernels spend most of their time in NumPy's ``matmul``, which runs on the BLAS that
NumPy was built with (OpenBLAS in the PyPI wheels). That BLAS starts one thread per core by
default; everything else NumPy does (copies, elementwise work) is single-threaded.

  ``set_num_threads(n)``           limit BLAS to ``n`` threads for the rest of the process
  ``with num_threads(n): ...``     limit it for one block, then restore the old setting
  ``get_num_threads()``            what the BLAS uses now (one ctypes call, ~1 us: fine per kernel call)
  ``blas_info()``                  one dict per BLAS library loaded (name, version, kernel, threads)
  ``shorten_blas_wait()``          OpenBLAS's idle threads stop spinning after ~0.3 ms, not ~0.1 s

The same can be done before Python starts with ``OMP_NUM_THREADS=n`` / ``OPENBLAS_NUM_THREADS=n``.
All of this goes through ``threadpoolctl``, which talks to whichever BLAS is actually loaded.

After a threaded product OpenBLAS keeps its worker threads spinning, waiting for the next one, for
2^28 CPU cycles (~0.1 s) before they sleep. faltung alternates products with its Numba kernels
(Winograd transforms, pooling, epilogues), whose threads then share the cores with spinning
workers: measured, a Winograd output transform right after a GEMM took 3.1 ms, after a pause
1.2 ms; the seed CIFAR CNN trained 1.36-1.46x faster at batch 128 with the wait cut short.
OpenBLAS reads that wait (``OPENBLAS_THREAD_TIMEOUT=n``: 2^n cycles) only when it starts its
threads, so ``shorten_blas_wait`` sets it, re-reads the environment (``openblas_read_env``), stops
the threads (``blas_thread_shutdown_``) and starts them again (``blas_thread_init``: from the caller's
thread, not lazily from whichever thread multiplies next).
A model does this once, when it first runs, with n = ``faltung.config.blas_thread_timeout()``
(20: ~0.3 ms; 16 served the large CNNs as well but cost LeNet-5, whose small products come
~0.1 ms apart, a thread wake-up each time). Off with
``faltung.config.set_blas_thread_timeout(None)`` or ``FALTUNG_BLAS_THREAD_TIMEOUT=0``; a user's own
``OPENBLAS_THREAD_TIMEOUT`` is left alone, and so is a BLAS other than OpenBLAS.
"""
import contextlib
import ctypes
import os
import threading

from threadpoolctl import ThreadpoolController, threadpool_info

_CONTROLLER = None


def _controller():
    # threadpoolctl scans the loaded libraries once; NumPy's BLAS is loaded by now.
    global _CONTROLLER
    if _CONTROLLER is None:
        import numpy  # noqa: F401  (make sure NumPy's BLAS is loaded before scanning)
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def _check(n):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int number of threads, got {n!r}")
    return n


def blas_info():
    """A list of dicts, one per BLAS loaded: ``internal_api`` (openblas, mkl, ...), ``version``,
    ``architecture`` (the kernel it picked, e.g. Haswell or SkylakeX), ``num_threads``."""
    import numpy  # noqa: F401
    return [info for info in threadpool_info() if info.get("user_api") == "blas"]


def get_num_threads():
    """The thread count of NumPy's BLAS (the first BLAS loaded), or 1 if none reports one.

    Asked through the controller's cached handle: one ctypes call, not a scan of the loaded
    libraries, so the kernels can ask on every call and follow a change made at any time."""
    blas = _controller().select(user_api="blas").lib_controllers
    return int(blas[0].get_num_threads()) if blas else 1


def set_num_threads(n):
    """Let every loaded BLAS use ``n`` threads from now on (``n`` >= 1)."""
    _controller().limit(limits=_check(n), user_api="blas")


@contextlib.contextmanager
def num_threads(n):
    """``with num_threads(1): ...`` runs a block with ``n`` BLAS threads, then restores the old count."""
    with _controller().limit(limits=_check(n), user_api="blas"):
        yield


_WAIT_SET = None
_WAIT_LOCK = threading.Lock()


def numpy_openblas_path():
    """The file of the OpenBLAS that NumPy calls (the PyPI wheels bundle one), or None."""
    for lib in blas_info():
        path = lib.get("filepath") or ""
        if lib.get("internal_api") == "openblas" and "numpy" in path:
            return path
    return None


def shorten_blas_wait():
    """Let NumPy's OpenBLAS threads spin 2^n cycles after a product (n = ``config.blas_thread_timeout()``)
    instead of its default 2^28, once per process; returns the n in effect, else None.

    Restarts OpenBLAS's threads: do not call it while another thread is inside a BLAS call."""
    global _WAIT_SET
    from .. import config
    exponent = config.blas_thread_timeout()
    if _WAIT_SET is not None or exponent is None or "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return _WAIT_SET or None  # the wait set once (a later change of the setting does not restart)
    with _WAIT_LOCK:  # two models starting at once: one of them restarts the threads
        if _WAIT_SET is None:
            _WAIT_SET = exponent if _restart_openblas_threads(exponent) else False
    return _WAIT_SET or None


def _restart_openblas_threads(exponent):
    """OPENBLAS_THREAD_TIMEOUT=exponent, re-read by OpenBLAS, its threads stopped and started again
    from this thread; True if OpenBLAS now reports that wait."""
    path = numpy_openblas_path()
    try:
        lib = path and ctypes.CDLL(path)
        functions = lib and (lib.openblas_read_env, lib.blas_thread_shutdown_, lib.blas_thread_init,
                             lib.openblas_thread_timeout)
    except (OSError, AttributeError):  # another BLAS, or an OpenBLAS without these
        return False
    if not functions:
        return False
    read_env, shutdown, start, timeout = functions
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(exponent)
    read_env()
    shutdown()
    start()
    return timeout() == exponent
