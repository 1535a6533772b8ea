"""Pictures of training and testing: loss/accuracy curves, sample grids, the confusion matrix."""
import math

import numpy as np
from matplotlib.figure import Figure

from .base import DPI, MISTAKE_COLOR, RIGHT_COLOR, TRAIN_COLOR, VAL_COLOR, as_displayable, finish, label_name


# ---- training curves ------------------------------------------------------------------------
def _history_dict(history):
    values = getattr(history, "history", history)
    if not isinstance(values, dict) or "loss" not in values:
        raise ValueError("plot_history: expected a History (from fit) or a dict with at least 'loss', "
                         f"got {type(history).__name__}")
    return {k: [float(v) for v in vs] for k, vs in values.items()}


def _pick(values, *names):
    for name in names:
        if name in values and len(values[name]):
            return values[name]
    return None


def plot_history(history, path=None, title=None):
    """Loss (left) and accuracy (right) per epoch, train vs validation, as seed 004's ``plot_compare``.

    ``history``: ``model.fit(...)``'s History or its ``.history`` dict (keys ``loss``, ``val_loss``,
    ``accuracy``/``acc``, ``val_accuracy``/``val_acc``). Figure 12 x 4.5 inches.
    """
    values = _history_dict(history)
    figure = Figure(figsize=(12, 4.5), dpi=DPI)
    panels = [("Loss", _pick(values, "loss"), _pick(values, "val_loss")),
              ("Accuracy", _pick(values, "accuracy", "acc", "sparse_categorical_accuracy"),
               _pick(values, "val_accuracy", "val_acc", "val_sparse_categorical_accuracy"))]
    for i, (what, train, val) in enumerate(panels):
        ax = figure.add_subplot(1, 2, i + 1)
        if train is None:
            ax.text(0.5, 0.5, f"no {what.lower()} recorded", ha="center", va="center", transform=ax.transAxes)
            ax.set_title(what)
            continue
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, "o-", color=TRAIN_COLOR, label=f"Train {what}")
        heading = f"Train {what}: {train[-1]:.3f}"
        if val is not None:
            ax.plot(np.arange(1, len(val) + 1), val, "o-", color=VAL_COLOR, label=f"Val {what}")
            heading += f", Val {what}: {val[-1]:.3f}"
        ax.set_title(heading, fontsize=12)
        ax.set_xlabel("Epoch (train: mean over the epoch, val: at its end)")
        ax.set_ylabel(what)
        ax.set_xticks(epochs if len(epochs) <= 20 else np.linspace(1, len(epochs), 11).round())
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return finish(figure, path)


# ---- images -------------------------------------------------------------------------------
def plot_samples(images, y_true, y_pred=None, class_names=None, path=None, count=25, columns=5, title=None):
    """A grid of the first ``count`` images titled with their true (and predicted) labels.

    ``images``: (N, H, W), (N, H, W, 1) or (N, H, W, 3), uint8 or floats in [0, 1]. Mistakes
    (``y_pred != y_true``) get a red title and a red frame. Each cell is 2 x 2.5 inches.
    """
    images = np.asarray(images)
    y_true = np.asarray(y_true).reshape(-1)
    if len(images) != len(y_true):
        raise ValueError(f"plot_samples: expected one label per image, got {len(images)} images "
                         f"and {len(y_true)} labels")
    if y_pred is not None:
        y_pred = np.asarray(y_pred).reshape(-1)
        if len(y_pred) != len(y_true):
            raise ValueError(f"plot_samples: expected one prediction per image, got {len(y_pred)}")
    count = max(1, min(count, len(images)))
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(2 * columns, 2.5 * rows + 0.5), dpi=DPI)
    mistakes = 0
    for i in range(count):
        ax = figure.add_subplot(rows, columns, i + 1)
        shown = as_displayable(images[i])
        ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        text, color = f"true: {label_name(y_true[i], class_names)}", RIGHT_COLOR
        if y_pred is not None:
            text += f"\npred: {label_name(y_pred[i], class_names)}"
            if y_pred[i] != y_true[i]:
                color = MISTAKE_COLOR
                mistakes += 1
                for spine in ax.spines.values():
                    spine.set_edgecolor(MISTAKE_COLOR)
                    spine.set_linewidth(3)
        ax.set_title(text, color=color, fontsize=10)
    heading = title or "Samples"
    if y_pred is not None:
        heading += f" ({mistakes} of {count} wrong, shown in red)"
    figure.suptitle(heading)
    figure.tight_layout()
    return finish(figure, path)


# ---- confusion matrix -----------------------------------------------------------------------
def plot_confusion_matrix(matrix, class_names=None, path=None, title="Confusion matrix"):
    """The confusion matrix ``(K, K)`` (rows: true class, columns: predicted) as a heat map with counts."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square matrix (K, K), got shape {matrix.shape}")
    k = matrix.shape[0]
    names = [str(n) for n in class_names] if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f"plot_confusion_matrix: expected {k} class names, got {len(names)}")
    side = max(6.0, round(1.2 * k + 6) / 2)  # half inches: 10 classes -> 9 inches
    figure = Figure(figsize=(side, side), dpi=DPI)
    ax = figure.add_subplot(1, 1, 1)
    image = ax.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(names, rotation=45, ha="right")
    ax.set_yticklabels(names)
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    total = matrix.sum()
    accuracy = np.trace(matrix) / total if total else 0.0
    ax.set_title(f"{title} (accuracy {accuracy:.2%} of {int(total)})")
    if k <= 30:
        threshold = matrix.max(initial=0) / 2
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=9 if k <= 12 else 7,
                        color="white" if matrix[i, j] > threshold else "black")
    figure.tight_layout()
    return finish(figure, path)
