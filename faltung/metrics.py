"""Metrics: running averages over the batches of an epoch, with Keras's names.

A metric is a stateful object: ``update_state(y_true, y_pred)`` adds a batch,
``result()`` is the mean over every sample seen so far, ``reset_state()`` starts
over (the training loop resets at each epoch). ``"accuracy"``/``"acc"`` picks the
right accuracy from the shapes, as Keras does:
  y_pred of shape (N, 1)                        -> binary accuracy (threshold 0.5)
  y_true with one axis less than y_pred, or (N, 1) -> sparse categorical accuracy
  y_true shaped as y_pred                       -> categorical accuracy (argmax match)
The class ``Accuracy()`` is Keras's exact-match accuracy (``y_pred == y_true``), not this rule.
"""
import numpy as np


# ---- per-sample metric functions: (y_true, y_pred) -> array of shape (N,) ---------------------
def _labels(y_true, y_pred):
    y = np.asarray(y_true)
    if y.ndim == y_pred.ndim and y.shape[-1] == 1:
        y = y[..., 0]
    return y.astype(np.int64, copy=False)


def categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    return (_labels(y_true, y_pred) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _same_rank(y_true, y_pred):
    """Keras's squeeze_or_expand_to_same_rank: drop a trailing size-1 axis from the longer one,
    so labels (N,) meet predictions (N, 1) elementwise instead of broadcasting to (N, N)."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.ndim == p.ndim + 1 and t.shape[-1] == 1:
        t = t[..., 0]
    elif p.ndim == t.ndim + 1 and p.shape[-1] == 1:
        p = p[..., 0]
    return t, p


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Keras: ``y_true == (y_pred > threshold)`` (y_true itself is not thresholded)."""
    t, p = _same_rank(y_true, y_pred)
    hits = t.astype(np.float64) == (p > threshold)
    return hits.reshape(len(hits), -1).mean(axis=1).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return _in_top_k(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    return _in_top_k(_labels(y_true, y_pred), y_pred, k)


def _in_top_k(labels, y_pred, k):
    # a label is in the top k when fewer than k classes score strictly higher
    target = np.take_along_axis(y_pred, labels[..., None], axis=-1)
    return (np.sum(y_pred > target, axis=-1) < k).astype(np.float32)


def mean_squared_error(y_true, y_pred):
    t, p = _same_rank(y_true, y_pred)
    d = p.astype(np.float64) - t.astype(np.float64)
    return (d * d).reshape(len(d), -1).mean(axis=1)


def mean_absolute_error(y_true, y_pred):
    t, p = _same_rank(y_true, y_pred)
    d = np.abs(p.astype(np.float64) - t.astype(np.float64))
    return d.reshape(len(d), -1).mean(axis=1)


def exact_accuracy(y_true, y_pred):
    """Keras's ``Accuracy`` class: how often ``y_pred == y_true``, averaged over the last axis."""
    t, p = _same_rank(y_true, y_pred)
    hits = (t == p).astype(np.float32)
    return hits.mean(axis=-1) if hits.ndim > 1 else hits


def auto_accuracy(y_true, y_pred):
    """Keras's ``"accuracy"``: binary, sparse or categorical from the shapes."""
    y_true = np.asarray(y_true)
    if y_pred.shape[-1] == 1:
        return binary_accuracy(y_true, y_pred)
    if y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1:
        return sparse_categorical_accuracy(y_true, y_pred)
    return categorical_accuracy(y_true, y_pred)


# ---- stateful metrics -----------------------------------------------------------------------------
class Metric:
    """Base class: subclasses implement ``update_state``; ``result`` and ``reset_state`` as here."""

    def __init__(self, name=None):
        self.name = name or type(self).__name__.lower()
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def result(self):
        return float(self.total / self.count) if self.count else 0.0

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The weighted mean of the values given: ``update_state(value, sample_weight=n)``."""

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, np.float64)
        weight = 1.0 if sample_weight is None else float(sample_weight)
        self.total += float(values.mean()) * weight
        self.count += weight


class MeanMetricWrapper(Metric):
    """The mean over samples of a per-sample function ``fn(y_true, y_pred) -> (N,)``."""

    def __init__(self, fn, name=None, **fn_kwargs):
        self.fn = fn
        self.fn_kwargs = fn_kwargs
        super().__init__(name or fn.__name__)

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = np.asarray(self.fn(y_true, y_pred, **self.fn_kwargs), np.float64).reshape(-1)
        self.total += float(values.sum())
        self.count += values.size


def _wrapper(fn, default_name):
    class _Metric(MeanMetricWrapper):
        def __init__(self, name=default_name, **kwargs):
            super().__init__(fn, name=name, **kwargs)
    return _Metric


Accuracy = _wrapper(exact_accuracy, "accuracy")  # the string "accuracy" is auto_accuracy
CategoricalAccuracy = _wrapper(categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy")
BinaryAccuracy = _wrapper(binary_accuracy, "binary_accuracy")
TopKCategoricalAccuracy = _wrapper(top_k_categorical_accuracy, "top_k_categorical_accuracy")
SparseTopKCategoricalAccuracy = _wrapper(sparse_top_k_categorical_accuracy,
                                         "sparse_top_k_categorical_accuracy")
MeanSquaredError = _wrapper(mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper(mean_absolute_error, "mean_absolute_error")
for _cls, _name in [(Accuracy, "Accuracy"), (CategoricalAccuracy, "CategoricalAccuracy"),
                    (SparseCategoricalAccuracy, "SparseCategoricalAccuracy"),
                    (BinaryAccuracy, "BinaryAccuracy"), (TopKCategoricalAccuracy, "TopKCategoricalAccuracy"),
                    (SparseTopKCategoricalAccuracy, "SparseTopKCategoricalAccuracy"),
                    (MeanSquaredError, "MeanSquaredError"), (MeanAbsoluteError, "MeanAbsoluteError")]:
    _cls.__name__ = _cls.__qualname__ = _name

_CLASSES = {cls.__name__: cls for cls in (Accuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                                           BinaryAccuracy, TopKCategoricalAccuracy,
                                           SparseTopKCategoricalAccuracy, MeanSquaredError,
                                           MeanAbsoluteError)}

_FUNCTIONS = {
    "accuracy": auto_accuracy, "acc": auto_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
}


def get(identifier):
    """A fresh ``Metric`` for a name (kept as written: ``"acc"`` is reported as ``acc``),
    a ``Metric`` object, or a function ``fn(y_true, y_pred) -> per-sample values``."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _CLASSES:  # Keras also resolves class names: "SparseCategoricalAccuracy"
            return _CLASSES[identifier]()
        if identifier not in _FUNCTIONS:
            raise ValueError(f"unknown metric {identifier!r}: expected one of "
                             f"{sorted(_FUNCTIONS) + sorted(_CLASSES)}, a faltung.metrics.Metric "
                             "or a function")
        return MeanMetricWrapper(_FUNCTIONS[identifier], name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise ValueError(f"unknown metric {identifier!r}: expected a name, a Metric or a function")

