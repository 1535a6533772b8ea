"""MNIST handwritten digits in the official IDX .gz files (LeCun et al.), as ``keras.datasets.mnist``.

``(x_train, y_train), (x_test, y_test) = load_data()``: x uint8 (60000, 28, 28) / (10000, 28, 28),
y uint8 (60000,) / (10000,), in the official order. Where the files are looked for: see ``_files.py``.
"""
from ._files import IMAGES_MAGIC, LABELS_MAGIC, IdxFile, load_idx_dataset

CLASS_NAMES = [str(digit) for digit in range(10)]

# SHA-256 of the decompressed official files (the .gz files in /work/shared/datasets are the official
# release byte for byte: .gz SHA-256 440fcabf.., 3552534a.., 8d422c7b.., f7ae60f9..).
FILES = [
    IdxFile("train-images-idx3-ubyte.gz", IMAGES_MAGIC, (60000, 28, 28),
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    IdxFile("train-labels-idx1-ubyte.gz", LABELS_MAGIC, (60000,),
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    IdxFile("t10k-images-idx3-ubyte.gz", IMAGES_MAGIC, (10000, 28, 28),
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    IdxFile("t10k-labels-idx1-ubyte.gz", LABELS_MAGIC, (10000,),
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
]

MIRRORS = ["https://storage.googleapis.com/cvdf-datasets/mnist/",
           "https://ossci-datasets.s3.amazonaws.com/mnist/"]


def load_data(path=None):
    """MNIST as ``((x_train, y_train), (x_test, y_test))``; ``path``: a folder holding the four .gz files."""
    return load_idx_dataset("mnist", "mnist", FILES, MIRRORS, path=path)
