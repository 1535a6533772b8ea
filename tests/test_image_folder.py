"""image_folder / image_dataset_from_directory on a small folder of generated images."""
import importlib
import os
import warnings

import numpy as np
import pytest
from PIL import Image

from faltung.datasets import image_dataset_from_directory, image_folder

# the module faltung/datasets/image_folder.py (the package attribute of that name is the function)
folder_module = importlib.import_module("faltung.datasets.image_folder")

COLORS = {"cat": (200, 10, 10), "dog": (10, 200, 10), "eel": (10, 10, 200)}
FORMATS = ["png", "jpg", "bmp", "gif", "jpeg", "PNG"]


@pytest.fixture
def folder(tmp_path):
    """3 classes x 6 solid-colour images (one per format, sizes vary), plus files that are not images."""
    root = tmp_path / "pets"
    for name, color in COLORS.items():
        (root / name).mkdir(parents=True)
        for i, ext in enumerate(FORMATS):
            img = Image.new("RGB", (10 + i, 8 + 2 * i), color)
            fmt = {"jpg": "JPEG", "jpeg": "JPEG"}.get(ext.lower(), ext.upper())
            img.save(root / name / f"{i:02d}.{ext}", format=fmt, **({"quality": 100} if fmt == "JPEG" else {}))
        (root / name / "notes.txt").write_text("not an image, ignored by extension")
    (root / "dog" / "nested").mkdir()
    Image.new("RGB", (5, 5), COLORS["dog"]).save(root / "dog" / "nested" / "deep.png")
    return root


def color_of(path):
    return next(c for name, c in COLORS.items() if f"{os.sep}{name}{os.sep}" in path)


def test_batches_labels_and_pixels(folder):
    ds = image_folder(folder, image_size=(6, 7), batch_size=4, seed=1)
    assert ds.class_names == ["cat", "dog", "eel"]
    assert len(ds.file_paths) == 19 and len(ds) == 5          # ceil(19 / 4)
    assert not any(p.endswith(".txt") for p in ds.file_paths)
    seen = []
    for x, y in ds:
        assert x.dtype == np.float32 and x.shape[1:] == (6, 7, 3) and y.dtype == np.int32
        for xi, yi in zip(x, y):
            color = list(COLORS.values())[yi]
            np.testing.assert_allclose(xi.reshape(-1, 3).mean(axis=0), color, atol=3)   # JPEG: +-3
        seen.append(len(x))
    assert seen == [4, 4, 4, 4, 3]
    by_label = {p: ds.labels[i] for i, p in enumerate(ds.file_paths)}
    assert all(color_of(p) == list(COLORS.values())[lab] for p, lab in by_label.items())
    assert image_dataset_from_directory is image_folder


def test_epochs_reshuffle_and_unshuffled_order(folder):
    ds = image_folder(folder, image_size=(4, 4), batch_size=19, seed=2)
    first = np.concatenate([y for _, y in ds])
    second = np.concatenate([y for _, y in ds])
    assert sorted(first) == sorted(second) == [0] * 6 + [1] * 7 + [2] * 6
    assert not np.array_equal(first, second)                  # a new order each epoch
    fixed = image_folder(folder, image_size=(4, 4), shuffle=False, batch_size=32)
    names = [os.path.relpath(p, folder) for p in fixed.file_paths]
    assert names[:6] == [f"cat{os.sep}{i:02d}.{ext}" for i, ext in enumerate(FORMATS)]
    assert names[12] == f"dog{os.sep}nested{os.sep}deep.png"
    np.testing.assert_array_equal(next(iter(fixed))[1], [0] * 6 + [1] * 7 + [2] * 6)


def test_validation_split_as_keras(folder):
    train = image_folder(folder, validation_split=0.25, subset="training", seed=7, image_size=(4, 4))
    val = image_folder(folder, validation_split=0.25, subset="validation", seed=7, image_size=(4, 4))
    assert len(val.file_paths) == int(0.25 * 19) == 4 and len(train.file_paths) == 15
    assert set(train.file_paths).isdisjoint(val.file_paths)
    every = image_folder(folder, shuffle=False, image_size=(4, 4)).file_paths
    assert sorted(train.file_paths + val.file_paths) == sorted(every)
    # Keras: one np.random.RandomState(seed) shuffle of the sorted list; validation = its tail
    order = np.arange(19)
    np.random.RandomState(7).shuffle(order)
    assert val.file_paths == [every[i] for i in order[-4:]]
    both = image_folder(folder, validation_split=0.25, subset="both", seed=7, image_size=(4, 4))
    assert both[0].file_paths == train.file_paths and both[1].file_paths == val.file_paths


def test_label_modes_and_color_modes(folder):
    x, y = next(iter(image_folder(folder, label_mode="categorical", image_size=(3, 3), batch_size=5, seed=0)))
    assert y.shape == (5, 3) and y.dtype == np.float32 and np.all(y.sum(axis=1) == 1)
    only_x = next(iter(image_folder(folder, labels=None, image_size=(3, 3), batch_size=5, color_mode="grayscale")))
    assert isinstance(only_x, np.ndarray) and only_x.shape == (5, 3, 3, 1)
    two = image_folder(folder, class_names=["eel", "cat"], label_mode="binary", image_size=(3, 3), shuffle=False)
    x, y = next(iter(two))
    assert two.class_names == ["eel", "cat"] and y.shape == (12, 1)
    np.testing.assert_array_equal(y[:, 0], [0] * 6 + [1] * 6)   # eel first: the given order
    np.testing.assert_allclose(x[0].reshape(-1, 3).mean(axis=0), COLORS["eel"], atol=3)
    with pytest.raises(ValueError, match="exactly 2 classes"):
        image_folder(folder, label_mode="binary")
    explicit = image_folder(folder, labels=list(range(19)), image_size=(3, 3), shuffle=False, batch_size=19)
    np.testing.assert_array_equal(next(iter(explicit))[1], np.arange(19))


def test_sequence_protocol_for_fit(folder):
    """``ds[i]`` + ``on_epoch_end()``: what a training loop that takes Keras Sequences uses."""
    ds = image_folder(folder, image_size=(4, 4), batch_size=8, seed=3)
    epoch = [ds[i][1] for i in range(len(ds))]
    assert sorted(np.concatenate(epoch)) == sorted(ds.labels)
    np.testing.assert_array_equal(ds[1][1], epoch[1])          # stable within the epoch
    ds.on_epoch_end()
    assert not all(np.array_equal(ds[i][1], epoch[i]) for i in range(len(ds)))
    with pytest.raises(IndexError):
        ds[len(ds)]
    single = image_folder(folder, image_size=(4, 4), batch_size=None, shuffle=False)
    x, y = single[0]
    assert len(single) == 19 and x.shape == (4, 4, 3) and y == 0


def test_loads_lazily_per_batch(folder, monkeypatch):
    calls = []
    real = folder_module.load_img

    def counting(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)
    monkeypatch.setattr(folder_module, "load_img", counting)
    ds = image_folder(folder, image_size=(4, 4), batch_size=4, seed=0)
    assert calls == []
    it = iter(ds)
    next(it)
    assert len(calls) == 4
    next(it)
    assert len(calls) == 8


def test_non_image_raises_or_is_skipped(folder):
    (folder / "cat" / "broken.png").write_bytes(b"GIF89a? no, just text")
    with pytest.raises(ValueError, match=r"broken\.png: not a readable image file"):
        image_folder(folder)
    with pytest.warns(UserWarning, match=r"skipping .*broken\.png"):
        ds = image_folder(folder, on_error="skip", image_size=(4, 4), seed=0)
    assert len(ds.file_paths) == 19 and not any("broken" in p for p in ds.file_paths)


def test_truncated_image_fails_at_load_time(folder):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    Image.fromarray(noise).save(folder / "eel" / "00.png")
    data = (folder / "eel" / "00.png").read_bytes()
    (folder / "eel" / "00.png").write_bytes(data[:len(data) // 2])   # header intact, pixel data cut
    ds = image_folder(folder, image_size=(4, 4), shuffle=False, batch_size=32)
    with pytest.raises(ValueError, match=r"eel.00\.png: not a readable image file"):
        next(iter(ds))
    ds = image_folder(folder, image_size=(4, 4), shuffle=False, batch_size=32, on_error="skip")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x, y = next(iter(ds))
    assert len(x) == len(y) == 18 and any("00.png" in str(w.message) for w in caught)


def test_argument_errors(folder, tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="must be given together"):
        image_folder(folder, subset="training")
    with pytest.raises(ValueError, match="pass a seed"):
        image_folder(folder, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="label_mode"):
        image_folder(folder, label_mode="sparse")
    with pytest.raises(ValueError, match="do not match"):
        image_folder(folder, class_names=["cat", "cow"])
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images found"):
        image_folder(tmp_path / "empty")


def test_model_fit_on_an_image_folder(folder):
    """The dataset object goes straight into ``model.fit`` and the colours are learned."""
    import faltung
    from faltung.layers import Dense, GlobalAveragePooling2D, Rescaling
    faltung.utils.set_random_seed(0)
    ds = image_folder(folder, image_size=(6, 6), batch_size=5, seed=0)
    model = faltung.Sequential([Rescaling(1 / 255.0, input_shape=(6, 6, 3)), GlobalAveragePooling2D(),
                                Dense(3, activation="softmax")])
    model.compile(optimizer=faltung.optimizers.Adam(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(ds, epochs=15, verbose=0)
    assert len(history.history["loss"]) == 15
    assert history.history["accuracy"][-1] == 1.0


def test_symlinked_class_folders_follow_links(folder, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    Image.new("RGB", (5, 5), COLORS["cat"]).save(outside / "linked.png")
    os.symlink(outside, folder / "cat" / "more")
    assert len(image_folder(folder, image_size=(4, 4), seed=0).file_paths) == 19
    assert len(image_folder(folder, image_size=(4, 4), seed=0, follow_links=True).file_paths) == 20
    import faltung.preprocessing
    assert faltung.preprocessing.image_dataset_from_directory is image_folder


def test_empty_folder_and_empty_subset_say_what_was_expected(tmp_path):
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"expected files ending in \.bmp, \.gif, \.jpeg, \.jpg, \.png\)$"):
        image_folder(tmp_path / "empty")
    (tmp_path / "two" / "a").mkdir(parents=True)
    for i in range(2):
        Image.new("RGB", (5, 5), (i, 0, 0)).save(tmp_path / "two" / "a" / f"{i}.png")
    with pytest.raises(ValueError, match="validation_split=0.2 of 2 images leaves none; expected more images"):
        image_folder(tmp_path / "two", validation_split=0.2, subset="validation", seed=1)
