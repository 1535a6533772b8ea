"""The speed-motivated branches of faltung.ops (chosen by problem size) against the reference loops.

Each branch is forced on small float64 problems, so it is checked however the size thresholds
are tuned: dX from one batched matmul vs one GEMM per kernel offset, dW from saved columns vs
from x in batch chunks, the einsum bias gradient, average pooling by offset sums.
"""
import numpy as np
import pytest

from faltung import config
from faltung.ops import conv as conv_ops
from faltung.ops import pool as pool_ops

CASES = [  # (x shape, kernel (kh, kw, C, F), strides, padding, dilation)
    ((2, 7, 6, 3), (3, 2, 3, 4), (2, 3), "same", (1, 1)),
    ((2, 8, 8, 4), (3, 3, 4, 4), (1, 1), "same", (1, 1)),
    ((1, 9, 7, 2), (3, 3, 2, 5), (1, 1), "valid", (2, 1)),
    ((3, 12, 12, 1), (5, 5, 1, 6), (1, 1), "valid", (1, 1)),  # LeNet C1
    ((2, 5, 5, 4), (5, 5, 4, 7), (1, 1), "valid", (1, 1)),    # LeNet C5: 1x1 output
]


def _conv(x, w, b, strides, padding, dilation):
    y, cache = conv_ops.conv2d_forward(x, w, b, strides, padding, dilation)
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(y.dtype)
    return (y,) + conv_ops.conv2d_backward(dy, cache)


@pytest.mark.parametrize("chunk_bytes", [0, 1 << 30], ids=["gemm-per-offset-dx", "batched-matmul-dx"])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation", CASES)
def test_conv_data_grad_branches_equal_reference(monkeypatch, chunk_bytes, x_shape, w_shape, strides,
                                                 padding, dilation):
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(sum(x_shape))
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[3])
    fast = _conv(x, w, b, strides, padding, dilation)
    with config.use_implementation("reference"):
        expected = _conv(x, w, b, strides, padding, dilation)
    for name, a, r in zip(("y", "dx", "dw", "db"), fast, expected):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation", CASES)
def test_weight_grad_from_x_in_chunks_equals_weight_grad_from_columns(monkeypatch, x_shape, w_shape,
                                                                     strides, padding, dilation):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    y, cache = conv_ops.conv2d_forward(x, w, None, strides, padding, dilation)
    _, cols, _, _, pads, strides_, dilation_, _, _ = cache
    dy = rng.standard_normal(y.shape)
    from_cols = conv_ops.conv_weight_grad(cols, dy, w.shape, pads, strides_, dilation_)
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", 1)  # one image per chunk
    from_x = conv_ops.conv_weight_grad(x, dy, w.shape, pads, strides_, dilation_)
    np.testing.assert_allclose(from_x, from_cols, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("chunk_bytes", [1, 1 << 30], ids=["from-x", "from-columns"])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation", CASES)
def test_weight_grad_in_blocks_of_rows_equals_reference(monkeypatch, chunk_bytes, x_shape, w_shape, strides,
                                                        padding, dilation):
    """dW = colsᵀ @ dY as a sum over blocks of rows (OpenBLAS's small products), with uneven last blocks."""
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[3])
    with config.use_implementation("reference"):
        expected = _conv(x, w, b, strides, padding, dilation)
    rows = expected[0].shape[0] * expected[0].shape[1] * expected[0].shape[2]  # of cols
    block = max(1, rows // 3 - 1)  # at least 3 blocks, the last one shorter unless block is 1
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(conv_ops, "SMALL_PRODUCT", block * int(np.prod(w_shape)))
    monkeypatch.setattr(conv_ops, "MIN_BLOCK_ROWS", 1)
    products = []
    monkeypatch.setattr(conv_ops, "_transposed_product",
                        _counting(conv_ops._transposed_product, products))
    fast = _conv(x, w, b, strides, padding, dilation)
    np.testing.assert_allclose(fast[2], expected[2], rtol=1e-10, atol=1e-12)
    assert products and all(cols.shape[0] > block for cols, _ in products)  # more than one block each time


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("small_product", [1, 1 << 40], ids=["one-row-blocks", "one-block"])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation",
                         CASES + [((2, 9, 9, 6), (5, 5, 6, 16), (1, 1), "valid", (1, 1))])  # LeNet C3: (P, K) cols
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weight_grad_with_rows_split_over_threads_equals_reference(monkeypatch, dtype, small_product, threads,
                                                                   x_shape, w_shape, strides, padding, dilation):
    """dW = colsᵀ @ dY with the rows shared out over the threads (``blas.transposed_product``), each
    thread's share in blocks of rows; cols in im2col's (K, P) layout (few channels) and as (P, K)."""
    from faltung.ops import blas, jit
    rng = np.random.default_rng(7)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (x_shape, w_shape, w_shape[3:]))
    with config.use_implementation("reference"):
        expected = _conv(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), strides, padding,
                         dilation)
    monkeypatch.setattr(conv_ops, "SPLIT_MIN_PRODUCT", 0)
    monkeypatch.setattr(conv_ops, "SMALL_PRODUCT", small_product)
    monkeypatch.setattr(jit, "THREADS", threads)
    calls = []
    monkeypatch.setattr(blas, "transposed_product", _counting(blas.transposed_product, calls))
    fast = _conv(x, w, b, strides, padding, dilation)
    assert calls, "the split product did not run"
    assert fast[2].dtype == dtype
    tolerance = 1e-10 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(fast[2], expected[2], rtol=tolerance, atol=tolerance)


def test_bias_grad_sums_over_batch_and_space():
    dy = np.random.default_rng(0).standard_normal((3, 4, 5, 6))
    np.testing.assert_allclose(conv_ops.bias_grad(dy), dy.sum(axis=(0, 1, 2)), rtol=1e-12)
    assert conv_ops.bias_grad(dy.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilation", CASES)
def test_conv2d_backward_through_a_relu_equals_the_mask_then_the_backward(x_shape, w_shape, strides, padding,
                                                                          dilation):
    """``conv2d_backward(dy, cache, relu_output=y)`` on the im2col paths: dZ = dY [y > 0] (3.9) first,
    then the same gradients as from dZ, db = the sum of dZ."""
    rng = np.random.default_rng(sum(x_shape))
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[3])
    y, cache = conv_ops.conv2d_forward(x, w, b, strides, padding, dilation, relu=True)
    assert (y == 0).any() and (y > 0).any()
    dy = rng.standard_normal(y.shape)
    dz = dy * (y > 0)
    for got, expected in zip(conv_ops.conv2d_backward(dy, cache, relu_output=y), conv_ops.conv2d_backward(dz, cache)):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(conv_ops.conv2d_backward(dy, cache, relu_output=y)[2], dz.sum(axis=(0, 1, 2)),
                               rtol=1e-12)


@pytest.mark.parametrize("num_threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (3, 7, 5, 6), (2, 33, 17, 40)])  # few channels: (N*H, W*F) rows
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_backward_and_bias_grad_equal_the_numpy_passes(dtype, name, shape, num_threads, monkeypatch):
    """dz = f'(z) * dy from the output and db = the sum of dz over (N, H, W): one fused pass with one
    partial sum per thread (relu, tanh, sigmoid), or the activation's own backward (softmax)."""
    from faltung import activations
    from faltung.ops import epilogue, jit
    monkeypatch.setattr(jit, "THREADS", num_threads)
    monkeypatch.setattr(epilogue, "FUSED_MIN_SIZE", 0)
    activation = activations.get(name)
    rng = np.random.default_rng(len(shape) + num_threads)
    y = activation.forward(rng.standard_normal(shape)).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    expected_dz = activation.backward(dy, None, y)
    expected_db = expected_dz.astype(np.float64).sum(axis=(0, 1, 2))
    for fused in (True, False):
        monkeypatch.setattr(epilogue, "FUSED", fused)
        dz, db = epilogue.activation_backward(dy, y, activation, bias=True)
        assert dz.dtype == db.dtype == dtype and dz.shape == shape and db.shape == shape[-1:]
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(dz, expected_dz, rtol=tol, atol=tol)
        np.testing.assert_allclose(db, expected_db, rtol=tol, atol=tol * np.abs(expected_dz).sum(axis=(0, 1, 2)).max())
        assert epilogue.activation_backward(dy, y, activation, bias=False)[1] is None


@pytest.mark.parametrize("num_threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (3, 7, 5, 6), (2, 33, 17, 40), (70, 9)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_bias_relu_equals_the_numpy_passes(dtype, shape, num_threads, monkeypatch):
    """y + bias, then max(0, .): the one-pass kernel (also on the wide rows of few channels) gives
    NumPy's numbers exactly, NaN included, with and without bias or ReLU, in place."""
    from faltung.ops import epilogue, epilogue_fused, jit
    monkeypatch.setattr(jit, "THREADS", num_threads)
    monkeypatch.setattr(epilogue, "FUSED_MIN_SIZE", 0)
    calls = []
    monkeypatch.setattr(epilogue_fused, "bias_relu", _counting(epilogue_fused.bias_relu, calls))
    rng = np.random.default_rng(sum(shape) + num_threads)
    y = rng.standard_normal(shape).astype(dtype)
    y.reshape(-1)[::7] = np.nan
    for bias in (rng.standard_normal(shape[-1]).astype(dtype), None):
        for relu in (True, False):
            expected = y + (0 if bias is None else bias)
            expected = np.maximum(expected, 0) if relu else expected
            out = y.copy()
            calls.clear()
            assert epilogue.bias_relu(out, bias, relu) is out
            np.testing.assert_array_equal(out, expected)
            # a bias alone on few channels (the wide rows) stays in NumPy
            few = len(shape) == 4 and shape[-1] < epilogue.FEW_CHANNELS
            assert out.dtype == dtype and len(calls) == (relu or (bias is not None and not few))


def _counting(function, calls):
    def counted(*args):
        calls.append(args)
        return function(*args)
    return counted


@pytest.mark.parametrize("shape", [(2, 3, 5, 6), (2, 3, 5, 40), (7, 6)])
def test_bias_add_and_bias_grad_through_wide_rows(shape):
    """Few channels go through the (N*H, W*F) view with the bias tiled W times: same numbers."""
    from faltung.ops import epilogue
    rng = np.random.default_rng(shape[-1])
    y, bias = rng.standard_normal(shape), rng.standard_normal(shape[-1])
    expected = np.maximum(y + bias, 0)
    np.testing.assert_allclose(epilogue.bias_relu(y.copy(), bias, relu=True), expected, rtol=0, atol=1e-15)
    axes = tuple(range(len(shape) - 1))
    np.testing.assert_allclose(epilogue.bias_grad(y), y.sum(axis=axes), rtol=1e-12)


@pytest.mark.parametrize("x_shape, pool, strides, padding", [
    ((2, 8, 6, 3), (2, 2), None, "valid"),     # windows tile x exactly: broadcast backward
    ((2, 7, 9, 3), (2, 2), None, "valid"),     # odd sizes: the last row/column is dropped
    ((1, 6, 6, 2), (3, 3), (2, 2), "valid"),   # overlapping windows
    ((2, 5, 7, 2), (2, 2), None, "same"),      # padding: counts of real cells
])
def test_avg_pool_fast_equals_reference(x_shape, pool, strides, padding):
    x = np.random.default_rng(2).standard_normal(x_shape)
    results = []
    for implementation in ("fast", "reference"):
        with config.use_implementation(implementation):
            y, cache = pool_ops.avg_pool2d_forward(x, pool, strides, padding)
            dy = np.random.default_rng(5).standard_normal(y.shape)
            results.append((y, pool_ops.avg_pool2d_backward(dy, cache)))
    for name, a, r in zip(("y", "dx"), *results):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12, err_msg=name)
    y32, _ = pool_ops.avg_pool2d_forward(x.astype(np.float32), pool, strides, padding)
    assert y32.dtype == np.float32


def test_first_conv_of_a_model_skips_dx_but_not_the_weight_gradients():
    import faltung
    from faltung.layers import Conv2D
    first, second = Conv2D(4, 3, input_shape=(6, 6, 2), dtype="float64"), Conv2D(3, 3, dtype="float64")
    faltung.Sequential([first, second])
    alone = Conv2D(4, 3, dtype="float64")  # the same layer outside any model
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 2))
    alone.build((None, 6, 6, 2))
    alone.set_weights(first.get_weights())
    dy = np.random.default_rng(1).standard_normal((2, 4, 4, 4))
    first.forward(x)
    alone.forward(x)
    assert first.backward(dy) is None                  # its input is the model's input
    assert alone.backward(dy).shape == x.shape         # standalone: dx as usual
    for a, b in zip(first.gradients, alone.gradients):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    second.forward(first.forward(x))
    assert second.backward(np.ones((2, 2, 2, 3))).shape == (2, 4, 4, 4)


@pytest.mark.parametrize("channels", [1, 3, 5])
@pytest.mark.parametrize("strides, dilation", [((1, 1), (1, 1)), ((2, 3), (1, 1)), ((1, 2), (2, 1))])
def test_im2col_few_channel_layout_equals_the_row_layout(channels, strides, dilation, monkeypatch):
    from faltung.ops import im2col as im2col_ops
    xp = np.random.default_rng(channels).standard_normal((2, 11, 10, channels))
    kernel = (3, 2)
    out_hw = im2col_ops.output_hw(xp.shape[1:3], kernel, strides, ((0, 0), (0, 0)), dilation)
    results = []
    for few in (0, 8):  # 0: always rows; 8: always one kernel offset at a time
        monkeypatch.setattr(im2col_ops, "FEW_CHANNELS", few)
        results.append(im2col_ops.im2col(xp, kernel, out_hw, strides, dilation))
    rows, offsets = results
    assert rows.flags.c_contiguous and offsets.flags.f_contiguous
    assert np.array_equal(rows, offsets)


@pytest.mark.parametrize("kernel, channels, chunk_bytes", [
    ((1, 1), (4, 5), 1 << 30),    # pointwise: one matmul
    ((3, 3), (16, 16), 1 << 30),  # Winograd, ReLU in the fused output transform
    ((3, 3), (16, 16), 1),        # Winograd in one-image chunks
    ((5, 3), (3, 4), 1 << 30),    # im2col kept whole
    ((5, 3), (3, 4), 1),          # im2col in chunks
])
def test_conv2d_forward_fuses_bias_and_relu_like_the_reference(kernel, channels, chunk_bytes, monkeypatch):
    monkeypatch.setattr(conv_ops, "CHUNK_BYTES", chunk_bytes)
    from faltung.ops import winograd
    monkeypatch.setattr(winograd, "CHUNK_BYTES", chunk_bytes)
    c, f = channels
    rng = np.random.default_rng(c * f)
    x, w, b = rng.standard_normal((3, 9, 7, c)), rng.standard_normal(kernel + (c, f)), rng.standard_normal(f)
    padding = "valid" if kernel == (1, 1) else "same"
    y, _ = conv_ops.conv2d_forward(x, w, b, (1, 1), padding, relu=True)
    linear, _ = conv_ops.conv2d_forward(x, w, b, (1, 1), padding)
    with config.use_implementation("reference"):
        expected, _ = conv_ops.conv2d_forward(x, w, b, (1, 1), padding, relu=True)
    assert (y >= 0).all() and (linear < 0).any()
    np.testing.assert_allclose(y, np.maximum(linear, 0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-10 * np.abs(expected).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, strides, padding", [
    ((5, 5), (1, 1), "valid"),    # LeNet-5's C3
    ((3, 2), (2, 1), "same"),     # uneven kernel, stride, padding cropped again
    ((2, 2), (2, 2), "valid"),    # windows that tile the input
    ((3, 3), (3, 2), "same"),
])
def test_data_grad_by_one_gemm_and_fused_col2im_equals_the_reference(kernel, strides, padding, dtype, monkeypatch):
    """dX = col2im(dY @ Wᵀ) in one pass (``im2col_fused``) gives what the kernel offsets one at a
    time and the loop reference give."""
    from faltung.ops import im2col_fused, reference
    from faltung.ops.im2col import resolve_padding
    calls = []
    monkeypatch.setattr(im2col_fused, "col2im", _counting(im2col_fused.col2im, calls))
    rng = np.random.default_rng(sum(kernel) + sum(strides))
    x_shape, c, f = (3, 11, 9, 6), 6, 5
    w = rng.standard_normal(kernel + (c, f)).astype(dtype)
    pads = resolve_padding(padding, x_shape[1:3], kernel, strides, (1, 1))
    y, _ = reference.conv_forward(np.zeros(x_shape, dtype), w, pads, strides, (1, 1))
    dy = rng.standard_normal(y.shape).astype(dtype)
    expected = reference.conv_data_grad(dy, w, x_shape, pads, strides, (1, 1))
    results = {}
    for fused in (True, False):
        monkeypatch.setattr(conv_ops, "COL2IM_FUSED", fused)
        calls.clear()
        results[fused] = conv_ops.conv_data_grad(dy, w, x_shape, pads, strides, (1, 1))
        assert len(calls) == fused and results[fused].dtype == dtype and results[fused].shape == x_shape
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for result in results.values():
        np.testing.assert_allclose(result, expected, rtol=0, atol=tol * np.abs(expected).max())
