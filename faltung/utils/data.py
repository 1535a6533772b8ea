"""Array utilities with Keras's names: ``to_categorical``, ``normalize``, ``train_test_split``."""
import math

import numpy as np

from .. import config as _config
from .. import rng as _rng


def to_categorical(y, num_classes=None):
    """One-hot float32 encoding of integer labels, as ``keras.utils.to_categorical``.

    ``y (N,)`` or ``(N, 1)`` (as CIFAR-10's labels) -> ``(N, num_classes)``; in general a trailing axis
    of size 1 is dropped and ``num_classes`` appended. ``num_classes`` defaults to ``max(y) + 1``.
    """
    y = np.asarray(y)
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError(f"to_categorical: expected integer class labels, got dtype {y.dtype} with fractions")
    y = y.astype(np.int64)
    shape = y.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    y = y.reshape(-1)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: expected labels >= 0, got {int(y.min())}")
    if not num_classes:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and y.max() >= num_classes:
        raise ValueError(f"to_categorical: label {int(y.max())} does not fit num_classes={num_classes}")
    out = np.zeros((y.size, num_classes), dtype=np.float32)
    out[np.arange(y.size), y] = 1.0
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Divide ``x`` by its ``order``-norm along ``axis`` (zero norms left as 1), as ``keras.utils.normalize``.

    ``x / ||x||_order`` along ``axis``; integer input (e.g. uint8 images) gives floatx (float32),
    float input keeps its dtype. Seed 004 uses ``normalize(x_train, axis=1)`` on (N, 32, 32, 3) images:
    each column of each channel gets unit L2 norm over the 32 rows.
    """
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(_config.floatx())
    x = x.astype(dtype, copy=False)
    if axis is None:
        axis = -1
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return (x / norm).astype(dtype, copy=False)


def train_test_split(x, y=None, test_size=0.2, seed=None, shuffle=True, random_state=None):
    """Split arrays into train and test parts: ``x_train, x_test, y_train, y_test`` (scikit-learn's order).

    ``test_size``: a fraction in (0, 1) (the test part has ``ceil(test_size * n)`` samples, as
    scikit-learn) or a count. ``random_state`` is accepted as scikit-learn's name for ``seed``.
    """
    x = np.asarray(x)
    n = len(x)
    if y is not None:
        y = np.asarray(y)
        if len(y) != n:
            raise ValueError(f"train_test_split: x and y have different lengths ({n} and {len(y)})")
    if isinstance(test_size, (float, np.floating)):
        if not 0 < test_size < 1:
            raise ValueError(f"train_test_split: expected test_size in (0, 1) or a count, got {test_size!r}")
        n_test = math.ceil(test_size * n)
    elif isinstance(test_size, (int, np.integer)) and 0 < test_size < n:
        n_test = int(test_size)
    else:
        raise ValueError(f"train_test_split: expected test_size in (0, 1) or a count in [1, {n}), got {test_size!r}")
    if n - n_test <= 0:
        raise ValueError(f"train_test_split: test_size={test_size!r} leaves no training samples out of {n}")
    if seed is None:
        seed = random_state
    order = _rng.make_generator(seed).permutation(n) if shuffle else np.arange(n)
    train, test = order[:n - n_test], order[n - n_test:]
    if y is None:
        return x[train], x[test]
    return x[train], x[test], y[train], y[test]
