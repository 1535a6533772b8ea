"""The four seed models of the benchmark, for faltung and for PyTorch, from one layer list each.

  name      seed  input        params     layers
  lenet5    001   32x32x1      61,706     conv5x5(6,tanh) avg conv5x5(16,tanh) avg conv5x5(120,tanh) dense84 dense10
  mnist128  000   28x28x1     559,882     conv3x3(128) max conv3x3(128) max dense128 dense10
  fashion   001   28x28x1   1,413,834     conv7x7(64,same) max 2x conv3x3(128) max 2x conv3x3(256) max
                                          dense128 drop dense64 drop dense10
  cifar     004   32x32x3     558,186     3 blocks of 2x conv3x3(same) + max (32, 64, 128 filters),
                                          drop dense128 dense64 dense10

faltung builds them with its model zoo (``faltung.applications``); PyTorch builds them from
``SPECS`` (NCHW ``nn.Sequential``, the final softmax left to ``CrossEntropyLoss``). ``flops``
counts 2 x multiply-accumulates of the conv and dense layers (pooling, bias, activations and
softmax are ignored: each is under 1%).
"""
SPECS = {
    "lenet5": {"input": (32, 32, 1), "zoo": "lenet5", "params": 61_706, "layers": [
        ("conv", 6, 5, "valid", "tanh"), ("pool", "avg"),
        ("conv", 16, 5, "valid", "tanh"), ("pool", "avg"),
        ("conv", 120, 5, "valid", "tanh"), ("flatten",),
        ("dense", 84, "tanh"), ("dense", 10, None)]},
    "mnist128": {"input": (28, 28, 1), "zoo": "mnist_cnn", "params": 559_882, "layers": [
        ("conv", 128, 3, "valid", "relu"), ("pool", "max"),
        ("conv", 128, 3, "valid", "relu"), ("pool", "max"), ("flatten",),
        ("dense", 128, "relu"), ("dense", 10, None)]},
    "fashion": {"input": (28, 28, 1), "zoo": "fashion_cnn", "params": 1_413_834, "layers": [
        ("conv", 64, 7, "same", "relu"), ("pool", "max"),
        ("conv", 128, 3, "same", "relu"), ("conv", 128, 3, "same", "relu"), ("pool", "max"),
        ("conv", 256, 3, "same", "relu"), ("conv", 256, 3, "same", "relu"), ("pool", "max"),
        ("flatten",), ("dense", 128, "relu"), ("dropout", 0.5),
        ("dense", 64, "relu"), ("dropout", 0.5), ("dense", 10, None)]},
    "cifar": {"input": (32, 32, 3), "zoo": "cifar_cnn", "params": 558_186, "layers": [
        ("conv", 32, 3, "same", "relu"), ("conv", 32, 3, "same", "relu"), ("pool", "max"),
        ("conv", 64, 3, "same", "relu"), ("conv", 64, 3, "same", "relu"), ("pool", "max"),
        ("conv", 128, 3, "same", "relu"), ("conv", 128, 3, "same", "relu"), ("pool", "max"),
        ("flatten",), ("dropout", 0.5), ("dense", 128, "relu"), ("dense", 64, "relu"),
        ("dense", 10, None)]},
}
MODELS = list(SPECS)


def _check_name(name):
    if name not in SPECS:
        raise ValueError(f"unknown benchmark model {name!r}: expected one of {MODELS}")
    return SPECS[name]


def _shapes(spec):
    """Yield (layer, input shape (H, W, C) or (features,), output shape) through the spec."""
    shape = spec["input"]
    for layer in spec["layers"]:
        kind = layer[0]
        if kind == "conv":
            _, filters, k, padding, _ = layer
            h, w, _ = shape
            out = (h, w, filters) if padding == "same" else (h - k + 1, w - k + 1, filters)
        elif kind == "pool":
            out = (shape[0] // 2, shape[1] // 2, shape[2])
        elif kind == "flatten":
            out = (shape[0] * shape[1] * shape[2],)
        elif kind == "dense":
            out = (layer[1],)
        else:
            out = shape
        yield layer, shape, out
        shape = out


def flops(name):
    """Forward FLOPs per image: 2 x MACs of conv and dense layers."""
    total = 0
    for layer, shape, out in _shapes(_check_name(name)):
        if layer[0] == "conv":
            total += 2 * out[0] * out[1] * out[2] * layer[2] * layer[2] * shape[2]
        elif layer[0] == "dense":
            total += 2 * shape[0] * out[0]
    return total


def build_faltung(name):
    """The zoo model, compiled as the seed code does (Adam, sparse categorical cross-entropy)."""
    spec = _check_name(name)
    from faltung import applications
    model = applications.get(spec["zoo"])(input_shape=spec["input"])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def build_torch(name):
    """The same architecture as an NCHW ``torch.nn.Sequential`` (logits out; softmax in the loss)."""
    import torch.nn as nn
    spec = _check_name(name)
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh}
    modules = []
    for layer, shape, out in _shapes(spec):
        kind = layer[0]
        if kind == "conv":
            _, filters, k, padding, act = layer
            modules += [nn.Conv2d(shape[2], filters, k, padding=(k // 2 if padding == "same" else 0)),
                        acts[act]()]
        elif kind == "pool":
            modules.append(nn.MaxPool2d(2) if layer[1] == "max" else nn.AvgPool2d(2))
        elif kind == "flatten":
            modules.append(nn.Flatten())
        elif kind == "dropout":
            modules.append(nn.Dropout(layer[1]))
        elif kind == "dense":
            modules.append(nn.Linear(shape[0], out[0]))
            if layer[2] is not None:
                modules.append(acts[layer[2]]())
    return nn.Sequential(*modules)
