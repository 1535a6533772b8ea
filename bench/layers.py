"""Per-layer wall time of one of the seed models in faltung: where a training step spends its time.

    python bench/layers.py cifar 128            # training step, batch 128
    python bench/layers.py lenet5 256 infer     # predict_on_batch, batch 256
    python bench/layers.py cifar 32 --against 128   # batch 32 and 128 in turn, ms per 32 images each

Each layer's ``forward`` and ``backward`` (and the optimizer's update) is wrapped with a timer inside
real ``train_on_batch`` / ``predict_on_batch`` calls (random data, two warm-up steps, then the mean
over ``--steps``). With ``--against``, the two batch sizes run alternately, round by round, each on
its own copy of the model (this machine's speed drifts within minutes), and the times are per
``batch`` images.
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


def _timed(seconds, current, label, function):
    """``function`` with its wall time added to ``seconds[(current[0], label)]``."""
    def call(*args, **kwargs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        seconds[(current[0], label)] += time.perf_counter() - start
        return result
    return call


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(models.SPECS))
    parser.add_argument("batch", type=int)
    parser.add_argument("mode", nargs="?", default="train", choices=["train", "infer"])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--against", type=int, help="a second batch size, run in turn with the first")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of the two batch sizes (--against)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    batches = [args.batch] + ([args.against] if args.against else [])
    data = {b: (rng.random((b,) + models.SPECS[args.model]["input"], dtype=np.float32), rng.integers(0, 10, b))
            for b in batches}
    seconds, current = collections.defaultdict(float), [None]
    built = {}
    for b in batches:  # one model per batch size, so that neither resizes the other's scratch buffers
        faltung.utils.set_random_seed(0)
        built[b] = model = models.build_faltung(args.model)
        for layer, name in zip(model.layers, [layer.name for layer in built[batches[0]].layers]):
            for method in ("forward", "backward"):  # under the first model's layer names
                setattr(layer, method, _timed(seconds, current, (name, method), getattr(layer, method)))
        model.optimizer.apply_gradients = _timed(seconds, current, ("optimizer", ""),
                                                 model.optimizer.apply_gradients)

    def step(b):
        x, y = data[b]
        return built[b].train_on_batch(x, y) if args.mode == "train" else built[b].predict_on_batch(x)

    for b in batches:
        current[0] = b
        step(b)
        step(b)
    seconds.clear()
    steps, total = collections.Counter(), collections.Counter()
    for _ in range(args.rounds if args.against else 1):
        for b in batches:  # about the same number of images per round for each batch size
            current[0] = b
            repeats = max(1, args.steps * args.batch // b) if args.against else args.steps
            start = time.perf_counter()
            for _ in range(repeats):
                step(b)
            total[b] += time.perf_counter() - start
            steps[b] += repeats
    if args.against:
        _print_against(args, batches, seconds, steps, total)
        return
    print(f"{args.model} b{args.batch} {args.mode}: {total[args.batch] / args.steps * 1e3:.1f} ms/step")
    per_step = {label: s / args.steps * 1e3 for (_, label), s in seconds.items()}
    for (name, method), ms in sorted(per_step.items(), key=lambda kv: -kv[1]):
        if ms > 0.5:
            print(f"  {name:24s} {method:8s} {ms:7.1f} ms")
    print(f"  layers total {sum(ms for (name, _), ms in per_step.items() if name != 'optimizer'):.1f} ms")


def _print_against(args, batches, seconds, steps, total):
    """Each label's ms per ``args.batch`` images at both batch sizes, and their ratio."""
    def per(b, value):
        return value / steps[b] * 1e3 * args.batch / b
    first, second = batches
    print(f"{args.model} {args.mode}, ms per {first} images: b{first} {per(first, total[first]):.1f}, "
          f"b{second} {per(second, total[second]):.1f} ({args.rounds} rounds, alternating)")
    labels = sorted({label for _, label in seconds}, key=lambda label: -seconds[(first, label)])
    for label in labels:
        a, b = per(first, seconds[(first, label)]), per(second, seconds[(second, label)])
        if max(a, b) > 0.2:
            print(f"  {label[0]:24s} {label[1]:8s} b{first} {a:7.2f}   b{second} {b:7.2f}   "
                  f"ratio {a / max(b, 1e-9):.2f}")


if __name__ == "__main__":
    main()
