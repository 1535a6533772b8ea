"""Keras 3 image augmentation layers: random in training, identity in inference (RandomCrop resizes).

Input ``x: (N, H, W, C)``. Each layer draws its randomness per image from its own generator
(``seed``, else one drawn from ``faltung.rng``). The geometric layers build one 3x3 matrix per
image and resample the whole batch at once with ``faltung.preprocessing.affine`` (the code the
``ImageDataGenerator`` uses too).

Backward: every layer here is a linear map of its input (plus a constant fill value), so the
backward is exact: the identity in inference, the flip of ``dy`` for flips, the transpose of the
resampling ``dx = S^T dy`` for translation, rotation, zoom and crop, and for the contrast
``y = f x + (1 - f) mean_HW(x)`` the map ``dx = f dy + (1 - f) mean_HW(dy)`` (zero where the
output was clipped to ``value_range``). They usually sit before any trainable layer, where the
model need not call backward at all.
"""
import numpy as np

from .. import rng as _rng
from ..preprocessing import affine
from .base import Layer


def _factor_pair(factor, name, what, low=-1.0, high=1.0):
    """Keras's factor argument: ``f`` -> ``(-f, f)``; ``(lower, upper)`` as given; checked against bounds."""
    if isinstance(factor, (int, float, np.integer, np.floating)):
        pair = (-abs(float(factor)), abs(float(factor)))
    else:
        try:
            lower, upper = (float(v) for v in factor)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: expected {what} as a float or a pair (lower, upper), got {factor!r}") from None
        pair = (lower, upper)
    if pair[0] > pair[1] or pair[0] < low or pair[1] > high:
        raise ValueError(f"{name}: expected {what} with lower <= upper within [{low}, {high}], got {factor!r}")
    return pair


class _RandomImageLayer(Layer):
    """Shared plumbing: the generator, batching a single image, and the identity in inference."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{self.name}: expected data_format 'channels_last' (faltung is NHWC), "
                             f"got {data_format!r}")
        self.seed = seed
        self._rng = _rng.make_generator(seed)

    def _images(self, x):
        x = np.asarray(x)
        if x.ndim == 3:          # one image (H, W, C), as Keras accepts
            return x[None], True
        self.check_input(x, 4)
        return x, False

    def forward(self, x, training=False):
        images, single = self._images(x)
        self.cache = {"single": single, "mode": None}
        if training:
            images = self._augment(images)
        return images[0] if single else images

    def backward(self, dy):
        if self.cache is None:
            raise ValueError(f"{self.name}: backward() needs a forward() first")
        dy = np.asarray(dy)
        batch = dy[None] if self.cache["single"] else dy
        dx = batch if self.cache["mode"] is None else self._augment_backward(batch)
        return dx[0] if self.cache["single"] else dx

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class _AffineLayer(_RandomImageLayer):
    """A layer whose training transform is one affine matrix per image."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        affine.check_options(interpolation, fill_mode, type(self).__name__)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def _resample(self, images, matrices, output_hw=None, fill_mode=None):
        plan = affine.sampling_plan(matrices, images.shape, output_hw, self.interpolation,
                                    fill_mode or self.fill_mode, images.dtype)
        self.cache["mode"], self.cache["plan"] = "affine", plan
        return affine.resample(images, plan, self.fill_value)

    def _augment_backward(self, dy):
        return affine.resample_transpose(dy, self.cache["plan"])

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


class RandomFlip(_RandomImageLayer):
    """Flip each image left-right (``"horizontal"``), up-down (``"vertical"``) or both, each with p = 0.5."""

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in self.MODES:
            raise ValueError(f"{self.name}: expected mode to be one of {list(self.MODES)}, got {mode!r}")
        self.mode = mode

    def _flip(self, x, horizontal, vertical):
        x = x.copy()
        x[horizontal] = x[horizontal, :, ::-1]
        x[vertical] = x[vertical, ::-1]
        return x

    def _augment(self, images):
        n = len(images)
        horizontal = (self._rng.random(n) < 0.5) & (self.mode != "vertical")
        vertical = (self._rng.random(n) < 0.5) & (self.mode != "horizontal")
        self.cache.update(mode="flip", horizontal=horizontal, vertical=vertical)
        return self._flip(images, horizontal, vertical)

    def _augment_backward(self, dy):   # a flip is its own inverse and its own transpose
        return self._flip(dy, self.cache["horizontal"], self.cache["vertical"])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomTranslation(_AffineLayer):
    """Shift each image by ``uniform(lower, upper) * H`` rows and ``* W`` columns (positive: down/right)."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _factor_pair(height_factor, self.name, "height_factor")
        self._width = _factor_pair(width_factor, self.name, "width_factor")

    def _augment(self, images):
        n, h, w = images.shape[:3]
        dy = self._rng.uniform(*self._height, size=n) * h
        dx = self._rng.uniform(*self._width, size=n) * w
        return self._resample(images, affine.translation_matrices(dx, dy))

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomRotation(_AffineLayer):
    """Rotate each image counter-clockwise by ``uniform(lower, upper) * 2 pi`` about its centre."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = factor
        self._factor = _factor_pair(factor, self.name, "factor", low=-np.inf, high=np.inf)

    def _augment(self, images):
        n, h, w = images.shape[:3]
        theta = self._rng.uniform(*self._factor, size=n) * 2 * np.pi
        return self._resample(images, affine.rotation_matrices(theta, h, w))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_AffineLayer):
    """Zoom each image about its centre by ``z = 1 + uniform(lower, upper)`` (z < 1 zooms in, Keras 3).

    ``width_factor=None`` uses the height's zoom for the width too (the aspect ratio is kept).
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._height = _factor_pair(height_factor, self.name, "height_factor", high=np.inf)
        self._width = None if width_factor is None else _factor_pair(width_factor, self.name, "width_factor",
                                                                      high=np.inf)

    def _augment(self, images):
        n, h, w = images.shape[:3]
        zy = 1.0 + self._rng.uniform(*self._height, size=n)
        zx = zy if self._width is None else 1.0 + self._rng.uniform(*self._width, size=n)
        return self._resample(images, affine.zoom_matrices(zx, zy, h, w))

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomCrop(_AffineLayer):
    """Crop a random ``(height, width)`` window of each image in training.

    In inference (and in training when the input is smaller than the target), as Keras 3: the
    largest centred window with the target's aspect ratio is resized (bilinear) to ``(height, width)``.
    Unlike Keras 3, which uses one crop position for the whole batch, each image gets its own.
    """

    def __init__(self, height, width, seed=None, **kwargs):
        super().__init__("nearest", "bilinear", seed, 0.0, **kwargs)
        if int(height) <= 0 or int(width) <= 0:
            raise ValueError(f"{self.name}: expected positive height and width, got {height!r}, {width!r}")
        self.height, self.width = int(height), int(width)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def forward(self, x, training=False):
        images, single = self._images(x)
        self.cache = {"single": single, "mode": None}
        n, h, w = images.shape[:3]
        if training and h >= self.height and w >= self.width:
            top = self._rng.integers(0, h - self.height + 1, size=n)
            left = self._rng.integers(0, w - self.width + 1, size=n)
            matrices = affine.translation_matrices(-left, -top)   # output (x, y) reads (x + left, y + top)
        else:
            crop_h = max(min(h, int(w * self.height / self.width)), 1)
            crop_w = max(min(w, int(h * self.width / self.height)), 1)
            box = ((h - crop_h) // 2, (w - crop_w) // 2, crop_h, crop_w)
            matrices = affine.resize_matrices(n, box, (self.height, self.width))
        out = self._resample(images, matrices, (self.height, self.width))
        return out[0] if single else out

    def get_config(self):
        config = super().get_config()
        for key in ("fill_mode", "interpolation", "fill_value"):
            config.pop(key)
        return {**config, "height": self.height, "width": self.width}


class RandomContrast(_RandomImageLayer):
    """``y = clip((x - mean) * f + mean, value_range)``, mean per image and channel over (H, W),
    ``f ~ uniform(1 - lower, 1 + upper)`` (a float factor is used for both)."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor, self.value_range = factor, tuple(value_range)
        if isinstance(factor, (int, float, np.integer, np.floating)):
            lower = upper = float(factor)
        else:
            lower, upper = (float(v) for v in factor)
        if lower < 0 or upper < 0 or lower > 1:
            raise ValueError(f"{self.name}: expected factor values >= 0 with lower <= 1, got {factor!r}")
        self._range = (1.0 - lower, 1.0 + upper)

    def _augment(self, images):
        f = self._rng.uniform(*self._range, size=(len(images), 1, 1, 1)).astype(images.dtype)
        mean = images.mean(axis=(1, 2), keepdims=True)
        out = (images - mean) * f + mean
        low, high = self.value_range
        self.cache.update(mode="contrast", factor=f, inside=(out >= low) & (out <= high))
        return np.clip(out, low, high)

    def _augment_backward(self, dy):
        f, inside = self.cache["factor"], self.cache["inside"]
        dz = dy * inside                        # clip passes the gradient only where it did not clip
        return f * dz + (1 - f) * dz.mean(axis=(1, 2), keepdims=True)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": list(self.value_range)}
