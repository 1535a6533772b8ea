"""``InputLayer`` and ``Input``: where a model's data enters the graph.

``x = faltung.Input(shape=(28, 28, 1))`` returns a symbolic tensor of shape
``(None, 28, 28, 1)``; layers called on it wire up a functional model. The
``InputLayer`` behind it passes arrays through unchanged (forward and backward).
"""
from .base import Layer


class InputLayer(Layer):
    """The identity layer that produces a model input of ``batch_input_shape`` ``(None, ...)``."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, input_shape=None,
                 batch_input_shape=None, batch_shape=None, **kwargs):
        if batch_shape is not None:
            batch_input_shape = batch_shape
        if batch_input_shape is None:
            shape = shape if shape is not None else input_shape
            if shape is None:
                raise ValueError(f"{name or 'InputLayer'}: expected shape= (the input shape without "
                                 "the batch dimension), got None")
            if isinstance(shape, int):
                shape = (shape,)
            batch_input_shape = (batch_size,) + tuple(shape)
        batch_input_shape = tuple(None if d is None else int(d) for d in batch_input_shape)
        for d in batch_input_shape[1:]:
            if d is not None and d <= 0:
                raise ValueError(f"{name or 'InputLayer'}: expected positive dimensions, "
                                 f"got shape {batch_input_shape}")
        super().__init__(name=name, dtype=dtype, batch_input_shape=batch_input_shape, **kwargs)
        self.build(batch_input_shape)
        from ..models.graph import Node, SymbolicTensor
        node = Node(self, [], multi_input=False)
        node.output = SymbolicTensor(batch_input_shape, self.dtype, node, name=self.name)
        self._inbound_nodes.append(node)

    def forward(self, x, training=False):
        return x

    def backward(self, dy):
        return dy

    def compute_output_shape(self, input_shape):
        return self.batch_input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("trainable", None)
        return config


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None):
    """A symbolic model input: ``Input(shape=(28, 28, 1))`` has ``.shape == (None, 28, 28, 1)``.

    Arguments in Keras 3's order; ``sparse`` and ``tensor`` exist for that order only (dense NumPy
    inputs: they must be None/False)."""
    if sparse or tensor is not None:
        raise ValueError(f"Input: expected sparse=None and tensor=None (faltung inputs are dense "
                         f"NumPy arrays), got sparse={sparse!r}, tensor={tensor!r}")
    layer = InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                       batch_shape=batch_shape)
    return layer.output
