"""Turning what the page sends (a drawing, an upload, a data set image) into a model input.

Pixels stay in the raw 0..255 scale until ``apply_preprocessing`` rescales them the
way the run was trained (run.json's ``preprocessing``), so the page can show the
input image exactly as the network sees it.
"""
import base64
import binascii
import io

import numpy as np
from PIL import Image, UnidentifiedImageError

MNIST_SIZE = 28
MNIST_BOX = 20  # MNIST digits fit a 20×20 box, centred by mass in 28×28 (LeCun et al.)


def decode_data_url(text):
    """The bytes of ``data:image/png;base64,...`` (or of bare base64)."""
    if not isinstance(text, str) or not text:
        raise ValueError("image: expected a base64 string or a data: URL, got an empty value")
    payload = text.split(",", 1)[1] if text.startswith("data:") else text
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("image: expected valid base64 data") from None


def decode_image(data):
    """A PIL image from file bytes (PNG, JPEG, ...); ValueError if it is not an image."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except UnidentifiedImageError:
        raise ValueError("image: could not decode the data as an image (expected PNG, JPEG, BMP, GIF, ...)") from None
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"image: could not decode the data as an image ({error})") from None
    if image.width * image.height > 40_000_000:
        raise ValueError(f"image: expected at most 40 megapixels, got {image.width}x{image.height}")
    return image


def _pixels(image, channels):
    """(H, W, C) float32 in 0..255 with C = 1 (grey) or 3 (RGB); alpha composited on black."""
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (0, 0, 0, 255))
        image = Image.alpha_composite(background, image)
    image = image.convert("L" if channels == 1 else "RGB")
    array = np.asarray(image, dtype=np.float32)
    return array[:, :, None] if array.ndim == 2 else array


def _resize(array, height, width):
    """Resize (H, W, C) in 0..255 with a box/bilinear filter."""
    if array.shape[:2] == (height, width):
        return array
    channels = [np.asarray(Image.fromarray(array[:, :, c].astype(np.float32), mode="F")
                           .resize((width, height), Image.BILINEAR, reducing_gap=2.0))
                for c in range(array.shape[2])]
    return np.stack(channels, axis=-1).astype(np.float32)


def fit_digit(grey):
    """MNIST-style 28×28 from a grey (H, W) drawing: light-on-dark, bounding box scaled into
    20×20 (aspect kept), centred by centre of mass, as the MNIST digits were made."""
    grey = np.asarray(grey, dtype=np.float32)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if border.mean() > 127:                      # dark ink on white paper: invert
        grey = 255.0 - grey
    if grey.max() <= 0:
        return np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    mask = grey > 0.1 * grey.max()
    rows, cols = np.nonzero(mask)
    crop = grey[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = MNIST_BOX / max(crop.shape)
    height = max(1, round(crop.shape[0] * scale))
    width = max(1, round(crop.shape[1] * scale))
    small = _resize(crop[:, :, None], height, width)[:, :, 0].clip(0, 255)
    canvas = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    total = small.sum()
    cy = (small.sum(axis=1) @ np.arange(height)) / total if total > 0 else height / 2
    cx = (small.sum(axis=0) @ np.arange(width)) / total if total > 0 else width / 2
    top = int(round(MNIST_SIZE / 2 - cy))
    left = int(round(MNIST_SIZE / 2 - cx))
    top = min(max(top, 0), MNIST_SIZE - height)
    left = min(max(left, 0), MNIST_SIZE - width)
    canvas[top:top + height, left:left + width] = small
    return canvas


def fit_array(array, height, width):
    """(h, w, C) -> (height, width, C): centred zero padding when smaller (MNIST 28 -> LeNet 32),
    resizing otherwise."""
    h, w = array.shape[:2]
    if (h, w) == (height, width):
        return array.astype(np.float32)
    if h <= height and w <= width:
        out = np.zeros((height, width, array.shape[2]), np.float32)
        top, left = (height - h) // 2, (width - w) // 2
        out[top:top + h, left:left + w] = array
        return out
    return _resize(array.astype(np.float32), height, width)


def image_to_input(image, input_shape, fit="auto"):
    """A PIL image as an (H, W, C) float32 array in 0..255 for a model of ``input_shape`` (H, W, C).

    fit: "digit" (MNIST-style centring, grey models only), "resize", or "auto"
    (digit for single-channel models, resize otherwise)."""
    height, width, channels = input_shape
    if fit not in ("auto", "digit", "resize"):
        raise ValueError(f"image: expected fit to be 'auto', 'digit' or 'resize', got {fit!r}")
    pixels = _pixels(image, channels)
    if fit == "digit" or (fit == "auto" and channels == 1):
        if channels != 1:
            raise ValueError(f"image: fit='digit' needs a single-channel model, got input shape "
                             f"{tuple(input_shape)}")
        return fit_array(fit_digit(pixels[:, :, 0])[:, :, None], height, width)
    return _resize(pixels, height, width)


def array_to_input(values, input_shape):
    """A nested list of numbers (H, W) or (H, W, C) in 0..255 as an (H, W, C) model input."""
    try:
        array = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError("pixels: expected a 2D or 3D array of numbers") from None
    if array.ndim == 2:
        array = array[:, :, None]
    if array.shape != tuple(input_shape):
        raise ValueError(f"pixels: expected shape {list(input_shape)} (or {list(input_shape[:2])} "
                         f"for one channel), got {list(array.shape)}")
    if not np.all(np.isfinite(array)):
        raise ValueError("pixels: expected finite numbers, got NaN or infinity")
    return array


def _scale_and_pad(preprocessing):
    """(scale, pad) from run.json's ``preprocessing`` (faltung.cli.runs); default: 1/255, no padding."""
    if preprocessing is None:
        return 1 / 255.0, None
    if not isinstance(preprocessing, dict):
        raise ValueError(f"preprocessing: expected a dict like run.json's, got {preprocessing!r}")
    scale = float(preprocessing.get("scale", 1 / 255.0))
    pad = preprocessing.get("pad")
    return scale, (None if pad is None else [[int(a), int(b)] for a, b in pad])


def image_shape(input_shape, preprocessing):
    """(h, w, C): the image size before padding (run.json's ``image_size``), e.g. (28, 28, 1) for
    a LeNet-5 whose input is (32, 32, 1)."""
    height, width, channels = input_shape
    size = (preprocessing or {}).get("image_size") if isinstance(preprocessing, dict) else None
    if size is not None:
        return int(size[0]), int(size[1]), channels
    _, pad = _scale_and_pad(preprocessing)
    if pad is not None:
        return height - pad[0][0] - pad[0][1], width - pad[1][0] - pad[1][1], channels
    return height, width, channels


def apply_preprocessing(pixels, preprocessing):
    """Raw 0..255 pixels (h, w, C) -> the model input, as the run was trained (run.json's
    ``preprocessing``): multiply by ``scale`` (default 1/255), then zero-pad by ``pad``."""
    scale, pad = _scale_and_pad(preprocessing)
    x = np.asarray(pixels, dtype=np.float32) * np.float32(scale)
    if pad is not None:
        x = np.pad(x, (tuple(pad[0]), tuple(pad[1]), (0, 0)))
    return x


def display_pixels(x, preprocessing):
    """A model input back in 0..255 for showing it (the padding stays black)."""
    scale, _ = _scale_and_pad(preprocessing)
    return np.clip(np.asarray(x, np.float32) / np.float32(scale if scale else 1.0), 0, 255)


def array_to_png_url(pixels):
    """An (H, W, 1|3) 0..255 array as a PNG data URL (for thumbnails)."""
    array = np.clip(np.asarray(pixels), 0, 255).astype(np.uint8)
    image = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
