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
                                      and not isinstance(x, (list, tuple, dict)))


def split_batch(batch, where):
    """``(x, y, sample_weight)`` from ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if not isinstance(batch, (tuple, list)) or len(batch) not in (1, 2, 3):
        what = f"length {len(batch)}" if isinstance(batch, (tuple, list)) else type(batch).__name__
        raise ValueError(f"{where}: expected (x, y) or (x, y, sample_weight) tuples, got {what}")
    return tuple(batch) + (None,) * (3 - len(batch))


class ArrayData:
    """Batches of ``xs`` (a list of arrays), ``y`` and per-sample weights ``sample_weight`` (or None)."""

    def __init__(self, xs, y, batch_size, shuffle=False, max_steps=None, sample_weight=None):
        self.xs, self.y, self.sample_weight = xs, y, sample_weight
        self.max_steps = max_steps
        self.n = num_samples(xs + [a for a in (y, sample_weight) if a is not None], "x, y and sample_weight")
        if self.n == 0:
            raise ValueError("expected at least one sample, got empty arrays")
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        batches = -(-self.n // self.batch_size)  # ceil
        return batches if self.max_steps is None else min(batches, int(self.max_steps))

    def epoch_batches(self, shuffle_seed=None, epoch_index=0):
        """Yield ``(xs_batch, y_batch, sample_weight_batch)`` for one epoch."""
        order = None
        if self.shuffle:
            order = np.random.default_rng([shuffle_seed, epoch_index]).permutation(self.n)
        for step in range(len(self)):
            start, end = step * self.batch_size, (step + 1) * self.batch_size
            sl = slice(start, end) if order is None else order[start:end]
            yield ([x[sl] for x in self.xs], None if self.y is None else self.y[sl],
                   None if self.sample_weight is None else self.sample_weight[sl])


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
            return [batch], None, None
        x, y, sample_weight = split_batch(batch, self.where)
        return as_list(x), y, sample_weight


def split_validation(xs, y, sample_weight, fraction):
    """Keras's ``validation_split``: the LAST ``fraction`` of the samples, taken before shuffling."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fit: expected validation_split in [0, 1), got {fraction}")
    n = len(xs[0])
    cut = int(math.ceil(n * (1.0 - fraction)))  # as Keras: the training part is rounded up
    if cut == n:
        raise ValueError(f"fit: validation_split={fraction} leaves no validation sample from {n} samples")
    sw = sample_weight
    return ([x[:cut] for x in xs], y[:cut], None if sw is None else sw[:cut],
            [x[cut:] for x in xs], y[cut:], None if sw is None else sw[cut:])
