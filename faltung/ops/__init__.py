"""Stateless numeric kernels: NumPy in, NumPy out, NHWC.

  conv.py       conv2d_forward/backward, conv2d_transpose_forward/backward (im2col + GEMM)
  pool.py       max_pool2d_forward/backward, avg_pool2d_forward/backward
  im2col.py     output sizes, "same"/"valid" padding, im2col and col2im
  reference.py  the plain loop versions of every kernel (``faltung.config.set_implementation("reference")``)
"""
from .conv import (conv2d_backward, conv2d_forward, conv2d_transpose_backward,  # noqa: F401
                   conv2d_transpose_forward, conv2d_transpose_output_hw)
from .pool import (avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward,  # noqa: F401
                   max_pool2d_forward)
