"""Weight initialisers with Keras's names and formulas, drawn from faltung's seeded generator.

Fans as Keras computes them: for a kernel ``(kh, kw, c_in, c_out)`` the receptive
field is ``kh*kw``, ``fan_in = c_in*kh*kw`` and ``fan_out = c_out*kh*kw``; for a
Dense kernel ``(in, out)`` simply ``in`` and ``out``.
"""
import abc

import numpy as np

from . import rng

# std of a standard normal truncated at ±2, so that truncated samples keep the target std
_TRUNC_STD = 0.87962566103423978


def compute_fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(shape, std, generator):
    out = generator.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():  # redraw everything outside ±2σ
        out[bad] = generator.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * std


class Initializer(abc.ABC):
    name = None

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype="float32"):
        generator = rng.generator() if self.seed is None else np.random.default_rng(self.seed)
        return np.asarray(self.sample(tuple(shape), generator), dtype=dtype)

    @abc.abstractmethod
    def sample(self, shape, generator):
        """Float64 values of ``shape`` drawn from ``generator``."""

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    name = "zeros"

    def sample(self, shape, generator):
        return np.zeros(shape)


class Ones(Initializer):
    name = "ones"

    def sample(self, shape, generator):
        return np.ones(shape)


class GlorotUniform(Initializer):
    """U(−l, l) with l = √(6 / (fan_in + fan_out))."""
    name = "glorot_uniform"

    def sample(self, shape, generator):
        fan_in, fan_out = compute_fans(shape)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return generator.uniform(-limit, limit, shape)


class GlorotNormal(Initializer):
    """Truncated N(0, σ²) with σ = √(2 / (fan_in + fan_out))."""
    name = "glorot_normal"

    def sample(self, shape, generator):
        fan_in, fan_out = compute_fans(shape)
        return _truncated_normal(shape, np.sqrt(2.0 / (fan_in + fan_out)) / _TRUNC_STD, generator)


class HeNormal(Initializer):
    """Truncated N(0, σ²) with σ = √(2 / fan_in)."""
    name = "he_normal"

    def sample(self, shape, generator):
        fan_in, _ = compute_fans(shape)
        return _truncated_normal(shape, np.sqrt(2.0 / fan_in) / _TRUNC_STD, generator)


class HeUniform(Initializer):
    """U(−l, l) with l = √(6 / fan_in)."""
    name = "he_uniform"

    def sample(self, shape, generator):
        fan_in, _ = compute_fans(shape)
        limit = np.sqrt(6.0 / fan_in)
        return generator.uniform(-limit, limit, shape)


class RandomNormal(Initializer):
    name = "random_normal"

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def sample(self, shape, generator):
        return generator.normal(self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    name = "random_uniform"

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def sample(self, shape, generator):
        return generator.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class Constant(Initializer):
    name = "constant"

    def __init__(self, value=0.0):
        super().__init__(None)
        self.value = value

    def sample(self, shape, generator):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


_BY_NAME = {cls.name: cls for cls in
            (Zeros, Ones, GlorotUniform, GlorotNormal, HeNormal, HeUniform,
             RandomNormal, RandomUniform, Constant)}


def get(identifier):
    """An ``Initializer`` from a Keras name, a serialised dict or an instance."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        raise ValueError(f"unknown initializer {identifier!r}: expected one of {sorted(_BY_NAME)}")
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_NAME:
        return _BY_NAME[identifier["class_name"]](**identifier.get("config", {}))
    raise ValueError(f"initializer: expected a name or an Initializer, got {identifier!r}")


def serialize(initializer):
    return {"class_name": initializer.name, "config": initializer.get_config()}
