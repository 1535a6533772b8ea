"""The explorer's web server: ``create_app(model, run_info)`` returns a FastAPI app.

GET  /                     the page (static/index.html)
GET  /api/model            the architecture: layers, kinds, shapes, parameters, class names
POST /api/predict          an image (drawing, pixels or a test sample) -> every layer's activations
POST /api/upload           the same for an uploaded image file (at most 5 MB)
POST /api/neuron           (layer, position) -> the arithmetic of that one neuron
GET  /api/filters/{layer}  a conv layer's kernel and bias
GET  /api/samples          test images of the run's data set
The OpenAPI description is at /openapi.json, the interactive one at /docs (Swagger UI, from a
CDN), an offline one at /reference.
"""
import base64
import contextlib
import time
from pathlib import Path

import numpy as np
from fastapi import FastAPI, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from . import images
from .inspect import explain_neuron
from .limits import MAX_UPLOAD_BYTES, BodyLimitMiddleware
from .reference import reference_html
from .schemas import (FiltersResponse, ModelInfo, NeuronExplanation, NeuronRequest, PredictRequest,
                      PredictResponse, SamplesResponse)
from .state import Explorer

STATIC_DIR = Path(__file__).resolve().parent / "static"


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

    @app.get("/reference", include_in_schema=False, response_class=HTMLResponse)
    def reference():
        return reference_html(app.openapi())

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
    def upload(file: UploadFile = File(...), fit: str = Form("auto")):
        started = time.perf_counter()
        data = file.file.read(MAX_UPLOAD_BYTES + 1)   # (a plain def runs in a worker thread)
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
        try:
            trace = state.trace(request.trace_id)
        except LookupError as error:
            raise HTTPException(404, str(error)) from None
        with _bad_request(422):
            ex = explain_neuron(state.graph.layers[index], trace.inputs[index],
                                trace.outputs[index], request.position)
        ex["input_field"] = state.input_field(index, ex)
        return ex

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
    """(pixels (h, w, C) at the model's image_shape, label) of test image ``index``."""
    with _bad_request(404):
        images_, labels = state.samples.load()
    if not 0 <= index < len(images_):
        raise HTTPException(422, f"sample: expected an index in 0..{len(images_) - 1}, got {index}")
    pixels = images.fit_array(np.asarray(images_[index], np.float32), *state.image_shape[:2])
    if pixels.shape[2] != state.image_shape[2]:
        raise HTTPException(422, f"sample: the data set has {pixels.shape[2]} channels, the model "
                                 f"expects {state.image_shape[2]}")
    return pixels, int(labels[index])
