"""Pooling layers: gradients vs finite differences, Keras shapes/config, global pooling, bad input."""
import json

import numpy as np
import pytest

from faltung.layers.base import deserialize, serialize
from faltung.layers.pooling import (AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
                                    MaxPooling2D)
from tests.gradcheck import check_layer_gradients


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


POOL_CASES = [
    (dict(), (2, 4, 6, 3)),
    (dict(pool_size=3, strides=2, padding="same"), (2, 5, 7, 2)),
    (dict(pool_size=(2, 3), strides=(3, 1), padding="valid"), (1, 7, 6, 2)),
    (dict(pool_size=2, padding="SAME"), (2, 5, 5, 1)),
    (dict(pool_size=(3, 2), strides=3, padding="same"), (1, 7, 5, 3)),
]


@pytest.mark.parametrize("layer_class", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize("kwargs, x_shape", POOL_CASES)
def test_pooling_gradients(layer_class, kwargs, x_shape):
    check_layer_gradients(layer_class(dtype="float64", **kwargs), _x(x_shape))


@pytest.mark.parametrize("layer_class", [GlobalAveragePooling2D, GlobalMaxPooling2D])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_gradients(layer_class, keepdims):
    check_layer_gradients(layer_class(keepdims=keepdims, dtype="float64"), _x((2, 3, 5, 4)))


def test_global_pooling_values():
    x = _x((2, 3, 4, 5))
    assert np.allclose(GlobalAveragePooling2D(dtype="float64")(x), x.mean(axis=(1, 2)))
    assert np.allclose(GlobalMaxPooling2D(dtype="float64")(x), x.max(axis=(1, 2)))
    assert GlobalMaxPooling2D(keepdims=True)(x).shape == (2, 1, 1, 5)


def test_global_max_routes_to_the_first_maximum():
    layer = GlobalMaxPooling2D(dtype="float64")
    x = np.zeros((1, 2, 2, 1))  # four tied maxima
    layer(x)
    dx = layer.backward(np.array([[3.0]]))
    assert np.array_equal(dx[0, :, :, 0], [[3.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("layer, input_shape, expected", [
    (MaxPooling2D(), (None, 32, 32, 3), (None, 16, 16, 3)),
    (MaxPooling2D(), (None, 7, 5, 3), (None, 3, 2, 3)),
    (MaxPooling2D(3, strides=2, padding="same"), (None, 7, 5, 3), (None, 4, 3, 3)),
    (AveragePooling2D((2, 3), strides=1), (None, 7, 5, 3), (None, 6, 3, 3)),
    (AveragePooling2D(2, padding="same"), (None, None, 5, 3), (None, None, 3, 3)),
    (GlobalAveragePooling2D(), (None, 7, 5, 3), (None, 3)),
    (GlobalMaxPooling2D(keepdims=True), (None, 7, 5, 3), (None, 1, 1, 3)),
])
def test_output_shapes(layer, input_shape, expected):
    assert layer.compute_output_shape(input_shape) == expected
    if None not in input_shape[1:]:
        y = layer(np.zeros((2,) + input_shape[1:], np.float32))
        assert y.shape == (2,) + expected[1:] and y.dtype == np.float32


def test_strides_default_to_pool_size_and_names_follow_keras():
    layer = MaxPooling2D(pool_size=3)
    assert layer.strides == (3, 3) and layer.name == "max_pooling2d"
    assert AveragePooling2D().name == "average_pooling2d"
    assert GlobalAveragePooling2D().name == "global_average_pooling2d"
    assert layer.count_params() == 0 and layer.get_weights() == []


def test_float32_backward_and_no_gradients():
    x = _x((2, 6, 6, 3)).astype(np.float32)
    for layer in (MaxPooling2D(), AveragePooling2D(3, 2, "same"), GlobalAveragePooling2D(), GlobalMaxPooling2D()):
        y = layer(x)
        dx = layer.backward(np.ones_like(y))
        assert y.dtype == dx.dtype == np.float32 and dx.shape == x.shape and layer.gradients == []


@pytest.mark.parametrize("layer", [
    MaxPooling2D((3, 2), strides=(1, 2), padding="same", name="pool"),
    AveragePooling2D(),
    GlobalAveragePooling2D(keepdims=True),
    GlobalMaxPooling2D(),
])
def test_config_round_trip(layer):
    clone = deserialize(json.loads(json.dumps(serialize(layer))))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    x = _x((2, 6, 6, 2)).astype(np.float32)
    assert np.array_equal(clone(x), layer(x))


@pytest.mark.parametrize("make, message", [
    (lambda: MaxPooling2D(pool_size=0, name="p"), r"p: expected pool_size as 2 positive ints, got \(0, 0\)"),
    (lambda: MaxPooling2D(strides=(2, -1), name="p"), r"p: expected strides"),
    (lambda: AveragePooling2D(padding="full", name="p"), r"p: expected padding to be one of .*got 'full'"),
    (lambda: GlobalMaxPooling2D(data_format="channels_first", name="p"), r"p: expected data_format"),
])
def test_rejects_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_name_the_layer():
    pool = MaxPooling2D(3, name="pool")
    with pytest.raises(ValueError, match=r"pool: expected input of rank 4 \(N, H, W, C\)"):
        pool(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match=r"pool: expected input height and width of at least the pool size"):
        pool(np.zeros((1, 2, 4, 3)))
    with pytest.raises(ValueError, match=r"gap: expected input of rank 4"):
        GlobalAveragePooling2D(name="gap")(np.zeros((2, 3)))


def test_pooling_layers_run_on_the_reference_kernels_too():
    from faltung import config
    with config.use_implementation("reference"):
        for layer_class in (MaxPooling2D, AveragePooling2D):
            check_layer_gradients(layer_class(3, 2, "same", dtype="float64"), _x((2, 5, 6, 2)))
