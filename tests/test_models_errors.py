"""Bad input is a ValueError that says what was wrong and what was expected, before any work."""
import numpy as np
import pytest

import faltung
from faltung import layers as L


def _model():
    model = faltung.Sequential([L.Dense(4, activation="relu", input_shape=(6,)),
                                L.Dense(3, activation="softmax")])
    return model


def _untouched(model, before):
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer is None or model.optimizer.iterations == 0


@pytest.mark.parametrize("x_shape, y, message", [
    ((10, 6), np.zeros(9, int), r"same number of samples, got 10 inputs and 9 targets"),
    ((10, 6), np.full(10, 3), r"expected labels in \[0, 2\] .* got labels in \[3, 3\]"),
    ((10, 6), np.full(10, -1), r"expected labels in \[0, 2\]"),
    ((10, 6), np.full(10, 0.5), r"expected integer class labels"),
    ((10, 5), np.zeros(10, int), r"expected input of shape \(None, 6\), got array of shape \(10, 5\)"),
    ((10, 6, 1), np.zeros(10, int), r"expected input of shape \(None, 6\), got array of shape \(10, 6, 1\)"),
    ((10, 6), np.zeros((10, 2, 2), int), r"expected integer labels of shape \(None,\)"),
])
def test_fit_rejects_bad_data_before_training(x_shape, y, message):
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(np.ones(x_shape, np.float32), y, verbose=0)
    _untouched(model, before)


def test_categorical_targets_must_match_the_output():
    model = _model()
    model.compile("adam", "categorical_crossentropy")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"expected targets of shape \(None, 3\).*got shape \(4,\).*sparse"):
        model.fit(np.ones((4, 6)), np.array([0, 1, 2, 1]), verbose=0)
    with pytest.raises(ValueError, match=r"expected targets of shape \(None, 3\).*got shape \(4, 4\)"):
        model.fit(np.ones((4, 6)), np.eye(4), verbose=0)
    with pytest.raises(ValueError, match=r"expected targets in \[0, 1\]"):
        model.fit(np.ones((4, 6)), 2 * np.eye(3)[[0, 1, 2, 0]], verbose=0)
    _untouched(model, before)


def test_validation_data_is_checked_before_training():
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"expected labels in \[0, 2\]"):
        model.fit(np.ones((4, 6)), np.zeros(4, int), validation_data=(np.ones((2, 6)), np.array([0, 7])),
                  verbose=0)
    _untouched(model, before)


def test_fit_and_evaluate_before_compile():
    model = _model()
    with pytest.raises(ValueError, match=r"must be compiled first.*model.compile"):
        model.fit(np.ones((4, 6)), np.zeros(4, int))
    with pytest.raises(ValueError, match="must be compiled first"):
        model.evaluate(np.ones((4, 6)), np.zeros(4, int))
    with pytest.raises(ValueError, match="must be compiled first"):
        model.train_on_batch(np.ones((4, 6)), np.zeros(4, int))


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": "adamm", "loss": "mse"}, r"unknown optimizer 'adamm'"),
    ({"optimizer": "adam", "loss": "crossentropy"}, r"unknown loss 'crossentropy'"),
    ({"optimizer": "adam", "loss": "mse", "metrics": ["accuracyy"]}, r"unknown metric 'accuracyy': expected one of"),
])
def test_compile_rejects_unknown_names(kwargs, message):
    model = _model()
    with pytest.raises(ValueError, match=message):
        model.compile(**kwargs)
    assert not model.compiled


def test_predict_checks_the_input_shape():
    model = _model()
    expected = r"sequential: expected input of shape \(None, 6\), got array of shape \(2, 7\)"
    with pytest.raises(ValueError, match=expected):
        model.predict(np.ones((2, 7)), verbose=0)
    with pytest.raises(ValueError, match="numeric input"):
        model.predict(np.array([["a"] * 6]), verbose=0)


def test_bad_fit_arguments():
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = np.ones((4, 6)), np.zeros(4, int)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="initial_epoch"):
        model.fit(x, y, epochs=1, initial_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="verbose"):
        model.fit(x, y, verbose=3)
    with pytest.raises(ValueError, match="Callback"):
        model.fit(x, y, verbose=0, callbacks=[print])
    with pytest.raises(ValueError, match=r"expected sample_weight of shape \(4,\)"):
        model.fit(x, y, verbose=0, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="non-negative sample weights"):
        model.fit(x, y, verbose=0, sample_weight=-np.ones(4))
    with pytest.raises(ValueError, match="class_weight as a dict"):
        model.fit(x, y, verbose=0, class_weight=[1, 2])


def test_sequential_rejects_non_layers_and_duplicates():
    model = faltung.Sequential()
    with pytest.raises(ValueError, match="expected a faltung layer, got int"):
        model.add(3)
    dense = L.Dense(2, input_shape=(3,))
    model.add(dense)
    with pytest.raises(ValueError, match="already in this model"):
        model.add(dense)


def test_a_failed_add_leaves_the_model_unchanged():
    model = faltung.Sequential([L.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="conv2d"):
        model.add(L.Conv2D(2, 3))
    assert len(model.layers) == 1 and model.output_shape == (None, 2)
    model.add(L.Dense(1))
    assert model.output_shape == (None, 1)


def test_training_a_multi_output_model_is_refused_but_predict_works():
    inp = faltung.Input((3,))
    model = faltung.Model(inp, [L.Dense(2)(inp), L.Dense(1)(inp)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="expected a model with one output.*got 2 outputs"):
        model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    first, second = model.predict(np.ones((4, 3)), verbose=0)
    assert first.shape == (4, 2) and second.shape == (4, 1)


def test_one_hot_targets_with_the_sparse_loss_get_a_hint():
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy")
    hint = r"got shape \(4, 3\) \(one-hot targets need loss='categorical_crossentropy'\)"
    with pytest.raises(ValueError, match=hint):
        model.fit(np.ones((4, 6)), np.eye(3)[[0, 1, 2, 0]], verbose=0)


def test_set_weights_with_a_wrong_shape_changes_no_weight():
    # Keras 3 checks every shape before assigning anything
    model = faltung.Sequential([L.Dense(4, input_shape=(3,)), L.Dense(2)])
    before = model.get_weights()
    bad = [w + 1 for w in before]
    bad[-1] = np.zeros(5, np.float32)  # the last bias has the wrong shape
    with pytest.raises(ValueError, match=r"\(2,\)"):
        model.set_weights(bad)
    for old, now in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, now)
    layer = model.layers[0]
    with pytest.raises(ValueError, match="bias"):
        layer.set_weights([before[0] + 1, np.zeros(7)])
    np.testing.assert_array_equal(layer.get_weights()[0], before[0])


def test_compile_refuses_an_unreduced_loss():
    model = _model()
    with pytest.raises(ValueError, match="reduction=None"):
        model.compile("sgd", faltung.losses.MeanSquaredError(reduction=None))
    assert not model.compiled
