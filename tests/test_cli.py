"""The ``faltung`` command line, run as a subprocess (``python -m faltung.cli``) on real MNIST."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, SHARED_DATASETS

PICTURES = {"curves.png": (1200, 450), "samples.png": (1000, 1300), "confusion_matrix.png": (900, 900),
            "filters.png": (900, 250), "feature_maps.png": (1200, 600)}
RUN_KEYS = {"format", "model", "model_file", "dataset", "class_names", "input_shape", "outputs",
            "preprocessing", "seed", "epochs", "batch_size", "optimizer", "learning_rate", "lr_schedule",
            "validation_split", "test_split", "augment", "limit", "created", "faltung_version"}


def faltung(*args, cwd, timeout=300):
    env = dict(os.environ, FALTUNG_DATA=str(SHARED_DATASETS), PYTHONPATH=str(REPO), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "faltung.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    assert (SHARED_DATASETS / "mnist").is_dir(), f"test data missing: {SHARED_DATASETS}/mnist"
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def lenet_run(workdir):
    """LeNet-5 trained for 2 epochs on the first 600 MNIST images (and tested on the first 600)."""
    result = faltung("train", "lenet5", "--dataset", "mnist", "--epochs", 2, "--limit", 600,
                     "--batch-size", 32, "--seed", 3, "--out", "runs/lenet", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "Epoch 2/2" in result.stdout  # the progress bar ran
    return workdir / "runs" / "lenet"


@pytest.fixture(scope="module")
def digit_files(workdir):
    from faltung.datasets import mnist
    (_, _), (x_test, y_test) = mnist.load_data(path=SHARED_DATASETS / "mnist")
    paths = []
    for i in range(3):
        paths.append(workdir / f"digit{i}.png")
        Image.fromarray(x_test[i]).save(paths[-1])
    return paths, x_test[:3], y_test[:3]


def assert_one_line_error(result):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "error" in lines[0]


def test_train_writes_the_run_directory(lenet_run):
    names = {p.name for p in lenet_run.iterdir()}
    expected = {"model.faltung", "run.json", "history.csv", "metrics.json", "summary.txt",
                "classification_report.txt", *PICTURES}
    assert expected <= names and not [n for n in names if n.startswith(".tmp")]
    info = json.loads((lenet_run / "run.json").read_text())
    assert RUN_KEYS <= set(info)
    assert info["model"] == "lenet5" and info["dataset"] == "mnist" and info["input_shape"] == [32, 32, 1]
    assert info["class_names"] == [str(d) for d in range(10)] and info["outputs"] == "probabilities"
    assert info["preprocessing"] == {"color_mode": "grayscale", "image_size": [28, 28], "scale": 1 / 255,
                                     "pad": [[2, 2], [2, 2]]}
    metrics = json.loads((lenet_run / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["seed"] == 3 and metrics["test_samples"] == 600
    assert metrics["test_accuracy"] > 0.6 and metrics["time_seconds"] > 0
    with open(lenet_run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    assert float(rows[1]["loss"]) < float(rows[0]["loss"])
    assert "61,706" in (lenet_run / "summary.txt").read_text()
    for name, size in PICTURES.items():
        with Image.open(lenet_run / name) as image:
            assert image.format == "PNG" and image.size == size, name
            assert np.asarray(image.convert("L"), dtype=float).std() > 0, name


def test_the_saved_model_reproduces_the_test_accuracy(lenet_run):
    from faltung.datasets import mnist
    from faltung.models import load_model
    (_, _), (x_test, y_test) = mnist.load_data(path=SHARED_DATASETS / "mnist")
    x = np.pad(x_test[:600].astype(np.float32) / 255, ((0, 0), (2, 2), (2, 2)))[..., None]
    accuracy = (load_model(str(lenet_run / "model.faltung")).predict(x, verbose=0).argmax(1) == y_test[:600]).mean()
    metrics = json.loads((lenet_run / "metrics.json").read_text())
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-9)


def test_evaluate_prints_report_and_saves_confusion_matrix(lenet_run, workdir):
    out = workdir / "cm_eval.png"
    result = faltung("evaluate", lenet_run, "--limit", 600, "--out", out, cwd=workdir)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((lenet_run / "metrics.json").read_text())
    assert f"test accuracy: {metrics['test_accuracy']:.4f}" in result.stdout
    for heading in ("precision", "recall", "f1-score", "support", "accuracy", "macro avg", "weighted avg"):
        assert heading in result.stdout
    assert "confusion matrix" in result.stdout
    with Image.open(out) as image:
        assert image.size == (900, 900)
    assert "600" in result.stdout.split("weighted avg")[1]  # support column


def test_predict_top_k_matches_the_model(lenet_run, digit_files, workdir):
    from faltung.models import load_model
    paths, images, _ = digit_files
    result = faltung("predict", lenet_run, *paths, "--top-k", 3, cwd=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 * 4
    x = np.pad(images.astype(np.float32) / 255, ((0, 0), (2, 2), (2, 2)))[..., None]
    probabilities = load_model(str(lenet_run / "model.faltung")).predict(x, verbose=0)
    for i in range(3):
        assert lines[4 * i] == str(paths[i])
        top = lines[4 * i + 1].split()
        assert top[0] == "1." and top[1] == str(int(probabilities[i].argmax()))
        assert float(top[2].rstrip("%")) == pytest.approx(100 * probabilities[i].max(), abs=0.006)


def test_summary_and_datasets(lenet_run, workdir):
    result = faltung("summary", lenet_run, cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "61,706" in result.stdout and "conv2d" in result.stdout and "lenet5 on mnist" in result.stdout
    result = faltung("summary", lenet_run / "model.faltung", cwd=workdir)  # a model file works too
    assert result.returncode == 0 and "61,706" in result.stdout
    result = faltung("datasets", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert f"mnist          available in {SHARED_DATASETS / 'mnist'}" in result.stdout


def test_resolve_run_directory_and_model_file(lenet_run, tmp_path):
    from faltung.cli.runs import UsageError, resolve
    model_path, info = resolve(lenet_run)
    assert model_path == str(lenet_run / "model.faltung") and info["model"] == "lenet5"
    assert resolve(lenet_run / "model.faltung")[1]["dataset"] == "mnist"
    with pytest.raises(UsageError, match="no model.faltung"):
        resolve(tmp_path)
    with pytest.raises(UsageError, match="no such run directory"):
        resolve(tmp_path / "nothing")


@pytest.mark.parametrize("command", ["", "train", "evaluate", "predict", "summary", "datasets", "explore"])
def test_help_everywhere(command, workdir):
    result = faltung(*([command] if command else []), "--help", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: faltung {command}".rstrip())


@pytest.mark.parametrize("args", [
    ["train", "lenet5", "--epochs", "0"],
    ["train", "lenet5", "--validation-split", "1.5"],
    ["train", "lenet6"],
    ["train", "lenet5", "--dataset", "no_such_folder"],
    ["train", "missing_model.py"],
    ["train", "mnist_cnn", "--dataset", "cifar10", "--out", "x", "--optimizer", "sgdx"],
    ["evaluate", "no_such_run"],
    ["predict", "no_such_run", "x.png"],
    ["summary", "no_such_model.faltung"],
    ["bogus"],
])
def test_bad_arguments_fail_with_one_line(args, workdir):
    assert_one_line_error(faltung(*args, cwd=workdir))
    assert not (workdir / "runs" / "lenet6-mnist").exists()


def test_bad_files_fail_with_one_line(lenet_run, workdir):
    assert_one_line_error(faltung("predict", lenet_run, workdir / "missing.png", cwd=workdir))
    (workdir / "not_an_image.png").write_text("hello")
    assert_one_line_error(faltung("predict", lenet_run, workdir / "not_an_image.png", cwd=workdir))
    (workdir / "broken.faltung").write_bytes(b"not a model")
    assert_one_line_error(faltung("summary", workdir / "broken.faltung", cwd=workdir))
    assert_one_line_error(faltung("evaluate", lenet_run, "--dataset", workdir / "no_folder", cwd=workdir))
    assert_one_line_error(faltung("evaluate", workdir / "broken.faltung", "--dataset", "mnist", cwd=workdir))
    (workdir / "typo_model.py").write_text("from faltung import layers\nmodel = layers.Dense(\n")
    result = faltung("train", "typo_model.py", cwd=workdir)
    assert_one_line_error(result)
    assert "typo_model.py failed" in result.stderr and "SyntaxError" in result.stderr


def test_python_file_model_with_logits_and_augmentation(workdir, digit_files):
    (workdir / "my_model.py").write_text(
        "from faltung import layers, models\n"
        "def build_model():\n"
        "    return models.Sequential([layers.Conv2D(4, 3, activation='relu', input_shape=(28, 28, 1)),\n"
        "                              layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10)])\n")
    result = faltung("train", "my_model.py", "--limit", 300, "--augment", "--out", "runs/mine", "--quiet",
                     cwd=workdir)
    assert result.returncode == 0, result.stderr
    run = workdir / "runs" / "mine"
    info = json.loads((run / "run.json").read_text())
    assert info["outputs"] == "logits" and info["augment"] is True
    assert info["preprocessing"]["pad"] == [[0, 0], [0, 0]]
    result = faltung("predict", run, digit_files[0][0], "--top-k", 10, cwd=workdir)
    assert result.returncode == 0, result.stderr
    percents = [float(line.split()[-1].rstrip("%")) for line in result.stdout.splitlines()[1:]]
    assert len(percents) == 10 and sum(percents) == pytest.approx(100, abs=0.06)  # softmax of the logits


def test_image_folder_dataset(workdir):
    folder = workdir / "shapes"
    rng = np.random.default_rng(0)
    for label, name in enumerate(["horizontal", "vertical"]):
        (folder / name).mkdir(parents=True)
        for i in range(12):
            image = rng.integers(0, 40, (20, 20, 3)).astype(np.uint8)
            stripe = slice(4 + i % 8, 8 + i % 8)
            if label == 0:
                image[stripe, :, :] = 255
            else:
                image[:, stripe, :] = 255
            Image.fromarray(image).save(folder / name / f"{i}.png")
    result = faltung("train", "tiny_vgg", "--dataset", folder, "--epochs", 2, "--validation-split", 0.25,
                     "--out", "runs/shapes", "--quiet", cwd=workdir)
    assert result.returncode == 0, result.stderr
    info = json.loads((workdir / "runs" / "shapes" / "run.json").read_text())
    assert info["class_names"] == ["horizontal", "vertical"] and info["input_shape"] == [64, 64, 3]
    assert info["preprocessing"]["image_size"] == [64, 64] and info["dataset"] == str(folder)
    metrics = json.loads((workdir / "runs" / "shapes" / "metrics.json").read_text())
    # 24 images: 25% (6) held out as the test set; of the other 18, fit validates on the last 25% (4)
    assert (metrics["test_samples"], metrics["train_samples"], metrics["validation_samples"]) == (6, 14, 4)
    assert info["test_split"] == 0.25
    result = faltung("evaluate", workdir / "runs" / "shapes", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "horizontal" in result.stdout and "vertical" in result.stdout


def test_ctrl_c_keeps_the_last_finished_epoch(workdir):
    env = dict(os.environ, FALTUNG_DATA=str(SHARED_DATASETS), PYTHONPATH=str(REPO), MPLBACKEND="Agg")
    run = workdir / "runs" / "interrupted"
    process = subprocess.Popen([sys.executable, "-m", "faltung.cli", "train", "lenet5", "--limit", "200",
                                "--epochs", "500", "--quiet", "--out", str(run)],
                               cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               # a background shell ignores SIGINT and children inherit that: undo it
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not (run / "history.csv").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (run / "history.csv").exists(), "no epoch finished in time"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stdout
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["interrupted"] is True and metrics["epochs"] >= 1
    from faltung.models import load_model
    assert load_model(str(run / "model.faltung")).count_params() == 61_706


def test_cosine_decay_follows_keras_formula():
    import math
    from types import SimpleNamespace

    from faltung.cli.epochs import cosine_decay
    callback = cosine_decay(0.004, total_steps=10)
    callback.set_model(SimpleNamespace(optimizer=SimpleNamespace(learning_rate=1.0)))
    rates = []
    for step in range(12):
        callback.on_train_batch_begin(step)
        rates.append(callback.model.optimizer.learning_rate)
    expected = [0.004 * 0.5 * (1 + math.cos(math.pi * min(s / 10, 1))) for s in range(12)]
    np.testing.assert_allclose(rates, expected)
    assert rates[0] == 0.004 and rates[5] == pytest.approx(0.002) and rates[10] == rates[11] == 0


def test_preprocessing_pads_converts_and_refuses_what_it_cannot_do():
    from faltung.cli import data
    from faltung.cli.runs import UsageError
    plan = data.plan_preprocessing((28, 28, 1), (32, 32, 3))
    assert plan == {"color_mode": "rgb", "image_size": [28, 28], "scale": 1 / 255, "pad": [[2, 2], [2, 2]]}
    raw = np.random.default_rng(0).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    x = data.apply_preprocessing(raw, plan)
    assert x.shape == (2, 32, 32, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 2:30, 2:30, 1], raw / 255, rtol=1e-6)
    assert x[:, :2].max() == 0 and x[:, :, 30:].max() == 0
    rgb = np.random.default_rng(1).integers(0, 256, (1, 5, 5, 3), dtype=np.uint8)
    gray = data.apply_preprocessing(rgb, data.plan_preprocessing((5, 5, 3), (5, 5, 1)))
    np.testing.assert_allclose(gray[..., 0], rgb @ np.array([0.299, 0.587, 0.114]) / 255, rtol=1e-5)
    with pytest.raises(UsageError, match="expects images of 64x64"):
        data.plan_preprocessing((28, 28, 1), (64, 64, 3))
    with pytest.raises(UsageError, match="expects images of 28x28"):
        data.plan_preprocessing((32, 32, 3), (28, 28, 1))


@pytest.mark.parametrize("port", ["-5", "70000", "http"])
def test_explore_bad_port_fails_with_one_line(port, workdir):
    result = faltung("explore", "--no-browser", "--port", port, cwd=workdir, timeout=60)
    assert_one_line_error(result)
    assert "port number in 0..65535" in result.stderr


def test_explore_bad_model_file_fails_with_one_line(workdir):
    (workdir / "text_model.faltung").write_text("hello")
    result = faltung("explore", workdir / "text_model.faltung", "--no-browser", cwd=workdir, timeout=60)
    assert_one_line_error(result)
    assert "not a faltung file" in result.stderr


def test_evaluate_on_another_dataset_keeps_the_runs_confusion_matrix(lenet_run, workdir):
    own = (lenet_run / "confusion_matrix.png").read_bytes()
    result = faltung("evaluate", lenet_run, "--dataset", "fashion_mnist", "--limit", 50, cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert (lenet_run / "confusion_matrix.png").read_bytes() == own
    other = lenet_run / "confusion_matrix-fashion_mnist.png"
    assert other.is_file() and f"saved to {other}" in result.stdout
    retrain = workdir / "runs" / "retrained"
    assert faltung("train", "lenet5", "--limit", 64, "--quiet", "--out", retrain, cwd=workdir).returncode == 0
    (retrain / "confusion_matrix-cifar10.png").write_bytes(other.read_bytes())
    result = faltung("train", "lenet5", "--limit", 64, "--quiet", "--out", retrain, cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert not (retrain / "confusion_matrix-cifar10.png").exists()  # it showed the model trained before


def test_predict_ranks_line_up_and_one_epoch_is_singular(workdir, digit_files):
    result = faltung("train", "lenet5", "--epochs", 1, "--limit", 64, "--validation-split", 0,
                     "--quiet", "--out", "runs/one_epoch", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "(1 epoch in " in result.stdout
    summary = faltung("summary", workdir / "runs" / "one_epoch", cwd=workdir)
    assert "after 1 epoch (" in summary.stdout
    result = faltung("predict", workdir / "runs" / "one_epoch", digit_files[0][0], "--top-k", 10, cwd=workdir)
    assert result.returncode == 0, result.stderr
    ranks = result.stdout.splitlines()[1:]
    assert len(ranks) == 10 and ranks[0].startswith("   1. ") and ranks[9].startswith("  10. ")
    assert len({line.index("%") for line in ranks}) == 1  # the percentages form one column


def test_dataset_names_are_accepted_as_people_spell_them(workdir, lenet_run):
    from faltung.cli.data import dataset_name
    assert [dataset_name(n) for n in ("MNIST", "fashion-mnist", "Fashion_MNIST", "cifar-10", "CIFAR10")] == [
        "mnist", "fashion_mnist", "fashion_mnist", "cifar10", "cifar10"]
    (workdir / "Cifar-10").mkdir(exist_ok=True)  # an existing folder of that name is a folder, not the alias
    assert dataset_name(str(workdir / "Cifar-10")) == str(workdir / "Cifar-10")
    assert dataset_name("my_images") == "my_images"
    result = faltung("evaluate", lenet_run, "--dataset", "Fashion-MNIST", "--limit", 20, cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "dataset: fashion_mnist, 20 test images" in result.stdout
