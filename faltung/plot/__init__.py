"""Pictures of a CNN and its training, drawn with matplotlib (Agg, no display needed).

  plot_history(history)                 loss and accuracy per epoch, train vs validation (seed 004's plot_compare)
  plot_samples(images, y_true, y_pred)  a grid of images with true/predicted labels, mistakes in red
  plot_confusion_matrix(matrix)         counts per (true, predicted) class
  plot_filters(model, layer_name)       the kernels of a Conv2D layer
  plot_feature_maps(model, image)       the activations of chosen layers for one image (seed 004, VGG16)
  plot_classic_kernels(image)           identity, Sobel, edges, blur, sharpen applied with a Conv2D (seed 004, fig. 2.4)

Modules: ``base`` (saving, sizes), ``training`` (curves, samples, confusion matrix), ``inside``
(filters, feature maps), ``kernels`` (the classic kernels).

Each function returns a ``matplotlib.figure.Figure`` and, given ``path``, also writes it as a PNG
(atomically). Figures have a fixed size in inches (multiples of half an inch) and are saved at
``DPI`` without cropping, so a picture's pixel size is ``figsize * DPI``. They are built without
pyplot (no global state), so a web server may draw them from several threads.
"""
from .base import DPI, MISTAKE_COLOR, RIGHT_COLOR, TRAIN_COLOR, VAL_COLOR, save_figure
from .inside import feature_maps, plot_feature_maps, plot_filters
from .kernels import CLASSIC_KERNELS, apply_kernels, plot_classic_kernels
from .training import plot_confusion_matrix, plot_history, plot_samples

__all__ = ["DPI", "save_figure", "plot_history", "plot_samples", "plot_confusion_matrix", "plot_filters",
           "feature_maps", "plot_feature_maps", "CLASSIC_KERNELS", "apply_kernels", "plot_classic_kernels",
           "MISTAKE_COLOR", "RIGHT_COLOR", "TRAIN_COLOR", "VAL_COLOR"]
