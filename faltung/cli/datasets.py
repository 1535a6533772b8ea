"""``faltung datasets``: which datasets are available locally, and where.

Uses the search order of ``faltung.datasets`` (``$FALTUNG_DATA/<subdir>``, the user cache, system
copies such as Debian's Fashion-MNIST); nothing is downloaded here.
"""
import importlib

from .data import DATASET_NAMES

SUBDIRS = {"mnist": "mnist", "fashion_mnist": "fashion-mnist", "cifar10": "cifar-10"}


def add_arguments(parser):
    return parser


def locate(name):
    """``(folder or None, searched folders)`` for a built-in dataset.

    IDX datasets (``FILES``) need all their files in one folder; CIFAR-10 (``CANDIDATES``) needs
    any one of its archives or unpacked folders.
    """
    from ..datasets import _files
    module = importlib.import_module(f"faltung.datasets.{name}")
    dirs = _files.search_dirs(SUBDIRS[name], getattr(module, "SYSTEM_DIRS", ()))
    if hasattr(module, "FILES"):
        return _files.first_dir_with([f.filename for f in module.FILES], dirs), dirs
    for folder in dirs:
        if any((folder / candidate).exists() for candidate in getattr(module, "CANDIDATES", ())):
            return folder, dirs
    return None, dirs


def run(args):
    print("built-in datasets (faltung train MODEL --dataset NAME):")
    for name in DATASET_NAMES:
        try:
            found, dirs = locate(name)
        except ImportError:
            print(f"  {name:<14} not supported by this faltung (faltung.datasets.{name} is missing)")
            continue
        if found is not None:
            print(f"  {name:<14} available in {found}")
        else:
            print(f"  {name:<14} missing; searched {', '.join(str(d) for d in dirs)} "
                  "(load_data() would try to download it)")
    print("any image folder with one sub-folder per class also works: --dataset PATH")
    return 0
