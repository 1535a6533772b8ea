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


class VarianceScaling(Initializer):
    """Keras's general rule: variance ``scale / n`` with n = fan_in, fan_out or their mean.

    "truncated_normal": σ = √(scale/n) / 0.8796 (the truncation's std), "untruncated_normal":
    σ = √(scale/n), "uniform": U(−l, l) with l = √(3·scale/n).
    """
    name = "variance_scaling"

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: expected a positive scale, got {scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: expected mode 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"VarianceScaling: expected distribution 'truncated_normal', "
                             f"'untruncated_normal' or 'uniform', got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def sample(self, shape, generator):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * variance)
            return generator.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return generator.standard_normal(shape) * np.sqrt(variance)
        return _truncated_normal(shape, np.sqrt(variance) / _TRUNC_STD, generator)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class _FixedVarianceScaling(VarianceScaling):
    """A named special case of VarianceScaling: only ``seed`` is configurable."""
    rule = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None):
        super().__init__(*self.rule, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """U(−l, l) with l = √(6 / (fan_in + fan_out))."""
    name = "glorot_uniform"
    rule = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated N(0, σ²) with σ = √(2 / (fan_in + fan_out))."""
    name = "glorot_normal"
    rule = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_FixedVarianceScaling):
    """Truncated N(0, σ²) with σ = √(2 / fan_in)."""
    name = "he_normal"
    rule = (2.0, "fan_in", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """U(−l, l) with l = √(6 / fan_in)."""
    name = "he_uniform"
    rule = (2.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated N(0, σ²) with σ = √(1 / fan_in) (for SELU networks)."""
    name = "lecun_normal"
    rule = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """U(−l, l) with l = √(3 / fan_in)."""
    name = "lecun_uniform"
    rule = (1.0, "fan_in", "uniform")


class TruncatedNormal(Initializer):
    """N(mean, stddev²), values beyond 2·stddev from the mean redrawn (stddev is not rescaled)."""
    name = "truncated_normal"

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def sample(self, shape, generator):
        return self.mean + _truncated_normal(shape, self.stddev, generator)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


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


_CLASSES = (Zeros, Ones, GlorotUniform, GlorotNormal, HeNormal, HeUniform, RandomNormal,
            RandomUniform, Constant, VarianceScaling, LecunNormal, LecunUniform, TruncatedNormal)
_BY_NAME = {cls.name: cls for cls in _CLASSES}
_BY_CLASS_NAME = {cls.__name__: cls for cls in _CLASSES}  # Keras also accepts "HeNormal"


def get(identifier):
    """An ``Initializer`` from a Keras name, a serialised dict or an instance."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        if identifier in _BY_CLASS_NAME:
            return _BY_CLASS_NAME[identifier]()
        raise ValueError(f"unknown initializer {identifier!r}: expected one of {sorted(_BY_NAME)}")
    if isinstance(identifier, dict):
        cls = _BY_NAME.get(identifier.get("class_name")) or _BY_CLASS_NAME.get(identifier.get("class_name"))
        if cls is not None:
            return cls(**identifier.get("config", {}))
    raise ValueError(f"initializer: expected a name or an Initializer, got {identifier!r}")


def serialize(initializer):
    return {"class_name": initializer.name, "config": initializer.get_config()}
