"""ResNet-20 for CIFAR-10 (He et al. 2016, "Deep Residual Learning", section 4.2).

The CIFAR ResNets have 6n + 2 weighted layers; n = 3 gives ResNet-20:

  stem      Conv2D(16, 3x3) -> BN -> ReLU                          (32, 32, 16)
  stage 1   3 basic blocks, 16 filters                             (32, 32, 16)
  stage 2   3 basic blocks, 32 filters, the first with stride 2    (16, 16, 32)
  stage 3   3 basic blocks, 64 filters, the first with stride 2    (8, 8, 64)
  head      GlobalAveragePooling2D -> Dense(10, softmax)

A basic block is  y = ReLU(BN(Conv3x3(ReLU(BN(Conv3x3(x))))) + shortcut(x)).
Shortcut: the identity where the shape is unchanged; where a stage halves H x W and doubles the
channels we use a 1x1 convolution with stride 2 + BN (the paper's option B, "projection shortcuts",
as in Keras's CIFAR ResNet example). The paper's CIFAR nets use option A (subsample and zero-pad
the channels, no parameters), which is why it reports 0.27M.

Parameters (convolutions have no bias, BN follows them; BN has 4 per channel: gamma, beta and the
non-trainable moving mean and variance, all counted by ``count_params`` as in Keras):
  3x3 convs   432 + 6*2,304 + (4,608 + 5*9,216) + (18,432 + 5*36,864)  = 267,696
  projections 16*32 + 32*64                                            =   2,560
  BN          (16 + 6*16 + 7*32 + 7*64) channels = 784, x 4            =   3,136
  Dense       64*10 + 10                                               =     650
  total                                                                  274,042  (272,474 trainable)
"""
from ..layers import Activation, Add, BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D, Input
from ..models import Model

RESNET20_PARAMS = 274_042


def _conv_bn(x, filters, size, strides, name):
    x = Conv2D(filters, size, strides=strides, padding="same", use_bias=False,
               kernel_initializer="he_normal", name=f"{name}_conv")(x)
    return BatchNormalization(name=f"{name}_bn")(x)


def basic_block(x, filters, strides=1, name="block"):
    """Two 3x3 conv-BN layers plus a shortcut; a 1x1 stride-``strides`` projection where shapes change."""
    y = _conv_bn(x, filters, 3, strides, name=f"{name}_1")
    y = Activation("relu", name=f"{name}_1_relu")(y)
    y = _conv_bn(y, filters, 3, 1, name=f"{name}_2")
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides, name=f"{name}_shortcut")
    y = Add(name=f"{name}_add")([y, shortcut])
    return Activation("relu", name=f"{name}_out")(y)


def resnet20(input_shape=(32, 32, 3), classes=10, blocks_per_stage=3, name="resnet20"):
    """ResNet-20 (uncompiled); ``blocks_per_stage=n`` gives ResNet-(6n+2) (n=5: ResNet-32, ...)."""
    inputs = Input(shape=tuple(input_shape))
    x = _conv_bn(inputs, 16, 3, 1, name="stem")
    x = Activation("relu", name="stem_relu")(x)
    for stage, filters in enumerate((16, 32, 64), start=1):
        for block in range(1, blocks_per_stage + 1):
            strides = 2 if (stage > 1 and block == 1) else 1
            x = basic_block(x, filters, strides, name=f"stage{stage}_block{block}")
    x = GlobalAveragePooling2D(name="global_pool")(x)
    outputs = Dense(classes, activation="softmax", name="predictions")(x)
    return Model(inputs, outputs, name=name)
