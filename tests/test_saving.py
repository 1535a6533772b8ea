"""save / load_model / save_weights: bit-identical round trips, resumable training,
clear errors for damaged or foreign files, and atomic writes."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import faltung
from faltung import layers as L
from faltung.models import saving


def _data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6, 6, 1)).astype(np.float32), rng.integers(0, 3, n)


def _cnn():
    model = faltung.Sequential([
        L.Conv2D(3, 3, activation="relu", input_shape=(6, 6, 1)), L.BatchNormalization(),
        L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.3), L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
    return model


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb))


def test_round_trip_predicts_bit_identically_and_keeps_compile_state(tmp_path):
    x, y = _data()
    model = _cnn()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "model.faltung"
    model.save(path)
    assert zipfile.is_zipfile(path)
    loaded = faltung.models.load_model(path)
    assert type(loaded) is faltung.Sequential and loaded.name == model.name
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]
    assert _same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.optimizer).__name__ == "Adam"
    assert loaded.optimizer.iterations == model.optimizer.iterations == 4
    assert loaded.loss.name == "sparse_categorical_crossentropy"
    assert loaded.metrics_names == ["loss", "acc"]
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_functional_branching_model_round_trip(tmp_path):
    inp = faltung.Input((5, 5, 2))
    a = L.Conv2D(2, 1, activation="relu")(inp)
    b = L.Conv2D(2, 3, padding="same")(inp)
    merged = L.Concatenate()([a, L.Add()([a, b])])
    out = L.Dense(2, activation="softmax")(L.GlobalAveragePooling2D()(merged))
    model = faltung.Model(inputs=inp, outputs=out, name="branches")
    model.save(tmp_path / "f.faltung")
    loaded = faltung.models.load_model(tmp_path / "f.faltung")
    x = np.random.default_rng(0).standard_normal((3, 5, 5, 2)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]
    assert not loaded.compiled


def test_resuming_from_a_saved_model_equals_an_uninterrupted_run(tmp_path):
    """Train 2 epochs vs train 1, save, load, train 1 more: weights bit-identical
    (weights, Adam slots, shuffle order and the Dropout generator all travel in the file)."""
    x, y = _data()

    def fresh():
        faltung.backend.clear_session()
        faltung.utils.set_random_seed(42)
        return _cnn()
    straight = fresh()
    straight.fit(x, y, epochs=2, batch_size=7, verbose=0)

    first = fresh()
    first.fit(x, y, epochs=1, batch_size=7, verbose=0)
    first.save(tmp_path / "half.faltung")
    del first
    faltung.utils.set_random_seed(999)  # the global generator state must not matter
    resumed = faltung.models.load_model(tmp_path / "half.faltung")
    resumed.fit(x, y, epochs=1, batch_size=7, verbose=0)
    assert _same_weights(straight, resumed)
    np.testing.assert_array_equal(straight.predict(x, verbose=0), resumed.predict(x, verbose=0))


def test_save_and_load_weights(tmp_path):
    x, _ = _data()
    model = _cnn()
    model.save_weights(tmp_path / "w.faltung")
    other = _cnn()
    assert not _same_weights(model, other)
    other.load_weights(tmp_path / "w.faltung")
    assert _same_weights(model, other)
    np.testing.assert_array_equal(model.predict(x, verbose=0), other.predict(x, verbose=0))
    wrong = faltung.Sequential([L.Dense(2, input_shape=(3,))])
    before = wrong.get_weights()
    with pytest.raises(ValueError, match=r"w\.faltung.*expected \d+ weight arrays"):
        wrong.load_weights(tmp_path / "w.faltung")
    assert all(np.array_equal(a, b) for a, b in zip(wrong.get_weights(), before))
    with pytest.raises(ValueError, match=r"w\.faltung.*expected a file of kind"):
        faltung.models.load_model(tmp_path / "w.faltung")


def _rewrite(src, dst, change):
    """Copy the zip ``src`` to ``dst`` with ``change(name, data) -> data or None (drop)``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)


def _object_npy():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def _bad_config(name, data, spec):
    if name != "config.json":
        return data
    config = json.loads(data)
    config["layers"][0] = spec
    return json.dumps(config).encode()


@pytest.mark.parametrize("damage, message", [
    ("text", "not a readable zip"),
    ("random", "not a readable zip"),
    ("truncated", "not a"),
    ("foreign_zip", "no faltung metadata.json"),
    ("bad_json", "not a valid faltung file"),
    ("unknown_layer", "unknown layer class 'Popen'"),
    ("bad_layer_config", "not a valid faltung file"),
    ("pickled_weights", "not a valid faltung file"),
    ("wrong_shape", r"expected weight conv2d/kernel of shape \(3, 3, 1, 3\), got \(2,\)"),
    ("missing_weight", "weight arrays"),
])
def test_damaged_or_foreign_files_raise_a_clear_value_error(tmp_path, damage, message):
    good = tmp_path / "good.faltung"
    _cnn().save(good)
    bad = tmp_path / f"{damage}.faltung"
    if damage == "text":
        bad.write_text("this is not a model\n")
    elif damage == "random":
        bad.write_bytes(np.random.default_rng(0).bytes(500))
    elif damage == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif damage == "foreign_zip":
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("hello.txt", "hi")
    elif damage == "bad_json":
        _rewrite(good, bad, lambda n, d: b"{not json" if n == "config.json" else d)
    elif damage == "unknown_layer":
        _rewrite(good, bad, lambda n, d: _bad_config(n, d, {"class_name": "Popen", "config": {"args": "ls"}}))
    elif damage == "bad_layer_config":
        _rewrite(good, bad, lambda n, d: _bad_config(n, d, {"class_name": "Conv2D", "config": {"filters": "x"}}))
    elif damage == "pickled_weights":
        _rewrite(good, bad, lambda n, d: _object_npy() if n == "weights/0000_00.npy" else d)
    elif damage == "wrong_shape":
        _rewrite(good, bad, lambda n, d: saving._npy_bytes(np.zeros(2)) if n == "weights/0000_00.npy" else d)
    elif damage == "missing_weight":
        _rewrite(good, bad, lambda n, d: None if n == "weights/0000_01.npy" else d)
    with pytest.raises(ValueError, match=message) as info:
        faltung.models.load_model(bad)
    assert str(bad) in str(info.value)


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="File not found"):
        faltung.models.load_model(tmp_path / "nope.faltung")


def test_a_crash_while_saving_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "model.faltung"
    model = _cnn()
    model.save(path)
    old_bytes = path.read_bytes()

    def crash(f, entries):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")
    monkeypatch.setattr(saving, "_write_zip", crash)
    model.layers[0].kernel[...] += 1
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(tmp_path / "new.faltung")
    assert path.read_bytes() == old_bytes
    assert sorted(os.listdir(tmp_path)) == ["model.faltung"]
    monkeypatch.undo()
    loaded = faltung.models.load_model(path)
    assert not np.array_equal(loaded.layers[0].kernel, model.layers[0].kernel)


def test_save_with_overwrite_false_refuses_an_existing_file(tmp_path):
    model = _cnn()
    model.save(tmp_path / "m.faltung")
    with pytest.raises(ValueError, match="overwrite=False"):
        model.save(tmp_path / "m.faltung", overwrite=False)


def test_uncompiled_model_round_trip_and_json(tmp_path):
    model = faltung.Sequential([faltung.Input((4,)), L.Dense(2)])
    model.save(tmp_path / "plain.faltung")
    loaded = faltung.models.load_model(tmp_path / "plain.faltung")
    assert loaded.input_shape == (None, 4) and not loaded.compiled
    config = json.loads(model.to_json())
    assert config["class_name"] == "Sequential"
    assert [spec["class_name"] for spec in config["config"]["layers"]] == ["Dense"]


def test_a_user_class_cannot_shadow_a_faltung_layer_in_the_registry(tmp_path):
    from faltung.layers.base import Layer
    faltung.layers.load_all()
    real = Layer.registry["Dense"]

    class Dense(Layer):  # a user's class with a faltung name
        pass
    assert Layer.registry["Dense"] is real
    model = faltung.Sequential([L.Dense(2, input_shape=(3,))])
    model.save(tmp_path / "d.faltung")
    assert type(faltung.models.load_model(tmp_path / "d.faltung").layers[0]) is real


def test_model_from_json_and_from_config_rebuild_the_architecture():
    inp = faltung.Input((4,))
    out = L.Dense(2, activation="softmax")(L.Concatenate()([L.Dense(3)(inp), inp]))
    model = faltung.Model(inp, out)
    again = faltung.models.model_from_json(model.to_json())
    assert [type(la).__name__ for la in again.layers] == [type(la).__name__ for la in model.layers]
    assert again.count_params() == model.count_params() == 4 * 3 + 3 + 7 * 2 + 2
    again.set_weights(model.get_weights())
    x = np.ones((2, 4), np.float32)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    seq = faltung.Sequential([L.Dense(3, input_shape=(5,))])
    assert faltung.Sequential.from_config(seq.get_config()).output_shape == (None, 3)
    with pytest.raises(ValueError, match="model_from_json"):
        faltung.models.model_from_json("[1, 2]")
