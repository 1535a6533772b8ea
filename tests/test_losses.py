"""Losses: values vs PyTorch and Keras's documented examples, gradients vs finite differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faltung import losses
from faltung.activations import Softmax
from tests.gradcheck import assert_close, numeric_gradient

N, C = 5, 4


def rng(seed=0):
    return np.random.default_rng(seed)


def softmax(z):
    return Softmax().forward(z)


def logits(seed=0):
    return rng(seed).standard_normal((N, C)) * 2


def labels(seed=0):
    return rng(seed + 100).integers(0, C, size=N)


def check_gradient(loss, y_true, y_pred, **kwargs):
    """loss.gradient must equal the finite-difference gradient of loss(y_true, y_pred)."""
    y_pred = np.array(y_pred, dtype=np.float64)
    numeric = numeric_gradient(lambda: loss(y_true, y_pred, **kwargs), y_pred)
    assert_close(loss.gradient(y_true, y_pred, **kwargs), numeric, rtol=1e-5, atol=1e-8,
                 what=f"{loss.name} gradient")


# ---- values vs PyTorch (float64, within 1e-5) --------------------------------------------
def test_categorical_crossentropy_values():
    z, y = logits(), labels()
    onehot = np.eye(C)[y]
    expected = F.cross_entropy(torch.tensor(z), torch.tensor(y)).item()
    assert abs(losses.CategoricalCrossentropy(from_logits=True)(onehot, z) - expected) < 1e-5
    assert abs(losses.CategoricalCrossentropy()(onehot, softmax(z)) - expected) < 1e-5
    soft = softmax(logits(seed=3))  # soft targets
    expected_soft = F.cross_entropy(torch.tensor(z), torch.tensor(soft)).item()
    assert abs(losses.CategoricalCrossentropy(from_logits=True)(soft, z) - expected_soft) < 1e-5


def test_categorical_crossentropy_label_smoothing_matches_torch():
    z, y = logits(), labels()
    expected = F.cross_entropy(torch.tensor(z), torch.tensor(y), label_smoothing=0.1).item()
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    assert abs(loss(np.eye(C)[y], z) - expected) < 1e-5


@pytest.mark.parametrize("label_shape", [(N,), (N, 1)])
def test_sparse_categorical_crossentropy_values(label_shape):
    z, y = logits(), labels()
    expected = F.cross_entropy(torch.tensor(z), torch.tensor(y)).item()
    y_in = y.reshape(label_shape)
    assert abs(losses.SparseCategoricalCrossentropy(from_logits=True)(y_in, z) - expected) < 1e-5
    assert abs(losses.SparseCategoricalCrossentropy()(y_in, softmax(z)) - expected) < 1e-5
    assert abs(losses.SparseCategoricalCrossentropy()(y_in.astype(np.float32), softmax(z)) - expected) < 1e-5


def test_sparse_categorical_crossentropy_on_segmentation_maps():
    z = rng().standard_normal((2, 3, 3, C))
    y = rng(1).integers(0, C, size=(2, 3, 3))
    expected = F.cross_entropy(torch.tensor(z).permute(0, 3, 1, 2), torch.tensor(y)).item()
    assert abs(losses.SparseCategoricalCrossentropy(from_logits=True)(y, z) - expected) < 1e-5


@pytest.mark.parametrize("shape", [(N, 3), (N,)])
def test_binary_crossentropy_values(shape):
    z = rng().standard_normal(shape) * 2
    t = (rng(1).random(shape) > 0.5).astype(np.float64)
    expected = F.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(t)).item()
    assert abs(losses.BinaryCrossentropy(from_logits=True)(t, z) - expected) < 1e-5
    p = 1 / (1 + np.exp(-z))
    assert abs(losses.BinaryCrossentropy()(t, p) - F.binary_cross_entropy(torch.tensor(p), torch.tensor(t)).item()) < 1e-5
    smoothed = torch.tensor(t * 0.8 + 0.5 * 0.2)  # Keras: t·(1 − ls) + ls/2
    expected_ls = F.binary_cross_entropy_with_logits(torch.tensor(z), smoothed).item()
    assert abs(losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)(t, z) - expected_ls) < 1e-5


def test_binary_crossentropy_accepts_column_predictions_with_flat_labels():
    p, t = np.array([[0.2], [0.9], [0.6]]), np.array([0, 1, 1])
    expected = F.binary_cross_entropy(torch.tensor(p[:, 0]), torch.tensor(t, dtype=torch.float64)).item()
    assert abs(losses.BinaryCrossentropy()(t, p) - expected) < 1e-5
    assert losses.BinaryCrossentropy().gradient(t, p).shape == (3, 1)


def test_mean_squared_error_values():
    p, t = rng().standard_normal((N, 3)), rng(1).standard_normal((N, 3))
    expected = F.mse_loss(torch.tensor(p), torch.tensor(t)).item()
    for loss in (losses.MeanSquaredError(), losses.get("mse"), losses.get("mean_squared_error")):
        assert abs(loss(t, p) - expected) < 1e-5


def test_keras_documentation_examples():
    # the examples in the Keras 3 API docs of each loss class
    y_true, y_pred = [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    assert round(losses.CategoricalCrossentropy()(y_true, y_pred), 3) == 1.177
    assert round(losses.SparseCategoricalCrossentropy()([1, 2], y_pred), 3) == 1.177
    assert round(losses.BinaryCrossentropy()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]), 3) == 0.815
    assert losses.MeanSquaredError()([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]) == 0.5


def test_probabilities_are_renormalised_and_clipped_as_keras():
    # unnormalised "probabilities" are divided by their sum; an exact 0 is clipped to ε = 1e-7
    loss = losses.CategoricalCrossentropy()
    assert abs(loss([[0, 1]], [[2.0, 2.0]]) - np.log(2)) < 1e-12
    assert abs(loss([[0, 1]], [[1.0, 0.0]]) + np.log(1e-7)) < 1e-9
    assert abs(losses.BinaryCrossentropy()([[1.0]], [[0.0]]) + np.log(1e-7)) < 1e-9


# ---- gradients vs finite differences ---------------------------------------------------
@pytest.mark.parametrize("from_logits", [False, True])
def test_crossentropy_gradients(from_logits):
    z, y = logits(), labels()
    pred = z if from_logits else softmax(z)
    check_gradient(losses.CategoricalCrossentropy(from_logits=from_logits), np.eye(C)[y], pred)
    check_gradient(losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=0.1),
                   np.eye(C)[y], pred)
    check_gradient(losses.SparseCategoricalCrossentropy(from_logits=from_logits), y, pred)
    unnormalised = rng(4).random((N, C)) + 0.1
    check_gradient(losses.CategoricalCrossentropy(), np.eye(C)[y], unnormalised)


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_and_mse_gradients(from_logits):
    z = rng().standard_normal((N, 3))
    t = rng(1).random((N, 3))
    check_gradient(losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=0.1), t,
                   z if from_logits else 1 / (1 + np.exp(-z)))
    check_gradient(losses.MeanSquaredError(), t, z)


def test_sample_weight_and_sum_reduction():
    z, y = logits(), labels()
    w = rng(2).random(N)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    per_sample = F.cross_entropy(torch.tensor(z), torch.tensor(y), reduction="none").numpy()
    assert abs(loss(y, z, sample_weight=w) - np.sum(per_sample * w) / N) < 1e-12
    check_gradient(loss, y, z, sample_weight=w)
    summed = losses.MeanSquaredError(reduction="sum")
    t, p = rng(3).random((N, 2)), rng(4).random((N, 2))
    assert abs(summed(t, p) - np.sum(np.mean((p - t) ** 2, axis=-1))) < 1e-12
    check_gradient(summed, t, p)


# ---- the fused softmax / sigmoid gradients ---------------------------------------------
def test_softmax_gradient_is_p_minus_y_over_n_and_equals_the_chain_rule():
    z, y = logits(), labels()
    p, onehot = softmax(z), np.eye(C)[y]
    for loss, target in ((losses.CategoricalCrossentropy(), onehot),
                         (losses.SparseCategoricalCrossentropy(), y)):
        fused = loss.softmax_gradient(target, p)
        assert_close(fused, (p - onehot) / N, what="(p - y) / N")
        chain = Softmax().backward(loss.gradient(target, p), z, p)
        assert_close(fused, chain, rtol=1e-7, atol=1e-12, what="chain rule through softmax")
        logit_grad = type(loss)(from_logits=True).gradient(target, z)
        assert_close(fused, logit_grad, rtol=1e-7, atol=1e-12, what="from_logits gradient")


def test_sigmoid_gradient_equals_the_logit_gradient():
    z, t = rng().standard_normal((N, 2)), (rng(1).random((N, 2)) > 0.5) * 1.0
    fused = losses.BinaryCrossentropy().sigmoid_gradient(t, 1 / (1 + np.exp(-z)))
    assert_close(fused, losses.BinaryCrossentropy(from_logits=True).gradient(t, z), what="sigmoid")


def test_extreme_logits_stay_finite():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 3.0]])
    onehot, y = np.eye(3)[[0, 2]], np.array([0, 2])
    for loss in (losses.CategoricalCrossentropy(from_logits=True),
                 losses.SparseCategoricalCrossentropy(from_logits=True)):
        target = y if "sparse" in loss.name else onehot
        value, grad = loss(target, z), loss.gradient(target, z)
        assert abs(value - (0 + 997) / 2) < 1e-9  # −log softmax: 0 for the first row, 1000 − 3 for the second
        assert np.all(np.isfinite(grad))
        assert_close(grad, (softmax(z) - onehot) / 2, what="extreme logits")
    p = softmax(z)
    assert np.all(np.isfinite(p))
    for loss in (losses.CategoricalCrossentropy(), losses.SparseCategoricalCrossentropy()):
        target = y if "sparse" in loss.name else onehot
        assert np.isfinite(loss(target, p)) and np.all(np.isfinite(loss.gradient(target, p)))
        assert np.all(np.isfinite(loss.softmax_gradient(target, p)))
    bce = losses.BinaryCrossentropy(from_logits=True)
    assert abs(bce(np.array([[0.0, 1.0]]), np.array([[1000.0, -1000.0]])) - 1000.0) < 1e-9
    assert np.all(np.isfinite(bce.gradient(np.array([[0.0, 1.0]]), np.array([[1000.0, -1000.0]]))))


def test_float32_in_float32_out():
    p = softmax(logits()).astype(np.float32)
    grad = losses.SparseCategoricalCrossentropy().gradient(labels(), p)
    assert grad.dtype == np.float32
    assert losses.SparseCategoricalCrossentropy().softmax_gradient(labels(), p).dtype == np.float32
    assert isinstance(losses.MeanSquaredError()(p, p), float)


# ---- names, functions, config, errors ----------------------------------------------------
def test_get_and_functions():
    z, y = logits(), labels()
    for name, cls in [("categorical_crossentropy", losses.CategoricalCrossentropy),
                      ("CategoricalCrossentropy", losses.CategoricalCrossentropy),
                      ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
                      ("binary_crossentropy", losses.BinaryCrossentropy),
                      ("mse", losses.MeanSquaredError), ("mean_squared_error", losses.MeanSquaredError)]:
        assert type(losses.get(name)) is cls
    assert type(losses.get(losses.sparse_categorical_crossentropy)) is losses.SparseCategoricalCrossentropy
    assert type(losses.get(losses.mse)) is losses.MeanSquaredError
    per_sample = losses.sparse_categorical_crossentropy(y, z, from_logits=True)
    expected = F.cross_entropy(torch.tensor(z), torch.tensor(y), reduction="none").numpy()
    assert_close(per_sample, expected, what="per-sample losses")
    assert losses.categorical_crossentropy(np.eye(C)[y], softmax(z)).shape == (N,)
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    assert losses.get(losses.get(loss)) is loss
    clone = losses.deserialize(losses.serialize(loss))
    assert type(clone) is type(loss) and clone.get_config() == loss.get_config()
    assert clone.get_config() == {"name": "categorical_crossentropy", "reduction": "sum_over_batch_size",
                                  "from_logits": True, "label_smoothing": 0.2}


def test_errors():
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'.*categorical_crossentropy.*mse"):
        losses.get("crossentropy")
    p = softmax(logits())
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*labels in the range \[0, 3\].*4"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 1, 2, 3, 4]), p)
    with pytest.raises(ValueError, match=r"range \[0, 3\].*-1"):
        losses.SparseCategoricalCrossentropy().gradient(np.array([0, 1, -1, 3, 2]), p)
    with pytest.raises(ValueError, match="integer class labels"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 1.5, 2, 3, 1]), p)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*shape \(5,\).*got shape \(4,\)"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 1, 2, 3]), p)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*got shape \(5, 4\).*one-hot"):
        losses.SparseCategoricalCrossentropy()(np.eye(C)[labels()], p)
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*\(5, 4\).*\(5,\).*sparse"):
        losses.CategoricalCrossentropy()(labels(), p)
    with pytest.raises(ValueError, match=r"mean_squared_error.*\(5, 3\).*\(5, 2\)"):
        losses.MeanSquaredError()(np.ones((5, 2)), np.ones((5, 3)))
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="mean_of_everything")


def test_keras_3_reductions_none_mean_and_mean_with_sample_weight():
    z, y = logits(), labels()
    w = rng(5).random(N)
    per_sample = F.cross_entropy(torch.tensor(z), torch.tensor(y), reduction="none").numpy()
    for none in (None, "none"):
        unreduced = losses.SparseCategoricalCrossentropy(from_logits=True, reduction=none)
        assert_close(unreduced(y, z, sample_weight=w), per_sample * w, what="reduction=None")
        assert unreduced(y, z).shape == (N,)
    mean = losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean")
    assert abs(mean(y, z, sample_weight=w) - np.sum(per_sample * w) / N) < 1e-12
    by_weight = losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")
    assert abs(by_weight(y, z, sample_weight=w) - np.sum(per_sample * w) / np.sum(w)) < 1e-12
    assert abs(by_weight(y, z) - per_sample.mean()) < 1e-12
    check_gradient(by_weight, y, z, sample_weight=w)
    check_gradient(mean, y, z, sample_weight=w)


def test_keras_3_signatures_axis_and_ignore_class():
    # Keras 3: CategoricalCrossentropy(from_logits, label_smoothing, axis, reduction, name),
    # BinaryCrossentropy likewise, SparseCategoricalCrossentropy(from_logits, ignore_class, reduction, name)
    z, y = logits(), labels()
    cce = losses.CategoricalCrossentropy(True, 0.0, -1, "sum")
    assert cce.reduction == "sum"
    expected = F.cross_entropy(torch.tensor(z), torch.tensor(y), reduction="sum").item()
    assert abs(cce(np.eye(C)[y], z) - expected) < 1e-9
    assert losses.BinaryCrossentropy(False, 0.0, -1, "sum").reduction == "sum"
    assert losses.SparseCategoricalCrossentropy(True, None, "sum").reduction == "sum"
    with pytest.raises(ValueError, match="axis"):
        losses.CategoricalCrossentropy(axis=0)
    with pytest.raises(ValueError, match="ignore_class"):
        losses.SparseCategoricalCrossentropy(ignore_class=255)


def test_mean_absolute_error_loss_as_keras():
    t, p = rng(6).standard_normal((N, 3)), rng(7).standard_normal((N, 3))
    for name in ("mae", "mean_absolute_error", "MeanAbsoluteError"):
        loss = losses.get(name)
        assert type(loss) is losses.MeanAbsoluteError and loss.name == "mean_absolute_error"
    loss = losses.MeanAbsoluteError()
    assert abs(loss(t, p) - F.l1_loss(torch.tensor(p), torch.tensor(t)).item()) < 1e-12
    assert_close(losses.mean_absolute_error(t, p), np.abs(p - t).mean(axis=-1), what="per sample")
    check_gradient(loss, t, p)
    assert type(losses.get(losses.mae)) is losses.MeanAbsoluteError
