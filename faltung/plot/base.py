"""What every picture shares: the resolution, the colours, atomic PNG writing, image conversion."""
import os
import tempfile

import numpy as np

DPI = 100
TRAIN_COLOR, VAL_COLOR, MISTAKE_COLOR, RIGHT_COLOR = "#0c7cba", "#0f9d58", "#d62728", "#1a1a1a"


def save_figure(figure, path):
    """Write ``figure`` as a PNG to ``path`` atomically (temp file in the same folder + os.replace)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".plot-", suffix=".png", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            figure.savefig(f, format="png", dpi=DPI)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def finish(figure, path):
    """Save ``figure`` to ``path`` if one is given; return the figure."""
    if path is not None:
        save_figure(figure, path)
    return figure


def as_displayable(image):
    """An image as (H, W) or (H, W, 3) floats in [0, 1] for imshow (uint8 is divided by 255)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
        raise ValueError(f"plot: expected an image (H, W), (H, W, 1) or (H, W, 3), got shape {image.shape}")
    image = image.astype(np.float64)
    if image.max(initial=0) > 1.0:
        image = image / 255.0
    return np.clip(image, 0.0, 1.0)


def label_name(label, class_names):
    label = int(label)
    if class_names is not None and 0 <= label < len(class_names):
        return str(class_names[label])
    return str(label)
