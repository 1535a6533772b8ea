"""Winograd F(2x2, 3x3) and F(4x4, 3x3) against the loop reference (faltung.ops.reference) and PyTorch.

float64: both tile sizes are exact algebra, so they must agree with the reference to 1e-10
(rounding alone gives ~1e-15).

float32: Winograd changes the order of the additions and, for F(4x4), multiplies by up to 8 and
divides by 24 in the transforms, which amplifies rounding. A direct float32 convolution with
K = 9*C terms has a relative error around eps32 * sqrt(K) ~ 1e-6 for these shapes. We accept
max|y - y_ref| <= 1e-5 * max|y_ref| for F(2x2) (measured ~2e-7: its matrices hold only 0, +-1, 1/2)
and 1e-4 * max|y_ref| for F(4x4) (measured ~2e-6, about 10x worse, as Lavin & Gray report).
"""
import numpy as np
import pytest
import torch

from faltung.ops import reference, winograd
from faltung.ops.chunks import batch_chunks

SHAPES = [  # (N, H, W, C, K): odd and even sizes, one channel, several channels
    (1, 5, 5, 1, 1),
    (2, 7, 6, 3, 4),
    (3, 9, 8, 5, 2),
    (2, 4, 11, 4, 6),
]
PADS = {"same": (1, 1, 1, 1), "valid": (0, 0, 0, 0), "full": (2, 2, 2, 2), "uneven": (0, 2, 1, 0)}


def _reference(x, w, pads):
    top, bottom, left, right = pads
    y, _ = reference.conv_forward(x, w, ((top, bottom), (left, right)), (1, 1), (1, 1))
    return y


def _operands(shape, dtype, seed):
    n, h, wd, c, k = shape
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, h, wd, c)).astype(dtype),
            rng.standard_normal((3, 3, c, k)).astype(dtype))


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("pad_name", sorted(PADS))
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_float64_equals_reference(m, pad_name, shape):
    x, w = _operands(shape, np.float64, seed=sum(shape) + m)
    y = winograd.conv2d_3x3(x, w, PADS[pad_name], m=m)
    expected = _reference(x, w, PADS[pad_name])
    assert y.dtype == np.float64 and y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-10 * np.abs(expected).max())


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("pad_name", ["same", "valid", "uneven"])
def test_backward_input_float64_equals_reference(m, pad_name):
    x, w = _operands((2, 7, 9, 3, 5), np.float64, seed=7 + m)
    (top, bottom, left, right) = PADS[pad_name]
    pads = ((top, bottom), (left, right))
    y, _ = reference.conv_forward(x, w, pads, (1, 1), (1, 1))
    dy = np.random.default_rng(1).standard_normal(y.shape)
    dx = winograd.conv2d_3x3_backward_input(dy, w, PADS[pad_name], m=m)
    expected = reference.conv_data_grad(dy, w, x.shape, pads, (1, 1), (1, 1))
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, expected, rtol=0, atol=1e-10 * np.abs(expected).max())


def test_backward_input_is_the_adjoint_of_the_forward():
    # <conv(x), dy> == <x, conv_backward_input(dy)> for any x, dy (definition of the gradient)
    x, w = _operands((2, 6, 7, 4, 3), np.float64, seed=3)
    y = winograd.conv2d_3x3(x, w, (1, 1, 1, 1))
    dy = np.random.default_rng(4).standard_normal(y.shape)
    dx = winograd.conv2d_3x3_backward_input(dy, w, (1, 1, 1, 1))
    assert np.isclose(np.sum(y * dy), np.sum(x * dx), rtol=1e-12)


@pytest.mark.parametrize("m, tolerance", [(2, 1e-5), (4, 1e-4)])
def test_forward_float32_within_tolerance_of_pytorch(m, tolerance):
    x, w = _operands((4, 14, 13, 32, 16), np.float32, seed=11)
    y = winograd.conv2d_3x3(x, w, PADS["same"], m=m)
    assert y.dtype == np.float32  # no promotion to float64
    xt = torch.from_numpy(x.astype(np.float64)).permute(0, 3, 1, 2)
    wt = torch.from_numpy(w.astype(np.float64)).permute(3, 2, 0, 1)
    expected = torch.nn.functional.conv2d(xt, wt, padding=1).permute(0, 2, 3, 1).numpy()
    err = np.abs(y - expected).max() / np.abs(expected).max()
    assert err <= tolerance, f"F({m}x{m}, 3x3) float32 relative error {err:.2e} > {tolerance}"


def test_filter_transform_matches_the_formula():
    # U = G g G^T for one (c, k) pair, written out with the matrices themselves
    _, w = _operands((1, 1, 1, 2, 3), np.float64, seed=5)
    for m in (2, 4):
        _, G, _ = winograd.MATRICES[m]
        u = winograd.filter_transform(w, m).reshape(m + 2, m + 2, 2, 3)
        np.testing.assert_allclose(u[:, :, 1, 2], G @ w[:, :, 1, 2] @ G.T, rtol=1e-13)


def test_bad_input_raises_clear_errors():
    x, w = _operands((1, 5, 5, 2, 3), np.float32, seed=0)
    with pytest.raises(ValueError, match="rank 4"):
        winograd.conv2d_3x3(x[0], w)
    with pytest.raises(ValueError, match=r"kernel of shape \(3, 3, 2, K\)"):
        winograd.conv2d_3x3(x, np.zeros((5, 5, 2, 3), np.float32))
    with pytest.raises(ValueError, match="pads"):
        winograd.conv2d_3x3(x, w, pads=(3, 0, 0, 0))
    with pytest.raises(ValueError, match="tile size"):
        winograd.conv2d_3x3(x, w, m=3)
    with pytest.raises(ValueError, match="one dtype"):
        winograd.conv2d_3x3(x, w.astype(np.float64))


def test_batch_chunks_give_the_same_result(monkeypatch):
    # a tiny chunk size forces one image per chunk; the result must not change
    x, w = _operands((5, 6, 7, 3, 4), np.float64, seed=9)
    whole = winograd.conv2d_3x3(x, w, PADS["same"], m=4)
    monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
    chunked = winograd.conv2d_3x3(x, w, PADS["same"], m=4)
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-12 * np.abs(whole).max())
    np.testing.assert_allclose(chunked, _reference(x, w, PADS["same"]), rtol=0, atol=1e-10 * np.abs(whole).max())


# ---- the dispatch in faltung.ops.conv: which convolutions go the Winograd way ----------------
def _count_winograd_calls(monkeypatch, function="conv2d_3x3"):
    calls = []
    original = getattr(winograd, function)

    def counting(*args, **kwargs):
        calls.append(args[0].shape if function == "conv2d_3x3" else type(args[0]).__name__)
        return original(*args, **kwargs)
    monkeypatch.setattr(winograd, function, counting)
    return calls


def _conv_both_ways(x, w, b, padding, dy_seed=1):
    """(y, dx, dw, db) on the fast kernels and on the reference loops."""
    from faltung import config
    from faltung.ops import conv as conv_ops
    results = []
    for implementation in ("fast", "reference"):
        with config.use_implementation(implementation):
            y, cache = conv_ops.conv2d_forward(x, w, b, (1, 1), padding)
            dy = np.random.default_rng(dy_seed).standard_normal(y.shape).astype(y.dtype)
            results.append((y,) + conv_ops.conv2d_backward(dy, cache))
    return results


@pytest.mark.parametrize("winograd_forward", [False, True])
@pytest.mark.parametrize("chunk_bytes", [1, 1 << 30], ids=["chunked-im2col", "whole-im2col"])
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("channels", [(16, 16), (17, 20), (24, 16)])
def test_conv2d_ops_take_winograd_and_match_the_reference(padding, channels, chunk_bytes,
                                                          winograd_forward, monkeypatch):
    from faltung.ops import conv as conv_ops
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", chunk_bytes)  # 1: one image per chunk
    monkeypatch.setattr(conv_ops, "WINOGRAD_FORWARD", winograd_forward)
    calls = _count_winograd_calls(monkeypatch)
    backward_calls = _count_winograd_calls(monkeypatch, "backward")
    c, f = channels
    rng = np.random.default_rng(c + f)
    x, w, b = rng.standard_normal((3, 7, 6, c)), rng.standard_normal((3, 3, c, f)), rng.standard_normal(f)
    fast, reference_result = _conv_both_ways(x, w, b, padding)
    # dX always goes the Winograd way: with WINOGRAD_FORWARD back through the forward's stages
    # (``winograd.backward``, both gradients at once), else as the full convolution of dY
    assert [shape[-1] for shape in calls] == ([c] if winograd_forward else [f])
    assert backward_calls == (["Transformed"] if winograd_forward else [])
    for name, a, r in zip(("y", "dx", "dw", "db"), fast, reference_result):
        assert a.shape == r.shape, name
        np.testing.assert_allclose(a, r, rtol=0, atol=1e-10 * np.abs(r).max(), err_msg=name)


def test_conv2d_ops_keep_im2col_below_the_channel_threshold(monkeypatch):
    from faltung.ops import conv as conv_ops
    monkeypatch.setattr(conv_ops, "WINOGRAD_FORWARD", True)
    calls = _count_winograd_calls(monkeypatch)
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 6, 6, 3)), rng.standard_normal((3, 3, 3, 32))
    fast, reference_result = _conv_both_ways(x, w, None, "same")
    assert calls == []
    for name, a, r in zip(("y", "dx", "dw"), fast, reference_result):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-12, err_msg=name)


def test_conv2d_transpose_stride1_3x3_takes_winograd_and_matches_the_reference():
    from faltung import config
    from faltung.ops import conv_transpose as conv_transpose_ops
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 5, 6, 16)), rng.standard_normal((3, 3, 18, 16))  # (kh, kw, F, C)
    results = []
    for implementation in ("fast", "reference"):
        with config.use_implementation(implementation):
            y, cache = conv_transpose_ops.conv2d_transpose_forward(x, w, None, (1, 1), "valid")
            dy = np.random.default_rng(6).standard_normal(y.shape)
            results.append((y,) + conv_transpose_ops.conv2d_transpose_backward(dy, cache)[:2])
    for name, a, r in zip(("y", "dx", "dw"), *results):
        np.testing.assert_allclose(a, r, rtol=0, atol=1e-10 * np.abs(r).max(), err_msg=name)


@pytest.mark.parametrize("winograd_forward", [False, True])
def test_conv2d_ops_winograd_float32_stays_float32_and_close(winograd_forward, monkeypatch):
    from faltung import config
    from faltung.ops import conv as conv_ops
    monkeypatch.setattr(conv_ops, "WINOGRAD_FORWARD", winograd_forward)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 8, 8, 32)).astype(np.float32)
    w = (rng.standard_normal((3, 3, 32, 32)) / 17).astype(np.float32)
    y, cache = conv_ops.conv2d_forward(x, w, None, (1, 1), "same")
    dx, dw, _ = conv_ops.conv2d_backward(np.ones_like(y), cache)
    assert y.dtype == dx.dtype == dw.dtype == np.float32
    with config.use_implementation("reference"):
        y64, cache64 = conv_ops.conv2d_forward(x.astype(np.float64), w.astype(np.float64), None, (1, 1), "same")
        dx64, dw64, _ = conv_ops.conv2d_backward(np.ones(y64.shape), cache64)
    for name, a, r in (("y", y, y64), ("dx", dx, dx64), ("dw", dw, dw64)):
        err = np.abs(a - r).max() / np.abs(r).max()
        assert err <= 1e-4, f"{name}: float32 relative error {err:.2e}"  # F(4x4) tolerance, see top


@pytest.mark.parametrize("n, per_chunk, expected", [
    (7, 3, [(0, 2), (2, 4), (4, 7)]),            # three chunks of 2-3 images, not 3, 3, 1
    (128, 56, [(0, 42), (42, 85), (85, 128)]),
    (5, 5, [(0, 5)]), (5, 100, [(0, 5)]), (3, 0, [(0, 1), (1, 2), (2, 3)])])
def test_chunks_share_the_images_evenly(n, per_chunk, expected, monkeypatch):
    per_image = 36 * 4 * 8 * 4  # alpha^2 * tiles * channels * float32 bytes
    assert batch_chunks(n, per_image, per_chunk * per_image) == expected
    monkeypatch.setattr(winograd, "CHUNK_BYTES", per_chunk * per_image)
    assert winograd._chunks(n, 4, 2, 2, 8, 4) == expected
    assert max(stop - start for start, stop in expected) <= max(per_chunk, 1)
