"""How ``jit.run`` runs the Numba kernels: on Numba's threads, or as their serial twins on the caller's
thread for small arrays or one thread, with the same bits either way."""
import numpy as np
import pytest

import faltung
from faltung import layers
from faltung.ops import epilogue, epilogue_fused, jit, winograd, winograd_blocks


def _spy_set_num_threads(monkeypatch):
    seen = []
    original = jit.numba.set_num_threads
    monkeypatch.setattr(jit.numba, "set_num_threads", lambda count: seen.append(count) or original(count))
    return seen


def test_small_arrays_run_on_the_serial_twin_large_ones_on_the_threads(monkeypatch):
    seen = _spy_set_num_threads(monkeypatch)
    monkeypatch.setattr(jit, "THREADS", 2)
    y = np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32)  # 8 KB
    bias = np.arange(32, dtype=np.float32)
    expected = np.maximum(y + bias, 0)
    monkeypatch.setattr(jit, "SERIAL_MAX_BYTES", y.nbytes + bias.nbytes + 1)
    small = y.copy()
    jit.run(epilogue_fused.bias_relu, small, bias, True)
    assert seen == [] and epilogue_fused.bias_relu in jit._SERIAL
    monkeypatch.setattr(jit, "SERIAL_MAX_BYTES", y.nbytes + bias.nbytes)  # not fewer bytes: threads
    large = y.copy()
    jit.run(epilogue_fused.bias_relu, large, bias, True)
    assert seen == [2]
    np.testing.assert_array_equal(small, expected)
    np.testing.assert_array_equal(large, expected)


def test_one_thread_runs_the_serial_twin_and_blas_kernels_are_never_too_small(monkeypatch):
    seen = _spy_set_num_threads(monkeypatch)
    monkeypatch.setattr(jit, "SERIAL_MAX_BYTES", 1 << 40)
    rng = np.random.default_rng(1)
    x, u = rng.standard_normal((1, 4, 4, 2)), rng.standard_normal((36, 2, 3))
    y, no_v = np.empty((1, 4, 4, 3)), np.empty((36, 0, 2))
    args = (x, 1, 1, u, np.zeros(3), False, 1, 1, 32, y, no_v)
    jit.run(winograd_blocks.conv_blocks, *args, num_threads=2, blas_inside=True)  # bound by arithmetic
    assert seen == [2]
    jit.run(winograd_blocks.conv_blocks, *args, num_threads=1, blas_inside=True)
    assert seen == [2] and winograd_blocks.conv_blocks in jit._SERIAL


def test_the_twin_is_a_separate_compilation_with_its_own_cache_name():
    twin = jit.serial_twin(epilogue_fused.activation_backward)
    assert twin is jit.serial_twin(epilogue_fused.activation_backward)  # compiled once
    assert twin is not epilogue_fused.activation_backward
    assert twin.py_func.__qualname__ == "activation_backward_serial"
    assert twin.py_func.__code__ is epilogue_fused.activation_backward.py_func.__code__  # the same loops
    assert not twin.targetoptions.get("parallel")
    options = dict(epilogue_fused.activation_backward.targetoptions)
    del options["parallel"]
    assert twin.targetoptions == options  # the kernel's other options kept
    assert epilogue_fused.activation_backward.targetoptions.get("parallel")


def _train_two_steps(serial_max_bytes, monkeypatch):
    """A small CNN through every kind of kernel: bias + ReLU, the activation backward (ReLU, tanh),
    Winograd (blocked or in stages), col2im, max pooling forward and backward, Adam's update."""
    monkeypatch.setattr(jit, "SERIAL_MAX_BYTES", serial_max_bytes)
    monkeypatch.setattr(jit, "THREADS", 2)
    monkeypatch.setattr(epilogue, "FUSED_MIN_SIZE", 0)
    faltung.utils.set_random_seed(3)
    model = faltung.models.Sequential([
        layers.Input((12, 12, 3)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.Conv2D(16, 3, padding="same", activation="relu"),   # Winograd
        layers.MaxPooling2D(2),
        layers.Conv2D(24, 5, padding="same", activation="tanh"),   # dX: one GEMM + col2im
        layers.MaxPooling2D(3, strides=2),                         # overlapping windows
        layers.Flatten(),
        layers.Dense(10),
    ])
    model.compile(optimizer="adam", loss=faltung.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(4)
    x, y = rng.random((6, 12, 12, 3), dtype=np.float32), rng.integers(0, 10, 6)
    losses = [model.train_on_batch(x, y) for _ in range(2)]
    return losses, model.get_weights(), model.predict_on_batch(x)


@pytest.mark.parametrize("blocked", [True, False], ids=["winograd-blocks", "winograd-stages"])
def test_serial_twins_give_bitwise_the_numbers_of_the_threaded_kernels(blocked, monkeypatch):
    if not blocked:
        monkeypatch.setattr(winograd, "BLOCKED_MAX_FILTER_BYTES", 0)
    used = []
    serial_twin = jit.serial_twin
    monkeypatch.setattr(jit, "serial_twin", lambda kernel: used.append(kernel.__name__) or serial_twin(kernel))
    threaded = _train_two_steps(0, monkeypatch)
    assert used == []
    serial = _train_two_steps(1 << 40, monkeypatch)
    expected = {"bias_relu", "activation_backward", "col2im", "max_forward", "max_backward", "adam_update"}
    expected |= set() if blocked else {"input_transform", "output_transform", "output_grad_transform",
                                       "input_grad_transform"}
    assert set(used) == expected
    assert serial[0] == threaded[0]
    for a, b in zip(serial[1] + [serial[2]], threaded[1] + [threaded[2]]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_serial_twins_of_the_blocked_kernels_give_the_same_bits(dtype):
    """The blocked Winograd kernels keep a fixed split into parts (one dU and db partial sum each), so
    one thread and two give the same numbers (the backward here through a ReLU)."""
    rng = np.random.default_rng(5)
    n, h, w, c, k, th, tw = 3, 8, 7, 5, 6, 2, 2
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    u = rng.standard_normal((36, c, k)).astype(dtype)
    bias = rng.standard_normal(k).astype(dtype)
    outputs = []
    for threads in (2, 1):
        y, v = np.empty((n, h, w, k), dtype), np.empty((36, n * th * tw, c), dtype)
        jit.run(winograd_blocks.conv_blocks, x, 1, 1, u, bias, True, th, tw, 7, y, v, num_threads=threads,
                blas_inside=True)
        dy = np.ascontiguousarray(y[::-1])
        du, dx, db = np.empty((2, 36, c, k), dtype), np.empty_like(x), np.empty((2, k), dtype)
        jit.run(winograd_blocks.backward_blocks, x, 1, 1, dy, np.ascontiguousarray(u.transpose(0, 2, 1)),
                th, tw, 7, du, dx, True, np.empty((36, 0, c), dtype), np.maximum(dy, 0), db,
                num_threads=threads, blas_inside=True)
        outputs.append((y, v, du, dx, db))
    for a, b in zip(*outputs):
        np.testing.assert_array_equal(a, b)


_THREADS_PROBE = """
import os, sys, numpy as np, numba
from faltung.ops import epilogue_fused, jit
jit.THREADS, jit.SERIAL_MAX_BYTES = 2, 0                 # the kernel runs on Numba's threads
bias = np.arange(8, dtype=np.float32) - 4
def relu_rows(seed):
    y = np.random.default_rng(seed).standard_normal((256, 8)).astype(np.float32)
    expected = np.maximum(y + bias, 0)
    jit.run(epilogue_fused.bias_relu, y, bias, True)
    return bool(np.array_equal(y, expected))
ok = relu_rows(0)
print(numba.threading_layer(), os.environ.get("GOMP_SPINCOUNT"), ok, flush=True)
pid = os.fork()
if pid == 0:                                              # GNU OpenMP would terminate this child
    print("child", jit.thread_count(), relu_rows(1), flush=True)
    os._exit(0)
print("child exit", os.waitpid(pid, 0)[1], flush=True)
"""


def _probe(script, env, unset):
    """The lines ``script`` prints in a fresh Python, with ``unset`` removed from the environment and
    ``env`` added (settings read only when Numba or libgomp start)."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k not in unset} | env
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.split("\n")


def _threads_probe(env):
    return _probe(_THREADS_PROBE, env, ("NUMBA_THREADING_LAYER", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY"))


def test_kernels_run_on_openmp_threads_that_leave_no_setting_to_children_and_survive_a_fork():
    """libgomp (GCC's runtime) is there: the OpenMP layer, GOMP_SPINCOUNT gone again after its start,
    and a forked child runs the kernels serially instead of being terminated."""
    parent, child, status, _ = _threads_probe({})
    assert parent == "omp None True"
    assert child == "child 1 True" and status == "child exit 0"


def test_a_users_threading_choices_are_kept():
    parent, child, status, _ = _threads_probe({"NUMBA_THREADING_LAYER": "workqueue", "GOMP_SPINCOUNT": "1000"})
    assert parent == "workqueue 1000 True"
    assert child == "child 1 True" and status == "child exit 0"


_VECTORS_PROBE = """
import numba, numpy as np
from faltung.ops import jit
@numba.njit
def axpy(a, x, y):
    for i in range(x.shape[0]):
        y[i] += a * x[i]
x = np.ones(64, np.float32)
axpy(np.float32(2), x, x)
asm = "".join(axpy.inspect_asm().values())
print(repr(numba.config.CPU_FEATURES), "zmm" in asm, flush=True)
"""


def _vectors_probe(env):
    unset = ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "FALTUNG_WIDE_VECTORS")
    features, zmm = _probe(_VECTORS_PROBE, env, unset)[0].split()
    return features, zmm == "True"


def test_kernels_use_512_bit_vectors_where_the_cpu_has_avx512():
    """On an AVX-512 CPU the kernels are compiled without LLVM's preference for 256-bit vectors
    (zmm registers in the code); elsewhere Numba's own choice is left alone."""
    from numba.core.codegen import get_host_cpu_features
    features, zmm = _vectors_probe({})
    if "+avx512f" in get_host_cpu_features().split(","):
        assert features.endswith(",-prefer-256-bit'") and zmm
        assert features == repr(jit.wide_vector_features())
    else:
        assert features == "None" and jit.wide_vector_features() is None


def test_a_users_cpu_choice_or_faltung_wide_vectors_0_leaves_llvm_alone():
    assert _vectors_probe({"FALTUNG_WIDE_VECTORS": "0"})[0] == "None"
    features, zmm = _vectors_probe({"NUMBA_CPU_NAME": "generic"})
    assert "prefer-256-bit" not in features and not zmm
