"""Initializers: Keras's fans, limits and standard deviations, seeding, names."""
import numpy as np
import pytest
from scipy import stats

from faltung import initializers
from faltung.utils import set_random_seed


def test_fans_as_keras_computes_them():
    assert initializers.compute_fans((784, 128)) == (784, 128)          # Dense (in, out)
    assert initializers.compute_fans((5, 5, 6, 16)) == (150, 400)       # Conv2D (kh, kw, in, out)
    assert initializers.compute_fans((10,)) == (10, 10)


def test_truncation_constant_is_the_std_of_a_normal_truncated_at_two_sigma():
    assert abs(initializers._TRUNC_STD - stats.truncnorm(-2, 2).std()) < 1e-12


@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 32, 64)])
def test_glorot_uniform_limits(shape):
    w = initializers.GlorotUniform(seed=0)(shape)
    fan_in, fan_out = initializers.compute_fans(shape)
    limit = np.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    assert abs(w.var() / (limit ** 2 / 3) - 1) < 0.05  # variance of U(-l, l) is l²/3
    assert abs(w.mean()) < 0.02 * limit


def test_he_uniform_limit():
    w = initializers.HeUniform(seed=1)((400, 100))
    limit = np.sqrt(6 / 400)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit


@pytest.mark.parametrize("cls, std_of_fans", [
    (initializers.HeNormal, lambda fi, fo: np.sqrt(2 / fi)),
    (initializers.GlorotNormal, lambda fi, fo: np.sqrt(2 / (fi + fo)))])
def test_truncated_normal_std(cls, std_of_fans):
    shape = (3, 3, 64, 128)
    fan_in, fan_out = initializers.compute_fans(shape)
    target = std_of_fans(fan_in, fan_out)
    w = cls(seed=0)(shape)
    assert abs(w.std() / target - 1) < 0.02          # the truncated samples keep the target std
    assert abs(w.mean()) < 0.01 * target
    # truncated at two standard deviations of the underlying (wider) normal
    assert np.abs(w).max() <= 2 * target / stats.truncnorm(-2, 2).std() + 1e-7


def test_simple_initializers_and_dtype():
    assert initializers.get("zeros")((2, 3)).tolist() == [[0.0] * 3] * 2
    assert initializers.get("ones")((2,)).tolist() == [1.0, 1.0]
    assert initializers.Constant(0.5)((2,), dtype="float64").tolist() == [0.5, 0.5]
    normal = initializers.RandomNormal(mean=1.0, stddev=0.1, seed=3)((200, 100))
    assert abs(normal.mean() - 1.0) < 0.005 and abs(normal.std() - 0.1) < 0.005
    uniform = initializers.RandomUniform(-0.2, 0.3, seed=3)((200, 100))
    assert uniform.min() >= -0.2 and uniform.max() <= 0.3
    assert initializers.get("glorot_uniform")((3, 3)).dtype == np.float32
    assert initializers.get("he_normal")((3, 3), dtype="float64").dtype == np.float64


def test_same_seed_gives_same_numbers():
    shape = (4, 5)
    assert np.array_equal(initializers.GlorotUniform(seed=7)(shape), initializers.GlorotUniform(seed=7)(shape))
    assert not np.array_equal(initializers.GlorotUniform(seed=7)(shape),
                              initializers.GlorotUniform(seed=8)(shape))
    runs = []
    for _ in range(2):
        set_random_seed(123)
        runs.append([initializers.get(name)(shape) for name in ("glorot_uniform", "he_normal", "glorot_uniform")])
    for a, b in zip(*runs):
        assert np.array_equal(a, b)
    assert not np.array_equal(runs[0][0], runs[0][2])  # the global generator moves on between draws


def test_get_serialize_and_errors():
    init = initializers.RandomNormal(mean=0.5, stddev=2.0, seed=4)
    clone = initializers.get(initializers.serialize(init))
    assert isinstance(clone, initializers.RandomNormal) and clone.get_config() == init.get_config()
    assert np.array_equal(clone((3,)), init((3,)))
    assert initializers.get(init) is init
    with pytest.raises(ValueError, match="unknown initializer 'glorot'.*glorot_uniform"):
        initializers.get("glorot")
    with pytest.raises(ValueError, match="initializer: expected a name"):
        initializers.get(42)


def test_keras_class_names_are_accepted_too():
    # Keras 3 resolves "HeNormal" as well as "he_normal", and its own serialised dicts
    # name the class: {"class_name": "GlorotUniform", "config": {"seed": None}}
    assert isinstance(initializers.get("HeNormal"), initializers.HeNormal)
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)
    clone = initializers.get({"class_name": "RandomUniform", "config": {"minval": 1.0, "maxval": 2.0,
                                                                       "seed": 3}})
    assert isinstance(clone, initializers.RandomUniform)
    values = clone((50,))
    assert values.min() >= 1.0 and values.max() <= 2.0


def test_variance_scaling_family_as_keras_3():
    shape = (3, 3, 32, 64)
    fan_in, fan_out = initializers.compute_fans(shape)
    # Keras defines he_normal / glorot_uniform as VarianceScaling presets: the same draws
    vs = initializers.VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal", seed=5)
    np.testing.assert_array_equal(vs(shape), initializers.HeNormal(seed=5)(shape))
    vs = initializers.VarianceScaling(scale=1.0, mode="fan_avg", distribution="uniform", seed=5)
    np.testing.assert_array_equal(vs(shape), initializers.GlorotUniform(seed=5)(shape))
    # lecun_normal: truncated normal with std √(1 / fan_in); lecun_uniform: limit √(3 / fan_in)
    w = initializers.get("lecun_normal")(shape)
    assert abs(w.std() / np.sqrt(1 / fan_in) - 1) < 0.03
    w = initializers.get("lecun_uniform")(shape)
    limit = np.sqrt(3 / fan_in)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    w = initializers.VarianceScaling(3.0, "fan_out", "untruncated_normal", seed=2)(shape)
    assert abs(w.std() / np.sqrt(3 / fan_out) - 1) < 0.03 and np.abs(w).max() > 2 * np.sqrt(3 / fan_out)
    # TruncatedNormal: N(mean, stddev²) redrawn outside mean ± 2·stddev (stddev not rescaled)
    w = initializers.TruncatedNormal(mean=1.0, stddev=0.1, seed=4)((200, 100))
    assert w.min() >= 0.8 and w.max() <= 1.2
    assert abs(w.std() - 0.1 * stats.truncnorm(-2, 2).std()) < 0.002
    clone = initializers.get(initializers.serialize(initializers.VarianceScaling(0.5, "fan_out", seed=1)))
    assert clone.get_config() == {"scale": 0.5, "mode": "fan_out", "distribution": "truncated_normal",
                                  "seed": 1}
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_max")
