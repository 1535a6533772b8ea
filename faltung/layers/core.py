"""Core layers: Dense, Activation, Dropout, Rescaling.

Each layer's ``backward`` sits right under its ``forward``. Layers with an
``activation`` (Dense, Activation) split their backward in two, as
docs/architecture.md describes:

  ``backward_linear(dz)``  from dL/dz, the gradient w.r.t. the pre-activation z
  ``backward(dy)``         ``backward_linear(activation.backward(dy, z, y))``
"""
import numpy as np

from .. import activations, rng
from .base import Layer, check_initializer, serialize_initializer


def _resolve_activation(layer, identifier):
    """``activations.get`` with the layer's name in the error message."""
    try:
        return activations.get(identifier)
    except ValueError as err:
        raise ValueError(f"{layer.name}: {err}") from None


def _keep_activation_input(activation, z):
    """Keep the pre-activation ``z`` only when the activation's backward needs it."""
    return None if activation.needs_only_output else z


class Dense(Layer):
    """Fully connected layer ``y = activation(x @ W + b)``.

    x: (N, ..., in) -> y: (N, ..., units); kernel W: (in, units), bias b: (units,).
    Higher-rank inputs are handled as Keras does: W acts on the last axis.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{self.name}: expected units to be a positive int, got {units!r}")
        self.units = int(units)
        self.activation = _resolve_activation(self, activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = check_initializer(self, kernel_initializer)
        self.bias_initializer = check_initializer(self, bias_initializer)
        self.kernel = self.bias = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"{self.name}: expected an input shape (N, ..., features) with a known "
                             f"last axis, got {input_shape}")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if self.kernel is not None and input_shape[-1] not in (None, self.kernel.shape[0]):
            raise ValueError(f"{self.name}: expected an input shape (N, ..., {self.kernel.shape[0]}), "
                             f"got {tuple(input_shape)}")
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False):
        in_features = self.kernel.shape[0]
        if x.ndim < 2 or x.shape[-1] != in_features:
            raise ValueError(f"{self.name}: expected input of shape (N, ..., {in_features}), "
                             f"got shape {tuple(x.shape)}")
        z = x @ self.kernel
        if self.use_bias:
            z += self.bias
        y = self.activation.forward(z)
        self.cache = (x, _keep_activation_input(self.activation, z), y)
        return y

    def backward_linear(self, dz):
        """dz: (N, ..., units) -> dx: (N, ..., in); dW = xᵀ·dz, db = Σ dz over all but the last axis."""
        x = self.cache[0]
        if self.trainable:
            x2d, dz2d = x.reshape(-1, x.shape[-1]), dz.reshape(-1, self.units)
            self.gradients = [x2d.T @ dz2d] + ([dz2d.sum(axis=0)] if self.use_bias else [])
        else:
            self.gradients = []
        return dz @ self.kernel.T

    def backward(self, dy):
        _, z, y = self.cache
        return self.backward_linear(self.activation.backward(dy, z, y))

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "bias_initializer": serialize_initializer(self.bias_initializer)}


class Activation(Layer):
    """Applies an activation function elementwise: x: (N, ...) -> y: (N, ...)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _resolve_activation(self, activation)

    def forward(self, x, training=False):
        y = self.activation.forward(x)
        self.cache = (_keep_activation_input(self.activation, x), y)
        return y

    def backward_linear(self, dz):
        """There is no linear part: the pre-activation is the input, so dL/dx = dL/dz."""
        self.gradients = []
        return dz

    def backward(self, dy):
        x, y = self.cache
        return self.backward_linear(self.activation.backward(dy, x, y))

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Inverted dropout: in training y = x · mask / (1 − rate), mask ~ Bernoulli(1 − rate); else y = x.

    x: (N, ...) -> y: (N, ...). ``noise_shape`` (None entries taken from x) lets the
    mask broadcast, e.g. ``(None, 1, 1, C)`` drops whole channels. The mask comes from
    the layer's own generator (``faltung.rng.make_generator(seed)``), made once.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.number)) or not 0 <= rate < 1:
            raise ValueError(f"{self.name}: expected rate in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._generator = rng.make_generator(seed)

    def _mask_shape(self, x):
        if self.noise_shape is None:
            return x.shape
        if len(self.noise_shape) != x.ndim:
            raise ValueError(f"{self.name}: expected noise_shape of rank {x.ndim} for input of shape "
                             f"{tuple(x.shape)}, got {self.noise_shape}")
        shape = tuple(d if n is None else n for n, d in zip(self.noise_shape, x.shape))
        if any(n not in (1, d) for n, d in zip(shape, x.shape)):
            raise ValueError(f"{self.name}: expected noise_shape entries of 1 or the input's size, "
                             f"got {self.noise_shape} for input of shape {tuple(x.shape)}")
        return shape

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self.cache = None
            return x
        keep = self._generator.random(self._mask_shape(x), dtype=np.float32) >= self.rate
        mask = keep.astype(x.dtype)
        mask *= 1.0 / (1.0 - self.rate)
        self.cache = mask
        return x * mask

    def backward(self, dy):
        self.gradients = []
        return dy if self.cache is None else dy * self.cache  # no mask: inference was the identity

    def get_config(self):
        noise = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise, "seed": self.seed}


class Rescaling(Layer):
    """y = x · scale + offset (e.g. ``Rescaling(1./255)``); x: (N, ...) -> y: (N, ...)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def forward(self, x, training=False):
        scale = np.asarray(self.scale, dtype=x.dtype)
        return x * scale + np.asarray(self.offset, dtype=x.dtype)

    def backward(self, dy):
        self.gradients = []
        return dy * np.asarray(self.scale, dtype=dy.dtype)

    def get_config(self):
        return {**super().get_config(), "scale": np.asarray(self.scale).tolist(),
                "offset": np.asarray(self.offset).tolist()}
