"""faltung.ops.conv: fast path == reference loops, both == PyTorch (test-only reference), float32 stays float32."""
import numpy as np
import pytest

from faltung import config
from faltung.ops import conv as conv_ops
from faltung.ops import conv_transpose as conv_transpose_ops
from faltung.ops import im2col as im2col_ops
from tests.gradcheck import assert_close

# (x shape, kernel (kh, kw, C, F), strides, padding, dilation); the comments name the fast path taken
CONV_CASES = [
    ((2, 7, 6, 3), (3, 2, 3, 4), (2, 3), "same", (1, 1)),    # im2col; dx per kernel offset (stride > 1), odd sizes
    ((2, 8, 8, 6), (3, 3, 6, 3), (1, 1), "same", (1, 1)),    # dx as full_conv(dY, rot180(W)) (2F <= C)
    ((2, 8, 8, 4), (3, 3, 4, 4), (1, 1), "same", (1, 1)),    # dx per kernel offset (stride 1, F = C)
    ((1, 9, 7, 2), (3, 3, 2, 5), (1, 1), "valid", (2, 1)),   # dilation
    ((2, 10, 9, 3), (2, 3, 3, 2), (3, 3), "valid", (1, 1)),  # stride 3, windows skip cells
    ((2, 9, 9, 5), (3, 3, 5, 2), (1, 1), "same", (2, 2)),    # dilated full_conv path
    ((2, 5, 6, 4), (1, 1, 4, 3), (1, 1), "valid", (1, 1)),   # 1x1 stride 1: plain matmul
    ((2, 5, 6, 4), (1, 1, 4, 3), (2, 2), "same", (1, 1)),    # 1x1 with stride: im2col of one offset
    ((1, 4, 4, 1), (4, 4, 1, 2), (1, 1), "valid", (1, 1)),   # kernel as large as the input
    ((2, 9, 8, 2), (3, 2, 2, 3), (2, 2), "same", (2, 3)),    # stride and dilation together
]

TRANSPOSE_CASES = [  # (x shape, kernel (kh, kw, F, C), strides, padding, output_padding, dilation)
    ((2, 4, 3, 5), (3, 3, 2, 5), (2, 2), "valid", None, (1, 1)),
    ((2, 4, 3, 3), (3, 2, 4, 3), (2, 3), "same", None, (1, 1)),
    ((1, 3, 4, 2), (3, 3, 2, 2), (2, 2), "same", (1, 1), (1, 1)),
    ((2, 3, 3, 2), (2, 2, 3, 2), (3, 3), "valid", (2, 1), (1, 1)),
    ((1, 5, 4, 3), (3, 3, 2, 3), (1, 1), "same", None, (2, 1)),
    ((2, 4, 5, 2), (3, 2, 5, 2), (1, 1), "valid", None, (1, 1)),  # forward via full_conv (2C <= F)
    ((2, 4, 4, 3), (1, 1, 2, 3), (1, 1), "valid", None, (1, 1)),
    ((1, 3, 4, 2), (2, 3, 3, 2), (2, 2), "valid", None, (2, 2)),
    ((1, 4, 3, 2), (4, 4, 2, 2), (2, 2), "same", (1, 1), (1, 1)),  # even kernel: pads (1, 2)
]


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _run_conv(x, w, b, strides, padding, dilation, dy_seed=1):
    y, cache = conv_ops.conv2d_forward(x, w, b, strides, padding, dilation)
    dy = _random(y.shape, dy_seed).astype(y.dtype)
    return (y,) + conv_ops.conv2d_backward(dy, cache)


def _run_transpose(x, w, b, strides, padding, output_padding, dilation, dy_seed=1):
    y, cache = conv_transpose_ops.conv2d_transpose_forward(x, w, b, strides, padding, output_padding, dilation)
    dy = _random(y.shape, dy_seed).astype(y.dtype)
    return (y,) + conv_transpose_ops.conv2d_transpose_backward(dy, cache)


# ---- fast == reference -----------------------------------------------------------------------
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation", CONV_CASES)
def test_conv_fast_path_equals_reference(x_shape, w_shape, strides, padding, dilation):
    x, w, b = _random(x_shape, 2), _random(w_shape, 3), _random(w_shape[3], 4)
    fast = _run_conv(x, w, b, strides, padding, dilation)
    with config.use_implementation("reference"):
        reference = _run_conv(x, w, b, strides, padding, dilation)
    for name, f, r in zip(("y", "dx", "dw", "db"), fast, reference):
        assert_close(f, r, rtol=1e-10, atol=1e-12, what=name)


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilation", TRANSPOSE_CASES)
def test_transpose_fast_path_equals_reference(x_shape, w_shape, strides, padding, output_padding, dilation):
    x, w, b = _random(x_shape, 2), _random(w_shape, 3), _random(w_shape[2], 4)
    fast = _run_transpose(x, w, b, strides, padding, output_padding, dilation)
    with config.use_implementation("reference"):
        reference = _run_transpose(x, w, b, strides, padding, output_padding, dilation)
    for name, f, r in zip(("y", "dx", "dw", "db"), fast, reference):
        assert_close(f, r, rtol=1e-10, atol=1e-12, what=name)


# ---- both == PyTorch ---------------------------------------------------------------------------
def _tf_pads(in_hw, kernel_hw, strides, padding, dilation):
    """TensorFlow's padding, computed here independently: ((top, bottom), (left, right))."""
    if padding == "valid":
        return (0, 0), (0, 0)
    pads = []
    for n, k, s, d in zip(in_hw, kernel_hw, strides, dilation):
        out = int(np.ceil(n / s))
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _torch_conv(x, w, b, strides, padding, dilation, dy):
    import torch
    import torch.nn.functional as F
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    wt = torch.tensor(w.transpose(3, 2, 0, 1), requires_grad=True)   # (F, C, kh, kw)
    bt = torch.tensor(b, requires_grad=True)
    (top, bottom), (left, right) = _tf_pads(x.shape[1:3], w.shape[:2], strides, padding, dilation)
    yt = F.conv2d(F.pad(xt, (left, right, top, bottom)), wt, bt, stride=strides, dilation=dilation)
    yt.backward(torch.tensor(dy.transpose(0, 3, 1, 2)))
    return (yt.detach().numpy().transpose(0, 2, 3, 1), xt.grad.numpy().transpose(0, 2, 3, 1),
            wt.grad.numpy().transpose(2, 3, 1, 0), bt.grad.numpy())


@pytest.mark.parametrize("implementation", ["fast", "reference"])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation", CONV_CASES)
def test_conv_matches_pytorch(implementation, x_shape, w_shape, strides, padding, dilation):
    x, w, b = _random(x_shape, 5), _random(w_shape, 6), _random(w_shape[3], 7)
    with config.use_implementation(implementation):
        y, cache = conv_ops.conv2d_forward(x, w, b, strides, padding, dilation)
        dy = _random(y.shape, 8)
        ours = (y,) + conv_ops.conv2d_backward(dy, cache)
    theirs = _torch_conv(x, w, b, strides, padding, dilation, dy)
    for name, a, t in zip(("y", "dx", "dw", "db"), ours, theirs):
        assert_close(a, t, rtol=1e-5, atol=1e-9, what=name)


def _torch_transpose(x, w, b, strides, padding, out_hw, dilation, dy):
    """PyTorch's full transposed convolution, then TensorFlow's cropping (zero rows past its end)."""
    import torch
    import torch.nn.functional as F
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    wt = torch.tensor(w.transpose(3, 2, 0, 1), requires_grad=True)   # (C_in, F, kh, kw)
    bt = torch.tensor(b, requires_grad=True)
    full = F.conv_transpose2d(xt, wt, stride=strides, dilation=dilation)
    (top, _), (left, _) = _tf_pads(out_hw, w.shape[:2], strides, padding, dilation)
    grow_h = max(top + out_hw[0] - full.shape[2], 0)
    grow_w = max(left + out_hw[1] - full.shape[3], 0)
    yt = F.pad(full, (0, grow_w, 0, grow_h))[:, :, top:top + out_hw[0], left:left + out_hw[1]]
    yt = yt + bt[None, :, None, None]
    yt.backward(torch.tensor(dy.transpose(0, 3, 1, 2)))
    return (yt.detach().numpy().transpose(0, 2, 3, 1), xt.grad.numpy().transpose(0, 2, 3, 1),
            wt.grad.numpy().transpose(2, 3, 1, 0), bt.grad.numpy())


@pytest.mark.parametrize("implementation", ["fast", "reference"])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, output_padding, dilation", TRANSPOSE_CASES)
def test_transpose_matches_pytorch(implementation, x_shape, w_shape, strides, padding, output_padding, dilation):
    x, w, b = _random(x_shape, 5), _random(w_shape, 6), _random(w_shape[2], 7)
    with config.use_implementation(implementation):
        y, cache = conv_transpose_ops.conv2d_transpose_forward(x, w, b, strides, padding, output_padding, dilation)
        dy = _random(y.shape, 8)
        ours = (y,) + conv_transpose_ops.conv2d_transpose_backward(dy, cache)
    theirs = _torch_transpose(x, w, b, strides, padding, y.shape[1:3], dilation, dy)
    for name, a, t in zip(("y", "dx", "dw", "db"), ours, theirs):
        assert_close(a, t, rtol=1e-5, atol=1e-9, what=name)


def test_transpose_output_sizes_follow_keras():
    # valid: H*s + max(k - s, 0); same: H*s; with output_padding p: (H-1)*s + k - 2*(k//2 or 0) + p
    assert conv_transpose_ops.conv2d_transpose_output_hw((4, 5), (3, 3), (2, 2), "valid") == (9, 11)
    assert conv_transpose_ops.conv2d_transpose_output_hw((4, 5), (2, 2), (3, 3), "valid") == (12, 15)
    assert conv_transpose_ops.conv2d_transpose_output_hw((4, 5), (3, 3), (2, 3), "same") == (8, 15)
    assert conv_transpose_ops.conv2d_transpose_output_hw((4, 4), (3, 3), (2, 2), "same", (1, 0)) == (8, 7)
    assert conv_transpose_ops.conv2d_transpose_output_hw((4, 4), (3, 3), (1, 1), "valid", None, (2, 2)) == (8, 8)


# ---- dtype ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("implementation", ["fast", "reference"])
def test_float32_in_float32_out(implementation):
    x = _random((2, 6, 5, 3), 1).astype(np.float32)
    w = _random((3, 3, 3, 4), 2).astype(np.float32)
    b = np.zeros(4, np.float32)
    wt = _random((3, 3, 4, 3), 3).astype(np.float32)
    with config.use_implementation(implementation):
        for strides in ((1, 1), (2, 2)):
            for out in _run_conv(x, w, b, strides, "same", (1, 1)):
                assert out.dtype == np.float32
            for out in _run_transpose(x, wt, b, strides, "same", None, (1, 1)):
                assert out.dtype == np.float32


# ---- the shared helpers ------------------------------------------------------------------------
def test_same_padding_puts_the_odd_row_at_the_bottom():
    assert im2col_ops.same_padding(5, 3, 1) == (1, 1)
    assert im2col_ops.same_padding(4, 3, 2) == (0, 1)   # total (2-1)*2 + 3 - 4 = 1
    assert im2col_ops.same_padding(7, 4, 1) == (1, 2)   # total 3
    assert im2col_ops.same_padding(6, 1, 2) == (0, 0)
    assert im2col_ops.same_padding(9, 3, 1, dilation=2) == (2, 2)  # k_eff = 5
    assert im2col_ops.same_padding(5, 2, 3) == (0, 0)   # (2-1)*3 + 2 - 5 = 0


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> == <x, col2im(c)> for every x and c: col2im is exactly im2colᵀ
    x = _random((2, 7, 6, 3), 1)
    kernel, strides, dilation = (3, 2), (2, 1), (1, 2)
    out_hw = im2col_ops.output_hw(x.shape[1:3], kernel, strides, ((0, 0), (0, 0)), dilation)
    cols = im2col_ops.im2col(x, kernel, out_hw, strides, dilation)
    c = _random(cols.shape, 2)
    back = im2col_ops.col2im(c, x.shape, kernel, out_hw, strides, dilation)
    assert np.isclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)
    # and each im2col row is its window, channels last
    assert np.array_equal(cols[0].reshape(3, 2, 3), x[0, 0:3, 0:3:2, :])


# ---- bad input ------------------------------------------------------------------------------------
def test_op_errors_name_the_op_and_what_was_expected():
    x, w = np.zeros((1, 4, 4, 3)), np.zeros((3, 3, 3, 2))
    with pytest.raises(ValueError, match=r"conv2d: expected input of rank 4 .*got shape \(4, 4, 3\)"):
        conv_ops.conv2d_forward(x[0], w)
    with pytest.raises(ValueError, match=r"conv2d: expected 3 input channels"):
        conv_ops.conv2d_forward(np.zeros((1, 4, 4, 2)), w)
    with pytest.raises(ValueError, match=r"conv2d: expected an input of at least"):
        conv_ops.conv2d_forward(np.zeros((1, 2, 4, 3)), w, padding="valid")
    with pytest.raises(ValueError, match=r"conv2d_transpose: expected 2 input channels"):
        conv_transpose_ops.conv2d_transpose_forward(x, w)
    with pytest.raises(ValueError, match=r"conv2d_transpose: .*output_padding"):
        conv_transpose_ops.conv2d_transpose_forward(np.zeros((1, 4, 4, 2)), w, strides=(2, 2), padding="valid",
                                          output_padding=(3, 3))


def test_workspace_buffers_are_reused_without_changing_results():
    workspace, w = {}, _random((3, 3, 8, 4), 2)
    buffer_ids = []
    for batch in (3, 2, 3):  # a smaller batch reuses the front of the same buffer
        x = _random((batch, 6, 5, 8), batch)
        plain = _run_conv(x, w, None, (1, 1), "same", (1, 1))
        y, cache = conv_ops.conv2d_forward(x, w, None, (1, 1), "same", (1, 1), workspace=workspace)
        dx, dw, _ = conv_ops.conv2d_backward(_random(y.shape, 1), cache)
        for name, a, b in zip(("y", "dx", "dw"), (y, dx, dw), plain):
            assert_close(a, b, rtol=1e-12, atol=1e-12, what=name)
        del cache  # nothing holds this call's im2col matrix any more: the next call may reuse its buffer
        buffer_ids.append({key: id(buffer) for key, (buffer, _) in workspace.items()})
    # im2col of x, and of dy for dx = full_conv(dY, rot180(W)); the same two buffers every time
    assert set(buffer_ids[0]) == {"cols", "dy_cols"}
    assert buffer_ids[0] == buffer_ids[1] == buffer_ids[2]


def test_workspace_never_overwrites_a_live_cache():
    # a layer shared by two nodes of a graph keeps both caches alive until the backward
    workspace, w = {}, _random((3, 3, 2, 3), 1)
    xs = [_random((2, 5, 5, 2), seed) for seed in (2, 3)]
    caches = [conv_ops.conv2d_forward(x, w, None, (2, 2), "same", workspace=workspace)[1] for x in xs]
    for x, cache in zip(xs, caches):
        dy = _random((2, 3, 3, 3), 4)
        expected = _run_conv(x, w, None, (2, 2), "same", (1, 1), dy_seed=4)
        for name, a, b in zip(("dx", "dw"), conv_ops.conv2d_backward(dy, cache)[:2], expected[1:3]):
            assert_close(a, b, rtol=1e-12, atol=1e-12, what=name)
