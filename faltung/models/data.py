"""Feeding data to the training loop: arrays in batches, or a generator of batches.

``ArrayData`` slices NumPy arrays into batches, shuffled with a permutation that
depends only on the model's shuffle seed and the number of epochs the model has
trained so far (so training 1 + 1 epochs, even across a save/load, shuffles exactly
as training 2). ``GeneratorData`` takes batches ``(x, y)`` from a Keras-style
``Sequence`` (``__len__`` + ``__getitem__``, e.g. ``ImageDataGenerator.flow``) or
any iterator/generator (then ``steps_per_epoch`` says how many make an epoch).
"""
import math

import numpy as np


def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def num_samples(arrays, what):
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise ValueError(f"expected all {what} arrays to have the same number of samples, "
                         f"got {[len(a) for a in arrays]}")
    return lengths.pop()


def is_array_like(x):
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and all(isinstance(a, np.ndarray) for a in x)
    return isinstance(x, np.ndarray)


def is_batch_source(x):
    """A generator, iterator or Sequence of batches (not an array or a list of arrays)."""
    if x is None or is_array_like(x):
        return False
    return hasattr(x, "__next__") or (hasattr(x, "__getitem__") and hasattr(x, "__len__")
                                      and not isinstance(x, (list, tuple)))


def split_batch(batch, where):
    """``(x, y)`` or ``(x, y, sample_weight)`` from a generator; sample weights are not supported."""
    if not isinstance(batch, (tuple, list)) or len(batch) not in (1, 2, 3):
        raise ValueError(f"{where}: expected the generator to yield (x, y) tuples, got "
                         f"{type(batch).__name__}")
    if len(batch) == 3 and batch[2] is not None:
        raise ValueError(f"{where}: sample weights from a generator are not supported")
    return batch[0], (batch[1] if len(batch) > 1 else None)


class ArrayData:
    """Batches of ``xs`` (a list of arrays) and ``y`` (an array or None)."""

    def __init__(self, xs, y, batch_size, shuffle=False):
        self.xs, self.y = xs, y
        self.n = num_samples(xs + ([y] if y is not None else []), "x and y")
        if self.n == 0:
            raise ValueError("expected at least one sample, got empty arrays")
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return -(-self.n // self.batch_size)  # ceil

    def epoch_batches(self, shuffle_seed=None, epoch_index=0):
        """Yield ``(xs_batch, y_batch)`` for one epoch."""
        order = None
        if self.shuffle:
            order = np.random.default_rng([shuffle_seed, epoch_index]).permutation(self.n)
        for start in range(0, self.n, self.batch_size):
            end = start + self.batch_size
            sl = slice(start, end) if order is None else order[start:end]
            yield [x[sl] for x in self.xs], (None if self.y is None else self.y[sl])


class GeneratorData:
    """Batches from a Sequence (indexed) or an iterator (``next``)."""

    def __init__(self, source, steps, where):
        self.source = source
        self.indexed = hasattr(source, "__getitem__") and hasattr(source, "__len__")
        if steps is None:
            if not hasattr(source, "__len__"):
                raise ValueError(f"{where}: expected steps_per_epoch (or steps) for a generator "
                                 "without len(), got None")
            steps = len(source)
        if int(steps) <= 0:
            raise ValueError(f"{where}: expected a positive number of steps, got {steps}")
        self.steps = int(steps)
        self.where = where
        self._iterator = None

    def __len__(self):
        return self.steps

    def epoch_batches(self, shuffle_seed=None, epoch_index=0):
        if self.indexed:
            n = len(self.source)
            for i in range(self.steps):
                yield self._unpack(self.source[i % n])
            if hasattr(self.source, "on_epoch_end"):
                self.source.on_epoch_end()
            return
        if self._iterator is None:
            self._iterator = iter(self.source)
        for _ in range(self.steps):
            try:
                batch = next(self._iterator)
            except StopIteration:
                return
            yield self._unpack(batch)

    def _unpack(self, batch):
        if isinstance(batch, np.ndarray):  # inputs only, e.g. flow(x) for predict
            return [batch], None
        x, y = split_batch(batch, self.where)
        return as_list(x), y


def split_validation(xs, y, fraction):
    """Keras's ``validation_split``: the LAST ``fraction`` of the samples, taken before shuffling."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fit: expected validation_split in [0, 1), got {fraction}")
    n = len(xs[0])
    cut = int(math.ceil(n * (1.0 - fraction)))  # as Keras: the training part is rounded up
    if cut == n:
        raise ValueError(f"fit: validation_split={fraction} leaves no validation sample from {n} samples")
    return [x[:cut] for x in xs], y[:cut], [x[cut:] for x in xs], y[cut:]
