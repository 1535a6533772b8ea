"""faltung: a convolutional neural network library that shows its work.

Keras-style entry points: ``faltung.Sequential``, ``faltung.Model``, ``faltung.Input``
and the submodules ``layers``, ``losses``, ``optimizers``, ``callbacks``, ``datasets``,
``utils``, ``applications``, ``preprocessing``, ``models``, ``plot``.
``import faltung as keras`` lets seed code run with only its imports changed.
"""
import importlib

__version__ = "0.1.0"

_SUBMODULES = {"layers", "losses", "optimizers", "callbacks", "datasets", "utils", "applications",
               "preprocessing", "models", "plot", "metrics", "initializers", "activations",
               "config", "ops", "backend", "report"}
_FROM_MODELS = {"Sequential", "Model", "Input"}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _FROM_MODELS:
        return getattr(importlib.import_module(".models", __name__), name)
    raise AttributeError(f"module 'faltung' has no attribute {name!r}")
