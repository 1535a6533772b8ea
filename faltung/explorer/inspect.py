"""The arithmetic behind one neuron, recomputed from a layer's weights and its input.

``explain_neuron(layer, x, y, position)`` takes one sample's layer input ``x``
(e.g. ``(H, W, C_in)``, no batch axis), the layer's output ``y`` for it and an
output position (``(i, j, c)`` for a feature map, ``(j,)`` for a vector) and
returns a JSON-ready dict that shows how that one number came about:

  Conv2D   z = Σ_c Σ_{u,v} x[i·s + u·d − p, j·s + v·d − p, c] · w[u, v, c, k] + b[k]
           (the patch, the kernel, the element-wise products, the per-channel sums,
           the bias, z, the activation f(z))
  MaxPool  y = max over the window (and which input won)
  AvgPool  y = mean over the window (Keras/TF 'same': padded cells are not counted)
  Dense    z = Σ_i x[i] · w[i, j] + b[j] (the strongest contributions x[i]·w[i, j])

Everything is recomputed in float64 so that the sum the page shows is exact;
``value`` is what the forward pass produced and ``matches`` says whether they agree.
Activations, BatchNormalization, Add, Concatenate, Rescaling: inspect_more.py.
``field_in_input`` walks a window down to the model input (the receptive field).
"""
import math

import numpy as np

from .. import activations as _activations
from . import inspect_more

TOP_CONTRIBUTIONS = 12


def layer_kind(layer):
    """A short name for how a layer computes: conv, max_pool, avg_pool, dense, ..."""
    name = type(layer).__name__
    return {
        "Conv2D": "conv", "MaxPooling2D": "max_pool", "AveragePooling2D": "avg_pool",
        "GlobalMaxPooling2D": "global_max_pool", "GlobalAveragePooling2D": "global_avg_pool",
        "Dense": "dense", "Flatten": "flatten", "Dropout": "identity", "InputLayer": "identity",
        "Activation": "activation", "ReLU": "activation", "LeakyReLU": "activation",
        "ELU": "activation", "PReLU": "activation", "Softmax": "activation",
        "BatchNormalization": "batch_norm", "Add": "add", "Concatenate": "concatenate",
        "Rescaling": "rescaling",
    }.get(name, "other")


def same_padding(size, window, stride, dilation=1):
    """TF/Keras 'same' padding before the first element: pad_total // 2, with
    out = ceil(size / stride), pad_total = max((out − 1)·stride + (window − 1)·dilation + 1 − size, 0)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (window - 1) * dilation + 1 - size, 0)
    return total // 2


def _pair(value):
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    return tuple(int(v) for v in value)


def window_geometry(layer, input_hw):
    """Kernel (kh, kw), strides, dilation and padding before (top, left) of a conv or pooling layer."""
    kind = layer_kind(layer)
    if kind == "conv":
        kernel = _pair(layer.kernel_size)
        dilation = _pair(getattr(layer, "dilation_rate", 1))
    else:
        kernel = _pair(layer.pool_size)
        dilation = (1, 1)
    strides = _pair(layer.strides if layer.strides is not None else kernel)
    padding = str(layer.padding).lower()
    if padding == "same":
        pad = tuple(same_padding(input_hw[a], kernel[a], strides[a], dilation[a]) for a in (0, 1))
    else:
        pad = (0, 0)
    return kernel, strides, dilation, pad


def _window_rows_cols(layer, x, i, j):
    """Row and column indices (may lie outside x: padding) of output (i, j)'s window."""
    kernel, strides, dilation, pad = window_geometry(layer, x.shape[:2])
    rows = i * strides[0] - pad[0] + dilation[0] * np.arange(kernel[0])
    cols = j * strides[1] - pad[1] + dilation[1] * np.arange(kernel[1])
    return rows, cols


def _gather(x, rows, cols, fill):
    """x[rows][:, cols] as float64 with ``fill`` where an index falls into the padding."""
    patch = np.full((len(rows), len(cols), x.shape[2]), fill, dtype=np.float64)
    r_ok = (rows >= 0) & (rows < x.shape[0])
    c_ok = (cols >= 0) & (cols < x.shape[1])
    patch[np.ix_(r_ok, c_ok)] = x[np.ix_(rows[r_ok], cols[c_ok])]
    inside = np.outer(r_ok, c_ok)
    return patch, inside


def _window_box(rows, cols):
    """The receptive field in the layer below: [y0, y1) × [x0, x1) plus the step."""
    step_r = int(rows[1] - rows[0]) if len(rows) > 1 else 1
    step_c = int(cols[1] - cols[0]) if len(cols) > 1 else 1
    return {"y0": int(rows[0]), "y1": int(rows[-1]) + 1, "x0": int(cols[0]), "x1": int(cols[-1]) + 1,
            "step": [step_r, step_c]}


def _activation(layer):
    act = getattr(layer, "activation", None)
    return act if hasattr(act, "forward") else _activations.get(act)


def activate(layer, z_vector, index):
    """f(z) for the neuron at ``index`` of ``z_vector`` (a vector so that softmax works too)."""
    act = _activation(layer)
    return act.name, float(act.forward(z_vector)[index])


def _check_position(layer, y, position):
    position = tuple(int(p) for p in position)
    if len(position) != y.ndim:
        raise ValueError(f"{layer.name}: expected a position of {y.ndim} indices for output shape "
                         f"{tuple(y.shape)}, got {list(position)}")
    for p, n in zip(position, y.shape):
        if not 0 <= p < n:
            raise ValueError(f"{layer.name}: position {list(position)} is outside the output shape "
                             f"{tuple(y.shape)}")
    return position


def explain_neuron(layer, x, y, position):
    """The arithmetic of ``y[position]`` (see the module docstring); x, y: one sample, no batch axis
    (x a list of arrays for layers with several inputs: Add, Concatenate)."""
    position = _check_position(layer, y, position)
    kind = layer_kind(layer)
    explain = {"conv": _explain_conv, "max_pool": _explain_pool, "avg_pool": _explain_pool,
               "dense": _explain_dense, "global_max_pool": _explain_global_pool,
               "global_avg_pool": _explain_global_pool, "flatten": _explain_flatten,
               }.get(kind) or inspect_more.EXPLAINERS.get(kind, inspect_more.explain_other)
    x = [np.asarray(t) for t in x] if isinstance(x, (list, tuple)) else np.asarray(x)
    result = explain(layer, x, np.asarray(y), position)
    value = float(y[position])
    result.update(layer=layer.name, layer_type=type(layer).__name__, kind=kind,
                  position=list(position), value=value)
    if "result" in result:
        result["matches"] = bool(math.isclose(result["result"], value, rel_tol=1e-4, abs_tol=1e-4))
    return result


def _explain_conv(layer, x, y, position):
    i, j, k = position
    weights = layer.get_weights()
    kernel = np.asarray(weights[0], dtype=np.float64)            # (kh, kw, C_in, C_out)
    bias = np.asarray(weights[1], dtype=np.float64) if len(weights) > 1 else np.zeros(kernel.shape[3])
    rows, cols = _window_rows_cols(layer, x, i, j)
    patch, inside = _gather(x, rows, cols, fill=0.0)            # (kh, kw, C_in), zero padding
    # z over every output channel at (i, j), so a softmax activation can be shown as well
    z_all = np.tensordot(patch, kernel, axes=([0, 1, 2], [0, 1, 2])) + bias
    channels = []
    for c in range(patch.shape[2]):
        products = patch[:, :, c] * kernel[:, :, c, k]
        channels.append({"channel": c, "patch": patch[:, :, c].tolist(),
                         "kernel": kernel[:, :, c, k].tolist(), "products": products.tolist(),
                         "sum": float(products.sum())})
    total = float(sum(ch["sum"] for ch in channels))
    z = total + float(bias[k])
    act_name, activated = activate(layer, z_all, k)
    return {"window": _window_box(rows, cols), "inside": inside.tolist(), "input_shape": list(x.shape),
            "filter": k, "channels": channels, "total": total, "bias": float(bias[k]), "z": z,
            "activation": act_name, "result": activated,
            "formula": "z = Σ_c Σ_(u,v) x[u, v, c] · w[u, v, c] + b;  y = f(z)"}


def _explain_pool(layer, x, y, position):
    i, j, c = position
    is_max = layer_kind(layer) == "max_pool"
    rows, cols = _window_rows_cols(layer, x, i, j)
    patch, inside = _gather(x[:, :, c:c + 1], rows, cols, fill=np.nan)
    patch = patch[:, :, 0]
    out = {"window": _window_box(rows, cols), "inside": inside.tolist(), "input_shape": list(x.shape),
           "channel": c, "patch": [[None if np.isnan(v) else float(v) for v in row] for row in patch]}
    if is_max:
        masked = np.where(inside, patch, -np.inf)
        winner = np.unravel_index(int(np.argmax(masked)), masked.shape)
        out.update(winner=[int(winner[0]), int(winner[1])],
                   winner_input=[int(rows[winner[0]]), int(cols[winner[1]]), c],
                   result=float(masked[winner]), formula="y = max over the window")
    else:
        count = int(inside.sum())
        total = float(np.nansum(patch))
        out.update(sum=total, count=count, result=total / count,
                   formula="y = (Σ of the window) / (number of cells inside the input)")
    return out


def _explain_dense(layer, x, y, position):
    (j,) = position
    weights = layer.get_weights()
    kernel = np.asarray(weights[0], dtype=np.float64)            # (in, out)
    bias = np.asarray(weights[1], dtype=np.float64) if len(weights) > 1 else np.zeros(kernel.shape[1])
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    products = x * kernel[:, j]
    order = np.argsort(-np.abs(products), kind="stable")
    top = order[:TOP_CONTRIBUTIONS]
    rest = order[TOP_CONTRIBUTIONS:]
    z_all = x @ kernel + bias
    total = float(products.sum())
    z = total + float(bias[j])
    act_name, activated = activate(layer, z_all, j)
    out = {"unit": j, "inputs": int(x.size),
           "top": [{"index": int(t), "input": float(x[t]), "weight": float(kernel[t, j]),
                    "product": float(products[t])} for t in top],
           "rest_sum": float(products[rest].sum()), "rest_count": int(rest.size),
           "total": total, "bias": float(bias[j]), "z": z, "activation": act_name,
           "result": activated, "formula": "z = Σ_i x[i] · w[i, j] + b[j];  y = f(z)"}
    if act_name == "softmax":
        out["softmax"] = {"z_all": z_all.tolist(), "max_z": float(z_all.max())}
    return out


def _explain_global_pool(layer, x, y, position):
    c = position[-1]
    channel = np.asarray(x[..., c], dtype=np.float64)
    if layer_kind(layer) == "global_max_pool":
        winner = np.unravel_index(int(np.argmax(channel)), channel.shape)
        return {"channel": c, "winner_input": [int(w) for w in winner] + [c],
                "result": float(channel[winner]), "formula": "y = max over the whole feature map"}
    return {"channel": c, "sum": float(channel.sum()), "count": int(channel.size),
            "result": float(channel.mean()), "formula": "y = mean over the whole feature map"}


def _explain_flatten(layer, x, y, position):
    (j,) = position
    source = np.unravel_index(j, x.shape)
    return {"source": [int(s) for s in source], "result": float(x[source]),
            "formula": "y[j] = x[i, j, c] with j = (i·W + j)·C + c (row-major)"}


def field_in_input(layers, producers, index, box, input_hw_of):
    """The region of the model input that output box ``box`` ({y0, y1, x0, x1}, in layer
    ``index``'s output coordinates) depends on, walking down through conv and pooling layers:
    rows [y0·s − p, (y1 − 1)·s − p + (k − 1)·d + 1) per layer. None when the path leaves
    the feature maps (Dense, Flatten, a layer with several inputs).

    ``input_hw_of(i)``: (H, W) of layer i's input."""
    y0, y1, x0, x1 = box["y0"], box["y1"], box["x0"], box["x1"]
    while index != -1:
        layer = layers[index]
        kind = layer_kind(layer)
        if kind in ("conv", "max_pool", "avg_pool"):
            kernel, strides, dilation, pad = window_geometry(layer, input_hw_of(index))
            y0, y1 = (y0 * strides[0] - pad[0],
                      (y1 - 1) * strides[0] - pad[0] + (kernel[0] - 1) * dilation[0] + 1)
            x0, x1 = (x0 * strides[1] - pad[1],
                      (x1 - 1) * strides[1] - pad[1] + (kernel[1] - 1) * dilation[1] + 1)
        elif kind not in ("activation", "batch_norm", "identity", "rescaling"):
            return None
        index = producers[index]
        if index is None:
            return None
    return {"y0": int(y0), "y1": int(y1), "x0": int(x0), "x1": int(x1)}
