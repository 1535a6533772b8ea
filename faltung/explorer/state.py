"""The state behind the explorer app: the model, its recent traced forward passes, the samples.

``Explorer(model, run_info)`` knows the model's input shape (run.json's ``input_shape`` or the
model's own), the image size before run.json's padding, the class names, and keeps the last
``KEPT_TRACES`` forward passes so that /api/neuron can explain a neuron of any of them.
"""
import collections
import itertools
import threading
import time

import numpy as np

from . import images
from .inspect import field_in_input
from .samples import SampleSource
from .trace import LayerGraph, describe_layer, encode_activation

KEPT_TRACES = 32


def _model_input_shape(model, graph, run_info):
    """(H, W, C) from run.json, the model, or the first layer's build shape."""
    shape = (run_info or {}).get("input_shape")
    if shape is None:
        for candidate in (getattr(model, "input_shape", None),
                          getattr(graph.layers[0], "batch_input_shape", None),
                          getattr(graph.layers[0], "input_shape", None)):
            if isinstance(candidate, (list, tuple)) and len(candidate) >= 2 and candidate[0] is None:
                shape = candidate[1:]
                break
    if shape is None or len(shape) != 3:
        raise ValueError(f"explorer: expected a model with an image input (H, W, C), got input shape "
                         f"{shape!r}")
    return tuple(int(s) for s in shape)


def _probabilities(graph, output, kind=None):
    """The last layer's output as class probabilities (softmax applied if it ends in logits);
    ``kind``: run.json's ``outputs`` ("probabilities" or "logits") when known."""
    y = np.asarray(output, dtype=np.float64).reshape(-1)
    activation = getattr(getattr(graph.layers[-1], "activation", None), "name", None)
    if kind == "probabilities" and y.size > 1:
        return y.tolist()
    if y.size == 1:  # one sigmoid unit: P(class 1)
        p = y[0] if activation == "sigmoid" else 1 / (1 + np.exp(-y[0]))
        return [float(1 - p), float(p)]
    if activation == "softmax" or type(graph.layers[-1]).__name__ == "Softmax":
        return y.tolist()
    e = np.exp(y - y.max())
    return (e / e.sum()).tolist()


class Explorer:
    """The state behind the app: the model, its traced forward passes and the data set samples."""

    def __init__(self, model, run_info=None):
        self.model = model
        self.run_info = dict(run_info or {})
        self.graph = LayerGraph(model)
        self.input_shape = _model_input_shape(model, self.graph, self.run_info)
        self.preprocessing = self.run_info.get("preprocessing")
        self.image_shape = images.image_shape(self.input_shape, self.preprocessing)
        self.samples = SampleSource(self.run_info.get("dataset"), self.run_info)
        self.traces = collections.OrderedDict()
        self._lock = threading.Lock()
        self._trace_numbers = itertools.count(1)
        _, blank = self.run(np.zeros(self.image_shape, np.float32))
        self.output_shapes = [list(y.shape) for y in blank.outputs]
        count = int(np.prod(self.output_shapes[-1]))
        names = self.run_info.get("class_names") or []
        if len(names) != max(count, 2):
            names = [str(i) for i in range(max(count, 2))]
        self.class_names = [str(n) for n in names]

    def run(self, pixels):
        """Forward ``pixels`` (h, w, C in 0..255, image_shape); remember the trace.
        Returns (trace_id, trace)."""
        trace = self.graph.run(images.apply_preprocessing(pixels, self.preprocessing))
        with self._lock:
            trace_id = f"t{next(self._trace_numbers)}"
            self.traces[trace_id] = trace
            while len(self.traces) > KEPT_TRACES:
                self.traces.popitem(last=False)
        return trace_id, trace

    def trace(self, trace_id=None):
        """A recent trace by id (None: the latest); LookupError if it is not kept any more."""
        with self._lock:
            if trace_id is None:
                return next(reversed(self.traces.values()))
            if trace_id not in self.traces:
                raise LookupError(f"unknown trace_id {trace_id!r}: expected one from a recent "
                                  f"POST /api/predict (the server keeps the last {KEPT_TRACES})")
            return self.traces[trace_id]

    def input_field(self, index, ex):
        """The model-input region a conv/pooling neuron sees (its receptive field), or None."""
        if len(ex["position"]) != 3 or ex["kind"] not in ("conv", "max_pool", "avg_pool", "activation",
                                                           "batch_norm", "identity"):
            return None
        i, j = ex["position"][:2]
        graph = self.graph

        def input_hw_of(k):
            p = graph.producers[k]
            return self.input_shape[:2] if p == -1 else tuple(self.output_shapes[p][:2])
        return field_in_input(graph.layers, graph.producers, index,
                              {"y0": i, "y1": i + 1, "x0": j, "x1": j + 1}, input_hw_of)

    def describe(self):
        """/api/model's answer: the architecture as the page draws it."""
        graph = self.graph
        layers = [describe_layer(layer, i, None if p is None else
                                 (list(self.input_shape) if p == -1 else self.output_shapes[p]),
                                 self.output_shapes[i], p, graph.sources[i])
                  for i, (layer, p) in enumerate(zip(graph.layers, graph.producers))]
        return {"name": getattr(self.model, "name", "model"), "input_shape": list(self.input_shape),
                "image_shape": list(self.image_shape), "class_names": self.class_names,
                "dataset": self.run_info.get("dataset"),
                "preprocessing": self.preprocessing, "layers": layers,
                "params": int(sum(layer["params"] for layer in layers)),
                "samples_available": self.samples.available}

    def predict_response(self, pixels, started, label=None):
        """/api/predict's answer for ``pixels`` (h, w, C in 0..255); ``started``: perf_counter()
        when the request arrived."""
        trace_id, trace = self.run(pixels)
        outputs = trace.outputs
        probabilities = _probabilities(self.graph, outputs[-1], self.run_info.get("outputs"))
        top = int(np.argmax(probabilities))
        seen = images.display_pixels(trace.x, self.preprocessing)
        return {"trace_id": trace_id, "input": encode_activation(seen),
                "input_png": images.array_to_png_url(seen),
                "layers": [encode_activation(y) for y in outputs], "probabilities": probabilities,
                "top_class": top, "top_name": self.class_names[top], "label": label,
                "elapsed_ms": (time.perf_counter() - started) * 1000}
