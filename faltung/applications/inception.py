"""The Inception module (Szegedy et al. 2014, GoogLeNet; seed 004 §4.1) and a small net built from it.

Naive module (seed 004, fig. 4.1): four branches on the same input, concatenated on the channel axis

    1x1 conv | 3x3 conv | 5x5 conv | 3x3 max pool (stride 1)     -> C_1x1 + C_3x3 + C_5x5 + C_in

With bottlenecks (fig. 4.2): a 1x1 convolution with fewer filters before the 3x3 and 5x5 convs, and
one after the pooling ("pool projection"), so the expensive convolutions see a thin input:

    1x1 conv | 1x1 -> 3x3 conv | 1x1 -> 5x5 conv | 3x3 max pool -> 1x1 conv

All convolutions use 'same' padding and ReLU, so every branch keeps H x W. GoogLeNet's inception (3a)
on a (28, 28, 192) input, ``inception_module(x, 64, 128, 32, 32, reduce_3x3=96, reduce_5x5=16,
bottleneck=True)``, has 163,696 parameters (163,328 weights + 368 biases: the paper's "159K" counts
the weights alone, in units of 1024).
"""
from ..layers import Concatenate, Conv2D, Dense, GlobalAveragePooling2D, Input, MaxPooling2D
from ..models import Model


def inception_module(x, filters_1x1=64, filters_3x3=128, filters_5x5=32, filters_pool=32,
                     reduce_3x3=96, reduce_5x5=16, bottleneck=False, name="inception"):
    """One Inception module on the symbolic tensor ``x`` (N, H, W, C) -> (N, H, W, C_out).

    ``bottleneck=False``: the naive module, C_out = filters_1x1 + filters_3x3 + filters_5x5 + C.
    ``bottleneck=True``: 1x1 reductions (``reduce_3x3``, ``reduce_5x5``) and a pool projection
    (``filters_pool``), C_out = filters_1x1 + filters_3x3 + filters_5x5 + filters_pool.
    """
    def conv(filters, size, part):
        return Conv2D(filters, size, padding="same", activation="relu", name=f"{name}_{part}")

    branch_1x1 = conv(filters_1x1, 1, "1x1")(x)
    if bottleneck:
        branch_3x3 = conv(filters_3x3, 3, "3x3")(conv(reduce_3x3, 1, "3x3_reduce")(x))
        branch_5x5 = conv(filters_5x5, 5, "5x5")(conv(reduce_5x5, 1, "5x5_reduce")(x))
    else:
        branch_3x3 = conv(filters_3x3, 3, "3x3")(x)
        branch_5x5 = conv(filters_5x5, 5, "5x5")(x)
    branch_pool = MaxPooling2D(pool_size=3, strides=1, padding="same", name=f"{name}_pool")(x)
    if bottleneck:
        branch_pool = conv(filters_pool, 1, "pool_proj")(branch_pool)
    return Concatenate(axis=-1, name=f"{name}_concat")([branch_1x1, branch_3x3, branch_5x5, branch_pool])


def inception_net(input_shape=(32, 32, 3), classes=10, bottleneck=True, name="inception_net"):
    """A small GoogLeNet-like classifier (uncompiled) for 32x32 images.

    stem Conv2D(32, 3x3) + MaxPool -> (16, 16, 32), two Inception modules (widths 16/32/8/8 and
    32/48/16/16), MaxPool, GlobalAveragePooling2D, Dense(classes, softmax).
    """
    inputs = Input(shape=tuple(input_shape))
    x = Conv2D(32, 3, padding="same", activation="relu", name="stem_conv")(inputs)
    x = MaxPooling2D(2, name="stem_pool")(x)
    x = inception_module(x, 16, 32, 8, 8, reduce_3x3=24, reduce_5x5=4, bottleneck=bottleneck,
                         name="inception_1")
    x = inception_module(x, 32, 48, 16, 16, reduce_3x3=32, reduce_5x5=8, bottleneck=bottleneck,
                         name="inception_2")
    x = MaxPooling2D(2, name="pool")(x)
    x = GlobalAveragePooling2D(name="global_pool")(x)
    outputs = Dense(classes, activation="softmax", name="predictions")(x)
    return Model(inputs, outputs, name=name)
