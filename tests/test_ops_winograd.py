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
