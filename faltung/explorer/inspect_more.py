"""The arithmetic of the layers around the convolutions: activations, batch normalisation,
Add, Concatenate, Rescaling (see inspect.py for conv, pooling, dense and flatten).

Each ``explain_*(layer, x, y, position)`` returns a dict with ``result`` (the value
recomputed from the numbers it shows) and ``formula``.
"""
import numpy as np


def explain_activation(layer, x, y, position):
    """Activation layers: y = f(x) element-wise (softmax: over the last axis)."""
    value = float(x[position])
    act = getattr(layer, "activation", None)
    if hasattr(act, "forward"):
        vector = np.asarray(x[position[:-1]], dtype=np.float64)
        return {"input": value, "activation": act.name,
                "result": float(act.forward(vector)[position[-1]]), "formula": "y = f(x)"}
    # ReLU, LeakyReLU, ELU, PReLU, Softmax layers: the layer's own function on this input
    out = np.asarray(layer.forward(np.asarray(x)[None], training=False))[0]
    name = type(layer).__name__
    return {"input": value, "activation": name, "result": float(out[position]),
            "formula": f"y = {name}(x)"}


def explain_batch_norm(layer, x, y, position):
    """y = γ · (x − μ) / √(σ² + ε) + β with the moving mean μ and variance σ² (inference)."""
    axis = layer.axis
    if not isinstance(axis, int):
        return explain_other(layer, x, y, position)
    c = position[axis - 1 if axis > 0 else axis]     # the sample has no batch axis
    gamma = float(layer.gamma[c]) if getattr(layer, "gamma", None) is not None else 1.0
    beta = float(layer.beta[c]) if getattr(layer, "beta", None) is not None else 0.0
    mean = float(layer.moving_mean[c])
    variance = float(layer.moving_variance[c])
    value = float(x[position])
    normalised = (value - mean) / np.sqrt(variance + layer.epsilon)
    return {"input": value, "mean": mean, "variance": variance, "epsilon": float(layer.epsilon),
            "gamma": gamma, "beta": beta, "normalised": float(normalised),
            "result": float(gamma * normalised + beta),
            "formula": "y = γ · (x − μ) / √(σ² + ε) + β"}


def explain_add(layer, inputs, y, position):
    """y = x₁ + x₂ + … at the same position."""
    terms = [float(x[position]) for x in inputs]
    return {"terms": terms, "result": float(np.sum(np.asarray(terms, dtype=np.float64))),
            "formula": "y = x₁ + x₂ + … (element-wise)"}


def explain_concatenate(layer, inputs, y, position):
    """Which input (and where in it) the value was copied from."""
    axis = layer.axis % y.ndim
    offset = position[axis]
    for k, x in enumerate(inputs):
        if offset < x.shape[axis]:
            source = list(position)
            source[axis] = offset
            return {"source_input": k, "source": source, "result": float(x[tuple(source)]),
                    "formula": f"y = input {k} at {source} (concatenated on axis {axis})"}
        offset -= x.shape[axis]
    raise ValueError(f"{layer.name}: position {list(position)} is not covered by the inputs")


def explain_rescaling(layer, x, y, position):
    value = float(x[position])
    scale, offset = float(np.asarray(layer.scale).reshape(-1)[0]), float(np.asarray(layer.offset).reshape(-1)[0])
    return {"input": value, "scale": scale, "offset": offset, "result": value * scale + offset,
            "formula": "y = x · scale + offset"}


def explain_other(layer, x, y, position):
    """Layers without an arithmetic view: identity-like ones show the copied value."""
    out = {"formula": f"{type(layer).__name__}: no arithmetic view for this layer type"}
    if type(layer).__name__ in ("Dropout", "InputLayer") and np.shape(x) == np.shape(y):
        out.update(input=float(x[position]), result=float(x[position]), formula="y = x (at inference)")
    return out


EXPLAINERS = {"activation": explain_activation, "batch_norm": explain_batch_norm, "add": explain_add,
              "concatenate": explain_concatenate, "rescaling": explain_rescaling,
              "identity": explain_other}
