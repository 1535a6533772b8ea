"""``model.summary()`` against the parameter counts printed in the lecture seeds (golden values)."""
import re
from functools import partial

import faltung
from faltung import layers as L


def _summary(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


def _rows(lines):
    """(name, type, output shape, params) for each table row."""
    rows = []
    for line in lines:
        match = re.match(r"│ (\S+) \((\w+)\)\s*│ (\(.*?\))\s*│\s*([\d,]+) │", line)
        if match:
            rows.append((match[1], match[2], match[3], int(match[4].replace(",", ""))))
    return rows


def _totals(lines):
    text = "\n".join(lines)
    return tuple(int(re.search(rf" {what} params: ([\d,]+)", text)[1].replace(",", ""))
                 for what in ("Total", "Trainable", "Non-trainable"))


def test_seed_001_fashion_mnist_model():
    DefaultConv2D = partial(L.Conv2D, kernel_size=3, activation="relu", padding="SAME")
    model = faltung.models.Sequential([
        DefaultConv2D(filters=64, kernel_size=7, input_shape=[28, 28, 1]),
        L.MaxPooling2D(pool_size=2),
        DefaultConv2D(filters=128), DefaultConv2D(filters=128),
        L.MaxPooling2D(pool_size=2),
        DefaultConv2D(filters=256), DefaultConv2D(filters=256),
        L.MaxPooling2D(pool_size=2),
        L.Flatten(),
        L.Dense(units=128, activation="relu"), L.Dropout(0.5),
        L.Dense(units=64, activation="relu"), L.Dropout(0.5),
        L.Dense(units=10, activation="softmax"),
    ])
    lines = _summary(model)
    assert lines[0] == 'Model: "sequential"'
    rows = _rows(lines)
    assert rows == [
        ("conv2d", "Conv2D", "(None, 28, 28, 64)", 3200),
        ("max_pooling2d", "MaxPooling2D", "(None, 14, 14, 64)", 0),
        ("conv2d_1", "Conv2D", "(None, 14, 14, 128)", 73856),
        ("conv2d_2", "Conv2D", "(None, 14, 14, 128)", 147584),
        ("max_pooling2d_1", "MaxPooling2D", "(None, 7, 7, 128)", 0),
        ("conv2d_3", "Conv2D", "(None, 7, 7, 256)", 295168),
        ("conv2d_4", "Conv2D", "(None, 7, 7, 256)", 590080),
        ("max_pooling2d_2", "MaxPooling2D", "(None, 3, 3, 256)", 0),
        ("flatten", "Flatten", "(None, 2304)", 0),
        ("dense", "Dense", "(None, 128)", 295040),
        ("dropout", "Dropout", "(None, 128)", 0),
        ("dense_1", "Dense", "(None, 64)", 8256),
        ("dropout_1", "Dropout", "(None, 64)", 0),
        ("dense_2", "Dense", "(None, 10)", 650),
    ]
    assert _totals(lines) == (1413834, 1413834, 0)
    assert " Total params: 1,413,834 (5.39 MB)" in lines


def test_seed_004_cifar_model():
    my_model = faltung.Sequential()
    my_model.add(L.Conv2D(32, (3, 3), padding="same", activation="relu", input_shape=(32, 32, 3)))
    my_model.add(L.Conv2D(32, (3, 3), padding="same", activation="relu"))
    my_model.add(L.MaxPooling2D(pool_size=(2, 2)))
    my_model.add(L.Conv2D(64, (3, 3), padding="same", activation="relu"))
    my_model.add(L.Conv2D(64, (3, 3), padding="same", activation="relu"))
    my_model.add(L.MaxPooling2D(pool_size=(2, 2)))
    my_model.add(L.Conv2D(128, (3, 3), padding="same", activation="relu"))
    my_model.add(L.Conv2D(128, (3, 3), padding="same", activation="relu"))
    my_model.add(L.MaxPooling2D(pool_size=(2, 2)))
    my_model.add(L.Flatten())
    my_model.add(L.Dropout(0.5))
    my_model.add(L.Dense(128, activation="relu"))
    my_model.add(L.Dense(64, activation="relu"))
    my_model.add(L.Dense(10, activation="softmax"))
    lines = _summary(my_model)
    params = [r[3] for r in _rows(lines)]
    assert params == [896, 9248, 0, 18496, 36928, 0, 73856, 147584, 0, 0, 0, 262272, 8256, 650]
    assert _rows(lines)[9][2] == "(None, 2048)"
    assert _totals(lines) == (558186, 558186, 0)


def test_seed_001_lenet5():
    model = faltung.Sequential([
        L.Conv2D(filters=6, kernel_size=(5, 5), activation="tanh", input_shape=(32, 32, 1), padding="valid"),
        L.AveragePooling2D(pool_size=(2, 2), strides=2),
        L.Conv2D(filters=16, kernel_size=(5, 5), activation="tanh", padding="valid"),
        L.AveragePooling2D(pool_size=(2, 2), strides=2),
        L.Conv2D(filters=120, kernel_size=(5, 5), activation="tanh", padding="valid"),
        L.Flatten(),
        L.Dense(units=84, activation="tanh"),
        L.Dense(units=10, activation="softmax")])
    rows = _rows(_summary(model))
    assert [r[3] for r in rows] == [156, 0, 2416, 0, 48120, 0, 10164, 850]
    assert rows[4][2] == "(None, 1, 1, 120)"
    assert model.count_params() == 61706


def test_seed_000_mnist_model():
    model = faltung.Sequential()
    model.add(L.Conv2D(128, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(L.MaxPooling2D(pool_size=(2, 2)))
    model.add(L.Conv2D(128, kernel_size=(3, 3), activation="relu"))
    model.add(L.MaxPooling2D(pool_size=(2, 2)))
    model.add(L.Flatten())
    model.add(L.Dense(128, activation="relu"))
    model.add(L.Dense(10, activation="softmax"))
    lines = _summary(model)
    assert [r[3] for r in _rows(lines)] == [1280, 0, 147584, 0, 0, 409728, 1290]
    assert _totals(lines) == (559882, 559882, 0)


def test_batch_normalization_moving_statistics_are_non_trainable():
    model = faltung.Sequential([L.Conv2D(4, 3, input_shape=(6, 6, 2)), L.BatchNormalization(),
                                L.Flatten(), L.Dense(2)])
    lines = _summary(model)
    assert [r[3] for r in _rows(lines)] == [76, 16, 0, 130]
    assert _totals(lines) == (222, 214, 8)
    assert " Non-trainable params: 8 (32.00 B)" in lines


def test_functional_summary_shows_input_layer_and_connections():
    inp = faltung.Input((4,))
    a = L.Dense(3)(inp)
    b = L.Dense(3)(inp)
    out = L.Add()([a, b])
    model = faltung.Model(inp, out, name="two_paths")
    lines = _summary(model)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "two_paths"'
    assert "Connected to" in lines[2]
    assert re.search(r"│ input_layer \(InputLayer\)\s*│ \(None, 4\)\s*│\s*0 │ -", text)
    assert re.search(r"│ add \(Add\)\s*│ \(None, 3\)\s*│\s*0 │ dense\[0\]\[0\]", text)
    assert re.search(r"│\s*│\s*│\s*│ dense_1\[0\]\[0\]", text)
    assert _totals(lines) == (30, 30, 0)


def test_summary_of_an_unbuilt_sequential_says_so():
    lines = _summary(faltung.Sequential([L.Dense(3)]))
    assert any("dense (Dense)" in line and "0 (unbuilt)" in line for line in lines)
