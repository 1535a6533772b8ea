"""The CNNs of the lecture seeds, layer for layer (uncompiled).

``mnist_cnn``   seed 000: two Conv2D(128, 3x3, relu) + MaxPool blocks on MNIST    559,882 params
``fashion_cnn`` seed 001: the Fashion-MNIST CNN (64 7x7, 2x128, 2x256, dropout)  1,413,834 params
``cifar_cnn``   seed 004: the CIFAR-10 CNN (2x32, 2x64, 2x128 'same', dropout)     558,186 params
"""
from functools import partial

from ..layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from ..models import Sequential


def mnist_cnn(input_shape=(28, 28, 1), classes=10, name="mnist_cnn"):
    """Seed 000's MNIST model.

    conv 28->26 (1,280) pool ->13, conv ->11 (147,584) pool ->5, flatten 3,200,
    Dense 128 (409,728), Dense 10 (1,290): 559,882 parameters.
    """
    return Sequential([
        Conv2D(128, kernel_size=(3, 3), activation="relu", input_shape=tuple(input_shape)),
        MaxPooling2D(pool_size=(2, 2)),
        Conv2D(128, kernel_size=(3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(classes, activation="softmax"),
    ], name=name)


def fashion_cnn(input_shape=(28, 28, 1), classes=10, name="fashion_cnn"):
    """Seed 001's Fashion-MNIST model (``DefaultConv2D = partial(Conv2D, 3, relu, "SAME")``)."""
    default_conv2d = partial(Conv2D, kernel_size=3, activation="relu", padding="SAME")
    return Sequential([
        default_conv2d(filters=64, kernel_size=7, input_shape=tuple(input_shape)),
        MaxPooling2D(pool_size=2),
        default_conv2d(filters=128),
        default_conv2d(filters=128),
        MaxPooling2D(pool_size=2),
        default_conv2d(filters=256),
        default_conv2d(filters=256),
        MaxPooling2D(pool_size=2),
        Flatten(),
        Dense(units=128, activation="relu"),
        Dropout(0.5),
        Dense(units=64, activation="relu"),
        Dropout(0.5),
        Dense(units=classes, activation="softmax"),
    ], name=name)


def cifar_cnn(input_shape=(32, 32, 3), classes=10, name="cifar_cnn"):
    """Seed 004's CIFAR-10 model: three blocks of two 3x3 'same' convs + max pooling."""
    layers = [Conv2D(32, (3, 3), padding="same", activation="relu", input_shape=tuple(input_shape)),
              Conv2D(32, (3, 3), padding="same", activation="relu"),
              MaxPooling2D(pool_size=(2, 2))]
    for filters in (64, 128):
        layers += [Conv2D(filters, (3, 3), padding="same", activation="relu"),
                   Conv2D(filters, (3, 3), padding="same", activation="relu"),
                   MaxPooling2D(pool_size=(2, 2))]
    layers += [Flatten(), Dropout(0.5),
               Dense(128, activation="relu"), Dense(64, activation="relu"),
               Dense(classes, activation="softmax")]
    return Sequential(layers, name=name)
