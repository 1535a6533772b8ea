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
