"""Activation layers with parameters: ReLU, LeakyReLU, PReLU, ELU, Softmax.

All map x: (N, ...) -> y: (N, ...) elementwise (Softmax: along ``axis``).
"""
import numpy as np

from .. import activations
from .base import Layer, check_initializer, serialize_initializer


def _check_non_negative(layer, what, value):
    if value is None or value < 0:
        raise ValueError(f"{layer.name}: expected {what} to be a non-negative number, got {value!r}")
    return float(value)


class ReLU(Layer):
    """Keras's parametrised ReLU:

        f(x) = max_value                      for x >= max_value
             = x                              for threshold <= x < max_value
             = negative_slope · (x − threshold)  otherwise
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _check_non_negative(self, "max_value", max_value)
        self.negative_slope = _check_non_negative(self, "negative_slope", negative_slope)
        self.threshold = _check_non_negative(self, "threshold", threshold)

    def forward(self, x, training=False):
        # (with slope 0 use true zeros: 0 · (negative number) would print as -0.0)
        leak = self.negative_slope * (x - self.threshold) if self.negative_slope else 0.0
        y = np.where(x < self.threshold, leak, x)
        if self.max_value is not None:
            y = np.minimum(y, self.max_value)
        self.cache = x
        return y.astype(x.dtype, copy=False)

    def backward(self, dy):
        # f'(x) = negative_slope below threshold, 0 at/above max_value, 1 in between
        x = self.cache
        slope = np.where(x < self.threshold, self.negative_slope, 1.0)
        if self.max_value is not None:
            slope = np.where(x >= self.max_value, 0.0, slope)
        self.gradients = []
        return dy * slope.astype(dy.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Layer):
    """f(x) = x for x > 0, negative_slope · x otherwise (``alpha=`` accepted as the Keras 2 name)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _check_non_negative(self, "negative_slope", negative_slope)
        self.function = activations.LeakyReLU(self.negative_slope)

    def forward(self, x, training=False):
        self.cache = x
        return self.function.forward(x)

    def backward(self, dy):
        self.gradients = []
        return self.function.backward(dy, self.cache, None)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """f(x) = x for x > 0, alpha · (eˣ − 1) otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.function = activations.ELU(self.alpha)

    def forward(self, x, training=False):
        y = self.function.forward(x)
        self.cache = (x, y)
        return y

    def backward(self, dy):
        self.gradients = []
        x, y = self.cache
        return self.function.backward(dy, x, y)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """f(x) = x for x > 0, alpha · x otherwise, with a learned ``alpha``.

    alpha has the input's shape without the batch axis, ``(H, W, C)`` for images,
    except that every axis in ``shared_axes`` (counted with the batch axis as 0, as
    Keras does) has size 1: ``shared_axes=[1, 2]`` learns one alpha per channel.
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        if alpha_regularizer is not None or alpha_constraint is not None:
            raise ValueError(f"{self.name}: expected alpha_regularizer and alpha_constraint to be None "
                             "(faltung has no regularizers or constraints)")
        self.alpha_initializer = check_initializer(self, alpha_initializer)
        if shared_axes is None:
            self.shared_axes = ()
        elif isinstance(shared_axes, (int, np.integer)):
            self.shared_axes = (int(shared_axes),)
        else:
            self.shared_axes = tuple(int(a) for a in shared_axes)
        self.alpha = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if any(not 1 <= a < len(input_shape) for a in self.shared_axes):
            raise ValueError(f"{self.name}: expected shared_axes between 1 and {len(input_shape) - 1} "
                             f"for input shape {input_shape}, got {list(self.shared_axes)}")
        shape = [1 if i in self.shared_axes else d for i, d in enumerate(input_shape)][1:]
        if any(d is None for d in shape):
            raise ValueError(f"{self.name}: expected known sizes on the non-shared axes, "
                             f"got input shape {input_shape}")
        self.alpha = self.add_weight("alpha", shape, self.alpha_initializer)
        super().build(input_shape)

    def forward(self, x, training=False):
        expected = tuple(self.input_shape)
        if x.ndim != len(expected) or any(
                i not in self.shared_axes and d != e for i, (d, e) in enumerate(zip(x.shape, expected)) if i):
            raise ValueError(f"{self.name}: expected input of shape {expected}, "
                             f"got shape {tuple(x.shape)}")
        self.cache = x
        return np.where(x > 0, x, self.alpha * x).astype(x.dtype, copy=False)

    def backward(self, dy):
        x = self.cache
        negative = x <= 0
        if self.trainable:
            # dα = Σ dy · x over the batch and the shared axes, where x ≤ 0
            dalpha = np.where(negative, dy * x, 0).sum(axis=(0,) + self.shared_axes, keepdims=True)
            self.gradients = [dalpha.reshape(self.alpha.shape)]
        else:
            self.gradients = []
        return np.where(negative, dy * self.alpha, dy).astype(dy.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": serialize_initializer(self.alpha_initializer),
                "shared_axes": list(self.shared_axes) or None}


class Softmax(Layer):
    """y = exp(x) / Σ exp(x) along ``axis``.

    The pre-activation is the input itself, so ``backward_linear(dz) = dz``; the
    model can skip the softmax Jacobian and hand the fused cross-entropy gradient
    ``(p − y) / N`` straight to ``backward_linear``.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else tuple(axis)
        self.activation = activations.Softmax(self.axis)

    def forward(self, x, training=False):
        y = self.activation.forward(x)
        self.cache = y
        return y

    def backward_linear(self, dz):
        self.gradients = []
        return dz

    def backward(self, dy):
        return self.backward_linear(self.activation.backward(dy, None, self.cache))

    def get_config(self):
        axis = self.axis if isinstance(self.axis, int) else list(self.axis)
        return {**super().get_config(), "axis": axis}
