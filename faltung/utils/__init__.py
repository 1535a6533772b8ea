"""Utilities with Keras's names.

``set_random_seed`` (faltung.rng), ``clear_session`` (faltung.backend), ``to_categorical``, ``normalize`` and
``train_test_split`` (faltung.utils.data), ``image_dataset_from_directory``
(faltung.datasets) and ``load_img`` / ``img_to_array`` / ``array_to_img``
(faltung.preprocessing.image), as under ``keras.utils``.
"""
import importlib

from ..backend import clear_session  # noqa: F401
from ..rng import set_random_seed  # noqa: F401

_WHERE = {
    "to_categorical": ".data", "normalize": ".data", "train_test_split": ".data",
    "image_dataset_from_directory": "..datasets.image_folder",
    "load_img": "..preprocessing.image", "img_to_array": "..preprocessing.image",
    "array_to_img": "..preprocessing.image",
}


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module 'faltung.utils' has no attribute {name!r}")
