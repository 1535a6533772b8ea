"""Conv2D and Conv2DTranspose layers: gradients vs finite differences, Keras shapes/config, bad input."""
import json

import numpy as np
import pytest

from faltung.layers.base import deserialize, serialize
from faltung.layers.conv import Conv2D, Conv2DTranspose
from tests.gradcheck import check_layer_gradients


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _with_random_bias(layer, x):
    """Build the layer and give it a non-zero bias, so that the bias really takes part."""
    layer(x)
    if layer.use_bias:
        layer.bias[...] = _x(layer.bias.shape, 7)
    return layer


# ---- gradient checks (float64) --------------------------------------------------------------
CONV2D_CASES = [
    (dict(filters=2, kernel_size=3, strides=2, padding="same"), (2, 5, 5, 3)),
    (dict(filters=3, kernel_size=(2, 3), strides=3, padding="valid", activation="relu"), (2, 7, 8, 2)),
    (dict(filters=2, kernel_size=(3, 2), dilation_rate=(2, 1), padding="same", activation="tanh"), (1, 6, 5, 2)),
    (dict(filters=2, kernel_size=3, padding="valid", activation="sigmoid", use_bias=False), (2, 5, 4, 3)),
    (dict(filters=3, kernel_size=3, strides=(1, 2), padding="SAME", activation="elu"), (1, 5, 6, 3)),
    (dict(filters=2, kernel_size=1, activation="softplus"), (2, 3, 4, 3)),
    (dict(filters=3, kernel_size=3, padding="same", activation="relu", use_bias=False), (2, 5, 4, 2)),
]


@pytest.mark.parametrize("kwargs, x_shape", CONV2D_CASES)
def test_conv2d_gradients(kwargs, x_shape):
    x = _x(x_shape)
    layer = _with_random_bias(Conv2D(dtype="float64", **kwargs), x)
    check_layer_gradients(layer, x)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_gradients_in_training_through_winograd_and_its_relu(padding):
    """16 channels, stride 1, 3x3, training: the Winograd path, the ReLU's backward inside its kernels."""
    x = _x((1, 6, 7, 16))
    layer = _with_random_bias(Conv2D(16, 3, padding=padding, activation="relu", dtype="float64"), x)
    layer.forward(x, training=True)
    assert type(layer.cache[0][1]).__name__ == "Transformed"
    check_layer_gradients(layer, x, training=True)


TRANSPOSE_CASES = [
    (dict(filters=2, kernel_size=3, strides=2, padding="valid"), (2, 3, 3, 2)),
    (dict(filters=2, kernel_size=(2, 3), strides=3, padding="same", activation="relu"), (1, 3, 2, 3)),
    (dict(filters=3, kernel_size=3, strides=2, padding="same", output_padding=1, activation="tanh"), (2, 3, 2, 2)),
    (dict(filters=2, kernel_size=(3, 2), dilation_rate=(1, 2), padding="same"), (1, 4, 3, 2)),
    (dict(filters=2, kernel_size=2, strides=(2, 3), use_bias=False, activation="sigmoid"), (2, 2, 3, 2)),
]


@pytest.mark.parametrize("kwargs, x_shape", TRANSPOSE_CASES)
def test_conv2d_transpose_gradients(kwargs, x_shape):
    x = _x(x_shape)
    layer = _with_random_bias(Conv2DTranspose(dtype="float64", **kwargs), x)
    check_layer_gradients(layer, x)


def test_backward_is_backward_linear_of_the_activation_gradient():
    x = _x((2, 5, 5, 3))
    layer = _with_random_bias(Conv2D(4, 3, activation="tanh", dtype="float64"), x)
    y = layer.forward(x)
    dy = _x(y.shape, 3)
    dx = layer.backward(dy)
    grads = [g.copy() for g in layer.gradients]
    dx_linear = layer.backward_linear(dy * (1 - y * y))  # tanh' = 1 - tanh²
    assert np.allclose(dx, dx_linear) and all(np.allclose(a, b) for a, b in zip(grads, layer.gradients))


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_relu_backward_inside_the_winograd_kernels_equals_the_separate_passes(padding, monkeypatch):
    """A stride-1 3x3 Conv2D with ReLU and 16+ channels runs Winograd: its backward hands dY and y to
    the kernels, which take dY through the ReLU as they read it (no dZ array, db on the way): the
    numbers of dZ = dY [y > 0] made first."""
    from faltung.ops import winograd
    seen = []
    original = winograd.backward
    monkeypatch.setattr(winograd, "backward",
                        lambda *args, **kwargs: seen.append("relu_output" in kwargs) or original(*args, **kwargs))
    x = _x((2, 9, 7, 16))
    layer = _with_random_bias(Conv2D(24, 3, padding=padding, activation="relu", dtype="float64"), x)
    y = layer.forward(x, training=True)
    assert 0.2 < (y > 0).mean() < 0.8
    dy = _x(y.shape, 3)
    dx = layer.backward(dy)
    grads = [g.copy() for g in layer.gradients]
    assert seen == [True]
    dx_separate = layer.backward_linear(dy * (y > 0))
    assert seen == [True, False]
    for got, want in zip([dx] + grads, [dx_separate] + layer.gradients):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())


# ---- Keras shapes, weights, names ---------------------------------------------------------------
def test_weight_layouts_and_parameter_counts_match_keras():
    conv = Conv2D(32, (3, 3), padding="same")
    conv.build((None, 32, 32, 3))
    assert [w.shape for w in conv.get_weights()] == [(3, 3, 3, 32), (32,)]
    assert conv.count_params() == 896  # 3*3*3*32 + 32, the first layer of seed 004's CIFAR model
    assert conv.name == "conv2d" and conv.weight_names == ["conv2d/kernel", "conv2d/bias"]
    transpose = Conv2DTranspose(16, 3)
    transpose.build((None, 8, 8, 8))
    assert [w.shape for w in transpose.get_weights()] == [(3, 3, 16, 8), (16,)]
    assert transpose.name == "conv2d_transpose" and transpose.count_params() == 3 * 3 * 16 * 8 + 16
    assert np.all(conv.bias == 0) and 0 < np.abs(conv.kernel).max() <= np.sqrt(6 / (27 + 288))


@pytest.mark.parametrize("layer, input_shape, expected", [
    (Conv2D(4, 3), (None, 7, 8, 3), (None, 5, 6, 4)),
    (Conv2D(4, 3, strides=2, padding="same"), (None, 7, 8, 3), (None, 4, 4, 4)),
    (Conv2D(4, (3, 5), strides=3, dilation_rate=1), (None, 10, 11, 3), (None, 3, 3, 4)),
    (Conv2D(4, 3, dilation_rate=2), (None, 9, None, 3), (None, 5, None, 4)),
    (Conv2DTranspose(2, 3, strides=2), (None, 4, 5, 3), (None, 9, 11, 2)),
    (Conv2DTranspose(2, 2, strides=3), (None, 4, 5, 3), (None, 12, 15, 2)),
    (Conv2DTranspose(2, 3, strides=2, padding="same"), (None, 4, 5, 3), (None, 8, 10, 2)),
    (Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=(1, 0)), (None, 4, 4, 3), (None, 8, 7, 2)),
])
def test_output_shapes(layer, input_shape, expected):
    assert layer.compute_output_shape(input_shape) == expected
    if None not in input_shape[1:]:
        y = layer(np.zeros((2,) + input_shape[1:], np.float32))
        assert y.shape == (2,) + expected[1:] and y.dtype == np.float32


def test_float32_layer_keeps_float32_in_the_backward():
    x = _x((2, 6, 6, 3)).astype(np.float32)
    for layer in (Conv2D(4, 3, strides=2, padding="same", activation="relu"), Conv2DTranspose(4, 3, strides=2)):
        y = layer(x)
        dx = layer.backward(np.ones_like(y))
        assert y.dtype == dx.dtype == np.float32
        assert [g.dtype for g in layer.gradients] == [np.float32, np.float32]


def test_frozen_layer_reports_no_gradients():
    layer = Conv2D(2, 3, trainable=False)
    y = layer(np.ones((1, 4, 4, 1), np.float32))
    layer.backward(np.ones_like(y))
    assert layer.gradients == []


@pytest.mark.parametrize("layer", [
    Conv2D(8, (3, 2), strides=(2, 1), padding="same", dilation_rate=(1, 1), activation="relu",
           use_bias=False, kernel_initializer="he_normal", name="features"),
    Conv2DTranspose(3, 4, strides=2, padding="same", output_padding=1, activation="sigmoid",
                    bias_initializer="ones"),
])
def test_config_round_trip(layer):
    config = json.loads(json.dumps(serialize(layer)))  # must survive JSON
    clone = deserialize(config)
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    x = _x((2, 6, 6, 2)).astype(np.float32)
    layer(x)
    clone.build((None, 6, 6, 2))
    clone.set_weights(layer.get_weights())
    assert np.array_equal(clone.forward(x), layer.forward(x))


# ---- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(filters=0, kernel_size=3), r"conv2d: expected filters to be a positive int, got 0"),
    (dict(filters=-2, kernel_size=3), r"conv2d: expected filters"),
    (dict(filters=2, kernel_size=0), r"conv2d: expected kernel_size as 2 positive ints, got \(0, 0\)"),
    (dict(filters=2, kernel_size=(3, -1)), r"conv2d: expected kernel_size"),
    (dict(filters=2, kernel_size=3, strides=0), r"conv2d: expected strides"),
    (dict(filters=2, kernel_size=3, dilation_rate=(1, 0)), r"conv2d: expected dilation_rate"),
    (dict(filters=2, kernel_size=3, padding="full"), r"conv2d: expected padding to be one of .*got 'full'"),
    (dict(filters=2, kernel_size=3, activation="relux"), r"conv2d: unknown activation 'relux'"),
])
def test_conv2d_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv2D(**kwargs)


def test_conv2d_transpose_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"conv2d_transpose: expected filters"):
        Conv2DTranspose(0, 3)
    with pytest.raises(ValueError, match=r"up: expected output_padding .* got \(2, 2\)"):
        Conv2DTranspose(2, 3, strides=2, output_padding=2, name="up")
    with pytest.raises(ValueError, match=r"up2: expected padding"):
        Conv2DTranspose(2, 3, padding="causal", name="up2")


def test_bad_inputs_name_the_layer():
    layer = Conv2D(2, 3, name="edges")
    with pytest.raises(ValueError, match=r"edges: expected input of rank 4 \(N, H, W, C\), got shape \(None, 5, 3\)"):
        layer(np.zeros((5, 5, 3)))
    layer(np.zeros((1, 5, 5, 3)))
    with pytest.raises(ValueError, match=r"edges: expected 3 input channels .*got shape \(1, 5, 5, 4\)"):
        layer(np.zeros((1, 5, 5, 4)))
    with pytest.raises(ValueError, match=r"edges: expected input height and width of at least the kernel "
                                         r"size \(3, 3\) with padding='valid', got \(2, 5\)"):
        layer(np.zeros((1, 2, 5, 3)))
    with pytest.raises(ValueError, match=r"conv2d: expected input height and width .*got \(5, 4\)"):
        Conv2D(2, 5, dilation_rate=(1, 2)).build((None, 5, 4, 1))
    transpose = Conv2DTranspose(2, 3, name="up")
    transpose(np.zeros((1, 3, 3, 4)))
    with pytest.raises(ValueError, match=r"up: expected 4 input channels"):
        transpose(np.zeros((1, 3, 3, 2)))
    with pytest.raises(ValueError, match=r"up: expected input of rank 4"):
        transpose.compute_output_shape((None, 3, 3))


def test_layers_run_on_the_reference_kernels_too():
    from faltung import config
    x = _x((2, 5, 4, 2))
    with config.use_implementation("reference"):
        check_layer_gradients(_with_random_bias(Conv2D(2, 3, strides=2, padding="same", activation="tanh",
                                                       dtype="float64"), x), x)
        check_layer_gradients(_with_random_bias(Conv2DTranspose(2, (2, 3), strides=2, dtype="float64"), x), x)
