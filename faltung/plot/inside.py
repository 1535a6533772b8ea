"""Pictures of a model's inside: the kernels of a Conv2D layer and the feature maps of chosen layers."""
import math

import numpy as np
from matplotlib.figure import Figure

from .base import DPI, finish


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
    shown = ("as RGB" if c_in == 3 else
             "red > 0 > blue" + ("" if c_in == 1 else f", input channel 0 of {c_in}"))
    which = "" if count == c_out else f", the first {count}"
    figure.suptitle(f"Filters of {layer.name}: {kh}x{kw}, {c_in} -> {c_out} channels{which} ({shown})")
    _layout_below_title(figure)
    return finish(figure, path)


def _layout_below_title(figure, title_inches=0.45):
    """tight_layout that keeps the top ``title_inches`` for the suptitle (in a tall figure the
    default leaves too little room and the suptitle overlaps the first axes' title)."""
    height = figure.get_figheight()
    figure.tight_layout(rect=(0, 0, 1, 1 - title_inches / height))


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
    from ..models import Model
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
    _layout_below_title(figure)
    return finish(figure, path)
