"""Per-layer wall time of one of the seed models in faltung: where a training step spends its time.

    python bench/layers.py cifar 128            # training step, batch 128
    python bench/layers.py lenet5 256 infer     # predict_on_batch, batch 256

Each layer's ``forward`` and ``backward`` is wrapped with a timer inside real ``train_on_batch`` /
``predict_on_batch`` calls (random data, two warm-up steps, then the mean over ``--steps``).
"""
import argparse
import collections
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import models  # noqa: E402
import faltung  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(models.SPECS))
    parser.add_argument("batch", type=int)
    parser.add_argument("mode", nargs="?", default="train", choices=["train", "infer"])
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args(argv)

    faltung.utils.set_random_seed(0)
    model = models.build_faltung(args.model)
    rng = np.random.default_rng(0)
    x = rng.random((args.batch,) + models.SPECS[args.model]["input"], dtype=np.float32)
    y = rng.integers(0, 10, size=args.batch)
    seconds = collections.defaultdict(float)

    def timed(layer, method):
        inner = getattr(layer, method)

        def call(*a, **k):
            start = time.perf_counter()
            result = inner(*a, **k)
            seconds[(layer.name, method)] += time.perf_counter() - start
            return result
        setattr(layer, method, call)

    for layer in model.layers:
        for method in ("forward", "backward"):
            timed(layer, method)
    step = (lambda: model.train_on_batch(x, y)) if args.mode == "train" else (lambda: model.predict_on_batch(x))
    for _ in range(2):
        step()
    seconds.clear()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    total = (time.perf_counter() - start) / args.steps * 1e3
    print(f"{args.model} b{args.batch} {args.mode}: {total:.1f} ms/step")
    for (name, method), s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        if s / args.steps * 1e3 > 0.5:
            print(f"  {name:24s} {method:8s} {s / args.steps * 1e3:7.1f} ms")
    print(f"  layers total {sum(seconds.values()) / args.steps * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
