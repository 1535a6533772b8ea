"""Stateless numeric kernels: NumPy in, NumPy out, NHWC.

  conv.py             conv2d_forward/backward (im2col + GEMM, or Winograd)
  conv_transpose.py   conv2d_transpose_forward/backward: the same kernels the other way round
  pool.py             max_pool2d_forward/backward, avg_pool2d_forward/backward
  im2col.py           output sizes, "same"/"valid" padding, im2col and col2im
  chunks.py           a batch split into even chunks of bounded memory (im2col, Winograd)
  winograd.py         Winograd F(2x2, 3x3) / F(4x4, 3x3) for stride-1 3x3 convolutions
  winograd_algebra.py its stages as matrix products (B^T d B, G g G^T, A^T M A and the adjoint)
  epilogue.py         bias + activation after a conv, and its backward (dz = f'(z) dY, db)
  reference.py        the plain loop versions of every kernel (``faltung.config.set_implementation("reference")``)
One-pass Numba kernels behind the fast paths (each tested against the NumPy form above it):
  winograd_fused.py   the Winograd tile transforms and their adjoints
  winograd_blocks.py  whole Winograd convolutions and their backward, a block of tiles at a time
  im2col_fused.py     col2im, a window row at a time
  pool_fused.py       max pooling that records the winning offset, and its gradient routing
  epilogue_fused.py   bias + ReLU, and the activation's backward with the bias gradient, each in one pass
  adam_fused.py       Adam's update (``optimizers.Adam``), the same bits as NumPy's passes
  blas.py             NumPy's OpenBLAS called from inside those kernels
  jit.py              how the kernels run: OpenMP threads, one caller at a time; small ones (and every one
                      in a forked child) on the caller's thread
Process settings:
  threads.py          how many threads the BLAS behind the matrix products uses (threadpoolctl), and
                      how long OpenBLAS's idle threads spin
  memory.py           glibc's malloc keeps freed memory for the next training step
"""
from .conv import conv2d_backward, conv2d_forward  # noqa: F401
from .conv_transpose import (conv2d_transpose_backward, conv2d_transpose_forward,  # noqa: F401
                             conv2d_transpose_output_hw)
from .pool import (avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward,  # noqa: F401
                   max_pool2d_forward)
