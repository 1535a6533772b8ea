"""Pooling layers, Keras 3 style (NHWC): no weights, only gradient routing in the backward.

  MaxPooling2D, AveragePooling2D    x: (N, H, W, C) -> y: (N, OH, OW, C)
  GlobalAveragePooling2D,           x: (N, H, W, C) -> y: (N, C)  (or (N, 1, 1, C) with keepdims=True)
  GlobalMaxPooling2D

Seed 004, section 3: max pooling sends the gradient only to the (remembered) position of
the maximum, average pooling spreads it evenly over the window.
"""
import numpy as np

from ..ops import pool as pool_ops
from .base import Layer, check_data_format, normalize_padding, normalize_tuple


class _Pooling2D(Layer):
    _forward_op = _backward_op = None  # set by the subclasses

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(self, data_format)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size", self.name)
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, 2, "strides", self.name)
        self.padding = normalize_padding(padding, self.name)

    def _output_length(self, n, axis):
        if n is None:
            return None
        k, s = self.pool_size[axis], self.strides[axis]
        out = -(-n // s) if self.padding == "same" else (n - k) // s + 1
        if out <= 0:
            raise ValueError(f"{self.name}: expected input height and width of at least the pool size "
                             f"{self.pool_size} with padding='valid', got {n} along axis {axis + 1}")
        return out

    def compute_output_shape(self, input_shape):
        self.check_rank(input_shape)
        out_hw = tuple(self._output_length(n, axis) for axis, n in enumerate(input_shape[1:3]))
        return (input_shape[0],) + out_hw + (input_shape[3],)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def forward(self, x, training=False):
        x = self._as_array(x)
        self.compute_output_shape(x.shape)
        y, self.cache = type(self)._forward_op(x, self.pool_size, self.strides, self.padding)
        return y

    def backward(self, dy):
        self.gradients = []
        return type(self)._backward_op(dy, self.cache)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": list(self.pool_size), "padding": self.padding,
                       "strides": list(self.strides), "data_format": "channels_last"})
        return config


class MaxPooling2D(_Pooling2D):
    """The maximum of every ``pool_size`` window (seed 003: [[1,3],[7,8]] -> 8)."""
    _forward_op = staticmethod(pool_ops.max_pool2d_forward)
    _backward_op = staticmethod(pool_ops.max_pool2d_backward)


class AveragePooling2D(_Pooling2D):
    """The mean of every window; with "same" padding only the real cells are averaged (as Keras)."""
    _forward_op = staticmethod(pool_ops.avg_pool2d_forward)
    _backward_op = staticmethod(pool_ops.avg_pool2d_backward)


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        check_data_format(self, data_format)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        self.check_rank(input_shape)
        n, _, _, c = input_shape
        return (n, 1, 1, c) if self.keepdims else (n, c)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def _shape_output(self, y):
        """y: (N, C) -> (N, 1, 1, C) when keepdims."""
        return y[:, None, None, :] if self.keepdims else y

    def _as_flat(self, dy):
        return dy.reshape(dy.shape[0], dy.shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": "channels_last", "keepdims": self.keepdims})
        return config


class GlobalAveragePooling2D(_GlobalPooling2D):
    """``y[n, c] = mean over (H, W)``; backward: ``dx = dy / (H*W)`` on every cell."""

    def forward(self, x, training=False):
        x = self._as_array(x)
        self.check_input(x, 4)
        self.cache = x.shape
        return self._shape_output(x.mean(axis=(1, 2), dtype=x.dtype))

    def backward(self, dy):
        self.gradients = []
        n, h, w, c = self.cache
        share = self._as_flat(dy) / (h * w)
        return np.ascontiguousarray(np.broadcast_to(share[:, None, None, :], (n, h, w, c)))


class GlobalMaxPooling2D(_GlobalPooling2D):
    """``y[n, c] = max over (H, W)``; backward: the gradient goes to the (first) argmax only."""

    def forward(self, x, training=False):
        x = self._as_array(x)
        self.check_input(x, 4)
        n, h, w, c = x.shape
        flat = x.reshape(n, h * w, c)
        argmax = flat.argmax(axis=1)  # (N, C)
        self.cache = (x.shape, argmax)
        return self._shape_output(np.take_along_axis(flat, argmax[:, None, :], axis=1)[:, 0, :])

    def backward(self, dy):
        self.gradients = []
        (n, h, w, c), argmax = self.cache
        dx = np.zeros((n, h * w, c), dtype=dy.dtype)
        np.put_along_axis(dx, argmax[:, None, :], self._as_flat(dy)[:, None, :], axis=1)
        return dx.reshape(n, h, w, c)
