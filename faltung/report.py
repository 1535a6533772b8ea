"""How good is a classifier, class by class: confusion matrix and classification report.

Computed with NumPy alone, with the definitions scikit-learn uses (and the same text layout as
``sklearn.metrics.classification_report``), for labels ``0 .. K-1``:

  tp_k = #(true = k and pred = k)    fp_k = #(pred = k) - tp_k    fn_k = #(true = k) - tp_k
  precision_k = tp_k / (tp_k + fp_k)     recall_k = tp_k / (tp_k + fn_k)
  f1_k = 2 tp_k / (2 tp_k + fp_k + fn_k)   (= 2 P R / (P + R), the harmonic mean)
  support_k = #(true = k)

A ratio whose denominator is 0 is 0 (sklearn's ``zero_division="warn"`` value, without the warning).
Averages: macro = plain mean over classes, weighted = mean weighted by support, and micro (pooled
counts), which equals the accuracy when every label that occurs is reported.
"""
import numpy as np

__all__ = ["confusion_matrix", "precision_recall_fscore_support", "classification_report",
           "format_confusion_matrix"]


def _as_labels(y, what):
    """Integer class labels as a 1-D int array; accepts (N,), (N, 1) and one-hot / probabilities (N, K)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2:
        y = y.argmax(axis=1)
    if y.ndim != 1:
        raise ValueError(f"report: expected {what} of shape (N,), (N, 1) or (N, K), got shape {y.shape}")
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError(f"report: expected integer class labels in {what}")
    return y.astype(np.int64)


def _labels_and_targets(y_true, y_pred, labels):
    y_true, y_pred = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"report: expected y_true and y_pred of the same length, "
                         f"got {len(y_true)} and {len(y_pred)}")
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    return y_true, y_pred, np.asarray(labels, dtype=np.int64)


def confusion_matrix(y_true, y_pred, num_classes=None, labels=None):
    """Counts ``C[i, j]`` = number of samples of true class ``labels[i]`` predicted as ``labels[j]``.

    ``labels`` defaults to ``range(num_classes)`` if given, else to the labels that occur.
    Returns an int64 array ``(K, K)``: rows are true classes, columns predictions (as sklearn).
    """
    if labels is None and num_classes is not None:
        labels = np.arange(num_classes)
    y_true, y_pred, labels = _labels_and_targets(y_true, y_pred, labels)
    k = len(labels)
    rows, in_rows = _positions(y_true, labels)
    cols, in_cols = _positions(y_pred, labels)
    keep = in_rows & in_cols  # samples whose true and predicted labels are both reported
    rows, cols = rows[keep], cols[keep]
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (rows, cols), 1)
    return matrix


def _positions(y, labels):
    """Index of each y in ``labels`` and whether it is there at all."""
    if len(labels) == 0:
        return np.zeros(len(y), np.int64), np.zeros(len(y), bool)
    order = np.argsort(labels)
    sorted_labels = labels[order]
    where = np.clip(np.searchsorted(sorted_labels, y), 0, len(labels) - 1)
    return order[where], sorted_labels[where] == y


def _divide(numerator, denominator):
    """numerator / denominator elementwise, 0 where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _counts(y_true, y_pred, labels):
    """tp, fp, fn per label (also counting predictions/truths outside ``labels``)."""
    tp = np.array([np.sum((y_true == k) & (y_pred == k)) for k in labels], dtype=np.int64)
    predicted = np.array([np.sum(y_pred == k) for k in labels], dtype=np.int64)
    actual = np.array([np.sum(y_true == k) for k in labels], dtype=np.int64)
    return tp, predicted - tp, actual - tp


def precision_recall_fscore_support(y_true, y_pred, labels=None, average=None):
    """Per-class arrays ``(precision, recall, f1, support)`` or, with ``average`` in
    ``"micro" | "macro" | "weighted"``, the three averaged floats and ``None`` (as sklearn)."""
    y_true, y_pred, labels = _labels_and_targets(y_true, y_pred, labels)
    tp, fp, fn = _counts(y_true, y_pred, labels)
    support = tp + fn
    if average == "micro":
        tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
    precision = _divide(tp, tp + fp)
    recall = _divide(tp, tp + fn)
    f1 = _divide(2 * tp, 2 * tp + fp + fn)
    if average is None:
        return precision, recall, f1, support
    if average == "micro":
        return float(precision), float(recall), float(f1), None
    if average == "macro":
        return float(precision.mean()), float(recall.mean()), float(f1.mean()), None
    if average == "weighted":
        total = support.sum()
        if total == 0:
            return 0.0, 0.0, 0.0, None
        weights = support / total
        return (float(precision @ weights), float(recall @ weights), float(f1 @ weights), None)
    raise ValueError(f"report: expected average None, 'micro', 'macro' or 'weighted', got {average!r}")


def classification_report(y_true, y_pred, target_names=None, labels=None, digits=2,
                          output_dict=False):
    """Precision, recall, F1 and support per class, then accuracy, macro avg and weighted avg.

    The text is laid out exactly as ``sklearn.metrics.classification_report`` prints it.
    ``target_names[i]`` names ``labels[i]`` (with ``labels`` defaulting to ``range(len(target_names))``).
    With ``output_dict=True`` returns ``{name: {"precision", "recall", "f1-score", "support"}, ...,
    "accuracy": float, "macro avg": {...}, "weighted avg": {...}}``.
    """
    if labels is None and target_names is not None:
        labels = np.arange(len(target_names))
    y_true, y_pred, labels = _labels_and_targets(y_true, y_pred, labels)
    if target_names is None:
        target_names = [str(label) for label in labels]
    target_names = [str(name) for name in target_names]
    if len(target_names) != len(labels):
        raise ValueError(f"report: expected {len(labels)} target_names (one per label), "
                         f"got {len(target_names)}")
    occurring = set(np.unique(np.concatenate([y_true, y_pred])).tolist())
    micro_is_accuracy = set(labels.tolist()) >= occurring

    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels)
    rows = [(name, p, r, f, int(s)) for name, p, r, f, s in zip(target_names, precision, recall, f1, support)]
    averages = []
    for average in ("micro", "macro", "weighted"):
        heading = "accuracy" if (average == "micro" and micro_is_accuracy) else f"{average} avg"
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels, average=average)
        averages.append((heading, p, r, f, int(support.sum())))

    if output_dict:
        headers = ("precision", "recall", "f1-score", "support")
        report = {name: dict(zip(headers, (float(p), float(r), float(f), float(s))))
                  for name, p, r, f, s in rows}
        for heading, p, r, f, s in averages:
            report[heading] = f if heading == "accuracy" else dict(zip(headers, (p, r, f, float(s))))
        return report
    return _format_report(rows, averages, digits)


def _format_report(rows, averages, digits):
    """The text table, column for column as sklearn formats it."""
    width = max(max(len(row[0]) for row in rows), len("weighted avg"), digits)
    text = f"{'':>{width}s} " + "".join(f" {h:>9}" for h in ("precision", "recall", "f1-score", "support"))
    text += "\n\n"
    row_format = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for row in rows:
        text += row_format.format(*row, width=width, digits=digits)
    text += "\n"
    for heading, p, r, f, s in averages:
        if heading == "accuracy":
            # accuracy has no precision/recall column: blanks, then the value in the f1 column
            text += ("{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f}" + " {:>9}\n").format(
                heading, "", "", f, s, width=width, digits=digits)
        else:
            text += row_format.format(heading, p, r, f, s, width=width, digits=digits)
    return text


def format_confusion_matrix(matrix, class_names=None):
    """The confusion matrix as a text table: rows = true class, columns = predicted class."""
    matrix = np.asarray(matrix)
    k = matrix.shape[0]
    names = [str(n) for n in (class_names if class_names is not None else range(k))]
    short = [n if len(n) <= 10 else n[:9] + "." for n in names]
    cell = max(max(len(str(int(v))) for v in matrix.ravel()) if matrix.size else 1,
               max(len(n) for n in short))
    corner = "true \\ pred"
    label_width = max(len(corner), max(len(n) for n in names))
    lines = [f"{corner:<{label_width}} " + " ".join(f"{n:>{cell}}" for n in short)]
    for name, row in zip(names, matrix):
        lines.append(f"{name:<{label_width}} " + " ".join(f"{int(v):>{cell}d}" for v in row))
    return "\n".join(lines)
