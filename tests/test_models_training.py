"""compile / fit / evaluate / predict: Keras semantics, checked against NumPy computations."""
import numpy as np
import pytest

import faltung
from faltung import layers as L
from faltung import optimizers
from tests.gradcheck import assert_close, numeric_gradient


def _data(n=40, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = rng.integers(0, classes, n)
    return x, y


def _classifier(features=6, classes=3, hidden=8, dtype=None):
    return faltung.Sequential([L.Dense(hidden, activation="tanh", input_shape=(features,), dtype=dtype),
                               L.Dense(classes, activation="softmax", dtype=dtype)])


def _sparse_ce(probs, y):
    return float(np.mean(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1))))


def test_history_keys_follow_the_metric_names_as_written():
    x, y = _data()
    for names, expected in ((["accuracy"], ["accuracy", "loss", "val_accuracy", "val_loss"]),
                            (["acc"], ["acc", "loss", "val_acc", "val_loss"]),
                            (None, ["loss", "val_loss"])):
        model = _classifier()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=names)
        history = model.fit(x, y, epochs=3, batch_size=8, validation_data=(x[:10], y[:10]), verbose=0)
        assert sorted(history.history) == expected
        assert all(len(v) == 3 for v in history.history.values())
        assert model.history is history and history.epoch == [0, 1, 2]


def test_epoch_loss_is_the_sample_weighted_mean_and_evaluate_matches_numpy():
    x, y = _data(n=10)
    model = _classifier()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=True, verbose=0)  # batches 4, 4, 2
    probs = model.predict(x, verbose=0)
    expected_loss = _sparse_ce(probs, y)
    expected_acc = float(np.mean(np.argmax(probs, axis=1) == y))
    assert history.history["loss"][0] == pytest.approx(expected_loss, rel=1e-6)
    assert history.history["accuracy"][0] == pytest.approx(expected_acc)
    loss, acc = model.evaluate(x, y, batch_size=3, verbose=0)
    assert loss == pytest.approx(expected_loss, rel=1e-6) and acc == pytest.approx(expected_acc)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected_loss, rel=1e-6)  # loss alone


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y = _data(n=20)
    model = _classifier()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    seen = []
    recorder = faltung.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(batch))
    history = model.fit(x, y, validation_split=0.25, batch_size=5, epochs=1, verbose=0, callbacks=[recorder])
    assert len(seen) == 3  # 15 training samples in batches of 5
    probs = model.predict(x, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(_sparse_ce(probs[15:], y[15:]), rel=1e-6)
    assert history.history["loss"][0] == pytest.approx(_sparse_ce(probs[:15], y[:15]), rel=1e-6)


def test_accuracy_is_chosen_from_the_shapes():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]], np.float32)
    sparse = faltung.metrics.get("accuracy")
    sparse.update_state(np.array([0, 1, 1]), probs)
    assert sparse.result() == pytest.approx(2 / 3)
    onehot = faltung.metrics.get("acc")
    onehot.update_state(np.eye(3)[[0, 2, 1]], probs)
    assert onehot.result() == pytest.approx(1.0) and onehot.name == "acc"
    binary = faltung.metrics.get("accuracy")
    binary.update_state(np.array([[1], [0], [1]]), np.array([[0.8], [0.4], [0.3]]))
    assert binary.result() == pytest.approx(2 / 3)


def test_one_hot_labels_and_categorical_crossentropy():
    x, y = _data()
    model = _classifier()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    y_onehot = np.eye(3, dtype=np.float32)[y]
    history = model.fit(x, y_onehot, epochs=2, batch_size=8, verbose=0)
    probs = model.predict(x, verbose=0)
    loss, acc = model.evaluate(x, y_onehot, verbose=0)
    assert acc == pytest.approx(np.mean(np.argmax(probs, 1) == y))
    assert loss == pytest.approx(_sparse_ce(probs, y), rel=1e-5)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_uint8_inputs_are_cast_to_float32():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (12, 4, 4, 1)).astype(np.uint8)
    model = faltung.Sequential([L.Rescaling(1 / 255, input_shape=(4, 4, 1)), L.Flatten(),
                                L.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, rng.integers(0, 2, 12), epochs=1, verbose=0)
    out = model.predict(x, verbose=0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, model.predict(x.astype(np.float32), verbose=0))


def test_train_on_batch_applies_finite_difference_gradients_fused_and_plain():
    """One SGD step must move every weight by -lr * dL/dw (L from the loss, w by finite differences)."""
    x, y = _data(n=5)
    x = x.astype(np.float64)
    for loss, target, fused in (("sparse_categorical_crossentropy", y, "softmax"),
                                ("categorical_crossentropy", np.eye(3)[y], "softmax"),
                                ("mse", np.eye(3)[y], None)):
        model = _classifier(dtype="float64")
        model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss=loss)
        assert model._fused_kind == fused
        before = model.get_weights()

        def objective():
            return model.loss(target, model._forward([x])[0])
        expected = [w - 0.5 * numeric_gradient(objective, w) for w in model.weights]
        model.train_on_batch(x, target)
        for got, want, old in zip(model.get_weights(), expected, before):
            assert not np.array_equal(got, old)
            assert_close(got, want, rtol=1e-6, atol=1e-8, what=loss)


def test_sigmoid_binary_crossentropy_is_fused_and_correct():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((6, 4)), rng.integers(0, 2, (6, 1)).astype(np.float64)
    model = faltung.Sequential([L.Dense(1, activation="sigmoid", input_shape=(4,), dtype="float64")])
    model.compile(optimizer=optimizers.SGD(learning_rate=1.0), loss="binary_crossentropy", metrics=["accuracy"])
    assert model._fused_kind == "sigmoid"

    def objective():
        return model.loss(y, model._forward([x])[0])
    expected = [w - numeric_gradient(objective, w) for w in model.weights]
    model.train_on_batch(x, y)
    for got, want in zip(model.get_weights(), expected):
        assert_close(got, want, rtol=1e-6, atol=1e-8)


def test_on_batch_methods_return_keras_values():
    x, y = _data(n=8)
    model = _classifier()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    probs = model.predict_on_batch(x)
    np.testing.assert_array_equal(probs, model.predict(x, verbose=0))
    loss, acc = model.test_on_batch(x, y)
    assert loss == pytest.approx(_sparse_ce(probs, y), rel=1e-6)
    assert model.train_on_batch(x, y, return_dict=True)["loss"] == pytest.approx(loss, rel=1e-6)
    np.testing.assert_array_equal(model(x), probs)


class _Batches:
    """A Keras Sequence: ``len()`` batches, indexable, ``on_epoch_end`` after each epoch."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size, self.epochs_ended = x, y, batch_size, 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_fit_accepts_sequences_generators_and_fit_generator():
    x, y = _data(n=20)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    counts = []
    counter = faltung.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: counts.append(0),
                                               on_train_batch_end=lambda batch, logs: counts.append(1))
    sequence = _Batches(x, y, 6)
    history = model.fit(sequence, epochs=2, verbose=0, callbacks=[counter], validation_data=_Batches(x, y, 10))
    assert counts == [1, 1, 1, 1, 0] * 2 and sequence.epochs_ended == 2
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]

    def endless():
        while True:
            for i in range(0, 20, 5):
                yield x[i:i + 5], y[i:i + 5]
    counts.clear()
    model.fit_generator(endless(), steps_per_epoch=3, epochs=2, verbose=0, callbacks=[counter])
    assert counts == [1, 1, 1, 0] * 2
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(endless(), epochs=1, verbose=0)
    probs = model.predict(_Batches(x, y, 7), verbose=0)
    np.testing.assert_allclose(probs, model.predict(x, verbose=0), rtol=1e-6)
    loss, _ = model.evaluate(_Batches(x, y, 7), verbose=0)
    assert loss == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-6)


def test_initial_epoch_and_epoch_lines(capsys):
    x, y = _data(n=16)
    model = _classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, initial_epoch=1, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert history.epoch == [1, 2] and len(history.history["loss"]) == 2
    assert "Epoch 2/3" in out and "Epoch 3/3" in out and "Epoch 1/3" not in out


def test_same_seed_gives_bit_identical_training():
    def run(seed):
        faltung.backend.clear_session()
        faltung.utils.set_random_seed(seed)
        x, y = _data(n=30)
        model = faltung.Sequential([L.Dense(8, activation="relu", input_shape=(6,)), L.Dropout(0.3),
                                    L.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=3, batch_size=7, validation_split=0.2, verbose=0)
        return model.get_weights(), history.history, model.predict(x, verbose=0)
    w1, h1, p1 = run(5)
    w2, h2, p2 = run(5)
    w3, _, _ = run(6)
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert h1 == h2
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(w1[0], w3[0])


def test_fit_in_two_calls_equals_one_call():
    """The shuffle order depends on the epochs trained so far, so 1 + 1 epochs == 2 epochs."""
    def model_and_data():
        faltung.backend.clear_session()
        faltung.utils.set_random_seed(11)
        model = _classifier()
        model.compile("adam", "sparse_categorical_crossentropy")
        return model, _data(n=24)
    model, (x, y) = model_and_data()
    model.fit(x, y, epochs=2, batch_size=5, verbose=0)
    again, (x, y) = model_and_data()
    again.fit(x, y, epochs=1, batch_size=5, verbose=0)
    again.fit(x, y, epochs=1, batch_size=5, verbose=0)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fit_on_image_data_generator_flow_as_in_seed_004():
    from faltung.preprocessing.image import ImageDataGenerator
    faltung.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((20, 8, 8, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 20)]
    datagen = ImageDataGenerator(width_shift_range=0.1, horizontal_flip=True)
    train_generator = datagen.flow(x, y, batch_size=6, shuffle=True)
    model = faltung.Sequential([L.Conv2D(2, 3, activation="relu", input_shape=(8, 8, 3)), L.Flatten(),
                                L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    batches = []
    counter = faltung.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))
    history = model.fit_generator(train_generator, epochs=2, verbose=0, validation_data=(x[:5], y[:5]),
                                  callbacks=[counter])
    assert batches == [0, 1, 2, 3] * 2  # len(flow) = ceil(20 / 6) batches per epoch
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    model.fit(datagen.flow(x, y, batch_size=5), steps_per_epoch=2, epochs=1, verbose=0, callbacks=[counter])
    assert batches[-2:] == [0, 1]
    assert model.predict(datagen.flow(x, batch_size=8, shuffle=False), verbose=0).shape == (20, 3)


def test_nested_python_lists_are_one_input_array():
    model = faltung.Sequential([L.Dense(2, input_shape=(2,))])
    np.testing.assert_array_equal(model.predict([[1, 2], [3, 4]], verbose=0),
                                  model.predict(np.array([[1, 2], [3, 4]], np.float32), verbose=0))


def test_sequential_built_by_fit_uses_the_fused_softmax_gradient():
    model = faltung.Sequential([L.Dense(4, activation="relu"), L.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", run_eagerly=True)  # Keras-only flag: ignored
    assert model._fused_kind is None  # nothing to fuse before the model is built
    x, y = _data(n=8)
    model.fit(x, y, epochs=1, verbose=0)
    assert model.built and model._fused_kind == "softmax"


def test_sample_and_class_weights_scale_the_loss_and_its_gradient():
    x, y = _data(n=6)
    x = x.astype(np.float64)
    weights = np.array([0.5, 2.0, 0.0, 1.0, 3.0, 1.5])
    model = _classifier(dtype="float64")
    model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="sparse_categorical_crossentropy")
    start = model.get_weights()

    def objective():  # sum_over_batch_size: sum(w_i * l_i) / N
        probs = model._forward([x])[0]
        return float(np.sum(weights * -np.log(probs[np.arange(6), y])) / 6)
    expected_loss = objective()
    expected = [w - 0.5 * numeric_gradient(objective, w) for w in model.weights]
    loss = model.train_on_batch(x, y, sample_weight=weights)
    assert loss == pytest.approx(expected_loss, rel=1e-9)
    for got, want in zip(model.get_weights(), expected):
        assert_close(got, want, rtol=1e-6, atol=1e-8)
    # class_weight {class: w} is the same as the per-sample weights it implies
    class_weight = {0: 0.5, 1: 2.0, 2: 1.0}
    model.set_weights(start)
    model.train_on_batch(x, y, class_weight=class_weight)
    by_class = model.get_weights()
    model.set_weights(start)
    model.train_on_batch(x, y, sample_weight=np.array([class_weight[c] for c in y]))
    for a, b in zip(by_class, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_weighted_fit_evaluate_and_validation_split():
    x, y = _data(n=20)
    weights = np.linspace(0.0, 2.0, 20)
    model = _classifier()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, sample_weight=weights, validation_split=0.25, batch_size=20, epochs=1, verbose=0)
    probs = model.predict(x, verbose=0)
    losses = -np.log(probs[np.arange(20), y])
    assert history.history["loss"][0] == pytest.approx(np.sum(weights[:15] * losses[:15]) / 15, rel=1e-5)
    assert history.history["val_loss"][0] == pytest.approx(np.sum(weights[15:] * losses[15:]) / 5, rel=1e-5)
    assert model.evaluate(x, y, sample_weight=weights, batch_size=20, verbose=0) == pytest.approx(
        np.sum(weights * losses) / 20, rel=1e-5)

    def weighted_batches():
        while True:
            yield x, y, weights
    history = model.fit(weighted_batches(), steps_per_epoch=1, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.sum(weights * losses) / 20, rel=1e-5)


def test_multi_input_model_takes_a_dict_keyed_by_input_names_as_keras():
    rng = np.random.default_rng(3)
    image, extra = faltung.Input((4,), name="image"), faltung.Input((2,), name="extra")
    out = L.Dense(3, activation="softmax")(L.Concatenate()([image, extra]))
    model = faltung.Model([image, extra], out)
    xa = rng.standard_normal((10, 4)).astype(np.float32)
    xb = rng.standard_normal((10, 2)).astype(np.float32)
    expected = model.predict([xa, xb], verbose=0)
    # the dict order does not matter: arrays are matched to inputs by name
    np.testing.assert_array_equal(model.predict({"extra": xb, "image": xa}, verbose=0), expected)
    model.compile("sgd", "sparse_categorical_crossentropy")
    y = rng.integers(0, 3, 10)
    assert model.evaluate({"image": xa, "extra": xb}, y, verbose=0) == pytest.approx(
        model.evaluate([xa, xb], y, verbose=0))
    with pytest.raises(ValueError, match="extra"):
        model.predict({"image": xa}, verbose=0)


def test_freezing_a_layer_between_fits_keeps_each_weights_optimizer_state():
    # transfer learning: train, freeze the first layer, train on with the same optimizer
    x, y = _data(n=24, features=4)
    model = faltung.Sequential([L.Dense(4, activation="tanh", input_shape=(4,)),
                                L.Dense(4, activation="tanh"), L.Dense(3, activation="softmax")])
    model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    for before, after in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(before, after)
