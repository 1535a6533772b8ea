"""Your own images: one subfolder per class, as Keras's ``image_dataset_from_directory``.

    main_directory/
        cat/  a.jpg  b.png ...
        dog/  c.jpg ...

``image_folder(directory, ...)`` lists the files (``.bmp .gif .jpeg .jpg .png``, any case, found
recursively in each class folder, class folders sorted by name), splits them as Keras does
(one shuffle of the list with ``np.random.RandomState(seed)``; the last ``int(validation_split * n)``
files are the validation subset, so "training" and "validation" with the same seed are disjoint),
and returns a lazy dataset: images are decoded (Pillow) and resized per batch, so a folder larger
than memory still trains. Iterating again starts a new epoch (reshuffled when ``shuffle``).

Deviation from Keras: Pillow's resize filters antialias when shrinking (tf.image.resize does not),
so pixels of downscaled images differ slightly from TensorFlow's.
"""
import math
import os
import warnings

import numpy as np

from .. import rng as _rng
from ..preprocessing._pil import COLOR_MODES, PIL_FILTERS, img_to_array, load_img

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def _image_files(folder, follow_links=False):
    """Image files under ``folder``, recursively, in sorted (alphanumeric) order."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=follow_links):
        dirs.sort()
        found.extend(os.path.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS))
    return found


def _readable(path):
    """Check the header of an image file (cheap: Pillow reads only the header here)."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            img.size  # noqa: B018 (the header is parsed by open)
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"{path}: not a readable image file ({err})") from None


def _index_directory(directory, labels, class_names, follow_links):
    """``(file_paths, labels or None, class_names)`` in sorted order."""
    if labels == "inferred":
        subdirs = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
        if class_names is not None:
            if not set(class_names) <= set(subdirs):
                raise ValueError(f"image_folder: class_names {list(class_names)} do not match the "
                                 f"subdirectories of {directory}: {subdirs}")
            subdirs = list(class_names)
        paths, label_list = [], []
        for index, name in enumerate(subdirs):
            files = _image_files(os.path.join(directory, name), follow_links)
            paths.extend(files)
            label_list.extend([index] * len(files))
        return paths, np.array(label_list, dtype=np.int32), list(subdirs)
    paths = _image_files(directory, follow_links)
    if labels is None:
        return paths, None, None
    label_list = np.asarray(labels)
    if len(label_list) != len(paths):
        raise ValueError(f"image_folder: expected {len(paths)} labels, one per image file found in "
                         f"{directory} (sorted), got {len(label_list)}")
    return paths, label_list, class_names


def _split(paths, labels, validation_split, subset):
    """Keras's split: validation = the last ``int(validation_split * n)`` files of the shuffled list."""
    if not validation_split:
        return paths, labels
    n_val = int(validation_split * len(paths))
    cut = len(paths) - n_val
    part = slice(0, cut) if subset == "training" else slice(cut, None)
    return paths[part], (None if labels is None else labels[part])


class ImageFolderDataset:
    """Lazy batches ``(x (B, H, W, C) float32 0..255, y)`` from image files; ``len()`` = batches per epoch."""

    def __init__(self, file_paths, labels, class_names, label_mode, color_mode, batch_size,
                 image_size, shuffle, seed, interpolation, on_error, crop_to_aspect_ratio):
        self.file_paths = list(file_paths)
        self.labels = labels
        self.class_names = class_names
        self.label_mode, self.color_mode = label_mode, color_mode
        self.batch_size = batch_size
        self.image_size = tuple(image_size)
        self.shuffle, self.interpolation, self.on_error = shuffle, interpolation, on_error
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self._rng = _rng.make_generator(seed)
        self._order = None
        self.num_classes = (len(class_names) if class_names is not None
                            else (int(np.max(labels)) + 1 if labels is not None and len(labels) else 0))

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self.batch_size)

    def _encode(self, labels):
        if self.label_mode == "int":
            return labels.astype(np.int32)
        if self.label_mode == "categorical":
            return np.eye(self.num_classes, dtype=np.float32)[labels]
        return labels.astype(np.float32).reshape(-1, 1)   # "binary"

    def _load(self, indices):
        images, kept = [], []
        for i in indices:
            path = self.file_paths[i]
            try:
                img = load_img(path, self.color_mode, self.image_size, self.interpolation,
                               keep_aspect_ratio=self.crop_to_aspect_ratio)
            except ValueError:
                if self.on_error == "raise":
                    raise
                warnings.warn(f"image_folder: skipping {path}: not a readable image file", stacklevel=3)
                continue
            images.append(img_to_array(img))
            kept.append(i)
        h, w = self.image_size
        x = np.stack(images) if images else np.zeros((0, h, w, CHANNELS[self.color_mode]), np.float32)
        if self.labels is None or self.label_mode is None:
            return x
        return x, self._encode(np.asarray(self.labels)[kept])

    def on_epoch_end(self):
        """Draw the order of the next epoch (a new permutation when ``shuffle``)."""
        n = len(self.file_paths)
        self._order = self._rng.permutation(n) if self.shuffle else np.arange(n)

    def __getitem__(self, index):
        """Batch ``index`` of the current epoch, as a Keras ``Sequence`` (then ``on_epoch_end()``)."""
        if not 0 <= index < len(self):
            raise IndexError(f"image_folder: batch index {index} out of range [0, {len(self)})")
        if self._order is None:
            self.on_epoch_end()
        size = 1 if self.batch_size is None else self.batch_size
        batch = self._load(self._order[index * size:(index + 1) * size])
        if self.batch_size is None:   # unbatched: one image (and label)
            return tuple(part[0] for part in batch) if isinstance(batch, tuple) else batch[0]
        return batch

    def __iter__(self):
        """One epoch, in a fresh order."""
        self.on_epoch_end()
        for index in range(len(self)):
            yield self[index]

    def take(self, count):
        """The first ``count`` batches of a new epoch (``for x, y in ds.take(1)`` as with tf.data)."""
        for i, batch in enumerate(self):
            if i >= count:
                return
            yield batch

    def __repr__(self):
        return (f"<ImageFolderDataset {len(self.file_paths)} files, {len(self)} batches of "
                f"{self.batch_size}, image_size={self.image_size}, classes={self.class_names}>")


def image_folder(directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
                 batch_size=32, image_size=(256, 256), shuffle=True, seed=None, validation_split=None,
                 subset=None, interpolation="bilinear", follow_links=False, crop_to_aspect_ratio=False,
                 on_error="raise"):
    """A lazy dataset of image batches from ``directory`` (Keras's ``image_dataset_from_directory``).

    Returns an ``ImageFolderDataset`` yielding ``(x (B, H, W, C) float32, y)`` with ``y`` int32 (B,)
    for ``label_mode="int"``, float32 (B, classes) for ``"categorical"``, float32 (B, 1) for
    ``"binary"``, and ``x`` alone for ``labels=None`` / ``label_mode=None``.
    ``subset="both"`` returns ``(training, validation)``.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"image_folder: {directory} is not a directory")
    if not (labels in ("inferred", None) or isinstance(labels, (list, tuple, np.ndarray))):
        raise ValueError(f"image_folder: expected labels to be 'inferred', None or a list, got {labels!r}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(f"image_folder: expected label_mode 'int', 'categorical', 'binary' or None, "
                         f"got {label_mode!r}")
    if color_mode not in COLOR_MODES:
        raise ValueError(f"image_folder: expected color_mode to be one of {list(COLOR_MODES)}, got {color_mode!r}")
    if interpolation not in PIL_FILTERS:
        raise ValueError(f"image_folder: expected interpolation to be one of {list(PIL_FILTERS)}, "
                         f"got {interpolation!r}")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"image_folder: expected on_error 'raise' or 'skip', got {on_error!r}")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size <= 0):
        raise ValueError(f"image_folder: expected a positive int batch_size or None, got {batch_size!r}")
    if class_names is not None and labels != "inferred":
        raise ValueError("image_folder: class_names is only valid with labels='inferred'")
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(f"image_folder: expected subset 'training', 'validation', 'both' or None, got {subset!r}")
    if (subset is None) != (not validation_split):
        raise ValueError("image_folder: validation_split and subset must be given together "
                         f"(got validation_split={validation_split!r}, subset={subset!r})")
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"image_folder: expected validation_split in (0, 1), got {validation_split!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError("image_folder: with validation_split and shuffle=True, pass a seed so that "
                         "the training and validation subsets do not overlap")
    if labels is None or label_mode is None:
        labels, label_mode = (None if labels != "inferred" else labels), None

    paths, label_array, class_names = _index_directory(directory, labels, class_names, follow_links)
    if label_mode == "binary" and class_names is not None and len(class_names) != 2:
        raise ValueError(f"image_folder: label_mode='binary' needs exactly 2 classes, found {len(class_names)}: "
                         f"{class_names}")
    checked_paths, checked_labels = [], []
    for i, path in enumerate(paths):
        try:
            _readable(path)
        except ValueError:
            if on_error == "raise":
                raise
            warnings.warn(f"image_folder: skipping {path}: not a readable image file", stacklevel=2)
            continue
        checked_paths.append(path)
        checked_labels.append(i)
    paths = checked_paths
    label_array = None if label_array is None else label_array[checked_labels]
    if not paths:
        raise ValueError(f"image_folder: no images found in {directory} "
                         f"(expected files ending in {', '.join(IMAGE_EXTENSIONS)})")

    if shuffle:
        if seed is None:
            seed = int(_rng.generator().integers(1_000_000))
        # Keras's exact shuffle of the file list (so its subsets are reproduced), then the same for labels
        order = np.arange(len(paths))
        np.random.RandomState(seed).shuffle(order)
        paths = [paths[i] for i in order]
        label_array = None if label_array is None else label_array[order]

    def make(which):
        p, lab = _split(paths, label_array, validation_split, which)
        if not p:
            raise ValueError(f"image_folder: the {which} subset of {directory} is empty: validation_split="
                             f"{validation_split} of {len(paths)} images leaves none; expected more images")
        return ImageFolderDataset(p, lab, class_names, label_mode if lab is not None else None, color_mode,
                                  batch_size, image_size, shuffle, seed, interpolation, on_error,
                                  crop_to_aspect_ratio)

    if subset == "both":
        return make("training"), make("validation")
    return make(subset)


image_dataset_from_directory = image_folder
