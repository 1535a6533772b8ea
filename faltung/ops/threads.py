"""How many threads the BLAS library (the matrix products behind every fast conv and Dense) uses.

faltung's kernels spend most of their time in NumPy's ``matmul``, which runs on the BLAS that
NumPy was built with (OpenBLAS in the PyPI wheels). That BLAS starts one thread per core by
default; everything else NumPy does (copies, elementwise work) is single-threaded.

  ``set_num_threads(n)``           limit BLAS to ``n`` threads for the rest of the process
  ``with num_threads(n): ...``     limit it for one block, then restore the old setting
  ``get_num_threads()``            what the BLAS uses now (one ctypes call, ~1 us: fine per kernel call)
  ``blas_info()``                  one dict per BLAS library loaded (name, version, kernel, threads)

The same can be done before Python starts with ``OMP_NUM_THREADS=n`` / ``OPENBLAS_NUM_THREADS=n``.
All of this goes through ``threadpoolctl``, which talks to whichever BLAS is actually loaded.
"""
import contextlib

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
