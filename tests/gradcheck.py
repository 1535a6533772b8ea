"""The one gradient-check helper every layer test uses.

``check_layer_gradients(layer, x)`` runs the layer in float64 on ``x``, takes a
random upstream gradient ``dy`` (the loss is ``L = sum(y * dy)``), and compares
``layer.backward(dy)`` and ``layer.gradients`` with central finite differences
``(L(v + h) - L(v - h)) / 2h`` for every input element and every trainable weight.
"""
import numpy as np


def numeric_gradient(f, v, h=1e-6):
    """Central differences of the scalar function ``f()`` with respect to the array ``v`` (perturbed in place)."""
    grad = np.zeros_like(v, dtype=np.float64)
    flat, gflat = v.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def assert_close(actual, expected, rtol=1e-5, atol=1e-7, what=""):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = np.abs(actual - expected)
    tol = atol + rtol * np.abs(expected)
    worst = np.argmax(err - tol) if err.size else 0
    assert np.all(err <= tol), (
        f"{what}: max abs error {err.max():.3g} (at flat index {worst}: "
        f"{actual.reshape(-1)[worst]!r} vs {expected.reshape(-1)[worst]!r})")


def check_layer_gradients(layer, x, training=False, seed=0, rtol=1e-5, atol=1e-7, h=1e-6):
    """Assert that a layer's input and weight gradients match finite differences (float64).

    ``x`` is an array or, for multi-input layers, a list of arrays. The layer must
    have been created with ``dtype="float64"``. Stochastic layers are checked by
    re-seeding nothing: pass ``training=False`` or a layer whose randomness is fixed.
    """
    multi = isinstance(x, (list, tuple))
    xs = [np.array(v, dtype=np.float64) for v in (x if multi else [x])]
    inputs = xs if multi else xs[0]
    y = layer(inputs, training=training)
    dy = np.random.default_rng(seed).standard_normal(np.shape(y))

    def loss():
        return float(np.sum(layer.forward(inputs, training=training) * dy))

    layer.forward(inputs, training=training)
    dx = layer.backward(dy)
    dxs = list(dx) if multi else [dx]
    grads = [np.array(g) for g in layer.gradients]

    for i, (xi, dxi) in enumerate(zip(xs, dxs)):
        assert_close(dxi, numeric_gradient(loss, xi, h), rtol, atol, f"{layer.name} dx[{i}]")
    trainable = [(n, w) for n, w, t in layer._weights if t]
    assert len(grads) == len(trainable), f"{layer.name}: {len(grads)} gradients for {len(trainable)} weights"
    for (wname, w), g in zip(trainable, grads):
        assert_close(g, numeric_gradient(loss, w, h), rtol, atol, f"{layer.name} d{wname}")
    return dx
