"""Utilities with Keras's names.

``set_random_seed`` (faltung.rng), ``to_categorical``, ``normalize`` and
``train_test_split`` (faltung.utils.data).
"""
import importlib

from ..rng import set_random_seed  # noqa: F401

_WHERE = {"to_categorical": "data", "normalize": "data", "train_test_split": "data"}


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'faltung.utils' has no attribute {name!r}")
