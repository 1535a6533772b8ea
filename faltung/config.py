"""Global settings: the default float type and which kernel implementation runs.

``floatx()`` is the dtype new weights are created in (float32, as Keras).
``set_implementation("reference")`` makes every op use its plain, loop-based
reference code (slow, for teaching and for tests); ``"fast"`` (the default)
uses the optimised paths (im2col + GEMM, Winograd, fused bias+activation).
``set_keep_freed_memory(False)`` stops a model from asking malloc to keep freed memory for reuse
(``faltung.ops.memory``; on by default, off with ``FALTUNG_KEEP_FREED_MEMORY=0``).
``set_blas_thread_timeout(n)`` sets how long OpenBLAS's idle threads spin after a product once a
model first runs (2^n cycles, default 20; None leaves OpenBLAS's own 2^28, as does
``FALTUNG_BLAS_THREAD_TIMEOUT=0``; see ``faltung.ops.threads``).
"""
import contextlib
import os

import numpy as np

_FLOATX = "float32"
_IMPLEMENTATION = "fast"
EPSILON = 1e-7
_KEEP_FREED_MEMORY = os.environ.get("FALTUNG_KEEP_FREED_MEMORY", "1") != "0"


def _check_timeout(value, where):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 4 <= value <= 30):
        raise ValueError(f"{where}: expected None or an int exponent in 4..30 (2^n CPU cycles), got {value!r}")
    return value


def _timeout_from_environment():
    text = os.environ.get("FALTUNG_BLAS_THREAD_TIMEOUT", "20").strip()
    if text in ("0", ""):
        return None
    try:
        return _check_timeout(int(text), "FALTUNG_BLAS_THREAD_TIMEOUT")
    except ValueError:
        raise ValueError(f"FALTUNG_BLAS_THREAD_TIMEOUT: expected 0 (off) or an int in 4..30, got {text!r}") from None


_BLAS_THREAD_TIMEOUT = _timeout_from_environment()


def floatx():
    """The default float dtype name for weights and activations."""
    return _FLOATX


def set_floatx(value):
    global _FLOATX
    if value not in ("float32", "float64"):
        raise ValueError(f"set_floatx: expected 'float32' or 'float64', got {value!r}")
    _FLOATX = value


def epsilon():
    return EPSILON


def implementation():
    """``"fast"`` or ``"reference"``: which kernels the ops use."""
    return _IMPLEMENTATION


def set_implementation(value):
    global _IMPLEMENTATION
    if value not in ("fast", "reference"):
        raise ValueError(f"set_implementation: expected 'fast' or 'reference', got {value!r}")
    _IMPLEMENTATION = value


@contextlib.contextmanager
def use_implementation(value):
    """``with use_implementation("reference"): ...`` runs a block on the reference kernels."""
    old = _IMPLEMENTATION
    set_implementation(value)
    try:
        yield
    finally:
        set_implementation(old)


def keep_freed_memory():
    """Whether a model asks malloc to keep freed memory for the next step (``faltung.ops.memory``)."""
    return _KEEP_FREED_MEMORY


def set_keep_freed_memory(value):
    """On (default) or off; must be set before a model first runs (malloc's setting is not undone)."""
    global _KEEP_FREED_MEMORY
    if not isinstance(value, bool):
        raise ValueError(f"set_keep_freed_memory: expected True or False, got {value!r}")
    _KEEP_FREED_MEMORY = value


def blas_thread_timeout():
    """The exponent n of the 2^n cycles OpenBLAS's idle threads spin once a model ran, or None."""
    return _BLAS_THREAD_TIMEOUT


def set_blas_thread_timeout(value):
    """n in 4..30, or None to leave OpenBLAS's own setting; takes effect when a model first runs."""
    global _BLAS_THREAD_TIMEOUT
    _BLAS_THREAD_TIMEOUT = _check_timeout(value, "set_blas_thread_timeout")


def standardize_dtype(dtype):
    """A dtype argument (None, str, np.dtype) as a NumPy float dtype."""
    dtype = np.dtype(floatx() if dtype is None else dtype)
    if dtype.kind != "f":
        raise ValueError(f"expected a float dtype, got {dtype}")
    return dtype
