"""Symbolic tensors and nodes: how a functional model remembers its wiring.

Calling a layer on a ``SymbolicTensor`` (``Conv2D(8, 3)(inputs)``) computes no
numbers: it records a ``Node`` (this layer, applied to these tensors) and returns a
new ``SymbolicTensor`` for the node's output, whose ``shape`` has ``None`` for the
batch dimension, as Keras's ``KerasTensor``. A ``Model(inputs, outputs)`` later
walks these nodes back from its outputs to find the layers and their order.
"""
import itertools

import numpy as np

_NODE_IDS = itertools.count()


class SymbolicTensor:
    """A placeholder for an array of ``shape`` (batch dimension ``None``) produced by ``node``."""

    _faltung_symbolic = True

    def __init__(self, shape, dtype, node=None, name=None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.name = name

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<SymbolicTensor shape={self.shape}, dtype={self.dtype.name}, name={self.name}>"


class Node:
    """One application of ``layer`` to ``inputs`` (a list of ``SymbolicTensor``) giving ``output``.

    ``multi_input`` says whether the layer was called on a list (``Concatenate``, ``Add``)
    and so takes and returns lists in forward/backward.
    """

    def __init__(self, layer, inputs, multi_input):
        self.id = next(_NODE_IDS)
        self.layer = layer
        self.inputs = list(inputs)
        self.multi_input = multi_input
        self.output = None

    @property
    def parents(self):
        return [t.node for t in self.inputs]

    def __repr__(self):
        return f"<Node {self.layer.name} #{self.id}>"


def _input_shapes(inputs, multi_input):
    shapes = [tuple(t.shape) for t in inputs]
    return shapes if multi_input else shapes[0]


def call_symbolic(layer, inputs):
    """Record ``layer(inputs)`` in the graph and return the output ``SymbolicTensor``.

    Builds the layer on the symbolic input shape if needed, so its weights exist
    (and ``count_params`` is known) as soon as the graph is wired, as in Keras.
    """
    multi_input = isinstance(inputs, (list, tuple))
    tensors = list(inputs) if multi_input else [inputs]
    for t in tensors:
        if not getattr(t, "_faltung_symbolic", False):
            raise ValueError(f"{layer.name}: expected symbolic tensors (from faltung.Input or "
                             f"another layer) when wiring a model, got {type(t).__name__}")
    shape = _input_shapes(tensors, multi_input)
    if not layer.built:
        layer.build(shape)
    output_shape = tuple(layer.compute_output_shape(shape))
    node = Node(layer, tensors, multi_input)
    node.output = SymbolicTensor(output_shape, layer.dtype, node, name=layer.name)
    layer._inbound_nodes.append(node)
    return node.output


def flatten_tensors(tensors, what):
    """``tensors`` (one or a list/tuple) as a list of ``SymbolicTensor``, or a ValueError."""
    items = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    if not items:
        raise ValueError(f"Model: expected at least one {what} tensor, got none")
    for t in items:
        if not getattr(t, "_faltung_symbolic", False):
            raise ValueError(f"Model: expected {what} to be symbolic tensors (from faltung.Input or "
                             f"a layer called on one), got {type(t).__name__}")
    return items


def topological_nodes(outputs):
    """The nodes that ``outputs`` depend on, each listed after all of its parents.

    An iterative depth-first search (deep networks need no recursion): a node is
    pushed once to visit its parents and once more to be emitted after them.
    """
    order, done = [], set()
    for tensor in outputs:
        stack = [(tensor.node, False)]
        while stack:
            node, parents_done = stack.pop()
            if node.id in done:
                continue
            if parents_done:
                done.add(node.id)
                order.append(node)
            else:
                stack.append((node, True))
                stack.extend((p, False) for p in reversed(node.parents) if p.id not in done)
    return order
