"""VGG16 (Simonyan & Zisserman 2014) with Keras's layer names, as in seed 004's summary.

Five blocks of 3x3 'same' convolutions with ReLU (64, 128, 256, 512, 512 filters; 2, 2, 3, 3, 3
convs), each closed by a 2x2 max pooling, then fc1 / fc2 (4096, relu) and predictions (softmax):
138,357,544 parameters for (224, 224, 3) and 1000 classes; the convolutional base alone
(``include_top=False``) has 14,714,688. faltung ships no pretrained weights, so ``weights``
must be ``None`` (random initialisation): train it, or load your own with ``load_weights``.
"""
from ..layers import Conv2D, Dense, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, Input, MaxPooling2D
from ..models import Model

VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (filters, convs) per block


def _check_weights(weights, name):
    if weights is not None:
        raise ValueError(f"{name}: expected weights=None (random initialisation), got {weights!r}; "
                         "faltung ships no pretrained weights (no download at run time): train the model "
                         "or load your own weights with model.load_weights(path)")


def vgg16(weights=None, include_top=True, input_shape=(224, 224, 3), classes=1000, pooling=None,
          classifier_activation="softmax", name="vgg16", input_tensor=None):
    """VGG16 as ``keras.applications.VGG16`` builds it (uncompiled), randomly initialised.

    ``include_top=False`` stops after ``block5_pool``; ``pooling`` is then ``None``, ``"avg"`` or
    ``"max"`` (global pooling to a vector, as in Keras).
    """
    _check_weights(weights, name)
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{name}: expected pooling None, 'avg' or 'max', got {pooling!r}")
    inputs = input_tensor if input_tensor is not None else Input(shape=tuple(input_shape))
    x = inputs
    for block, (filters, convs) in enumerate(VGG16_BLOCKS, start=1):
        for i in range(1, convs + 1):
            x = Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = GlobalAveragePooling2D(name="global_average_pooling2d")(x)
    elif pooling == "max":
        x = GlobalMaxPooling2D(name="global_max_pooling2d")(x)
    return Model(inputs, x, name=name)


VGG16 = vgg16  # Keras's spelling: ``from faltung.applications import VGG16``
