"""Datasets for the command line and the preprocessing that turns their images into model inputs.

Raw images are uint8 ``(N, h, w)`` or ``(N, h, w, c)``. A *preprocessing* dict (stored in run.json,
see ``faltung.cli.runs``) says how they become the model's float32 ``(N, H, W, C)`` input:
convert to ``color_mode``, resize to ``image_size``, multiply by ``scale``, zero-pad by ``pad``.
"""
import os

import numpy as np

from .runs import UsageError

DATASET_NAMES = ("mnist", "fashion_mnist", "cifar10")
SCALE = 1.0 / 255.0
MAX_PAD = 4  # pad a dataset at most this much on each side to fit a model (LeNet-5: 28 -> 32 is 2)


def dataset_name(text):
    """The ``--dataset`` argument: a built-in name, spelt as the user likes (``MNIST``, ``fashion-mnist``,
    ``cifar-10``) unless a folder of that name exists, or else an image folder path (kept as given)."""
    key = text.lower().replace("-", "_")
    key = "cifar10" if key == "cifar_10" else key
    if text in DATASET_NAMES or (key in DATASET_NAMES and not os.path.isdir(text)):
        return key
    return text


def _subset(x, y, limit):
    return (x, y) if limit is None else (x[:limit], y[:limit])


def load_named(name, limit=None):
    """``(x_train, y_train), (x_test, y_test), class_names`` of a built-in dataset (uint8 images)."""
    import importlib
    module = importlib.import_module(f"faltung.datasets.{name}")
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data()
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot load dataset {name}: {error}") from None
    y_train, y_test = np.asarray(y_train).reshape(-1), np.asarray(y_test).reshape(-1)
    class_names = list(getattr(module, "CLASS_NAMES", [str(i) for i in range(int(y_train.max()) + 1)]))
    return _subset(x_train, y_train, limit), _subset(x_test, y_test, limit), class_names


def _collect(batches, limit):
    xs, ys, count = [], [], 0
    for x, y in batches:
        xs.append(np.asarray(x))
        ys.append(np.asarray(y).reshape(-1))
        count += len(xs[-1])
        if limit is not None and count >= limit:
            break
    if not xs:
        raise UsageError("the image folder holds no images for this subset")
    return _subset(np.concatenate(xs), np.concatenate(ys).astype(np.int64), limit)


def load_folder(directory, image_size, color_mode, validation_split=0.2, seed=0, limit=None):
    """An image folder (one sub-folder per class) as ``(x_train, y_train), (x_test, y_test), class_names``.

    With ``train/`` and ``test/`` sub-folders those are the two sets; otherwise ``validation_split``
    of the images (default 0.2) are held out as the test set. Images are resized to ``image_size``.
    """
    from ..datasets import image_folder
    if not os.path.isdir(directory):
        raise UsageError(f"dataset must be one of {', '.join(DATASET_NAMES)} or an image folder; "
                         f"no such folder: {directory}")
    common = dict(image_size=tuple(image_size), color_mode=color_mode, batch_size=256)
    try:
        train_dir, test_dir = os.path.join(directory, "train"), os.path.join(directory, "test")
        if os.path.isdir(train_dir) and os.path.isdir(test_dir):
            train = image_folder(train_dir, **common)
            test = image_folder(test_dir, **common)
        else:
            split = validation_split or 0.2
            train = image_folder(directory, validation_split=split, subset="training", seed=seed, **common)
            test = image_folder(directory, validation_split=split, subset="validation", seed=seed, **common)
        class_names = list(train.class_names)
        train_xy, test_xy = _collect(train, limit), _collect(test, limit)
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read image folder {directory}: {error}") from None
    return train_xy, test_xy, class_names


def image_shape(x):
    """(h, w, c) of a batch of raw images (N, h, w) or (N, h, w, c)."""
    return tuple(x.shape[1:3]) + ((x.shape[3],) if x.ndim == 4 else (1,))


def plan_preprocessing(data_shape, input_shape):
    """How images of ``data_shape`` (h, w, c) become inputs of ``input_shape`` (H, W, C).

    Pixels are scaled to [0, 1]; grayscale/RGB is converted to the model's channels; a smaller
    image is zero-padded symmetrically by at most ``MAX_PAD`` per side (MNIST's 28 -> LeNet-5's 32).
    """
    h, w, _ = data_shape
    big_h, big_w, channels = input_shape
    if channels not in (1, 3):
        raise UsageError(f"the model expects {channels} input channels; faltung can feed it only "
                         "grayscale (1) or RGB (3) images")
    pads = []
    for have, want, axis in ((h, big_h, "height"), (w, big_w, "width")):
        extra = (want or have) - have
        if extra < 0 or extra > 2 * MAX_PAD:
            raise UsageError(f"the model expects images of {big_h}x{big_w}, the dataset's are {h}x{w} "
                             f"(only padding by up to {MAX_PAD} pixels per side is done)")
        pads.append([extra // 2, extra - extra // 2])
    return {"color_mode": "grayscale" if channels == 1 else "rgb", "image_size": [int(h), int(w)],
            "scale": SCALE, "pad": pads}


def _convert_channels(x, color_mode):
    """(N, h, w[, c]) -> (N, h, w, 1 or 3) float32 in the colour mode wanted."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if color_mode == "grayscale" and x.shape[-1] == 3:
        x = x @ np.array([0.299, 0.587, 0.114], np.float32)[:, None]  # ITU-R 601 luma, as Pillow's "L"
    elif color_mode == "rgb" and x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return x


def apply_preprocessing(x, preprocessing):
    """Raw images (N, h, w[, c]) of size ``image_size`` -> float32 model inputs (N, H, W, C)."""
    x = _convert_channels(x, preprocessing.get("color_mode", "grayscale"))
    h, w = preprocessing.get("image_size", x.shape[1:3])
    if tuple(x.shape[1:3]) != (h, w):
        raise UsageError(f"expected images of {h}x{w}, got {x.shape[1]}x{x.shape[2]}")
    x = x * np.float32(preprocessing.get("scale", SCALE))
    (top, bottom), (left, right) = preprocessing.get("pad", [[0, 0], [0, 0]])
    if top or bottom or left or right:
        x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    return x


def load_image(path, preprocessing, invert=False):
    """One image file (PNG, JPEG, ...) as a model input (H, W, C) following ``preprocessing``.

    ``invert``: use 255 - pixel (a dark digit on white paper -> MNIST's white digit on black).
    """
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as image:
            mode = "L" if preprocessing.get("color_mode") == "grayscale" else "RGB"
            h, w = preprocessing["image_size"]
            image = image.convert(mode).resize((int(w), int(h)), Image.BILINEAR)
            pixels = np.asarray(image, dtype=np.uint8)
            if invert:
                pixels = 255 - pixels
    except FileNotFoundError:
        raise UsageError(f"no such image file: {path}") from None
    except (UnidentifiedImageError, OSError) as error:
        raise UsageError(f"cannot read image {path}: {error}") from None
    return apply_preprocessing(pixels[None], preprocessing)[0]


def default_preprocessing(input_shape):
    """For a bare model file without run.json: scale to [0, 1], images at the model's own size."""
    big_h, big_w, channels = input_shape
    return {"color_mode": "grayscale" if channels == 1 else "rgb", "image_size": [big_h, big_w],
            "scale": SCALE, "pad": [[0, 0], [0, 0]]}
