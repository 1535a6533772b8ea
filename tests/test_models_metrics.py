"""faltung.metrics against scikit-learn (an independent reference), accumulated over batches."""
import numpy as np
import pytest
from sklearn import metrics as skm

from faltung import metrics


def _probs(n=50, classes=5, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.random((n, classes))
    return p / p.sum(axis=1, keepdims=True), rng.integers(0, classes, n)


def _accumulate(metric, y, p, batch=7):
    for start in range(0, len(y), batch):
        metric.update_state(y[start:start + batch], p[start:start + batch])
    return metric.result()


def test_accuracies_match_sklearn_over_uneven_batches():
    p, y = _probs()
    expected = skm.accuracy_score(y, p.argmax(1))
    assert _accumulate(metrics.get("accuracy"), y, p) == pytest.approx(expected)
    assert _accumulate(metrics.get("sparse_categorical_accuracy"), y, p) == pytest.approx(expected)
    assert _accumulate(metrics.get("categorical_accuracy"), np.eye(5)[y], p) == pytest.approx(expected)
    assert _accumulate(metrics.CategoricalAccuracy(), np.eye(5)[y], p) == pytest.approx(expected)
    assert _accumulate(metrics.get("accuracy"), y[:, None], p) == pytest.approx(expected)


def test_binary_accuracy_matches_sklearn():
    rng = np.random.default_rng(1)
    p, y = rng.random((40, 1)), rng.integers(0, 2, (40, 1))
    assert _accumulate(metrics.get("binary_accuracy"), y, p) == pytest.approx(
        skm.accuracy_score(y[:, 0], p[:, 0] > 0.5))


def test_top_k_matches_sklearn():
    p, y = _probs(seed=2)
    expected = skm.top_k_accuracy_score(y, p, k=3, labels=range(5))
    assert _accumulate(metrics.SparseTopKCategoricalAccuracy(k=3), y, p) == pytest.approx(expected)
    assert _accumulate(metrics.TopKCategoricalAccuracy(k=3), np.eye(5)[y], p) == pytest.approx(expected)


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(3)
    t, p = rng.standard_normal((30, 2)), rng.standard_normal((30, 2))
    assert _accumulate(metrics.get("mse"), t, p) == pytest.approx(skm.mean_squared_error(t, p))
    assert _accumulate(metrics.get("mae"), t, p) == pytest.approx(skm.mean_absolute_error(t, p))


def test_names_are_kept_and_reset_starts_over():
    metric = metrics.get("acc")
    assert metric.name == "acc"
    metric.update_state(np.array([0]), np.array([[0.9, 0.1]]))
    metric.reset_state()
    metric.update_state(np.array([0]), np.array([[0.1, 0.9]]))
    assert metric.result() == 0.0
    custom = metrics.get(lambda t, p: np.abs(t - p).max(axis=-1))
    assert custom.name == "<lambda>"
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        metrics.get("f1")


def test_accuracy_class_counts_exact_matches_as_keras_3():
    # keras.metrics.Accuracy() compares values (the docs' example gives 0.75); only the
    # string "accuracy" picks binary / sparse / categorical accuracy from the shapes
    m = metrics.Accuracy()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert m.result() == pytest.approx(0.75)
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 3, (20, 4)), rng.integers(0, 3, (20, 4))
    assert _accumulate(metrics.Accuracy(), y, p) == pytest.approx(skm.accuracy_score(y.ravel(), p.ravel()))
    assert metrics.Accuracy().name == "accuracy"
    assert metrics.get(metrics.Accuracy).name == "accuracy"


def test_metric_class_names_as_strings_as_keras():
    p, y = _probs()
    expected = skm.accuracy_score(y, p.argmax(1))
    metric = metrics.get("SparseCategoricalAccuracy")
    assert metric.name == "sparse_categorical_accuracy"
    assert _accumulate(metric, y, p) == pytest.approx(expected)
    assert isinstance(metrics.get("MeanAbsoluteError"), metrics.MeanAbsoluteError)
    exact = metrics.get("Accuracy")  # the class: exact matches, not the "accuracy" shortcut
    exact.update_state([[1], [2]], [[1], [3]])
    assert exact.result() == pytest.approx(0.5)


def test_labels_of_shape_n_against_predictions_n_by_1_as_keras():
    # Keras brings y_true and y_pred to the same rank first (squeeze_or_expand_to_same_rank);
    # comparing (N,) with (N, 1) must not broadcast to (N, N)
    y = np.array([1, 0, 1, 0])
    p = np.array([[0.9], [0.2], [0.3], [0.1]])
    for name in ("binary_accuracy", "accuracy"):
        assert _accumulate(metrics.get(name), y, p) == pytest.approx(0.75)
    assert _accumulate(metrics.get("binary_accuracy"), p > 0.5, y[:, None] * 0.7) == pytest.approx(0.75)
    assert _accumulate(metrics.get("mse"), y, p) == pytest.approx(skm.mean_squared_error(y, p[:, 0]))
    assert _accumulate(metrics.get("mae"), y[:, None], p[:, 0]) == pytest.approx(
        skm.mean_absolute_error(y, p[:, 0]))
