"""LeNet-5 (LeCun et al. 1989/1998), exactly as seed 001 writes it in Keras.

  input (32, 32, 1)
  C1 Conv2D(6, 5x5, tanh, valid)    -> (28, 28, 6)     (5*5*1 + 1) * 6    =    156
  S2 AveragePooling2D(2, strides=2) -> (14, 14, 6)
  C3 Conv2D(16, 5x5, tanh, valid)   -> (10, 10, 16)    (5*5*6 + 1) * 16   =  2,416
  S4 AveragePooling2D(2, strides=2) -> (5, 5, 16)
  C5 Conv2D(120, 5x5, tanh, valid)  -> (1, 1, 120)     (5*5*16 + 1) * 120 = 48,120
  Flatten                           -> (120,)
  F6 Dense(84, tanh)                                   (120 + 1) * 84     = 10,164
  Dense(10, softmax)                                   (84 + 1) * 10      =    850
                                                                    total  61,706
MNIST digits are 28x28: zero-pad them by 2 on each side to get LeNet's 32x32 input.
"""
from ..layers import AveragePooling2D, Conv2D, Dense, Flatten
from ..models import Sequential


def lenet5(input_shape=(32, 32, 1), classes=10, name="lenet5"):
    """The seed-001 LeNet-5 (uncompiled): tanh activations, average pooling, 61,706 parameters."""
    return Sequential([
        Conv2D(filters=6, kernel_size=(5, 5), activation="tanh", input_shape=tuple(input_shape),
               padding="valid"),
        AveragePooling2D(pool_size=(2, 2), strides=2),
        Conv2D(filters=16, kernel_size=(5, 5), activation="tanh", padding="valid"),
        AveragePooling2D(pool_size=(2, 2), strides=2),
        Conv2D(filters=120, kernel_size=(5, 5), activation="tanh", padding="valid"),
        Flatten(),
        Dense(units=84, activation="tanh"),
        Dense(units=classes, activation="softmax"),
    ], name=name)
