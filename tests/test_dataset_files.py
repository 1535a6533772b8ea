"""File formats and file handling of faltung.datasets: IDX, CIFAR-10 archives, the safe pickle
reader, where files are looked for, and the verified download (served from local bytes, no network)."""
import gzip
import io
import os
import pickle
import struct
import tarfile
import urllib.error
import warnings

import numpy as np
import pytest

from faltung.datasets import _download, _files, _safe_pickle, cifar10, mnist
from faltung.datasets._files import DatasetNotFoundError

MNIST_FILES = [s.filename for s in mnist.FILES]


# ---- helpers -----------------------------------------------------------------------------------
def idx_bytes(magic, shape, payload=None):
    header = struct.pack(">I", magic) + struct.pack(f">{len(shape)}I", *shape)
    data = payload if payload is not None else bytes(int(np.prod(shape)))
    return header + data


def write_gz(path, data):
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(data)


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No FALTUNG_DATA, an empty user cache in tmp_path, and a network that must not be used."""
    monkeypatch.delenv("FALTUNG_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def no_network(url, timeout=None):
        raise AssertionError(f"test tried to download {url}")
    monkeypatch.setattr(_download, "urlopen", no_network)
    return tmp_path


class FakeResponse(io.BytesIO):
    """What urlopen returns: a readable with headers; optionally fails after ``fail_after`` bytes."""

    def __init__(self, data, fail_after=None):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}
        self.fail_after = fail_after

    def read(self, n=-1):
        if self.fail_after is not None and self.tell() + (n if n > 0 else 0) > self.fail_after:
            raise ConnectionResetError("connection reset by peer (simulated)")
        return super().read(n)


def serve(monkeypatch, folder, corrupt=None, fail_after=None, calls=None):
    """Replace the URL opener: each URL is answered with the file of that name in ``folder``."""
    def fake_urlopen(url, timeout=None):
        name = url.rsplit("/", 1)[-1]
        if calls is not None:
            calls.append(url)
        data = (folder / name).read_bytes()
        if corrupt == name:
            data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
        return FakeResponse(data, fail_after)
    monkeypatch.setattr(_download, "urlopen", fake_urlopen)


# ---- IDX ---------------------------------------------------------------------------------------
def test_idx_round_trip_and_checks(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    data = idx_bytes(0x803, (2, 28, 28), images.tobytes())
    out = _files.parse_idx(data, "x.idx", 0x803, (2, 28, 28))
    np.testing.assert_array_equal(out, images)
    assert out.flags.writeable

    with pytest.raises(ValueError, match=r"x\.idx: wrong magic number 0x00000801, expected 0x00000803"):
        _files.parse_idx(idx_bytes(0x801, (2, 28, 28)), "x.idx", 0x803, (2, 28, 28))
    with pytest.raises(ValueError, match=r"x\.idx: wrong sizes \(3, 28, 28\).*expected \(2, 28, 28\)"):
        _files.parse_idx(idx_bytes(0x803, (3, 28, 28)), "x.idx", 0x803, (2, 28, 28))
    with pytest.raises(ValueError, match=r"x\.idx: expected 1568 data bytes .* got 1567"):
        _files.parse_idx(data[:-1], "x.idx", 0x803, (2, 28, 28))
    with pytest.raises(ValueError, match="too short"):
        _files.parse_idx(b"\x00\x00", "x.idx", 0x803, (2, 28, 28))


def copy_mnist(src, dst, edit=None):
    """The four official MNIST files into ``dst``; ``edit(name, raw_bytes)`` may replace one."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES:
        raw = (src / name).read_bytes()
        (dst / name).write_bytes(edit(name, raw) if edit else raw)
    return dst


def test_truncated_gzip_names_the_file(shared_datasets, tmp_path):
    folder = copy_mnist(shared_datasets / "mnist", tmp_path / "m",
                        lambda n, raw: raw[:len(raw) // 2] if n == "t10k-labels-idx1-ubyte.gz" else raw)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: not a valid gzip file"):
        mnist.load_data(path=folder)


def test_not_gzip_at_all_names_the_file(shared_datasets, tmp_path):
    folder = copy_mnist(shared_datasets / "mnist", tmp_path / "m",
                        lambda n, raw: b"hello" * 100 if n == "train-labels-idx1-ubyte.gz" else raw)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz: not a valid gzip file"):
        mnist.load_data(path=folder)


def test_wrong_magic_and_sizes_in_a_dataset_folder(shared_datasets, tmp_path):
    labels = gzip.decompress((shared_datasets / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes())
    swapped = copy_mnist(shared_datasets / "mnist", tmp_path / "a",
                         lambda n, raw: gzip.compress(b"\x00\x00\x08\x03" + labels[4:])
                         if n == "t10k-labels-idx1-ubyte.gz" else raw)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: wrong magic number 0x00000803"):
        mnist.load_data(path=swapped)
    short = copy_mnist(shared_datasets / "mnist", tmp_path / "b",
                       lambda n, raw: gzip.compress(labels[:-10]) if n == "t10k-labels-idx1-ubyte.gz" else raw)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: expected 10000 data bytes"):
        mnist.load_data(path=short)


def test_well_formed_but_unofficial_file_warns(shared_datasets, tmp_path):
    labels = bytearray(gzip.decompress((shared_datasets / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    labels[8] = (labels[8] + 1) % 10
    folder = copy_mnist(shared_datasets / "mnist", tmp_path / "m",
                        lambda n, raw: gzip.compress(bytes(labels)) if n == "t10k-labels-idx1-ubyte.gz" else raw)
    with pytest.warns(UserWarning, match=r"t10k-labels-idx1-ubyte\.gz: SHA-256 .* not the official data"):
        (_, _), (_, y_test) = mnist.load_data(path=folder)
    assert y_test[0] == labels[8]


def test_official_files_load_without_warning(shared_datasets):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x, y), (xt, yt) = mnist.load_data(path=shared_datasets / "mnist")
    assert x.shape == (60000, 28, 28) and yt.shape == (10000,)


# ---- where the files are found ------------------------------------------------------------------
def test_missing_path_names_the_files(clean_env):
    with pytest.raises(DatasetNotFoundError, match=r"does not hold train-images-idx3-ubyte\.gz"):
        mnist.load_data(path=clean_env / "nowhere")


def test_faltung_data_env_var_then_cache(shared_datasets, clean_env, monkeypatch):
    layout = clean_env / "data"
    copy_mnist(shared_datasets / "mnist", layout / "mnist")
    monkeypatch.setenv("FALTUNG_DATA", str(layout))
    (x, _), _ = mnist.load_data()
    assert x.shape == (60000, 28, 28)
    # without FALTUNG_DATA the cache is used
    monkeypatch.delenv("FALTUNG_DATA")
    copy_mnist(shared_datasets / "mnist", clean_env / "cache" / "faltung" / "mnist")
    assert _files.first_dir_with(MNIST_FILES, _files.search_dirs("mnist")) == \
        clean_env / "cache" / "faltung" / "mnist"
    (x2, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x, x2)


def test_search_order(monkeypatch, tmp_path):
    monkeypatch.setenv("FALTUNG_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    dirs = _files.search_dirs("fashion-mnist", ["/usr/share/datasets/fashion-mnist"])
    assert dirs == [tmp_path / "env" / "fashion-mnist", tmp_path / "xdg" / "faltung" / "fashion-mnist",
                    _files.Path("/usr/share/datasets/fashion-mnist")]
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _files.cache_root() == _files.Path(os.path.expanduser("~")) / ".cache" / "faltung"


# ---- download (no network: the opener serves local files) ----------------------------------------
def test_download_good_bytes_are_cached(shared_datasets, clean_env, monkeypatch, capsys):
    calls = []
    serve(monkeypatch, shared_datasets / "mnist", calls=calls)
    (x, y), (xt, yt) = mnist.load_data()
    cached = clean_env / "cache" / "faltung" / "mnist"
    assert sorted(os.listdir(cached)) == sorted(MNIST_FILES)   # no temp files left
    assert calls[0] == "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz"
    assert "Downloading train-images-idx3-ubyte.gz" in capsys.readouterr().err   # progress on stderr
    assert x.shape == (60000, 28, 28) and yt.shape == (10000,)
    # second call: from the cache, no download
    calls.clear()
    mnist.load_data()
    assert calls == []


def test_corrupted_download_leaves_nothing(shared_datasets, clean_env, monkeypatch):
    serve(monkeypatch, shared_datasets / "mnist", corrupt="t10k-images-idx3-ubyte.gz")
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz: download failed the checksum; "
                                         r"nothing was saved"):
        mnist.load_data()
    cached = clean_env / "cache" / "faltung" / "mnist"
    assert "t10k-images-idx3-ubyte.gz" not in os.listdir(cached)
    assert not [f for f in os.listdir(cached) if f.endswith(".part")]


def test_failure_mid_stream_leaves_nothing(shared_datasets, clean_env, monkeypatch):
    serve(monkeypatch, shared_datasets / "mnist", fail_after=5000)
    with pytest.raises(DatasetNotFoundError, match=r"connection reset") as info:
        mnist.load_data()
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert os.listdir(clean_env / "cache" / "faltung" / "mnist") == []


def test_offline_error_says_what_and_where(clean_env, monkeypatch):
    def offline(url, timeout=None):
        raise urllib.error.URLError("Temporary failure in name resolution")
    monkeypatch.setattr(_download, "urlopen", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    for name in MNIST_FILES:
        assert name in message
    assert "$FALTUNG_DATA/mnist/" in message and str(clean_env / "cache" / "faltung" / "mnist") in message
    assert "name resolution" in message


def test_cifar_download_is_md5_verified(clean_env, monkeypatch, tmp_path):
    bogus = tmp_path / "served"
    bogus.mkdir()
    (bogus / "cifar-10-binary.tar.gz").write_bytes(b"not the archive" * 1000)
    serve(monkeypatch, bogus)
    with pytest.raises(ValueError, match=r"MD5 .* expected c32a1d4ab5d03f1284b67883e8d87530"):
        cifar10.load_data()
    assert os.listdir(clean_env / "cache" / "faltung" / "cifar-10") == []


# ---- CIFAR-10 archives -------------------------------------------------------------------------
def small_batches(per_batch):
    """Six batches of ``per_batch`` random images and labels, as (pixels (n, 3072), labels (n,))."""
    rng = np.random.default_rng(0)
    return {name: (rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                   rng.integers(0, 10, per_batch).astype(np.uint8)) for name in cifar10.BATCHES}


def write_tar_gz(path, members):
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def binary_members(batches):
    return {f"cifar-10-batches-bin/{name}.bin": np.concatenate([y[:, None], x], axis=1).tobytes()
            for name, (x, y) in batches.items()}


def python_members(batches):
    return {f"cifar-10-batches-py/{name}": pickle.dumps(
        {b"batch_label": name.encode(), b"labels": [int(v) for v in y], b"data": x,
         b"filenames": [b"img.png"] * len(y)}, protocol=2) for name, (x, y) in batches.items()}


def test_binary_and_python_archives_agree(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "PER_BATCH", 20)   # tiny batches: the layout, not the size, is tested here
    batches = small_batches(20)
    write_tar_gz(tmp_path / "cifar-10-binary.tar.gz", binary_members(batches))
    (py_dir := tmp_path / "py").mkdir()
    write_tar_gz(py_dir / "cifar-10-python.tar.gz", python_members(batches))
    with pytest.warns(UserWarning, match="MD5 of the archive"):
        (x_bin, y_bin), (xt_bin, yt_bin) = cifar10.load_data(path=tmp_path)
    with pytest.warns(UserWarning, match="MD5 of the archive"):
        (x_py, y_py), (xt_py, yt_py) = cifar10.load_data(path=py_dir)
    for a, b in [(x_bin, x_py), (y_bin, y_py), (xt_bin, xt_py), (yt_bin, yt_py)]:
        np.testing.assert_array_equal(a, b)
    assert x_bin.shape == (100, 32, 32, 3) and y_bin.shape == (100, 1) and y_bin.dtype == np.uint8
    # pixel (row 2, col 5) of image 3 of batch 2, channel G = byte 1024 + 2*32 + 5 of its record
    pixels, labels = batches["data_batch_2"]
    assert x_bin[20 + 3, 2, 5, 1] == pixels[3, 1024 + 2 * 32 + 5]
    np.testing.assert_array_equal(yt_bin[:, 0], batches["test_batch"][1])


def test_bad_record_length_names_the_member(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "PER_BATCH", 20)
    members = binary_members(small_batches(20))
    members["cifar-10-batches-bin/data_batch_3.bin"] = members["cifar-10-batches-bin/data_batch_3.bin"][:-7]
    write_tar_gz(tmp_path / "cifar-10-binary.tar.gz", members)
    with pytest.raises(ValueError, match=r"data_batch_3\.bin: expected 20 records of 3073 bytes .* "
                                         r"got 61453 bytes"):
        cifar10.load_data(path=tmp_path)


def test_missing_batch_and_truncated_archive(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "PER_BATCH", 20)
    members = binary_members(small_batches(20))
    del members["cifar-10-batches-bin/test_batch.bin"]
    write_tar_gz(tmp_path / "cifar-10-binary.tar.gz", members)
    with pytest.raises(ValueError, match=r"cifar-10-binary\.tar\.gz: missing CIFAR-10 batches \['test_batch'\]"):
        cifar10.load_data(path=tmp_path)
    raw = (tmp_path / "cifar-10-binary.tar.gz").read_bytes()
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(raw[:len(raw) // 2])
    with pytest.raises(ValueError, match=r"cifar-10-binary\.tar\.gz: not a valid CIFAR-10 tar\.gz archive"):
        cifar10.load_data(path=tmp_path)


def test_unpacked_binary_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "PER_BATCH", 20)
    batches = small_batches(20)
    for name, data in binary_members(batches).items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (x, y), _ = cifar10.load_data(path=tmp_path)
    np.testing.assert_array_equal(y[:20, 0], batches["data_batch_1"][1])
    np.testing.assert_array_equal(x[5].transpose(2, 0, 1).reshape(-1), batches["data_batch_1"][0][5])


def test_full_size_python_batch():
    """One batch of the official size through the safe reader (protocol 2, as the official files)."""
    pixels = (np.arange(10000 * 3072) % 251).astype(np.uint8).reshape(10000, 3072)
    labels = [i % 10 for i in range(10000)]
    data = pickle.dumps({"batch_label": "training batch 1 of 5", "labels": labels, "data": pixels,
                         "filenames": ["x.png"] * 10000}, protocol=2)
    x, y = cifar10.parse_python_batch(data, "data_batch_1")
    assert x.shape == (10000, 32, 32, 3) and y.dtype == np.uint8
    np.testing.assert_array_equal(x[7, :, :, 2].reshape(-1), pixels[7, 2048:])
    np.testing.assert_array_equal(y, labels)


# ---- the safe pickle reader ----------------------------------------------------------------------
@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_safe_pickle_reads_plain_data_and_arrays(protocol):
    value = {"labels": [6, 9, 9, 4, 300, -70000, 2**40], "data": np.arange(12, dtype=np.uint8).reshape(3, 4),
             b"raw": b"\x00\xffbytes", "f": np.asfortranarray(np.linspace(0, 1, 6).reshape(2, 3)),
             "big": np.arange(3, dtype=">i4"), "t": (1.5, None, True, False), "name": "grüße"}
    out = _safe_pickle.loads(pickle.dumps(value, protocol=protocol))
    assert out.keys() == value.keys()
    for key in ("labels", "t", "name"):
        assert out[key] == value[key]
    assert out[b"raw"] == value[b"raw"]
    for key in ("data", "f", "big"):
        assert out[key].dtype == value[key].dtype
        np.testing.assert_array_equal(out[key], value[key])


def python2_style_batch():
    """A pickle as Python 2's cPickle wrote the official batches: str = SHORT_BINSTRING/BINSTRING."""
    def s(text):
        return b"U" + bytes([len(text)]) + text
    raw = bytes(range(12))
    return b"".join([
        b"\x80\x02}q\x01(", s(b"data"),
        b"cnumpy.core.multiarray\n_reconstruct\nq\x02cnumpy\nndarray\nq\x03K\x00\x85", s(b"b"), b"\x87R",
        b"q\x04(K\x01K\x02K\x06\x86cnumpy\ndtype\nq\x05", s(b"u1"), b"K\x00K\x01\x87R",
        b"q\x06(K\x03", s(b"|"), b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89",
        b"T" + struct.pack("<i", len(raw)) + raw, b"tb",
        s(b"labels"), b"]q\x07(K\x06K\tK\te", s(b"batch_label"), s(b"training batch 1 of 5"),
        b"u."])


def test_safe_pickle_reads_python2_batches():
    out = _safe_pickle.loads(python2_style_batch())
    assert out[b"labels"] == [6, 9, 9]
    assert out[b"batch_label"] == b"training batch 1 of 5"
    assert out[b"data"].shape == (2, 6) and out[b"data"].dtype == np.uint8
    np.testing.assert_array_equal(out[b"data"], np.arange(12).reshape(2, 6))


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_safe_pickle_refuses_os_system_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    data = pickle.dumps({"labels": [1], "data": _Exploit(marker)}, protocol=2)
    with pytest.raises(ValueError, match=r"refusing global (posix|os|nt)\.system"):
        _safe_pickle.loads(data, "evil_batch")
    assert not marker.exists()
    # the same as the member of a CIFAR archive: refused, naming the member
    with pytest.raises(ValueError, match=r"evil_batch.*refusing global"):
        cifar10.parse_python_batch(data, "evil_batch")
    assert not marker.exists()


@pytest.mark.parametrize("payload, message", [
    (b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R.", "refusing global builtins.eval"),
    (b"\x80\x02cnumpy\ndtype\nX\x02\x00\x00\x00O8\x85R.", "refusing dtype 'O8'"),
    (b"\x80\x02cnumpy\ndtype\nX\x02\x00\x00\x00u1\x85R.", "not plain data"),   # a bare dtype is not data
    (b"\x80\x02}q\x00(X\x01\x00\x00\x00a", "cut short"),
    (b"\x80\x02}Z.", "unsupported pickle opcode"),
    (b"\x80\x02cnumpy\nndarray\nK\x00\x85R.", "refusing to call numpy.ndarray"),
    (b"\x80\x02]K\x00\x85R.", "REDUCE of something"),
    (b"\x80\x02K\x01K\x02.", "stack of 2"),
])
def test_safe_pickle_refuses_everything_else(payload, message):
    with pytest.raises(ValueError, match=message):
        _safe_pickle.loads(payload)


def test_safe_pickle_checks_array_sizes():
    data = python2_style_batch().replace(b"K\x02K\x06\x86", b"K\x02K\x05\x86")   # shape (2, 5), 12 bytes
    with pytest.raises(ValueError, match=r"array of shape \(2, 5\) needs 10 bytes, got 12"):
        _safe_pickle.loads(data)
