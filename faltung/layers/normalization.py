"""BatchNormalization (Ioffe & Szegedy, 2015) with Keras's weights and update rule.

x: (N, ..., C) -> y: same shape, normalised per feature along ``axis`` (the channels):

  training:   μ, σ² = mean and (biased) variance of the batch over every other axis
              x̂ = (x − μ) / √(σ² + ε),   y = γ · x̂ + β
              moving_mean = moving_mean · momentum + μ · (1 − momentum)   (same for the variance)
  inference:  the same with μ, σ² replaced by moving_mean, moving_variance

Weights in Keras's order: gamma, beta (trainable), moving_mean, moving_variance (not
trainable); gamma is left out when ``scale=False``, beta when ``center=False``. A layer
with ``trainable=False`` runs in inference mode, as in Keras 3 (for fine-tuning).
"""
import numpy as np

from .base import Layer, check_initializer, serialize_initializer


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if synchronized:
            raise ValueError(f"{self.name}: expected synchronized=False (there is one process, "
                             "so no replicas to synchronise)")
        self.axis = int(axis) if isinstance(axis, (int, np.integer)) else [int(a) for a in axis]
        if not 0 <= momentum <= 1:
            raise ValueError(f"{self.name}: expected momentum in [0, 1], got {momentum!r}")
        if epsilon <= 0:
            raise ValueError(f"{self.name}: expected a positive epsilon, got {epsilon!r}")
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.initializers = {name: check_initializer(self, init) for name, init in (
            ("beta", beta_initializer), ("gamma", gamma_initializer),
            ("moving_mean", moving_mean_initializer), ("moving_variance", moving_variance_initializer))}
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        rank = len(input_shape)
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if any(not -rank < a < rank for a in axes) or any(a % rank == 0 for a in axes):
            raise ValueError(f"{self.name}: expected axis between 1 and {rank - 1} (or negative) "
                             f"for input shape {input_shape}, got {self.axis}")
        self.feature_axes = tuple(sorted(a % rank for a in axes))
        if any(input_shape[a] is None for a in self.feature_axes):
            raise ValueError(f"{self.name}: expected a known size on axis {self.axis}, "
                             f"got input shape {input_shape}")
        self.reduce_axes = tuple(a for a in range(rank) if a not in self.feature_axes)
        # weights have the feature axes' sizes; they broadcast against x with size 1 elsewhere
        shape = tuple(input_shape[a] for a in self.feature_axes)
        self.broadcast_shape = tuple(input_shape[a] if a in self.feature_axes else 1 for a in range(rank))
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.initializers["gamma"])
        if self.center:
            self.beta = self.add_weight("beta", shape, self.initializers["beta"])
        self.moving_mean = self.add_weight("moving_mean", shape, self.initializers["moving_mean"],
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               self.initializers["moving_variance"], trainable=False)
        super().build(input_shape)

    def _check(self, x):
        expected = self.input_shape
        if x.ndim != len(expected) or any(x.shape[a] != expected[a] for a in self.feature_axes):
            raise ValueError(f"{self.name}: expected input of shape {expected} "
                             f"(features on axis {self.axis}), got shape {tuple(x.shape)}")

    def _params(self, dtype):
        gamma = 1.0 if self.gamma is None else self.gamma.reshape(self.broadcast_shape)
        beta = 0.0 if self.beta is None else self.beta.reshape(self.broadcast_shape)
        return np.asarray(gamma, dtype), np.asarray(beta, dtype)

    def forward(self, x, training=False):
        self._check(x)
        training = training and self.trainable
        if training:
            mean = x.mean(axis=self.reduce_axes, keepdims=True)
            centered = x - mean
            var = np.mean(centered * centered, axis=self.reduce_axes, keepdims=True)  # biased: 1/M
            self.moving_mean *= self.momentum
            self.moving_mean += (1 - self.momentum) * mean.reshape(self.moving_mean.shape)
            self.moving_variance *= self.momentum
            self.moving_variance += (1 - self.momentum) * var.reshape(self.moving_variance.shape)
        else:
            centered = x - self.moving_mean.reshape(self.broadcast_shape)
            var = self.moving_variance.reshape(self.broadcast_shape)
        inv_std = (1.0 / np.sqrt(var + self.epsilon)).astype(x.dtype, copy=False)
        x_hat = centered * inv_std
        gamma, beta = self._params(x.dtype)
        self.cache = (x_hat, inv_std, training)
        return x_hat * gamma + beta

    def backward(self, dy):
        x_hat, inv_std, training = self.cache
        gamma, _ = self._params(dy.dtype)
        dx_hat = dy * gamma
        if training:
            # through the batch statistics (M = elements per feature):
            # dx = inv_std · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂))
            mean_dx_hat = dx_hat.mean(axis=self.reduce_axes, keepdims=True)
            mean_dx_hat_x_hat = (dx_hat * x_hat).mean(axis=self.reduce_axes, keepdims=True)
            dx = inv_std * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)
        else:
            dx = dx_hat * inv_std  # the moving statistics are constants
        gradients = []
        if self.trainable:
            feature_shape = self.moving_mean.shape
            if self.scale:
                gradients.append((dy * x_hat).sum(axis=self.reduce_axes).reshape(feature_shape))
            if self.center:
                gradients.append(dy.sum(axis=self.reduce_axes).reshape(feature_shape))
        self.gradients = gradients
        return dx

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **{f"{name}_initializer": serialize_initializer(init)
                   for name, init in self.initializers.items()}}
