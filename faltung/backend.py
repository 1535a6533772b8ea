"""Keras's ``backend`` odds and ends: session reset and float type."""
from .config import epsilon, floatx, set_floatx  # noqa: F401
from .layers.base import reset_names


def clear_session():
    """Reset layer-name counters, so the next ``Conv2D()`` is named ``conv2d`` again."""
    reset_names()
