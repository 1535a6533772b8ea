"""Keras's ``preprocessing``: ``faltung.preprocessing.image.ImageDataGenerator`` and image file helpers.

``image.py``   ImageDataGenerator (random affine transforms + standardisation), load_img, img_to_array
``affine.py``  the batched affine resampler shared with the augmentation layers
``image_dataset_from_directory`` is ``faltung.datasets.image_folder`` (as ``keras.preprocessing``).
"""
from . import image  # noqa: F401
from .image import ImageDataGenerator, array_to_img, img_to_array, load_img, save_img  # noqa: F401


def __getattr__(name):
    if name == "image_dataset_from_directory":   # lazy: faltung.datasets imports this package
        from ..datasets.image_folder import image_folder
        return image_folder
    raise AttributeError(f"module 'faltung.preprocessing' has no attribute {name!r}")
