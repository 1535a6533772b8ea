"""``ImageDataGenerator``: Keras's classic real-time augmentation, vectorised over the batch.

For each image it draws (``get_random_transform``) a rotation ``theta`` (degrees), shifts
``tx, ty`` (pixels), a shear (degrees), zooms ``zx, zy`` and flips, builds ONE 3x3 matrix
(Keras's composition, output (x, y) -> input (x, y), about the image centre)::

    M = R(theta) @ T(tx, ty) @ Shear(s) @ Zoom(zx, zy)

and resamples the whole batch at once (``faltung.preprocessing.affine``, bilinear for Keras's
``interpolation_order=1``, nearest for 0). A channel shift adds ``uniform(-c, c)`` per image.
Then the standardisation (``standardize``): rescale, sample-wise and feature-wise centring /
std normalisation, in Keras's order. Keras's ``brightness_range`` and ZCA whitening are not offered.

One deliberate difference from Keras's ``get_random_transform``: Keras draws the shift it calls
``tx`` from ``height_shift_range * H`` but applies it along the width (for square images such as
CIFAR-10 the distribution is the same). Here ``width_shift_range`` shifts along x and
``height_shift_range`` along y, as the names say.
"""
import numpy as np

from .. import rng as _rng
from . import affine
from ._iterator import NumpyArrayIterator
from ._pil import array_to_img, img_to_array, load_img, save_img  # noqa: F401 (Keras names)

_EPS = 1e-6   # Keras's guard in x / (std + 1e-6)


def _as_range(value, what):
    """A ``zoom_range``-style argument as (lower, upper)."""
    if np.isscalar(value):
        return (1.0 - float(value), 1.0 + float(value))
    if len(value) == 2:
        return (float(value[0]), float(value[1]))
    raise ValueError(f"ImageDataGenerator: expected {what} as a float or a pair [lower, upper], got {value!r}")


class ImageDataGenerator:
    """Keras's ``ImageDataGenerator`` (channels-last images ``(N, H, W, C)``)."""

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 rotation_range=0, width_shift_range=0.0, height_shift_range=0.0, shear_range=0.0,
                 zoom_range=0.0, channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        if interpolation_order not in (0, 1):
            raise ValueError(f"ImageDataGenerator: expected interpolation_order 0 (nearest) or 1 (bilinear), "
                             f"got {interpolation_order!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"ImageDataGenerator: expected data_format 'channels_last' (NHWC), got {data_format!r}")
        interpolation = "nearest" if interpolation_order == 0 else "bilinear"
        affine.check_options(interpolation, fill_mode, "ImageDataGenerator")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"ImageDataGenerator: expected validation_split in [0, 1), got {validation_split!r}")
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.rotation_range = float(rotation_range)
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = float(shear_range)
        self.zoom_range = _as_range(zoom_range, "zoom_range")
        self.channel_shift_range = float(channel_shift_range)
        self.fill_mode, self.cval, self.interpolation = fill_mode, float(cval), interpolation
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.validation_split = float(validation_split)
        self.dtype = np.dtype(dtype or "float32")
        self.mean = None   # (1, 1, C) after fit()
        self.std = None

    # ---- statistics ----------------------------------------------------------------------
    def fit(self, x, augment=False, rounds=1, seed=None):
        """Feature-wise mean and std per channel over ``x (N, H, W, C)`` (after ``rescale``), as Keras."""
        x = _check_images(x, "ImageDataGenerator.fit")
        if augment:
            x = np.concatenate([self.random_transform_batch(x, _rng.make_generator(seed))
                                for _ in range(rounds)])
        scale = float(self.rescale) if self.rescale else 1.0
        if self.featurewise_center or self.featurewise_std_normalization:
            # chunked float64 sums: the mean and variance without a float copy of all of x
            total = np.zeros(x.shape[-1])
            total_sq = np.zeros(x.shape[-1])
            for start in range(0, len(x), 4096):
                chunk = x[start:start + 4096].astype(np.float64) * scale
                total += chunk.sum(axis=(0, 1, 2))
                total_sq += np.square(chunk).sum(axis=(0, 1, 2))
            count = x.shape[0] * x.shape[1] * x.shape[2]
            mean = total / count
            if self.featurewise_center:
                self.mean = mean.reshape(1, 1, -1).astype(self.dtype)
            if self.featurewise_std_normalization:
                # Keras takes the std of the already centred data: sqrt(E[x^2] - E[x]^2)
                var = np.maximum(total_sq / count - mean ** 2, 0.0)
                self.std = np.sqrt(var).reshape(1, 1, -1).astype(self.dtype)
        return self

    def standardize(self, x):
        """Normalise ``x (H, W, C)`` or ``(N, H, W, C)`` in Keras's order; returns a new array."""
        x = np.array(x, dtype=self.dtype)
        if self.preprocessing_function is not None:
            x = np.asarray(self.preprocessing_function(x), dtype=self.dtype)
        if self.rescale:
            x *= self.rescale
        sample_axes = tuple(range(x.ndim - 3, x.ndim))   # the axes of one image
        if self.samplewise_center:
            x -= np.mean(x, axis=sample_axes, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, axis=sample_axes, keepdims=True) + _EPS
        if self.featurewise_center:
            if self.mean is None:
                raise ValueError("ImageDataGenerator: featurewise_center is set but fit(x) was not called")
            x -= self.mean
        if self.featurewise_std_normalization:
            if self.std is None:
                raise ValueError("ImageDataGenerator: featurewise_std_normalization is set but fit(x) "
                                 "was not called")
            x /= self.std + _EPS
        return x

    # ---- random transforms ---------------------------------------------------------------
    def _shift(self, shift_range, size, n, gen):
        """Shifts in pixels for n images (Keras's rules).

        A float draws ``uniform(-r, r)``; an int r chooses among the integers ``-r+1 .. r-1``; a list
        chooses among its values, times a random sign. Ranges whose maximum is < 1 are fractions
        of ``size``.
        """
        if not np.any(shift_range):
            return np.zeros(n)
        if isinstance(shift_range, (float, np.floating)):
            shift = gen.uniform(-shift_range, shift_range, size=n)
        else:
            choices = (np.arange(-shift_range + 1, shift_range) if isinstance(shift_range, (int, np.integer))
                       else np.asarray(shift_range, np.float64))
            shift = gen.choice(choices, size=n) * gen.choice([-1.0, 1.0], size=n)
        if np.max(shift_range) < 1:
            shift = shift * size
        return shift

    def get_random_transform_batch(self, img_shape, n, gen):
        """Parameters for n images of ``img_shape (H, W, C)``: a dict of (n,) arrays (Keras's keys)."""
        h, w = img_shape[0], img_shape[1]
        r = self.rotation_range
        zl, zu = self.zoom_range
        params = {
            "theta": gen.uniform(-r, r, size=n) if r else np.zeros(n),
            "tx": self._shift(self.width_shift_range, w, n, gen),
            "ty": self._shift(self.height_shift_range, h, n, gen),
            "shear": gen.uniform(-self.shear_range, self.shear_range, size=n) if self.shear_range
            else np.zeros(n),
        }
        if zl == 1 and zu == 1:
            params["zx"], params["zy"] = np.ones(n), np.ones(n)
        else:
            params["zx"], params["zy"] = gen.uniform(zl, zu, size=(2, n))
        c = self.channel_shift_range
        params["channel_shift_intensity"] = gen.uniform(-c, c, size=n) if c else np.zeros(n)
        params["flip_horizontal"] = (gen.random(n) < 0.5) & bool(self.horizontal_flip)
        params["flip_vertical"] = (gen.random(n) < 0.5) & bool(self.vertical_flip)
        return params

    def get_random_transform(self, img_shape, seed=None):
        """Keras's per-image parameter dict (floats and bools) for one image of ``img_shape``."""
        params = self.get_random_transform_batch(img_shape, 1, _rng.make_generator(seed))
        return {k: (bool(v[0]) if v.dtype == bool else float(v[0])) for k, v in params.items()}

    def apply_transform_batch(self, x, params):
        """Apply per-image parameters (dict of (N,) arrays) to ``x (N, H, W, C)`` in one resampling."""
        n, h, w = x.shape[:3]
        theta = np.deg2rad(np.asarray(params.get("theta", np.zeros(n)), np.float64))
        shear = np.deg2rad(np.asarray(params.get("shear", np.zeros(n)), np.float64))
        tx = np.asarray(params.get("tx", np.zeros(n)), np.float64)
        ty = np.asarray(params.get("ty", np.zeros(n)), np.float64)
        zx = np.asarray(params.get("zx", np.ones(n)), np.float64)
        zy = np.asarray(params.get("zy", np.ones(n)), np.float64)
        out = np.asarray(x, dtype=self.dtype)
        if np.any(theta) or np.any(tx) or np.any(ty) or np.any(shear) or np.any(zx != 1) or np.any(zy != 1):
            matrices = affine.about_center(keras_affine_matrices(theta, tx, ty, shear, zx, zy), h, w)
            out = affine.affine_transform(out, matrices, self.interpolation, self.fill_mode, self.cval)
        intensity = np.asarray(params.get("channel_shift_intensity", np.zeros(n)), np.float64)
        if np.any(intensity):
            # Keras: x + intensity, clipped to the image's own [min, max]
            low = out.min(axis=(1, 2, 3), keepdims=True)
            high = out.max(axis=(1, 2, 3), keepdims=True)
            out = np.clip(out + intensity.reshape(-1, 1, 1, 1).astype(out.dtype), low, high)
        flip_h = np.asarray(params.get("flip_horizontal", np.zeros(n, bool)), bool)
        flip_v = np.asarray(params.get("flip_vertical", np.zeros(n, bool)), bool)
        if flip_h.any() or flip_v.any():
            out = out.copy() if out is x else out
            out[flip_h] = out[flip_h, :, ::-1]
            out[flip_v] = out[flip_v, ::-1]
        return out

    def random_transform_batch(self, x, gen):
        params = self.get_random_transform_batch(x.shape[1:], len(x), gen)
        return self.apply_transform_batch(x, params)

    def apply_transform(self, x, transform_parameters):
        """Keras's ``apply_transform`` on one image ``x (H, W, C)`` with a parameter dict."""
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"ImageDataGenerator.apply_transform: expected one image (H, W, C), "
                             f"got shape {x.shape}")
        params = {k: np.asarray([v]) for k, v in transform_parameters.items()}
        return self.apply_transform_batch(x[None], params)[0]

    def random_transform(self, x, seed=None):
        """A randomly transformed copy of one image ``x (H, W, C)``; same seed, same result."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    # ---- iterators -----------------------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None, subset=None):
        """An endless iterator of ``(x_batch float32 (B, H, W, C), y_batch)``; ``len()`` batches per epoch."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed, subset=subset)


def keras_affine_matrices(theta, tx, ty, shear, zx, zy):
    """Keras's composition ``R(theta) @ T(tx, ty) @ Shear(shear) @ Zoom(zx, zy)`` (angles in radians),
    output (x, y) -> input (x, y), one (3, 3) matrix per image; centre it with ``affine.about_center``.

    ``T`` reads the input at ``output + (tx, ty)``, so a positive ``tx`` moves the content left.
    """
    zero, one = np.zeros_like(theta), np.ones_like(theta)
    rotate = affine.stack_matrices([[np.cos(theta), -np.sin(theta), zero], [np.sin(theta), np.cos(theta), zero]])
    shift = affine.stack_matrices([[one, zero, tx], [zero, one, ty]])
    shear_m = affine.stack_matrices([[one, -np.sin(shear), zero], [zero, np.cos(shear), zero]])
    zoom = affine.stack_matrices([[zx, zero, zero], [zero, zy, zero]])
    return rotate @ shift @ shear_m @ zoom


def _check_images(x, who):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{who}: expected images of rank 4 (N, H, W, C), got shape {x.shape}")
    return x
