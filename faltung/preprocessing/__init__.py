"""Keras's ``preprocessing``: ``faltung.preprocessing.image.ImageDataGenerator`` and image file helpers.

``image.py``   ImageDataGenerator (random affine transforms + standardisation), load_img, img_to_array
``affine.py``  the batched affine resampler shared with the augmentation layers
"""
from . import image  # noqa: F401
from .image import ImageDataGenerator, array_to_img, img_to_array, load_img, save_img  # noqa: F401
