"""Splitting a batch into chunks of bounded memory, for the kernels that build a large matrix
(im2col's windows, Winograd's transformed tiles) a few images at a time."""


def batch_chunks(n, per_image, limit):
    """``[(start, stop), ...]``: n images in as few chunks as keep ``per_image`` bytes each under
    ``limit`` bytes a chunk (at least one image), the images shared evenly among them: 128 as 43,
    43, 42 rather than 56, 56, 16 (a small last chunk runs its GEMM at a fraction of BLAS's speed)."""
    count = -(-n // max(1, min(n, limit // max(1, per_image))))
    bounds = [n * i // count for i in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:]))
