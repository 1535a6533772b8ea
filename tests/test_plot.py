"""faltung.plot: each picture is a valid, non-blank PNG of the expected pixel size; the classic
kernels are applied by faltung's Conv2D exactly as SciPy's cross-correlation does."""
import numpy as np
import pytest
from PIL import Image
from scipy import signal

from faltung import applications, plot
from faltung.rng import set_random_seed


def assert_png(path, size):
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == size
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    assert pixels.std() > 0, "blank picture"
    return pixels


def digits(n=6, size=28):
    """Little synthetic 'images': a bright square at a different place in each."""
    images = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        images[i, 4 + 2 * i:12 + 2 * i, 6:20] = 255
    return images


def test_history_curves(tmp_path):
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
               "accuracy": [0.6, 0.8, 0.9], "val_accuracy": [0.55, 0.7, 0.75]}
    figure = plot.plot_history(history, tmp_path / "curves.png", title="test run")
    assert_png(tmp_path / "curves.png", (1200, 450))
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["Train Loss: 0.400, Val Loss: 0.700", "Train Accuracy: 0.900, Val Accuracy: 0.750"]
    with pytest.raises(ValueError, match="loss"):
        plot.plot_history({"accuracy": [1.0]})


def test_samples_mark_mistakes_in_red(tmp_path):
    images = digits()
    y_true = np.array([0, 1, 2, 3, 4, 5])
    y_pred = np.array([0, 1, 7, 3, 4, 9])
    figure = plot.plot_samples(images, y_true, y_pred, [f"class {i}" for i in range(10)],
                               tmp_path / "samples.png", count=6, columns=3)
    assert_png(tmp_path / "samples.png", (600, 550))
    colors = [ax.title.get_color() for ax in figure.axes]
    assert [c == plot.MISTAKE_COLOR for c in colors] == [False, False, True, False, False, True]
    assert "2 of 6 wrong" in figure._suptitle.get_text()
    assert figure.axes[2].get_title() == "true: class 2\npred: class 7"


def test_samples_accept_rgb_floats(tmp_path):
    images = np.random.default_rng(0).random((4, 8, 8, 3))
    plot.plot_samples(images, [0, 1, 0, 1], path=tmp_path / "rgb.png", count=4, columns=4)
    assert_png(tmp_path / "rgb.png", (800, 300))
    with pytest.raises(ValueError, match="one label per image"):
        plot.plot_samples(images, [0, 1])


def test_confusion_matrix_picture(tmp_path):
    matrix = np.diag(np.arange(10, 20)) + 1
    figure = plot.plot_confusion_matrix(matrix, [str(i) for i in range(10)], tmp_path / "cm.png")
    pixels = assert_png(tmp_path / "cm.png", (900, 900))
    assert "accuracy" in figure.axes[0].get_title()
    assert (pixels[..., 2] > pixels[..., 0] + 40).any()  # blue cells are drawn
    with pytest.raises(ValueError, match="square"):
        plot.plot_confusion_matrix(np.zeros((2, 3)))


def test_filters_and_feature_maps_of_lenet5(tmp_path):
    set_random_seed(0)
    model = applications.lenet5()
    figure = plot.plot_filters(model, path=tmp_path / "filters.png")
    assert_png(tmp_path / "filters.png", (900, 250))  # 6 filters in one row of 1.5-inch cells
    assert "5x5, 1 -> 6" in figure._suptitle.get_text()
    image = np.pad(digits(1)[0], 2)[..., None].astype(np.float32) / 255
    first, second = [layer.name for layer in model.layers[:3:2]]
    maps = plot.feature_maps(model, image, [first, second])
    assert [m.shape for m in maps] == [(28, 28, 6), (10, 10, 16)]
    # the first conv's maps are tanh(conv(image) + b): compare with the layer run directly
    np.testing.assert_allclose(maps[0], model.layers[0](image[None])[0], rtol=1e-5, atol=1e-6)
    plot.plot_feature_maps(model, image, [first, second], path=tmp_path / "maps.png")
    # 8 columns x 1.5 in wide; rows: 1 (6 maps) and 2 (16 maps) -> 2.0 + 3.5 + 0.5 inches
    assert_png(tmp_path / "maps.png", (1200, 600))
    with pytest.raises(ValueError, match="no layer named"):
        plot.plot_filters(model, "nope")


def test_classic_kernels_equal_scipy_cross_correlation(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (20, 24, 3)).astype(np.uint8)
    results = plot.apply_kernels(image)
    assert list(results) == list(plot.CLASSIC_KERNELS)
    gray = image.astype(np.float64) / 255 @ np.array([0.299, 0.587, 0.114])
    for name, kernel in plot.CLASSIC_KERNELS.items():
        expected = signal.correlate2d(gray, kernel, mode="same", boundary="fill")
        np.testing.assert_allclose(results[name], expected, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(results["identity"], gray, atol=1e-6)
    plot.plot_classic_kernels(image, tmp_path / "kernels.png")
    assert_png(tmp_path / "kernels.png", (1750, 550))


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    plot.plot_history({"loss": [1.0, 0.5]}, tmp_path / "sub" / "only_loss.png")
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["only_loss.png"]
    assert_png(tmp_path / "sub" / "only_loss.png", (1200, 450))


def _overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_tall_feature_maps_and_many_filters_keep_the_title_clear(tmp_path):
    from faltung.layers import Conv2D
    from faltung.models import Sequential
    set_random_seed(0)
    layers = [Conv2D(40, 3, padding="same", activation="relu", input_shape=(8, 8, 1))]
    layers += [Conv2D(40, 3, padding="same", activation="relu") for _ in range(4)]
    model = Sequential(layers)
    image = np.random.default_rng(0).random((8, 8, 1), dtype=np.float32)
    figure = plot.plot_feature_maps(model, image)  # 5 layers x 3 rows: a tall figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    renderer = FigureCanvasAgg(figure).get_renderer()
    title = figure._suptitle.get_window_extent(renderer)
    first = figure.axes[0].title.get_window_extent(renderer)
    assert not _overlap(title, first), (title, first)
    filters = plot.plot_filters(model, max_filters=16)
    assert "1 -> 40 channels, the first 16" in filters._suptitle.get_text()
    assert len(filters.axes) == 16
