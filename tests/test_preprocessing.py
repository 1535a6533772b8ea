"""ImageDataGenerator, the shared affine resampler, image file helpers and the array utilities.

References: scipy.ndimage.affine_transform (resampling and Keras's own ImageDataGenerator formula),
scikit-learn's normalize, and hand-computed results."""
import math

import numpy as np
import pytest
from scipy import ndimage

from faltung.preprocessing import affine
from faltung.preprocessing.image import ImageDataGenerator, array_to_img, img_to_array, load_img, save_img
from faltung.utils import normalize, to_categorical, train_test_split

SCIPY_MODES = {"reflect": "reflect", "mirror": "mirror", "wrap": "grid-wrap", "nearest": "nearest",
               "constant": "grid-constant"}


def scipy_affine(images, matrices, order, fill_mode, cval):
    """Reference: scipy per image and channel; our (x, y) matrices become scipy's (row, col) ones."""
    swap = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    out = np.empty(images.shape)
    for n, m in enumerate(matrices):
        rc = swap @ m @ swap
        for c in range(images.shape[-1]):
            out[n, :, :, c] = ndimage.affine_transform(images[n, :, :, c].astype(np.float64), rc[:2, :2],
                                                       rc[:2, 2], order=order, mode=SCIPY_MODES[fill_mode],
                                                       cval=cval)
    return out


def random_matrices(rng, n, h, w):
    theta = rng.uniform(-1.0, 1.0, n)
    m = affine.rotation_matrices(theta, h, w) @ affine.zoom_matrices(rng.uniform(0.6, 1.4, n),
                                                                      rng.uniform(0.6, 1.4, n), h, w)
    return affine.translation_matrices(rng.uniform(-3, 3, n), rng.uniform(-3, 3, n)) @ m


# ---- the resampler -------------------------------------------------------------------------------
@pytest.mark.parametrize("fill_mode", ["reflect", "mirror", "wrap", "nearest", "constant"])
def test_bilinear_resampling_matches_scipy(fill_mode):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 7, 9, 2))
    matrices = random_matrices(rng, 3, 7, 9)
    ours = affine.affine_transform(x, matrices, "bilinear", fill_mode, fill_value=0.7)
    np.testing.assert_allclose(ours, scipy_affine(x, matrices, 1, fill_mode, 0.7), atol=1e-10)


@pytest.mark.parametrize("fill_mode", ["reflect", "nearest", "constant"])
def test_nearest_resampling_matches_scipy(fill_mode):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 8, 3))
    matrices = random_matrices(rng, 2, 6, 8)
    ours = affine.affine_transform(x, matrices, "nearest", fill_mode, fill_value=-1.0)
    np.testing.assert_allclose(ours, scipy_affine(x, matrices, 0, fill_mode, -1.0), atol=1e-12)


def test_resample_transpose_is_the_adjoint():
    """<S x, y> = <x, S^T y> for random x, y: the backward of the augmentation layers."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 6, 3))
    plan = affine.sampling_plan(random_matrices(rng, 2, 5, 6), x.shape, (4, 7), "bilinear", "constant")
    y = rng.standard_normal((2, 4, 7, 3))
    lhs = np.sum(affine.resample(x, plan) * y)
    rhs = np.sum(x * affine.resample_transpose(y, plan))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_resize_matrices_match_half_pixel_bilinear():
    """Resizing 4 -> 2 samples at input x = (x_out + 0.5) * 2 - 0.5 = 0.5, 2.5 (tf.image.resize)."""
    x = np.arange(16, dtype=np.float64).reshape(1, 4, 4, 1)
    out = affine.affine_transform(x, affine.resize_matrices(1, (0, 0, 4, 4), (2, 2)), "bilinear", "nearest",
                                  output_hw=(2, 2))
    np.testing.assert_allclose(out[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_bad_options():
    with pytest.raises(ValueError, match="fill_mode"):
        ImageDataGenerator(fill_mode="smear")
    with pytest.raises(ValueError, match="interpolation"):
        affine.affine_transform(np.zeros((1, 2, 2, 1)), np.eye(3)[None], interpolation="cubic")


# ---- ImageDataGenerator transforms -----------------------------------------------------------------
def keras_reference(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1):
    """Keras's apply_affine_transform transcribed: R @ T @ Shear @ Zoom about the centre, the
    (x, y) <-> (row, col) swap, then scipy per channel, order 1, fill 'nearest'."""
    t, s = np.deg2rad(theta), np.deg2rad(shear)
    m = (np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
         @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
         @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
         @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    h, w = x.shape[:2]
    ox, oy = h / 2 - 0.5, w / 2 - 0.5
    m = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]]) @ m @ np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
    m[:, [0, 1]] = m[:, [1, 0]]
    m[[0, 1]] = m[[1, 0]]
    return np.stack([ndimage.affine_transform(x[..., c], m[:2, :2], m[:2, 2], order=1, mode="nearest")
                     for c in range(x.shape[-1])], axis=-1)


def test_apply_transform_matches_keras_formula():
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 255, (12, 12, 3))
    params = dict(theta=17.0, tx=1.5, ty=-2.25, shear=12.0, zx=0.9, zy=1.15)
    ours = ImageDataGenerator(dtype="float64").apply_transform(x, params)
    np.testing.assert_allclose(ours, keras_reference(x, **params), atol=1e-9)


def test_shift_by_one_pixel():
    x = np.arange(5 * 6 * 1, dtype=np.float32).reshape(5, 6, 1)
    out = ImageDataGenerator().apply_transform(x, {"tx": 1})
    np.testing.assert_array_equal(out[:, :-1], x[:, 1:])     # reads one column to the right: moves left
    np.testing.assert_array_equal(out[:, -1], x[:, -1])      # fill_mode "nearest" repeats the edge
    out = ImageDataGenerator().apply_transform(x, {"ty": -1})
    np.testing.assert_array_equal(out[1:], x[:-1])           # moves down by one row


def test_flips_and_rotation_by_90_degrees():
    x = np.random.default_rng(5).uniform(0, 1, (6, 6, 2)).astype(np.float32)
    gen = ImageDataGenerator()
    np.testing.assert_array_equal(gen.apply_transform(x, {"flip_horizontal": True}), x[:, ::-1])
    np.testing.assert_array_equal(gen.apply_transform(x, {"flip_vertical": True}), x[::-1])
    np.testing.assert_allclose(gen.apply_transform(x, {"theta": 90}), np.rot90(x), atol=1e-6)


def test_zoom_of_a_ramp():
    """zx = 0.5 reads x_in = 1.5 + 0.5 (x - 1.5) = 0.75, 1.25, 1.75, 2.25 from the ramp 0, 1, 2, 3."""
    ramp = np.tile(np.arange(4, dtype=np.float32), (4, 1))[:, :, None]
    out = ImageDataGenerator().apply_transform(ramp, {"zx": 0.5, "zy": 0.5})
    np.testing.assert_allclose(out[:, :, 0], np.tile([0.75, 1.25, 1.75, 2.25], (4, 1)), atol=1e-6)


def test_random_transform_is_seeded_and_within_ranges():
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.1, height_shift_range=0.2, zoom_range=0.1,
                             horizontal_flip=True)
    x = np.random.default_rng(6).uniform(0, 1, (10, 20, 3))
    np.testing.assert_array_equal(gen.random_transform(x, seed=3), gen.random_transform(x, seed=3))
    assert not np.allclose(gen.random_transform(x, seed=3), gen.random_transform(x, seed=4))
    params = gen.get_random_transform_batch((10, 20, 3), 2000, np.random.default_rng(0))
    assert np.abs(params["theta"]).max() <= 30 and np.abs(params["theta"]).max() > 29
    assert np.abs(params["tx"]).max() <= 0.1 * 20 and np.abs(params["ty"]).max() <= 0.2 * 10
    assert 0.9 <= params["zx"].min() and params["zy"].max() <= 1.1
    assert 0.4 < params["flip_horizontal"].mean() < 0.6 and not params["flip_vertical"].any()


def test_integer_shift_range_draws_whole_pixels():
    params = ImageDataGenerator(width_shift_range=3).get_random_transform_batch((8, 8, 1), 500,
                                                                                 np.random.default_rng(0))
    assert set(np.unique(params["tx"])) == {-2.0, -1.0, 0.0, 1.0, 2.0}   # Keras: choices -r+1 .. r-1


# ---- standardisation -----------------------------------------------------------------------------
def test_featurewise_center_and_std():
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 255, (50, 4, 5, 3)) * np.array([1.0, 0.5, 0.2])
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True, rescale=1 / 255.,
                             dtype="float64").fit(x)
    scaled = x / 255.
    np.testing.assert_allclose(gen.mean.reshape(-1), scaled.mean(axis=(0, 1, 2)), rtol=1e-10)
    np.testing.assert_allclose(gen.std.reshape(-1), scaled.std(axis=(0, 1, 2)), rtol=1e-8)
    out = gen.standardize(x)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-9)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-4)
    np.testing.assert_allclose(out[3, 1, 2], (scaled[3, 1, 2] - gen.mean[0, 0]) / (gen.std[0, 0] + 1e-6))


def test_samplewise_and_missing_fit():
    x = np.random.default_rng(8).uniform(0, 9, (4, 3, 3, 2))
    out = ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True).standardize(x)
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), 1, atol=1e-4)
    with pytest.raises(ValueError, match="fit"):
        ImageDataGenerator(featurewise_center=True).standardize(x)


# ---- flow ----------------------------------------------------------------------------------------
def test_flow_epochs_len_and_labels():
    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1) * np.ones((1, 2, 2, 1), np.float32)
    y = np.arange(10) * 10
    it = ImageDataGenerator().flow(x, y, batch_size=4, seed=0)
    assert len(it) == 3
    seen = []
    for _ in range(len(it)):
        xb, yb = next(it)
        assert xb.dtype == np.float32 and xb.shape[1:] == (2, 2, 1)
        np.testing.assert_array_equal(yb, xb[:, 0, 0, 0] * 10)     # labels stay with their images
        seen.extend(yb)
    assert sorted(seen) == list(y)                                 # one epoch = every image once
    assert seen != sorted(seen)                                    # shuffled
    xb, _ = next(it)                                               # endless: a new epoch begins
    assert len(xb) == 4
    a, b = ImageDataGenerator().flow(x, y, batch_size=4, seed=5), ImageDataGenerator().flow(x, y, 4, seed=5)
    for _ in range(5):
        np.testing.assert_array_equal(next(a)[1], next(b)[1])


def test_flow_subsets_and_no_labels():
    x = np.zeros((10, 2, 2, 1))
    gen = ImageDataGenerator(validation_split=0.2)
    y = np.arange(10)
    assert len(gen.flow(x, y, batch_size=3, subset="training")) == 3        # first 8
    val = gen.flow(x, y, batch_size=3, subset="validation", shuffle=False)
    np.testing.assert_array_equal(next(val)[1], [8, 9])
    only_x = ImageDataGenerator().flow(x, batch_size=4, shuffle=False)
    assert next(only_x).shape == (4, 2, 2, 1)
    with pytest.raises(ValueError, match="rank 4"):
        ImageDataGenerator().flow(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="different lengths"):
        ImageDataGenerator().flow(x, np.arange(3))


# ---- image files ----------------------------------------------------------------------------------
def test_load_img_and_img_to_array(tmp_path):
    pixels = np.random.default_rng(9).integers(0, 256, (5, 7, 3)).astype(np.uint8)
    save_img(tmp_path / "a.png", pixels, scale=False)
    img = load_img(tmp_path / "a.png")
    np.testing.assert_array_equal(img_to_array(img), pixels.astype(np.float32))
    assert img_to_array(load_img(tmp_path / "a.png", color_mode="grayscale")).shape == (5, 7, 1)
    assert img_to_array(load_img(tmp_path / "a.png", target_size=(3, 4))).shape == (3, 4, 3)
    assert np.asarray(array_to_img(pixels.astype(np.float32), scale=False)).tolist() == pixels.tolist()
    (tmp_path / "b.png").write_bytes(b"this is not an image")
    with pytest.raises(ValueError, match=r"b\.png: not a readable image file"):
        load_img(tmp_path / "b.png")


# ---- utils ---------------------------------------------------------------------------------------
def test_to_categorical():
    y = np.array([[6], [0], [9]])                       # CIFAR-10's (N, 1) labels
    out = to_categorical(y)
    assert out.shape == (3, 10) and out.dtype == np.float32
    np.testing.assert_array_equal(out.argmax(axis=1), [6, 0, 9])
    assert out.sum() == 3
    assert to_categorical([1, 2], num_classes=5).shape == (2, 5)
    assert to_categorical(np.zeros((2, 3), int), 4).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([7], num_classes=5)
    with pytest.raises(ValueError, match=">= 0"):
        to_categorical([-1, 2])


def test_normalize_matches_sklearn_and_seed_004():
    from sklearn.preprocessing import normalize as sk_normalize
    rng = np.random.default_rng(10)
    x = rng.standard_normal((6, 5))
    np.testing.assert_allclose(normalize(x, axis=1), sk_normalize(x, axis=1), rtol=1e-12)
    np.testing.assert_allclose(normalize(x, axis=0), sk_normalize(x, axis=0), rtol=1e-12)
    np.testing.assert_allclose(normalize(x, axis=1, order=1), sk_normalize(x, norm="l1", axis=1), rtol=1e-12)
    images = rng.integers(0, 256, (3, 8, 8, 3)).astype(np.uint8)   # seed 004: normalize(x_train, axis=1)
    images[0, :, 2, 1] = 0
    out = normalize(images, axis=1)
    assert out.dtype == np.float32
    col = images[1, :, 4, 2].astype(np.float64)
    np.testing.assert_allclose(out[1, :, 4, 2], col / np.sqrt(np.sum(col ** 2)), rtol=1e-6)
    np.testing.assert_array_equal(out[0, :, 2, 1], 0)          # zero norms stay zero (divided by 1)


def test_train_test_split():
    x = np.arange(50).reshape(25, 2)
    y = np.arange(25)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.1, seed=21)
    assert len(x_te) == math.ceil(0.1 * 25) == 3 and len(x_tr) == 22        # scikit-learn's rounding
    np.testing.assert_array_equal(x_tr[:, 0] // 2, y_tr)
    assert sorted(np.concatenate([y_tr, y_te])) == list(range(25))
    again = train_test_split(x, y, test_size=0.1, random_state=21)
    np.testing.assert_array_equal(again[3], y_te)
    assert list(train_test_split(x, y, test_size=5, shuffle=False)[3]) == [20, 21, 22, 23, 24]
    with pytest.raises(ValueError, match="different lengths"):
        train_test_split(x, y[:3])
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(x, y, test_size=1.5)


def test_flow_feeds_model_fit_as_in_seed_004():
    """``model.fit(datagen.flow(x, y), steps_per_epoch=len(it))`` learns a separable task (bright vs dark)."""
    import faltung
    from faltung.layers import Dense, Flatten
    faltung.utils.set_random_seed(0)
    labels = np.arange(64) % 2
    x = (np.random.default_rng(0).uniform(0, 0.3, (64, 8, 8, 1)) + 0.7 * labels[:, None, None, None])
    y = to_categorical(labels)
    model = faltung.Sequential([Flatten(input_shape=(8, 8, 1)), Dense(2, activation="softmax")])
    model.compile(optimizer=faltung.optimizers.Adam(0.05), loss="categorical_crossentropy", metrics=["accuracy"])
    it = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1, rotation_range=30,
                            horizontal_flip=True).flow(x.astype(np.float32), y, batch_size=16, seed=0)
    history = model.fit(it, steps_per_epoch=len(it), epochs=5, verbose=0)
    assert len(history.history["loss"]) == 5
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0)[1] >= 0.95


def test_channel_shift_and_interpolation_order():
    x = np.random.default_rng(11).uniform(10, 20, (2, 4, 4, 3)).astype(np.float32)
    gen = ImageDataGenerator()
    out = gen.apply_transform_batch(x, {"channel_shift_intensity": np.array([1.0, -100.0])})
    np.testing.assert_allclose(out[0], np.minimum(x[0] + 1.0, x[0].max()), rtol=1e-6)   # clipped to the max
    np.testing.assert_allclose(out[1], x[1].min())                                     # all down to the min
    nearest = ImageDataGenerator(interpolation_order=0).apply_transform(x[0], {"tx": 0.4})
    np.testing.assert_array_equal(nearest, x[0])                    # 0.4 px rounds to the same pixel
    with pytest.raises(ValueError, match="interpolation_order"):
        ImageDataGenerator(interpolation_order=3)
    with pytest.raises(ValueError, match="channels_last"):
        ImageDataGenerator(data_format="channels_first")
