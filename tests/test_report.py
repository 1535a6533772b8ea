"""faltung.report against scikit-learn (a test-only reference): numbers and printed text."""
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from faltung import report

CIFAR_NAMES = ["Airplane", "Automobile", "Bird", "Cat", "Deer", "Dog", "Frog", "Horse", "Ship", "Truck"]


def _random_predictions(seed, n=500, k=10, skill=0.6):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    guess = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < skill, y_true, guess)
    return y_true, y_pred


def _sk_report(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return skm.classification_report(*args, **kwargs)


def test_confusion_matrix_equals_sklearn():
    y_true, y_pred = _random_predictions(0)
    ours = report.confusion_matrix(y_true, y_pred, num_classes=10)
    np.testing.assert_array_equal(ours, skm.confusion_matrix(y_true, y_pred, labels=range(10)))
    assert ours.sum() == 500 and ours.dtype == np.int64


def test_confusion_matrix_worked_example():
    # rows = truth, columns = prediction
    m = report.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], num_classes=3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_per_class_numbers_equal_sklearn(seed):
    y_true, y_pred = _random_predictions(seed, skill=0.3)
    p, r, f, s = report.precision_recall_fscore_support(y_true, y_pred, labels=range(10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ref = skm.precision_recall_fscore_support(y_true, y_pred, labels=range(10), zero_division=0)
    for ours, theirs in zip((p, r, f, s), ref):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for average in ("micro", "macro", "weighted"):
        ours = report.precision_recall_fscore_support(y_true, y_pred, labels=range(10), average=average)
        theirs = skm.precision_recall_fscore_support(y_true, y_pred, labels=range(10), average=average,
                                                     zero_division=0)
        np.testing.assert_allclose(ours[:3], theirs[:3], rtol=1e-12)


def test_report_dict_equals_sklearn_dict():
    y_true, y_pred = _random_predictions(4)
    ours = report.classification_report(y_true, y_pred, target_names=CIFAR_NAMES, output_dict=True)
    theirs = _sk_report(y_true, y_pred, labels=range(10), target_names=CIFAR_NAMES, output_dict=True)
    assert list(ours) == list(theirs)
    assert ours["accuracy"] == pytest.approx(theirs["accuracy"]) == pytest.approx(np.mean(y_true == y_pred))
    for key in CIFAR_NAMES + ["macro avg", "weighted avg"]:
        for column in ("precision", "recall", "f1-score", "support"):
            assert ours[key][column] == pytest.approx(theirs[key][column], rel=1e-12), (key, column)


@pytest.mark.parametrize("digits", [2, 4])
def test_report_text_equals_sklearn_text(digits):
    y_true, y_pred = _random_predictions(5)
    ours = report.classification_report(y_true, y_pred, target_names=CIFAR_NAMES, digits=digits)
    theirs = _sk_report(y_true, y_pred, labels=range(10), target_names=CIFAR_NAMES, digits=digits)
    assert ours == theirs
    assert "accuracy" in ours and "macro avg" in ours and "weighted avg" in ours


def test_report_text_with_missing_class_and_default_names():
    # class 3 never occurs and is never predicted: its ratios are 0 (sklearn's zero_division)
    y_true = np.array([0, 1, 2, 2, 1, 0, 4, 4])
    y_pred = np.array([0, 2, 2, 2, 1, 1, 4, 0])
    ours = report.classification_report(y_true, y_pred, labels=range(5))
    theirs = _sk_report(y_true, y_pred, labels=range(5))
    assert ours == theirs


def test_report_micro_avg_when_labels_are_a_subset():
    y_true, y_pred = [1, 1, 1], [1, 1, 0]
    ours = report.classification_report(y_true, y_pred, labels=[1, 2, 3])
    assert ours == _sk_report(y_true, y_pred, labels=[1, 2, 3])
    assert "micro avg" in ours


def test_report_accepts_one_hot_and_column_labels():
    y_true, y_pred = _random_predictions(6, n=50, k=3)
    probs = np.eye(3)[y_pred] * 0.8 + 0.05
    a = report.classification_report(y_true[:, None], probs)
    b = report.classification_report(y_true, y_pred)
    assert a == b


def test_bad_input_is_a_clear_value_error():
    with pytest.raises(ValueError, match="same length"):
        report.classification_report([0, 1], [0])
    with pytest.raises(ValueError, match="target_names"):
        report.classification_report([0, 1], [0, 1], target_names=["a", "b", "c"], labels=[0, 1])
    with pytest.raises(ValueError, match="average"):
        report.precision_recall_fscore_support([0], [0], average="samples")


def test_format_confusion_matrix_lists_every_count():
    text = report.format_confusion_matrix([[5, 1], [0, 7]], ["cat", "dog"])
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[1].split() == ["cat", "5", "1"] and lines[2].split() == ["dog", "0", "7"]
