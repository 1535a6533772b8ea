"""Where dataset files live, and reading the IDX format (MNIST, Fashion-MNIST) safely.

Search order for a dataset's files (``subdir`` is ``mnist``, ``fashion-mnist`` or ``cifar-10``):

1. ``load_data(path=DIR)``: DIR itself (nothing else is tried);
2. ``$FALTUNG_DATA/<subdir>/`` (a folder laid out like ``/work/shared/datasets``);
3. the user cache ``$XDG_CACHE_HOME/faltung/<subdir>/`` or ``~/.cache/faltung/<subdir>/``;
4. system copies (Debian's ``/usr/share/datasets/fashion-mnist/``);
5. a download from the official URLs into the cache (``_download.py``).

IDX: a big-endian header ``0x00 0x00 <type 0x08 = uint8> <ndim>``, then ``ndim`` uint32 sizes,
then the data (magic ``0x00000803`` for (N, 28, 28) images, ``0x00000801`` for (N,) labels).
A file's identity is the SHA-256 of its DECOMPRESSED bytes: re-gzipped copies such as Debian's
(whose .gz bytes differ from the official ones) are then still recognised as the official data.
"""
import gzip
import hashlib
import os
import struct
import warnings
import zlib
from collections import namedtuple
from pathlib import Path

import numpy as np

#: one IDX file: name, magic number, expected shape, SHA-256 of the official decompressed bytes
IdxFile = namedtuple("IdxFile", "filename magic shape sha256")

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


class DatasetNotFoundError(FileNotFoundError):
    """The dataset's files are nowhere to be found and could not be downloaded."""


def cache_root():
    """``$XDG_CACHE_HOME/faltung`` or ``~/.cache/faltung``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "faltung"


def search_dirs(subdir, system_dirs=()):
    """The folders searched, in order, when ``path`` is not given."""
    dirs = []
    if os.environ.get("FALTUNG_DATA"):
        dirs.append(Path(os.environ["FALTUNG_DATA"]) / subdir)
    dirs.append(cache_root() / subdir)
    dirs.extend(Path(d) for d in system_dirs)
    return dirs


def first_dir_with(filenames, dirs):
    """The first folder of ``dirs`` that holds every file of ``filenames``, else None."""
    for d in dirs:
        if all((d / name).is_file() for name in filenames):
            return d
    return None


def missing_files_message(dataset, filenames, path=None, subdir=None, reason=None):
    """What to do when files are missing: which files, and where to put them."""
    names = ", ".join(filenames)
    if path is not None:
        return f"{dataset}: {path} does not hold {names}"
    where = [f"$FALTUNG_DATA/{subdir}/", f"{cache_root() / subdir}/"]
    text = (f"{dataset}: the files {names} were not found and could not be downloaded"
            + (f" ({reason})" if reason else "")
            + f". Put them in one of: {', '.join(where)}, or pass load_data(path=<folder holding them>).")
    return text


# ---- gzip and IDX ----------------------------------------------------------------------------
def read_gzip(path):
    """The decompressed bytes of a .gz file; a damaged file raises ValueError naming it."""
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as err:   # BadGzipFile, truncated stream, CRC error
        raise ValueError(f"{os.fspath(path)}: not a valid gzip file ({err})") from None


def parse_idx(data, name, magic, shape):
    """An IDX byte string as a uint8 array of ``shape``; wrong magic or sizes raise ValueError."""
    kinds = {IMAGES_MAGIC: "images (N, 28, 28)", LABELS_MAGIC: "labels (N,)"}
    if len(data) < 4:
        raise ValueError(f"{name}: too short for an IDX file ({len(data)} bytes)")
    got_magic = int.from_bytes(data[:4], "big")
    if got_magic != magic:
        raise ValueError(f"{name}: wrong magic number 0x{got_magic:08x}, expected 0x{magic:08x} "
                         f"(IDX uint8 {kinds.get(magic, '')})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: IDX header cut short ({len(data)} bytes, expected at least {header})")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    if dims != tuple(shape):
        raise ValueError(f"{name}: wrong sizes {dims} in the IDX header, expected {tuple(shape)}")
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise ValueError(f"{name}: expected {expected} data bytes after the {header}-byte header for "
                         f"shape {dims}, got {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def warn_if_not_official(name, digest, expected, algorithm="SHA-256", what="data", stacklevel=6):
    """A warning (not an error) when a readable file is not byte-identical to the official release.

    ``stacklevel`` points the warning at the user's ``load_data()`` call.
    """
    if digest != expected:
        warnings.warn(f"{name}: {algorithm} of the {what} is {digest}, the official release has {expected}; "
                      f"the file is well-formed and is used, but it is not the official data",
                      UserWarning, stacklevel=stacklevel)


def read_idx_file(path, spec):
    """Read and check one IDX .gz file described by an ``IdxFile``."""
    data = read_gzip(path)
    array = parse_idx(data, os.fspath(path), spec.magic, spec.shape)
    warn_if_not_official(os.fspath(path), hashlib.sha256(data).hexdigest(), spec.sha256,
                         what="decompressed data")
    return array


def verify_idx_download(spec):
    """A check for ``_download.download``: the temp file must decompress to the official bytes."""
    def verify(tmp_path):
        data = read_gzip(tmp_path)
        digest = hashlib.sha256(data).hexdigest()
        if digest != spec.sha256:
            raise ValueError(f"{spec.filename}: downloaded file does not match the official release "
                             f"(SHA-256 of the decompressed data {digest}, expected {spec.sha256})")
    return verify


def load_idx_dataset(dataset, subdir, specs, mirrors, path=None, system_dirs=()):
    """``((x_train, y_train), (x_test, y_test))`` from four IDX files ``specs`` (train x, y, test x, y)."""
    from . import _download
    filenames = [s.filename for s in specs]
    if path is not None:
        folder = Path(path)
        missing = [n for n in filenames if not (folder / n).is_file()]
        if missing:
            raise DatasetNotFoundError(missing_files_message(dataset, missing, path=folder))
    else:
        folder = first_dir_with(filenames, search_dirs(subdir, system_dirs))
        if folder is None:
            folder = cache_root() / subdir
            for spec in specs:
                if not (folder / spec.filename).is_file():
                    urls = [m + spec.filename for m in mirrors]
                    try:
                        _download.download(urls, folder / spec.filename, verify_idx_download(spec))
                    except OSError as err:
                        raise DatasetNotFoundError(missing_files_message(
                            dataset, filenames, subdir=subdir, reason=str(err))) from err
    x_train, y_train, x_test, y_test = (read_idx_file(folder / s.filename, s) for s in specs)
    return (x_train, y_train), (x_test, y_test)
