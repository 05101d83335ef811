"""The Hoeffding bound, shared by the tree's split test and the label partitioner's tests."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["hoeffding_bound"]


def hoeffding_bound(n, delta, value_range: float = 1.0):
    """With probability 1 - delta, the mean of n independent values in a range of width
    `value_range` is within this distance of its expectation: sqrt(R² ln(1/delta) / (2n)).

    Scalars give a float (infinite for n <= 0); arrays (of n, delta or both) are computed
    elementwise (infinite where n is 0).

    >>> round(hoeffding_bound(1000, 0.05), 4), round(hoeffding_bound(200, 1e-7, 1.0), 4)
    (0.0387, 0.2007)
    >>> hoeffding_bound(np.array([0.0, 50.0]), 0.05).round(4).tolist()
    [inf, 0.1731]

    """
    if np.ndim(n) == 0 and np.ndim(delta) == 0:
        if n <= 0:
            return math.inf
        return math.sqrt(value_range * value_range * math.log(1.0 / delta) / (2.0 * n))
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore"):
        return np.sqrt(value_range * value_range * np.log(1.0 / np.asarray(delta)) / (2.0 * n))
