"""Datasets in their official file formats, as ``keras.datasets``, and folders of your own images.

``mnist``, ``fashion_mnist``, ``cifar10``: ``load_data(path=None)`` -> ``((x_train, y_train), (x_test, y_test))``
``image_folder`` / ``image_dataset_from_directory``: lazy batches from one subfolder per class

Private helpers: ``_files.py`` (search order, IDX), ``_download.py`` (verified download into the cache),
``_safe_pickle.py`` (CIFAR-10's Python batches without ``pickle.load``).
"""
from . import cifar10, fashion_mnist, mnist  # noqa: F401
from ._files import DatasetNotFoundError  # noqa: F401
from .image_folder import image_dataset_from_directory, image_folder  # noqa: F401
