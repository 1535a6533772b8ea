"""Activation functions: forward vs PyTorch, backward vs finite differences, stability, names."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faltung import activations
from tests.gradcheck import assert_close, numeric_gradient

TORCH_REFERENCE = {
    "linear": lambda t: t,
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda t: torch.softmax(t, dim=-1),
    "elu": F.elu,
    "gelu": F.gelu,                                       # exact erf form (Keras approximate=False)
    "softplus": F.softplus,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.2),         # keras.activations.leaky_relu default
    "silu": F.silu,
    "swish": F.silu,
    "selu": F.selu,                                       # Keras 3's α, scale are SELU's constants
    "relu6": F.relu6,
    "hard_sigmoid": F.hardsigmoid,                        # Keras 3: relu6(x + 3) / 6
    "softsign": F.softsign,
}
NAMES = sorted(activations._BY_NAME)


def sample(shape=(4, 5), seed=0):
    x = np.random.default_rng(seed).standard_normal(shape) * 2
    x[np.abs(x) < 0.02] = 0.05  # keep finite differences away from the kink at 0
    return x


def test_every_name_has_a_reference():
    assert set(NAMES) == set(TORCH_REFERENCE)


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_torch(name):
    x = sample()
    expected = TORCH_REFERENCE[name](torch.tensor(x)).numpy()
    assert_close(activations.get(name).forward(x), expected, rtol=1e-7, atol=1e-12, what=name)


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_finite_differences(name):
    fn = activations.get(name)
    x = sample()
    y = fn.forward(x)
    dy = np.random.default_rng(1).standard_normal(x.shape)
    numeric = numeric_gradient(lambda: float(np.sum(fn.forward(x) * dy)), x)
    # an activation that needs only y must get the right answer without x
    analytic = fn.backward(dy, None if fn.needs_only_output else x, y)
    assert_close(analytic, numeric, rtol=1e-5, atol=1e-8, what=f"{name} backward")


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out_and_no_overflow(name):
    fn = activations.get(name)
    x = np.array([[-1000.0, -30.0, 0.5, 30.0, 1000.0]], dtype=np.float32)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        y = fn.forward(x)
        dx = fn.backward(np.ones_like(x), x, y)
    assert y.dtype == np.float32 and dx.dtype == np.float32, name
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx)), name


def test_known_values():
    x = np.array([-1000.0, 0.0, 1000.0])
    assert_close(activations.sigmoid(x), [0.0, 0.5, 1.0], what="sigmoid")
    assert_close(activations.get("softplus")(x), [0.0, np.log(2), 1000.0], what="softplus")
    assert_close(activations.softmax(np.array([[1000.0, 1000.0]])), [[0.5, 0.5]], what="softmax")
    assert_close(activations.relu(x), [0.0, 0.0, 1000.0], what="relu")
    assert_close(activations.tanh(np.array([0.0, 1000.0])), [0.0, 1.0], what="tanh")


def test_get_and_errors():
    assert isinstance(activations.get(None), activations.Linear)
    relu = activations.get("ReLU")
    assert isinstance(relu, activations.ReLU) and activations.get(relu) is relu
    assert activations.serialize(activations.get("swish")) == "silu"
    # Keras code passes the functions themselves: Dense(64, activation=keras.activations.relu)
    for function in (activations.relu, activations.sigmoid, activations.tanh, activations.softmax):
        assert activations.get(function).name == function.__name__
    with pytest.raises(ValueError, match="unknown activation 'rectifier'.*'relu'"):
        activations.get("rectifier")
    with pytest.raises(ValueError, match="activation: expected a name"):
        activations.get(3)


def test_activation_parameters_survive_a_config_round_trip():
    from faltung import activations
    from faltung.layers import Conv2D
    layer = Conv2D(3, 3, activation=activations.LeakyReLU(negative_slope=0.1))
    config = layer.get_config()
    assert Conv2D.from_config(config).activation.negative_slope == 0.1
    assert activations.serialize(activations.get("elu")) == "elu"
