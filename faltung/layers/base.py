"""The base ``Layer``: weights, config, and the forward/backward contract.

A layer owns its weights and its configuration (as a Keras layer does) and
computes two things on NumPy arrays:

  ``y = layer.forward(x, training=False)``  x: (N, ...) -> y: (N, ...); keeps what the
                                            backward needs in ``layer.cache``
  ``dx = layer.backward(dy)``               dy = dL/dy -> dx = dL/dx; leaves dL/dw for
                                            each trainable weight in ``layer.gradients``
                                            (same order as ``get_weights()``)

Shapes passed to ``build`` and ``compute_output_shape`` include the batch
dimension, ``None`` when unknown, as in Keras: ``(None, 28, 28, 1)``.
Layers with several inputs (``Concatenate``, ``Add``) take and return lists.
"""
import re

import numpy as np

from .. import config as _config

_NAME_COUNTS = {}
# Keras arguments (kernel_regularizer=None, bias_constraint=None, ...) accepted when None
_NOT_SUPPORTED_SUFFIXES = ("_regularizer", "_constraint")


def to_snake_case(name):
    """Keras's layer-name rule: ``MaxPooling2D`` -> ``max_pooling2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base):
    """``conv2d``, then ``conv2d_1``, ``conv2d_2``, ... as Keras names layers."""
    count = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def reset_names():
    """Forget the name counters (``faltung.backend.clear_session``)."""
    _NAME_COUNTS.clear()


def _is_symbolic(inputs):
    items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    return any(getattr(t, "_faltung_symbolic", False) for t in items)


def normalize_tuple(value, n, what, layer_name):
    """An int or a sequence of n positive ints as an n-tuple (Keras's ``kernel_size=3`` -> ``(3, 3)``)."""
    if isinstance(value, (int, np.integer)):
        value = (int(value),) * n
    try:
        value = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"{layer_name}: expected {what} as an int or {n} ints, got {value!r}") from None
    if len(value) != n or any(v <= 0 for v in value):
        raise ValueError(f"{layer_name}: expected {what} as {n} positive ints, got {value!r}")
    return value


def normalize_padding(value, layer_name, allowed=("valid", "same")):
    """Padding names in any case (``"SAME"`` as in seed 001)."""
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    raise ValueError(f"{layer_name}: expected padding to be one of {list(allowed)}, got {value!r}")


class Layer:
    """Base class of every faltung layer (see the module docstring for the contract)."""

    #: class name -> class, for ``faltung.layers.deserialize``
    registry = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # a class defined outside faltung never shadows a faltung layer of the same name
        existing = Layer.registry.get(cls.__name__)
        if existing is None or not existing.__module__.startswith("faltung."):
            Layer.registry[cls.__name__] = cls

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, input_dim=None, **kwargs):
        for key in [k for k in kwargs if k.endswith(_NOT_SUPPORTED_SUFFIXES)]:
            if kwargs.pop(key) is not None:
                raise ValueError(f"{type(self).__name__}: expected {key}=None (faltung has no "
                                 "regularizers or constraints)")
        if kwargs:
            raise ValueError(
                f"{type(self).__name__}: unrecognized keyword arguments {sorted(kwargs)}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = _config.standardize_dtype(dtype)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self.batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self.batch_input_shape = (None,) + tuple(input_shape)
        else:
            self.batch_input_shape = None
        self.built = False
        self._weights = []        # [(name, array, trainable)] in get_weights() order
        self.gradients = []       # dL/dw for each trainable weight, set by backward()
        self.cache = None         # what forward() keeps for backward()
        self.input_shape = None   # set by build(), batch dimension included
        self._inbound_nodes = []  # functional-graph bookkeeping (faltung.models.graph)

    # ---- weights -------------------------------------------------------------------
    def add_weight(self, name, shape, initializer="zeros", trainable=True):
        from .. import initializers
        value = initializers.get(initializer)(tuple(shape), dtype=self.dtype)
        self._weights.append((name, value, trainable))
        return value

    @property
    def weights(self):
        return [w for _, w, _ in self._weights]

    @property
    def trainable_weights(self):
        return [w for _, w, t in self._weights if t] if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for _, w, t in self._weights if not t]

    @property
    def weight_names(self):
        return [f"{self.name}/{n}" for n, _, _ in self._weights]

    def get_weights(self):
        """Copies of the weights, in Keras's order (e.g. Conv2D: kernel (kh, kw, in, out), bias (out,))."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrite the weights in place (the arrays keep their identity, so optimizers stay valid)."""
        for (_, w, _), value in zip(self._weights, self._checked_weights(weights)):
            w[...] = value

    def _checked_weights(self, weights):
        """The new weights as arrays, every shape checked before any is assigned (as Keras 3)."""
        current = self.weights
        if len(weights) != len(current):
            raise ValueError(f"{self.name}: expected a list of {len(current)} weight arrays, "
                             f"got {len(weights)}")
        arrays = [np.asarray(new) for new in weights]
        for (wname, w, _), new in zip(self._weights, arrays):
            if new.shape != w.shape:
                raise ValueError(f"{self.name}: expected weight {wname!r} of shape {w.shape}, "
                                 f"got {new.shape}")
        return arrays

    def count_params(self):
        return int(sum(w.size for w in self.weights))

    # ---- the contract -------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for an input of ``input_shape`` (batch dimension included)."""
        self.input_shape = input_shape if isinstance(input_shape, list) else tuple(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def forward(self, x, training=False):
        """y = f(x); every layer class defines its own."""
        raise TypeError(f"{type(self).__name__} does not define forward()")

    def backward(self, dy):
        """dL/dx from dL/dy; every layer class defines its own."""
        raise TypeError(f"{type(self).__name__} does not define backward()")

    def __call__(self, inputs, training=False):
        if _is_symbolic(inputs):
            from ..models.graph import call_symbolic
            return call_symbolic(self, inputs)
        if isinstance(inputs, (list, tuple)):
            inputs = [self._as_array(x) for x in inputs]
            shape = [(None,) + x.shape[1:] for x in inputs]
        else:
            inputs = self._as_array(inputs)
            shape = (None,) + inputs.shape[1:]
        if not self.built:
            self.build(shape)
        return self.forward(inputs, training=training)

    def _as_array(self, x):
        x = np.asarray(x)
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    # ---- checks shared by the layers ------------------------------------------------
    def check_rank(self, shape, ndim=4, what="(N, H, W, C)"):
        """Raise a ValueError naming this layer if ``shape`` (an input's shape) is not of rank ``ndim``."""
        if len(shape) != ndim:
            raise ValueError(f"{self.name}: expected input of rank {ndim} {what}, "
                             f"got shape {tuple(shape)}")

    def check_input(self, x, ndim, what="(N, H, W, C)", channels=None):
        """Raise a ValueError naming this layer if ``x`` has the wrong rank or channel count."""
        self.check_rank(x.shape, ndim, what)
        if channels is not None and x.shape[-1] != channels:
            raise ValueError(f"{self.name}: expected {channels} input channels (last axis), "
                             f"got shape {tuple(x.shape)}")

    # ---- graph view (set when the layer is called on symbolic tensors) ---------------
    def _first_node(self, what):
        if not self._inbound_nodes:
            raise ValueError(f"{self.name}: has no {what} yet: call it on a faltung.Input "
                             "(or build the model that contains it) first")
        return self._inbound_nodes[0]

    @property
    def input(self):
        """The symbolic input tensor(s) of the layer's first call in a model graph."""
        node = self._first_node("input")
        return list(node.inputs) if node.multi_input else node.inputs[0]

    @property
    def output(self):
        """The symbolic output tensor of the layer's first call (Keras's ``layer.output``)."""
        return self._first_node("output").output

    @property
    def output_shape(self):
        """Output shape with ``None`` batch: from the graph if wired, else from ``input_shape``."""
        if getattr(self, "_output_shape", None) is not None:
            return self._output_shape
        if self._inbound_nodes:
            return self._inbound_nodes[0].output.shape
        if self.input_shape is None:
            raise ValueError(f"{self.name}: output_shape is unknown until the layer is built")
        return tuple(self.compute_output_shape(self.input_shape))

    @output_shape.setter
    def output_shape(self, value):
        self._output_shape = value

    # ---- config ---------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(spec):
    """A layer from ``{"class_name": ..., "config": {...}}``; only registered faltung layers."""
    name = spec.get("class_name") if isinstance(spec, dict) else None
    if name not in Layer.registry:
        raise ValueError(f"unknown layer class {name!r}: expected one of {sorted(Layer.registry)}")
    return Layer.registry[name].from_config(dict(spec.get("config", {})))


def check_initializer(layer, identifier):
    """Fail at construction (naming the layer) on an unknown initializer; return it unchanged."""
    from .. import initializers
    try:
        initializers.get(identifier)
    except ValueError as err:
        raise ValueError(f"{layer.name}: {err}") from None
    return identifier


def serialize_initializer(initializer):
    """Names stay names; initializer objects become ``{"class_name", "config"}`` dicts (JSON-safe)."""
    if isinstance(initializer, str):
        return initializer
    from .. import initializers
    return initializers.serialize(initializers.get(initializer))


def check_data_format(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer.name}: expected data_format 'channels_last' (faltung is NHWC), "
                         f"got {data_format!r}")
