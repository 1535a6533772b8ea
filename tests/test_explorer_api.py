"""The explorer's JSON API (FastAPI TestClient) and the neuron arithmetic behind it.

The arithmetic (faltung.explorer.inspect) is checked against the forward pass of the real
layers (the sum shown must give the value the network computed) and against patches cut
by hand from np.pad; the activations the API sends are checked against an independent
forward pass, ``faltung.Model(inputs, outputs=[every layer's output]).predict``.
"""
import argparse
import base64
import io
import json
import socket
import threading

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import faltung
from faltung.explorer import create_app
from faltung.explorer.command import add_arguments, load_model_and_info, run
from faltung.explorer.images import apply_preprocessing, fit_digit, image_shape
from faltung.explorer.inspect import explain_neuron
from faltung.explorer.trace import LayerGraph
from faltung.layers import (Add, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense, Dropout,
                            Flatten, GlobalAveragePooling2D, MaxPooling2D, ReLU)
from faltung.utils import set_random_seed

RUN_INFO = {"dataset": "mnist", "class_names": [f"digit {i}" for i in range(10)],
            "input_shape": [32, 32, 1], "outputs": "probabilities",
            "preprocessing": {"color_mode": "grayscale", "image_size": [28, 28],
                              "scale": 1 / 255, "pad": [[2, 2], [2, 2]]}}


def small_model():
    """Every layer kind the page explains, with 'same' padding, strides and odd sizes."""
    set_random_seed(3)
    model = faltung.Sequential([
        Conv2D(4, 5, activation="tanh", input_shape=(32, 32, 1)),
        MaxPooling2D(2),
        Conv2D(6, 3, strides=2, padding="same", activation="relu"),
        AveragePooling2D(3, strides=2, padding="same"),
        Flatten(),
        Dropout(0.3),
        Dense(16, activation="relu"),
        Dense(10, activation="softmax"),
    ], name="small")
    # larger biases than the zero default, so the bias term really matters in the sums
    for layer in model.layers:
        weights = layer.get_weights()
        if len(weights) == 2:
            layer.set_weights([weights[0] * 3, faltung.rng.generator().normal(0, 0.5, weights[1].shape)])
    return model


def png_data_url(array):
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def ring_digit(size=200):
    """A white ring on black, like a drawn 0."""
    yy, xx = np.mgrid[:size, :size]
    radius = np.hypot((yy - size / 2) / 1.3, xx - size / 2)
    return np.where(np.abs(radius - size / 4) < size / 25, 255, 0).astype(np.uint8)


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture
def client(model, shared_datasets, monkeypatch):
    monkeypatch.setenv("FALTUNG_DATA", str(shared_datasets))
    return TestClient(create_app(model, RUN_INFO))


def decode(activation):
    """The API's uint8 (C, H, W) encoding back to float (H, W, C) / (n,)."""
    q = np.frombuffer(base64.b64decode(activation["data"]), np.uint8).astype(np.float64)
    lo, hi = np.array(activation["lo"]), np.array(activation["hi"])
    planes = q.reshape(len(lo), -1) / 255 * (hi - lo)[:, None] + lo[:, None]
    shape = activation["shape"]
    if len(shape) == 3:
        return planes.reshape(shape[2], shape[0], shape[1]).transpose(1, 2, 0)
    return planes.reshape(shape)


# ---- the arithmetic ------------------------------------------------------------------------------
def every_position(shape, rng, count=25):
    """Corners (padding!) and random positions of an output of ``shape``."""
    corners = [tuple(0 if b == 0 else n - 1 for b, n in zip(bits, shape))
               for bits in np.ndindex(*(2,) * len(shape))]
    return corners + [tuple(int(rng.integers(n)) for n in shape) for _ in range(count)]


def test_every_neuron_sum_equals_the_forward_value(model):
    rng = np.random.default_rng(0)
    trace = LayerGraph(model).run(rng.random((32, 32, 1)).astype(np.float32))
    kinds = set()
    for layer, x, y in zip(model.layers, trace.inputs, trace.outputs):
        for position in every_position(y.shape, rng):
            ex = explain_neuron(layer, x, y, position)
            kinds.add(ex["kind"])
            assert ex["value"] == pytest.approx(float(y[position]))
            assert ex["result"] == pytest.approx(ex["value"], rel=1e-5, abs=1e-5), (layer.name, position)
            assert ex["matches"] is True
            if ex["kind"] in ("conv", "dense"):
                assert ex["z"] == pytest.approx(ex["total"] + ex["bias"], abs=1e-9)
            if ex["kind"] == "conv":
                assert ex["total"] == pytest.approx(sum(c["sum"] for c in ex["channels"]), abs=1e-9)
                for c in ex["channels"]:
                    assert c["sum"] == pytest.approx(np.sum(c["products"]), abs=1e-9)
                    np.testing.assert_allclose(c["products"], np.multiply(c["patch"], c["kernel"]))
    assert kinds == {"conv", "max_pool", "avg_pool", "flatten", "identity", "dense"}


def test_dilated_and_strided_same_convolutions_add_up():
    set_random_seed(9)
    for conv in (Conv2D(3, 3, dilation_rate=2, padding="same", input_shape=(7, 8, 2)),
                 Conv2D(3, (2, 4), strides=(3, 2), padding="same", activation="sigmoid", input_shape=(7, 8, 2))):
        model = faltung.Sequential([conv])
        conv.set_weights([conv.get_weights()[0], np.array([0.3, -0.2, 0.1], np.float32)])
        x = np.random.default_rng(10).normal(size=(7, 8, 2)).astype(np.float32)
        trace = LayerGraph(model).run(x)
        for position in np.ndindex(*trace.outputs[0].shape):
            ex = explain_neuron(conv, trace.inputs[0], trace.outputs[0], position)
            assert ex["result"] == pytest.approx(ex["value"], rel=1e-5, abs=1e-5), (conv.name, position)


def test_conv_patch_and_kernel_are_the_hand_cut_ones(model):
    """Stride 2, 'same' padding: the patch is x_padded[2i : 2i+3, 2j : 2j+3], TF's pad = total // 2."""
    rng = np.random.default_rng(1)
    trace = LayerGraph(model).run(rng.random((32, 32, 1)).astype(np.float32))
    layer, x = model.layers[2], trace.inputs[2]                # 14x14x4 -> 7x7x6, 3x3 stride 2 same
    total_pad = max((7 - 1) * 2 + 3 - 14, 0)                  # = 1: 0 before, 1 after
    padded = np.pad(x, ((total_pad // 2, total_pad - total_pad // 2),) * 2 + ((0, 0),))
    kernel = layer.get_weights()[0]
    for i, j, k in [(0, 0, 0), (6, 6, 5), (3, 2, 1)]:
        ex = explain_neuron(layer, x, trace.outputs[2], (i, j, k))
        for c, channel in enumerate(ex["channels"]):
            np.testing.assert_allclose(channel["patch"], padded[2 * i:2 * i + 3, 2 * j:2 * j + 3, c], rtol=1e-6)
            np.testing.assert_allclose(channel["kernel"], kernel[:, :, c, k], rtol=1e-6)
        assert ex["window"]["y0"] == 2 * i and ex["window"]["x1"] == 2 * j + 3


def test_pooling_winner_and_average_exclude_padding(model):
    rng = np.random.default_rng(2)
    trace = LayerGraph(model).run(rng.random((32, 32, 1)).astype(np.float32))
    max_ex = explain_neuron(model.layers[1], trace.inputs[1], trace.outputs[1], (3, 4, 2))
    r, c, ch = max_ex["winner_input"]
    assert trace.inputs[1][r, c, ch] == max_ex["value"] == trace.inputs[1][6:8, 8:10, 2].max()
    # 3x3 stride 2 'same' on 7x7: the last window hangs over the edge; Keras averages the inside only
    avg_ex = explain_neuron(model.layers[3], trace.inputs[3], trace.outputs[3], (3, 3, 0))
    assert avg_ex["count"] < 9
    inside = trace.inputs[3][5:7, 5:7, 0]
    assert avg_ex["count"] == inside.size
    assert avg_ex["result"] == pytest.approx(inside.mean(), rel=1e-5)


def test_dense_top_contributions_are_the_largest_and_the_rest_adds_up(model):
    rng = np.random.default_rng(3)
    trace = LayerGraph(model).run(rng.random((32, 32, 1)).astype(np.float32))
    layer, x = model.layers[6], trace.inputs[6]
    ex = explain_neuron(layer, x, trace.outputs[6], (5,))
    products = x.astype(np.float64) * layer.get_weights()[0][:, 5]
    expected_top = np.sort(np.abs(products))[::-1][:len(ex["top"])]
    np.testing.assert_allclose([abs(t["product"]) for t in ex["top"]], expected_top, rtol=1e-6)
    assert sum(t["product"] for t in ex["top"]) + ex["rest_sum"] == pytest.approx(ex["total"], abs=1e-9)


def test_functional_model_with_branches_batch_norm_and_global_pooling():
    set_random_seed(4)
    inputs = faltung.Input((9, 9, 2))
    a = Conv2D(3, 3, padding="same")(inputs)
    a = BatchNormalization()(a)
    a = ReLU()(a)
    b = Conv2D(3, 1)(inputs)
    merged = Add()([a, b])
    both = Concatenate()([merged, b])
    pooled = GlobalAveragePooling2D()(both)
    outputs = Dense(4, activation="softmax")(pooled)
    model = faltung.Model(inputs, outputs)
    norm = next(layer for layer in model.layers if type(layer).__name__ == "BatchNormalization")
    rng = np.random.default_rng(5)
    norm.set_weights([rng.normal(1, .2, 3), rng.normal(0, .2, 3), rng.normal(0, .2, 3), rng.uniform(.5, 2, 3)])
    graph = LayerGraph(model)
    names = [type(layer).__name__ for layer in graph.layers]
    assert names[-4:] == ["Add", "Concatenate", "GlobalAveragePooling2D", "Dense"]
    add = names.index("Add")
    assert len(graph.sources[add]) == 2 and graph.producers[add] is None
    x = rng.random((9, 9, 2)).astype(np.float32)
    trace = graph.run(x)
    np.testing.assert_allclose(trace.outputs[-1], model.predict(x[None], verbose=0)[0], rtol=1e-5)
    kinds = set()
    for layer, x_in, y in zip(graph.layers, trace.inputs, trace.outputs):
        for position in every_position(y.shape, rng, count=5):
            ex = explain_neuron(layer, x_in, y, position)
            kinds.add(ex["kind"])
            assert ex["result"] == pytest.approx(ex["value"], rel=1e-5, abs=1e-5), (layer.name, position)
    assert kinds == {"conv", "batch_norm", "activation", "add", "concatenate", "global_avg_pool", "dense"}
    ex = explain_neuron(graph.layers[add + 2], trace.inputs[add + 2], trace.outputs[add + 2], (2,))
    assert ex["result"] == pytest.approx(trace.inputs[add + 2][:, :, 2].mean(), rel=1e-5)


# ---- images --------------------------------------------------------------------------------------
def test_fit_digit_centres_by_mass_in_a_20_pixel_box():
    drawing = np.zeros((280, 280), np.float32)
    drawing[30:90, 200:215] = 255                                  # a thin bar in the top-right corner
    digit = fit_digit(drawing)
    rows, cols = np.nonzero(digit > 25)
    assert digit.shape == (28, 28) and rows.max() - rows.min() + 1 <= 20
    cy = (digit.sum(axis=1) @ np.arange(28)) / digit.sum()
    cx = (digit.sum(axis=0) @ np.arange(28)) / digit.sum()
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    np.testing.assert_allclose(fit_digit(255 - drawing), digit)    # dark ink on paper is inverted


def test_preprocessing_scales_then_pads_as_run_json_says():
    pixels = np.full((28, 28, 1), 255, np.float32)
    x = apply_preprocessing(pixels, RUN_INFO["preprocessing"])
    assert x.shape == (32, 32, 1) and x[0, 0, 0] == 0 and x[2, 2, 0] == pytest.approx(1.0)
    assert image_shape((32, 32, 1), RUN_INFO["preprocessing"]) == (28, 28, 1)


# ---- the endpoints -------------------------------------------------------------------------------
def test_model_endpoint_describes_the_architecture(client, model):
    info = client.get("/api/model").json()
    assert [layer["name"] for layer in info["layers"]] == [layer.name for layer in model.layers]
    assert [layer["output_shape"] for layer in info["layers"]] == [
        [28, 28, 4], [14, 14, 4], [7, 7, 6], [4, 4, 6], [96], [96], [16], [10]]
    assert info["params"] == model.count_params()
    assert info["layers"][2]["strides"] == [2, 2] and info["layers"][2]["padding"] == "same"
    assert info["class_names"] == RUN_INFO["class_names"]
    assert info["input_shape"] == [32, 32, 1] and info["image_shape"] == [28, 28, 1]
    assert info["samples_available"] is True


def test_predict_pixels_matches_an_independent_forward_pass(client, model):
    rng = np.random.default_rng(6)
    pixels = rng.integers(0, 256, (28, 28))
    body = client.post("/api/predict", json={"pixels": pixels.tolist()}).json()
    x = np.pad(pixels[:, :, None] / 255.0, ((2, 2), (2, 2), (0, 0))).astype(np.float32)
    every_layer = faltung.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    expected = every_layer.predict(x[None], verbose=0)
    for sent, y in zip(body["layers"], expected):
        y = y[0]
        tolerance = (y.max() - y.min()) / 255 / 2 + 1e-6           # uint8 quantisation
        np.testing.assert_allclose(decode(sent), y, atol=tolerance)
    np.testing.assert_allclose(body["probabilities"], expected[-1][0], rtol=1e-5)
    assert body["top_class"] == int(np.argmax(expected[-1][0]))
    assert body["top_name"] == RUN_INFO["class_names"][body["top_class"]]
    np.testing.assert_allclose(decode(body["input"])[2:30, 2:30, 0], pixels, atol=1)   # padded input
    assert body["elapsed_ms"] > 0


def test_predict_image_upload_and_sample(client):
    ring = ring_digit()
    drawn = client.post("/api/predict", json={"image": png_data_url(ring)})
    assert drawn.status_code == 200, drawn.text
    seen = decode(drawn.json()["input"])[:, :, 0]
    assert seen.shape == (32, 32) and seen[:2].max() == 0 and seen.max() > 200   # centred, padded
    files = {"file": ("ring.png", base64.b64decode(png_data_url(ring).split(",")[1]), "image/png")}
    uploaded = client.post("/api/upload", files=files)
    assert uploaded.status_code == 200
    np.testing.assert_allclose(uploaded.json()["probabilities"], drawn.json()["probabilities"], rtol=1e-6)
    sample = client.post("/api/predict", json={"sample": 3})
    assert sample.status_code == 200
    samples = client.get("/api/samples", params={"n": 4, "offset": 2}).json()
    assert samples["count"] == 10000 and [s["index"] for s in samples["samples"]] == [2, 3, 4, 5]
    assert sample.json()["label"] == samples["samples"][1]["label"] == 0   # MNIST t10k #3 is a 0
    assert samples["samples"][0]["label_name"] == "digit 1"


def test_neuron_endpoint_uses_the_trace_it_is_given(client):
    first = client.post("/api/predict", json={"pixels": np.zeros((28, 28)).tolist()}).json()
    second = client.post("/api/predict", json={"image": png_data_url(ring_digit())}).json()
    for trace in (first, second):
        ex = client.post("/api/neuron", json={"layer": "conv2d", "position": [14, 9, 1],
                                              "trace_id": trace["trace_id"]}).json()
        assert ex["kind"] == "conv" and ex["matches"] is True
        assert ex["result"] == pytest.approx(ex["value"], rel=1e-5, abs=1e-6)
        assert ex["value"] == pytest.approx(decode(trace["layers"][0])[14, 9, 1],
                                            abs=(trace["layers"][0]["hi"][1] - trace["layers"][0]["lo"][1]) / 255)
    latest = client.post("/api/neuron", json={"layer": 7, "position": [4]}).json()
    assert latest["kind"] == "dense" and latest["activation"] == "softmax"
    assert latest["value"] == pytest.approx(second["probabilities"][4], rel=1e-6)


def test_filters_are_the_layer_weights(client, model):
    body = client.get(f"/api/filters/{model.layers[2].name}").json()
    kernel = np.frombuffer(base64.b64decode(body["kernel"]), "<f4").reshape(body["shape"])
    np.testing.assert_array_equal(kernel, model.layers[2].get_weights()[0])
    np.testing.assert_allclose(body["bias"], model.layers[2].get_weights()[1], rtol=1e-6)


def test_bad_requests_get_clear_4xx_and_the_server_keeps_serving(client, model):
    def check(response, status, words):
        assert response.status_code == status, response.text
        detail = json.dumps(response.json())
        assert all(w in detail for w in words), detail

    check(client.post("/api/predict", json={}), 422, ["exactly one of image, pixels, sample"])
    check(client.post("/api/predict", json={"pixels": [[0, 1], [2, 3]]}), 422, ["expected shape [28, 28, 1]"])
    check(client.post("/api/predict", json={"pixels": [["a"]]}), 422, ["pixels"])
    check(client.post("/api/predict", json={"image": "not base64!"}), 400, ["base64"])
    check(client.post("/api/predict", json={"image": base64.b64encode(b"hello").decode()}), 400,
          ["could not decode"])
    check(client.post("/api/predict", json={"sample": 10_000}), 422, ["0..9999"])
    check(client.post("/api/upload", files={"file": ("a.txt", b"plain text", "text/plain")}), 400,
          ["could not decode"])
    check(client.post("/api/upload", files={"file": ("big.png", b"\0" * (6 * 1024 * 1024), "image/png")}),
          413, ["at most"])
    huge = client.post("/api/upload", content=b"\0" * (50 * 1024 * 1024),
                       headers={"content-type": "application/octet-stream"})
    check(huge, 413, ["too large"])
    chunked = client.post("/api/predict", content=(b" " * 1024 * 1024 for _ in range(10)),
                          headers={"content-type": "application/json"})      # no Content-Length
    check(chunked, 413, ["too large"])
    small_chunked = client.post("/api/predict", content=iter([b'{"sample": ', b'1}']),
                                headers={"content-type": "application/json"})
    assert small_chunked.status_code == 200 and small_chunked.json()["label"] == 2
    check(client.post("/api/neuron", json={"layer": "nope", "position": [0]}), 404, ["unknown layer 'nope'"])
    check(client.post("/api/neuron", json={"layer": 0, "position": [28, 0, 0]}), 422, ["outside"])
    check(client.post("/api/neuron", json={"layer": 0, "position": [1, 2]}), 422, ["3 indices"])
    check(client.post("/api/neuron", json={"layer": 0, "position": [0, 0, 0], "trace_id": "zzz"}), 404,
          ["unknown trace_id"])
    check(client.get("/api/filters/dense"), 422, ["expected a Conv2D"])
    check(client.get("/api/filters/missing"), 404, ["unknown layer"])
    check(client.get("/api/samples", params={"n": 0}), 422, ["n"])
    good = client.post("/api/predict", json={"pixels": np.zeros((28, 28)).tolist()})
    assert good.status_code == 200 and len(good.json()["layers"]) == len(model.layers)


def test_samples_missing_dataset_is_a_404(model):
    client = TestClient(create_app(model, {"dataset": "no-such-set"}))
    assert client.get("/api/model").json()["samples_available"] is False
    response = client.get("/api/samples")
    assert response.status_code == 404 and "no-such-set" in response.json()["detail"]


def test_page_static_files_and_openapi(client):
    page = client.get("/")
    assert page.status_code == 200 and '<canvas id="pad"' in page.text
    for script in ("app.js", "net3d.js", "inspector.js", "style.css"):
        assert client.get(f"/static/{script}").status_code == 200
    spec = client.get("/openapi.json").json()
    for path in ("/api/model", "/api/predict", "/api/upload", "/api/neuron", "/api/filters/{layer}",
                 "/api/samples"):
        operation = next(iter(spec["paths"][path].values()))
        assert operation["summary"]
    assert client.get("/docs").status_code == 200
    reference = client.get("/reference")
    assert reference.status_code == 200 and "<script" not in reference.text    # offline: no CDN
    for text in ("/api/neuron", "The arithmetic of one neuron", "PredictRequest", "trace_id"):
        assert text in reference.text


def test_command_loads_a_run_directory(tmp_path, model):
    model.save(str(tmp_path / "model.faltung"))
    (tmp_path / "run.json").write_text(json.dumps({**RUN_INFO, "model_file": "model.faltung"}))
    loaded, info = load_model_and_info(str(tmp_path))
    assert info["class_names"] == RUN_INFO["class_names"]
    x = np.random.default_rng(7).random((1, 32, 32, 1)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    args = add_arguments(argparse.ArgumentParser()).parse_args([str(tmp_path / "missing"), "--no-browser"])
    assert (args.host, args.port, args.no_browser) == ("127.0.0.1", 8000, True)
    assert run(args) == 2                                          # a clear error, no server started
    with socket.socket() as taken:                                 # a port someone else listens on
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        args = add_arguments(argparse.ArgumentParser()).parse_args(
            [str(tmp_path), "--port", str(taken.getsockname()[1]), "--no-browser"])
        outcome = []
        worker = threading.Thread(target=lambda: outcome.append(run(args)), daemon=True)
        worker.start()
        worker.join(timeout=30)
        assert outcome == [1]


def test_predict_is_fast_enough_to_follow_the_pen():
    """< 100 ms per update (server side) for the shipped LeNet-5 and seed 000's MNIST CNN."""
    from faltung.applications.seeds import mnist_cnn
    drawing = png_data_url(ring_digit(280))
    for model, info in (load_model_and_info(None), (mnist_cnn(), {"input_shape": [28, 28, 1]})):
        client = TestClient(create_app(model, info))
        times = [client.post("/api/predict", json={"image": drawing}).json()["elapsed_ms"] for _ in range(9)]
        assert 0 < np.median(times) < 100, (model.name, times)


def test_input_field_is_exactly_what_the_neuron_depends_on(client, model):
    """Outside the reported receptive field the input can change freely; the neuron does not."""
    trace = client.post("/api/predict", json={"pixels": np.zeros((28, 28)).tolist()}).json()
    ex = client.post("/api/neuron", json={"layer": 2, "position": [1, 1, 0],
                                          "trace_id": trace["trace_id"]}).json()
    field = ex["input_field"]
    assert field == {"y0": 4, "y1": 14, "x0": 4, "x1": 14}   # 3x3/2 'same' <- pool 2 <- 5x5 valid
    graph = LayerGraph(model)
    rng = np.random.default_rng(8)
    x = rng.random((32, 32, 1)).astype(np.float32)
    outside = x.copy()
    mask = np.ones((32, 32), bool)
    mask[field["y0"]:field["y1"], field["x0"]:field["x1"]] = False
    outside[mask] = rng.random(int(mask.sum()))[:, None]
    assert graph.run(outside).outputs[2][1, 1, 0] == graph.run(x).outputs[2][1, 1, 0]
    inside = x.copy()
    inside[~mask] = rng.random(int((~mask).sum()))[:, None]   # inside the field it does matter
    assert not np.array_equal(graph.run(inside).outputs[2][1, 1], graph.run(x).outputs[2][1, 1])
    dense = client.post("/api/neuron", json={"layer": 6, "position": [0]}).json()
    assert dense["input_field"] is None


def test_undecodable_upload_names_the_expected_formats_not_a_python_object(client):
    response = client.post("/api/upload", files={"file": ("notes.txt", b"just text", "text/plain")})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "expected PNG, JPEG" in detail and "BytesIO" not in detail and "<" not in detail


def test_command_on_a_taken_port_says_so_in_one_line(tmp_path, model, capsys):
    model.save(str(tmp_path / "model.faltung"))
    (tmp_path / "run.json").write_text(json.dumps({**RUN_INFO, "model_file": "model.faltung"}))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = add_arguments(argparse.ArgumentParser()).parse_args([str(tmp_path), "--port", str(port),
                                                                    "--no-browser"])
        assert run(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"faltung explore: error: cannot serve on 127.0.0.1:{port}: the port is already in use "
                   "(choose another --port, or --port 0 for any free port)"]


def test_samples_of_an_image_folder_run_are_its_held_out_images(tmp_path, model):
    """A run trained on an image folder shows that folder's test split (as `faltung train` made it)."""
    from faltung.cli.data import load_folder
    for name, value in (("dark", 30), ("light", 220)):
        (tmp_path / "shapes" / name).mkdir(parents=True)
        for i in range(5):
            Image.new("L", (20 + 3 * i, 30), value + i).save(tmp_path / "shapes" / name / f"{i}.png")
    folder = str(tmp_path / "shapes")
    info = {**RUN_INFO, "dataset": folder, "test_split": 0.4, "seed": 5}
    client = TestClient(create_app(model, info))
    assert client.get("/api/model").json()["samples_available"] is True
    body = client.get("/api/samples", params={"n": 10}).json()
    _, (x_test, y_test), _ = load_folder(folder, [28, 28], "grayscale", validation_split=0.4, seed=5)
    assert body["count"] == len(y_test) == 4
    assert [s["label"] for s in body["samples"]] == y_test.tolist()
    first = client.post("/api/predict", json={"sample": 0}).json()
    drawn = client.post("/api/predict", json={"pixels": x_test[0].tolist()}).json()
    np.testing.assert_allclose(first["probabilities"], drawn["probabilities"], rtol=1e-6)
    missing = TestClient(create_app(model, {**info, "dataset": str(tmp_path / "gone")}))
    assert missing.get("/api/model").json()["samples_available"] is False
    detail = missing.get("/api/samples").json()["detail"]
    assert "expected mnist, fashion_mnist, cifar10 or an image folder" in detail
