"""``faltung train MODEL --dataset mnist --epochs 1 --out runs/NAME``: train a model, write a run directory.

MODEL is a zoo name (``faltung.applications.ZOO``) or a Python file defining ``model`` or
``build_model()``. Pixels are scaled to [0, 1], a channel axis is added and small images are
zero-padded to the model's input (MNIST's 28x28 -> LeNet-5's 32x32). The loss is sparse categorical
cross-entropy (``from_logits`` when the model does not end in softmax). The model is saved
atomically after every finished epoch, so Ctrl-C keeps the last finished epoch. See
``faltung.cli.runs`` for the files of a run directory.
"""
import io
import os
import time
from datetime import datetime, timezone

import numpy as np

from . import data, modeling, runs
from .arguments import fraction, non_negative_int, positive_float, positive_int
from .epochs import cosine_decay, epoch_saver
from .runs import UsageError

OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "nadam": "Nadam", "adamw": "AdamW"}
DEFAULT_LEARNING_RATE = 1e-3
# Measured (faltung and an identical PyTorch model agree): LeNet-5 (tanh) on [0, 1] MNIST reaches only
# ~96.6% after one epoch with Adam 1e-3 (batch 8..128, constant or cosine); Adam 5e-3 with cosine
# decay reaches ~97.3-97.6%, so the quick start `faltung train lenet5 --epochs 1` gets > 97%.
RECOMMENDED_LEARNING_RATE = {"lenet5": 5e-3}


def add_arguments(parser):
    from ..applications import NAMES
    parser.add_argument("model", metavar="MODEL",
                        help=f"a zoo model ({', '.join(NAMES)}) or a Python file defining `model` or "
                             "`build_model()`")
    parser.add_argument("--dataset", default="mnist", metavar="NAME_OR_FOLDER", type=data.dataset_name,
                        help="mnist, fashion_mnist, cifar10, or an image folder with one sub-folder per "
                             "class (default: mnist)")
    parser.add_argument("--epochs", type=positive_int, default=1, help="epochs to train (default 1)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="batch size (default 32)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam", help="default adam")
    parser.add_argument("--learning-rate", type=positive_float, default=None,
                        help="initial learning rate (default 0.001; 0.005 for lenet5)")
    parser.add_argument("--lr-schedule", choices=("cosine", "constant"), default="cosine",
                        help="cosine: decay the learning rate to 0 over all steps, as "
                             "keras.optimizers.schedules.CosineDecay (default); constant: keep it")
    parser.add_argument("--validation-split", type=fraction, default=0.1,
                        help="fraction of the training images held out for validation (default 0.1); an "
                             "image folder without train/ and test/ sub-folders also holds out this "
                             "fraction (0.2 if below 0.1) as its test set")
    parser.add_argument("--augment", action="store_true",
                        help="random shifts, zoom and rotation (and flips for colour images) while training")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help="use only the first N training and N test images (quick experiments)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="run directory to write (default runs/MODEL-DATASET-TIME)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _prepare_out(args):
    out = args.out or os.path.join(
        "runs", f"{os.path.splitext(os.path.basename(args.model))[0]}-"
                f"{os.path.basename(os.path.normpath(args.dataset))}-{time.strftime('%Y%m%d-%H%M%S')}")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} exists and is not a directory")
    if os.path.isdir(out) and os.listdir(out) and not os.path.isfile(os.path.join(out, runs.RUN_FILE)):
        raise UsageError(f"--out {out} is a non-empty directory that is not a run directory; "
                         "choose another --out")
    os.makedirs(out, exist_ok=True)
    # files of an earlier run there, and what `faltung evaluate --dataset OTHER` saved for its model
    evaluated = [name for name in os.listdir(out) if name.startswith("confusion_matrix-") and name.endswith(".png")]
    for stale in (runs.MODEL_FILE, runs.METRICS_FILE, runs.HISTORY_FILE, *evaluated):
        if os.path.isfile(os.path.join(out, stale)):
            os.unlink(os.path.join(out, stale))
    return out


def _load_data_and_model(args):
    """``(model, (x_train, y_train), (x_test, y_test), class_names, preprocessing)``, images still uint8."""
    from .. import applications
    from ..rng import set_random_seed
    set_random_seed(args.seed)
    is_zoo = args.model in applications.NAMES
    if not is_zoo and not args.model.endswith(".py"):
        raise UsageError(f"unknown model {args.model!r}: expected one of {', '.join(applications.NAMES)} "
                         "or a Python file (.py)")
    if args.dataset in data.DATASET_NAMES:
        train, test, class_names = data.load_named(args.dataset, args.limit)
        builder = applications.get(args.model) if is_zoo else None
        model = (builder(input_shape=modeling.zoo_input_shape(builder, data.image_shape(train[0]), data.MAX_PAD),
                         classes=len(class_names)) if is_zoo else modeling.model_from_file(args.model))
    else:
        if is_zoo:
            builder = applications.get(args.model)
            shape = modeling.builder_default_shape(builder)
        else:
            model = modeling.model_from_file(args.model)
            shape = modeling.input_shape_of(model)
        color_mode = "grayscale" if shape[-1] == 1 else "rgb"
        train, test, class_names = data.load_folder(args.dataset, shape[:2], color_mode,
                                                    validation_split=folder_test_split(args),
                                                    seed=args.seed, limit=args.limit)
        if is_zoo:
            model = builder(input_shape=shape, classes=len(class_names))
    modeling.check_classes(model, class_names)
    preprocessing = data.plan_preprocessing(data.image_shape(train[0]), modeling.input_shape_of(model))
    return model, train, test, class_names, preprocessing


def folder_test_split(args):
    """The fraction of an image folder held out as its test set (the validation split, at least 0.1)."""
    if args.dataset in data.DATASET_NAMES:
        return None
    return args.validation_split if args.validation_split >= 0.1 else 0.2


def _compile(model, args):
    from .. import losses, optimizers
    if args.learning_rate is None:
        args.learning_rate = RECOMMENDED_LEARNING_RATE.get(args.model, DEFAULT_LEARNING_RATE)
    optimizer = getattr(optimizers, OPTIMIZERS[args.optimizer])(learning_rate=args.learning_rate)
    kind = modeling.output_kind(model)
    model.compile(optimizer=optimizer,
                  loss=losses.SparseCategoricalCrossentropy(from_logits=kind == "logits"),
                  metrics=["accuracy"])
    return kind


def fit_count(n, validation_split):
    """How many of ``n`` samples fit trains on: Keras keeps the first ceil(n (1 - split)), validates on the rest."""
    return int(np.ceil(n * (1.0 - validation_split)))


def _fit(model, x, y, args, callbacks):
    verbose = 0 if args.quiet else 1
    common = dict(epochs=args.epochs, callbacks=callbacks, verbose=verbose)
    if not args.augment:
        return model.fit(x, y, batch_size=args.batch_size, validation_split=args.validation_split,
                         shuffle=True, **common)
    from ..preprocessing.image import ImageDataGenerator
    cut = fit_count(len(x), args.validation_split)
    x_fit, y_fit = x[:cut], y[:cut]
    validation = (x[cut:], y[cut:]) if cut < len(x) else None
    generator = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1,
                                   rotation_range=10, horizontal_flip=x.shape[-1] == 3)
    flow = generator.flow(x_fit, y_fit, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    steps = int(np.ceil(len(x_fit) / args.batch_size))
    return model.fit(flow, steps_per_epoch=steps, validation_data=validation, **common)


def _run_info(args, model, class_names, preprocessing, kind):
    from .. import __version__
    return {
        "format": runs.RUN_FORMAT, "model": args.model, "model_file": runs.MODEL_FILE,
        "dataset": args.dataset if args.dataset in data.DATASET_NAMES else os.path.abspath(args.dataset),
        "class_names": [str(c) for c in class_names],
        "input_shape": [int(d) for d in modeling.input_shape_of(model)],
        "outputs": kind, "preprocessing": preprocessing,
        "seed": args.seed, "epochs": args.epochs, "batch_size": args.batch_size,
        "optimizer": args.optimizer, "learning_rate": args.learning_rate, "lr_schedule": args.lr_schedule,
        "validation_split": args.validation_split, "test_split": folder_test_split(args),
        "augment": bool(args.augment), "limit": args.limit,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "faltung_version": __version__,
    }


def write_summary(model, path):
    import contextlib
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        model.summary()
    runs.write_text(path, text.getvalue())


def write_pictures(run_dir, model, history_rows, raw_test, y_test, y_pred, class_names, matrix, first_input):
    """curves.png, samples.png, confusion_matrix.png and, if there is a Conv2D, filters.png and
    feature_maps.png (for ``first_input``, the first test image as the model sees it)."""
    from .. import plot
    if history_rows:
        columns = {k: [row[k] for row in history_rows if k in row] for k in history_rows[0] if k != "epoch"}
        plot.plot_history(columns, os.path.join(run_dir, "curves.png"), title=f"Training of {model.name}")
    # the first test images, with up to 10 of the first mistakes mixed in so that errors are visible
    wrong = np.flatnonzero(y_pred != y_test)[:10]
    right = np.flatnonzero(y_pred == y_test)[:25 - len(wrong)]
    shown = np.sort(np.concatenate([wrong, right]))
    plot.plot_samples(raw_test[shown], y_test[shown], y_pred[shown], class_names,
                      os.path.join(run_dir, "samples.png"), title="Test images and the first mistakes")
    plot.plot_confusion_matrix(matrix, class_names, os.path.join(run_dir, "confusion_matrix.png"),
                               title="Test confusion matrix")
    if any(type(layer).__name__ == "Conv2D" for layer in model.layers):
        plot.plot_filters(model, path=os.path.join(run_dir, "filters.png"))
        try:
            plot.plot_feature_maps(model, first_input, path=os.path.join(run_dir, "feature_maps.png"))
        except ValueError as error:  # e.g. no maps of 3x3 or more: the run is complete without them
            print(f"(no feature_maps.png: {error})")


def run(args):
    from .. import report
    model, (x_train, y_train), (x_test, y_test), class_names, preprocessing = _load_data_and_model(args)
    run_dir = _prepare_out(args)
    kind = _compile(model, args)
    runs.write_json(os.path.join(run_dir, runs.RUN_FILE), _run_info(args, model, class_names, preprocessing, kind))
    write_summary(model, os.path.join(run_dir, "summary.txt"))
    x = data.apply_preprocessing(x_train, preprocessing)
    print(f"training {args.model} on {args.dataset}: {len(x)} images {x.shape[1:]} "
          f"({args.validation_split:.0%} for validation), {len(class_names)} classes -> {run_dir}")
    saver = epoch_saver(run_dir)
    start = time.perf_counter()
    interrupted = False
    try:
        callbacks = [saver]
        if args.lr_schedule == "cosine":
            steps = args.epochs * int(np.ceil(fit_count(len(x), args.validation_split) / args.batch_size))
            callbacks.insert(0, cosine_decay(args.learning_rate, steps))
        _fit(model, x, y_train, args, callbacks)
    except KeyboardInterrupt:
        interrupted = True
    seconds = time.perf_counter() - start
    metrics = {"model": args.model, "dataset": args.dataset, "seed": args.seed, "epochs": saver.finished,
               "time_seconds": round(seconds, 3), "train_samples": fit_count(len(x), args.validation_split),
               "validation_samples": len(x) - fit_count(len(x), args.validation_split), "interrupted": interrupted}
    if interrupted:
        runs.write_json(os.path.join(run_dir, runs.METRICS_FILE), metrics)
        kept = f"the model of epoch {saver.finished} is in {run_dir}" if saver.finished else "no epoch finished"
        print(f"\ninterrupted: {kept}")
        return 130
    inputs = data.apply_preprocessing(x_test, preprocessing)
    probabilities = modeling.predict_probabilities(model, inputs, kind=kind)
    test_loss, test_accuracy = modeling.loss_and_accuracy(probabilities, y_test)
    y_pred = probabilities.argmax(axis=1)
    metrics.update(test_loss=test_loss, test_accuracy=test_accuracy, test_samples=int(len(y_test)))
    runs.write_json(os.path.join(run_dir, runs.METRICS_FILE), metrics)
    text = report.classification_report(y_test, y_pred, target_names=class_names, digits=4)
    runs.write_text(os.path.join(run_dir, "classification_report.txt"), text)
    matrix = report.confusion_matrix(y_test, y_pred, num_classes=len(class_names))
    write_pictures(run_dir, model, saver.rows, x_test, y_test, y_pred, class_names, matrix, inputs[0])
    epochs = f"{saver.finished} epoch{'' if saver.finished == 1 else 's'}"
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f} "
          f"({epochs} in {seconds:.1f} s); run written to {run_dir}")
    return 0
