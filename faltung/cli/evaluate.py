"""``faltung evaluate RUN_OR_MODEL [--dataset ...]``: test loss and accuracy, classification report and
confusion matrix (printed, and saved as a PNG)."""
import os

from . import data, modeling, runs
from .runs import UsageError
from .arguments import positive_int


def add_arguments(parser):
    parser.add_argument("run", metavar="RUN_OR_MODEL", help="a run directory or a model file (.faltung)")
    parser.add_argument("--dataset", default=None, metavar="NAME_OR_FOLDER", type=data.dataset_name,
                        help="mnist, fashion_mnist, cifar10 or an image folder (default: the run's dataset)")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N",
                        help="evaluate on the first N test images only")
    parser.add_argument("--batch-size", type=positive_int, default=256, help="default 256")
    parser.add_argument("--out", default=None, metavar="PNG",
                        help="where to save the confusion matrix (default: confusion_matrix.png in the "
                             "run directory, confusion_matrix-DATASET.png for another dataset than the "
                             "run's, or in the current directory for a model file)")
    return parser


def test_set(dataset, info, model, limit=None, seed=0):
    """``(x_raw, y, class_names, preprocessing)`` of the test images of ``dataset`` for ``model``."""
    input_shape = modeling.input_shape_of(model)
    known = (info or {}).get("preprocessing")
    if dataset in data.DATASET_NAMES:
        _, (x, y), class_names = data.load_named(dataset, limit)
    else:
        prep = known or data.default_preprocessing(input_shape)
        _, (x, y), class_names = data.load_folder(dataset, prep["image_size"], prep["color_mode"],
                                                  validation_split=(info or {}).get("test_split") or 0.2,
                                                  seed=(info or {}).get("seed", seed), limit=limit)
    if known and list(known.get("image_size", [])) == list(data.image_shape(x)[:2]):
        preprocessing = known
    else:
        preprocessing = data.plan_preprocessing(data.image_shape(x), input_shape)
    return x, y, class_names, preprocessing


def run(args):
    from .. import plot, report
    model_path, info = runs.resolve(args.run)
    dataset = args.dataset or (info or {}).get("dataset")
    if dataset is None:
        raise UsageError(f"{args.run} has no run.json saying which dataset it was trained on; give --dataset")
    model = runs.load_model(model_path)
    x_raw, y, class_names, preprocessing = test_set(dataset, info, model, args.limit)
    modeling.check_classes(model, class_names)
    kind = (info or {}).get("outputs") or modeling.output_kind(model)
    probabilities = modeling.predict_probabilities(model, data.apply_preprocessing(x_raw, preprocessing),
                                                   batch_size=args.batch_size, kind=kind)
    loss, accuracy = modeling.loss_and_accuracy(probabilities, y)
    y_pred = probabilities.argmax(axis=1)
    print(f"model: {model_path}" + (f" ({info.get('model')} trained on {info.get('dataset')})" if info else ""))
    print(f"dataset: {dataset}, {len(y)} test images")
    print(f"test loss: {loss:.4f}   test accuracy: {accuracy:.4f}\n")
    print(report.classification_report(y, y_pred, target_names=class_names, digits=4))
    matrix = report.confusion_matrix(y, y_pred, num_classes=len(class_names))
    print("confusion matrix (rows: true class, columns: predicted class):")
    print(report.format_confusion_matrix(matrix, class_names))
    name = "confusion_matrix.png"
    if info and dataset != info.get("dataset"):  # keep the run's own matrix; name this one after the dataset
        name = f"confusion_matrix-{os.path.basename(os.path.normpath(dataset))}.png"
    out = args.out or os.path.join(os.path.dirname(model_path) if info else ".", name)
    plot.plot_confusion_matrix(matrix, class_names, out, title=f"Confusion matrix on {os.path.basename(dataset)}")
    print(f"\nconfusion matrix saved to {out}")
    return 0
