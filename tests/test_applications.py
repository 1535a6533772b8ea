"""The model zoo: parameter counts against the seeds' summaries and the papers, names, and that the
small models learn (a few train_on_batch steps on a fixed tiny batch lower the loss)."""
import numpy as np
import pytest

from faltung import applications
from faltung.layers import Input
from faltung.models import Model
from faltung.optimizers import Adam
from faltung.rng import set_random_seed


def conv_params(k, c_in, c_out, bias=True):
    return k * k * c_in * c_out + (c_out if bias else 0)


@pytest.mark.parametrize("name, expected", [
    ("lenet5", 61_706),        # seed 001 (156 + 2,416 + 48,120 + 10,164 + 850)
    ("mnist_cnn", 559_882),    # seed 000
    ("fashion_cnn", 1_413_834),  # seed 001's summary: "Total params: 1,413,834"
    ("cifar_cnn", 558_186),    # seed 004's summary: "Total params: 558,186"
    ("tiny_vgg", 19_920),      # CNN Explainer's Tiny VGG on 64x64x3
    ("resnet20", 274_042),     # see resnet.py's docstring for the sum
])
def test_parameter_counts(name, expected):
    assert applications.get(name)().count_params() == expected


def test_seed_summaries_layer_by_layer():
    # seed 001's summary: 3200, 73856, 147584, 295168, 590080, 295040, 8256, 650 (pooling/dropout 0)
    counts = [layer.count_params() for layer in applications.fashion_cnn().layers]
    assert [c for c in counts if c] == [3200, 73856, 147584, 295168, 590080, 295040, 8256, 650]
    # seed 004's CIFAR summary
    counts = [layer.count_params() for layer in applications.cifar_cnn().layers]
    assert [c for c in counts if c] == [896, 9248, 18496, 36928, 73856, 147584, 262272, 8256, 650]


def test_lenet5_shapes_follow_the_lecture():
    model = applications.lenet5()
    assert model.input_shape == (None, 32, 32, 1)
    assert [tuple(layer.compute_output_shape(layer.input_shape)) for layer in model.layers][:5] == [
        (None, 28, 28, 6), (None, 14, 14, 6), (None, 10, 10, 16), (None, 5, 5, 16), (None, 1, 1, 120)]
    assert model.output_shape == (None, 10)


def test_vgg16_matches_seed_004_summary():
    set_random_seed(0)
    model = applications.vgg16()
    assert model.count_params() == 138_357_544
    names = [layer.name for layer in model.layers if layer.count_params()]
    assert names[:2] == ["block1_conv1", "block1_conv2"] and names[-3:] == ["fc1", "fc2", "predictions"]
    assert len([n for n in names if "conv" in n]) == 13
    expected = {"block1_conv1": 1792, "block3_conv1": 295168, "block5_conv3": 2359808,
                "fc1": 102764544, "fc2": 16781312, "predictions": 4097000}
    for name, count in expected.items():
        assert model.get_layer(name).count_params() == count, name
    assert model.get_layer("block5_pool").compute_output_shape((None, 14, 14, 512)) == (None, 7, 7, 512)
    assert model.output_shape == (None, 1000)


def test_vgg16_without_top_and_pooling():
    base = applications.vgg16(include_top=False, input_shape=(32, 32, 3))
    assert base.count_params() == 14_714_688  # the 13 convolutions only
    assert base.output_shape == (None, 1, 1, 512)
    pooled = applications.vgg16(include_top=False, input_shape=(64, 64, 3), pooling="avg")
    assert pooled.output_shape == (None, 512)


def test_vgg16_has_no_pretrained_weights():
    with pytest.raises(ValueError, match="no pretrained weights"):
        applications.vgg16(weights="imagenet")
    with pytest.raises(ValueError, match="pooling"):
        applications.vgg16(include_top=False, pooling="median")


def test_inception_3a_has_googlenet_parameter_count():
    x = Input(shape=(28, 28, 192))
    y = applications.inception_module(x, 64, 128, 32, 32, reduce_3x3=96, reduce_5x5=16, bottleneck=True)
    model = Model(x, y)
    assert model.output_shape == (None, 28, 28, 256)
    weights = (192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32)
    assert weights == 163_328  # GoogLeNet table 1, inception (3a): "159K" = 163,328 / 1024
    assert model.count_params() == weights + (64 + 96 + 128 + 16 + 32 + 32)


def test_naive_inception_concatenates_the_pooled_input():
    x = Input(shape=(8, 8, 5))
    model = Model(x, applications.inception_module(x, 4, 6, 2, bottleneck=False, name="naive"))
    assert model.output_shape == (None, 8, 8, 4 + 6 + 2 + 5)
    assert model.count_params() == conv_params(1, 5, 4) + conv_params(3, 5, 6) + conv_params(5, 5, 2)
    out = model.predict(np.random.default_rng(0).random((2, 8, 8, 5), dtype=np.float32), verbose=0)
    assert out.shape == (2, 8, 8, 17)


def test_densenet_parameters_follow_the_growth_rule():
    k, c0 = 4, 8
    model = applications.densenet(input_shape=(16, 16, 3), classes=5, blocks=(2, 3), growth_rate=k)
    # stem: 3x3 conv 3 -> 2k; block 1: layer l sees c0 + (l-1)k channels (BN: 4 per channel)
    expected = conv_params(3, 3, c0, bias=False)
    channels = c0
    for layer in range(2):
        expected += 4 * channels + conv_params(3, channels, k, bias=False)
        channels += k
    expected += 4 * channels + conv_params(1, channels, channels // 2, bias=False)  # transition
    channels //= 2
    for layer in range(3):
        expected += 4 * channels + conv_params(3, channels, k, bias=False)
        channels += k
    expected += 4 * channels + channels * 5 + 5  # final BN and the classifier
    assert model.count_params() == expected
    assert model.get_layer("block2_out").compute_output_shape(
        [(None, 8, 8, 8), (None, 8, 8, 4), (None, 8, 8, 4), (None, 8, 8, 4)]) == (None, 8, 8, 20)


def _loss_drops(model, input_shape, steps=10, classes=10, batch=8, learning_rate=0.005):
    rng = np.random.default_rng(1)
    x = rng.random((batch,) + tuple(input_shape), dtype=np.float32)
    y = np.arange(batch) % classes
    model.compile(optimizer=Adam(learning_rate=learning_rate), loss="sparse_categorical_crossentropy")
    losses = [float(np.ravel(model.train_on_batch(x, y))[0]) for _ in range(steps)]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.85 * losses[0], losses


@pytest.mark.parametrize("name, kwargs, shape", [
    ("lenet5", {}, (32, 32, 1)),
    ("tiny_vgg", {"input_shape": (24, 24, 3)}, (24, 24, 3)),
    ("inception_net", {"input_shape": (8, 8, 3)}, (8, 8, 3)),
    ("densenet", {"input_shape": (16, 16, 3), "blocks": (2, 2), "growth_rate": 6}, (16, 16, 3)),
    ("resnet20", {"input_shape": (8, 8, 3)}, (8, 8, 3)),
])
def test_small_models_learn_a_tiny_batch(name, kwargs, shape):
    set_random_seed(0)
    _loss_drops(applications.get(name)(**kwargs), shape)


def test_seed_000_model_learns_a_tiny_batch():
    set_random_seed(0)
    _loss_drops(applications.mnist_cnn(), (28, 28, 1), learning_rate=0.001)


def test_zoo_lookup():
    assert set(applications.NAMES) == set(applications.ZOO)
    assert applications.get("lenet5") is applications.lenet5
    with pytest.raises(ValueError, match="unknown model 'lenet6'.*lenet5"):
        applications.get("lenet6")
