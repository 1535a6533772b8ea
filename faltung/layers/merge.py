"""Merge layers: take a list of arrays, return one; ``backward(dy)`` returns a list of gradients.

  Concatenate(axis=-1):  [x1 (N, ..., C1), x2 (N, ..., C2)] -> y (N, ..., C1+C2)
  Add():                 [x1, x2, ...] all of one shape   -> y = x1 + x2 + ... (sizes of 1 broadcast)
"""
import numpy as np

from .base import Layer


def _describe(inputs):
    return f"shape {tuple(inputs.shape)}" if hasattr(inputs, "shape") else repr(inputs)


class _Merge(Layer):
    """Checks shared by the merge layers: a list of inputs whose shapes agree."""

    def _shapes(self, inputs):
        if (not isinstance(inputs, (list, tuple)) or len(inputs) < 1
                or not all(hasattr(x, "shape") or isinstance(x, (list, tuple)) for x in inputs)):
            raise ValueError(f"{self.name}: expected a list of input arrays, got {_describe(inputs)}")
        return [tuple(x.shape if hasattr(x, "shape") else x) for x in inputs]

    def _agree(self, shapes, skip_axis=None, broadcast=False):
        """Raise unless all shapes have one rank and equal sizes (except on ``skip_axis``; None matches;
        with ``broadcast`` a size of 1 matches any size on every axis but the batch axis)."""
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise ValueError(f"{self.name}: expected inputs of the same rank, got shapes {shapes}")
        for axis in range(rank):
            if axis == skip_axis:
                continue
            sizes = {s[axis] for s in shapes} - {None}
            if broadcast and axis > 0:
                sizes -= {1} if len(sizes) > 1 else set()
            if len(sizes) > 1:
                what = f"equal sizes on every axis but {skip_axis}" if skip_axis is not None else "equal shapes"
                raise ValueError(f"{self.name}: expected inputs with {what}, got shapes {shapes}")

    def build(self, input_shape):
        shapes = self._shapes(input_shape)
        self._check_shapes(shapes)
        super().build([tuple(s) for s in shapes])


class Concatenate(_Merge):
    """[x1 (N, ..., C1), x2 (N, ..., C2), ...] -> y (N, ..., C1 + C2 + ...) along ``axis``."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _axis(self, rank):
        if not -rank < self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"{self.name}: expected axis between 1 and {rank - 1} (or negative) "
                             f"for inputs of rank {rank}, got {self.axis}")
        return self.axis % rank

    def _check_shapes(self, shapes):
        self._agree(shapes, self._axis(len(shapes[0])))

    def compute_output_shape(self, input_shape):
        shapes = self._shapes(input_shape)
        self._check_shapes(shapes)
        axis = self._axis(len(shapes[0]))
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in sizes else int(sum(sizes))
        return tuple(out)

    def forward(self, inputs, training=False):
        shapes = self._shapes(inputs)
        self._check_shapes(shapes)
        axis = self._axis(len(shapes[0]))
        self.cache = (axis, [s[axis] for s in shapes])
        return np.concatenate(inputs, axis=axis)

    def backward(self, dy):
        # each input gets back its own slice of dy along the axis
        axis, sizes = self.cache
        self.gradients = []
        return np.split(dy, np.cumsum(sizes)[:-1], axis=axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Add(_Merge):
    """[x1, x2, ...] of one shape (N, ...) -> y = x1 + x2 + ... of that shape.

    As in Keras, a size of 1 broadcasts against any size (e.g. (N, 1, 1, C) + (N, H, W, C)).
    """

    def _check_shapes(self, shapes):
        self._agree(shapes, broadcast=True)

    def compute_output_shape(self, input_shape):
        shapes = self._shapes(input_shape)
        self._check_shapes(shapes)

        # a size known in any input is known in the output; a size of 1 yields to a larger one
        def size(axis):
            known = [s[axis] for s in shapes if s[axis] is not None]
            if not known:
                return None
            return max(known) if len(shapes) == len(known) or max(known) > 1 else None
        return tuple(size(a) for a in range(len(shapes[0])))

    def forward(self, inputs, training=False):
        shapes = self._shapes(inputs)
        self._check_shapes(shapes)
        self.cache = shapes
        if len(set(shapes)) == 1:
            y, rest = inputs[0].copy(), inputs[1:]
        else:  # start from zeros of the broadcast shape
            y, rest = np.zeros(np.broadcast_shapes(*shapes), np.result_type(*inputs)), inputs
        for x in rest:
            y += x
        return y

    def backward(self, dy):
        # y = Σ x_i, so ∂y/∂x_i = 1 for every input; a broadcast input sums dy over its size-1 axes
        self.gradients = []
        return [dy.copy() if shape == dy.shape else
                dy.sum(axis=tuple(a for a, n in enumerate(shape) if n == 1 and dy.shape[a] != 1),
                       keepdims=True)
                for shape in self.cache]
