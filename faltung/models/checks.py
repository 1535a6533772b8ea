"""Checks on what the user passes to ``fit``/``evaluate``/``predict``, done before any work.

Each failure is a ``ValueError`` that says what was wrong and what was expected:
wrong input shape for the model, x and y of different lengths, labels out of range
for the loss, targets shaped unlike the model output, a model not compiled.
"""
import numpy as np


def require_compiled(model, what):
    if not model.compiled:
        raise ValueError(f"{model.name}.{what}: the model must be compiled first: call "
                         "model.compile(optimizer=..., loss=...) before training or evaluating")
    if model.loss is None:
        raise ValueError(f"{model.name}.{what}: expected a loss; compile(loss=...) was given None")
    if model.built and len(model.outputs) != 1:
        raise ValueError(f"{model.name}.{what}: expected a model with one output to train or "
                         f"evaluate, got {len(model.outputs)} outputs (predict works with several)")


def as_input_list(model, x):
    """``x`` (array, list of arrays, or dict {input name: array}) as a list of numeric NumPy arrays."""
    if x is None:
        raise ValueError(f"{model.name}: expected input data x, got None")
    if isinstance(x, dict):
        x = _by_input_name(model, x)
    single = not model.built or len(model.inputs) == 1
    if isinstance(x, (list, tuple)) and single and not all(isinstance(a, np.ndarray) for a in x):
        x = np.asarray(x)  # nested Python lists of numbers: one array, as Keras converts them
    items = list(x) if isinstance(x, (list, tuple)) else [x]
    arrays = []
    for item in items:
        a = np.asarray(item)
        if a.dtype.kind not in "biuf":
            raise ValueError(f"{model.name}: expected numeric input arrays, got dtype {a.dtype}")
        if a.ndim == 0:
            raise ValueError(f"{model.name}: expected input arrays with a batch axis, got a scalar")
        arrays.append(a)
    if model.built and len(arrays) != len(model.inputs):
        raise ValueError(f"{model.name}: expected {len(model.inputs)} input array(s), got {len(arrays)}")
    return arrays


def _by_input_name(model, x):
    """Keras's dict inputs: the arrays in the order of ``model.inputs``, matched by input name."""
    names = [t.name for t in model.inputs] if model.built else []
    missing = [name for name in names if name not in x]
    if not model.built or missing or len(x) != len(names):
        raise ValueError(f"{model.name}: expected a dict with the input names {names} as keys, "
                         f"got keys {sorted(x)}")
    return [x[name] for name in names]


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def check_inputs(model, xs):
    """Each array's shape must match its model input (batch dimension free)."""
    for a, t in zip(xs, model.inputs):
        expected = t.shape
        ok = a.ndim == len(expected) and all(e is None or e == d for e, d in zip(expected[1:], a.shape[1:]))
        if not ok:
            raise ValueError(f"{model.name}: expected input of shape {_shape_str(expected)}, "
                             f"got array of shape {a.shape}")
    lengths = {len(a) for a in xs}
    if len(lengths) > 1:
        raise ValueError(f"{model.name}: expected all input arrays to have the same number of "
                         f"samples, got {[len(a) for a in xs]}")


def check_targets(model, y, n_samples=None):
    """Check ``y`` against the loss and the output shape; return it in the dtype the loss wants."""
    from .training import loss_name
    if y is None:
        raise ValueError(f"{model.name}: expected targets y for the loss, got None")
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise ValueError(f"{model.name}: expected numeric targets y, got dtype {y.dtype}")
    if y.ndim == 0:
        raise ValueError(f"{model.name}: expected targets with a batch axis, got a scalar")
    if n_samples is not None and len(y) != n_samples:
        raise ValueError(f"{model.name}: x and y must have the same number of samples, got "
                         f"{n_samples} inputs and {len(y)} targets")
    out_shape = model.outputs[0].shape
    kind = loss_name(model.loss) if model.loss is not None else None
    if kind == "sparse_categorical_crossentropy":
        return _check_sparse_labels(model, y, out_shape)
    if y.ndim == len(out_shape) - 1 and out_shape[-1] == 1:
        y = y.reshape(y.shape + (1,))  # (N,) targets for an (N, 1) output
    if y.ndim != len(out_shape) or any(e is not None and e != d for e, d in zip(out_shape[1:], y.shape[1:])):
        hint = ""
        if kind == "categorical_crossentropy" and y.ndim == len(out_shape) - 1:
            hint = " (integer labels need loss='sparse_categorical_crossentropy' or to_categorical(y))"
        raise ValueError(f"{model.name}: expected targets of shape {_shape_str(out_shape)} for loss "
                         f"{kind!r}, got shape {y.shape}{hint}")
    if kind in ("binary_crossentropy", "categorical_crossentropy") and y.size:
        lo, hi = float(y.min()), float(y.max())
        if lo < 0 or hi > 1:
            raise ValueError(f"{model.name}: expected targets in [0, 1] for loss {kind!r}, "
                             f"got values in [{lo:g}, {hi:g}]")
    dtype = model.outputs[0].dtype
    return y if y.dtype == dtype else y.astype(dtype)


def _check_sparse_labels(model, y, out_shape):
    classes = out_shape[-1]
    label_shape = tuple(out_shape[1:-1])
    shape_ok = tuple(y.shape[1:]) in (label_shape, label_shape + (1,))
    if not shape_ok:
        hint = ""
        if tuple(y.shape[1:]) == tuple(out_shape[1:]):
            hint = " (one-hot targets need loss='categorical_crossentropy')"
        raise ValueError(f"{model.name}: expected integer labels of shape "
                         f"{_shape_str((None,) + label_shape)} for loss 'sparse_categorical_crossentropy' "
                         f"(output {_shape_str(out_shape)}), got shape {y.shape}{hint}")
    if y.dtype.kind == "f" and y.size and not np.all(np.floor(y) == y):
        raise ValueError(f"{model.name}: expected integer class labels for "
                         "'sparse_categorical_crossentropy', got non-integer values")
    if y.size:
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or (classes is not None and hi >= classes):
            raise ValueError(f"{model.name}: expected labels in [0, {classes - 1}] for "
                             f"'sparse_categorical_crossentropy' with {classes} output classes, "
                             f"got labels in [{lo}, {hi}]")
    return y if y.dtype == np.int64 else y.astype(np.int64)


def check_sample_weight(model, sample_weight, n_samples):
    """Per-sample weights as a float array (N,): finite and non-negative."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf" or w.ndim != 1 or len(w) != n_samples:
        raise ValueError(f"{model.name}: expected sample_weight of shape ({n_samples},) with one "
                         f"number per sample, got shape {w.shape} and dtype {w.dtype}")
    if w.size and (not np.all(np.isfinite(w)) or w.min() < 0):
        raise ValueError(f"{model.name}: expected finite, non-negative sample weights")
    return w.astype(np.float64)


def class_sample_weights(model, y, class_weight):
    """Keras's ``class_weight={class: weight}`` as per-sample weights (1 for unlisted classes)."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict) or not all(
            isinstance(k, (int, np.integer)) and np.isfinite(v) and v >= 0 for k, v in class_weight.items()):
        raise ValueError(f"{model.name}: expected class_weight as a dict {{class index: non-negative "
                         f"weight}}, got {class_weight!r}")
    y = np.asarray(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        classes = np.argmax(y.reshape(len(y), -1), axis=-1)  # one-hot targets
    else:
        classes = np.rint(y.reshape(len(y), -1)[:, 0]).astype(np.int64)  # labels or 0/1 targets
    lookup = np.vectorize(lambda c: float(class_weight.get(int(c), 1.0)), otypes=[np.float64])
    return lookup(classes) if len(classes) else np.zeros(0)


def combine_weights(model, y, sample_weight, class_weight):
    """``sample_weight * class_weight[class of y]`` (either may be None), checked."""
    sw = check_sample_weight(model, sample_weight, len(y))
    cw = class_sample_weights(model, y, class_weight)
    if sw is None or cw is None:
        return sw if cw is None else cw
    return sw * cw
