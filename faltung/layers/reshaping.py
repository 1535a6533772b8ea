"""Layers that only move values around: Flatten, Reshape, ZeroPadding2D.

Their backward undoes the forward's rearrangement: the gradient of a reshape is the
reshape back, the gradient of zero padding is the crop of the padded border.
"""
import numpy as np

from .base import Layer, check_data_format


class Flatten(Layer):
    """x: (N, d1, d2, ...) -> y: (N, d1*d2*...); the backward reshapes back."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(self, data_format)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def forward(self, x, training=False):
        if x.ndim < 1:
            raise ValueError(f"{self.name}: expected input of rank >= 1 (N, ...), got a scalar")
        self.cache = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        self.gradients = []
        return dy.reshape(self.cache)


class Reshape(Layer):
    """x: (N, ...) -> y: (N, *target_shape); one entry of ``target_shape`` may be -1 (inferred)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(int(d) for d in target_shape)
        except TypeError:
            raise ValueError(f"{self.name}: expected target_shape as a tuple of ints, "
                             f"got {target_shape!r}") from None
        if sum(d == -1 for d in target) > 1 or any(d == 0 or d < -1 for d in target):
            raise ValueError(f"{self.name}: expected target_shape of positive ints with at most one -1, "
                             f"got {target_shape!r}")
        self.target_shape = target

    def _resolve(self, input_shape):
        """The output's non-batch shape with -1 filled in (left as None while the input size is unknown)."""
        rest = tuple(input_shape[1:])
        if any(d is None for d in rest):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = int(np.prod(rest, dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        if int(np.prod(shape, dtype=np.int64)) != size:
            count = f"a multiple of {known}" if -1 in self.target_shape else str(known)
            raise ValueError(f"{self.name}: expected an input with {count} values per sample for "
                             f"target_shape {self.target_shape}, got shape {tuple(input_shape)}")
        return shape

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(input_shape)

    def forward(self, x, training=False):
        if x.ndim < 1:
            raise ValueError(f"{self.name}: expected input of rank >= 1 (N, ...), got a scalar")
        shape = self._resolve(x.shape)
        self.cache = x.shape
        return x.reshape((x.shape[0],) + shape)

    def backward(self, dy):
        self.gradients = []
        return dy.reshape(self.cache)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class ZeroPadding2D(Layer):
    """Zeros around the image: x: (N, H, W, C) -> y: (N, top+H+bottom, left+W+right, C).

    ``padding``: an int (all sides), ``(sym_h, sym_w)`` or ``((top, bottom), (left, right))``.
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(self, data_format)
        self.padding = self._normalize(padding)

    def _normalize(self, padding):
        try:
            if isinstance(padding, (int, np.integer)):
                pads = ((padding, padding), (padding, padding))
            elif all(isinstance(p, (int, np.integer)) for p in padding) and len(padding) == 2:
                pads = ((padding[0], padding[0]), (padding[1], padding[1]))
            else:
                pads = tuple(tuple(p) for p in padding)
            ok = len(pads) == 2 and all(len(p) == 2 for p in pads)
        except TypeError:
            ok = False
        if not ok or any(not isinstance(v, (int, np.integer)) or v < 0 for p in pads for v in p):
            raise ValueError(f"{self.name}: expected padding as an int, 2 ints or "
                             f"((top, bottom), (left, right)) of non-negative ints, got {padding!r}")
        return tuple((int(a), int(b)) for a, b in pads)

    def build(self, input_shape):
        self.check_rank(input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        self.check_rank(input_shape)
        (top, bottom), (left, right) = self.padding
        n, h, w, c = input_shape
        return (n, None if h is None else h + top + bottom, None if w is None else w + left + right, c)

    def forward(self, x, training=False):
        self.check_rank(x.shape)
        return np.pad(x, ((0, 0), *self.padding, (0, 0)))

    def backward(self, dy):
        self.gradients = []
        (top, bottom), (left, right) = self.padding
        h, w = dy.shape[1] - top - bottom, dy.shape[2] - left - right
        return dy[:, top:top + h, left:left + w, :]

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}
