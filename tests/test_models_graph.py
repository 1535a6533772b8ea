"""Sequential and functional models: wiring, names, weights, and backprop through a DAG.

Gradients through branching graphs (a shared layer on two paths, Concatenate, Add)
are checked against central finite differences of L = sum(model(x) * R) in float64.
"""
import numpy as np
import pytest

import faltung
from faltung import layers as L
from tests.gradcheck import assert_close, numeric_gradient


def _model_gradients(model, x, r):
    """Analytic dL/dw for L = sum(model(x) * r), as the training step computes them."""
    model._forward([x], training=False, keep_caches=True)
    return model._backward([r])


def _check_model_gradients(model, x, seed=0):
    r = np.random.default_rng(seed).standard_normal(model.predict(x, verbose=0).shape)

    def loss():
        return float(np.sum(model._forward([x])[0] * r))
    pairs = _model_gradients(model, x, r)
    assert len(pairs) == len(model.trainable_weights)
    for k, (grad, weight) in enumerate(pairs):
        assert_close(grad, numeric_gradient(loss, weight), rtol=1e-5, atol=1e-7, what=f"weight {k}")


def test_shared_layer_on_two_paths_accumulates_gradients():
    inp = faltung.Input((5,), dtype="float64")
    a = L.Dense(4, activation="tanh", dtype="float64")(inp)
    b = L.Dense(4, activation="sigmoid", dtype="float64")(inp)
    shared = L.Dense(3, activation="tanh", dtype="float64")
    sa, sb = shared(a), shared(b)
    merged = L.Concatenate(dtype="float64")([L.Add(dtype="float64")([sa, sb]), sa])
    out = L.Dense(2, dtype="float64")(merged)
    model = faltung.Model(inputs=inp, outputs=out)
    assert len(shared._inbound_nodes) == 2
    assert model.layers.count(shared) == 1
    x = np.random.default_rng(1).standard_normal((3, 5))
    _check_model_gradients(model, x)
    # the shared layer's gradient is the sum over both of its calls: not equal to one call alone
    r = np.ones((3, 2))
    pairs = _model_gradients(model, x, r)
    total = [g for g, w in pairs if w is shared.kernel][0]
    assert np.abs(total).sum() > 0


def test_inception_and_residual_blocks_backprop_like_finite_differences():
    inp = faltung.Input((5, 5, 2), dtype="float64")
    b1 = L.Conv2D(2, 1, activation="relu", dtype="float64")(inp)
    b3 = L.Conv2D(3, 3, padding="same", activation="tanh", dtype="float64")(inp)
    bp = L.MaxPooling2D(3, strides=1, padding="same", dtype="float64")(inp)
    block = L.Concatenate(dtype="float64")([b1, b3, bp])          # Inception: 2 + 3 + 2 channels
    res = L.Conv2D(7, 3, padding="same", dtype="float64")(block)
    added = L.Add(dtype="float64")([block, res])                    # residual
    flat = L.Flatten(dtype="float64")(added)
    out = L.Dense(3, activation="softmax", dtype="float64")(flat)
    model = faltung.Model(inp, out)
    assert model.output_shape == (None, 3)
    assert block.shape == (None, 5, 5, 7)
    x = np.random.default_rng(2).standard_normal((2, 5, 5, 2))
    _check_model_gradients(model, x)


def test_functional_model_properties_and_names():
    inp = faltung.Input(shape=(8,))
    h = L.Dense(4, activation="relu")(inp)
    out = L.Dense(2, activation="softmax")(h)
    model = faltung.Model(inputs=inp, outputs=out)
    assert [layer.name for layer in model.layers] == ["input_layer", "dense", "dense_1"]
    assert model.input is inp and model.output is out
    assert model.inputs == [inp] and model.outputs == [out]
    assert model.input_shape == (None, 8) and model.output_shape == (None, 2)
    assert model.get_layer("dense_1") is model.layers[2]
    assert model.get_layer(index=1).name == "dense"
    assert model.count_params() == 8 * 4 + 4 + 4 * 2 + 2
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer("nope")


def test_sequential_input_shape_list_tuple_and_input_are_equivalent():
    a = faltung.Sequential([L.Dense(3, input_shape=[4])])
    b = faltung.Sequential([L.Dense(3, input_shape=(4,))])
    c = faltung.Sequential([faltung.Input((4,)), L.Dense(3)])
    d = faltung.Sequential()
    d.add(L.Dense(3, input_shape=(4,)))
    for model in (a, b, c, d):
        assert model.built and model.output_shape == (None, 3) and model.count_params() == 15
        assert len(model.layers) == 1  # the InputLayer is not listed
    assert [layer.name for layer in faltung.Sequential([L.Dense(1), L.Dense(1)]).layers] == ["dense_4", "dense_5"]


def test_sequential_builds_on_first_data_when_no_input_shape():
    model = faltung.Sequential([L.Dense(3), L.Dense(2)])
    assert not model.built
    y = model.predict(np.ones((5, 4), np.float32), verbose=0)
    assert y.shape == (5, 2) and model.built and model.input_shape == (None, 4)


def test_get_and_set_weights_round_trip_in_place():
    model = faltung.Sequential([L.Dense(3, input_shape=(4,)), L.Dense(2)])
    kernel = model.layers[0].kernel
    new = [np.full_like(w, i) for i, w in enumerate(model.get_weights())]
    model.set_weights(new)
    assert model.layers[0].kernel is kernel  # arrays keep their identity
    for got, expected in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="expected a list of 4 weight arrays, got 1"):
        model.set_weights(new[:1])


def test_seed_004_activation_model_on_a_built_sequential():
    """``Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])``."""
    model = faltung.Sequential()
    model.add(L.Conv2D(4, (3, 3), padding="same", activation="relu", input_shape=(8, 8, 3)))
    model.add(L.MaxPooling2D(pool_size=(2, 2)))
    model.add(L.Flatten())
    model.add(L.Dropout(0.5))
    model.add(L.Dense(5, activation="softmax"))
    activation_model = faltung.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    x = np.random.default_rng(0).random((2, 8, 8, 3)).astype(np.float32)
    activations = activation_model.predict(x, verbose=0)
    assert len(activations) == 5
    expected = x
    for layer, got in zip(model.layers, activations):
        expected = layer(expected)  # layer by layer, inference mode
        np.testing.assert_array_equal(got, expected)
    assert activations[0].shape == (2, 8, 8, 4) and activations[-1].shape == (2, 5)
    # picking layers by name, as the seed does
    conv_outputs = [layer.output for layer in model.layers if layer.name in ["conv2d"]]
    assert faltung.Model(inputs=model.input, outputs=conv_outputs).predict(x, verbose=0)[0].shape == (2, 8, 8, 4)


def test_functional_model_rejects_bad_wiring():
    inp = faltung.Input((3,))
    other = faltung.Input((3,))
    out = L.Add()([inp, other])
    with pytest.raises(ValueError, match="not in inputs"):
        faltung.Model(inputs=inp, outputs=out)
    with pytest.raises(ValueError, match="symbolic tensors"):
        faltung.Model(inputs=inp, outputs=np.zeros(3))
    with pytest.raises(ValueError, match="expected inputs= and outputs="):
        faltung.Model()


def test_multi_input_model_predicts_with_a_list():
    a, b = faltung.Input((3,), name="a"), faltung.Input((2,), name="b")
    out = L.Dense(1)(L.Concatenate()([a, b]))
    model = faltung.Model(inputs=[a, b], outputs=out)
    xa, xb = np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)
    dense = model.layers[-1]
    expected = np.concatenate([xa, xb], axis=1) @ dense.kernel + dense.bias
    np.testing.assert_allclose(model.predict([xa, xb], verbose=0), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="expected 2 input array"):
        model.predict(xa, verbose=0)


def test_layer_output_before_wiring_is_a_clear_error():
    with pytest.raises(ValueError, match="dense: has no output yet"):
        _ = L.Dense(2).output


def test_frozen_layers_keep_their_weights_during_fit():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 4)).astype(np.float32), rng.integers(0, 2, 16)
    model = faltung.Sequential([L.Dense(5, activation="relu", input_shape=(4,)), L.Dense(2, activation="softmax")])
    model.layers[0].trainable = False
    model.compile("adam", "sparse_categorical_crossentropy")
    frozen, head = model.layers[0].get_weights(), model.layers[1].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(model.layers[0].get_weights(), frozen):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(model.layers[1].get_weights()[0], head[0])
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.trainable = False
    assert not model.trainable and model.trainable_weights == []


def test_deep_graphs_are_ordered_without_recursion_limits():
    from faltung.models.graph import topological_nodes
    x = inp = faltung.Input((2,))
    for _ in range(1500):  # 1500 residual blocks: deeper than Python's recursion limit
        x = L.Add()([x, L.Activation("relu")(x)])
    model = faltung.Model(inp, x)
    nodes = topological_nodes(model.outputs)
    position = {node.id: i for i, node in enumerate(nodes)}
    assert len(nodes) == 1 + 2 * 1500
    assert all(position[p.id] < position[n.id] for n in nodes for p in n.parents)
    # each block is x + relu(x): a negative entry passes all 1500 blocks unchanged
    out = model.predict(np.array([[0.0, -1.5]], np.float32), verbose=0)
    np.testing.assert_array_equal(out, np.array([[0.0, -1.5]], np.float32))


def test_shared_conv_layer_on_two_paths_backprops_like_finite_differences():
    """A layer called twice keeps one cache per call (its buffers must not be reused across calls)."""
    inp = faltung.Input((5, 5, 2), dtype="float64")
    shared = L.Conv2D(2, 3, padding="same", activation="tanh", dtype="float64")
    a = shared(inp)
    b = shared(L.Conv2D(2, 1, dtype="float64")(inp))
    out = L.Dense(2, dtype="float64")(L.Flatten(dtype="float64")(L.Concatenate(dtype="float64")([a, b])))
    model = faltung.Model(inp, out)
    _check_model_gradients(model, np.random.default_rng(4).standard_normal((2, 5, 5, 2)))


def test_shared_conv_in_float32_equals_two_copies_of_it():
    """Fast float32 kernels: the shared layer's gradient is the sum of two separate copies' gradients."""
    def build(shared_layer):
        inp = faltung.Input((6, 6, 3))
        first = L.Conv2D(4, 3, padding="same", activation="relu")
        second = first if shared_layer else L.Conv2D(4, 3, padding="same", activation="relu")
        pre = L.Conv2D(3, 1)
        a, b = first(inp), second(pre(inp))
        out = L.Dense(3)(L.Flatten()(L.Add()([a, b])))
        return faltung.Model(inp, out), first, second, pre
    shared_model, shared, _, pre_s = build(True)
    twin_model, first, second, pre_t = build(False)
    for layer in (first, second):
        layer.set_weights(shared.get_weights())
    pre_t.set_weights(pre_s.get_weights())
    twin_model.layers[-1].set_weights(shared_model.layers[-1].get_weights())
    rng = np.random.default_rng(5)
    x, r = rng.standard_normal((4, 6, 6, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    _model_gradients(shared_model, x, r)
    _model_gradients(twin_model, x, r)
    for g, g1, g2 in zip(shared.gradients, first.gradients, second.gradients):
        np.testing.assert_allclose(g, g1 + g2, rtol=1e-4, atol=1e-5)


def test_input_takes_keras_3_positional_order():
    # keras.Input(shape, batch_size, dtype, sparse, batch_shape, name, tensor)
    import inspect
    params = list(inspect.signature(faltung.Input).parameters)
    assert params[:6] == ["shape", "batch_size", "dtype", "sparse", "batch_shape", "name"]
    x = faltung.Input((4,), None, "float64", None, None, "features")
    assert x.shape == (None, 4) and x.dtype == np.float64 and x.node.layer.name == "features"
    with pytest.raises(ValueError, match="sparse"):
        faltung.Input((4,), sparse=True)
