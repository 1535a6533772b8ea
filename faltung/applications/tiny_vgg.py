"""Tiny VGG, the network of CNN Explainer (Wang et al. 2020, poloclub.github.io/cnn-explainer).

  input (64, 64, 3)
  conv_1_1 Conv2D(10, 3x3, relu, valid) -> (62, 62, 10)   (3*3*3 + 1) * 10  =    280
  conv_1_2 Conv2D(10, 3x3, relu, valid) -> (60, 60, 10)   (3*3*10 + 1) * 10 =    910
  max_pool_1 MaxPooling2D(2)            -> (30, 30, 10)
  conv_2_1 Conv2D(10, 3x3, relu, valid) -> (28, 28, 10)                        910
  conv_2_2 Conv2D(10, 3x3, relu, valid) -> (26, 26, 10)                        910
  max_pool_2 MaxPooling2D(2)            -> (13, 13, 10)
  Flatten                               -> (1690,)
  output Dense(10, softmax)                               (1690 + 1) * 10   = 16,910
                                                                    total     19,920
"""
from ..layers import Conv2D, Dense, Flatten, MaxPooling2D
from ..models import Sequential

TINY_VGG_PARAMS = 19_920  # for input (64, 64, 3) and 10 classes


def tiny_vgg(input_shape=(64, 64, 3), classes=10, name="tiny_vgg"):
    """CNN Explainer's Tiny VGG (uncompiled): 19,920 parameters at (64, 64, 3) / 10 classes."""
    return Sequential([
        Conv2D(10, 3, activation="relu", input_shape=tuple(input_shape), name="conv_1_1"),
        Conv2D(10, 3, activation="relu", name="conv_1_2"),
        MaxPooling2D(2, name="max_pool_1"),
        Conv2D(10, 3, activation="relu", name="conv_2_1"),
        Conv2D(10, 3, activation="relu", name="conv_2_2"),
        MaxPooling2D(2, name="max_pool_2"),
        Flatten(name="flatten"),
        Dense(classes, activation="softmax", name="output"),
    ], name=name)
