"""``NumpyArrayIterator``: what ``ImageDataGenerator.flow`` returns.

Endless, as in Keras: ``next(it)`` gives the next batch, epoch after epoch (reshuffled at the start
of each epoch when ``shuffle``), and ``len(it) = ceil(n / batch_size)`` is the number of batches in
one epoch, so ``model.fit(it, steps_per_epoch=len(it))`` sees every image once per epoch.
``it[i]`` gives batch i of the current epoch order, as a Keras ``Sequence``.
"""
import math

import numpy as np

from .. import rng as _rng


class NumpyArrayIterator:
    """Batches ``(x_batch float32 (B, H, W, C), y_batch)`` (or ``x_batch`` alone when ``y is None``)."""

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=True, sample_weight=None,
                 seed=None, subset=None):
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"ImageDataGenerator.flow: expected x of rank 4 (N, H, W, C), got shape {x.shape}")
        if y is not None:
            y = np.asarray(y)
            if len(y) != len(x):
                raise ValueError(f"ImageDataGenerator.flow: x and y have different lengths "
                                 f"({len(x)} and {len(y)})")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)
            if len(sample_weight) != len(x):
                raise ValueError(f"ImageDataGenerator.flow: x and sample_weight have different lengths "
                                 f"({len(x)} and {len(sample_weight)})")
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"ImageDataGenerator.flow: expected a positive int batch_size, got {batch_size!r}")
        split = image_data_generator.validation_split
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f"ImageDataGenerator.flow: expected subset 'training' or 'validation', "
                                 f"got {subset!r}")
            if not split:
                raise ValueError("ImageDataGenerator.flow: subset needs validation_split > 0 in the generator")
            cut = int(len(x) * (1 - split))   # Keras: the first (1 - split) for training, the rest validation
            part = slice(0, cut) if subset == "training" else slice(cut, None)
            x = x[part]
            y = None if y is None else y[part]
            sample_weight = None if sample_weight is None else sample_weight[part]
        if len(x) == 0:
            raise ValueError("ImageDataGenerator.flow: no images to iterate over")
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.generator = image_data_generator
        self.batch_size, self.shuffle = int(batch_size), shuffle
        self.n = len(x)
        self._rng = _rng.make_generator(seed)
        self._order = None
        self.batch_index = 0          # position within the epoch
        self.total_batches_seen = 0

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def on_epoch_end(self):
        self._order = self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def _batch(self, indices):
        x = self.x[indices]
        x = self.generator.random_transform_batch(x, self._rng)
        x = self.generator.standardize(x)
        if self.y is None and self.sample_weight is None:
            return x
        out = (x, None if self.y is None else self.y[indices])
        if self.sample_weight is not None:
            out = out + (self.sample_weight[indices],)
        return out

    def __getitem__(self, idx):
        if not 0 <= idx < len(self):
            raise IndexError(f"ImageDataGenerator.flow: batch index {idx} out of range [0, {len(self)})")
        if self._order is None:
            self.on_epoch_end()
        return self._batch(self._order[idx * self.batch_size:(idx + 1) * self.batch_size])

    def __iter__(self):
        return self

    def __next__(self):
        if self._order is None or self.batch_index >= len(self):
            self.on_epoch_end()
            self.batch_index = 0
        batch = self[self.batch_index]
        self.batch_index += 1
        self.total_batches_seen += 1
        return batch

    next = __next__
