"""Concatenate and Add: values vs PyTorch, gradient lists vs finite differences, shape errors."""
import numpy as np
import pytest
import torch

from faltung.layers import Add, Concatenate, deserialize, serialize
from tests.gradcheck import assert_close, check_layer_gradients


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_concatenate_values_and_gradient_list(axis):
    xs = [rand(2, 3, 2, 2, seed=0), rand(2, 3, 2, 2, seed=1)]
    xs[1] = np.concatenate([xs[1], xs[1]], axis=axis)  # a different size on the concatenation axis
    layer = Concatenate(axis=axis, dtype="float64")
    y = layer(xs)
    assert_close(y, torch.cat([torch.tensor(x) for x in xs], dim=axis).numpy(), what="concatenate")
    dxs = check_layer_gradients(layer, xs)
    assert isinstance(dxs, list) and [d.shape for d in dxs] == [x.shape for x in xs]
    assert layer.gradients == []


def test_concatenate_three_inputs_hands_each_its_slice():
    layer = Concatenate()
    xs = [np.ones((2, k), dtype=np.float32) for k in (1, 2, 3)]
    layer(xs)
    dy = np.arange(12, dtype=np.float32).reshape(2, 6)
    dxs = layer.backward(dy)
    assert [d.tolist() for d in dxs] == [dy[:, :1].tolist(), dy[:, 1:3].tolist(), dy[:, 3:].tolist()]


def test_concatenate_output_shape():
    layer = Concatenate()
    assert layer.compute_output_shape([(None, 4, 4, 8), (None, 4, 4, 16)]) == (None, 4, 4, 24)
    assert layer.compute_output_shape([(None, 4, 4, 8), (None, 4, 4, None)]) == (None, 4, 4, None)
    assert Concatenate(axis=1).compute_output_shape([(None, 2, 3), (None, 5, 3)]) == (None, 7, 3)
    clone = deserialize(serialize(Concatenate(axis=2)))
    assert clone.axis == 2 and isinstance(clone, Concatenate)


def test_concatenate_errors():
    layer = Concatenate()
    with pytest.raises(ValueError, match=r"concatenate.*equal sizes on every axis but 3.*4, 4, 3\).*\(\w+, 5, 4, 3\)"):
        layer([np.ones((2, 4, 4, 3)), np.ones((2, 5, 4, 3))])
    with pytest.raises(ValueError, match="concatenate.*same rank"):
        Concatenate()([np.ones((2, 3)), np.ones((2, 3, 1))])
    with pytest.raises(ValueError, match=r"concatenate.*list of input arrays.*shape \(2, 3\)"):
        Concatenate().forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="concatenate.*list of input arrays"):
        Concatenate().build((None, 3))
    with pytest.raises(ValueError, match="concatenate.*axis.*got 0"):
        Concatenate(axis=0).compute_output_shape([(None, 3), (None, 3)])
    with pytest.raises(ValueError, match=r"concatenate.*\(3, 2\)"):  # batch sizes differ
        Concatenate()([np.ones((2, 2)), np.ones((3, 2))])


def test_add_values_and_gradient_list():
    xs = [rand(2, 3, 2, seed=k) for k in range(3)]
    layer = Add(dtype="float64")
    assert_close(layer(xs), xs[0] + xs[1] + xs[2], what="add")
    dxs = check_layer_gradients(layer, xs)
    assert len(dxs) == 3
    dy = rand(2, 3, 2, seed=9)
    layer(xs)
    for dx in layer.backward(dy):
        assert_close(dx, dy, what="each input gets dy")


def test_add_output_shape_and_errors():
    assert Add().compute_output_shape([(None, 4, 8), (None, 4, 8)]) == (None, 4, 8)
    assert Add().compute_output_shape([(None, None, 8), (None, 4, 8)]) == (None, 4, 8)
    with pytest.raises(ValueError, match=r"add.*equal shapes.*\(None, 4, 8\).*\(None, 4, 9\)"):
        Add().compute_output_shape([(None, 4, 8), (None, 4, 9)])
    with pytest.raises(ValueError, match=r"add.*equal shapes.*\(\w+, 3\).*\(\w+, 4\)"):
        Add()([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match=r"add.*\(3, 3\)"):
        Add()([np.ones((2, 3)), np.ones((3, 3))])
    assert isinstance(deserialize(serialize(Add())), Add)


def test_add_broadcasts_sizes_of_one_as_keras_3():
    # Keras's merge layers broadcast a size of 1 against any size (not on the batch axis)
    xs = [rand(2, 3, 4, seed=1), rand(2, 1, 4, seed=2), rand(2, 3, 1, seed=3)]
    layer = Add(dtype="float64")
    assert layer.compute_output_shape([(None, 3, 4), (None, 1, 4), (None, 3, 1)]) == (None, 3, 4)
    assert_close(layer(xs), xs[0] + xs[1] + xs[2], what="broadcast add")
    dxs = check_layer_gradients(layer, xs)
    assert [dx.shape for dx in dxs] == [(2, 3, 4), (2, 1, 4), (2, 3, 1)]
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(1, 3\)"):  # no broadcast over the batch
        Add()([np.ones((2, 3)), np.ones((1, 3))])
