"""Augmentation layers: hand-computed results, Keras 3 semantics, determinism and exact backward."""
import numpy as np
import pytest
import torch

from faltung import layers, rng
from faltung.layers import RandomContrast, RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom

from .gradcheck import check_layer_gradients

ALL = [lambda: RandomFlip(), lambda: RandomTranslation(0.2, 0.2), lambda: RandomRotation(0.1),
       lambda: RandomZoom(0.2), lambda: RandomContrast(0.5)]


def images(shape=(2, 5, 6, 3), seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype(np.float32)


@pytest.mark.parametrize("make", ALL)
def test_identity_in_inference(make):
    layer = make()
    x = images()
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)


def test_flip_flips():
    x = images((64, 3, 4, 1))
    out = RandomFlip("horizontal", seed=1)(x, training=True)
    flipped = np.array([np.array_equal(o, xi[:, ::-1]) for o, xi in zip(out, x)])
    same = np.array([np.array_equal(o, xi) for o, xi in zip(out, x)])
    assert np.all(flipped ^ same) and 10 < flipped.sum() < 54      # each image: flipped or not, p = 0.5
    out = RandomFlip("vertical", seed=1)(x, training=True)
    assert all(np.array_equal(o, xi[::-1]) or np.array_equal(o, xi) for o, xi in zip(out, x))
    both = RandomFlip(seed=2)(x, training=True)
    kinds = {next(k for k, f in enumerate([lambda a: a, lambda a: a[:, ::-1], lambda a: a[::-1],
                                           lambda a: a[::-1, ::-1]]) if np.array_equal(o, f(xi)))
             for o, xi in zip(both, x)}
    assert kinds == {0, 1, 2, 3}


def test_translation_by_one_pixel():
    x = images((1, 4, 5, 2))
    right = RandomTranslation(0.0, (0.2, 0.2), fill_mode="constant")(x, training=True)   # 0.2 * 5 = 1 px
    np.testing.assert_allclose(right[:, :, 1:], x[:, :, :-1], atol=1e-4)
    np.testing.assert_array_equal(right[:, :, 0], 0)
    up = RandomTranslation((-0.25, -0.25), 0.0, fill_mode="nearest")(x, training=True)  # -0.25 * 4 = -1 row
    np.testing.assert_allclose(up[:, :-1], x[:, 1:], atol=1e-4)
    np.testing.assert_allclose(up[:, -1], x[:, -1], atol=1e-4)


def test_rotation_by_90_degrees_is_rot90():
    x = images((2, 6, 6, 3))
    out = RandomRotation((0.25, 0.25))(x, training=True)           # factor 0.25 of a full turn
    np.testing.assert_allclose(out, np.rot90(x, axes=(1, 2)), atol=1e-3)
    out = RandomRotation((-0.25, -0.25))(x, training=True)
    np.testing.assert_allclose(out, np.rot90(x, k=-1, axes=(1, 2)), atol=1e-3)


def test_rotation_of_a_non_square_image_up_to_the_border():
    """90 degrees of a 4x6 image: the centred 4x4 block is rot90 of the input's centre; the rest is fill."""
    x = images((1, 4, 6, 1))
    out = RandomRotation((0.25, 0.25), fill_mode="constant")(x, training=True)
    np.testing.assert_allclose(out[0, :, 1:5, 0], np.rot90(x[0, :, 1:5, 0]), atol=1e-3)
    np.testing.assert_allclose(out[0, :, [0, 5], 0], 0, atol=1e-3)


def test_zoom_in_two_times():
    """z = 1 + (-0.5) = 0.5 reads x_in = 1.5 + 0.5 (x - 1.5): 0.75, 1.25, 1.75, 2.25 on the ramp 0..3."""
    ramp = np.tile(np.arange(4, dtype=np.float32), (1, 4, 1))[..., None]
    out = RandomZoom((-0.5, -0.5))(ramp, training=True)
    np.testing.assert_allclose(out[0, :, :, 0], np.tile([0.75, 1.25, 1.75, 2.25], (4, 1)), atol=1e-6)
    rows = np.transpose(ramp, (0, 2, 1, 3))
    out = RandomZoom((-0.5, -0.5), width_factor=(0.0, 0.0))(rows, training=True)   # only the height zooms
    np.testing.assert_allclose(out[0, :, 0, 0], [0.75, 1.25, 1.75, 2.25], atol=1e-6)
    np.testing.assert_allclose(out[0, :, 2, 0], [0.75, 1.25, 1.75, 2.25], atol=1e-6)


def test_zoom_out_with_constant_fill():
    x = np.ones((1, 5, 5, 1), np.float32)
    out = RandomZoom((1.0, 1.0), fill_mode="constant", fill_value=0.0)(x, training=True)   # z = 2
    # x_in = 2 + 2 (x - 2) = -2, 0, 2, 4, 6: only the middle three columns are inside
    np.testing.assert_array_equal(out[0, 2, :, 0], [0, 1, 1, 1, 0])


def test_contrast_formula():
    x = images((3, 4, 4, 2))
    layer = RandomContrast((0.3, 0.3), value_range=(-1e9, 1e9), seed=4)
    out = layer(x, training=True)
    f = layer.cache["factor"]
    assert np.all((0.7 <= f) & (f <= 1.3))
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) * f + mean, rtol=1e-5)
    clipped = RandomContrast(0.9, seed=0)(np.array([[[[0.0]], [[255.0]]]], np.float32) * np.ones((1, 2, 2, 1)),
                                           training=True)
    assert clipped.min() >= 0 and clipped.max() <= 255


def test_crop_training_and_inference():
    x = np.arange(2 * 6 * 8, dtype=np.float32).reshape(2, 6, 8, 1)
    layer = RandomCrop(4, 5, seed=3)
    out = layer(x, training=True)
    assert out.shape == (2, 4, 5, 1)
    for o, xi in zip(out, x):          # each crop is a window of its image
        top, left = divmod(int(o[0, 0, 0]) - int(xi[0, 0, 0]), 8)
        np.testing.assert_array_equal(o, xi[top:top + 4, left:left + 5])
    # inference: the largest centred 4:5 window (6 x 7.5 -> 6 x 7... int: 6 rows, 7 cols) resized, as torch
    inference = layer(x)
    window = torch.from_numpy(x[:, :, 0:7].transpose(0, 3, 1, 2).copy())
    expected = torch.nn.functional.interpolate(window, size=(4, 5), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(inference, expected.numpy().transpose(0, 2, 3, 1), atol=1e-4)
    assert layer.compute_output_shape((None, 6, 8, 1)) == (None, 4, 5, 1)


def test_seeded_determinism():
    x = images((4, 6, 6, 3))
    for make in [lambda: RandomRotation(0.2, seed=7), lambda: RandomFlip(seed=7), lambda: RandomCrop(3, 3, seed=7)]:
        a, b = make(), make()
        np.testing.assert_array_equal(a(x, training=True), b(x, training=True))
        np.testing.assert_array_equal(a(x, training=True), b(x, training=True))   # second batch too
    rng.set_random_seed(11)
    first = RandomZoom(0.3)(x, training=True)
    rng.set_random_seed(11)
    np.testing.assert_array_equal(RandomZoom(0.3)(x, training=True), first)
    assert not np.array_equal(RandomZoom(0.3)(x, training=True), first)


class _Frozen:
    """Re-seed a layer before every forward, so a training-mode draw repeats (for finite differences)."""

    def __init__(self, layer, seed):
        self.layer, self.seed = layer, seed
        original = layer.forward

        def forward(x, training=False):
            layer._rng = np.random.default_rng(self.seed)
            return original(x, training=training)
        layer.forward = forward


@pytest.mark.parametrize("make", [
    lambda: RandomFlip(dtype="float64"),
    lambda: RandomTranslation(0.3, 0.3, fill_mode="constant", fill_value=2.0, dtype="float64"),
    lambda: RandomRotation(0.2, fill_mode="reflect", dtype="float64"),
    lambda: RandomZoom(0.4, fill_mode="wrap", dtype="float64"),
    lambda: RandomCrop(3, 4, dtype="float64"),
    lambda: RandomContrast(0.5, value_range=(-100, 100), dtype="float64"),
])
@pytest.mark.parametrize("training", [True, False])
def test_backward_matches_finite_differences(make, training):
    layer = make()
    _Frozen(layer, seed=5)
    x = np.random.default_rng(1).uniform(-1, 1, (2, 5, 6, 2))
    check_layer_gradients(layer, x, training=training)


def test_errors_and_config():
    with pytest.raises(ValueError, match="mode"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match="height_factor"):
        RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match="fill_mode"):
        RandomRotation(0.1, fill_mode="smear")
    with pytest.raises(ValueError, match="needs a forward"):
        RandomFlip().backward(np.zeros((1, 2, 2, 1)))
    with pytest.raises(ValueError, match=r"rank 4 \(N, H, W, C\)"):
        RandomFlip()(np.zeros((2, 3)), training=True)
    layer = RandomZoom(0.2, 0.1, fill_mode="constant", seed=3, name="zoom")
    clone = layers.deserialize(layers.serialize(layer))
    assert (clone.height_factor, clone.width_factor, clone.fill_mode, clone.seed) == (0.2, 0.1, "constant", 3)
    assert layers.deserialize(layers.serialize(RandomCrop(3, 4))).compute_output_shape((None, 9, 9, 3)) == \
        (None, 3, 4, 3)


def test_single_image_input():
    x = images((5, 5, 3))
    out = RandomRotation((0.25, 0.25))(x, training=True)
    np.testing.assert_allclose(out, np.rot90(x), atol=1e-3)
