"""Losses with Keras's names: the value and its gradient with respect to the prediction.

  ``loss(y_true, y_pred) -> float``                mean of the per-sample losses (Keras's
                                                   "sum_over_batch_size" reduction)
  ``loss.gradient(y_true, y_pred) -> dL/dy_pred``  the gradient of that mean, shaped like y_pred

A "sample" is every position but the last axis: y_pred (N, C) has N per-sample losses,
a segmentation map (N, H, W, C) has N·H·W. Probabilities are renormalised and clipped
to [ε, 1 − ε] (ε = 1e-7) before the log, as Keras does when ``from_logits=False``.

Softmax followed by cross-entropy has the famous short gradient with respect to the
logits z, ``dL/dz = (p − y) / N``; the cross-entropy losses offer it as
``softmax_gradient(y_true, probs)`` so a model can skip the softmax Jacobian (and the
clipping) entirely. ``BinaryCrossentropy.sigmoid_gradient`` is the same for a sigmoid.

The snake_case functions (``categorical_crossentropy(y_true, y_pred)``, ...) return the
per-sample losses, as in Keras; ``get`` turns names, functions or dicts into loss objects.
"""
import numpy as np

from . import config

# Keras 3's reductions: "mean" is "sum_over_batch_size"; "mean_with_sample_weight" divides by
# the sum of the sample weights; None / "none" returns the (weighted) per-sample losses
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


class Loss:
    name = None

    def __init__(self, reduction="sum_over_batch_size", name=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: expected reduction in {list(_REDUCTIONS)}, "
                             f"got {reduction!r}")
        self.reduction = reduction
        self.name = name or type(self).name

    # Each loss defines, on checked float64 arrays:
    #   _prepare(y_true, y_pred) -> (t, p)   t shaped like p (one-hot for the sparse loss)
    #   _losses(t, p)            -> per-sample losses, shape p.shape[:-1]
    #   _grad(t, p)              -> d(per-sample loss)/dp, shape p.shape

    # -- the public API ---------------------------------------------------------------
    def per_sample(self, y_true, y_pred):
        """The unreduced losses, shape y_pred.shape[:-1] (Keras's loss functions)."""
        t, p = self._prepare(y_true, y_pred)
        return self._losses(t, p).astype(_float_dtype(y_pred), copy=False)

    def __call__(self, y_true, y_pred, sample_weight=None):
        t, p = self._prepare(y_true, y_pred)
        losses = self._losses(t, p)
        weighted = losses * self._sample_weight(sample_weight, losses.shape)
        if self.reduction in (None, "none"):
            return weighted.astype(_float_dtype(y_pred), copy=False)
        return float(np.sum(weighted)) / self._divisor(sample_weight, losses.shape)

    def _divisor(self, sample_weight, shape):
        """What the reduction divides the weighted sum by."""
        if self.reduction in ("sum_over_batch_size", "mean"):
            return max(int(np.prod(shape)), 1)
        if self.reduction == "mean_with_sample_weight" and sample_weight is not None:
            total = float(np.sum(self._sample_weight(sample_weight, shape)))
            return total if total else 1.0
        if self.reduction == "mean_with_sample_weight":
            return max(int(np.prod(shape)), 1)
        return 1  # "sum"; for None / "none" the gradient is that of the sum

    def gradient(self, y_true, y_pred, sample_weight=None):
        t, p = self._prepare(y_true, y_pred)
        return self._reduce(self._grad(t, p), sample_weight, y_pred)

    def _reduce(self, per_sample_grad, sample_weight, y_pred):
        """Scale d(per-sample loss)/dp by the sample weights and the reduction's 1/count."""
        shape = per_sample_grad.shape[:-1]
        scale = self._sample_weight(sample_weight, shape) / self._divisor(sample_weight, shape)
        grad = per_sample_grad * scale[..., None]
        return grad.reshape(np.shape(y_pred)).astype(_float_dtype(y_pred), copy=False)

    def _sample_weight(self, sample_weight, shape):
        if sample_weight is None:
            return np.ones(shape)
        w = np.asarray(sample_weight, dtype=np.float64)
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim)) if w.ndim <= len(shape) else w
        try:
            return np.broadcast_to(w, shape)
        except ValueError:
            raise ValueError(f"{self.name}: expected sample_weight broadcastable to the per-sample "
                             f"losses {shape}, got shape {np.shape(sample_weight)}") from None

    def _same_shape(self, y_true, y_pred):
        t, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
        if p.ndim == 0:
            raise ValueError(f"{self.name}: expected y_pred of rank >= 1, got a scalar")
        if p.ndim == 1:  # (N,) predictions: one value per sample
            t, p = t.reshape(-1, 1) if t.size == p.size else t, p.reshape(-1, 1)
        elif t.ndim == p.ndim - 1 and p.shape[-1] == 1:
            t = t[..., None]
        if t.shape != p.shape:
            raise ValueError(f"{self.name}: expected y_true of shape {np.shape(y_pred)} like y_pred, "
                             f"got shape {np.shape(y_true)}")
        return t, p

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"


def _check_last_axis(loss, axis):
    """Keras's ``axis=`` of the cross-entropies: the class axis, here always the last one."""
    if axis != -1:
        raise ValueError(f"{loss.name}: expected axis=-1 (classes on the last axis), got {axis!r}")


def _float_dtype(y_pred):
    dtype = np.asarray(y_pred).dtype
    return dtype if dtype.kind == "f" else np.dtype(config.floatx())


def _clip(p):
    eps = config.epsilon()
    return np.clip(p, eps, 1 - eps), (p > eps) & (p < 1 - eps)


def _log_softmax(z):
    """log softmax(z) = z − max − log Σ exp(z − max): no overflow for any z."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class _CrossentropyBase(Loss):
    """-Σ_c t_c · log p_c over the class axis (last), for targets t already one-hot / soft."""

    def __init__(self, from_logits=False, reduction="sum_over_batch_size", name=None):
        super().__init__(reduction, name)
        self.from_logits = bool(from_logits)

    def _losses(self, t, p):
        if self.from_logits:
            return -(t * _log_softmax(p)).sum(axis=-1)
        q = p / p.sum(axis=-1, keepdims=True)  # Keras renormalises the probabilities first
        return -(t * np.log(_clip(q)[0])).sum(axis=-1)

    def _grad(self, t, p):
        if self.from_logits:
            return np.exp(_log_softmax(p)) * t.sum(axis=-1, keepdims=True) - t
        total = p.sum(axis=-1, keepdims=True)
        q = p / total
        clipped, inside = _clip(q)
        g = np.where(inside, -t / clipped, 0.0)  # dL/dq (clipped entries pass no gradient)
        # q = p / Σp, so dL/dp_j = (g_j − Σ_i g_i q_i) / Σp
        return (g - (g * q).sum(axis=-1, keepdims=True)) / total

    def softmax_gradient(self, y_true, probs, sample_weight=None):
        """dL/dz for probs = softmax(z): (probs − y_true) / N (probs·Σy − y for soft targets)."""
        t, p = self._prepare(y_true, probs)
        return self._reduce(p * t.sum(axis=-1, keepdims=True) - t, sample_weight, probs)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class CategoricalCrossentropy(_CrossentropyBase):
    """Cross-entropy with one-hot (or soft) targets y_true: (N, C), y_pred: (N, C)."""
    name = "categorical_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name=None):
        super().__init__(from_logits, reduction, name)
        _check_last_axis(self, axis)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"{self.name}: expected label_smoothing in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def _prepare(self, y_true, y_pred):
        t, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
        if p.ndim < 1 or t.shape != p.shape:
            hint = (" (integer labels need sparse_categorical_crossentropy)"
                    if t.shape in (p.shape[:-1], p.shape[:-1] + (1,)) else "")
            raise ValueError(f"{self.name}: expected one-hot y_true of shape {p.shape} like y_pred, "
                             f"got shape {t.shape}{hint}")
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + self.label_smoothing / p.shape[-1]
        return t, p

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(_CrossentropyBase):
    """Cross-entropy with integer labels y_true: (N,) or (N, 1) in [0, C), y_pred: (N, C)."""
    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", name=None):
        super().__init__(from_logits, reduction, name)
        if ignore_class is not None:
            raise ValueError(f"{self.name}: expected ignore_class=None (masking classes out is not "
                             f"supported), got {ignore_class!r}")

    def _prepare(self, y_true, y_pred):
        p = np.asarray(y_pred, dtype=np.float64)
        labels = np.asarray(y_true)
        if labels.shape == p.shape[:-1] + (1,):
            labels = labels[..., 0]
        if p.ndim < 1 or labels.shape != p.shape[:-1]:
            hint = " (one-hot labels need categorical_crossentropy)" if labels.shape == p.shape else ""
            raise ValueError(f"{self.name}: expected integer labels of shape {p.shape[:-1]} "
                             f"(or {p.shape[:-1] + (1,)}) for y_pred of shape {p.shape}, "
                             f"got shape {labels.shape}{hint}")
        if labels.dtype.kind not in "iub":
            if labels.dtype.kind != "f" or np.any(labels != np.round(labels)):
                raise ValueError(f"{self.name}: expected integer class labels, got {labels.dtype} values")
        classes = p.shape[-1]
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(f"{self.name}: expected labels in the range [0, {classes - 1}], "
                             f"got values from {labels.min()} to {labels.max()}")
        onehot = np.zeros_like(p)
        np.put_along_axis(onehot, labels.astype(np.intp)[..., None], 1.0, axis=-1)
        return onehot, p


class BinaryCrossentropy(Loss):
    """-[t·log p + (1 − t)·log(1 − p)], averaged over the last axis; y_true, y_pred: (N, K) or (N,)."""
    name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name=None):
        super().__init__(reduction, name)
        _check_last_axis(self, axis)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"{self.name}: expected label_smoothing in [0, 1], got {label_smoothing!r}")
        self.from_logits = bool(from_logits)
        self.label_smoothing = float(label_smoothing)

    def _prepare(self, y_true, y_pred):
        t, p = self._same_shape(y_true, y_pred)
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        return t, p

    def _losses(self, t, p):
        if self.from_logits:
            # stable: max(z, 0) − z·t + log(1 + e^−|z|)
            elementwise = np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p)))
        else:
            c = _clip(p)[0]
            elementwise = -(t * np.log(c) + (1 - t) * np.log(1 - c))
        return elementwise.mean(axis=-1)

    def _grad(self, t, p):
        k = p.shape[-1]
        if self.from_logits:
            return (_sigmoid(p) - t) / k
        c, inside = _clip(p)
        return np.where(inside, -(t / c - (1 - t) / (1 - c)), 0.0) / k

    def sigmoid_gradient(self, y_true, probs, sample_weight=None):
        """dL/dz for probs = sigmoid(z): (probs − y_true) / (N·K)."""
        t, p = self._prepare(y_true, probs)
        return self._reduce((p - t) / p.shape[-1], sample_weight, probs)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class MeanSquaredError(Loss):
    """mean((y_pred − y_true)²) over the last axis; gradient 2(y_pred − y_true) / (N·K)."""
    name = "mean_squared_error"

    def _prepare(self, y_true, y_pred):
        return self._same_shape(y_true, y_pred)

    def _losses(self, t, p):
        return ((p - t) ** 2).mean(axis=-1)

    def _grad(self, t, p):
        return 2 * (p - t) / p.shape[-1]


class MeanAbsoluteError(Loss):
    """mean(|y_pred − y_true|) over the last axis; gradient sign(y_pred − y_true) / (N·K)."""
    name = "mean_absolute_error"

    def _prepare(self, y_true, y_pred):
        return self._same_shape(y_true, y_pred)

    def _losses(self, t, p):
        return np.abs(p - t).mean(axis=-1)

    def _grad(self, t, p):
        return np.sign(p - t) / p.shape[-1]


# ---- Keras's loss functions: per-sample losses -----------------------------------------
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).per_sample(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    loss = SparseCategoricalCrossentropy(from_logits, ignore_class)
    _check_last_axis(loss, axis)
    return loss.per_sample(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryCrossentropy(from_logits, label_smoothing, axis).per_sample(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().per_sample(y_true, y_pred)


mse = mean_squared_error


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().per_sample(y_true, y_pred)


mae = mean_absolute_error

_CLASSES = (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy, MeanSquaredError,
            MeanAbsoluteError)
_BY_NAME = {**{cls.__name__: cls for cls in _CLASSES}, **{cls.name: cls for cls in _CLASSES},
            "mse": MeanSquaredError, "MSE": MeanSquaredError,
            "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError}
_BY_FUNCTION = {categorical_crossentropy: CategoricalCrossentropy,
                sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
                binary_crossentropy: BinaryCrossentropy, mean_squared_error: MeanSquaredError,
                mean_absolute_error: MeanAbsoluteError}


def get(identifier):
    """A ``Loss`` from a Keras name (``"categorical_crossentropy"``, ``"mse"``, ``"BinaryCrossentropy"``),
    a loss function such as ``faltung.losses.mse``, a ``{"class_name", "config"}`` dict, or a ``Loss``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    if callable(identifier) and any(identifier is f for f in _BY_FUNCTION):
        return _BY_FUNCTION[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _BY_NAME:
        return _BY_NAME[identifier["class_name"]].from_config(dict(identifier.get("config", {})))
    raise ValueError(f"unknown loss {identifier!r}: expected one of {sorted(_BY_NAME)}")


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(spec):
    return get(spec)
