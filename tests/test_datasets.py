"""The real datasets: shapes, dtypes, order and the published statistics (label counts, pixel means)."""
import time

import numpy as np
import pytest

from faltung import datasets
from faltung.datasets import cifar10, fashion_mnist, mnist

from .conftest import SHARED_DATASETS

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def mnist_data():
    return mnist.load_data(path=SHARED_DATASETS / "mnist")


@pytest.fixture(scope="module")
def cifar_data():
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    with pytest.warns(UserWarning, match=r"MD5 of the archive is 8f4b7f21387bfce4d9b75e529b80f081, "
                                         r"the official release has c32a1d4ab5d03f1284b67883e8d87530"):
        data = cifar10.load_data(path=SHARED_DATASETS / "cifar-10")
    return data, time.perf_counter() - start_wall, time.process_time() - start_cpu


def test_mnist_shapes_order_and_counts(mnist_data):
    (x, y), (xt, yt) = mnist_data
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert y.shape == (60000,) and yt.shape == (10000,)
    assert x.dtype == y.dtype == xt.dtype == yt.dtype == np.uint8
    assert list(np.bincount(y)) == MNIST_TRAIN_COUNTS
    assert list(np.bincount(yt)) == MNIST_TEST_COUNTS
    assert list(y[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]     # the famous first training digits
    assert list(yt[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert mnist.CLASS_NAMES == [str(d) for d in range(10)]


def test_mnist_pixel_statistics(mnist_data):
    (x, _), _ = mnist_data
    # the normalisation constants everybody uses: mean 0.1307, std 0.3081 (of x / 255)
    assert x.mean() == pytest.approx(0.1307 * 255, abs=0.02)
    assert x.std() == pytest.approx(0.3081 * 255, abs=0.02)
    assert x.min() == 0 and x.max() == 255


def test_fashion_mnist_from_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.delenv("FALTUNG_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))     # empty cache: the Debian copy must be found
    from faltung.datasets import _download

    def no_network(url, timeout=None):
        raise AssertionError(f"tried to download {url}")
    monkeypatch.setattr(_download, "urlopen", no_network)
    (x, y), (xt, yt) = fashion_mnist.load_data()
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and yt.dtype == np.uint8
    assert list(np.bincount(y)) == [6000] * 10
    assert list(np.bincount(yt)) == [1000] * 10
    assert x.mean() == pytest.approx(0.2860 * 255, abs=0.02)
    assert x.std() == pytest.approx(0.3530 * 255, abs=0.05)
    assert list(y[:10]) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]    # ankle boot, t-shirt, t-shirt, dress, ...
    assert fashion_mnist.CLASS_NAMES[9] == "Ankle boot" and len(fashion_mnist.CLASS_NAMES) == 10


def test_cifar10_shapes_order_and_labels(cifar_data):
    ((x, y), (xt, yt)), _, _ = cifar_data
    assert x.shape == (50000, 32, 32, 3) and xt.shape == (10000, 32, 32, 3)
    assert y.shape == (50000, 1) and yt.shape == (10000, 1)
    assert x.dtype == y.dtype == xt.dtype == yt.dtype == np.uint8
    assert x.flags.c_contiguous and xt.flags.c_contiguous
    assert list(np.bincount(y[:, 0])) == [5000] * 10
    assert list(np.bincount(yt[:, 0])) == [1000] * 10
    # data_batch_1 as published from the official Python batches (README of the shared copy)
    assert list(np.bincount(y[:10000, 0])) == [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]
    assert list(y[:10, 0]) == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert list(yt[:10, 0]) == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert cifar10.CLASS_NAMES[6] == "frog" and len(cifar10.CLASS_NAMES) == 10


def test_cifar10_pixels(cifar_data):
    ((x, _), (xt, _)), _, _ = cifar_data
    means = x.reshape(-1, 3).mean(axis=0)
    # official per-channel means (125.3, 123.0, 113.9); the shared copy is a JPEG rebuild (+-1 allowed)
    np.testing.assert_allclose(means, [125.3, 123.0, 113.9], atol=1.0)
    # published first red values of image 0 (59 43 50) and test image 0 (158 159 165 ...), within
    # the JPEG error of the rebuild: the channel order and the layout are right
    np.testing.assert_allclose(x[0, 0, :3, 0], [59, 43, 50], atol=8)
    np.testing.assert_allclose(xt[0, 0, :9, 0], [158, 159, 165, 166, 160, 156, 162, 159, 158], atol=15)
    assert x[0, 0, :3, 0].tolist() != x[0, 0, :3, 1].tolist()   # R and G differ: not a planar mix-up


def test_cifar10_loads_fast(cifar_data):
    """Loading all of CIFAR-10 from the tar.gz takes < 3 s here; asserted generously against drift.

    The CPU time of this process is the stable measure on a shared machine; wall time gets more room.
    """
    _, wall, cpu = cifar_data
    print(f"CIFAR-10 load: {wall:.2f} s wall, {cpu:.2f} s CPU")
    assert cpu < 6.0, f"loading CIFAR-10 took {cpu:.2f} s of CPU time"
    assert wall < 15.0, f"loading CIFAR-10 took {wall:.2f} s wall time"


def test_package_exports():
    assert datasets.image_dataset_from_directory is datasets.image_folder
    assert datasets.mnist is mnist and datasets.cifar10 is cifar10 and datasets.fashion_mnist is fashion_mnist
