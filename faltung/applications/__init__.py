"""The model zoo: the lecture seeds' CNNs and a few classic architectures, built from faltung layers.

Every builder returns an uncompiled model with random weights (no pretrained weights ship).

  name           builder                     input                  parameters
  lenet5         lenet.lenet5()              32x32x1, seed 001          61,706
  mnist_cnn      seeds.mnist_cnn()           28x28x1, seed 000         559,882
  fashion_cnn    seeds.fashion_cnn()         28x28x1, seed 001       1,413,834
  cifar_cnn      seeds.cifar_cnn()           32x32x3, seed 004         558,186
  tiny_vgg       tiny_vgg.tiny_vgg()         64x64x3, CNN Explainer     19,920
  vgg16          vgg.vgg16()                 224x224x3, seed 004   138,357,544
  inception_net  inception.inception_net()   32x32x3, 2 modules         34,302
  densenet       densenet.densenet()         32x32x3, 3 blocks, k=12    78,550
  resnet20       resnet.resnet20()           32x32x3, He et al. 2016   274,042

``NAMES`` lists them, ``ZOO`` maps them to the builders, ``get(name)`` looks one up with a clear error.
Modules are imported on first use (so ``faltung --help`` stays fast).
"""
import importlib

#: zoo name -> module of faltung.applications defining the builder of the same name
_MODULES = {
    "lenet5": "lenet",
    "mnist_cnn": "seeds",
    "fashion_cnn": "seeds",
    "cifar_cnn": "seeds",
    "tiny_vgg": "tiny_vgg",
    "vgg16": "vgg",
    "inception_net": "inception",
    "densenet": "densenet",
    "resnet20": "resnet",
}
#: the other public names and where they live (imported on first use, like faltung.layers)
_HELPERS = {"VGG16": "vgg", "inception_module": "inception", "dense_block": "densenet",
            "basic_block": "resnet"}
NAMES = tuple(_MODULES)


def get(name):
    """The builder called ``name`` (see ``NAMES``), or a ValueError listing the names there are."""
    if name not in _MODULES:
        raise ValueError(f"unknown model {name!r}: expected one of {', '.join(NAMES)}")
    return getattr(importlib.import_module(f".{_MODULES[name]}", __name__), name)


def __getattr__(name):
    if name == "ZOO":
        return {n: get(n) for n in NAMES}
    if name in _MODULES:
        return get(name)
    if name in _HELPERS:
        return getattr(importlib.import_module(f".{_HELPERS[name]}", __name__), name)
    raise AttributeError(f"module 'faltung.applications' has no attribute {name!r}")


__all__ = ["ZOO", "NAMES", "get", *_MODULES, *_HELPERS]
