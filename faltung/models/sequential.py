"""``Sequential``: a plain stack of layers, each feeding the next.

As soon as the input shape is known (``input_shape=`` on the first layer, a leading
``faltung.Input(shape)``, or the first batch given to ``fit``/``predict``), the stack
is wired as a functional graph: every layer is called on a symbolic tensor, so
``layer.output`` and ``model.inputs`` exist and
``Model(inputs=model.inputs, outputs=[l.output for l in model.layers])`` works.
"""
from ..layers.base import Layer, unique_name
from ..layers.input_layer import InputLayer
from .functional import Model


class Sequential(Model):
    """``Sequential(layers=None, name=None)``; add layers with ``.add(layer)``."""

    def __init__(self, layers=None, name=None, trainable=True):
        self.name = name or unique_name("sequential")
        self._init_training_state()
        self._stack = []
        self._input_layer = None
        self._own_nodes = []
        self.built = False
        self.inputs, self.outputs = [], []
        self._all_layers = []
        for layer in layers or []:
            self.add(layer)
        if not trainable:
            self.trainable = False

    @property
    def layers(self):
        """The layers as added (the InputLayer is not listed, as in Keras)."""
        return list(self._stack)

    def add(self, layer):
        """Append a layer (or, first of all, an ``Input``/``InputLayer`` that fixes the input shape)."""
        if getattr(layer, "_faltung_symbolic", False) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(f"{self.name}: an Input can only be the first entry of a Sequential")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"{self.name}: expected a faltung layer, got {type(layer).__name__}")
        if any(existing is layer for existing in self._stack):
            raise ValueError(f"{self.name}: layer {layer.name!r} is already in this model")
        self._stack.append(layer)
        try:
            if self.built:
                y = self._wire(layer, self.outputs[0])
                self._init_graph(self._input_layer.output, y)
            else:
                self._try_build()
        except ValueError:
            self._stack.pop()  # leave the model as it was before the failed add
            self._rebuild()
            raise

    def pop(self):
        """Remove and return the last layer."""
        if not self._stack:
            raise ValueError(f"{self.name}: cannot pop from an empty Sequential")
        layer = self._stack.pop()
        self._rebuild()
        return layer

    # ---- wiring ----------------------------------------------------------------------------
    def _try_build(self):
        if self._input_layer is not None:
            self._rebuild()
        elif self._stack and self._stack[0].batch_input_shape is not None:
            self.build(self._stack[0].batch_input_shape)

    def build(self, input_shape):
        """Wire the stack for inputs of ``input_shape`` (batch dimension included)."""
        input_shape = tuple(input_shape)
        if self._input_layer is None or tuple(self._input_layer.batch_input_shape) != input_shape:
            dtype = self._stack[0].dtype if self._stack else None
            self._input_layer = InputLayer(batch_input_shape=(None,) + input_shape[1:], dtype=dtype)
        self._rebuild()

    def _rebuild(self):
        for node in self._own_nodes:
            node.layer._inbound_nodes.remove(node)
        self._own_nodes = []
        if self._input_layer is None:
            self.built = False
            return
        x = self._input_layer.output
        for layer in self._stack:
            x = self._wire(layer, x)
        self._init_graph(self._input_layer.output, x)

    def _wire(self, layer, x):
        y = layer(x)
        self._own_nodes.append(y.node)
        return y

    def _ensure_built(self, x_shape):
        if not self.built:
            if not self._stack:
                raise ValueError(f"{self.name}: the model has no layers; add some first")
            self.build((None,) + tuple(x_shape[1:]))
