"""``Model(inputs, outputs)``: a directed acyclic graph of layers (Keras's functional API).

The forward pass runs the graph's nodes in topological order; the backward pass runs
them in reverse, summing the gradients that reach a tensor from several consumers
(a branch point) and the weight gradients of a layer used by several nodes (a
shared layer). Before each node's backward the layer's ``cache`` from *that* node's
forward is put back, so a shared layer differentiates each of its calls correctly.
"""
from ..layers.base import unique_name
from ..ops import memory, threads
from .graph import flatten_tensors, topological_nodes
from .training import TrainingMixin


class Model(TrainingMixin):
    """A model from symbolic ``inputs`` to ``outputs``: ``Model(inputs=x, outputs=y, name=None)``."""

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if kwargs:
            raise ValueError(f"Model: unrecognized keyword arguments {sorted(kwargs)}")
        if inputs is None or outputs is None:
            raise ValueError("Model: expected inputs= and outputs= (symbolic tensors from "
                             "faltung.Input and layers called on them), got "
                             f"inputs={inputs!r}, outputs={outputs!r}")
        self.name = name or unique_name("functional")
        self._init_training_state()
        self._init_graph(inputs, outputs)

    # ---- wiring ----------------------------------------------------------------------
    def _init_graph(self, inputs, outputs):
        self.inputs = flatten_tensors(inputs, "inputs")
        self.outputs = flatten_tensors(outputs, "outputs")
        self._nested_inputs = isinstance(inputs, (list, tuple))
        self._nested_outputs = isinstance(outputs, (list, tuple))
        input_ids = {t.node.id for t in self.inputs}
        for t in self.inputs:
            if t.node.inputs:
                raise ValueError(f"{self.name}: expected inputs to come from faltung.Input, got the "
                                 f"output of layer {t.node.layer.name!r}")
        nodes = topological_nodes(self.outputs)
        for node in nodes:
            if not node.inputs and node.id not in input_ids:
                raise ValueError(f"{self.name}: the outputs depend on input {node.layer.name!r}, "
                                 "which is not in inputs=")
        self._compute_nodes = [n for n in nodes if n.id not in input_ids]
        layers = [t.node.layer for t in self.inputs] + [n.layer for n in self._compute_nodes]
        self._all_layers = list(dict.fromkeys(layers))  # unique, first-use order
        names = [layer.name for layer in self._all_layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"{self.name}: expected unique layer names, got duplicates {duplicates}")
        self._node_caches = {}
        # the index of the last compute node that reads each node's output (to free it in inference)
        self._last_use = {p.id: index for index, node in enumerate(self._compute_nodes) for p in node.parents}
        self.built = True

    @property
    def layers(self):
        """The model's layers in the order they are computed (functional: InputLayers included)."""
        return list(self._all_layers)

    @property
    def input(self):
        return list(self.inputs) if self._nested_inputs else self.inputs[0]

    @property
    def output(self):
        return list(self.outputs) if self._nested_outputs else self.outputs[0]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes if self._nested_inputs else shapes[0]

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes if self._nested_outputs else shapes[0]

    def get_layer(self, name=None, index=None):
        """A layer by ``name`` or by position ``index`` in ``model.layers``."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"{self.name}: expected a layer index below {len(layers)}, got {index}")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{self.name}: no layer named {name!r}; layers are "
                         f"{[layer.name for layer in layers]}")

    # ---- weights -------------------------------------------------------------------------
    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    @property
    def trainable(self):
        """False when every layer is frozen; setting it freezes/unfreezes all layers (recompile after)."""
        return any(layer.trainable for layer in self.layers)

    @trainable.setter
    def trainable(self, value):
        for layer in self.layers:
            layer.trainable = bool(value)

    def get_weights(self):
        """Copies of every weight array, layer by layer in ``model.layers`` order."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrite every weight (in place) from a list as ``get_weights()`` returns it."""
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"{self.name}: expected a list of {expected} weight arrays, "
                             f"got {len(weights)}")
        per_layer, start = [], 0
        for layer in self.layers:  # check every shape first: a mistake changes no weight
            n = len(layer.weights)
            per_layer.append(layer._checked_weights(weights[start:start + n]))
            start += n
        for layer, arrays in zip(self.layers, per_layer):
            layer.set_weights(arrays)

    def count_params(self):
        return int(sum(layer.count_params() for layer in self.layers))

    # ---- forward and backward over the graph --------------------------------------------
    def _forward(self, xs, training=False, keep_caches=False):
        """Run the graph on a list of input arrays; returns the list of output arrays.

        ``keep_caches=False`` (inference, no backward follows): each layer's cache and each
        intermediate output are let go as soon as nothing reads them any more, so the peak
        memory is about the largest layer's input and output, not every activation at once.
        """
        memory.keep_freed_memory()  # once per process: the next step reuses this step's pages
        threads.shorten_blas_wait()  # once per process: idle BLAS threads free the cores sooner
        values = {t.node.id: x for t, x in zip(self.inputs, xs)}
        output_ids = {t.node.id for t in self.outputs}
        self._node_caches = {}
        for index, node in enumerate(self._compute_nodes):
            args = [values[p.id] for p in node.parents]
            y = node.layer.forward(args if node.multi_input else args[0], training=training)
            values[node.id] = y
            if keep_caches:
                self._node_caches[node.id] = node.layer.cache
                continue
            node.layer.cache = None
            for parent in node.parents:
                if self._last_use[parent.id] == index and parent.id not in output_ids:
                    values.pop(parent.id, None)
            del args
        return [values[t.node.id] for t in self.outputs]

    def _backward(self, output_grads, fused_outputs=()):
        """Backpropagate ``output_grads`` (one per output) through the graph.

        ``fused_outputs``: indices of outputs whose gradient is dL/dz, the gradient with
        respect to the last layer's pre-activation (fused softmax + cross-entropy), so
        that node runs ``backward_linear``. Returns ``[(grad, weight), ...]`` for every
        trainable weight, gradients summed over all nodes of a shared layer.
        """
        pending = {}
        fused_ids = set()
        for i, (t, dy) in enumerate(zip(self.outputs, output_grads)):
            _accumulate(pending, t.node.id, dy)
            if i in fused_outputs:
                fused_ids.add(t.node.id)
        layer_grads = {}
        for node in reversed(self._compute_nodes):
            dy = pending.pop(node.id, None)
            if dy is None:
                continue
            layer = node.layer
            feeds_only_inputs = not any(parent.inputs for parent in node.parents)
            if feeds_only_inputs and not (layer.trainable and _trainable_slots(layer)):
                continue  # e.g. a leading Rescaling: nothing to learn, no one needs its dx
            layer.cache = self._node_caches.pop(node.id)
            dx = layer.backward_linear(dy) if node.id in fused_ids else layer.backward(dy)
            layer.cache = None  # this node's activations are spent: free them for the layers below
            self._collect_weight_grads(layer, layer_grads)
            dxs = dx if node.multi_input else [dx]
            for parent, g in zip(node.parents, dxs):
                if parent.inputs:  # no need to carry gradients into an InputLayer
                    _accumulate(pending, parent.id, g)
        self._node_caches = {}
        pairs = []
        for layer in self.layers:
            if layer.trainable and id(layer) in layer_grads:
                grads = layer_grads[id(layer)]
                layer.gradients = grads
                pairs.extend(zip(grads, _trainable_slots(layer)))
        return pairs

    @staticmethod
    def _collect_weight_grads(layer, layer_grads):
        if not _trainable_slots(layer):
            return
        grads = list(layer.gradients)
        if id(layer) in layer_grads:  # a shared layer: sum over its nodes
            layer_grads[id(layer)] = [a + g for a, g in zip(layer_grads[id(layer)], grads)]
        else:
            layer_grads[id(layer)] = grads

    def __call__(self, x, training=False):
        """Run the model on arrays (``model(x)``), as ``predict_on_batch`` without batching."""
        if getattr(x, "_faltung_symbolic", False) or (
                isinstance(x, (list, tuple)) and any(getattr(t, "_faltung_symbolic", False) for t in x)):
            raise ValueError(f"{self.name}: calling a model on symbolic tensors (nesting models) is "
                             "not supported; wire its layers directly instead")
        xs = self._standardize_x(x)
        outputs = self._forward(xs, training=training)
        return outputs if self._nested_outputs else outputs[0]

    def summary(self, line_length=None, print_fn=None, **kwargs):
        from .summary import print_summary
        print_summary(self, line_length=line_length, print_fn=print_fn)

    def save(self, filepath, overwrite=True, **kwargs):
        """Write architecture, weights, optimizer and compile state to one file (``.faltung``)."""
        from .saving import save_model
        save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        from .saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        from .saving import load_weights
        load_weights(self, filepath)

    def get_config(self):
        from .saving import model_config
        return model_config(self)

    @classmethod
    def from_config(cls, config):
        """A new (uncompiled, freshly initialised) model from ``get_config()``'s dict."""
        from .. import layers
        from .architecture import build_from_config
        layers.load_all()
        return build_from_config(config)

    def to_json(self, **kwargs):
        import json
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _trainable_slots(layer):
    """The weights that ``layer.gradients`` refers to, in order."""
    return [w for _, w, trainable in layer._weights if trainable]


def _accumulate(pending, key, grad):
    # never add in place: the array may be shared with a layer's cache or another branch
    pending[key] = grad if key not in pending else pending[key] + grad

