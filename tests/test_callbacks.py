"""Callbacks: hook order, and each Keras callback's rule on scripted and real training runs."""
import csv

import numpy as np
import pytest

import faltung
from faltung import callbacks
from faltung import layers as L
from faltung import optimizers


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 3, n)


def _model(lr=0.01, optimizer=None):
    model = faltung.Sequential([L.Dense(6, activation="relu", input_shape=(5,)),
                                L.Dense(3, activation="softmax")])
    model.compile(optimizer or optimizers.SGD(learning_rate=lr), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class _Stub:
    """Just enough of a model for a callback: an optimizer, weights, stop_training."""

    def __init__(self):
        self.optimizer = optimizers.SGD(learning_rate=1.0)
        self.stop_training = False
        self.weights = [np.zeros(2)]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def _drive(callback, values, monitor="val_loss", stub=None):
    """Feed scripted epoch logs; return the epoch at which training was stopped (or None)."""
    stub = stub or _Stub()
    callback.set_model(stub)
    callback.on_train_begin({})
    for epoch, value in enumerate(values):
        stub.weights = [np.full(2, float(epoch))]
        callback.on_epoch_end(epoch, {monitor: value})
        if stub.stop_training:
            callback.on_train_end({})
            return epoch
    callback.on_train_end({})
    return None


def test_hooks_are_called_in_keras_order():
    events = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None): events.append("train_begin")
        def on_epoch_begin(self, epoch, logs=None): events.append(f"epoch_begin {epoch}")
        def on_train_batch_begin(self, batch, logs=None): events.append(f"batch_begin {batch}")
        def on_train_batch_end(self, batch, logs=None): events.append(f"batch_end {batch} {sorted(logs)}")
        def on_test_begin(self, logs=None): events.append("test_begin")
        def on_test_end(self, logs=None): events.append("test_end")
        def on_epoch_end(self, epoch, logs=None): events.append(f"epoch_end {epoch} {sorted(logs)}")
        def on_train_end(self, logs=None): events.append("train_end")
    x, y = _data(n=10)
    model = _model()
    recorder = Recorder()
    model.fit(x, y, batch_size=5, epochs=1, validation_data=(x, y), verbose=0, callbacks=[recorder])
    assert recorder.model is model
    assert events == ["train_begin", "epoch_begin 0",
                      "batch_begin 0", "batch_end 0 ['accuracy', 'loss']",
                      "batch_begin 1", "batch_end 1 ['accuracy', 'loss']",
                      "test_begin", "test_end",
                      "epoch_end 0 ['accuracy', 'loss', 'val_accuracy', 'val_loss']", "train_end"]


def test_a_callback_can_stop_training():
    class StopAfterTwo(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True
    x, y = _data()
    history = _model().fit(x, y, epochs=10, verbose=0, callbacks=[StopAfterTwo()])
    assert history.epoch == [0, 1]


def test_early_stopping_patience_and_min_delta():
    assert _drive(callbacks.EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.91, 0.5]) == 3
    assert _drive(callbacks.EarlyStopping(patience=2), [1.0, 0.9, 0.8, 0.7, 0.6]) is None
    # improvements smaller than min_delta do not count
    assert _drive(callbacks.EarlyStopping(patience=1, min_delta=0.05), [1.0, 0.97, 0.96]) == 1
    # accuracy is maximised in mode="auto"
    assert _drive(callbacks.EarlyStopping(monitor="val_accuracy", patience=1),
                  [0.5, 0.6, 0.55], monitor="val_accuracy") == 2
    assert _drive(callbacks.EarlyStopping(monitor="val_accuracy", patience=1, mode="min"),
                  [0.5, 0.6], monitor="val_accuracy") == 1


def test_early_stopping_start_from_epoch_and_restore_best_weights():
    assert _drive(callbacks.EarlyStopping(patience=0, start_from_epoch=3), [1, 2, 3, 4, 5]) == 4
    stub = _Stub()
    stopper = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    assert _drive(stopper, [3.0, 1.0, 2.0, 2.5], stub=stub) == 3
    np.testing.assert_array_equal(stub.weights[0], [1.0, 1.0])  # the weights of epoch 1, the best
    assert stopper.best == 1.0 and stopper.best_epoch == 1


def test_early_stopping_in_fit_with_a_constant_validation_loss():
    x, y = _data()
    model = _model(lr=0.0)  # nothing changes: val_loss never improves after epoch 0
    history = model.fit(x, y, epochs=10, validation_split=0.25, verbose=0,
                        callbacks=[callbacks.EarlyStopping(patience=2)])
    assert history.epoch == [0, 1, 2]


def test_model_checkpoint_formats_epochs_and_saves_the_best(tmp_path):
    x, y = _data()
    model = _model(lr=0.05)
    path = str(tmp_path / "ckpt_{epoch:02d}.faltung")
    model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y), callbacks=[callbacks.ModelCheckpoint(path)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt_01.faltung", "ckpt_02.faltung", "ckpt_03.faltung"]
    restored = faltung.models.load_model(tmp_path / "ckpt_03.faltung")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))

    best = tmp_path / "best.weights.faltung"
    checkpoint = callbacks.ModelCheckpoint(str(best), monitor="val_loss", save_best_only=True,
                                           save_weights_only=True)
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"val_loss": 0.5})
    saved = model.get_weights()
    model.set_weights([w + 1 for w in saved])
    checkpoint.on_epoch_end(1, {"val_loss": 0.7})  # worse: not saved
    model.load_weights(best)
    for a, b in zip(model.get_weights(), saved):
        np.testing.assert_array_equal(a, b)
    checkpoint.on_epoch_end(2, {"val_loss": 0.4})
    assert checkpoint.best == 0.4


def test_csv_logger_writes_history_rows_and_appends(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "accuracy", "loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert [float(r["loss"]) for r in rows] == pytest.approx(history.history["loss"])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, separator=";", append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[0] == "epoch,accuracy,loss" and lines[3].startswith("0;")


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    x, y = _data()
    model = _model(lr=0.1)
    seen = []
    spy = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(model.optimizer.learning_rate))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5), spy])
    assert seen == pytest.approx([0.05, 0.025, 0.0125])
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.3 + epoch), spy])
    assert seen[-2:] == pytest.approx([0.3, 1.3])


def test_learning_rate_scheduler_changes_the_sgd_step():
    x, y = _data(n=8)
    a, b = _model(lr=0.1), _model(lr=0.1)
    b.set_weights(a.get_weights())
    a.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False,
          callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.2)])
    start = b.get_weights()
    b.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for wa, wb, w0 in zip(a.get_weights(), b.get_weights(), start):
        np.testing.assert_allclose(wa - w0, 2 * (wb - w0), rtol=1e-4, atol=1e-7)


def test_reduce_lr_on_plateau_with_cooldown_and_min_lr():
    stub = _Stub()
    reducer = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    reducer.set_model(stub)
    reducer.on_train_begin({})
    rates = []
    for epoch, value in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        logs = {"val_loss": value}
        reducer.on_epoch_end(epoch, logs)
        rates.append(logs["learning_rate"])  # the rate in force during the epoch
    # reduce after 2 stalled epochs (epoch 2); the cooldown epoch resets the wait; never below min_lr
    assert rates == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2])
    assert stub.optimizer.learning_rate == pytest.approx(0.2)
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_on_plateau_min_delta():
    stub = _Stub()
    reducer = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.1, patience=1, min_delta=0.1)
    reducer.set_model(stub)
    reducer.on_train_begin({})
    reducer.on_epoch_end(0, {"loss": 1.0})
    reducer.on_epoch_end(1, {"loss": 0.95})  # improved by less than min_delta: a plateau
    assert stub.optimizer.learning_rate == pytest.approx(0.1)


def test_terminate_on_nan():
    x, y = _data(n=20)
    x[12] = np.nan  # the third batch of 5 has a NaN loss
    batches = []
    counter = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(logs["loss"]))
    history = _model().fit(x, y, batch_size=5, epochs=3, shuffle=False, verbose=0,
                           callbacks=[callbacks.TerminateOnNaN(), counter])
    assert len(batches) == 3 and np.isnan(batches[-1]) and history.epoch == [0]


def test_history_is_returned_and_set_on_the_model():
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0)
    assert isinstance(history, callbacks.History) and model.history is history
    assert history.params["epochs"] == 2 and history.params["steps"] == 1


def test_evaluate_and_predict_call_their_hooks():
    events = []

    class Recorder(callbacks.Callback):
        def on_test_begin(self, logs=None): events.append("test_begin")
        def on_test_batch_end(self, batch, logs=None): events.append(f"test_batch {batch} {sorted(logs)}")
        def on_test_end(self, logs=None): events.append(f"test_end {sorted(logs)}")
        def on_predict_begin(self, logs=None): events.append("predict_begin")
        def on_predict_batch_end(self, batch, logs=None):
            events.append(f"predict_batch {batch} {len(logs['outputs'][0])}")
        def on_predict_end(self, logs=None): events.append("predict_end")
    x, y = _data(n=10)
    model = _model()
    model.evaluate(x, y, batch_size=6, verbose=0, callbacks=[Recorder()])
    model.predict(x, batch_size=6, verbose=0, callbacks=[Recorder()])
    assert events == ["test_begin", "test_batch 0 ['accuracy', 'loss']", "test_batch 1 ['accuracy', 'loss']",
                      "test_end ['accuracy', 'loss']",
                      "predict_begin", "predict_batch 0 6", "predict_batch 1 4", "predict_end"]


def test_early_stopping_baseline_only_gates_the_patience_reset_as_in_keras_3():
    # Keras 3: ``best`` starts at None (not at the baseline); an improvement that does not
    # beat the baseline still becomes the best (and its weights are kept), it only does not
    # reset the patience counter. Stopping is checked only on epochs without improvement.
    stub = _Stub()
    stopper = callbacks.EarlyStopping(patience=3, baseline=0.5, restore_best_weights=True)
    assert _drive(stopper, [0.9, 0.8, 0.7, 0.75, 0.72], stub=stub) == 3
    assert stopper.best == 0.7 and stopper.best_epoch == 2
    np.testing.assert_array_equal(stub.weights[0], [2.0, 2.0])  # the weights of epoch 2, the best
    # beating the baseline resets the counter as usual
    assert _drive(callbacks.EarlyStopping(patience=2, baseline=0.5),
                  [0.9, 0.4, 0.45, 0.46, 0.47]) == 3


def test_progress_line_shows_what_callbacks_add_to_the_logs_as_keras_3(capsys):
    # Keras 3 runs the user's callbacks, then History, then the progress bar, so the epoch
    # line shows e.g. the learning_rate that ReduceLROnPlateau writes into the logs
    x, y = _data()
    order = []

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            order.append(("spy", "learning_rate" in logs))

    model = _model(lr=0.05)
    history = model.fit(x, y, epochs=1, verbose=2, callbacks=[callbacks.ReduceLROnPlateau(monitor="loss"),
                                                              Spy()])
    line = [text for text in capsys.readouterr().out.splitlines() if "loss" in text][-1]
    assert "learning_rate: 0.05" in line
    assert history.history["learning_rate"] == [0.05] and order == [("spy", True)]
