"""Golden values from the lecture seeds (/work/shared/seeds), worked through faltung's conv and pooling layers.

Every expected number below is copied from a seed or computed by hand in a comment;
none is produced by faltung itself.
"""
import numpy as np
from scipy import signal

from faltung.layers.conv import Conv2D, Conv2DTranspose
from faltung.layers.pooling import MaxPooling2D


def _conv(kernels, x, padding="valid"):
    """A bias-free float64 Conv2D with the given (kh, kw) kernels (one filter each) applied to x: (N, H, W, 1)."""
    kernels = np.asarray(kernels, dtype=np.float64)
    layer = Conv2D(len(kernels), kernels.shape[1:], padding=padding, use_bias=False, dtype="float64")
    layer.build((None,) + x.shape[1:])
    layer.set_weights([kernels.transpose(1, 2, 0)[:, :, None, :]])  # (kh, kw, 1, filters)
    return layer, layer(x)


def _image(rows):
    return np.asarray(rows, dtype=np.float64)[None, :, :, None]


# ---- seed 001: "Beispiel: Anwendung eines vertikalen Filters" -----------------------------------
def test_seed001_vertical_filter_on_4x4_input():
    # seed 001: input [[3,2,1,-1],[4,0,1,4],[-1,-2,1,0],[3,2,0,1]] * [[0,1,0],[0,1,0],[0,1,0]] = [[0,3],[0,2]]
    # "Berechnung der 0: (3·0 + 4·0 + (−1)·0) + (2·1 + 0·1 + (−2)·1) + (1·0 + 1·0 + 1·0) = 0"
    x = _image([[3, 2, 1, -1], [4, 0, 1, 4], [-1, -2, 1, 0], [3, 2, 0, 1]])
    _, y = _conv([[[0, 1, 0], [0, 1, 0], [0, 1, 0]]], x)
    assert np.array_equal(y[0, :, :, 0], [[0, 3], [0, 2]])


def test_seed001_vertical_and_horizontal_filter_give_a_4x4x2_feature_map():
    # seed 001 shows a vertical and a horizontal filter side by side. Our 6x6 image has a
    # vertical line in column 2 and a horizontal line in row 4 (1s on 0s).
    image = np.zeros((6, 6))
    image[:, 2] = 1
    image[4, :] = 1
    vertical = [[0, 1, 0], [0, 1, 0], [0, 1, 0]]
    horizontal = [[0, 0, 0], [1, 1, 1], [0, 0, 0]]
    _, y = _conv([vertical, horizontal], _image(image))
    assert y.shape == (1, 4, 4, 2)
    # vertical: V[i, j] = image[i, j+1] + image[i+1, j+1] + image[i+2, j+1]. Column 2 (j = 1) is all 1s -> 3;
    # any other column holds a single 1 (row 4), inside rows i..i+2 only for i = 2, 3.
    assert np.array_equal(y[0, :, :, 0], [[0, 3, 0, 0],
                                          [0, 3, 0, 0],
                                          [1, 3, 1, 1],
                                          [1, 3, 1, 1]])
    # horizontal: H[i, j] = image[i+1, j] + image[i+1, j+1] + image[i+1, j+2]. Row 4 (i = 3) is all 1s -> 3;
    # any other row holds a single 1 (column 2), inside columns j..j+2 only for j = 0, 1, 2.
    assert np.array_equal(y[0, :, :, 1], [[1, 1, 1, 0],
                                          [1, 1, 1, 0],
                                          [1, 1, 1, 0],
                                          [3, 3, 3, 3]])


# ---- seed 002: "Explanation for the first calculation: ... = 308" ----------------------------
def test_seed002_first_calculation_is_308():
    # seed 002: "0 * -1 + 0 * -1 + 0 * 1 + 0 * 0 + 156 * 1 + 155 * -1 + 0 * 0 + 153 * 1 + 154 * 1 = 308"
    patch = _image([[0, 0, 0], [0, 156, 155], [0, 153, 154]])
    _, y = _conv([[[-1, -1, 1], [0, 1, -1], [0, 1, 1]]], patch)
    assert y.shape == (1, 1, 1, 1) and y[0, 0, 0, 0] == 308


# ---- seed 003: "Convolutional Neural Network – Pooling Layer" ------------------------------------
def test_seed003_max_pooling_and_its_gradient_routing():
    # seed 003: [[1,3,4,4],[7,8,3,5],[7,0,6,2],[2,4,6,9]] -> 2x2 max pooling -> [[8,5],[7,9]]
    x = _image([[1, 3, 4, 4], [7, 8, 3, 5], [7, 0, 6, 2], [2, 4, 6, 9]])
    pool = MaxPooling2D(dtype="float64")
    y = pool(x)
    assert np.array_equal(y[0, :, :, 0], [[8, 5], [7, 9]])
    # seed 004, section 3: the gradient goes only to the (remembered) position of each maximum
    dx = pool.backward(np.array([10.0, 20.0, 30.0, 40.0]).reshape(1, 2, 2, 1))
    assert np.array_equal(dx[0, :, :, 0], [[0, 0, 0, 0],
                                           [0, 10, 0, 20],
                                           [30, 0, 0, 0],
                                           [0, 0, 0, 40]])


# ---- seed 004, figure 2.4: "Effekte verschiedener Filterkernel" --------------------------------
FIGURE_2_4 = {
    "Identität": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "Sobel (links)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel (rechts)": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "Kanten": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "Verwischung": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "Verschärfung": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}


def test_seed004_figure_2_4_kernels():
    ramp = np.arange(1, 17).reshape(4, 4)     # ramp[r, c] = 4r + c + 1
    spot = np.zeros((4, 4))
    spot[1, 1] = 16
    x = np.concatenate([_image(ramp), _image(spot)])
    _, y = _conv(list(FIGURE_2_4.values()), x)
    out = {name: y[:, :, :, k] for k, name in enumerate(FIGURE_2_4)}
    # identity returns the interior of the image
    assert np.array_equal(out["Identität"][0], ramp[1:3, 1:3])
    assert np.array_equal(out["Identität"][1], spot[1:3, 1:3])
    # formula 2.4 is a cross-correlation (no kernel flip): Sobel (links) on a ramp rising to the right, at (0, 0):
    # −1·1 + 1·3 − 2·5 + 2·7 − 1·9 + 1·11 = 8 (a flipped kernel would give −8); the same at every position.
    assert np.array_equal(out["Sobel (links)"][0], [[8, 8], [8, 8]])
    assert np.array_equal(out["Sobel (rechts)"][0], [[-8, -8], [-8, -8]])
    # the spot image: output (i, j) sees the 16 at kernel position (1 − i, 1 − j),
    # so each output is 16 · kernel[1 − i, 1 − j]
    assert np.array_equal(out["Sobel (links)"][1], [[0, -32], [0, -16]])        # 16·[[0, −2], [0, −1]]
    assert np.array_equal(out["Sobel (rechts)"][1], [[0, 32], [0, 16]])
    assert np.array_equal(out["Kanten"][1], [[128, -16], [-16, -16]])           # 16·8, 16·(−1)
    assert np.allclose(out["Verwischung"][1], [[4, 2], [2, 1]])                  # 16·4/16, 16·2/16, 16·1/16
    assert np.array_equal(out["Verschärfung"][1], [[80, -16], [-16, 0]])        # 16·5, 16·(−1), 16·0
    # edges and sharpening leave a linear ramp flat: Kanten sums to 0, Verschärfung to 1
    assert np.array_equal(out["Kanten"][0], np.zeros((2, 2)))
    assert np.array_equal(out["Verschärfung"][0], ramp[1:3, 1:3])


# ---- seed 004, equations 2.6–2.9: transposed convolution as Kᵀ ---------------------------------
def test_seed004_convolution_matrix_and_its_transpose():
    k1, k2, k3 = 2.0, 3.0, 5.0
    layer, _ = _conv([[[k1, k2, k3]]], np.zeros((1, 1, 6, 1)))  # a 1x3 kernel over a 1x6 row
    # K from the convolution itself: column j is the convolution of the unit vector e_j (eq. 2.6: k * x = Kx)
    unit_vectors = np.eye(6)[:, None, :, None]                # six (1, 6, 1) inputs
    K = layer(unit_vectors)[:, 0, :, 0].T                     # (4, 6)
    # eq. 2.7
    assert np.array_equal(K, [[k1, k2, k3, 0, 0, 0],
                              [0, k1, k2, k3, 0, 0],
                              [0, 0, k1, k2, k3, 0],
                              [0, 0, 0, k1, k2, k3]])
    x1, x2, x3, x4 = 7.0, 11.0, 13.0, 17.0
    padded = np.array([0, x1, x2, x3, x4, 0])
    assert np.array_equal(K @ padded, [k2 * x1 + k3 * x2, k1 * x1 + k2 * x2 + k3 * x3,
                                       k1 * x2 + k2 * x3 + k3 * x4, k1 * x3 + k2 * x4])
    # ... which is the "same"-padded convolution of the 4-vector
    _, same = _conv([[[k1, k2, k3]]], np.array([x1, x2, x3, x4]).reshape(1, 1, 4, 1), padding="same")
    assert np.array_equal(same[0, 0, :, 0], K @ padded)

    # eq. 2.8/2.9: Conv2DTranspose with the same kernel applies Kᵀ to a 4-vector and returns 6 values
    transpose = Conv2DTranspose(1, (1, 3), use_bias=False, dtype="float64")
    transpose.build((None, 1, 4, 1))
    transpose.set_weights([np.array([k1, k2, k3]).reshape(1, 3, 1, 1)])
    y = transpose(np.array([x1, x2, x3, x4]).reshape(1, 1, 4, 1))[0, 0, :, 0]
    assert np.array_equal(y, K.T @ np.array([x1, x2, x3, x4]))
    # The seed's eq. 2.9 prints the last row of Kᵀ as (0, 0, 0, k1) and the last entry as k1·x4, but
    # the last column of K in eq. 2.7 is (0, 0, 0, k3): the mathematics gives k3·x4, and that is what we check.
    assert np.array_equal(y, [k1 * x1, k2 * x1 + k1 * x2, k3 * x1 + k2 * x2 + k1 * x3,
                              k3 * x2 + k2 * x3 + k1 * x4, k3 * x3 + k2 * x4, k3 * x4])
    assert y[5] != k1 * x4


# ---- seed 004, equations 3.1–3.8: backpropagation through a 3x3 input and a 2x2 filter -----------
def test_seed004_backprop_identities_3x3_input_2x2_filter():
    X = np.array([[1.0, 2.0, -1.0], [0.5, 3.0, 2.0], [-2.0, 1.0, 4.0]])
    F = np.array([[2.0, -1.0], [0.5, 3.0]])
    dO = np.array([[1.0, -2.0], [0.25, 3.0]])
    layer, O = _conv([F], X[None, :, :, None])
    # eq. 3.2, written out
    assert np.allclose(O[0, :, :, 0], [
        [F[0, 0] * X[0, 0] + F[0, 1] * X[0, 1] + F[1, 0] * X[1, 0] + F[1, 1] * X[1, 1],
         F[0, 0] * X[0, 1] + F[0, 1] * X[0, 2] + F[1, 0] * X[1, 1] + F[1, 1] * X[1, 2]],
        [F[0, 0] * X[1, 0] + F[0, 1] * X[1, 1] + F[1, 0] * X[2, 0] + F[1, 1] * X[2, 1],
         F[0, 0] * X[1, 1] + F[0, 1] * X[1, 2] + F[1, 0] * X[2, 1] + F[1, 1] * X[2, 2]]])
    dX = layer.backward(dO[None, :, :, None])[0, :, :, 0]
    dF = layer.gradients[0][:, :, 0, 0]
    # eq. 3.5. The seed labels all of its last three lines δF11; they are δF12, δF21, δF22 (in that order).
    assert np.allclose(dF, [
        [dO[0, 0] * X[0, 0] + dO[0, 1] * X[0, 1] + dO[1, 0] * X[1, 0] + dO[1, 1] * X[1, 1],
         dO[0, 0] * X[0, 1] + dO[0, 1] * X[0, 2] + dO[1, 0] * X[1, 1] + dO[1, 1] * X[1, 2]],
        [dO[0, 0] * X[1, 0] + dO[0, 1] * X[1, 1] + dO[1, 0] * X[2, 0] + dO[1, 1] * X[2, 1],
         dO[0, 0] * X[1, 1] + dO[0, 1] * X[1, 2] + dO[1, 0] * X[2, 1] + dO[1, 1] * X[2, 2]]])
    # eq. 3.6: δF = X * δO (the seed's "*" is the unflipped cross-correlation), here by SciPy
    assert np.allclose(dF, signal.correlate2d(X, dO, mode="valid"))
    # eq. 3.7 (the seed's δX22 line lacks a "+" before δO22·F11)
    assert np.allclose(dX, [
        [dO[0, 0] * F[0, 0], dO[0, 0] * F[0, 1] + dO[0, 1] * F[0, 0], dO[0, 1] * F[0, 1]],
        [dO[0, 0] * F[1, 0] + dO[1, 0] * F[0, 0],
         dO[0, 0] * F[1, 1] + dO[0, 1] * F[1, 0] + dO[1, 0] * F[0, 1] + dO[1, 1] * F[0, 0],
         dO[0, 1] * F[1, 1] + dO[1, 1] * F[0, 1]],
        [dO[1, 0] * F[1, 0], dO[1, 0] * F[1, 1] + dO[1, 1] * F[1, 0], dO[1, 1] * F[1, 1]]])
    # eq. 3.8: δX = full convolution of δO with the filter rotated by 180°. (The seed writes the rotated
    # matrix with δF entries; it is the filter F itself, as eq. 3.11 says: Flip(F).)
    rot180 = F[::-1, ::-1]
    assert np.allclose(dX, signal.correlate2d(np.pad(dO, 1), rot180, mode="valid"))


# ---- seed 004, "Modellierung": the CIFAR-10 model's convolution and pooling layers -------------------
def test_seed004_cifar_model_shapes_and_parameter_counts():
    # seed 004, my_model.summary(): output shapes and "Param #" of the conv/pool part
    layers = [Conv2D(32, (3, 3), padding="same", activation="relu"), Conv2D(32, (3, 3), padding="same"),
              MaxPooling2D(pool_size=(2, 2)),
              Conv2D(64, (3, 3), padding="same"), Conv2D(64, (3, 3), padding="same"), MaxPooling2D((2, 2)),
              Conv2D(128, (3, 3), padding="same"), Conv2D(128, (3, 3), padding="same"), MaxPooling2D((2, 2))]
    expected = [((None, 32, 32, 32), 896), ((None, 32, 32, 32), 9248), ((None, 16, 16, 32), 0),
                ((None, 16, 16, 64), 18496), ((None, 16, 16, 64), 36928), ((None, 8, 8, 64), 0),
                ((None, 8, 8, 128), 73856), ((None, 8, 8, 128), 147584), ((None, 4, 4, 128), 0)]
    shape = (None, 32, 32, 3)
    for layer, (out_shape, params) in zip(layers, expected):
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
        assert (shape, layer.count_params()) == (out_shape, params), layer.name
    y = np.zeros((2, 32, 32, 3), np.float32)
    for layer in layers:
        y = layer(y)
    assert y.shape == (2, 4, 4, 128)
