"""Models for the command line: build one from a name or a Python file, and read its outputs."""
import inspect
import os
import runpy

import numpy as np

from .runs import UsageError


def builder_default_shape(builder):
    """The ``input_shape`` default of a zoo builder, e.g. ``(32, 32, 1)`` for lenet5."""
    parameter = inspect.signature(builder).parameters.get("input_shape")
    return tuple(parameter.default) if parameter is not None and parameter.default is not None else None


def zoo_input_shape(builder, data_shape, max_pad):
    """The input shape to build a zoo model with for data of ``data_shape`` (h, w, c).

    The builder's own size if the data is at most ``2 * max_pad`` pixels smaller (LeNet-5 keeps its
    32x32 for 28x28 MNIST, which gets padded), else the data's size; channels are the data's.
    """
    h, w, c = data_shape
    default = builder_default_shape(builder)
    if default is not None:
        big_h, big_w = default[:2]
        if 0 <= big_h - h <= 2 * max_pad and 0 <= big_w - w <= 2 * max_pad:
            return (big_h, big_w, c)
    return (h, w, c)


def model_from_file(path):
    """The model a Python file defines: a module-level ``model`` or a ``build_model()`` function.

    This runs the file (it is the user's own model definition, like ``python file.py``).
    """
    if not os.path.isfile(path):
        raise UsageError(f"MODEL must be a zoo name or a Python file; no such file: {path}")
    try:
        namespace = runpy.run_path(path, run_name="faltung_model")
        if callable(namespace.get("build_model")):
            model = namespace["build_model"]()
        elif "model" in namespace:
            model = namespace["model"]
        else:
            raise UsageError(f"{path} defines neither `model` nor `build_model()`")
    except UsageError:
        raise
    except Exception as error:  # the user's own code failed: say where, in one line
        where = f" (line {error.lineno})" if isinstance(error, SyntaxError) else ""
        raise UsageError(f"{path} failed{where}: {type(error).__name__}: {error}") from None
    if not hasattr(model, "fit") or not hasattr(model, "layers"):
        raise UsageError(f"{path}: expected `model` to be a faltung model, got {type(model).__name__}")
    return model


def input_shape_of(model):
    """The model's input shape without the batch dimension, as a tuple (H, W, C)."""
    shape = model.input_shape
    if isinstance(shape, list):
        raise UsageError("the command line supports models with one input only")
    shape = tuple(shape[1:])
    if len(shape) != 3:
        raise UsageError(f"expected a model for images (input (H, W, C)), got input shape {shape}")
    return shape


def output_kind(model):
    """``"probabilities"`` if the model ends in a softmax, else ``"logits"``."""
    last = model.layers[-1]
    if type(last).__name__ == "Softmax":
        return "probabilities"
    activation = getattr(last, "activation", None)
    name = getattr(activation, "name", getattr(activation, "__name__", activation))
    return "probabilities" if name == "softmax" else "logits"


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def predict_probabilities(model, x, batch_size=256, kind=None):
    """Class probabilities (N, K): the model's outputs, softmax-ed if they are logits."""
    outputs = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)
    if (kind or output_kind(model)) == "logits":
        outputs = softmax(outputs)
    return outputs


def loss_and_accuracy(probabilities, y):
    """Sparse categorical cross-entropy (probabilities clipped to [1e-7, 1 - 1e-7] as Keras) and accuracy."""
    y = np.asarray(y).reshape(-1)
    p = np.clip(probabilities[np.arange(len(y)), y], 1e-7, 1 - 1e-7)
    return float(-np.log(p).mean()), float((probabilities.argmax(axis=1) == y).mean())


def check_classes(model, class_names):
    outputs = model.output_shape
    if isinstance(outputs, list) or outputs[-1] != len(class_names):
        raise UsageError(f"the model has {outputs[-1] if not isinstance(outputs, list) else 'several'} "
                         f"outputs but the dataset has {len(class_names)} classes")
