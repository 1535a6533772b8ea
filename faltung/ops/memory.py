"""Keeping freed memory for the next training step (glibc's malloc, Linux).

A training step allocates and frees the same large arrays every time: activations, gradients,
transformed tiles, megabytes each. glibc's malloc gives every block above its mmap threshold
(128 KiB, adapting up to 32 MiB) its own fresh pages from the kernel and returns them on ``free``,
so each step starts on untouched memory: thousands of page faults per step, each a trip into
the kernel that zeroes the page (a seed CIFAR CNN step at batch 128: ~5,000 faults, ~12% of
its time; see BENCHMARKS.md).

``keep_freed_memory()`` asks malloc (``mallopt``) to serve blocks of every size from its heap
(M_MMAP_MAX = 0) and to keep what is freed instead of trimming it back to the system
(M_TRIM_THRESHOLD), so the next step reuses pages that are already mapped. The peak memory stays
the same; what the process once held is only given back when it ends.

A model calls it once, when it first runs (``Model`` forward), unless
``faltung.config.set_keep_freed_memory(False)`` was called first or the environment has
``FALTUNG_KEEP_FREED_MEMORY=0``. Where malloc is not glibc's (macOS, Windows, musl) it does nothing.
"""
import ctypes
import ctypes.util
import os

# mallopt parameters from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
_APPLIED = None


def _glibc():
    """glibc's C library, or None on other systems."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018  (only glibc has it)
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        return libc
    except (OSError, AttributeError):
        return None


def keep_freed_memory():
    """Tell glibc's malloc to reuse freed memory instead of returning it (once per process).

    Returns True if malloc accepted both settings (now or at an earlier call), False where there
    is no glibc or the setting is off."""
    global _APPLIED
    from .. import config
    if _APPLIED is None and config.keep_freed_memory():
        libc = _glibc()
        _APPLIED = bool(libc) and bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(
            libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
    return bool(_APPLIED)
