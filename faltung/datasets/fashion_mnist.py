"""Fashion-MNIST (Zalando Research) in the official IDX .gz files, as ``keras.datasets.fashion_mnist``.

``(x_train, y_train), (x_test, y_test) = load_data()``: x uint8 (60000, 28, 28) / (10000, 28, 28),
y uint8 (60000,) / (10000,). Besides the usual places (``_files.py``) the Debian package
``dataset-fashion-mnist`` is used when installed (``/usr/share/datasets/fashion-mnist/``).
"""
from ._files import IMAGES_MAGIC, LABELS_MAGIC, IdxFile, load_idx_dataset

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# SHA-256 of the decompressed files, computed from Debian's copy of the official release. Debian
# re-gzipped the files (its .gz md5 cf8536b0.. differs from the official 8d4fb7e6..), so the .gz
# bytes cannot identify the data; the decompressed bytes can.
FILES = [
    IdxFile("train-images-idx3-ubyte.gz", IMAGES_MAGIC, (60000, 28, 28),
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    IdxFile("train-labels-idx1-ubyte.gz", LABELS_MAGIC, (60000,),
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    IdxFile("t10k-images-idx3-ubyte.gz", IMAGES_MAGIC, (10000, 28, 28),
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    IdxFile("t10k-labels-idx1-ubyte.gz", LABELS_MAGIC, (10000,),
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
]

MIRRORS = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
SYSTEM_DIRS = ["/usr/share/datasets/fashion-mnist"]


def load_data(path=None):
    """Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``; ``path``: a folder holding the four .gz files."""
    return load_idx_dataset("fashion_mnist", "fashion-mnist", FILES, MIRRORS, path=path,
                            system_dirs=SYSTEM_DIRS)
