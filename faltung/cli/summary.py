"""``faltung summary RUN_OR_MODEL``: the model's layers and parameters, and what the run recorded."""
import json
import os

from . import runs


def add_arguments(parser):
    parser.add_argument("run", metavar="RUN_OR_MODEL", help="a run directory or a model file (.faltung)")
    return parser


def run(args):
    model_path, info = runs.resolve(args.run)
    model = runs.load_model(model_path)
    model.summary()
    if info:
        print(f"\nrun: {info.get('model')} on {info.get('dataset')}, classes: {', '.join(info.get('class_names', []))}")
        print(f"input {info.get('input_shape')}, preprocessing {json.dumps(info.get('preprocessing'))}")
        metrics_file = os.path.join(os.path.dirname(model_path), runs.METRICS_FILE)
        if os.path.isfile(metrics_file):
            with open(metrics_file, encoding="utf-8") as f:
                metrics = json.load(f)
            if "test_accuracy" in metrics:
                print(f"test accuracy {metrics['test_accuracy']:.4f}, test loss {metrics['test_loss']:.4f} "
                      f"after {metrics.get('epochs')} epoch{'' if metrics.get('epochs') == 1 else 's'} "
                      f"({metrics.get('time_seconds')} s)")
    return 0
