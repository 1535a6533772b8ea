"""Global settings: the default float type and which kernel implementation runs.

``floatx()`` is the dtype new weights are created in (float32, as Keras).
``set_implementation("reference")`` makes every op use its plain, loop-based
reference code (slow, for teaching and for tests); ``"fast"`` (the default)
uses the optimised paths (im2col + GEMM, Winograd, fused bias+activation).
``set_keep_freed_memory(False)`` stops a model from asking malloc to keep freed memory for reuse
(``faltung.ops.memory``; on by default, off with ``FALTUNG_KEEP_FREED_MEMORY=0``).
"""
import contextlib
import os

import numpy as np

_FLOATX = "float32"
_IMPLEMENTATION = "fast"
EPSILON = 1e-7
_KEEP_FREED_MEMORY = os.environ.get("FALTUNG_KEEP_FREED_MEMORY", "1") != "0"


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


def standardize_dtype(dtype):
    """A dtype argument (None, str, np.dtype) as a NumPy float dtype."""
    dtype = np.dtype(floatx() if dtype is None else dtype)
    if dtype.kind != "f":
        raise ValueError(f"expected a float dtype, got {dtype}")
    return dtype
