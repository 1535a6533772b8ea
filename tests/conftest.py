"""Shared fixtures: where the official-format datasets live, and a clean layer-name state per test."""
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


@pytest.fixture
def shared_datasets():
    """``../shared/datasets`` (MNIST, CIFAR-10 in official formats). Missing data is a failure, not a skip."""
    assert (SHARED_DATASETS / "mnist").is_dir(), f"test data missing: {SHARED_DATASETS}/mnist"
    return SHARED_DATASETS
