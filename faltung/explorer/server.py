"""The explorer's web server: ``create_app(model, run_info)`` returns a FastAPI app.

GET  /                     the page (static/index.html)
GET  /api/model            the architecture: layers, kinds, shapes, parameters, class names
POST /api/predict          an image (drawing, pixels or a test sample) -> every layer's activations
POST /api/upload           the same for an uploaded image file (at most 5 MB)
POST /api/neuron           (layer, position) -> the arithmetic of that one neuron
GET  /api/filters/{layer}  a conv layer's kernel and bias
GET  /api/samples          test images of the run's data set
The OpenAPI description is at /openapi.json, the interactive one at /docs.
"""
import base64
import collections
import contextlib
import threading
import time
import uuid
from pathlib import Path

import numpy as np
from fastapi import FastAPI, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from . import images
from .inspect import explain_neuron
from .limits import MAX_UPLOAD_BYTES, BodyLimitMiddleware
from .samples import SampleSource
from .schemas import (FiltersResponse, ModelInfo, NeuronExplanation, NeuronRequest, PredictRequest,
                      PredictResponse, SamplesResponse)
from .trace import LayerGraph, describe_layer, encode_activation

STATIC_DIR = Path(__file__).resolve().parent / "static"
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
        self.samples = SampleSource(self.run_info.get("dataset"))
        self.traces = collections.OrderedDict()
        self._lock = threading.Lock()
        blank = self.run(np.zeros(self.image_shape, np.float32))
        self.output_shapes = [list(y.shape) for y in blank["trace"].outputs]
        count = int(np.prod(self.output_shapes[-1]))
        names = self.run_info.get("class_names") or []
        if len(names) != max(count, 2):
            names = [str(i) for i in range(max(count, 2))]
        self.class_names = [str(n) for n in names]

    def run(self, pixels):
        """Forward ``pixels`` (h, w, C in 0..255, image_shape); remember the trace; return it with its id."""
        x = images.apply_preprocessing(pixels, self.preprocessing)
        trace = self.graph.run(x)
        trace_id = uuid.uuid4().hex[:12]
        with self._lock:
            self.traces[trace_id] = (pixels, trace)
            while len(self.traces) > KEPT_TRACES:
                self.traces.popitem(last=False)
        return {"trace_id": trace_id, "trace": trace, "pixels": pixels}

    def trace(self, trace_id):
        with self._lock:
            if trace_id is None:
                return next(reversed(self.traces.values()))[1]
            if trace_id not in self.traces:
                raise HTTPException(404, f"unknown trace_id {trace_id!r}: expected one from a recent "
                                         f"POST /api/predict (the server keeps the last {KEPT_TRACES})")
            return self.traces[trace_id][1]

    def describe(self):
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
        result = self.run(pixels)
        outputs = result["trace"].outputs
        probabilities = _probabilities(self.graph, outputs[-1], self.run_info.get("outputs"))
        top = int(np.argmax(probabilities))
        seen = images.display_pixels(result["trace"].x, self.preprocessing)
        return {"trace_id": result["trace_id"], "input": encode_activation(seen),
                "input_png": images.array_to_png_url(seen),
                "layers": [encode_activation(y) for y in outputs], "probabilities": probabilities,
                "top_class": top, "top_name": self.class_names[top], "label": label,
                "elapsed_ms": (time.perf_counter() - started) * 1000}


@contextlib.contextmanager
def _bad_request(status):
    """Turn a ValueError from decoding or checking into an HTTP error with its message."""
    try:
        yield
    except ValueError as error:
        raise HTTPException(status, str(error)) from None


def create_app(model, run_info=None):
    """The explorer app for a built ``model``; ``run_info``: run.json's dict (dataset, class_names,
    input_shape, preprocessing) or None."""
    state = Explorer(model, run_info)
    app = FastAPI(title="faltung explorer", version="1",
                  description="A trained CNN computing live: every layer's activations for an image, "
                              "and the arithmetic of any neuron.")
    app.add_middleware(BodyLimitMiddleware)
    app.state.explorer = state
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/api/model", response_model=ModelInfo, summary="The architecture",
             description="Layers in order with type, kind, input/output shapes (no batch axis), "
                         "parameter counts and hyper-parameters; class names; the data set.")
    def get_model():
        return state.describe()

    @app.post("/api/predict", response_model=PredictResponse, summary="Run the network on an image",
              description="Give exactly one of `image` (data URL / base64 PNG or JPEG), `pixels` "
                          "((H, W) or (H, W, C) in 0..255) or `sample` (test image index). Returns "
                          "every layer's output and the class probabilities.",
              responses={400: {"description": "not an image"}, 413: {"description": "too large"},
                         422: {"description": "wrong shape or not exactly one input"}})
    def predict(request: PredictRequest):
        started = time.perf_counter()
        given = [k for k in ("image", "pixels", "sample") if getattr(request, k) is not None]
        if len(given) != 1:
            raise HTTPException(422, f"predict: expected exactly one of image, pixels, sample; "
                                     f"got {given or 'none'}")
        label = None
        if request.image is not None:
            with _bad_request(400):
                image = images.decode_image(images.decode_data_url(request.image))
            with _bad_request(422):
                pixels = images.image_to_input(image, state.image_shape, request.fit)
        elif request.pixels is not None:
            with _bad_request(422):
                pixels = images.array_to_input(request.pixels, state.image_shape)
        else:
            pixels, label = _sample(state, request.sample)
        return state.predict_response(pixels, started, label)

    @app.post("/api/upload", response_model=PredictResponse, summary="Run the network on an uploaded file",
              description=f"A multipart image file (PNG, JPEG, ...; at most {MAX_UPLOAD_BYTES} bytes), "
                          "scaled to the model's input as `fit` says.",
              responses={400: {"description": "not an image"}, 413: {"description": "too large"}})
    async def upload(file: UploadFile = File(...), fit: str = Form("auto")):
        started = time.perf_counter()
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"upload: expected at most {MAX_UPLOAD_BYTES} bytes")
        with _bad_request(400):
            image = images.decode_image(data)
        with _bad_request(422):
            pixels = images.image_to_input(image, state.image_shape, fit)
        return state.predict_response(pixels, started)

    @app.post("/api/neuron", response_model=NeuronExplanation, summary="The arithmetic of one neuron",
              description="Recomputes one output value of a layer from its weights and its cached "
                          "input: conv (patch, kernel, products, per-channel sums, bias, activation), "
                          "pooling (window, winner or mean), dense (strongest contributions).",
              responses={404: {"description": "unknown layer or trace"},
                         422: {"description": "position outside the layer's output"}})
    def neuron(request: NeuronRequest):
        with _bad_request(404):
            index = state.graph.index_of(request.layer)
        trace = state.trace(request.trace_id)
        with _bad_request(422):
            return explain_neuron(state.graph.layers[index], trace.inputs[index],
                                  trace.outputs[index], request.position)

    @app.get("/api/filters/{layer}", response_model=FiltersResponse, summary="A conv layer's filters",
             responses={404: {"description": "unknown layer"},
                        422: {"description": "not a convolution layer"}})
    def filters(layer: str):
        with _bad_request(404):
            index = state.graph.index_of(layer)
        target = state.graph.layers[index]
        if type(target).__name__ != "Conv2D":
            raise HTTPException(422, f"{target.name}: expected a Conv2D layer, got "
                                     f"{type(target).__name__}")
        weights = target.get_weights()
        kernel = np.ascontiguousarray(weights[0], dtype="<f4")
        bias = weights[1] if len(weights) > 1 else np.zeros(kernel.shape[-1])
        return {"layer": target.name, "shape": list(kernel.shape),
                "kernel": base64.b64encode(kernel.tobytes()).decode("ascii"),
                "bias": [float(b) for b in bias], "min": float(kernel.min()), "max": float(kernel.max())}

    @app.get("/api/samples", response_model=SamplesResponse, summary="Test images of the data set",
             responses={404: {"description": "no data set available for this model"}})
    def samples(n: int = Query(12, ge=1, le=100), offset: int = Query(0, ge=0)):
        with _bad_request(404):
            images_, labels = state.samples.load()
        stop = min(offset + n, len(images_))
        return {"dataset": str(state.samples.dataset), "count": len(images_),
                "samples": [{"index": i, "label": int(labels[i]),
                             "label_name": state.class_names[int(labels[i])]
                             if int(labels[i]) < len(state.class_names) else str(labels[i]),
                             "image": images.array_to_png_url(images_[i])}
                            for i in range(offset, stop)]}

    return app


def _sample(state, index):
    """(pixels (H, W, C) at the model's input size, label) of test image ``index``."""
    with _bad_request(404):
        images_, labels = state.samples.load()
    if not 0 <= index < len(images_):
        raise HTTPException(422, f"sample: expected an index in 0..{len(images_) - 1}, got {index}")
    pixels = images.fit_array(np.asarray(images_[index], np.float32), *state.image_shape[:2])
    if pixels.shape[2] != state.image_shape[2]:
        raise HTTPException(422, f"sample: the data set has {pixels.shape[2]} channels, the model "
                                 f"expects {state.image_shape[2]}")
    return pixels, int(labels[index])
