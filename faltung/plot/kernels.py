"""Seed 004's figure 2.4: classic 3x3 kernels (identity, Sobel, edges, blur, sharpen) applied to an
image with a faltung ``Conv2D``, shown beside their results."""
import numpy as np
from matplotlib.figure import Figure

from .base import DPI, as_displayable, finish

# seed 004, figure 2.4 ("Effekte verschiedener Filterkernel"), in its order
CLASSIC_KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32),
    "Sobel (left)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32),
    "Sobel (right)": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32),
    "edges": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], np.float32),
    "blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32),
}


def _grayscale(image):
    image = as_displayable(image)
    if image.ndim == 3:  # ITU-R 601 luma, as Pillow's convert("L")
        image = image @ np.array([0.299, 0.587, 0.114])
    return image.astype(np.float32)


def apply_kernels(image, kernels=None):
    """Each 3x3 kernel applied to the grayscale ``image`` with one faltung ``Conv2D`` ('same', no bias).

    Returns ``{name: (H, W) array}``. Conv2D computes a cross-correlation (as Keras), so a kernel
    is applied unflipped, which is how seed 004's figure reads.
    """
    from ..layers import Conv2D
    kernels = CLASSIC_KERNELS if kernels is None else kernels
    gray = _grayscale(image)
    stack = np.stack(list(kernels.values()), axis=-1)[:, :, None, :]  # (3, 3, 1, K)
    conv = Conv2D(stack.shape[-1], stack.shape[:2], padding="same", use_bias=False)
    conv.build((None,) + gray.shape + (1,))
    conv.set_weights([stack])
    out = np.asarray(conv(gray[None, :, :, None]))[0]
    return {name: out[:, :, i] for i, name in enumerate(kernels)}


def plot_classic_kernels(image, path=None):
    """Seed 004's figure 2.4: each classic kernel (top) and its result on ``image`` (bottom)."""
    results = apply_kernels(image)
    figure = Figure(figsize=(2.5 * (len(results) + 1), 5.5), dpi=DPI)
    grid = figure.add_gridspec(2, len(results) + 1, height_ratios=[1, 2])
    ax = figure.add_subplot(grid[1, 0])
    ax.imshow(_grayscale(image), cmap="gray", vmin=0, vmax=1)
    ax.set_title("input")
    ax.set_axis_off()
    for i, (name, result) in enumerate(results.items(), start=1):
        kernel = CLASSIC_KERNELS[name]
        kax = figure.add_subplot(grid[0, i])
        kax.imshow(kernel, cmap="bwr", vmin=-np.abs(kernel).max(), vmax=np.abs(kernel).max())
        for (r, c), v in np.ndenumerate(kernel):
            kax.text(c, r, f"{v:g}" if name != "blur" else f"{int(v * 16)}", ha="center", va="center",
                     fontsize=10)
        kax.set_xticks([])
        kax.set_yticks([])
        kax.set_title(name + (" (1/16)" if name == "blur" else ""), fontsize=11)
        ax = figure.add_subplot(grid[1, i])
        ax.imshow(np.clip(result, 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.set_axis_off()
    figure.suptitle("Classic 3x3 kernels applied with a Conv2D (results clipped to [0, 1])")
    figure.tight_layout()
    return finish(figure, path)
