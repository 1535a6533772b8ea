"""Run directories: what ``faltung train`` writes, and how a path is resolved to a model.

A run directory (``faltung train ... --out runs/NAME``) holds

  model.faltung         the trained model (rewritten atomically after every finished epoch)
  run.json              how to feed the model (below); written before the first epoch
  history.csv           one row per finished epoch: epoch, loss, accuracy, val_loss, val_accuracy, ...
  metrics.json          test_loss, test_accuracy, epochs (finished), time_seconds, seed, dataset, ...
  summary.txt           model.summary()
  classification_report.txt, curves.png, samples.png, confusion_matrix.png, filters.png,
  feature_maps.png (the Conv2D maps of the first test image)

``run.json`` keys (stable; the explorer reads them):

  format          "faltung-run/1"
  model           the zoo name (``lenet5``) or the Python file the model came from
  model_file      "model.faltung" (relative to the run directory)
  dataset         "mnist" | "fashion_mnist" | "cifar10" | the image folder's path
  class_names     list of K names; output unit k of the model is class_names[k]
  input_shape     [H, W, C] the model's input (without the batch dimension)
  outputs         "probabilities" (the model ends in softmax) or "logits" (apply softmax yourself)
  preprocessing   how a raw image becomes a model input, in this order:
      color_mode  "grayscale" (C = 1) or "rgb" (C = 3): convert the image to it
      image_size  [h, w] resize the image to this (the dataset's own size)
      scale       multiply the uint8 pixels by this (1/255: values in [0, 1])
      pad         [[top, bottom], [left, right]] zeros added around the scaled image
                  (e.g. [[2, 2], [2, 2]]: 28x28 MNIST digits for LeNet-5's 32x32 input)
  test_split      for an image folder without train/ and test/: the fraction held out as the test
                  set (with ``seed``: the split of faltung.datasets.image_folder); null otherwise
  seed, epochs, batch_size, optimizer, learning_rate, lr_schedule, validation_split, augment, limit
  created         ISO 8601 UTC time; faltung_version
"""
import json
import os

RUN_FORMAT = "faltung-run/1"
MODEL_FILE = "model.faltung"
RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"


class UsageError(ValueError):
    """A mistake of the user (bad argument, missing file): printed as one line, no traceback."""


def resolve(path):
    """``path`` (a run directory or a model file) -> ``(model_path, run_info or None)``.

    A run directory must contain ``model.faltung``; its ``run.json`` is read if present.
    A model file next to a ``run.json`` that names it is treated as that run's model.
    Raises ``UsageError`` (a ValueError-like one-line message) when nothing usable is there.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        model_path = os.path.join(path, MODEL_FILE)
        if not os.path.isfile(model_path):
            raise UsageError(f"{path} is a directory but holds no {MODEL_FILE} (not a run directory, "
                             "or its first epoch has not finished yet)")
        return model_path, read_run_info(path)
    if os.path.isfile(path):
        folder = os.path.dirname(os.path.abspath(path))
        info = read_run_info(folder) if os.path.isfile(os.path.join(folder, RUN_FILE)) else None
        if info is not None and os.path.basename(path) != info.get("model_file", MODEL_FILE):
            info = None
        return path, info
    raise UsageError(f"no such run directory or model file: {path}")


def read_run_info(run_dir):
    """The ``run.json`` of ``run_dir`` as a dict, ``None`` if there is none."""
    file = os.path.join(os.fspath(run_dir), RUN_FILE)
    if not os.path.isfile(file):
        return None
    try:
        with open(file, encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise UsageError(f"cannot read {file}: {error}") from None
    if not isinstance(info, dict):
        raise UsageError(f"{file}: expected a JSON object, got {type(info).__name__}")
    return info


def write_json(path, data):
    """Write ``data`` as pretty JSON, atomically (temp file + os.replace)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (the same temp file + ``os.replace`` as ``model.save``)."""
    from ..models.saving import atomic_write
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def save_model_atomically(model, path):
    """``model.save``: it already writes a temporary file beside ``path`` and ``os.replace``s it there."""
    model.save(path)


def load_model(model_path):
    """``faltung.models.load_model`` with a one-line error for unreadable files."""
    from ..models import load_model as _load
    try:
        return _load(model_path)
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(f"cannot load model {model_path}: {error}") from None
