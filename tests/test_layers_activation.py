"""ReLU, LeakyReLU, PReLU, ELU, Softmax layers: values vs PyTorch / Keras's formula, gradients, errors."""
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faltung import losses
from faltung.layers import ELU, PReLU, ReLU, LeakyReLU, Softmax, deserialize, serialize
from tests.gradcheck import assert_close, check_layer_gradients


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def away_from(x, points, gap=0.02):
    """Move entries of x that sit within ``gap`` of a kink, so finite differences stay on one side."""
    for p in points:
        near = np.abs(x - p) < gap
        x[near] = p + gap * np.where(x[near] >= p, 1, -1)
    return x


def keras_relu(v, max_value, negative_slope, threshold):
    """Keras's documented ReLU, one scalar at a time."""
    if max_value is not None and v >= max_value:
        return max_value
    if v >= threshold:
        return v
    return negative_slope * (v - threshold)


def roundtrip(layer):
    clone = deserialize(serialize(layer))
    assert clone.get_config() == layer.get_config()
    return clone


def test_keras_default_arguments():
    def defaults(cls):
        return {n: p.default for n, p in inspect.signature(cls).parameters.items()
                if p.default is not inspect.Parameter.empty}
    assert defaults(ReLU) == {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}
    assert defaults(LeakyReLU) == {"negative_slope": 0.3}
    assert defaults(ELU) == {"alpha": 1.0}
    assert defaults(Softmax) == {"axis": -1}
    assert defaults(PReLU)["alpha_initializer"] == "zeros" and defaults(PReLU)["shared_axes"] is None


@pytest.mark.parametrize("kwargs", [{}, {"max_value": 6.0}, {"negative_slope": 0.1},
                                    {"max_value": 1.5, "negative_slope": 0.2, "threshold": 0.5}])
def test_relu_values_and_gradients(kwargs):
    layer = ReLU(**kwargs, dtype="float64")
    x = away_from(rand(4, 5) * 3, [0.0, kwargs.get("threshold", 0.0), kwargs.get("max_value", 99.0)])
    config = {"max_value": None, "negative_slope": 0.0, "threshold": 0.0, **kwargs}
    expected = np.vectorize(lambda v: keras_relu(v, **config))(x)
    assert_close(layer(x), expected, what="relu")
    check_layer_gradients(layer, x)
    roundtrip(layer)


def test_relu_default_matches_torch_and_relu6():
    x = rand(3, 4) * 10
    assert_close(ReLU(dtype="float64")(x), F.relu(torch.tensor(x)).numpy(), what="relu")
    assert_close(ReLU(max_value=6.0, dtype="float64")(x), F.relu6(torch.tensor(x)).numpy(), what="relu6")
    y = ReLU()(np.array([[-2.0, 3.0]], dtype=np.float32))
    assert y.dtype == np.float32 and not np.signbit(y).any()  # zeros, not -0.0


@pytest.mark.parametrize("kwargs", [{"max_value": -1.0}, {"negative_slope": -0.1}, {"threshold": -1.0}])
def test_relu_rejects_negative_arguments(kwargs):
    with pytest.raises(ValueError, match="re_lu.*non-negative"):
        ReLU(**kwargs)


def test_leaky_relu():
    layer = LeakyReLU(dtype="float64")
    assert layer.negative_slope == 0.3  # Keras 3 layer default
    x = away_from(rand(3, 6), [0.0])
    assert_close(layer(x), F.leaky_relu(torch.tensor(x), 0.3).numpy(), what="leaky_relu")
    check_layer_gradients(layer, x)
    assert LeakyReLU(alpha=0.1).negative_slope == 0.1  # Keras 2 spelling still accepted
    roundtrip(layer)
    with pytest.raises(ValueError, match="leaky_re_lu.*negative_slope"):
        LeakyReLU(-0.5)


def test_elu():
    layer = ELU(alpha=0.7, dtype="float64")
    x = away_from(rand(3, 6), [0.0])
    assert_close(layer(x), F.elu(torch.tensor(x), alpha=0.7).numpy(), what="elu")
    check_layer_gradients(layer, x)
    assert ELU().alpha == 1.0
    roundtrip(layer)


def test_prelu_alpha_shape_follows_shared_axes():
    assert PReLU().compute_output_shape((None, 4, 4, 3)) == (None, 4, 4, 3)
    full = PReLU()
    full.build((None, 4, 5, 3))
    assert full.get_weights()[0].shape == (4, 5, 3) and not full.get_weights()[0].any()  # zeros
    shared = PReLU(shared_axes=[1, 2])
    shared.build((None, 4, 5, 3))
    assert shared.get_weights()[0].shape == (1, 1, 3)
    shared_variable_size = PReLU(shared_axes=[1, 2])
    shared_variable_size.build((None, None, None, 3))
    assert shared_variable_size(np.ones((2, 6, 7, 3))).shape == (2, 6, 7, 3)
    assert roundtrip(shared).shared_axes == (1, 2)


def test_prelu_per_channel_matches_torch():
    layer = PReLU(shared_axes=[1, 2], dtype="float64")
    x = rand(2, 3, 4, 5)
    layer.build((None, 3, 4, 5))
    alpha = rand(1, 1, 5, seed=1)
    layer.set_weights([alpha])
    expected = F.prelu(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(alpha.reshape(5)))
    assert_close(layer(x), expected.permute(0, 2, 3, 1).numpy(), what="prelu")


@pytest.mark.parametrize("shared_axes, shape", [(None, (3, 4)), ([1, 2], (2, 3, 3, 2)), ([1], (2, 3, 4))])
def test_prelu_gradients_for_input_and_alpha(shared_axes, shape):
    layer = PReLU(alpha_initializer="random_uniform", shared_axes=shared_axes, dtype="float64")
    check_layer_gradients(layer, away_from(rand(*shape), [0.0]))
    assert layer.gradients[0].shape == layer.alpha.shape


def test_prelu_errors():
    with pytest.raises(ValueError, match=r"p_re_lu.*shared_axes between 1 and 3.*\[0\]"):
        PReLU(shared_axes=[0]).build((None, 4, 4, 3))
    layer = PReLU()
    layer(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match=r"p_re_lu.*expected input of shape \(None, 4, 3\).*\(2, 5, 3\)"):
        layer(np.ones((2, 5, 3)))


@pytest.mark.parametrize("axis, shape", [(-1, (3, 5)), (1, (2, 4, 3))])
def test_softmax_layer(axis, shape):
    layer = Softmax(axis=axis, dtype="float64")
    x = rand(*shape)
    assert_close(layer(x), torch.softmax(torch.tensor(x), dim=axis).numpy(), what="softmax")
    check_layer_gradients(layer, x)
    assert_close(layer.backward_linear(x), x, what="backward_linear is the identity")
    roundtrip(layer)


def test_softmax_layer_fused_cross_entropy_equals_chain_rule():
    layer = Softmax(dtype="float64")
    logits, onehot = rand(4, 3), np.eye(3)[[0, 2, 1, 1]]
    loss = losses.CategoricalCrossentropy()
    probs = layer(logits)
    chain = layer.backward(loss.gradient(onehot, probs))
    fused = layer.backward_linear(loss.softmax_gradient(onehot, probs))
    assert_close(fused, chain, rtol=1e-7, atol=1e-10, what="fused softmax + cross-entropy")
    assert_close(fused, (probs - onehot) / 4, what="(p - y) / N")
