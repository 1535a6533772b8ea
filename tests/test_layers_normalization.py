"""BatchNormalization: values vs PyTorch, moving statistics vs hand computation, gradients, errors."""
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faltung.layers import BatchNormalization, deserialize, serialize
from tests.gradcheck import assert_close, check_layer_gradients


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def nchw(x):
    return torch.tensor(x).permute(0, 3, 1, 2)


def make_bn(shape, **kwargs):
    """A float64 BatchNormalization built for ``shape`` with non-trivial gamma, beta and moving stats."""
    layer = BatchNormalization(dtype="float64", **kwargs)
    layer.build((None,) + shape[1:])
    c = shape[layer.feature_axes[0]]
    weights = [rand(c, seed=1) + 1.5, rand(c, seed=2), rand(c, seed=3), np.abs(rand(c, seed=4)) + 0.5]
    layer.set_weights(weights)
    return layer, weights


def test_keras_defaults_and_weight_order():
    params = inspect.signature(BatchNormalization).parameters
    defaults = {k: params[k].default for k in ("axis", "momentum", "epsilon", "center", "scale",
                                               "beta_initializer", "gamma_initializer",
                                               "moving_mean_initializer", "moving_variance_initializer")}
    assert defaults == {"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
                        "beta_initializer": "zeros", "gamma_initializer": "ones",
                        "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones"}
    layer = BatchNormalization()
    layer.build((None, 8, 8, 16))
    assert layer.weight_names == ["batch_normalization/gamma", "batch_normalization/beta",
                                  "batch_normalization/moving_mean", "batch_normalization/moving_variance"]
    assert [w.tolist() for w in layer.get_weights()] == [[1.0] * 16, [0.0] * 16, [0.0] * 16, [1.0] * 16]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2
    assert layer.count_params() == 64  # Keras counts all four (2·16 trainable + 2·16 not)


def test_training_forward_matches_torch_and_updates_moving_stats_as_keras():
    layer, (gamma, beta, mean0, var0) = make_bn((4, 3, 3, 2), momentum=0.9)
    x = rand(4, 3, 3, 2) * 2 + 1
    y = layer(x, training=True)
    expected = F.batch_norm(nchw(x), None, None, torch.tensor(gamma), torch.tensor(beta),
                            training=True, eps=1e-3).permute(0, 2, 3, 1).numpy()
    assert_close(y, expected, what="training output")
    # Keras: moving = moving·momentum + batch·(1 − momentum), with the biased batch variance
    batch_mean, batch_var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    step1 = (mean0 * 0.9 + batch_mean * 0.1, var0 * 0.9 + batch_var * 0.1)
    assert_close(layer.moving_mean, step1[0], what="moving_mean")
    assert_close(layer.moving_variance, step1[1], what="moving_variance")
    x2 = rand(4, 3, 3, 2, seed=5)
    layer(x2, training=True)
    assert_close(layer.moving_mean, step1[0] * 0.9 + x2.mean(axis=(0, 1, 2)) * 0.1, what="step 2 mean")
    assert_close(layer.moving_variance, step1[1] * 0.9 + x2.var(axis=(0, 1, 2)) * 0.1, what="step 2 var")


def test_inference_uses_moving_stats_and_leaves_them_alone():
    layer, (gamma, beta, mean, var) = make_bn((3, 2, 2, 4))
    x = rand(3, 2, 2, 4)
    y = layer(x, training=False)
    expected = F.batch_norm(nchw(x), torch.tensor(mean), torch.tensor(var), torch.tensor(gamma),
                            torch.tensor(beta), training=False, eps=1e-3).permute(0, 2, 3, 1).numpy()
    assert_close(y, expected, what="inference output")
    assert_close(y, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, what="inference formula")
    assert np.array_equal(layer.moving_mean, mean) and np.array_equal(layer.moving_variance, var)
    assert not np.allclose(layer(x, training=True), y)  # training normalises with the batch stats


def test_frozen_layer_runs_in_inference_mode():
    layer, (_, _, mean, var) = make_bn((3, 4))
    x = rand(3, 4)
    inference = layer(x, training=False)
    layer.trainable = False
    assert_close(layer(x, training=True), inference, what="frozen")
    assert np.array_equal(layer.moving_mean, mean)
    layer.backward(np.ones((3, 4)))
    assert layer.gradients == []


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 2, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_gradients(shape, training):
    layer, _ = make_bn(shape)
    check_layer_gradients(layer, rand(*shape, seed=7) * 2, training=training)
    assert [g.shape for g in layer.gradients] == [(shape[-1],), (shape[-1],)]


def test_gradients_on_axis_1_without_center():
    layer = BatchNormalization(axis=1, center=False, dtype="float64")
    check_layer_gradients(layer, rand(3, 2, 4), training=True)
    assert [n.split("/")[1] for n in layer.weight_names] == ["gamma", "moving_mean", "moving_variance"]
    assert layer.gradients[0].shape == (2,)


def test_without_scale_and_center_has_only_moving_stats():
    layer = BatchNormalization(center=False, scale=False, dtype="float64")
    x = rand(6, 3)
    y = layer(x, training=True)
    assert_close(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), what="plain normalisation")
    layer.backward(np.ones_like(x))
    assert layer.gradients == [] and len(layer.get_weights()) == 2


def test_float32_stays_float32_and_config_roundtrips():
    layer = BatchNormalization(momentum=0.9, epsilon=1e-5)
    y = layer(np.random.default_rng(0).random((4, 3), dtype=np.float32), training=True)
    assert y.dtype == np.float32 and layer.moving_mean.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    clone = deserialize(serialize(layer))
    assert clone.get_config() == layer.get_config()
    assert (clone.momentum, clone.epsilon) == (0.9, 1e-5)


def test_errors():
    layer = BatchNormalization()
    layer(np.ones((2, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"batch_normalization.*\(None, 4, 4, 3\).*\(2, 4, 4, 5\)"):
        layer(np.ones((2, 4, 4, 5)))
    with pytest.raises(ValueError, match=r"batch_normalization.*\(2, 3\)"):
        layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match="batch_normalization.*axis.*got 3"):
        BatchNormalization(axis=3).build((None, 4, 5))
    with pytest.raises(ValueError, match="batch_normalization.*axis.*got 0"):
        BatchNormalization(axis=0).build((None, 4, 5))


def test_keras_3_synchronized_argument():
    # Keras 3 has synchronized=False (cross-replica statistics); one process has only its batch
    params = inspect.signature(BatchNormalization).parameters
    assert params["synchronized"].default is False
    assert BatchNormalization(synchronized=False).epsilon == 0.001
    with pytest.raises(ValueError, match="synchronized"):
        BatchNormalization(synchronized=True)
