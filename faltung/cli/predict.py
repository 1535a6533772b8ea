"""``faltung predict RUN_OR_MODEL IMAGE... [--top-k 3]``: the most likely classes of image files.

Each image is converted to the model's channels (grayscale or RGB), resized and scaled as the run's
``preprocessing`` says (for a bare model file: to the model's input size, pixels in [0, 1]).
"""
from . import data, modeling, runs
from .arguments import positive_int


def add_arguments(parser):
    parser.add_argument("run", metavar="RUN_OR_MODEL", help="a run directory or a model file (.faltung)")
    parser.add_argument("images", metavar="IMAGE", nargs="+", help="image files (PNG, JPEG, ...)")
    parser.add_argument("--top-k", type=positive_int, default=3, help="classes to show per image (default 3)")
    parser.add_argument("--invert", action="store_true",
                        help="invert the pixels first (a dark digit on white paper, for MNIST models)")
    return parser


def run(args):
    import numpy as np
    model_path, info = runs.resolve(args.run)
    model = runs.load_model(model_path)
    input_shape = modeling.input_shape_of(model)
    preprocessing = (info or {}).get("preprocessing") or data.default_preprocessing(input_shape)
    x = np.stack([data.load_image(path, preprocessing, invert=args.invert) for path in args.images])
    kind = (info or {}).get("outputs") or modeling.output_kind(model)
    probabilities = modeling.predict_probabilities(model, x, kind=kind)
    k = probabilities.shape[1]
    class_names = (info or {}).get("class_names") or [str(i) for i in range(k)]
    top_k = min(args.top_k, k)
    for path, p in zip(args.images, probabilities):
        print(path)
        for rank, index in enumerate(np.argsort(-p, kind="stable")[:top_k], start=1):
            print(f"  {rank:>{len(str(top_k))}}. {class_names[index]:<16} {p[index]:8.2%}")
    return 0
