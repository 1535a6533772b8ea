"""A small DenseNet (Huang et al. 2017; seed 004 §4.2): every layer sees every earlier feature map.

Dense block with L layers and growth rate k: layer l computes BN -> ReLU -> Conv2D(k, 3x3, 'same')
on the concatenation [x_0, x_1, ..., x_{l-1}] of the block input and all earlier layer outputs, so
the channels grow C_0, C_0 + k, ..., C_0 + L k (l inputs per layer, L(L+1)/2 connections).
Between blocks a transition (BN -> ReLU -> Conv2D 1x1 -> AveragePooling2D 2x2) halves H and W
(and multiplies the channels by ``compression``, DenseNet-C). Convolutions have no bias (BN follows).
"""
from ..layers import (Activation, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense,
                      GlobalAveragePooling2D, Input)
from ..models import Model


def _bn_relu_conv(x, filters, size, name):
    x = BatchNormalization(name=f"{name}_bn")(x)
    x = Activation("relu", name=f"{name}_relu")(x)
    return Conv2D(filters, size, padding="same", use_bias=False, name=f"{name}_conv")(x)


def dense_block(x, num_layers, growth_rate, name="dense_block"):
    """``num_layers`` BN-ReLU-Conv layers; each one's input is the concat of all previous outputs."""
    features = [x]
    for i in range(1, num_layers + 1):
        inputs = features[0] if len(features) == 1 else Concatenate(name=f"{name}_concat{i}")(features)
        features.append(_bn_relu_conv(inputs, growth_rate, 3, name=f"{name}_layer{i}"))
    return Concatenate(name=f"{name}_out")(features)


def transition(x, filters, name="transition"):
    """BN-ReLU-Conv 1x1 to ``filters`` channels, then 2x2 average pooling (halves H and W)."""
    x = _bn_relu_conv(x, filters, 1, name=name)
    return AveragePooling2D(2, name=f"{name}_pool")(x)


def densenet(input_shape=(32, 32, 3), classes=10, blocks=(4, 4, 4), growth_rate=12, compression=0.5,
             name="densenet"):
    """A small DenseNet for 32x32 images (uncompiled): stem conv of 2k filters, dense blocks with
    transitions between them, then BN-ReLU, global average pooling and Dense(classes, softmax)."""
    inputs = Input(shape=tuple(input_shape))
    x = Conv2D(2 * growth_rate, 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    channels = 2 * growth_rate
    for b, num_layers in enumerate(blocks, start=1):
        x = dense_block(x, num_layers, growth_rate, name=f"block{b}")
        channels += num_layers * growth_rate
        if b < len(blocks):
            channels = int(channels * compression)
            x = transition(x, channels, name=f"transition{b}")
    x = BatchNormalization(name="final_bn")(x)
    x = Activation("relu", name="final_relu")(x)
    x = GlobalAveragePooling2D(name="global_pool")(x)
    outputs = Dense(classes, activation="softmax", name="predictions")(x)
    return Model(inputs, outputs, name=name)
