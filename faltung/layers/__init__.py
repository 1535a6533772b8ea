"""Keras 3 layers, each with its own forward and backward.

Where each layer lives:
  conv.py           Conv2D, Conv2DTranspose
  pooling.py        MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D
  core.py           Dense, Activation, Dropout, Rescaling
  reshaping.py      Flatten, Reshape, ZeroPadding2D
  activation.py     ReLU, LeakyReLU, PReLU, ELU, Softmax
  normalization.py  BatchNormalization
  merge.py          Concatenate, Add
  input_layer.py    InputLayer, Input
  augmentation.py   RandomFlip, RandomTranslation, RandomRotation, RandomZoom, RandomCrop, RandomContrast
"""
import importlib

from .base import Layer, deserialize, serialize

_WHERE = {
    "Conv2D": "conv", "Conv2DTranspose": "conv",
    "MaxPooling2D": "pooling", "AveragePooling2D": "pooling",
    "GlobalAveragePooling2D": "pooling", "GlobalMaxPooling2D": "pooling",
    "Dense": "core", "Dropout": "core", "Rescaling": "core", "Activation": "core",
    "Flatten": "reshaping", "Reshape": "reshaping", "ZeroPadding2D": "reshaping",
    "ReLU": "activation", "LeakyReLU": "activation", "PReLU": "activation",
    "ELU": "activation", "Softmax": "activation",
    "BatchNormalization": "normalization",
    "Concatenate": "merge", "Add": "merge",
    "InputLayer": "input_layer", "Input": "input_layer",
    "RandomFlip": "augmentation", "RandomTranslation": "augmentation",
    "RandomRotation": "augmentation", "RandomZoom": "augmentation",
    "RandomCrop": "augmentation", "RandomContrast": "augmentation",
}
# Keras aliases
_ALIASES = {"Convolution2D": "Conv2D", "MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D",
            "GlobalAvgPool2D": "GlobalAveragePooling2D", "GlobalMaxPool2D": "GlobalMaxPooling2D",
            "Conv2DTranspose": "Conv2DTranspose"}

__all__ = ["Layer", "serialize", "deserialize", *_WHERE, *_ALIASES]


def __getattr__(name):
    target = _ALIASES.get(name, name)
    if target in _WHERE:
        module = importlib.import_module(f".{_WHERE[target]}", __name__)
        return getattr(module, target)
    raise AttributeError(f"module 'faltung.layers' has no attribute {name!r}")


def load_all():
    """Import every layer module so that ``Layer.registry`` knows every class."""
    for module in set(_WHERE.values()):
        importlib.import_module(f".{module}", __name__)
