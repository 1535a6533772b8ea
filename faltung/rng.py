"""One seeded source of randomness for the whole library.

Every random number faltung draws (weight initialisation, shuffling, dropout
masks, augmentation) comes from ``generator()`` unless a layer was given its own
``seed``. ``set_random_seed(seed)`` resets it, so the same seed gives bit-identical
weights, shuffles, masks, losses and predictions.
"""
import random as _py_random

import numpy as np

_GENERATOR = np.random.default_rng()


def set_random_seed(seed):
    """Seed faltung's generator, NumPy's legacy global state and Python's ``random``."""
    global _GENERATOR
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"set_random_seed: expected a non-negative int, got {seed!r}")
    _GENERATOR = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)
    _py_random.seed(int(seed))


def generator():
    """The global ``np.random.Generator``."""
    return _GENERATOR


def make_generator(seed=None):
    """A generator for a component: its own if ``seed`` is given, else one drawn from the global one."""
    if seed is None:
        return np.random.default_rng(_GENERATOR.integers(2**63))
    return np.random.default_rng(seed)
