"""Activation functions, each with its forward and its derivative.

Every activation is an object with
  ``forward(x) -> y``            elementwise (softmax: over the last axis), any shape
  ``backward(dy, x, y) -> dx``   the chain rule ``dx = f'(x) * dy`` (softmax: the Jacobian-vector product)
so a layer can keep ``x`` and ``y`` from its forward and call ``backward`` with them.
``get(name_or_callable)`` resolves Keras names: linear, relu, sigmoid, tanh, softmax,
elu, gelu, softplus, leaky_relu, silu / swish, selu, relu6, hard_sigmoid, softsign.
"""
import abc

import numpy as np
from scipy.special import erf


class ActivationFunction(abc.ABC):
    name = None
    #: the backward needs only ``y`` (so a layer may drop ``x`` from its cache)
    needs_only_output = False

    @abc.abstractmethod
    def forward(self, x):
        """y = f(x)."""

    @abc.abstractmethod
    def backward(self, dy, x, y):
        """dx = f'(x) * dy."""

    def __call__(self, x):
        return self.forward(x)

    def __repr__(self):
        return f"<activation {self.name}>"


class Linear(ActivationFunction):
    name = "linear"
    needs_only_output = True

    def forward(self, x):
        return x

    def backward(self, dy, x, y):
        return dy


class ReLU(ActivationFunction):
    name = "relu"
    needs_only_output = True

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, dy, x, y):
        # f'(x) = 1 where x > 0, else 0  (y > 0 exactly where x > 0)
        return dy * (y > 0)


class Sigmoid(ActivationFunction):
    name = "sigmoid"
    needs_only_output = True

    def forward(self, x):
        # numerically stable: exp of a non-positive number only
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        return dy * y * (1 - y)  # σ' = σ(1 − σ)


class Tanh(ActivationFunction):
    name = "tanh"
    needs_only_output = True

    def forward(self, x):
        return np.tanh(x)

    def backward(self, dy, x, y):
        return dy * (1 - y * y)  # tanh' = 1 − tanh²


class Softmax(ActivationFunction):
    name = "softmax"
    needs_only_output = True

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        z = x - x.max(axis=self.axis, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, dy, x, y):
        # J^T dy = y * (dy − Σ_j dy_j y_j)
        return y * (dy - (dy * y).sum(axis=self.axis, keepdims=True))


class ELU(ActivationFunction):
    name = "elu"

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def forward(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        # f'(x) = 1 for x > 0, α·eˣ = y + α otherwise
        return dy * np.where(x > 0, 1, y + self.alpha).astype(dy.dtype, copy=False)


class LeakyReLU(ActivationFunction):
    name = "leaky_relu"

    def __init__(self, negative_slope=0.2):
        self.negative_slope = negative_slope

    def forward(self, x):
        return np.where(x > 0, x, self.negative_slope * x).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        return dy * np.where(x > 0, 1, self.negative_slope).astype(dy.dtype, copy=False)


class Softplus(ActivationFunction):
    name = "softplus"

    def forward(self, x):
        # ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|), stable for large |x|
        return (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        return dy * Sigmoid().forward(x)  # softplus' = σ


class GELU(ActivationFunction):
    """GELU(x) = x·Φ(x) with the exact normal CDF Φ (Keras default ``approximate=False``)."""
    name = "gelu"

    def forward(self, x):
        return (0.5 * x * (1 + erf(x / np.sqrt(2)))).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        cdf = 0.5 * (1 + erf(x / np.sqrt(2)))
        pdf = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        return (dy * (cdf + x * pdf)).astype(dy.dtype, copy=False)


class SiLU(ActivationFunction):
    name = "silu"

    def forward(self, x):
        return x * Sigmoid().forward(x)

    def backward(self, dy, x, y):
        s = Sigmoid().forward(x)
        return dy * (s * (1 + x * (1 - s)))  # (xσ)' = σ + xσ(1 − σ)


class SELU(ActivationFunction):
    """scale · elu(x, α) with SELU's fixed α ≈ 1.6733 and scale ≈ 1.0507 (Klambauer et al. 2017)."""
    name = "selu"
    needs_only_output = True
    alpha, scale = 1.6732632423543772, 1.0507009873554805

    def forward(self, x):
        return (self.scale * np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))).astype(
            x.dtype, copy=False)

    def backward(self, dy, x, y):
        # f' = scale for x > 0, else scale·α·eˣ = y + scale·α  (y > 0 exactly where x > 0)
        return dy * np.where(y > 0, self.scale, y + self.scale * self.alpha).astype(dy.dtype, copy=False)


class ReLU6(ActivationFunction):
    """min(max(x, 0), 6)."""
    name = "relu6"
    needs_only_output = True

    def forward(self, x):
        return np.clip(x, 0, 6).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        return dy * ((y > 0) & (y < 6))  # slope 1 strictly between the two flat parts


class HardSigmoid(ActivationFunction):
    """Keras 3's ``relu6(x + 3) / 6``: 0 below −3, 1 above 3, linear with slope 1/6 between."""
    name = "hard_sigmoid"
    needs_only_output = True

    def forward(self, x):
        return np.clip(x / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)

    def backward(self, dy, x, y):
        return dy * np.where((y > 0) & (y < 1), 1 / 6, 0).astype(dy.dtype, copy=False)


class Softsign(ActivationFunction):
    """x / (|x| + 1); derivative 1 / (|x| + 1)²."""
    name = "softsign"

    def forward(self, x):
        return x / (np.abs(x) + 1)

    def backward(self, dy, x, y):
        return dy / (np.abs(x) + 1) ** 2


_BY_NAME = {
    "linear": Linear, "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax,
    "elu": ELU, "gelu": GELU, "softplus": Softplus, "leaky_relu": LeakyReLU,
    "silu": SiLU, "swish": SiLU, "selu": SELU, "relu6": ReLU6, "hard_sigmoid": HardSigmoid,
    "softsign": Softsign,
}


def get(identifier):
    """An ``ActivationFunction`` from a Keras name, ``None`` (linear) or an instance."""
    if identifier is None:
        return Linear()
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        raise ValueError(
            f"unknown activation {identifier!r}: expected one of {sorted(_BY_NAME)}")
    for name, function in _FUNCTIONS.items():  # Keras's activation=keras.activations.relu
        if identifier is function:
            return _BY_NAME[name]()
    if isinstance(identifier, dict) and str(identifier.get("class_name")).lower() in _BY_NAME:
        return _BY_NAME[identifier["class_name"].lower()](**identifier.get("config", {}))
    raise ValueError(f"activation: expected a name or an ActivationFunction, got {identifier!r}")


_PARAMETERS = {"elu": "alpha", "leaky_relu": "negative_slope", "softmax": "axis"}


def serialize(activation):
    """The Keras name, or ``{"class_name", "config"}`` when a parameter differs from its default."""
    param = _PARAMETERS.get(activation.name)
    if param is not None:
        value = getattr(activation, param)
        if value != getattr(type(activation)(), param):
            return {"class_name": activation.name, "config": {param: value}}
    return activation.name


# Keras-style functional aliases: faltung.activations.relu(x), ...
def relu(x):
    return ReLU().forward(x)


def sigmoid(x):
    return Sigmoid().forward(x)


def tanh(x):
    return Tanh().forward(x)


def softmax(x, axis=-1):
    return Softmax(axis).forward(x)


_FUNCTIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax}
