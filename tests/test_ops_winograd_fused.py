"""The fused (Numba) F(4x4, 3x3) tile transforms and the Winograd weight gradient.

Each fused kernel must equal the GEMM form in ``winograd_algebra.py`` (which spells out B^T d B, A^T M A
and A dY A^T with the matrices of Lavin & Gray), and every path must equal the loop reference
(``faltung.ops.reference``) in float64 to 1e-10: a fast path that changes the math is a bug.
"""
import itertools
import threading

import numpy as np
import pytest

from faltung import config
from faltung.ops import conv as conv_ops
from faltung.ops import jit, reference, threads, winograd, winograd_blocks, winograd_fused

SHAPES = [(1, 6, 6, 1, 1), (2, 7, 5, 3, 4), (3, 14, 14, 17, 9), (2, 4, 9, 16, 32)]  # N, H, W, C, K


def _no_relu(dy, parts=2):
    """The (y, db partial sums) arguments of the backward kernels for a dY without ReLU: y of length 0."""
    return np.empty((0, 1, 1, dy.shape[3]), dy.dtype), np.empty((parts, dy.shape[3]), dy.dtype)


def _tiles(h, w):
    return -(-h // 4), -(-w // 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_fused_transforms_equal_the_gemm_form(shape, dtype):
    """The fused output transform crops, adds the bias and applies ReLU in passing; the GEMM form
    transforms, then crops, adds, clips."""
    n, h, w, c, k = shape
    th, tw = _tiles(h, w)
    rng = np.random.default_rng(sum(shape))
    tol = 1e-12 if dtype == np.float64 else 2e-6

    xpad = rng.standard_normal((n, 4 * th + 2, 4 * tw + 2, c)).astype(dtype)
    v = np.empty((36, n * th * tw, c), dtype)
    jit.run(winograd_fused.input_transform, xpad, 0, 0, th, tw, v, num_threads=2)
    expected = winograd.input_transform(xpad, 4, th, tw)
    np.testing.assert_allclose(v, expected, rtol=0, atol=tol * np.abs(expected).max())
    # the same tiles read from the unpadded interior: the kernel puts zeros where they reach out
    top, left = 1, 2
    zeroed = np.zeros_like(xpad)
    zeroed[:, top:top + h, left:left + w] = xpad[:, top:top + h, left:left + w]
    jit.run(winograd_fused.input_transform, np.ascontiguousarray(zeroed[:, top:top + h, left:left + w]),
            top, left, th, tw, v, num_threads=2)
    expected = winograd.input_transform(zeroed, 4, th, tw)
    np.testing.assert_allclose(v, expected, rtol=0, atol=tol * np.abs(expected).max())

    m = rng.standard_normal((36, n * th * tw, k)).astype(dtype)
    bias = rng.standard_normal(k).astype(dtype)
    h_out, w_out = 4 * th - 1 if th > 1 else 4, 4 * tw - 3 if tw > 1 else 4  # tiles hang over
    for relu in (False, True):
        y = np.empty((n, h_out, w_out, k), dtype)
        jit.run(winograd_fused.output_transform, m, th, tw, bias, relu, y, num_threads=2)
        expected = winograd.output_transform(m, 4, n, th, tw)[:, :h_out, :w_out] + bias
        expected = np.maximum(expected, 0) if relu else expected
        np.testing.assert_allclose(y, expected, rtol=0, atol=tol * np.abs(expected).max())

    dy = rng.standard_normal((n, 4 * th, 4 * tw, k)).astype(dtype)
    dm = np.empty((36, n * th * tw, k), dtype)
    jit.run(winograd_fused.output_grad_transform, dy, th, tw, dm, *_no_relu(dy), num_threads=2)
    expected = winograd.output_grad_transform(dy, 4)
    np.testing.assert_allclose(dm, expected, rtol=0, atol=tol * np.abs(expected).max())
    # a dY cropped like y: the missing outputs count as zero gradient
    cropped = np.ascontiguousarray(dy[:, :h_out, :w_out])
    jit.run(winograd_fused.output_grad_transform, cropped, th, tw, dm, *_no_relu(dy), num_threads=2)
    zero_padded = np.zeros_like(dy)
    zero_padded[:, :h_out, :w_out] = cropped
    expected = winograd.output_grad_transform(zero_padded, 4)
    np.testing.assert_allclose(dm, expected, rtol=0, atol=tol * np.abs(expected).max())
    assert v.dtype == y.dtype == dm.dtype == dtype


def test_output_grad_transform_is_the_adjoint_of_the_output_transform():
    """<A^T M A, dY> = <M, A dY A^T> for every M and dY: the defining property of the adjoint."""
    rng = np.random.default_rng(3)
    n, th, tw, k = 2, 3, 2, 5
    m = rng.standard_normal((36, n * th * tw, k))
    dy = rng.standard_normal((n, 4 * th, 4 * tw, k))
    for transform, grad in ((lambda a: winograd.output_transform(a, 4, n, th, tw),
                             lambda b: winograd.output_grad_transform(b, 4)),
                            (lambda a: _fused_output(a, n, th, tw), _fused_grad)):
        assert np.isclose(np.vdot(transform(m), dy), np.vdot(m, grad(dy)), rtol=1e-12)


@pytest.mark.parametrize("num_threads", [1, 2])
@pytest.mark.parametrize("top_left", [(0, 0), (1, 2), (2, 1)])
def test_input_grad_transform_is_the_adjoint_of_the_input_transform(top_left, num_threads):
    """<B^T d B, dV> = <d, B dV B^T> summed over the overlapping tiles, with the tiles reaching into
    the padding (top/left) and past x's bottom/right edge: what falls outside x is dropped both ways."""
    rng = np.random.default_rng(sum(top_left) + num_threads)
    n, h, w, c = 3, 10, 7, 5
    top, left = top_left
    th, tw = _tiles(h + top - 2, w + left - 2)
    x = rng.standard_normal((n, h, w, c))
    dv = rng.standard_normal((36, n * th * tw, c))
    v = np.empty_like(dv)
    jit.run(winograd_fused.input_transform, x, top, left, th, tw, v, num_threads=num_threads)
    dx = np.zeros_like(x)
    jit.run(winograd_fused.input_grad_transform, dv, top, left, th, tw, dx, num_threads=num_threads)
    assert np.isclose(np.vdot(v, dv), np.vdot(x, dx), rtol=1e-12)
    # and it is B dV B^T per tile, tile by tile, against the matrices of Lavin & Gray
    BT = winograd.matrices(4)[0]  # B^T: (6, 6)
    expected = np.zeros((n, h + top + 4 * th, w + left + 4 * tw, c))
    for p in range(n * th * tw):
        image, rest = divmod(p, th * tw)
        row, col = 4 * (rest // tw), 4 * (rest % tw)
        tile = dv[:, p].reshape(6, 6, c)
        expected[image, row:row + 6, col:col + 6] += np.einsum("ar,abc,bs->rsc", BT, tile, BT)
    np.testing.assert_allclose(dx, expected[:, top:top + h, left:left + w], rtol=0, atol=1e-10 * np.abs(dx).max())


def _fused_output(m, n, th, tw):
    y = np.empty((n, 4 * th, 4 * tw, m.shape[2]))
    jit.run(winograd_fused.output_transform, m, th, tw, np.zeros(m.shape[2]), False, y, num_threads=1)
    return y


def _fused_grad(dy):
    n, hh, ww, k = dy.shape
    dm = np.empty((36, n * (hh // 4) * (ww // 4), k))
    jit.run(winograd_fused.output_grad_transform, dy, hh // 4, ww // 4, dm, *_no_relu(dy), num_threads=1)
    return dm


PADS = {"same": (1, 1, 1, 1), "valid": (0, 0, 0, 0), "uneven": (0, 2, 1, 0)}


#: how the convolution runs: GEMM-form stages, fused stages in image chunks, or fused tile blocks
#: (BLOCK_TILES 1: every tile its own block; 5: blocks that straddle images, the last one short)
PATHS = {"gemm-form": dict(FUSED=False, BLOCKED_MAX_FILTER_BYTES=0),
         "fused-chunks": dict(FUSED=True, BLOCKED_MAX_FILTER_BYTES=0),
         "blocks-of-1": dict(FUSED=True, BLOCKED_MAX_FILTER_BYTES=1 << 30, BLOCK_TILES=1),
         "blocks-of-5": dict(FUSED=True, BLOCKED_MAX_FILTER_BYTES=1 << 30, BLOCK_TILES=5)}


@pytest.mark.parametrize("keep_v", [False, True], ids=["keeps-x", "keeps-V"])
@pytest.mark.parametrize("chunk_bytes", [1, 1 << 30], ids=["one-image-chunks", "one-chunk"])
@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("pad_name", sorted(PADS))
def test_weight_grad_equals_reference(pad_name, m, path, chunk_bytes, keep_v, monkeypatch):
    for name, value in PATHS[path].items():
        monkeypatch.setattr(winograd, name, value)
    monkeypatch.setattr(winograd, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(winograd, "KEEP_TRANSFORMED_MAX_BYTES", 1 << 40 if keep_v else 0)
    monkeypatch.setattr(winograd, "BLOCKED_KEEP_TRANSFORMED_MAX_BYTES", 1 << 40 if keep_v else 0)
    rng = np.random.default_rng(m + len(pad_name))
    x, w = rng.standard_normal((3, 7, 9, 5)), rng.standard_normal((3, 3, 5, 6))  # 7x9: cropped tiles
    b = rng.standard_normal(6)
    top, bottom, left, right = PADS[pad_name]
    pads = ((top, bottom), (left, right))
    for relu in (False, True):
        y, transformed = winograd.conv2d_3x3(x, w, PADS[pad_name], m=m, keep_transform=True, bias=b, relu=relu)
        expected_y, xp = reference.conv_forward(x, w, pads, (1, 1), (1, 1))
        expected_y = np.maximum(expected_y + b, 0) if relu else expected_y + b
        np.testing.assert_allclose(y, expected_y, rtol=0, atol=1e-10 * np.abs(expected_y).max())
    blocked = path.startswith("blocks") and m == 4  # the blocked kernels keep all V as one chunk
    assert len(transformed.chunks) == (0 if not keep_v else 3 if chunk_bytes == 1 and not blocked else 1)
    assert (transformed.x is not None) == (not keep_v)
    dy = rng.standard_normal(y.shape)
    for num_threads in (1, 2):  # the blocked dW sums one partial sum per thread
        monkeypatch.setattr(jit, "THREADS", num_threads)
        dw = winograd.weight_grad(transformed, dy)
        expected = reference.conv_weight_grad(xp, dy, w.shape, pads, (1, 1), (1, 1))
        np.testing.assert_allclose(dw, expected, rtol=0, atol=1e-10 * np.abs(expected).max())
    expected_dx = reference.conv_data_grad(dy, w, x.shape, pads, (1, 1), (1, 1))
    dx = winograd.conv2d_3x3_backward_input(dy, w, PADS[pad_name], m=m)
    np.testing.assert_allclose(dx, expected_dx, rtol=0, atol=1e-10 * np.abs(expected_dx).max())
    for adjoint in (True, False):  # dX back through the forward's stages, or as the full convolution
        monkeypatch.setattr(winograd, "ADJOINT_DATA_GRAD", adjoint)
        for num_threads in (1, 2):
            monkeypatch.setattr(jit, "THREADS", num_threads)
            dx, dw = winograd.backward(transformed, dy, w, PADS[pad_name])
            np.testing.assert_allclose(dx, expected_dx, rtol=0, atol=1e-10 * np.abs(expected_dx).max())
            np.testing.assert_allclose(dw, expected, rtol=0, atol=1e-10 * np.abs(expected).max())
            none, dw = winograd.backward(transformed, dy, w, PADS[pad_name], need_dx=False)
            assert none is None
            np.testing.assert_allclose(dw, expected, rtol=0, atol=1e-10 * np.abs(expected).max())
    # through the ReLU (y: the output of the relu=True forward): dZ = dY [y > 0] (3.9) and db = sum dZ
    # made as the kernels read dY's tiles
    dz = dy * (y > 0)
    expected_dx = reference.conv_data_grad(dz, w, x.shape, pads, (1, 1), (1, 1))
    expected = reference.conv_weight_grad(xp, dz, w.shape, pads, (1, 1), (1, 1))
    expected_db = dz.sum(axis=(0, 1, 2))
    for adjoint, num_threads, need_dx in itertools.product((True, False), (1, 2), (True, False)):
        monkeypatch.setattr(winograd, "ADJOINT_DATA_GRAD", adjoint)
        monkeypatch.setattr(jit, "THREADS", num_threads)
        dx, dw, db = winograd.backward(transformed, dy, w, PADS[pad_name], need_dx, relu_output=y)
        if need_dx:
            np.testing.assert_allclose(dx, expected_dx, rtol=0, atol=1e-10 * np.abs(expected_dx).max())
        else:
            assert dx is None
        np.testing.assert_allclose(dw, expected, rtol=0, atol=1e-10 * np.abs(expected).max())
        np.testing.assert_allclose(db, expected_db, rtol=0, atol=1e-10 * np.abs(expected_db).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("block", [1, 7, 64])
def test_blocked_kernels_equal_the_stages_one_at_a_time(block, dtype):
    """``conv_blocks`` and ``backward_blocks`` (all stages per block of tiles, BLAS called from
    their threads) give what the one-stage kernels with NumPy's GEMMs between them give."""
    rng = np.random.default_rng(block)
    n, h, w, c, k, top, left = 3, 9, 6, 5, 7, 1, 0
    th, tw = _tiles(h + top + 1 - 2, w + left + 2 - 2)  # pads (1, 1, 0, 2)
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    u = rng.standard_normal((36, c, k)).astype(dtype)
    bias = rng.standard_normal(k).astype(dtype)
    y, kept_v = np.empty((n, h, w, k), dtype), np.full((36, n * th * tw, c), np.nan, dtype)
    jit.run(winograd_blocks.conv_blocks, x, top, left, u, bias, True, th, tw, block, y, kept_v,
            blas_inside=True, num_threads=2)
    v = np.empty((36, n * th * tw, c), dtype)
    jit.run(winograd_fused.input_transform, x, top, left, th, tw, v)
    np.testing.assert_array_equal(kept_v, v)  # every block's V kept for the backward
    expected = np.empty_like(y)
    jit.run(winograd_fused.output_transform, np.matmul(v, u), th, tw, bias, True, expected)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(y, expected, rtol=0, atol=tol * np.abs(expected).max())
    y_alone = np.empty_like(y)  # keeping nothing: the same output
    jit.run(winograd_blocks.conv_blocks, x, top, left, u, bias, True, th, tw, block, y_alone,
            np.empty((36, 0, c), dtype), blas_inside=True, num_threads=2)
    np.testing.assert_array_equal(y_alone, y)

    dy = rng.standard_normal(y.shape).astype(dtype)
    dm = np.empty((36, n * th * tw, k), dtype)
    jit.run(winograd_fused.output_grad_transform, dy, th, tw, dm, *_no_relu(dy))
    expected_du = np.matmul(v.transpose(0, 2, 1), dm)
    ut = np.ascontiguousarray(u.transpose(0, 2, 1))
    expected_dx = np.zeros_like(x)
    jit.run(winograd_fused.input_grad_transform, np.matmul(dm, ut), top, left, th, tw, expected_dx)
    no_v, no_x = np.empty((36, 0, c), dtype), np.empty((n, 0, 0, c), dtype)
    for (source, v_kept), need_dx in itertools.product([(x, no_v), (no_x, kept_v)], (True, False)):
        du = np.full((3, 36, c, k), np.nan, dtype)  # three partial sums, overwritten
        dx = np.full_like(x, np.nan)                # overwritten where need_dx
        jit.run(winograd_blocks.backward_blocks, source, top, left, dy, ut, th, tw, block, du, dx, need_dx,
                v_kept, *_no_relu(dy, parts=3), blas_inside=True, num_threads=2)
        np.testing.assert_allclose(du.sum(axis=0), expected_du, rtol=0, atol=tol * np.abs(expected_du).max())
        if need_dx:
            np.testing.assert_allclose(dx, expected_dx, rtol=0, atol=tol * np.abs(expected_dx).max())
        else:
            assert np.isnan(dx).all()


def test_blas_runs_on_one_thread_inside_a_blocked_kernel_and_gets_its_threads_back():
    before = [lib["num_threads"] for lib in threads.blas_info()]
    seen = []
    with jit._one_blas_thread():
        seen = [lib["num_threads"] for lib in threads.blas_info()]
        import scipy.linalg.cython_blas  # noqa: F401  (Numba's np.dot calls SciPy's BLAS)
    assert seen and set(seen) == {1}
    assert any("scipy" in lib["filepath"] for lib in threads.blas_info())
    assert [lib["num_threads"] for lib in threads.blas_info()][:len(before)] == before


def test_fused_and_gemm_form_give_the_same_convolution(monkeypatch):
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((4, 13, 10, 16)), rng.standard_normal((3, 3, 16, 24))
    results = []
    for fused in (True, False):
        monkeypatch.setattr(winograd, "FUSED", fused)
        y = winograd.conv2d_3x3(x, w, (1, 1, 1, 1), m=4)
        dx = winograd.conv2d_3x3_backward_input(y, w, (1, 1, 1, 1), m=4)
        results.append((y, dx))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10 * np.abs(b).max())


@pytest.mark.parametrize("for_backward", [True, False])
def test_conv2d_forward_keeps_the_transform_only_for_training(for_backward):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 8, 8, 16)), rng.standard_normal((3, 3, 16, 16)), rng.standard_normal(16)
    y, cache = conv_ops.conv2d_forward(x, w, b, (1, 1), "same", for_backward=for_backward)
    saved = cache[1]
    assert isinstance(saved, winograd.Transformed) == for_backward
    dy = rng.standard_normal(y.shape)
    dx, dw, db = conv_ops.conv2d_backward(dy, cache)  # a backward after inference still works
    with config.use_implementation("reference"):
        y_ref, cache_ref = conv_ops.conv2d_forward(x, w, b, (1, 1), "same")
        expected = (y_ref,) + conv_ops.conv2d_backward(dy, cache_ref)
    for name, got, want in zip(("y", "dx", "dw", "db"), (y, dx, dw, db), expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.abs(want).max(), err_msg=name)


def test_layer_keeps_less_in_inference():
    from faltung.layers import Conv2D
    layer = Conv2D(16, 3, padding="same")
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 16)).astype(np.float32)
    layer.forward(x, training=True)
    assert isinstance(layer.cache[0][1], winograd.Transformed)
    layer.forward(x, training=False)
    assert layer.cache[0][1] is x


def test_fused_kernels_use_the_blas_thread_setting(monkeypatch):
    seen = []
    original = jit.numba.set_num_threads

    def recording(count):
        seen.append(count)
        original(count)

    monkeypatch.setattr(jit.numba, "set_num_threads", recording)
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 16)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((3, 3, 16, 16)).astype(np.float32)
    serial = []
    monkeypatch.setattr(jit, "serial_twin", lambda kernel: serial.append(kernel) or kernel)
    with threads.num_threads(1):  # one thread: the serial twins, no worker threads
        one = winograd.conv2d_3x3(x, w, (1, 1, 1, 1), m=4)
    assert serial and not seen
    serial.clear()
    with threads.num_threads(2):
        two = winograd.conv2d_3x3(x, w, (1, 1, 1, 1), m=4)
    assert set(seen) == {2} and not serial
    np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-5)
    seen.clear()
    monkeypatch.setattr(jit, "THREADS", 1)  # the override wins over the BLAS's count
    with threads.num_threads(2):
        winograd.conv2d_3x3(x, w, (1, 1, 1, 1), m=4)
    assert serial and not seen


def test_same_input_gives_bitwise_the_same_output():
    x = np.random.default_rng(0).standard_normal((8, 16, 16, 32)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((3, 3, 32, 32)).astype(np.float32)
    first, transformed = winograd.conv2d_3x3(x, w, (1, 1, 1, 1), m=4, keep_transform=True)
    second, _ = winograd.conv2d_3x3(x, w, (1, 1, 1, 1), m=4, keep_transform=True)
    assert np.array_equal(first, second)
    dy = np.ones_like(first)
    assert np.array_equal(winograd.weight_grad(transformed, dy), winograd.weight_grad(transformed, dy))


def test_concurrent_callers_get_correct_results():
    """Numba's workqueue layer cannot run two kernels at once; the lock in ``jit.run`` serialises
    callers from several threads (a web server serving predictions, say)."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal((3, 3, 16, 16))
    inputs = [rng.standard_normal((2, 12, 12, 16)) for _ in range(4)]
    expected = [reference.conv_forward(x, w, ((1, 1), (1, 1)), (1, 1), (1, 1))[0] for x in inputs]
    results, errors = [None] * len(inputs), []

    def work(i):
        try:
            for _ in range(5):
                results[i] = winograd.conv2d_3x3(inputs[i], w, (1, 1, 1, 1), m=4)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not errors
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.abs(want).max())


def test_without_numba_the_numpy_forms_run_and_agree(monkeypatch):
    """No Numba (no wheel for this Python yet): ``jit.AVAILABLE`` is False and the ops fall back."""
    from faltung.ops import pool as pool_ops
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((2, 9, 9, 16)).astype(np.float32), rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    with_numba = (conv_ops.conv2d_forward(x, w, None, (1, 1), "same", relu=True)[0],
                  pool_ops.max_pool2d_forward(x)[0])
    monkeypatch.setattr(jit, "AVAILABLE", False)
    monkeypatch.setattr(jit, "run", lambda *args, **kwargs: pytest.fail("a Numba kernel ran"))
    y, cache = conv_ops.conv2d_forward(x, w, None, (1, 1), "same", relu=True)
    pooled, pool_cache = pool_ops.max_pool2d_forward(x)
    assert pool_cache[0] == "fast"
    np.testing.assert_allclose(y, with_numba[0], rtol=0, atol=1e-4 * np.abs(y).max())  # F(4x4) in float32
    np.testing.assert_array_equal(pooled, with_numba[1])
    conv_ops.conv2d_backward(np.ones_like(y), cache)  # the backward runs without Numba too


def test_backward_reuses_the_filters_the_forward_transformed(monkeypatch):
    """U = G g G^T is made once per step: the forward keeps it for dX (dV = dM U^T)."""
    calls = []
    original = winograd.filter_transform
    monkeypatch.setattr(winograd, "filter_transform", lambda *a: calls.append(a) or original(*a))
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 9, 9, 16)), rng.standard_normal((3, 3, 16, 16))
    for blocked in (1 << 30, 0):
        monkeypatch.setattr(winograd, "BLOCKED_MAX_FILTER_BYTES", blocked)
        calls.clear()
        y, transformed = winograd.conv2d_3x3(x, w, (1, 1, 1, 1), m=4, keep_transform=True)
        dx, dw = winograd.backward(transformed, np.ones_like(y), w, (1, 1, 1, 1))
        assert len(calls) == 1
        expected = reference.conv_data_grad(np.ones_like(y), w, x.shape, ((1, 1), (1, 1)), (1, 1), (1, 1))
        np.testing.assert_allclose(dx, expected, rtol=0, atol=1e-10 * np.abs(expected).max())
