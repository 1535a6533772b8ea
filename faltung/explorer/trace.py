"""Running a model on one image and keeping every layer's input and output.

``LayerGraph(model)`` reads the architecture (no fixed list of models): the layers in
order and, for each layer, which earlier layer (or the model input, -1) feeds it.
``graph.run(x)`` with x: (H, W, C) returns a ``Trace``: ``trace.inputs[i]`` and
``trace.outputs[i]`` are layer i's input (a list for Add/Concatenate) and output for that one
sample (no batch axis).
"""
import base64
import threading
from dataclasses import dataclass, field

import numpy as np

from ..ops.threads import num_threads
from .inspect import layer_kind


@dataclass
class Trace:
    """One forward pass: the model input and every layer's input and output (batch axis dropped)."""
    x: np.ndarray
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)


def _graph_nodes(model):
    """The model's computing nodes in order (functional graphs), or None for a plain chain."""
    outputs = getattr(model, "outputs", None)
    if not outputs or not all(getattr(t, "node", None) is not None for t in outputs):
        return None
    from ..models.graph import topological_nodes
    return [node for node in topological_nodes(list(outputs)) if node.inputs]


class LayerGraph:
    """The layers of a model in order, which layer feeds which (``sources[i]``: the indices of
    the layers whose outputs are layer i's inputs, -1 for the model input; ``producers[i]``:
    the one source, None for layers with several inputs), and a thread-safe traced forward pass."""

    def __init__(self, model):
        self.model = model
        self.nodes = _graph_nodes(model)
        if self.nodes is None:  # a chain of layers (Sequential)
            self.layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
            self.sources = [[i - 1] for i in range(len(self.layers))]
        else:
            self.layers = [node.layer for node in self.nodes]
            position = {id(node.output): i for i, node in enumerate(self.nodes)}
            self.sources = [[position.get(id(t), -1) for t in node.inputs] for node in self.nodes]
        # the single feeding layer, or None for layers with several inputs (Add, Concatenate)
        self.producers = [s[0] if len(s) == 1 else None for s in self.sources]
        if not self.layers:
            raise ValueError("explorer: expected a model with at least one layer, got none")
        self._lock = threading.Lock()

    def index_of(self, name_or_index):
        """A layer's index from its name or its index (ValueError if there is no such layer)."""
        if isinstance(name_or_index, int) or (isinstance(name_or_index, str) and name_or_index.isdigit()):
            index = int(name_or_index)
            if 0 <= index < len(self.layers):
                return index
        for index, layer in enumerate(self.layers):
            if layer.name == name_or_index:
                return index
        names = [layer.name for layer in self.layers]
        raise ValueError(f"unknown layer {name_or_index!r}: expected a name in {names} "
                         f"or an index 0..{len(names) - 1}")

    def run(self, x):
        """A ``Trace`` of one sample x: (H, W, C) (the model's input shape without the batch axis)."""
        batch = np.asarray(x, dtype=np.float32)[None]
        # one image = small matrix products: one BLAS thread is faster than several, and far
        # steadier on a busy machine (threads waiting for each other)
        with self._lock, num_threads(1):
            outputs = self._run_chain(batch) if self.nodes is None else self._run_nodes(batch)
        outputs = [np.asarray(y)[0] for y in outputs]
        def output_of(index):
            return batch[0] if index == -1 else outputs[index]
        inputs = [output_of(s[0]) if len(s) == 1 else [output_of(i) for i in s] for s in self.sources]
        return Trace(x=batch[0], inputs=inputs, outputs=outputs)

    def _run_chain(self, batch):
        outputs, current = [], batch
        for layer in self.layers:
            current = layer(current, training=False)
            outputs.append(current)
        return outputs

    def _run_nodes(self, batch):
        values, outputs = {}, []
        for node in self.nodes:
            args = [values.get(id(t), batch) for t in node.inputs]
            y = node.layer.forward(args if node.multi_input else args[0], training=False)
            values[id(node.output)] = y
            outputs.append(y)
        return outputs


def describe_layer(layer, index, input_shape, output_shape, producer, sources=None):
    """A JSON-ready summary of one layer (type, shapes, parameters, hyper-parameters)."""
    info = {"index": index, "name": layer.name, "type": type(layer).__name__, "kind": layer_kind(layer),
            "input_shape": None if input_shape is None else list(input_shape),
            "output_shape": list(output_shape), "params": int(layer.count_params()),
            "input_layer": producer, "input_layers": list(sources or [producer])}
    activation = getattr(layer, "activation", None)
    if activation is not None:
        info["activation"] = getattr(activation, "name", str(activation))
    for attribute in ("filters", "units", "kernel_size", "strides", "padding", "pool_size",
                      "dilation_rate", "rate"):
        value = getattr(layer, attribute, None)
        if value is not None and not callable(value):
            info[attribute] = list(value) if isinstance(value, tuple) else value
    return info


def encode_activation(y, exact_limit=4096):
    """One layer's output for the page: uint8-quantised per channel, base64.

    Feature maps (H, W, C) are sent channel-major (C, H, W); each channel c maps
    [lo[c], hi[c]] to 0..255, so value ≈ lo + q / 255 · (hi − lo). Vectors (n,) are one
    channel; vectors of up to ``exact_limit`` values also come as exact floats."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 3:
        planes = np.transpose(y, (2, 0, 1))
    else:
        planes = y.reshape(1, -1)
    flat = planes.reshape(planes.shape[0], -1)
    lo = flat.min(axis=1)
    hi = flat.max(axis=1)
    span = np.where(hi > lo, hi - lo, 1.0)
    quantised = np.round((flat - lo[:, None]) / span[:, None] * 255).astype(np.uint8)
    out = {"shape": list(y.shape), "lo": lo.tolist(), "hi": hi.tolist(),
           "data": base64.b64encode(quantised.tobytes()).decode("ascii"),
           "min": float(flat.min()), "max": float(flat.max())}
    if y.ndim != 3 and y.size <= exact_limit:
        out["values"] = y.reshape(-1).tolist()
    return out
