"""Dense, Flatten, Reshape, Dropout, Rescaling, ZeroPadding2D, Activation: gradients, references, errors."""
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faltung import activations, initializers, losses
from faltung.layers import (Activation, Dense, Dropout, Flatten, Layer, Rescaling, Reshape,
                            ZeroPadding2D, deserialize, serialize)
from faltung.utils import set_random_seed
from tests.gradcheck import assert_close, check_layer_gradients


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def roundtrip(layer):
    """Serialise and rebuild a layer; the rebuilt one must report the same config."""
    clone = deserialize(serialize(layer))
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()
    return clone


def defaults(cls):
    return {name: p.default for name, p in inspect.signature(cls).parameters.items()
            if p.default is not inspect.Parameter.empty}


def test_keras_default_arguments():
    assert defaults(Dense) == {"activation": None, "use_bias": True, "kernel_initializer": "glorot_uniform",
                               "bias_initializer": "zeros"}
    assert defaults(Dropout) == {"noise_shape": None, "seed": None}
    assert defaults(Rescaling) == {"offset": 0.0}
    assert defaults(ZeroPadding2D)["padding"] == (1, 1)


# ---- Dense ------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "softmax", "elu", "gelu"])
def test_dense_gradients(activation):
    layer = Dense(4, activation=activation, bias_initializer="random_normal", dtype="float64")
    check_layer_gradients(layer, rand(3, 5))
    assert [g.shape for g in layer.gradients] == [(5, 4), (4,)]


def test_dense_gradients_on_higher_rank_input_and_without_bias():
    layer = Dense(3, use_bias=False, dtype="float64")
    check_layer_gradients(layer, rand(2, 4, 5))
    assert len(layer.gradients) == 1 and layer.count_params() == 15


def test_dense_matches_torch_linear():
    layer = Dense(6, activation="tanh", bias_initializer=initializers.RandomNormal(stddev=0.5, seed=1))
    x = rand(4, 3, 7).astype(np.float32)
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (7, 6) and bias.shape == (6,) and y.dtype == np.float32
    expected = torch.tanh(F.linear(torch.tensor(x), torch.tensor(kernel.T), torch.tensor(bias)))
    assert_close(y, expected.numpy(), rtol=1e-5, atol=1e-6, what="dense")
    clone = roundtrip(layer)  # an initializer object survives the config as a dict
    clone.build((None, 3, 7))
    assert np.array_equal(clone.get_weights()[1], bias)  # same seeded initializer, same numbers


def test_dense_shapes_and_config():
    layer = Dense(10, activation="softmax")
    assert layer.compute_output_shape((None, 84)) == (None, 10)
    assert layer.compute_output_shape((None, 5, 84)) == (None, 5, 10)
    layer.build((None, 84))
    assert layer.count_params() == 84 * 10 + 10  # seed 000: LeNet output layer
    assert layer.weight_names == ["dense/kernel", "dense/bias"]
    roundtrip(layer)


def test_seed_001_head_shapes_and_parameter_counts():
    # seed 001's model summary: flatten_2 (None, 2304), dense_6 295040, dropout, dense_7 8256, dense_8 650
    shape = Flatten().compute_output_shape((None, 3, 3, 256))
    assert shape == (None, 2304)
    for layer, (out_shape, params) in zip(
            [Dense(128, activation="relu"), Dropout(0.5), Dense(64, activation="relu"), Dropout(0.5),
             Dense(10, activation="softmax")],
            [((None, 128), 295040), ((None, 128), 0), ((None, 64), 8256), ((None, 64), 0),
             ((None, 10), 650)]):
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
        assert (shape, layer.count_params()) == (out_shape, params)


def test_dense_keeps_preactivation_only_when_needed():
    relu = Dense(2, activation="relu", dtype="float64")
    relu(rand(3, 4))
    assert relu.cache[1] is None  # relu's derivative needs only y
    gelu = Dense(2, activation="gelu", dtype="float64")
    gelu(rand(3, 4))
    assert gelu.cache[1] is not None


def test_dense_softmax_backward_linear_takes_the_fused_cross_entropy_gradient():
    layer = Dense(4, activation="softmax", dtype="float64")
    x, labels = rand(5, 3), np.array([0, 3, 1, 1, 2])
    loss = losses.SparseCategoricalCrossentropy()
    probs = layer(x)
    dx_chain = layer.backward(loss.gradient(labels, probs))
    grads_chain = [g.copy() for g in layer.gradients]
    dx_fused = layer.backward_linear(loss.softmax_gradient(labels, probs))
    assert_close(dx_fused, dx_chain, rtol=1e-7, atol=1e-10, what="dx")
    for fused, chain in zip(layer.gradients, grads_chain):
        assert_close(fused, chain, rtol=1e-7, atol=1e-10, what="dw")


@pytest.mark.parametrize("units", [0, -3, 2.5, "8", True])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match="dense.*units"):
        Dense(units)


def test_dense_rejects_unknown_activation_and_wrong_input():
    with pytest.raises(ValueError, match="dense.*unknown activation 'relux'.*relu"):
        Dense(3, activation="relux")
    with pytest.raises(ValueError, match="dense.*unknown initializer 'glorot'.*glorot_uniform"):
        Dense(3, kernel_initializer="glorot")
    layer = Dense(3)
    layer(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"dense.*expected input of shape \(N, \.\.\., 4\).*\(2, 5\)"):
        layer(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"dense.*\(4,\)"):
        layer.forward(np.ones(4, dtype=np.float32))
    with pytest.raises(ValueError, match=r"dense.*\(N, \.\.\., 4\).*\(None, 7\)"):
        layer.compute_output_shape((None, 7))  # a built layer reused on another input
    with pytest.raises(ValueError, match=r"dense.*known last axis.*\(None, None\)"):
        Dense(2).build((None, None))


# ---- Flatten, Reshape --------------------------------------------------------------------
def test_flatten_forward_backward_and_shape():
    layer = Flatten(dtype="float64")
    x = rand(2, 3, 4, 5)
    y = layer(x)
    assert y.shape == (2, 60)
    assert_close(y, x.reshape(2, -1), what="flatten")
    check_layer_gradients(layer, rand(2, 2, 3, 2))
    assert layer.compute_output_shape((None, 7, 7, 64)) == (None, 3136)
    assert layer.compute_output_shape((None, None, 7, 64)) == (None, None)
    roundtrip(layer)


def test_reshape_infers_minus_one_and_has_gradients():
    layer = Reshape((-1, 3), dtype="float64")
    assert layer.compute_output_shape((None, 4, 3)) == (None, 4, 3)
    assert layer.compute_output_shape((None, 12)) == (None, 4, 3)
    assert layer(rand(2, 12)).shape == (2, 4, 3)
    check_layer_gradients(layer, rand(2, 6))
    assert Reshape((28, 28, 1)).compute_output_shape((None, 784)) == (None, 28, 28, 1)
    roundtrip(Reshape((2, -1)))


def test_reshape_errors():
    with pytest.raises(ValueError, match="reshape.*at most one -1"):
        Reshape((-1, -1))
    with pytest.raises(ValueError, match=r"reshape.*expected an input with 9 values.*\(3, 3\).*\(None, 10\)"):
        Reshape((3, 3)).compute_output_shape((None, 10))
    with pytest.raises(ValueError, match=r"reshape.*a multiple of 2 values.*\(-1, 2\).*\(2, 7\)"):
        Reshape((-1, 2))(np.ones((2, 7)))


# ---- Dropout -----------------------------------------------------------------------------
class FixedUniforms:
    """Stands in for a layer's generator so the Dropout mask is the same on every forward."""

    def __init__(self, values):
        self.values = values

    def random(self, shape, dtype=np.float64):
        assert tuple(shape) == self.values.shape
        return self.values


def test_dropout_gradients_with_a_fixed_mask():
    layer = Dropout(0.4, dtype="float64")
    x = rand(3, 5)
    layer._generator = FixedUniforms(np.random.default_rng(1).random(x.shape))
    check_layer_gradients(layer, x, training=True)
    y = layer(x, training=True)
    dx = layer.backward(np.ones_like(x))
    dropped = y == 0
    assert dropped.any() and (~dropped).any()
    assert np.all(dx[dropped] == 0) and np.allclose(dx[~dropped], 1 / 0.6)


def test_dropout_training_scales_kept_units_and_inference_is_identity():
    layer = Dropout(0.25, seed=3)
    x = np.ones((200, 50), dtype=np.float32)
    y = layer(x, training=True)
    assert y.dtype == np.float32
    kept = y != 0
    assert np.allclose(y[kept], 1 / 0.75)
    assert abs(1 - kept.mean() - 0.25) < 0.02  # 10,000 Bernoulli draws
    assert abs(y.mean() - 1) < 0.03            # inverted dropout keeps the expectation
    assert np.array_equal(layer(x, training=False), x)
    assert np.array_equal(layer.backward(x), x)


def test_dropout_is_deterministic_under_seeds():
    x = np.ones((4, 30), dtype=np.float32)
    assert np.array_equal(Dropout(0.5, seed=7)(x, training=True), Dropout(0.5, seed=7)(x, training=True))
    assert not np.array_equal(Dropout(0.5, seed=7)(x, training=True), Dropout(0.5, seed=8)(x, training=True))
    runs = []
    for _ in range(2):
        set_random_seed(42)
        layer = Dropout(0.5)
        runs.append([layer(x, training=True) for _ in range(3)])
    for a, b in zip(*runs):
        assert np.array_equal(a, b)
    assert not np.array_equal(runs[0][0], runs[0][1])  # a fresh mask every step


def test_dropout_noise_shape_drops_whole_channels():
    layer = Dropout(0.5, noise_shape=(None, 1, 1, 6), seed=0)
    y = layer(np.ones((3, 4, 4, 6)), training=True)
    assert np.all(y == y[:, :1, :1, :])   # constant over H and W
    assert roundtrip(layer).noise_shape == (None, 1, 1, 6)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5"])
def test_dropout_rejects_bad_rate(rate):
    with pytest.raises(ValueError, match=r"dropout.*rate in \[0, 1\)"):
        Dropout(rate)


# ---- Rescaling, Activation ------------------------------------------------------------------
def test_rescaling():
    layer = Rescaling(1.0 / 255, offset=-0.5, dtype="float64")
    x = np.array([[0.0, 255.0, 51.0]])
    assert_close(layer(x), [[-0.5, 0.5, -0.3]], what="rescaling")
    check_layer_gradients(layer, rand(2, 3))
    pixels = Rescaling(1.0 / 255)(np.array([[255]], dtype=np.uint8))
    assert pixels.dtype == np.float32 and pixels[0, 0] == 1.0
    roundtrip(layer)


@pytest.mark.parametrize("name", sorted(activations._BY_NAME))
def test_activation_layer_gradients(name):
    layer = Activation(name, dtype="float64")
    check_layer_gradients(layer, rand(3, 4) + 0.05)
    assert_close(layer.backward_linear(np.ones((3, 4))), np.ones((3, 4)), what="backward_linear")
    roundtrip(layer)


def test_activation_layer_errors():
    with pytest.raises(ValueError, match="activation.*unknown activation 'sigmod'"):
        Activation("sigmod")


# ---- ZeroPadding2D -----------------------------------------------------------------------
@pytest.mark.parametrize("padding, pads", [
    (2, ((2, 2), (2, 2))), ((1, 3), ((1, 1), (3, 3))), (((0, 1), (2, 0)), ((0, 1), (2, 0)))])
def test_zero_padding_matches_torch_pad(padding, pads):
    layer = ZeroPadding2D(padding, dtype="float64")
    assert layer.padding == pads
    x = rand(2, 3, 4, 2)
    (top, bottom), (left, right) = pads
    expected = F.pad(torch.tensor(x), (0, 0, left, right, top, bottom)).numpy()
    assert_close(layer(x), expected, what="zero padding")
    assert layer.compute_output_shape((None, 3, 4, 2)) == (None,) + expected.shape[1:]
    assert layer.compute_output_shape((None, None, 4, 2))[1] is None
    check_layer_gradients(layer, rand(1, 2, 3, 2))
    roundtrip(layer)


def test_zero_padding_errors():
    for bad in [-1, (1, 2, 3), ((1, 2), (3,)), "same", ((1, -1), (0, 0))]:
        with pytest.raises(ValueError, match="zero_padding2d.*padding"):
            ZeroPadding2D(bad)
    with pytest.raises(ValueError, match=r"zero_padding2d.*rank 4.*\(2, 3, 4\)"):
        ZeroPadding2D().forward(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"zero_padding2d.*rank 4.*\(None, 3, 4\)"):
        ZeroPadding2D()(np.ones((2, 3, 4)))


def test_every_core_layer_is_registered():
    for cls in (Dense, Flatten, Reshape, Dropout, Rescaling, ZeroPadding2D, Activation):
        assert Layer.registry[cls.__name__] is cls


def test_keras_regularizer_and_constraint_arguments_accept_none():
    # Keras signatures name kernel_regularizer=None, ..., so code spelling out the defaults runs;
    # a real regularizer is refused with a clear message (faltung has none)
    from faltung.layers import BatchNormalization, Conv2D
    none_args = {"kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
                 "kernel_constraint": None, "bias_constraint": None}
    assert Dense(3, **none_args).units == 3
    assert Conv2D(4, 3, **none_args).filters == 4
    assert BatchNormalization(beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                              gamma_constraint=None).epsilon == 0.001
    with pytest.raises(ValueError, match="kernel_regularizer.*no regularizers"):
        Dense(3, kernel_regularizer="l2")
    with pytest.raises(ValueError, match="unrecognized keyword arguments.*kernel_size"):
        Dense(3, kernel_size=3)
