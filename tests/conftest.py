"""Shared fixtures: where the official-format datasets live, a clean layer-name state per test, the\nNumba kernels on their threads."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATASETS = Path(os.environ.get("FALTUNG_TEST_DATA", REPO.parent / "shared" / "datasets"))
FASHION_DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def _fresh_names():
    from faltung.backend import clear_session
    clear_session()
    yield


@pytest.fixture(autouse=True)
def _parallel_kernels(monkeypatch):
    """The Numba kernels on their threads however small the test's arrays: their serial twins
    (``jit.SERIAL_MAX_BYTES``) are checked against them in test_ops_jit.py."""
    from faltung.ops import jit
    monkeypatch.setattr(jit, "SERIAL_MAX_BYTES", 0)
    yield


@pytest.fixture
def shared_datasets():
    """``../shared/datasets`` (MNIST, CIFAR-10 in official formats). Missing data is a failure, not a skip."""
    assert (SHARED_DATASETS / "mnist").is_dir(), f"test data missing: {SHARED_DATASETS}/mnist"
    return SHARED_DATASETS
