"""The progress output: Keras 3's line format, throttled redraws, quiet when not a terminal."""
import io
import re

import numpy as np

import faltung
from faltung import layers as L
from faltung.models.progress import ProgressBar, format_duration, format_elapsed, format_step_time

FINAL_LINE = re.compile(r"^(\d+)/(\d+) ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$")


def _fit(verbose, epochs=2):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 4)).astype(np.float32), rng.integers(0, 2, 20)
    model = faltung.Sequential([L.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=8, verbose=verbose)
    return model, x, y


def test_verbose_1_prints_one_final_line_per_epoch_when_not_a_terminal(capsys):
    _fit(verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for line in (lines[1], lines[3]):
        match = FINAL_LINE.match(line)
        assert match, line
        assert match[1] == match[2] == "3"


def test_auto_is_verbose_1_and_0_is_silent(capsys):
    _fit(verbose="auto", epochs=1)
    assert capsys.readouterr().out.startswith("Epoch 1/1\n3/3 ━")
    model, x, y = _fit(verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_verbose_2_prints_one_line_per_epoch(capsys):
    _fit(verbose=2, epochs=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/1"
    assert re.match(r"^3/3 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$", lines[1])
    assert len(lines) == 2


def test_evaluate_and_predict_bars(capsys):
    model, x, y = _fit(verbose=0)
    capsys.readouterr()
    model.evaluate(x, y, batch_size=5, verbose=1)
    model.predict(x, batch_size=32, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert re.match(r"^4/4 ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$", lines[0])
    assert re.match(r"^1/1 ━{20} \d+s \d+(us|ms|s)/step$", lines[1])


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_redraws_are_throttled_to_the_interval():
    stream = _Terminal()
    bar = ProgressBar(10000, verbose=1, stream=stream, interval=0.1)
    for step in range(1, 10001):
        bar.update(step, {"loss": 0.5})
    bar.update(10000, {"loss": 0.5}, finalize=True)
    frames = stream.getvalue().split("\r")[1:]
    assert 1 <= len(frames) < 10  # 10000 updates in far less than a second: a handful of frames
    assert frames[-1].endswith("\n") and "10000/10000" in frames[-1]
    assert "loss: 0.5000" in frames[-1]


def test_time_formats_as_keras():
    assert format_duration(12.2) == "12s"
    assert format_duration(187) == "3:07"
    assert format_duration(3723) == "1:02:03"
    # a finished epoch's time is whole seconds however long, as Keras 3 prints it ("144s", not "2:24")
    assert format_elapsed(144.2) == "144s" and format_elapsed(3723) == "3723s" and format_elapsed(0.4) == "0s"
    assert format_step_time(0.006) == "6ms/step"
    assert format_step_time(0.0004) == "400us/step"
    assert format_step_time(2.0) == "2s/step"


def test_a_long_epoch_prints_its_time_in_seconds_and_the_eta_as_minutes(monkeypatch):
    import io

    from faltung.models import progress
    clock = iter([0.0, 72.0, 144.0])  # start, half way, done
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    stream = io.StringIO()
    stream.isatty = lambda: True  # an interactive bar shows the ETA while running
    bar = ProgressBar(10, verbose=1, stream=stream, interval=0)
    bar.update(5)
    bar.update(10, finalize=True)
    running, final = stream.getvalue().split("\r")[1:3]
    assert "1:12" in running  # 72 s left
    assert " 144s " in final and "2:24" not in final
