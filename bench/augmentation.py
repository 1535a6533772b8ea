"""Augmentation throughput of ImageDataGenerator with seed 004's settings on CIFAR-10 batches of 32.

    python bench/augmentation.py [--batches 200] [--data DIR]

Prints images/second of ``ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
zoom_range=0.1, rotation_range=30, horizontal_flip=True).flow(x, y, batch_size=32)`` (faltung's
batched resampling), and for comparison the per-image, per-channel ``scipy.ndimage.affine_transform``
loop that Keras's ImageDataGenerator runs. Training seed 004's CNN runs at roughly 300-1000 img/s,
so augmentation must be far faster than that not to slow training down. The machine is shared,
so the CPU-time figure (images per second of this process's CPU time) is the stable one.
"""
import argparse
import time

import numpy as np

from faltung.datasets import cifar10
from faltung.preprocessing.image import ImageDataGenerator
from faltung.utils import normalize, to_categorical

SEED_004 = dict(width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1, rotation_range=30,
                horizontal_flip=True)


def time_faltung(x, y, batches):
    """(img/s by wall clock, img/s by this process's CPU time) for ``batches`` batches of 32."""
    it = ImageDataGenerator(**SEED_004).flow(x, y, batch_size=32, seed=0)
    next(it)   # warm-up
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        next(it)
    images = batches * 32
    return images / (time.perf_counter() - start), images / (time.process_time() - start_cpu)


def time_scipy_per_image(x, batches):
    """Keras's way: one scipy.ndimage.affine_transform per image and channel."""
    from scipy import ndimage
    gen = ImageDataGenerator(**SEED_004)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for b in range(batches):
        for img in x[b * 32:(b + 1) * 32]:
            p = gen.get_random_transform(img.shape, seed=int(rng.integers(2**31)))
            t = np.deg2rad(p["theta"])
            m = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ np.diag([p["zy"], p["zx"]])
            c = (np.array(img.shape[:2]) - 1) / 2
            offset = c - m @ c + [p["ty"], p["tx"]]
            np.stack([ndimage.affine_transform(img[..., ch], m, offset, order=1, mode="nearest")
                      for ch in range(img.shape[-1])], axis=-1)
    return batches * 32 / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--data", default=None, help="folder holding cifar-10-binary.tar.gz")
    args = parser.parse_args()
    (x_train, y_train), _ = cifar10.load_data(args.data)
    x = normalize(x_train[:args.batches * 32 + 64], axis=1)   # as seed 004 (float32)
    y = to_categorical(y_train[:len(x)])
    fast, fast_cpu = time_faltung(x, y, args.batches)
    slow = time_scipy_per_image(x, min(args.batches, 30))
    print(f"ImageDataGenerator(seed 004 settings), CIFAR-10, batch 32: {fast:,.0f} img/s wall, "
          f"{fast_cpu:,.0f} img/s per CPU second (faltung, batched)")
    print(f"per-image scipy.ndimage loop (Keras's approach):           {slow:,.0f} img/s wall")
    print("expected training throughput of seed 004's CNN: ~300-1000 img/s")


if __name__ == "__main__":
    main()
