"""CIFAR-10 (Krizhevsky 2009) from its official archives, as ``keras.datasets.cifar10``.

``(x_train, y_train), (x_test, y_test) = load_data()``: x uint8 (50000, 32, 32, 3) / (10000, 32, 32, 3),
y uint8 (50000, 1) / (10000, 1), official order (data_batch_1 .. 5, then test_batch).

Accepted files in the dataset folder, first found wins:

* ``cifar-10-binary.tar.gz`` (the "binary version"): ``cifar-10-batches-bin/*.bin``, each 10000
  records of 3073 bytes = 1 label byte + 1024 red + 1024 green + 1024 blue bytes (row-major 32x32);
* ``cifar-10-python.tar.gz`` (the "Python version"): pickled dicts ``{data: (10000, 3072) uint8,
  labels: [...]}``, read by ``_safe_pickle`` (never ``pickle.load``);
* the unpacked folders ``cifar-10-batches-bin/`` or ``cifar-10-batches-py/``.

The archive is streamed once: members are decompressed in order, turned into arrays with
``np.frombuffer`` and one reshape/transpose each, while the archive's MD5 is computed on the way
(only MD5s are published for CIFAR-10; a different checksum is a warning, not an error).
"""
import hashlib
import os
import tarfile
import zlib
from pathlib import Path

import numpy as np

from . import _download, _safe_pickle
from ._files import DatasetNotFoundError, cache_root, missing_files_message, search_dirs, warn_if_not_official

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

BINARY_ARCHIVE = "cifar-10-binary.tar.gz"
PYTHON_ARCHIVE = "cifar-10-python.tar.gz"
#: official MD5s of the archives (https://www.cs.toronto.edu/~kriz/cifar.html; no SHA-256 is published)
OFFICIAL_MD5 = {BINARY_ARCHIVE: "c32a1d4ab5d03f1284b67883e8d87530",
                PYTHON_ARCHIVE: "c58f30108f718f92721af3b95e74349a"}
URLS = {BINARY_ARCHIVE: ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"]}

BATCHES = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]
RECORD = 1 + 3 * 32 * 32
PER_BATCH = 10000


# ---- one batch ---------------------------------------------------------------------------------
def _check_labels(labels, name):
    if labels.size and labels.max() > 9:
        raise ValueError(f"{name}: labels must be 0..9, found {int(labels.max())}")


def parse_binary_batch(data, name):
    """A ``.bin`` batch: ``(x (10000, 32, 32, 3) view, y (10000,))`` from 3073-byte records."""
    if len(data) % RECORD != 0 or len(data) // RECORD != PER_BATCH:
        raise ValueError(f"{name}: expected {PER_BATCH} records of {RECORD} bytes (1 label + 3072 pixels) "
                         f"= {PER_BATCH * RECORD} bytes, got {len(data)} bytes")
    records = np.frombuffer(data, dtype=np.uint8).reshape(PER_BATCH, RECORD)
    labels = records[:, 0]
    _check_labels(labels, name)
    planes = records[:, 1:].reshape(PER_BATCH, 3, 32, 32)      # R, G, B planes
    return planes.transpose(0, 2, 3, 1), labels


def parse_python_batch(data, name):
    """A pickled batch (dict with ``data`` (10000, 3072) uint8 and ``labels``), read safely."""
    batch = _safe_pickle.loads(data, name)
    if not isinstance(batch, dict):
        raise ValueError(f"{name}: expected a pickled dict, got {type(batch).__name__}")
    pixels = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.shape != (PER_BATCH, 3072):
        got = pixels.shape if isinstance(pixels, np.ndarray) else type(pixels).__name__
        raise ValueError(f"{name}: expected 'data' as a uint8 array of shape ({PER_BATCH}, 3072), got {got}")
    if not isinstance(labels, list) or len(labels) != PER_BATCH or not all(isinstance(v, int) for v in labels):
        raise ValueError(f"{name}: expected 'labels' as a list of {PER_BATCH} ints")
    labels = np.array(labels, dtype=np.int64)
    if labels.min() < 0:
        raise ValueError(f"{name}: labels must be 0..9, found {int(labels.min())}")
    _check_labels(labels, name)
    return pixels.reshape(PER_BATCH, 3, 32, 32).transpose(0, 2, 3, 1), labels.astype(np.uint8)


# ---- reading an archive or a folder ----------------------------------------------------------------
class _HashingReader:
    """A read-only file wrapper that feeds every byte read through a hash (one pass over the file)."""

    def __init__(self, f, digest):
        self.f, self.digest = f, digest

    def read(self, n=-1):
        chunk = self.f.read(n)
        self.digest.update(chunk)
        return chunk


def _batch_name(member_name, binary):
    """``data_batch_1`` for the member ``cifar-10-batches-bin/data_batch_1.bin`` (binary) or
    ``cifar-10-batches-py/data_batch_1`` (Python version); None for other members."""
    base = os.path.basename(member_name)
    stem = base[:-4] if binary and base.endswith(".bin") else base
    return stem if stem in BATCHES and (base != stem) == binary else None


def _assemble(batches, source):
    """Stack the six parsed batches in the official order."""
    missing = [b for b in BATCHES if b not in batches]
    if missing:
        raise ValueError(f"{source}: missing CIFAR-10 batches {missing}")
    x_train = np.empty((5 * PER_BATCH, 32, 32, 3), dtype=np.uint8)
    y_train = np.empty((5 * PER_BATCH, 1), dtype=np.uint8)
    for i, name in enumerate(BATCHES[:5]):
        x_train[i * PER_BATCH:(i + 1) * PER_BATCH] = batches[name][0]
        y_train[i * PER_BATCH:(i + 1) * PER_BATCH, 0] = batches[name][1]
    x_test = np.ascontiguousarray(batches["test_batch"][0])
    y_test = batches["test_batch"][1].astype(np.uint8).reshape(-1, 1)
    return (x_train, y_train), (x_test, y_test)


def read_archive(path):
    """Stream a CIFAR-10 ``.tar.gz`` (binary or Python version) into the four arrays."""
    path = Path(path)
    python_version = path.name == PYTHON_ARCHIVE
    parse = parse_python_batch if python_version else parse_binary_batch
    digest = hashlib.md5(usedforsecurity=False)
    batches = {}
    try:
        with open(path, "rb") as raw, \
                tarfile.open(fileobj=(hashing := _HashingReader(raw, digest)), mode="r|gz", bufsize=1 << 20) as tar:
            for member in tar:
                name = _batch_name(member.name, binary=not python_version)
                if not member.isfile() or name is None:
                    continue
                data = tar.extractfile(member).read()
                batches[name] = parse(data, f"{path}:{member.name}")
            while hashing.read(1 << 20):   # the tail (tar padding), so the checksum covers the whole file
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise ValueError(f"{path}: not a valid CIFAR-10 tar.gz archive ({err})") from None
    arrays = _assemble(batches, path)
    if path.name in OFFICIAL_MD5:
        warn_if_not_official(str(path), digest.hexdigest(), OFFICIAL_MD5[path.name], "MD5", "archive",
                             stacklevel=5)
    return arrays


def read_folder(folder):
    """An unpacked ``cifar-10-batches-bin/`` or ``cifar-10-batches-py/`` folder."""
    folder = Path(folder)
    binary = folder.name.endswith("-bin")
    batches = {}
    for name in BATCHES:
        file = folder / (name + ".bin" if binary else name)
        if file.is_file():
            data = file.read_bytes()
            batches[name] = (parse_binary_batch if binary else parse_python_batch)(data, str(file))
    return _assemble(batches, folder)


CANDIDATES = [BINARY_ARCHIVE, PYTHON_ARCHIVE, "cifar-10-batches-bin", "cifar-10-batches-py"]


def _read(candidate):
    return read_folder(candidate) if candidate.is_dir() else read_archive(candidate)


def _verify_archive(name):
    def verify(tmp_path):
        digest = hashlib.md5(usedforsecurity=False)
        with open(tmp_path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != OFFICIAL_MD5[name]:
            raise ValueError(f"{name}: downloaded file does not match the official release "
                             f"(MD5 {digest.hexdigest()}, expected {OFFICIAL_MD5[name]})")
    return verify


def load_data(path=None):
    """CIFAR-10 as ``((x_train, y_train), (x_test, y_test))``; ``path``: a folder holding one of
    ``cifar-10-binary.tar.gz``, ``cifar-10-python.tar.gz`` or their unpacked folders."""
    dirs = [Path(path)] if path is not None else search_dirs("cifar-10")
    for folder in dirs:
        for name in CANDIDATES:
            if (folder / name).exists():
                return _read(folder / name)
    if path is not None:
        raise DatasetNotFoundError(missing_files_message("cifar10", [" or ".join(CANDIDATES[:2])],
                                                         path=Path(path)))
    target = cache_root() / "cifar-10" / BINARY_ARCHIVE
    try:
        _download.download(URLS[BINARY_ARCHIVE], target, _verify_archive(BINARY_ARCHIVE))
    except OSError as err:
        raise DatasetNotFoundError(missing_files_message("cifar10", [BINARY_ARCHIVE], subdir="cifar-10",
                                                         reason=str(err))) from err
    return read_archive(target)
