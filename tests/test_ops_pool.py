"""faltung.ops.pool: fast path == reference loops, both == PyTorch (test-only), gradient routing rules."""
import numpy as np
import pytest

from faltung import config
from faltung.ops import pool as pool_ops
from tests.gradcheck import assert_close

# (x shape, pool, strides, padding); comments name the fast path taken
POOL_CASES = [
    ((2, 8, 6, 3), (2, 2), (2, 2), "valid"),   # windows tile the input: reshape path
    ((2, 6, 9, 2), (2, 3), (2, 3), "valid"),   # non-square windows tiling the input: reshape path
    ((2, 7, 5, 3), (2, 2), (2, 2), "valid"),   # tiles, last row/column dropped
    ((2, 7, 5, 2), (2, 2), (2, 2), "same"),    # padded bottom/right
    ((1, 9, 8, 3), (3, 3), (2, 2), "valid"),   # overlapping windows
    ((2, 7, 7, 2), (3, 2), (1, 3), "same"),    # non-square, asymmetric padding
    ((1, 10, 9, 2), (2, 3), (3, 3), "valid"),  # stride 3 > pool: cells skipped
    ((2, 5, 6, 2), (3, 3), (3, 3), "same"),    # stride == pool but padded
]

OPS = {"max": (pool_ops.max_pool2d_forward, pool_ops.max_pool2d_backward),
       "avg": (pool_ops.avg_pool2d_forward, pool_ops.avg_pool2d_backward)}


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _run(kind, x, pool, strides, padding, dy_seed=1):
    forward, backward = OPS[kind]
    y, cache = forward(x, pool, strides, padding)
    dy = _random(y.shape, dy_seed).astype(y.dtype)
    return y, backward(dy, cache), dy


@pytest.fixture(params=[True, False], ids=["fused", "numpy"])
def fused(request, monkeypatch):
    """Run a test on max pooling's Numba kernels and on its NumPy fast path."""
    monkeypatch.setattr(pool_ops, "FUSED", request.param)
    return request.param


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("x_shape, pool, strides, padding", POOL_CASES)
def test_fast_path_equals_reference(kind, x_shape, pool, strides, padding, fused):
    x = _random(x_shape, 3)
    y, dx, _ = _run(kind, x, pool, strides, padding)
    with config.use_implementation("reference"):
        y_ref, dx_ref, _ = _run(kind, x, pool, strides, padding)
    assert_close(y, y_ref, rtol=1e-12, atol=1e-14, what="y")
    assert_close(dx, dx_ref, rtol=1e-12, atol=1e-14, what="dx")


def _tf_pads(in_hw, pool, strides, padding):
    if padding == "valid":
        return (0, 0), (0, 0)
    pads = []
    for n, k, s in zip(in_hw, pool, strides):
        total = max((int(np.ceil(n / s)) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _torch_pool(kind, x, pool, strides, padding, dy):
    """PyTorch pooling on TensorFlow's padding: -inf cells for max; for avg the window sum
    divided by the number of real cells (both computed by torch's avg_pool2d with divisor 1)."""
    import torch
    import torch.nn.functional as F
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    (top, bottom), (left, right) = _tf_pads(x.shape[1:3], pool, strides, padding)
    lrtb = (left, right, top, bottom)
    if kind == "max":
        yt = F.max_pool2d(F.pad(xt, lrtb, value=-np.inf), pool, strides)
    else:
        sums = F.avg_pool2d(F.pad(xt, lrtb), pool, strides, divisor_override=1)
        ones = torch.ones((1, 1) + x.shape[1:3], dtype=xt.dtype)
        yt = sums / F.avg_pool2d(F.pad(ones, lrtb), pool, strides, divisor_override=1)
    yt.backward(torch.tensor(dy.transpose(0, 3, 1, 2)))
    return yt.detach().numpy().transpose(0, 2, 3, 1), xt.grad.numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize("implementation", ["fast", "reference"])
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("x_shape, pool, strides, padding", POOL_CASES)
def test_matches_pytorch(implementation, kind, x_shape, pool, strides, padding):
    x = _random(x_shape, 4)
    with config.use_implementation(implementation):
        y, dx, dy = _run(kind, x, pool, strides, padding)
    y_t, dx_t = _torch_pool(kind, x, pool, strides, padding, dy)
    assert_close(y, y_t, rtol=1e-5, atol=1e-12, what="y")
    assert_close(dx, dx_t, rtol=1e-5, atol=1e-12, what="dx")


def test_plain_avg_pool_matches_pytorch_count_include_pad_false():
    # symmetric padding case, checked against torch's own padded avg_pool2d
    import torch
    import torch.nn.functional as F
    x = _random((2, 5, 5, 3), 9)  # 3x3 pool, stride 1, "same" pads (1, 1) on both axes
    y, _ = pool_ops.avg_pool2d_forward(x, (3, 3), (1, 1), "same")
    y_t = F.avg_pool2d(torch.tensor(x.transpose(0, 3, 1, 2)), 3, 1, padding=1, count_include_pad=False)
    assert_close(y, y_t.numpy().transpose(0, 2, 3, 1), rtol=1e-12, what="y")


@pytest.mark.parametrize("implementation", ["fast", "reference"])
def test_max_gradient_goes_to_the_first_maximum_only(implementation, fused):
    # after a ReLU whole windows are 0: the gradient must not be copied to every tied cell
    x = np.zeros((1, 4, 4, 1))
    x[0, 2, 3, 0] = x[0, 3, 2, 0] = 5.0  # two equal maxima in the bottom-right window
    dy = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 2, 2, 1)
    with config.use_implementation(implementation):
        _, cache = pool_ops.max_pool2d_forward(x, (2, 2), (2, 2), "valid")
        dx = pool_ops.max_pool2d_backward(dy, cache)[0, :, :, 0]
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 3] = 1, 2, 3, 4
    assert np.array_equal(dx, expected)


@pytest.mark.parametrize("implementation", ["fast", "reference"])
def test_avg_gradient_is_spread_evenly_over_real_cells(implementation):
    x = np.zeros((1, 3, 3, 1))
    with config.use_implementation(implementation):
        y, cache = pool_ops.avg_pool2d_forward(x, (2, 2), (2, 2), "same")  # pads (0, 1) each axis
        dx = pool_ops.avg_pool2d_backward(np.ones(y.shape), cache)[0, :, :, 0]
    # windows cover 4, 2, 2 and 1 real cells
    assert np.allclose(dx, [[1 / 4, 1 / 4, 1 / 2], [1 / 4, 1 / 4, 1 / 2], [1 / 2, 1 / 2, 1]])


@pytest.mark.parametrize("implementation", ["fast", "reference"])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_float32_in_float32_out(implementation, kind, fused):
    x = _random((2, 7, 6, 3), 1).astype(np.float32)
    with config.use_implementation(implementation):
        for pool, strides, padding in (((2, 2), (2, 2), "valid"), ((3, 3), (2, 2), "same")):
            y, dx, _ = _run(kind, x, pool, strides, padding)
            assert y.dtype == np.float32 and dx.dtype == np.float32


def test_pool_errors_name_the_op():
    with pytest.raises(ValueError, match=r"max_pool2d: expected input of rank 4"):
        pool_ops.max_pool2d_forward(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match=r"avg_pool2d: expected an input of at least the pool size"):
        pool_ops.avg_pool2d_forward(np.zeros((1, 1, 4, 3)), (2, 2))


def test_fused_max_pool_takes_the_numba_kernels(monkeypatch):
    from faltung.ops import pool_fused
    calls = []
    original = pool_fused.max_forward
    monkeypatch.setattr(pool_fused, "max_forward", lambda *args: calls.append(1) or original(*args))
    x = _random((2, 4, 4, 3), 0).astype(np.float32)
    y, cache = pool_ops.max_pool2d_forward(x, (2, 2), (2, 2), "valid")
    assert calls and cache[0] == "fused" and cache[1].dtype == np.uint8
    with config.use_implementation("reference"):
        y_ref, _ = pool_ops.max_pool2d_forward(x, (2, 2), (2, 2), "valid")
    assert np.array_equal(y, y_ref)


def test_max_pool_propagates_nan_like_numpy(fused):
    x = np.zeros((1, 4, 4, 2), np.float32)
    x[0, 1, 1, 0] = np.nan  # second cell of the first window, channel 0
    x[0, 0, 0, 1] = np.nan  # first cell, channel 1
    y, _ = pool_ops.max_pool2d_forward(x, (2, 2), (2, 2), "valid")
    assert np.isnan(y[0, 0, 0, 0]) and np.isnan(y[0, 0, 0, 1])
    assert not np.isnan(y[0, 1, 1]).any()
