"""Keras's image file helpers on Pillow: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``."""
import os
import tempfile

import numpy as np

#: Keras interpolation names -> Pillow resampling filters
PIL_FILTERS = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5, "area": 4}
COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def _pil():
    from PIL import Image
    return Image


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """A PIL image from a file, converted to ``color_mode`` and resized to ``target_size (H, W)``.

    A file that is not a readable image raises ``ValueError`` naming it.
    """
    Image = _pil()
    if color_mode not in COLOR_MODES:
        raise ValueError(f"load_img: expected color_mode to be one of {list(COLOR_MODES)}, got {color_mode!r}")
    if interpolation not in PIL_FILTERS:
        raise ValueError(f"load_img: expected interpolation to be one of {list(PIL_FILTERS)}, "
                         f"got {interpolation!r}")
    try:
        with Image.open(path) as img:
            img.load()
            img = img.convert(COLOR_MODES[color_mode])
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise ValueError(f"{os.fspath(path)}: not a readable image file ({err})") from None
    if target_size is not None:
        height, width = target_size
        box = None
        if keep_aspect_ratio:   # centre crop to the target's aspect ratio, then resize
            w, h = img.size
            crop_w, crop_h = min(w, int(h * width / height)), min(h, int(w * height / width))
            left, top = (w - crop_w) // 2, (h - crop_h) // 2
            box = (left, top, left + crop_w, top + crop_h)
        if img.size != (width, height) or box is not None:
            img = img.resize((width, height), PIL_FILTERS[interpolation], box=box)
    return img


def img_to_array(img, data_format=None, dtype="float32"):
    """A PIL image as a float array ``(H, W, C)`` (grayscale gets ``C = 1``), values 0..255."""
    x = np.asarray(img, dtype=dtype)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"img_to_array: expected an image of rank 2 or 3, got shape {x.shape}")
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """An array ``(H, W, C)`` with C in (1, 3, 4) as a PIL image; ``scale`` maps min..max to 0..255."""
    Image = _pil()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected an image of rank 3 (H, W, C), got shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - x.min()
        top = x.max()
        if top > 0:
            x = x / top * 255.0
    x = np.clip(np.round(x), 0, 255).astype(np.uint8)
    channels = x.shape[2]
    if channels == 1:
        return Image.fromarray(x[:, :, 0], "L")
    if channels in (3, 4):
        return Image.fromarray(x, "RGB" if channels == 3 else "RGBA")
    raise ValueError(f"array_to_img: expected 1, 3 or 4 channels, got {channels}")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Write ``x (H, W, C)`` as an image file, atomically (temp file + ``os.replace``)."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    path = os.fspath(path)
    file_format = file_format or os.path.splitext(path)[1].lstrip(".").upper().replace("JPG", "JPEG")
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            img.save(f, format=file_format or None, **kwargs)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
