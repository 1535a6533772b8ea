"""Saving and loading: one zip file of JSON and ``.npy`` entries, never pickle.

``model.save("m.faltung")`` writes::

    metadata.json        {"format": "faltung", "kind": "model", "version": 1}
    config.json          the architecture (layer configs; for a functional model the nodes)
    compile.json         loss, metrics, optimizer config, and the training state that makes
                         a resumed ``fit`` continue exactly (epochs trained, shuffle seed,
                         the random-generator state of layers such as Dropout)
    weights/LLLL_WW.npy  weight WW of layer LLLL (``model.layers`` order)
    optimizer/KKKK.npy   the optimizer state (iteration count, slots)

The file is written to a temporary file in the same folder and moved into place with
``os.replace``, so a crash mid-save leaves the old file intact. Loading checks every
entry and turns any damage (truncated, not a zip, foreign, inconsistent) into a
``ValueError`` naming the file. Only registered faltung layer classes are created.
"""
import io
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from .architecture import build_from_config, model_config, set_training_state, training_state

FORMAT = "faltung"
VERSION = 1
_DAMAGE = (ValueError, KeyError, TypeError, IndexError, AttributeError, EOFError, OverflowError,
           zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, UnicodeDecodeError,
           NotImplementedError)  # zipfile raises NotImplementedError for unknown compression methods

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_config", "model_from_json"]


# ---- writing ---------------------------------------------------------------------------------------
def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then move it over ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _write_zip(f, entries):
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)


def _weight_entries(model):
    entries = []
    for i, layer in enumerate(model.layers):
        for j, w in enumerate(layer.weights):
            entries.append((f"weights/{i:04d}_{j:02d}.npy", _npy_bytes(w)))
    return entries


def _check_overwrite(path, overwrite):
    if not overwrite and os.path.exists(path):
        raise ValueError(f"save: {os.fspath(path)} exists and overwrite=False")


def save_model(model, path, overwrite=True):
    """Write the whole model (architecture, weights, compile and optimizer state) to ``path``."""
    from .. import losses, optimizers
    _check_overwrite(path, overwrite)
    compile_info = {"compiled": model.compiled, "training": training_state(model)}
    entries = []
    if model.compiled:
        compile_info["loss"] = None if model.loss is None else losses.serialize(model.loss)
        compile_info["metrics"] = model._compile_config["metrics"]
        compile_info["optimizer"] = optimizers.serialize(model.optimizer)
        state = model.optimizer.get_state()
        compile_info["optimizer_state_size"] = len(state)
        entries += [(f"optimizer/{k:04d}.npy", _npy_bytes(s)) for k, s in enumerate(state)]
    head = [("metadata.json", json.dumps({"format": FORMAT, "kind": "model", "version": VERSION})),
            ("config.json", json.dumps(model_config(model), indent=1)),
            ("compile.json", json.dumps(compile_info, indent=1))]
    atomic_write(path, lambda f: _write_zip(f, head + _weight_entries(model) + entries))


def save_weights(model, path, overwrite=True):
    """Write only the weights (``model.layers`` order) to ``path``."""
    _check_overwrite(path, overwrite)
    head = [("metadata.json", json.dumps({"format": FORMAT, "kind": "weights", "version": VERSION})),
            ("weights.json", json.dumps(_weights_index(model)))]
    atomic_write(path, lambda f: _write_zip(f, head + _weight_entries(model)))


def _weights_index(model):
    return [{"layer": layer.name, "shapes": [list(w.shape) for w in layer.weights]} for layer in model.layers]


# ---- reading -------------------------------------------------------------------------------------------
class _Archive:
    """Read-only access to the zip entries, each failure a ValueError naming the file."""

    def __init__(self, path):
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise ValueError(f"File not found: {self.path} (expected a faltung model file, "
                             "e.g. written by model.save('model.faltung'))")
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise ValueError(f"{self.path} is not a faltung file (not a readable zip archive: {e})") from None
        self.names = set(self.zip.namelist())

    def fail(self, why):
        raise ValueError(f"{self.path} is not a valid faltung file: {why}")

    def json(self, name):
        if name not in self.names:
            self.fail(f"missing entry {name!r}")
        return json.loads(self.zip.read(name).decode("utf-8"))

    def array(self, name):
        if name not in self.names:
            self.fail(f"missing entry {name!r}")
        return np.load(io.BytesIO(self.zip.read(name)), allow_pickle=False)

    def check_kind(self, kinds):
        meta = self.json("metadata.json") if "metadata.json" in self.names else None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            self.fail("no faltung metadata.json (a foreign zip file?)")
        if meta.get("version") != VERSION:
            self.fail(f"expected format version {VERSION}, got {meta.get('version')!r}")
        if meta.get("kind") not in kinds:
            self.fail(f"expected a file of kind {kinds}, got {meta.get('kind')!r}")
        return meta["kind"]

    def close(self):
        self.zip.close()


def _guarded(path, action):
    """Run ``action(archive)``; any sign of a damaged file becomes a ValueError naming it."""
    archive = _Archive(path)
    try:
        return action(archive)
    except ValueError as e:
        if os.fspath(path) in str(e):
            raise
        raise ValueError(f"{os.fspath(path)} is not a valid faltung file: {e}") from None
    except _DAMAGE as e:
        raise ValueError(f"{os.fspath(path)} is not a valid faltung file: "
                         f"{type(e).__name__}: {e}") from None
    finally:
        archive.close()


def _read_weights_into(model, archive):
    """Check every stored weight against the model first, then set them all."""
    expected = sum(len(layer.weights) for layer in model.layers)
    stored = [n for n in archive.names if n.startswith("weights/")]
    if len(stored) != expected:
        archive.fail(f"expected {expected} weight arrays for this model, the file has {len(stored)}")
    per_layer = []
    for i, layer in enumerate(model.layers):
        arrays = [archive.array(f"weights/{i:04d}_{j:02d}.npy") for j in range(len(layer.weights))]
        for (wname, w, _), a in zip(layer._weights, arrays):
            if a.dtype.kind not in "fiu":
                archive.fail(f"weight {layer.name}/{wname} has dtype {a.dtype}, expected numbers")
            if a.shape != w.shape:
                archive.fail(f"expected weight {layer.name}/{wname} of shape {w.shape}, got {a.shape}")
        per_layer.append(arrays)
    for layer, arrays in zip(model.layers, per_layer):
        layer.set_weights(arrays)


def load_model(path, compile=True, **kwargs):
    """The model saved at ``path``: same architecture, weights, optimizer and training state."""
    from .. import layers

    layers.load_all()

    def read(archive):
        archive.check_kind(("model",))
        model = build_from_config(archive.json("config.json"))
        _read_weights_into(model, archive)
        info = archive.json("compile.json")
        if compile and info.get("compiled"):
            _restore_compile(model, info, archive)
        set_training_state(model, info.get("training", {}))
        return model
    return _guarded(path, read)


def _restore_compile(model, info, archive):
    from .. import optimizers
    metrics = info.get("metrics") or []
    model.compile(optimizer=optimizers.deserialize(info["optimizer"]), loss=info["loss"],
                  metrics=[m for m in metrics if m is not None])
    n_state = int(info.get("optimizer_state_size", 0))
    if n_state:
        model.optimizer.set_state([archive.array(f"optimizer/{k:04d}.npy") for k in range(n_state)])


def model_from_json(json_string):
    """A new model from ``model.to_json()`` (architecture only: fresh weights, not compiled)."""
    from .. import layers
    layers.load_all()
    spec = json.loads(json_string)
    if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
        raise ValueError("model_from_json: expected the JSON of model.to_json(), "
                         "{\"class_name\": ..., \"config\": {...}}")
    return build_from_config(spec["config"])


def load_weights(model, path):
    """Read weights saved by ``save_weights`` (or ``save``) into ``model`` (same architecture)."""
    def read(archive):
        archive.check_kind(("weights", "model"))
        _read_weights_into(model, archive)
    return _guarded(path, read)
