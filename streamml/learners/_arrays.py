"""Small array helpers of the learners."""

from __future__ import annotations

import numpy as np

__all__ = ["grown"]


def grown(a: np.ndarray, shape: tuple[int, ...], fill=0.0) -> np.ndarray:
    """`a` padded with `fill` to a larger `shape` (the same array if the shape is unchanged)."""
    if a.shape == shape:
        return a
    new = np.full(shape, fill, dtype=a.dtype)
    new[tuple(slice(0, s) for s in a.shape)] = a
    return new
