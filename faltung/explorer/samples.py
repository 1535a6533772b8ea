"""Test images of the data set (or image folder) a run was trained on, loaded once, lazily, from local files."""
import importlib
import os
import threading

import numpy as np

_ALIASES = {"mnist": "mnist", "fashion_mnist": "fashion_mnist", "fashion-mnist": "fashion_mnist",
            "fashionmnist": "fashion_mnist", "cifar10": "cifar10", "cifar-10": "cifar10",
            "cifar_10": "cifar10"}


class SampleSource:
    """``source.images`` (N, H, W, C) uint8-valued and ``source.labels`` (N,) of a data set's test
    split, loaded on first use with ``faltung.datasets.<name>.load_data()``, or for a run trained on an
    image folder, that folder's held-out test images as ``faltung.cli.data.load_folder`` made them."""

    def __init__(self, dataset, run_info=None):
        self.dataset = dataset
        self.module = _ALIASES.get(str(dataset).lower()) if dataset else None
        self._lock = threading.Lock()
        self._data = None
        self._folder = None
        preprocessing = (run_info or {}).get("preprocessing") or {}
        if self.module is None and dataset and os.path.isdir(str(dataset)) and "image_size" in preprocessing:
            # an image folder run: its test images, split and resized as `faltung train` did
            self._folder = dict(image_size=preprocessing["image_size"],
                                color_mode=preprocessing.get("color_mode", "rgb"),
                                validation_split=run_info.get("test_split") or 0.2, seed=run_info.get("seed", 0))
        self.error = None if self.module or self._folder else (
            f"no known data set named {dataset!r} (expected mnist, fashion_mnist, cifar10 or an image folder "
            "that exists here)")

    @property
    def available(self):
        """Whether the data set's module exists (the files are read on first use)."""
        if self._folder is not None:
            return self.error is None
        if self.module is None:
            return False
        try:
            importlib.import_module(f"faltung.datasets.{self.module}")
        except ImportError as error:
            self.error = f"faltung.datasets.{self.module} is not available ({error})"
            return False
        return self.error is None

    def load(self):
        """(images (N, H, W, C), labels (N,)); ValueError if the data set cannot be read."""
        with self._lock:
            if self._data is None:
                if not self.available:
                    raise ValueError(f"samples: {self.error}")
                try:
                    if self._folder is not None:
                        from ..cli.data import load_folder
                        _, (x_test, y_test), _ = load_folder(str(self.dataset), **self._folder)
                    else:
                        module = importlib.import_module(f"faltung.datasets.{self.module}")
                        _, (x_test, y_test) = module.load_data()
                except (OSError, ValueError) as error:
                    self.error = f"could not load {self.dataset}: {error}"
                    raise ValueError(f"samples: {self.error}") from None
                images = np.asarray(x_test)
                if images.ndim == 3:
                    images = images[..., None]
                self._data = (images, np.asarray(y_test).reshape(-1).astype(int))
            return self._data
