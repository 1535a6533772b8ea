"""Inference lets go of what only a backward would need (peak memory), and computes the same numbers."""
import numpy as np

import faltung
from faltung import layers


def _model():
    faltung.utils.set_random_seed(0)
    inputs = faltung.Input((12, 12, 3))
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    branch = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = layers.Add()([x, branch])  # x is read twice: it must survive until the Add
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(4, activation="softmax")(x)
    return faltung.Model(inputs, outputs)


def test_predict_keeps_no_layer_caches_and_matches_the_training_forward():
    model = _model()
    x = np.random.default_rng(0).random((5, 12, 12, 3), dtype=np.float32)
    kept = model._forward([x], training=False, keep_caches=True)[0]
    assert all(layer.cache is not None for layer in model.layers[1:])
    predicted = model.predict(x, verbose=0)
    assert all(getattr(layer, "cache", None) is None for layer in model.layers[1:])
    np.testing.assert_array_equal(predicted, kept)


def test_training_still_works_after_predict():
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(1).random((6, 12, 12, 3), dtype=np.float32)
    y = np.arange(6) % 4
    model.predict(x, verbose=0)
    first = model.train_on_batch(x, y)
    for _ in range(20):
        last = model.train_on_batch(x, y)
    assert np.isfinite(first) and last < first


def test_training_step_lets_go_of_each_layers_cache_once_its_backward_ran():
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(2).random((4, 12, 12, 3), dtype=np.float32)
    y = np.arange(4) % 4
    order, held = [], {}

    def watch(layer):
        backward = layer.backward

        def call(dy):
            assert layer.cache is not None  # its own cache is there for it
            held[layer.name] = [other.name for other in order if other.cache is not None]
            order.append(layer)
            return backward(dy)
        layer.backward = call
    for layer in model.layers[1:-1]:
        watch(layer)
    model.train_on_batch(x, y)
    assert len(order) == len(model.layers) - 2
    assert all(names == [] for names in held.values()), held  # the layers above have freed theirs
    assert all(getattr(layer, "cache", None) is None for layer in model.layers[1:])
