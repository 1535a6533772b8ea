"""Optimizers: Keras 3 defaults and formulas, vs torch.optim where the formulas coincide."""
import inspect

import numpy as np
import pytest
import torch

from faltung import optimizers
from tests.gradcheck import assert_close

SHAPES = [(3, 2), (2,)]


def gradient_sequence(steps, seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def initial_weights(dtype=np.float64):
    rng = np.random.default_rng(99)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def run_faltung(optimizer, steps=5):
    weights = initial_weights()
    for grads in gradient_sequence(steps):
        optimizer.apply_gradients(zip(grads, weights))
    return weights


def run_torch(make, steps=5):
    old_default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # NAdam keeps its μ product in the default dtype
    try:
        params = [torch.tensor(w, requires_grad=True) for w in initial_weights()]
        optimizer = make(params)
        for grads in gradient_sequence(steps):
            for p, g in zip(params, grads):
                p.grad = torch.tensor(g)
            optimizer.step()
    finally:
        torch.set_default_dtype(old_default)
    return [p.detach().numpy() for p in params]


def assert_same_trajectory(ours, make_torch, steps=5):
    for mine, theirs in zip(run_faltung(ours, steps), run_torch(make_torch, steps)):
        assert_close(mine, theirs, rtol=1e-10, atol=1e-12, what=type(ours).__name__)


# ---- Keras 3 defaults ----------------------------------------------------------------------
KERAS_DEFAULTS = {
    optimizers.SGD: {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    optimizers.Adam: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
                      "amsgrad": False},
    optimizers.Nadam: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    optimizers.RMSprop: {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                         "centered": False},
    optimizers.AdamW: {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999,
                       "epsilon": 1e-7},
}


@pytest.mark.parametrize("cls", list(KERAS_DEFAULTS))
def test_keras_default_hyperparameters(cls):
    params = inspect.signature(cls).parameters
    for name, value in KERAS_DEFAULTS[cls].items():
        assert params[name].default == value, name
    config = cls().get_config()
    assert {k: config[k] for k in KERAS_DEFAULTS[cls]} == KERAS_DEFAULTS[cls]


# ---- vs torch.optim where the formulas coincide ----------------------------------------
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_matches_torch(momentum, nesterov):
    assert_same_trajectory(optimizers.SGD(0.1, momentum=momentum, nesterov=nesterov),
                           lambda p: torch.optim.SGD(p, lr=0.1, momentum=momentum, nesterov=nesterov))


@pytest.mark.parametrize("fused_min_size", [0, 1 << 40], ids=["one-pass-kernel", "numpy"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_torch_without_epsilon(amsgrad, fused_min_size, monkeypatch):
    monkeypatch.setattr(optimizers, "FUSED_MIN_SIZE", fused_min_size)
    # with ε = 0 Keras's α·m/√v and torch's (lr/bc₁)·m/(√v/√bc₂) are the same number
    assert_same_trajectory(optimizers.Adam(0.01, epsilon=0.0, amsgrad=amsgrad),
                           lambda p: torch.optim.Adam(p, lr=0.01, eps=0.0, amsgrad=amsgrad))


@pytest.mark.parametrize("make", [lambda: optimizers.Adam(0.01), lambda: optimizers.AdamW(0.01, weight_decay=0.1)],
                         ids=["adam", "adamw"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads, serial_max_bytes", [(1, 1 << 40), (2, 0)], ids=["serial-twin", "threads"])
def test_adam_in_one_pass_gives_the_bits_of_numpys_passes(make, dtype, threads, serial_max_bytes, monkeypatch):
    """Adam's one-pass kernel (``ops.adam_fused``) does NumPy's operations in NumPy's order and precision."""
    from faltung.ops import adam_fused, jit
    monkeypatch.setattr(jit, "THREADS", threads)
    monkeypatch.setattr(jit, "SERIAL_MAX_BYTES", serial_max_bytes)
    rng = np.random.default_rng(7)
    shapes = [(5, 5, 6, 16), (16,), (3000, 7)]
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    steps = [[(rng.standard_normal(s) * 10 ** rng.uniform(-4, 1)).astype(dtype) for s in shapes] for _ in range(4)]
    results, calls, run = [], [], jit.run
    monkeypatch.setattr(jit, "run", lambda kernel, *args, **kw: calls.append(kernel) or run(kernel, *args, **kw))
    for fused_min_size in (0, 1 << 40):
        monkeypatch.setattr(optimizers, "FUSED_MIN_SIZE", fused_min_size)
        optimizer, weights = make(), [w.copy() for w in start]
        for grads in steps:
            optimizer.apply_gradients(zip(grads, weights))
        results.append((weights, [dict(slot) for slot in optimizer.slots]))
    assert calls == [adam_fused.adam_update] * (len(shapes) * len(steps))  # every update on the kernel, then none
    for a, b in zip(results[0][0], results[1][0]):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
    for slots_a, slots_b in zip(results[0][1], results[1][1]):
        for name in slots_a:
            np.testing.assert_array_equal(slots_a[name], slots_b[name])


def test_adamw_matches_torch_without_epsilon():
    assert_same_trajectory(optimizers.AdamW(0.01, weight_decay=0.1, epsilon=0.0),
                           lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, eps=0.0))


def test_nadam_matches_torch_with_keras_momentum_schedule():
    # torch's μ_t = β₁(1 − ½·0.96^(t·momentum_decay)) is Keras's u_t when momentum_decay = 1
    assert_same_trajectory(optimizers.Nadam(0.01, epsilon=1e-7),
                           lambda p: torch.optim.NAdam(p, lr=0.01, eps=1e-7, momentum_decay=1.0))


@pytest.mark.parametrize("momentum, centered", [(0.0, False), (0.5, False), (0.0, True), (0.5, True)])
def test_rmsprop_matches_torch_without_epsilon(momentum, centered):
    assert_same_trajectory(optimizers.RMSprop(0.01, momentum=momentum, centered=centered, epsilon=0.0),
                           lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=momentum,
                                                         centered=centered, eps=0.0))


# ---- Keras's own epsilon placement, by hand for two steps --------------------------------
def test_adam_keras_epsilon_placement_by_hand():
    w = np.array([1.0])
    opt = optimizers.Adam(learning_rate=0.1, epsilon=0.5)
    g1, g2 = 2.0, -1.0
    opt.apply_gradients([(np.array([g1]), w)])
    m1, v1 = 0.1 * g1, 0.001 * g1 ** 2
    w1 = 1.0 - 0.1 * np.sqrt(1 - 0.999) / (1 - 0.9) * m1 / (np.sqrt(v1) + 0.5)
    assert_close(w, [w1], rtol=1e-12, what="step 1")
    opt.apply_gradients([(np.array([g2]), w)])
    m2, v2 = 0.9 * m1 + 0.1 * g2, 0.999 * v1 + 0.001 * g2 ** 2
    w2 = w1 - 0.1 * np.sqrt(1 - 0.999 ** 2) / (1 - 0.9 ** 2) * m2 / (np.sqrt(v2) + 0.5)
    assert_close(w, [w2], rtol=1e-12, what="step 2")
    assert opt.iterations == 2


def test_rmsprop_keras_epsilon_inside_the_root_by_hand():
    w = np.array([1.0])
    opt = optimizers.RMSprop(learning_rate=0.1, epsilon=0.5)
    opt.apply_gradients([(np.array([2.0]), w)])
    v1 = 0.1 * 4.0
    w1 = 1.0 - 0.1 * 2.0 / np.sqrt(v1 + 0.5)
    assert_close(w, [w1], rtol=1e-12, what="step 1")
    opt.apply_gradients([(np.array([-1.0]), w)])
    v2 = 0.9 * v1 + 0.1 * 1.0
    assert_close(w, [w1 + 0.1 / np.sqrt(v2 + 0.5)], rtol=1e-12, what="step 2")


# ---- the API ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "nadam", "rmsprop"])
def test_updates_in_place_and_keeps_float32(name):
    opt = optimizers.get(name)
    weights = initial_weights(np.float32)
    ids = [id(w) for w in weights]
    before = [w.copy() for w in weights]
    opt.apply_gradients(zip(gradient_sequence(1)[0], weights))  # float64 gradients
    assert [id(w) for w in weights] == ids
    assert all(w.dtype == np.float32 for w in weights)
    assert all(not np.array_equal(a, b) for a, b in zip(weights, before))
    assert all(s.dtype == np.float32 for s in opt.get_state()[1:] if s.ndim)
    assert opt.iterations == 1


def test_learning_rate_can_be_changed_between_steps():
    w = np.zeros(2)
    opt = optimizers.SGD(learning_rate=0.1)
    opt.apply_gradients([(np.ones(2), w)])
    opt.learning_rate = 0.01
    opt.apply_gradients([(np.ones(2), w)])
    assert_close(w, [-0.11, -0.11], rtol=1e-12, what="lr changed")
    assert opt.get_config()["learning_rate"] == 0.01


@pytest.mark.parametrize("make", [
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True), lambda: optimizers.Adam(amsgrad=True),
    lambda: optimizers.AdamW(), lambda: optimizers.Nadam(),
    lambda: optimizers.RMSprop(momentum=0.5, centered=True)])
def test_saved_state_continues_bit_identically(make):
    grads = gradient_sequence(5)
    original = make()
    weights = initial_weights(np.float32)
    for g in grads[:3]:
        original.apply_gradients(zip(g, weights))
    state, config = original.get_state(), original.get_config()
    assert all(isinstance(s, np.ndarray) for s in state)
    copies = [w.copy() for w in weights]
    reloaded = type(original).from_config(config)
    reloaded.set_state([s.copy() for s in state])
    for g in grads[3:]:
        original.apply_gradients(zip(g, weights))
        reloaded.apply_gradients(zip(g, copies))
    assert reloaded.iterations == original.iterations == 5
    for a, b in zip(weights, copies):
        assert np.array_equal(a, b)
    for a, b in zip(original.get_state(), reloaded.get_state()):
        assert np.array_equal(a, b)


def test_clipping():
    w = np.zeros(2)
    optimizers.SGD(1.0, clipvalue=0.5).apply_gradients([(np.array([2.0, -0.1]), w)])
    assert_close(w, [-0.5, 0.1], what="clipvalue")
    w = np.zeros(2)
    optimizers.SGD(1.0, clipnorm=1.0).apply_gradients([(np.array([3.0, 4.0]), w)])
    assert_close(w, [-0.6, -0.8], what="clipnorm")
    a, b = np.zeros(1), np.zeros(1)
    optimizers.SGD(1.0, global_clipnorm=1.0).apply_gradients([(np.array([3.0]), a), (np.array([4.0]), b)])
    assert_close(np.concatenate([a, b]), [-0.6, -0.8], what="global_clipnorm")
    w = np.zeros(2)
    optimizers.SGD(1.0, clipnorm=10.0).apply_gradients([(np.array([3.0, 4.0]), w)])
    assert_close(w, [-3.0, -4.0], what="no clipping below the norm")
    w32 = np.zeros(2, dtype=np.float32)
    optimizers.Adam(clipvalue=np.float64(0.5)).apply_gradients([(np.array([2.0, -0.1]), w32)])
    assert w32.dtype == np.float32


def test_decoupled_weight_decay_on_any_optimizer():
    # Keras 3: w -= lr·wd·w, then the optimizer's own step
    w = np.array([2.0, -1.0])
    optimizers.SGD(0.1, weight_decay=0.5).apply_gradients([(np.array([1.0, 1.0]), w)])
    assert_close(w, [2.0 - 0.1 * 0.5 * 2.0 - 0.1, -1.0 + 0.1 * 0.5 * 1.0 - 0.1], rtol=1e-12, what="decay")


def test_get_serialize_and_errors():
    assert type(optimizers.get("Adam")) is optimizers.Adam
    assert type(optimizers.get("rmsprop")) is optimizers.RMSprop
    opt = optimizers.Nadam(learning_rate=0.002)
    assert optimizers.get(opt) is opt
    clone = optimizers.deserialize(optimizers.serialize(opt))
    assert type(clone) is optimizers.Nadam and clone.get_config() == opt.get_config()
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'.*Adam.*SGD"):
        optimizers.get("adamax")
    with pytest.raises(ValueError, match="at most one of clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match=r"sgd.*gradient of shape \(2,\).*\(3,\)"):
        optimizers.SGD().apply_gradients([(np.ones(3), np.zeros(2))])
    opt = optimizers.Adam()
    opt.apply_gradients([(np.ones(2), np.zeros(2))])
    restored = optimizers.Adam()  # restored state is matched to the weights by position
    restored.set_state(opt.get_state())
    with pytest.raises(ValueError, match=r"adam.*weight 0 of shape \(2,\).*\(3,\)"):
        restored.apply_gradients([(np.ones(3), np.zeros(3))])
    with pytest.raises(ValueError, match="state list"):
        optimizers.Adam().set_state([np.array(0), np.zeros(2)])



@pytest.mark.parametrize("make", [lambda: optimizers.Adam(0.1), lambda: optimizers.SGD(0.1, momentum=0.9),
                                  lambda: optimizers.RMSprop(0.1, momentum=0.5)])
def test_state_follows_each_weight_when_the_trained_set_changes(make):
    # Keras keeps one slot set per variable: freezing a layer (its weight leaves the list)
    # must not hand its momentum to the next weight of the same shape
    rng = np.random.default_rng(7)
    g = [rng.standard_normal((3, 2)) for _ in range(5)]
    frozen, trained = np.zeros((3, 2)), np.zeros((3, 2))
    optimizer = make()
    optimizer.apply_gradients([(g[0], frozen), (g[1], trained)])
    optimizer.apply_gradients([(g[2], frozen), (g[3], trained)])
    optimizer.apply_gradients([(g[4], trained)])  # the first weight is frozen now
    # reference: the first weight stays in the list (on a throwaway copy) for the last step
    frozen_ref, trained_ref = np.zeros((3, 2)), np.zeros((3, 2))
    reference = make()
    reference.apply_gradients([(g[0], frozen_ref), (g[1], trained_ref)])
    reference.apply_gradients([(g[2], frozen_ref), (g[3], trained_ref)])
    reference.apply_gradients([(np.zeros((3, 2)), frozen_ref.copy()), (g[4], trained_ref)])
    assert_close(trained, trained_ref, rtol=1e-12, atol=1e-12, what="the weight that stayed trainable")
    assert_close(frozen, frozen_ref, rtol=1e-12, atol=1e-12, what="the frozen weight is left alone")
