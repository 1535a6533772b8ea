"""Pictures of a CNN and its training, drawn with matplotlib (Agg, no display needed).

  plot_history(history)                 loss and accuracy per epoch, train vs validation (seed 004's plot_compare)
  plot_samples(images, y_true, y_pred)  a grid of images with true/predicted labels, mistakes in red
  plot_confusion_matrix(matrix)         counts per (true, predicted) class
  plot_filters(model, layer_name)       the kernels of a Conv2D layer
  plot_feature_maps(model, image)       the activations of chosen layers for one image (seed 004, VGG16)
  plot_classic_kernels(image)           identity, Sobel, edges, blur, sharpen applied with a Conv2D (seed 004, fig. 2.4)

Each function returns a ``matplotlib.figure.Figure`` and, given ``path``, also writes it as a PNG
(atomically). Figures have a fixed size in inches and are saved at ``DPI`` without cropping, so a
picture's pixel size is ``figsize * DPI`` (sizes are multiples of half an inch). They are built without pyplot (no global state), so a web
server may draw them from several threads.
"""
import math
import os
import tempfile

import numpy as np
from matplotlib.figure import Figure

DPI = 100
TRAIN_COLOR, VAL_COLOR, MISTAKE_COLOR, RIGHT_COLOR = "#0c7cba", "#0f9d58", "#d62728", "#1a1a1a"

# seed 004, figure 2.4 ("Effekte verschiedener Filterkernel"), in its order
CLASSIC_KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32),
    "Sobel (left)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32),
    "Sobel (right)": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32),
    "edges": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], np.float32),
    "blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32),
}


def save_figure(figure, path):
    """Write ``figure`` as a PNG to ``path`` atomically (temp file in the same folder + os.replace)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".plot-", suffix=".png", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            figure.savefig(f, format="png", dpi=DPI)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _finish(figure, path):
    if path is not None:
        save_figure(figure, path)
    return figure


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
    return _finish(figure, path)


# ---- images -------------------------------------------------------------------------------
def _displayable(image):
    """An image as (H, W) or (H, W, 3) floats in [0, 1] for imshow (uint8 is divided by 255)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
        raise ValueError(f"plot: expected an image (H, W), (H, W, 1) or (H, W, 3), got shape {image.shape}")
    image = image.astype(np.float64)
    if image.max(initial=0) > 1.0:
        image = image / 255.0
    return np.clip(image, 0.0, 1.0)


def _name(label, class_names):
    label = int(label)
    if class_names is not None and 0 <= label < len(class_names):
        return str(class_names[label])
    return str(label)


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
        shown = _displayable(images[i])
        ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        text, color = f"true: {_name(y_true[i], class_names)}", RIGHT_COLOR
        if y_pred is not None:
            text += f"\npred: {_name(y_pred[i], class_names)}"
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
    return _finish(figure, path)


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
    return _finish(figure, path)


# ---- filters and feature maps ------------------------------------------------------------------
def _conv_layers(model):
    return [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]


def _get_layer(model, name):
    for layer in model.layers:
        if layer.name == name:
            return layer
    raise ValueError(f"plot: model has no layer named {name!r}: expected one of "
                     f"{[layer.name for layer in model.layers]}")


def plot_filters(model, layer_name=None, path=None, max_filters=64, columns=8):
    """The kernels ``(kh, kw, C_in, C_out)`` of a Conv2D layer (default: the first), one cell per filter.

    With 3 input channels a filter is shown as an RGB image (scaled to [0, 1] per filter); otherwise
    its first input channel in a blue-white-red map centred on 0 (red positive, blue negative).
    """
    if layer_name is None:
        convs = _conv_layers(model)
        if not convs:
            raise ValueError("plot_filters: the model has no Conv2D layer")
        layer = convs[0]
    else:
        layer = _get_layer(model, layer_name)
    kernel = np.asarray(layer.get_weights()[0]) if layer.get_weights() else None
    if kernel is None or kernel.ndim != 4:
        raise ValueError(f"plot_filters: expected a Conv2D layer with a kernel (kh, kw, C_in, C_out), "
                         f"got {type(layer).__name__} {layer.name!r}")
    kh, kw, c_in, c_out = kernel.shape
    count = min(c_out, max_filters)
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(1.5 * columns, 1.5 * rows + 1.0), dpi=DPI)
    limit = float(np.abs(kernel[..., 0, :count]).max()) or 1.0
    for i in range(count):
        ax = figure.add_subplot(rows, columns, i + 1)
        if c_in == 3:
            w = kernel[..., i]
            ax.imshow((w - w.min()) / (np.ptp(w) or 1.0))
        else:
            ax.imshow(kernel[:, :, 0, i], cmap="bwr", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"#{i}", fontsize=9)
    shown = "RGB" if c_in == 3 else "input channel 0"
    figure.suptitle(f"Filters of {layer.name}: {kh}x{kw}, {c_in} -> {c_out} channels ({shown})")
    figure.tight_layout()
    return _finish(figure, path)


def _output_hw(layer):
    shape = layer.compute_output_shape(layer.input_shape)
    return tuple(d or 0 for d in shape[1:3])


def _mosaic(activation, max_maps, columns):
    """Channels of one activation ``(H, W, C)`` tiled into a rows x columns picture.

    Each channel is standardised as in seed 004: (a - mean) / std * 64 + 128, clipped to [0, 255].
    """
    h, w, c = activation.shape
    count = min(c, max_maps)
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    gap = max(1, h // 10)  # a blank line between maps (NaN is drawn transparent)
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan)
    for i in range(count):
        channel = activation[:, :, i].astype(np.float64)
        channel = channel - channel.mean()
        std = channel.std()
        channel = np.clip(channel / std * 64 + 128 if std > 0 else channel + 128, 0, 255)
        r, col = divmod(i, columns)
        top, left = r * (h + gap), col * (w + gap)
        grid[top:top + h, left:left + w] = channel
    return grid, rows, columns


def feature_maps(model, image, layer_names):
    """The outputs of ``layer_names`` for one ``image`` (H, W, C): a list of (H', W', C') arrays.

    As seed 004: ``Model(inputs=model.inputs, outputs=[layer.output ...]).predict(image[None])``.
    """
    from .models import Model
    outputs = [_get_layer(model, name).output for name in layer_names]
    activation_model = Model(inputs=model.inputs, outputs=outputs)
    x = np.asarray(image, dtype=np.float32)[None]
    result = activation_model.predict(x, verbose=0)
    result = result if isinstance(result, (list, tuple)) else [result]
    return [np.asarray(r)[0] for r in result]


def plot_feature_maps(model, image, layer_names=None, path=None, max_maps=24, columns=8):
    """The feature maps of ``layer_names`` (default: up to 5 Conv2D layers with maps of 3x3 or more) for one ``image``
    ``(H, W, C)`` already preprocessed as the model expects; bright = strong activation (viridis)."""
    if layer_names is None:
        # maps smaller than 3x3 (LeNet-5's C5 is 1x1) show nothing: leave them out
        convs = [layer for layer in _conv_layers(model) if min(_output_hw(layer)) >= 3]
        if not convs:
            raise ValueError("plot_feature_maps: the model has no Conv2D layer with maps of 3x3 or more; "
                             "pass layer_names")
        pick = np.unique(np.linspace(0, len(convs) - 1, min(5, len(convs))).round().astype(int))
        layer_names = [convs[i].name for i in pick]
    activations = feature_maps(model, image, layer_names)
    mosaics = []
    for name, activation in zip(layer_names, activations):
        if activation.ndim != 3:
            raise ValueError(f"plot_feature_maps: expected layer {name!r} to output (H, W, C) maps, "
                             f"got shape {activation.shape}")
        mosaics.append((name, activation.shape) + _mosaic(activation, max_maps, columns))
    width = 1.5 * max(cols for *_, cols in mosaics)  # 1.5-inch cells
    heights = [1.5 * rows + 0.5 for _, _, _, rows, _ in mosaics]
    figure = Figure(figsize=(width, sum(heights) + 0.5), dpi=DPI)
    grid = figure.add_gridspec(len(mosaics), 1, height_ratios=heights)
    for i, (name, shape, mosaic, rows, cols) in enumerate(mosaics):
        ax = figure.add_subplot(grid[i])
        ax.imshow(mosaic, cmap="viridis", vmin=0, vmax=255, aspect="equal", interpolation="nearest")
        ax.set_axis_off()
        shown = min(shape[-1], max_maps)
        ax.set_title(f"{name}: {shape[0]}x{shape[1]}, {shown} of {shape[-1]} maps")
    figure.suptitle("Feature maps (bright = strong activation)")
    figure.tight_layout()
    return _finish(figure, path)


# ---- classic kernels ---------------------------------------------------------------------------
def _grayscale(image):
    image = _displayable(image)
    if image.ndim == 3:  # ITU-R 601 luma, as Pillow's convert("L")
        image = image @ np.array([0.299, 0.587, 0.114])
    return image.astype(np.float32)


def apply_kernels(image, kernels=None):
    """Each 3x3 kernel applied to the grayscale ``image`` with one faltung ``Conv2D`` ('same', no bias).

    Returns ``{name: (H, W) array}``. Conv2D computes a cross-correlation (as Keras), so a kernel
    is applied unflipped, which is how seed 004's figure reads.
    """
    from .layers import Conv2D
    kernels = CLASSIC_KERNELS if kernels is None else kernels
    gray = _grayscale(image)
    stack = np.stack(list(kernels.values()), axis=-1)[:, :, None, :]  # (3, 3, 1, K)
    conv = Conv2D(stack.shape[-1], stack.shape[:2], padding="same", use_bias=False)
    conv.build((None,) + gray.shape + (1,))
    conv.set_weights([stack])
    out = np.asarray(conv(gray[None, :, :, None]))[0]
    return {name: out[:, :, i] for i, name in enumerate(kernels)}


def plot_classic_kernels(image, path=None):
    """Seed 004's figure 2.4: each classic kernel (top) and its result on ``image`` (bottom)."""
    results = apply_kernels(image)
    figure = Figure(figsize=(2.5 * (len(results) + 1), 5.5), dpi=DPI)
    grid = figure.add_gridspec(2, len(results) + 1, height_ratios=[1, 2])
    ax = figure.add_subplot(grid[1, 0])
    ax.imshow(_grayscale(image), cmap="gray", vmin=0, vmax=1)
    ax.set_title("input")
    ax.set_axis_off()
    for i, (name, result) in enumerate(results.items(), start=1):
        kernel = CLASSIC_KERNELS[name]
        kax = figure.add_subplot(grid[0, i])
        kax.imshow(kernel, cmap="bwr", vmin=-np.abs(kernel).max(), vmax=np.abs(kernel).max())
        for (r, c), v in np.ndenumerate(kernel):
            kax.text(c, r, f"{v:g}" if name != "blur" else f"{int(v * 16)}", ha="center", va="center",
                     fontsize=10)
        kax.set_xticks([])
        kax.set_yticks([])
        kax.set_title(name + (" (1/16)" if name == "blur" else ""), fontsize=11)
        ax = figure.add_subplot(grid[1, i])
        ax.imshow(np.clip(result, 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.set_axis_off()
    figure.suptitle("Classic 3x3 kernels applied with a Conv2D (results clipped to [0, 1])")
    figure.tight_layout()
    return _finish(figure, path)
